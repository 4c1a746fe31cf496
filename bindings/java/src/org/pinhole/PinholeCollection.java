package org.pinhole;

/**
 * A collection: its parameters, verified from the server's signed config, and the built
 * mechanism. Read-only once made; share it between threads; {@link #close()} it when no report
 * uses it any more (Kotlin: {@code use { }}).
 */
public final class PinholeCollection implements AutoCloseable {
    private long handle;

    private PinholeCollection(long handle) {
        this.handle = handle;
    }

    /**
     * The collection of a signed config (136 bytes, GET /v1/collections/{id}/config), verified
     * with the server's Ed25519 config signing key (32 bytes) before anything is built.
     *
     * @throws PinholeException ESIGNATURE if the signature does not verify; ETRUNCATED, ETOOBIG,
     *     EVERSION, EFORMAT, EUNSUPPORTED for a config this library cannot read
     */
    public static PinholeCollection fromSignedConfig(byte[] signedConfig, byte[] signingKey)
            throws PinholeException {
        Pinhole.load();
        return new PinholeCollection(nativeSigned(signedConfig, signingKey));
    }

    /** A local collection (id 0) from (mechanism, k, epsilon), for simulations and tests. */
    public static PinholeCollection local(Mechanism mechanism, long k, double epsilon)
            throws PinholeException {
        Pinhole.load();
        return new PinholeCollection(nativeParams(mechanism.id, k, epsilon));
    }

    synchronized long handle() {
        if (handle == 0) {
            throw new IllegalStateException("collection closed");
        }
        return handle;
    }

    public long getId() {
        return nativeId(handle());
    }

    public Mechanism getMechanism() {
        return Mechanism.of(nativeMechanism(handle()));
    }

    /** Domain size: values are 0 .. k-1. */
    public long getK() {
        return nativeK(handle());
    }

    /** Epsilon of one report. */
    public double getEpsilon() {
        return nativeEpsilon(handle(), false);
    }

    /** Epsilon bounding every memoized report of one value together (docs/client.md). */
    public double getEpsilonPermanent() {
        return nativeEpsilon(handle(), true);
    }

    /** Whether the signed config commits to a label list ({@link PinholeLabels#verify}). */
    public boolean hasLabels() {
        return nativeHasLabels(handle());
    }

    /** Bytes of one report, plain or sealed. */
    public int reportBytes(boolean sealed) {
        return nativeReportBytes(handle(), sealed);
    }

    @Override
    public synchronized void close() {
        nativeFree(handle);
        handle = 0;
    }

    private static native long nativeSigned(byte[] config, byte[] key) throws PinholeException;

    private static native long nativeParams(int mechanism, long k, double epsilon)
            throws PinholeException;

    private static native void nativeFree(long h);

    private static native long nativeId(long h);

    private static native long nativeK(long h);

    private static native int nativeMechanism(long h);

    private static native double nativeEpsilon(long h, boolean permanent);

    private static native int nativeReportBytes(long h, boolean sealed);

    private static native boolean nativeHasLabels(long h);
}
