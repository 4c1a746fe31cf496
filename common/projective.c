/* Point index <-> canonical vector in P^{t-1}(F_q), and the small vector helpers around it. */
#include "common/projective.h"
#include "common/error.h"

#include <string.h>

int pinhole_pspace_init(pinhole_pspace *S, uint32_t q, uint32_t t)
{
    memset(S, 0, sizeof *S);
    if (q < 2 || t < 2 || t > PINHOLE_T_MAX)
        return PINHOLE_EINVAL;
    S->q = q;
    S->t = t;
    S->npts[0] = 0;
    S->qpow[0] = 1;
    for (uint32_t l = 1; l <= t; l++) {
        /* npts[l] = q * npts[l-1] + 1, checked against K_MAX before it can wrap */
        if (S->npts[l - 1] > (PINHOLE_K_MAX - 1) / q)
            return PINHOLE_EOVERFLOW;
        S->npts[l] = S->npts[l - 1] * q + 1;
        if (l < t)
            S->qpow[l] = S->qpow[l - 1] * q; /* q^l <= npts[l+1] <= K_MAX, no wrap */
    }
    S->K = S->npts[t];
    return PINHOLE_OK;
}

int pinhole_pspace_min_dim(uint32_t q, uint64_t k, uint32_t *t)
{
    if (q < 2 || k < 1)
        return PINHOLE_EINVAL;
    uint64_t n = 1; /* npts[1] */
    for (uint32_t l = 2; l <= PINHOLE_T_MAX; l++) {
        if (n > (PINHOLE_K_MAX - 1) / q)
            return PINHOLE_EOVERFLOW;
        n = n * q + 1;
        if (n >= k) {
            *t = l;
            return PINHOLE_OK;
        }
    }
    return PINHOLE_EOVERFLOW;
}

int pinhole_pspace_vector(const pinhole_pspace *S, uint64_t idx, uint32_t *v)
{
    if (idx >= S->K)
        return PINHOLE_ERANGE;
    const uint32_t t = S->t;
    /* the number of coordinates after the leading 1 is the largest l with npts[l] <= idx */
    uint32_t l = 0;
    while (l + 1 < t && S->npts[l + 1] <= idx)
        l++;
    uint64_t rest = idx - S->npts[l];
    const uint32_t j = t - 1 - l;
    for (uint32_t i = 0; i < j; i++)
        v[i] = 0;
    v[j] = 1;
    for (uint32_t i = t; i-- > j + 1;) {
        v[i] = (uint32_t)(rest % S->q);
        rest /= S->q;
    }
    return PINHOLE_OK;
}

uint64_t pinhole_pspace_index(const pinhole_pspace *S, const uint32_t *v)
{
    const uint32_t t = S->t;
    uint32_t j = 0;
    while (j < t && v[j] == 0)
        j++;
    uint64_t rest = 0;
    for (uint32_t i = j + 1; i < t; i++)
        rest = rest * S->q + v[i];
    return S->npts[t - 1 - j] + rest;
}

uint32_t pinhole_pspace_canonicalize(const pinhole_gf *F, uint32_t *v, uint32_t t)
{
    uint32_t j = 0;
    while (j < t && v[j] == 0)
        j++;
    if (j == t)
        return 0;
    const uint32_t lead = v[j];
    if (lead != 1) {
        const uint32_t inv = pinhole_gf_inv(F, lead);
        for (uint32_t i = j; i < t; i++)
            v[i] = pinhole_gf_mul(F, v[i], inv);
    }
    return lead;
}

uint32_t pinhole_pspace_dot(const pinhole_gf *F, const uint32_t *u, const uint32_t *v, uint32_t t)
{
    uint32_t s = 0;
    for (uint32_t i = 0; i < t; i++)
        s = pinhole_gf_add(F, s, pinhole_gf_mul(F, u[i], v[i]));
    return s;
}
