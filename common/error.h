/* Error codes shared by every Pinhole layer: negative PINHOLE_E* values, 0 for success. */
#ifndef PINHOLE_COMMON_ERROR_H
#define PINHOLE_COMMON_ERROR_H

enum {
    PINHOLE_OK = 0,
    PINHOLE_EINVAL = -1,       /* an argument is out of range (epsilon, k, q, t, value ...) */
    PINHOLE_ENOMEM = -2,       /* an allocation failed */
    PINHOLE_EOVERFLOW = -3,    /* a size (K, counts, bits) would exceed what the type holds */
    PINHOLE_ERANGE = -4,       /* a value or report index lies outside the domain */
    PINHOLE_ENOREPORTS = -5,   /* an estimate was asked from zero reports */
    PINHOLE_EFORMAT = -6,      /* malformed input (file, bytes) */
    PINHOLE_EIO = -7,          /* a file or stream could not be read or written */
    PINHOLE_EUNSUPPORTED = -8, /* the mechanism or operation is not available here */
    PINHOLE_ETRUNCATED = -9,   /* input ended before its declared length */
    PINHOLE_EVERSION = -10,    /* unknown wire-format version */
    PINHOLE_EMISMATCH = -11,   /* a report made for other parameters (fingerprint differs) */
    PINHOLE_ESIGNATURE = -12,  /* a signature or seal did not verify */
    PINHOLE_EPOLICY = -13,     /* refused by the privacy policy (epsilon cap, budget) */
    PINHOLE_EBUFSIZE = -14,    /* the caller's buffer is too small */
    PINHOLE_ECANCELED = -15,   /* the operation was cancelled */
    PINHOLE_ENOTFOUND = -16,   /* no such collection, job or item */
    PINHOLE_ETIMEOUT = -17,    /* a time limit was reached */
    PINHOLE_EDB = -18,         /* the database failed (SQLite error) */
    PINHOLE_ETOOBIG = -19,     /* input longer than declared, or over a size or count limit */
    PINHOLE_EWINDOW = -20,     /* a report's time lies outside its collection's report window */
    PINHOLE_ELAST =
        PINHOLE_EWINDOW, /* the most negative code in use (keep last; tests walk the range) */
};

/** Human-readable English text for a PINHOLE_* code (0 or negative). Never NULL; unknown codes give
 * "unknown error". Thread-safe (returns a static string). */
const char *pinhole_strerror(int code);

#endif
