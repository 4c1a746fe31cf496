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

/* Canonical vector v[0..t) of the point with index idx < K; *lead receives, for each position i,
 * a mask that is all ones at the leading 1 (i = j) and 0 elsewhere. */
static void ct_vector(const pinhole_pspace *S, uint64_t idx, uint32_t *v, uint32_t *lead)
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
    const uint32_t j = t - 1 - l, mu = pinhole_ct_barrett_mu(S->q);
    int limbs = 1; /* 16-bit limbs of K - 1, a public bound on idx */
    while (limbs < 4 && ((S->K - 1) >> (16 * limbs)) != 0)
        limbs++;
    for (uint32_t i = t; i-- > 0;) {
        uint32_t d;
        rest = pinhole_ct_divmod64(rest, S->q, mu, limbs, &d);
        lead[i] = pinhole_ct_eq32(i, j);
        v[i] = d | (lead[i] & 1);
    }
}

/* Divide u[0..t) (nonzero) by its first nonzero coordinate. */
static void ct_canonicalize(const pinhole_gf_ct *C, uint32_t *u, uint32_t t)
{
    uint32_t seen = 0, first = 0;
    for (uint32_t i = 0; i < t; i++) {
        const uint32_t nz = pinhole_ct_nonzero32(u[i]);
        first |= u[i] & nz & ~seen;
        seen |= nz;
    }
    const uint32_t inv = pinhole_gf_ct_inv(C, first);
    for (uint32_t i = 0; i < t; i++)
        u[i] = pinhole_gf_ct_mul(C, u[i], inv);
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
    const pinhole_gf_ct *C = &g->Fct;
    uint32_t v[PINHOLE_T_MAX], lead[PINHOLE_T_MAX], u[PINHOLE_T_MAX];
    ct_vector(&g->S, value, v, lead);
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
    ct_canonicalize(C, u, t);
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
