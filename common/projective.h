/* The projective space P^{t-1}(F_q): point index <-> canonical vector (docs/design.md, "PGR").
 *
 * A canonical vector is a nonzero vector in F_q^t whose first nonzero coordinate is 1. The index of
 * a canonical vector whose leading 1 is at (0-based) position j is (q^{t-1-j} - 1)/(q - 1) plus the
 * base-q number formed by the coordinates after j, most significant first. So (0,...,0,1) -> 0 and
 * (0,...,0,1,x) -> 1 + x. For prime q this is the indexing of the PGR paper's reference code.
 * Hyperplanes are indexed by the same canonical vectors h: H_h = {u : <u, h> = 0}. */
#ifndef PINHOLE_COMMON_PROJECTIVE_H
#define PINHOLE_COMMON_PROJECTIVE_H

#include "common/gf.h"

#include <stdint.h>

#define PINHOLE_T_MAX 63u                 /* largest dimension t (q = 2, K < 2^63) */
#define PINHOLE_K_MAX (UINT64_C(1) << 62) /* largest number of points K accepted */

typedef struct pinhole_pspace {
    uint32_t q; /* field order */
    uint32_t t; /* vector length (projective dimension t - 1) */
    uint64_t K; /* number of points, (q^t - 1)/(q - 1) */
    uint64_t
        npts[PINHOLE_T_MAX + 1]; /* npts[l] = (q^l - 1)/(q - 1), canonical vectors of length l */
    uint64_t qpow[PINHOLE_T_MAX + 1]; /* qpow[l] = q^l for l < t */
} pinhole_pspace;

/** Describe P^{t-1}(F_q). Errors: PINHOLE_EINVAL if q < 2 or t < 2 or t > PINHOLE_T_MAX;
 * PINHOLE_EOVERFLOW if K = (q^t - 1)/(q - 1) exceeds PINHOLE_K_MAX (2^62). */
int pinhole_pspace_init(pinhole_pspace *S, uint32_t q, uint32_t t);

/** Smallest t >= 2 with (q^t - 1)/(q - 1) >= k, in *t. Errors: PINHOLE_EINVAL if q < 2 or k < 1;
 * PINHOLE_EOVERFLOW if no such t keeps K <= 2^62. */
int pinhole_pspace_min_dim(uint32_t q, uint64_t k, uint32_t *t);

/** Number of points on each hyperplane, c_set = (q^{t-1} - 1)/(q - 1). */
static inline uint64_t pinhole_pspace_c_set(const pinhole_pspace *S)
{
    return S->npts[S->t - 1];
}

/** Number of hyperplanes through two distinct points, c_int = (q^{t-2} - 1)/(q - 1). */
static inline uint64_t pinhole_pspace_c_int(const pinhole_pspace *S)
{
    return S->npts[S->t - 2];
}

/** Canonical vector v[0..t) of the point with index idx < K. Errors: PINHOLE_ERANGE if idx >= K. */
int pinhole_pspace_vector(const pinhole_pspace *S, uint64_t idx, uint32_t *v);

/** Index of the canonical vector v[0..t). The caller guarantees v is canonical. */
uint64_t pinhole_pspace_index(const pinhole_pspace *S, const uint32_t *v);

/** Scale v[0..t) in place so that its first nonzero coordinate is 1. Returns the scalar that the
 * vector was divided by (its first nonzero coordinate), or 0 if v is the zero vector. */
uint32_t pinhole_pspace_canonicalize(const pinhole_gf *F, uint32_t *v, uint32_t t);

/** <u, v> over F for vectors of length t. */
uint32_t pinhole_pspace_dot(const pinhole_gf *F, const uint32_t *u, const uint32_t *v, uint32_t t);

#endif
