package org.pinhole;

/**
 * An error of libpinhole: {@link #getCode()} is the library's negative PINHOLE_E* code and the
 * message its text (pinhole_strerror). {@link #isPolicyRefusal()} tells a report the device's
 * privacy policy refused (epsilon cap or budget): nothing was charged, nothing is to be sent.
 */
public class PinholeException extends Exception {
    private static final long serialVersionUID = 1L;

    public static final int EINVAL = -1;
    public static final int ENOMEM = -2;
    public static final int EOVERFLOW = -3;
    public static final int ERANGE = -4;
    public static final int EFORMAT = -6;
    public static final int EIO = -7;
    public static final int EUNSUPPORTED = -8;
    public static final int ETRUNCATED = -9;
    public static final int EVERSION = -10;
    public static final int ESIGNATURE = -12;
    public static final int EPOLICY = -13;
    public static final int EBUFSIZE = -14;
    public static final int ENOTFOUND = -16;
    public static final int ETOOBIG = -19;

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
