/* PGR randomizer: value -> uniformly chosen hyperplane inside or outside H_v, in constant time.
 *
 * Everything that depends on the user's value (its canonical vector, the dot product, solving for
 * the last coordinate, canonicalizing and indexing the reported hyperplane) runs without a branch
 * or a memory index that depends on it: the field arithmetic of common/gf_ct.h and masked
 * selections in place of the table lookups and early loop exits of common/projective.c, whose
 * results these functions reproduce exactly (tests/test_pgr_ct.c). The randomizer's own draws (s
 * and the free coordinates) do not depend on the value; the only draw-dependent branch is the
 * redraw of u = 0, which happens exactly when s = 0 and every free coordinate is 0. */
#include "client/pgr.h"
#include "common/ct.h"
#include "common/error.h"
#include "common/gf_ct.h"

/* 16-bit limbs of K - 1, a public bound on every index. */
static int index_limbs(const pinhole_pspace *S)
{
    int limbs = 1;
    while (limbs < 4 && ((S->K - 1) >> (16 * limbs)) != 0)
        limbs++;
    return limbs;
}

/* Canonical vector v[0..t) of the point with index idx < K; *lead receives, for each position i,
 * a mask that is all ones at the leading 1 (i = j) and 0 elsewhere. mu = Barrett constant of q,
 * limbs = index_limbs(S) (both public: the branch on limbs is on the geometry, not on idx). */
static void ct_vector(const pinhole_pspace *S, uint64_t idx, uint32_t mu, int limbs, uint32_t *v,
                      uint32_t *lead)
{
    const uint32_t t = S->t;
    /* l = number of coordinates after the leading 1 = #{m in 1..t-1 : npts[m] <= idx} */
    uint32_t l = 0;
    for (uint32_t m = 1; m < t; m++)
        l += (uint32_t)(~pinhole_ct_lt64(idx, S->npts[m]) & 1);
    uint64_t base = 0;
    for (uint32_t m = 0; m < t; m++)
        base |= S->npts[m] & pinhole_ct_widen(pinhole_ct_eq32(l, m));
    uint64_t rest = idx - base; /* < q^l: its digits at positions <= j = t-1-l are 0 */
    const uint32_t j = t - 1 - l;
    if (limbs <= 2) { /* indices below 2^32: one Barrett step per digit */
        uint32_t r32 = (uint32_t)rest;
        for (uint32_t i = t; i-- > 0;) {
            uint32_t d;
            r32 = pinhole_ct_divmod32(r32, S->q, mu, &d);
            lead[i] = pinhole_ct_eq32(i, j);
            v[i] = d | (lead[i] & 1);
        }
        return;
    }
    for (uint32_t i = t; i-- > 0;) {
        uint32_t d;
        rest = pinhole_ct_divmod64(rest, S->q, mu, limbs, &d);
        lead[i] = pinhole_ct_eq32(i, j);
        v[i] = d | (lead[i] & 1);
    }
}

/* The first nonzero coordinate of u[0..t) (0 if u = 0), without a branch on u. */
static uint32_t ct_first(const uint32_t *u, uint32_t t)
{
    uint32_t seen = 0, first = 0;
    for (uint32_t i = 0; i < t; i++) {
        const uint32_t nz = pinhole_ct_nonzero32(u[i]);
        first |= u[i] & nz & ~seen;
        seen |= nz;
    }
    return first;
}

/* u[0..t) times a (the inverse of its first nonzero coordinate: u becomes canonical). */
static void ct_scale(const pinhole_gf_ct *C, uint32_t *u, uint32_t t, uint32_t a)
{
    for (uint32_t i = 0; i < t; i++)
        u[i] = pinhole_gf_ct_mul(C, u[i], a);
}

/* Index of the canonical vector u[0..t), as pinhole_pspace_index(). */
static uint64_t ct_index(const pinhole_pspace *S, const uint32_t *u)
{
    const uint32_t t = S->t;
    uint32_t seen = 0, l = 0;
    uint64_t rest = 0;
    for (uint32_t i = 0; i < t; i++) {
        rest = rest * S->q + (u[i] & seen); /* only the coordinates after the leading 1 */
        l += seen & 1;
        seen |= pinhole_ct_nonzero32(u[i]);
    }
    uint64_t base = 0;
    for (uint32_t m = 0; m < t; m++)
        base |= S->npts[m] & pinhole_ct_widen(pinhole_ct_eq32(l, m));
    return base + rest;
}

