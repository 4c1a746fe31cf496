/* Optimized local hashing with a public pool of hash seeds: parameters, hash, variance.
 *
 * Source: T. Wang, J. Blocki, N. Li, S. Jha, USENIX Security 2017, §4.4 (OLH, g = e^eps + 1).
 * A user picks a seed s uniformly from a public pool of S seeds, hashes its value into [0, g) with
 * H_s and applies randomized response over the g hash values (keep with p = threshold/2^64,
 * ideally e^eps/(e^eps + g - 1)). The report is the pair (s, y), written as s g + y. The server
 * keeps counts per (seed, hashed value), S g of them, and computes every item's support
 * T_v = sum_s counts[s][H_s(v)] with S k hash evaluations instead of n k.
 *
 * Variance cost of the pool: users sharing a seed share its hash collisions. Over a random pool
 * the estimate stays unbiased and its variance is the classic OLH variance
 * [f p (1 - p) + (n - f) r (1 - r)]/(p - r)^2 with r = 1/g, plus
 * sum_{w != v} f_w (f_w - 1) / ((g - 1) S) (pinhole_olh_pool_variance): small when S is large
 * against n times the collision probability sum_w (f_w/n)^2 of the data.
 * The hash is a 64-bit mixer mapped to [0, g) by multiply-shift; its collision probability
 * differs from 1/g by at most g/2^32 (a hash is public: privacy does not depend on it). */
#ifndef PINHOLE_COMMON_OLH_H
#define PINHOLE_COMMON_OLH_H

#include <stdint.h>

#define PINHOLE_OLH_GMAX 65536u          /* largest hash range g */
#define PINHOLE_OLH_POOLMAX 65536u       /* largest seed pool S */
#define PINHOLE_OLH_COUNTSMAX (1u << 24) /* largest S g (server counts) */

typedef struct pinhole_olh {
    uint64_t k;
    uint32_t g;              /* hash range, round(e^eps) + 1 capped to [2, min(k, 2^16)] */
    uint32_t S;              /* seeds in the pool */
    uint64_t pool_key;       /* public key of the pool: seed s hashes with (pool_key, s) */
    uint64_t threshold;      /* P[y = H_s(v) | v] = threshold / 2^64 */
    double epsilon_realized; /* log of p (g - 1)/(1 - p) */
    double p;                /* realized keep probability */
    double r;                /* P[report supports v | w != v] over a random hash = 1/g */
    uint32_t bits;           /* ceil(log2(S g)) */
} pinhole_olh;

/** Configure OLH. pool = 0 takes the default S: the largest power of two with S k <= 2^28 hash
 * evaluations, S g <= 2^24 counts and S <= 2^16 (at least 1). Errors: PINHOLE_EINVAL (epsilon,
 * k < 2, pool > PINHOLE_OLH_POOLMAX), PINHOLE_EOVERFLOW (S g over PINHOLE_OLH_COUNTSMAX). */
int pinhole_olh_init(pinhole_olh *g, uint64_t k, double epsilon, uint32_t pool, uint64_t pool_key);

/** The variance of an infinite pool (counts^2), n reports, f holding the item (see above). */
double pinhole_olh_variance(const pinhole_olh *g, double n, double f);

/** The pool's extra variance (counts^2) for an item, given sum_{w != v} f_w (f_w - 1). */
double pinhole_olh_pool_variance(const pinhole_olh *g, double sum_f_fm1);

/** H_s(x) in [0, g): the public hash of item x under seed s of the pool. */
static inline uint32_t pinhole_olh_hash(const pinhole_olh *g, uint32_t s, uint64_t x)
{
    uint64_t h = g->pool_key ^ ((uint64_t)s * UINT64_C(0x9E3779B97F4A7C15));
    h ^= h >> 33, h *= UINT64_C(0xff51afd7ed558ccd), h ^= h >> 33;
    h ^= x * UINT64_C(0xC2B2AE3D27D4EB4F);
    h ^= h >> 33, h *= UINT64_C(0xff51afd7ed558ccd), h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53), h ^= h >> 33;
    return (uint32_t)(((h >> 32) * (uint64_t)g->g) >> 32);
}

#endif
