/* PGR randomizer: value -> uniformly chosen hyperplane inside or outside H_v. */
#include "client/pgr.h"
#include "common/error.h"

int pinhole_pgr_encode_draws(const pinhole_pgr *g, uint64_t value, uint32_t s,
                             const uint32_t *free_coords, uint64_t *report)
{
    if (value >= g->k)
        return PINHOLE_ERANGE;
    const pinhole_gf *F = &g->F;
    const uint32_t t = g->t;
    uint32_t v[PINHOLE_T_MAX], u[PINHOLE_T_MAX];
    pinhole_pspace_vector(&g->S, value, v);
    uint32_t j = 0; /* v is canonical: v[j] = 1 is its first nonzero coordinate */
    while (v[j] == 0)
        j++;
    uint32_t acc = 0, nonzero = 0;
    for (uint32_t i = 0, c = 0; i < t; i++) {
        if (i == j)
            continue;
        u[i] = free_coords[c++];
        nonzero |= u[i];
        acc = pinhole_gf_add(F, acc, pinhole_gf_mul(F, u[i], v[i]));
    }
    /* <u, v> = u_j + acc = s, since v_j = 1 */
    u[j] = pinhole_gf_sub(F, s, acc);
    if (!(nonzero | u[j]))
        return PINHOLE_EINVAL;
    pinhole_pspace_canonicalize(F, u, t);
    *report = pinhole_pspace_index(&g->S, u);
    return PINHOLE_OK;
}

int pinhole_pgr_encode(const pinhole_pgr *g, uint64_t value, pinhole_rng *rng, uint64_t *report)
{
    if (value >= g->k)
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