/* The vector u (not yet canonical) of a value's report for the dot value s and the free
 * coordinates: they fill u in order around position j (v's leading 1), and u_j is solved from
 * <u, v> = s. mu, limbs: as ct_vector(). */
static void draws_vector(const pinhole_pgr *g, uint64_t value, uint32_t s,
                         const uint32_t *free_coords, uint32_t mu, int limbs, uint32_t *u)
{
    const uint32_t t = g->t;
    const pinhole_gf_ct *C = &g->Fct;
    uint32_t v[PINHOLE_T_MAX], lead[PINHOLE_T_MAX];
    ct_vector(&g->S, value, mu, limbs, v, lead);
    /* u takes the free coordinates in order around position j; acc = sum_{i != j} u_i v_i */
    uint32_t acc = 0, before = ~(uint32_t)0; /* before: all ones while i < j */
    for (uint32_t i = 0; i < t; i++) {
        before &= ~lead[i];
        const uint32_t from_same = i + 1 < t ? free_coords[i] : 0;
        const uint32_t from_prev = i > 0 ? free_coords[i - 1] : 0;
        u[i] = pinhole_ct_select32(before, from_same, from_prev) & ~lead[i];
        acc = pinhole_gf_ct_add(C, acc, pinhole_gf_ct_mul(C, u[i], v[i]));
    }
    /* <u, v> = u_j + acc = s, since v_j = 1 */
    const uint32_t uj = pinhole_gf_ct_sub(C, s, acc);
    for (uint32_t i = 0; i < t; i++)
        u[i] |= uj & lead[i];
}

int pinhole_pgr_encode_draws(const pinhole_pgr *g, uint64_t value, uint32_t s,
                             const uint32_t *free_coords, uint64_t *report)
{
    uint64_t in_range = pinhole_ct_lt64(value, g->k) & 1;
    pinhole_ct_declassify(&in_range, sizeof in_range); /* whether a value is valid is public */
    if (!in_range)
        return PINHOLE_ERANGE;
    const uint32_t t = g->t;
    uint32_t any = s;
    for (uint32_t i = 0; i + 1 < t; i++)
        any |= free_coords[i];
    if (any == 0) /* u would be 0 whatever the value: no hyperplane */
        return PINHOLE_EINVAL;
    uint32_t u[PINHOLE_T_MAX];
    draws_vector(g, value, s, free_coords, pinhole_ct_barrett_mu(g->q), index_limbs(&g->S), u);
    ct_scale(&g->Fct, u, t, pinhole_gf_ct_inv(&g->Fct, ct_first(u, t)));
    *report = ct_index(&g->S, u);
    pinhole_ct_declassify(report, sizeof *report); /* the report is the output: public */
    return PINHOLE_OK;
}

int pinhole_pgr_encode(const pinhole_pgr *g, uint64_t value, pinhole_rng *rng, uint64_t *report)
{
    uint64_t in_range = pinhole_ct_lt64(value, g->k) & 1;
    pinhole_ct_declassify(&in_range, sizeof in_range);
    if (!in_range)
        return PINHOLE_ERANGE;
    const uint32_t q = g->q;
    const uint32_t s =
        pinhole_rng_bernoulli(rng, g->threshold) ? 0 : 1 + pinhole_rng_uniform(rng, q - 1);
    uint32_t free_coords[PINHOLE_T_MAX];
    int rc;
    do { /* only s = 0 with all free coordinates 0 is redrawn (u = 0 is no hyperplane) */
        for (uint32_t i = 0; i + 1 < g->t; i++)
            free_coords[i] = pinhole_rng_uniform(rng, q);
        rc = pinhole_pgr_encode_draws(g, value, s, free_coords, report);
    } while (rc == PINHOLE_EINVAL);
    return rc;
}

