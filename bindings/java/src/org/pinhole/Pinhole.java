package org.pinhole;

/**
 * libpinhole for Java and Kotlin: loads the native library ({@code libpinhole_jni.so}) and holds
 * the calls that need no object. The classes of this package map one to one onto the C API of
 * {@code <pinhole/pinhole.h>}: {@link PinholeCollection}, {@link PinholeClient}, {@link Outbox}.
 * Errors are {@link PinholeException}s carrying the library's negative error code.
 */
public final class Pinhole {
    static {
        System.loadLibrary("pinhole_jni");
        int rc = nativeInit();
        if (rc != 0) {
            throw new ExceptionInInitializerError("pinhole_init failed: " + rc);
        }
    }

    private Pinhole() {}

    /** Loads the native library and initialises it (once); every class here calls it first. */
    static void load() {}

    private static native int nativeInit();

    /** The library's version, e.g. "0.1.0". */
    public static native String version();

    /**
     * A fresh 32-byte device secret from the operating system's random source: generate it once
     * per install, keep it in the platform keystore, and pass it to {@link PinholeClient} on every
     * start (needed for memoized reports only).
     */
    public static native byte[] newDeviceSecret();

    /**
     * Bytes from hexadecimal (upper or lower case, even length), as the server sends its keys.
     *
     * @throws PinholeException EFORMAT for a character that is not a hex digit or an odd length
     */
    public static native byte[] hexDecode(String hex) throws PinholeException;

    /** Lower-case hexadecimal of bytes. */
    public static native String hexEncode(byte[] bytes);
}
