package org.pinhole;

import java.nio.charset.StandardCharsets;

/**
 * A collection's labels, verified against the hash its signed config commits to: label to item
 * index ({@link #indexOf(String)}) and back. Read-only; share it between threads.
 */
public final class PinholeLabels implements AutoCloseable {
    private long handle;

    private PinholeLabels(long handle) {
        this.handle = handle;
    }

    /**
     * Verify the collection's canonical label list (docs/protocol.md §4.5) and index it.
     *
     * @throws PinholeException ENOTFOUND (the collection has no labels), ESIGNATURE (not the
     *     list the signed config commits to), EFORMAT / ETRUNCATED / ETOOBIG (malformed)
     */
    public static PinholeLabels verify(PinholeCollection collection, byte[] list)
            throws PinholeException {
        Pinhole.load();
        return new PinholeLabels(nativeNew(collection.handle(), list));
    }

    private synchronized long handle() {
        if (handle == 0) {
            throw new IllegalStateException("labels closed");
        }
        return handle;
    }

    /** Number of labels: the collection's k. */
    public long getCount() {
        return nativeCount(handle());
    }

    /**
     * The item of a label (its UTF-8 bytes, compared exactly), or the collection's "other" item
     * for a label not in the list if it has one.
     *
     * @throws PinholeException ENOTFOUND for an unknown label without an "other" item
     */
    public long indexOf(String label) throws PinholeException {
        return nativeIndex(handle(), label.getBytes(StandardCharsets.UTF_8));
    }

    /** The label of item (0 .. k-1). */
    public String get(long item) throws PinholeException {
        return new String(nativeGet(handle(), item), StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void close() {
        nativeFree(handle);
        handle = 0;
    }

    private static native long nativeNew(long collection, byte[] list) throws PinholeException;

    private static native void nativeFree(long h);

    private static native long nativeCount(long h);

    private static native long nativeIndex(long h, byte[] label) throws PinholeException;

    private static native byte[] nativeGet(long h, long item) throws PinholeException;
}