/* The batch path reads the keystream exactly as pinhole_rng_u64() and pinhole_rng_uniform() do
 * (same bytes, same refills), but inline: straight from the buffer while it holds enough. */
static inline uint64_t batch_u64(pinhole_rng *rng)
{
    if (rng->pos + 8 > sizeof rng->buf)
        return pinhole_rng_u64(rng);
    const uint8_t *b = rng->buf + rng->pos;
    rng->pos += 8;
    return (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24 |
           (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 | (uint64_t)b[6] << 48 |
           (uint64_t)b[7] << 56;
}

static inline uint32_t batch_uniform(pinhole_rng *rng, uint32_t n, uint32_t min)
{
    for (;;) {
        uint32_t x;
        if (rng->pos + 4 > sizeof rng->buf) {
            x = pinhole_rng_u32(rng);
        } else {
            const uint8_t *b = rng->buf + rng->pos;
            rng->pos += 4;
            x = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        }
        if (x >= min)
            return x % n;
    }
}

int pinhole_pgr_encode_batch(const pinhole_pgr *g, const uint64_t *values, size_t n,
                             pinhole_rng *rng, uint64_t *reports)
{
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= pinhole_ct_lt64(values[i], g->k) ^ ~(uint64_t)0;
    pinhole_ct_declassify(&bad, sizeof bad); /* whether all values are valid is public */
    if (bad)
        return PINHOLE_ERANGE;
    const uint32_t q = g->q, t = g->t;
    const pinhole_gf_ct *C = &g->Fct;
    const uint32_t mu = pinhole_ct_barrett_mu(q);
    const int limbs = index_limbs(&g->S);
    /* rejection bounds of pinhole_rng_uniform() for q - 1 and q */
    const uint32_t min_s = q - 1 <= 1 ? 0 : (uint32_t)(-(q - 1)) % (q - 1);
    const uint32_t min_q = (uint32_t)(-q) % q;
    uint32_t u[PINHOLE_ENCODE_BATCH][PINHOLE_T_MAX], prefix[PINHOLE_ENCODE_BATCH];
    uint32_t first[PINHOLE_ENCODE_BATCH];
    for (size_t b0 = 0; b0 < n; b0 += PINHOLE_ENCODE_BATCH) {
        const size_t m = n - b0 < PINHOLE_ENCODE_BATCH ? n - b0 : PINHOLE_ENCODE_BATCH;
        /* the draws of each report, in the single path's order, and its vector u */
        for (size_t i = 0; i < m; i++) {
            const uint32_t s = batch_u64(rng) < g->threshold
                                   ? 0
                                   : 1 + (q - 1 <= 1 ? 0 : batch_uniform(rng, q - 1, min_s));
            uint32_t free_coords[PINHOLE_T_MAX], any;
            do { /* only s = 0 with all free coordinates 0 is redrawn (u = 0 is no hyperplane) */
                any = s;
                for (uint32_t c = 0; c + 1 < t; c++)
                    any |= free_coords[c] = batch_uniform(rng, q, min_q);
            } while (any == 0);
            draws_vector(g, values[b0 + i], s, free_coords, mu, limbs, u[i]);
        }
        /* one inversion for the batch (Montgomery's trick): prefix[i] = f_0 ... f_i, with f_i the
         * first nonzero coordinate of u_i (never 0); then f_i^-1 = prefix[i-1] (f_0...f_i)^-1 */
        uint32_t acc = 1;
        for (size_t i = 0; i < m; i++) {
            first[i] = ct_first(u[i], t);
            prefix[i] = acc = pinhole_gf_ct_mul(C, acc, first[i]);
        }
        uint32_t inv = pinhole_gf_ct_inv(C, acc);
        for (size_t i = m; i-- > 0;) {
            const uint32_t inv_i = i > 0 ? pinhole_gf_ct_mul(C, inv, prefix[i - 1]) : inv;
            inv = pinhole_gf_ct_mul(C, inv, first[i]);
            ct_scale(C, u[i], t, inv_i);
            reports[b0 + i] = ct_index(&g->S, u[i]);
        }
        pinhole_ct_declassify(reports + b0, m * sizeof *reports); /* the output: public */
    }
    return PINHOLE_OK;
}
