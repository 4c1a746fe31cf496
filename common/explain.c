/* Sentences for refused mechanism parameters (pinhole_config_explain). */
#include "common/explain.h"
#include "common/error.h"

#include <math.h>
#include <stdio.h>

/* PGR's own parameters: q a prime power, t large enough and not larger than needed, epsilon
 * representable at K. Returns 1 when it wrote a reason. */
static int explain_pgr(const pinhole_config_params *p, char *buf, size_t len)
{
    const uint32_t q = p->q, t = p->t;
    uint32_t tmin;
    pinhole_pspace S;
    if (q == 0)
        return 0;
    if (q > PINHOLE_GF_QMAX || !pinhole_gf_is_prime_power(q, NULL, NULL))
        return snprintf(
                   buf, len,
                   "q = %u is not a prime power <= 65536 (2, 3, 4, 5, 7, 8, 9, 11, 13, 16, ...)",
                   q),
               1;
    if (pinhole_pspace_min_dim(q, p->k, &tmin) != PINHOLE_OK)
        return snprintf(buf, len, "no t keeps K = (q^t - 1)/(q - 1) within 2^62 for q = %u", q), 1;
    if (t && (pinhole_pspace_init(&S, q, t) != PINHOLE_OK))
        return snprintf(buf, len, "q = %u, t = %u gives K = (q^t - 1)/(q - 1) above 2^62", q, t), 1;
    if (t && S.K < p->k)
        return snprintf(buf, len,
                        "q = %u, t = %u gives K = %llu points < k = %llu; t must be at least %u", q,
                        t, (unsigned long long)S.K, (unsigned long long)p->k, tmin),
               1;
    if (t && t != tmin)
        return snprintf(buf, len,
                        "t = %u is larger than needed: the smallest t with K >= k = %llu is %u "
                        "(a larger t only pads the report alphabet)",
                        t, (unsigned long long)p->k, tmin),
               1;
    if (pinhole_pspace_init(&S, q, t ? t : tmin) != PINHOLE_OK)
        return 0;
    return snprintf(buf, len,
                    "epsilon = %g is too small to be represented by a 64-bit threshold at K = %llu",
                    p->epsilon, (unsigned long long)S.K),
           1;
}

int pinhole_config_explain(const pinhole_config_params *p, char *buf, size_t len)
{
    if (len)
        buf[0] = '\0';
    const pinhole_mechanism_ops *ops = pinhole_mechanism_find(p->mechanism);
    if (!ops) {
        snprintf(buf, len, "unknown mechanism %d", (int)p->mechanism);
        return PINHOLE_EUNSUPPORTED;
    }
    if (pinhole_epsilon_check(p->epsilon) != PINHOLE_OK) {
        snprintf(buf, len, "epsilon must be a finite number of at least %g (got %g)",
                 (double)PINHOLE_EPSILON_MIN, p->epsilon);
        return PINHOLE_EINVAL;
    }
    if (p->k < 2) {
        snprintf(buf, len, "k must be at least 2 (got %llu)", (unsigned long long)p->k);
        return PINHOLE_EINVAL;
    }
    if (p->mechanism == PINHOLE_MECH_SUE &&
        (!isfinite(p->epsilon_permanent) || p->epsilon_permanent < 0 ||
         (p->epsilon_permanent > 0 && p->epsilon_permanent < p->epsilon))) {
        snprintf(buf, len,
                 "epsilon_permanent = %g must be 0 (no permanent response) or at least epsilon = "
                 "%g: the permanent response is the guarantee over all of a user's reports, and "
                 "each report's instantaneous noise (epsilon) is added on top of it",
                 p->epsilon_permanent, p->epsilon);
        return PINHOLE_EINVAL;
    }
    if (p->mechanism == PINHOLE_MECH_HR && p->block != 0) {
        const uint64_t one = UINT64_C(1) << pinhole_bits_for(p->k + 1);
        const uint64_t bmax = one < 4 ? 4 : one;
        if (p->block < 4 || (p->block & (p->block - 1)) != 0) {
            snprintf(buf, len, "block = %llu must be a power of two of at least 4",
                     (unsigned long long)p->block);
            return PINHOLE_EINVAL;
        }
        if (p->block > bmax) {
            snprintf(buf, len,
                     "block = %llu is larger than one block for k = %llu needs (at most %llu); "
                     "give %llu for the basic one-block scheme, or 0 for the lowest variance",
                     (unsigned long long)p->block, (unsigned long long)p->k,
                     (unsigned long long)bmax, (unsigned long long)bmax);
            return PINHOLE_EINVAL;
        }
    }
    pinhole_config c;
    const int rc = pinhole_config_init(&c, p);
    if (rc == PINHOLE_OK) {
        pinhole_config_free(&c);
        return PINHOLE_OK;
    }
    if (p->mechanism == PINHOLE_MECH_PGR && rc == PINHOLE_EINVAL && explain_pgr(p, buf, len))
        return rc;
    if (len && buf[0] == '\0')
        snprintf(buf, len, "%s parameters for k = %llu, epsilon = %g: %s", ops->name,
                 (unsigned long long)p->k, p->epsilon, pinhole_strerror(rc));
    return rc;
}
