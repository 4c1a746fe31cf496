package org.pinhole;

/**
 * Reports of one collection waiting to be posted, in batches of at most maxBatchBytes. Post
 * {@link #next()} to /v1/collections/{id}/reports as application/octet-stream; on an answer
 * {@link #shouldRetry(int)} says to retry, post the same bytes again later (safe: the server
 * counts a repeated report once); otherwise call {@link #done()}. Not thread-safe.
 */
public final class Outbox implements AutoCloseable {
    private long handle;

    /**
     * @param collection the reports' collection (its id and time precision are kept)
     * @param sealed true if the reports are sealed ({@link PinholeClient#reportSealed})
     * @param maxBatchBytes most bytes of one batch (64 KiB suits a phone)
     */
    public Outbox(PinholeCollection collection, boolean sealed, int maxBatchBytes)
            throws PinholeException {
        Pinhole.load();
        handle = nativeNew(collection.handle(), sealed, maxBatchBytes);
    }

    private long handle() {
        if (handle == 0) {
            throw new IllegalStateException("outbox closed");
        }
        return handle;
    }

    /** Add a report made for unixSeconds. */
    public void add(byte[] report, long unixSeconds) throws PinholeException {
        nativeAdd(handle(), report, unixSeconds);
    }

    /** Add a report made now. */
    public void add(byte[] report) throws PinholeException {
        add(report, System.currentTimeMillis() / 1000);
    }

    /** Reports waiting. */
    public long getPending() {
        return nativePending(handle());
    }

    /** The oldest batch to post (the same bytes until {@link #done()}), or null when empty. */
    public byte[] next() {
        return nativeNext(handle());
    }

    /** Drop the batch {@link #next()} returned: the server answered it for good. */
    public void done() {
        nativeDone(handle());
    }

    /**
     * The retry rule: true for no answer (status 0), 408, 429, 500, 502, 503 and 504 (post the
     * same bytes later); false for 2xx and the other errors (call {@link #done()}).
     */
    public static boolean shouldRetry(int httpStatus) {
        Pinhole.load();
        return nativeShouldRetry(httpStatus);
    }

    @Override
    public void close() {
        nativeFree(handle);
        handle = 0;
    }

    private static native long nativeNew(long collection, boolean sealed, int maxBatchBytes)
            throws PinholeException;

    private static native void nativeFree(long h);

    private static native void nativeAdd(long h, byte[] report, long unixSeconds)
            throws PinholeException;

    private static native long nativePending(long h);

    private static native byte[] nativeNext(long h);

    private static native void nativeDone(long h);

    private static native boolean nativeShouldRetry(int status);
}
