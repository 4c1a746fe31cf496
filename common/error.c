/* Text for the PINHOLE_E* error codes. */
#include "common/error.h"

const char *pinhole_strerror(int code)
{
    switch (code) {
    case PINHOLE_OK:
        return "success";
    case PINHOLE_EINVAL:
        return "invalid argument";
    case PINHOLE_ENOMEM:
        return "out of memory";
    case PINHOLE_EOVERFLOW:
        return "size too large (would overflow)";
    case PINHOLE_ERANGE:
        return "value outside the domain";
    case PINHOLE_ENOREPORTS:
        return "no reports to estimate from";
    case PINHOLE_EFORMAT:
        return "malformed input";
    case PINHOLE_EIO:
        return "input/output error";
    case PINHOLE_EUNSUPPORTED:
        return "unsupported mechanism or operation";
    case PINHOLE_ETRUNCATED:
        return "input truncated";
    case PINHOLE_EVERSION:
        return "unsupported version";
    case PINHOLE_EMISMATCH:
        return "report made for other collection parameters";
    case PINHOLE_ESIGNATURE:
        return "signature or seal verification failed";
    case PINHOLE_EPOLICY:
        return "refused by the privacy policy";
    case PINHOLE_EBUFSIZE:
        return "buffer too small";
    case PINHOLE_ECANCELED:
        return "operation cancelled";
    case PINHOLE_ENOTFOUND:
        return "not found";
    case PINHOLE_ETIMEOUT:
        return "time limit reached";
    case PINHOLE_EDB:
        return "database error";
    case PINHOLE_ETOOBIG:
        return "input too large or trailing bytes";
    case PINHOLE_EWINDOW:
        return "report time outside the collection's report window (too old, or ahead of the "
               "server's clock)";
    case PINHOLE_ENOSPACE:
        return "storage full (disk full): nothing was written";
    case PINHOLE_ECLOSED:
        return "report time in a closed time bucket of the collection (its estimate is final)";
    default:
        return "unknown error";
    }
}
