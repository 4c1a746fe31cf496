package org.pinhole;

/**
 * An error of libpinhole: {@link #getCode()} is the library's negative PINHOLE_E* code and the
 * message its text (pinhole_strerror). {@link #isPolicyRefusal()} tells a report the device's
 * privacy policy refused (epsilon cap or budget): nothing was charged, nothing is to be sent.
 */
public class PinholeException extends Exception {
    private static final long serialVersionUID = 1L;

    /** An argument is out of range (epsilon, k, q, t, value ...). */
    public static final int EINVAL = -1;
    /** An allocation failed. */
    public static final int ENOMEM = -2;
    /** A size (K, counts, bits) would exceed what the type holds. */
    public static final int EOVERFLOW = -3;
    /** A value or report index lies outside the domain. */
    public static final int ERANGE = -4;
    /** An estimate was asked from zero reports. */
    public static final int ENOREPORTS = -5;
    /** Malformed input (file, bytes). */
    public static final int EFORMAT = -6;
    /** A file or stream could not be read or written. */
    public static final int EIO = -7;
    /** The mechanism or operation is not available here. */
    public static final int EUNSUPPORTED = -8;
    /** Input ended before its declared length. */
    public static final int ETRUNCATED = -9;
    /** Unknown wire-format version. */
    public static final int EVERSION = -10;
    /** A report made for other parameters (the collection's fingerprint differs). */
    public static final int EMISMATCH = -11;
    /** A signature or seal did not verify. */
    public static final int ESIGNATURE = -12;
    /** Refused by the privacy policy (epsilon cap, budget). */
    public static final int EPOLICY = -13;
    /** The caller's buffer is too small. */
    public static final int EBUFSIZE = -14;
    /** The operation was cancelled. */
    public static final int ECANCELED = -15;
    /** No such collection, job or item. */
    public static final int ENOTFOUND = -16;
    /** A time limit was reached. */
    public static final int ETIMEOUT = -17;
    /** The server's database failed. */
    public static final int EDB = -18;
    /** Input longer than declared, or over a size or count limit. */
    public static final int ETOOBIG = -19;
    /** A report's time lies outside its collection's report window (the server refused it). */
    public static final int EWINDOW = -20;
    /** The server's storage is full (disk full): nothing was written; retry later. */
    public static final int ENOSPACE = -21;
    /** A report's time bucket is closed (its estimate is final): the server refused it. */
    public static final int ECLOSED = -22;

    private final int code;

    public PinholeException(int code, String message) {
        super(message + " (" + code + ")");
        this.code = code;
    }

    /** The library's error code (negative). */
    public int getCode() {
        return code;
    }

    /** True if the device's privacy policy refused the report (EPOLICY). */
    public boolean isPolicyRefusal() {
        return code == EPOLICY;
    }
}
