/* Reading a job's JSON parameters: optional members with defaults and bounds. */
#ifndef PINHOLE_SERVER_JOBS_PARAMS_H
#define PINHOLE_SERVER_JOBS_PARAMS_H

#include <jansson.h>
#include <math.h>
#include <stdint.h>

/** Optional integer member name of p in [0, max] into *out (dflt when absent): 0, or -1 when it
 * is present but not such an integer. */
static inline int pinhole_param_uint(const json_t *p, const char *name, uint64_t dflt, uint64_t max,
                                     uint64_t *out)
{
    const json_t *v = json_object_get(p, name);
    *out = dflt;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/** Optional finite number member name of p into *out (dflt when absent): 0, or -1. */
static inline int pinhole_param_double(const json_t *p, const char *name, double dflt, double *out)
{
    const json_t *v = json_object_get(p, name);
    *out = v ? json_number_value(v) : dflt;
    return (v && !json_is_number(v)) || !isfinite(*out) ? -1 : 0;
}

#endif
