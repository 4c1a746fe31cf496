package org.pinhole;

/**
 * The device: its privacy policy and optional device secret. Thread-safe; one per device.
 * {@link #close()} erases the secret.
 */
public final class PinholeClient implements AutoCloseable {
    /** Flag of memoized reports (RAPPOR-style permanent response; docs/client.md). */
    private static final int MEMOIZE = 1;

    private long handle;

    /**
     * @param policy the privacy policy, or null for none
     * @param deviceSecret 32 bytes ({@link Pinhole#newDeviceSecret()}), or null (no memoized
     *     reports)
     * @throws PinholeException EINVAL for a policy the library refuses
     */
    public PinholeClient(Policy policy, byte[] deviceSecret) throws PinholeException {
        Pinhole.load();
        handle = policy == null
                ? nativeNew(0, 0, 0, null, deviceSecret)
                : nativeNew(policy.maxEpsilon, policy.budgetEpsilon, policy.budgetPeriodSeconds,
                        policy.store, deviceSecret);
    }

    /** A client without a policy or a secret. */
    public PinholeClient() throws PinholeException {
        this(null, null);
    }

    private synchronized long handle() {
        if (handle == 0) {
            throw new IllegalStateException("client closed");
        }
        return handle;
    }

    /** A report of value (0 .. k-1) for now. */
    public byte[] report(PinholeCollection collection, long value) throws PinholeException {
        return report(collection, value, System.currentTimeMillis() / 1000, false);
    }

    /**
     * A report of value (0 .. k-1) standing for unixSeconds, memoized or not.
     *
     * @throws PinholeException ERANGE (value outside the domain), EPOLICY (refused by the privacy
     *     policy: {@link PinholeException#isPolicyRefusal()}), EINVAL (memoized without a device
     *     secret), EIO (the budget store failed). An exception thrown by the {@link BudgetStore}
     *     reaches the caller unchanged instead, even a checked one.
     */
    public byte[] report(PinholeCollection collection, long value, long unixSeconds,
            boolean memoize) throws PinholeException {
        return nativeReport(handle(), collection.handle(), value, unixSeconds,
                memoize ? MEMOIZE : 0, null);
    }

    /** A report of value for now, sealed to the server's X25519 key (32 bytes). */
    public byte[] reportSealed(PinholeCollection collection, long value, byte[] sealKey)
            throws PinholeException {
        return reportSealed(collection, value, sealKey, System.currentTimeMillis() / 1000, false);
    }

    /** As {@link #report(PinholeCollection, long, long, boolean)}, sealed to sealKey. */
    public byte[] reportSealed(PinholeCollection collection, long value, byte[] sealKey,
            long unixSeconds, boolean memoize) throws PinholeException {
        if (sealKey == null) {
            throw new IllegalArgumentException("sealKey is null");
        }
        return nativeReport(handle(), collection.handle(), value, unixSeconds,
                memoize ? MEMOIZE : 0, sealKey);
    }

    @Override
    public synchronized void close() {
        nativeFree(handle);
        handle = 0;
    }

    private static native long nativeNew(double maxEpsilon, double budgetEpsilon, long period,
            BudgetStore store, byte[] secret) throws PinholeException;

    private static native void nativeFree(long h);

    private static native byte[] nativeReport(long h, long collection, long value,
            long unixSeconds, int flags, byte[] sealKey) throws PinholeException;
}
