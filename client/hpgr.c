/* HPGR randomizer: a PGR draw inside the value's block, or a uniform hyperplane of another block.
 */
#include "client/hpgr.h"
#include "client/pgr.h"
#include "common/error.h"

int pinhole_hpgr_encode_draws(const pinhole_hpgr *g, uint64_t value, int kind, uint32_t s,
                              const uint32_t *free_coords, uint64_t other_block, uint64_t other_h,
                              uint64_t *report)
{
    if (value >= g->k)
        return PINHOLE_ERANGE;
    const uint64_t Kb = g->d.Kb, b = value / Kb, x = value % Kb;
    if (kind == 2) {
        if (g->d.B < 2 || other_block >= g->d.B - 1 || other_h >= Kb)
            return PINHOLE_ERANGE;
        const uint64_t j = other_block < b ? other_block : other_block + 1;
        *report = j * Kb + other_h;
        return PINHOLE_OK;
    }
    if ((kind == 0 && s != 0) || (kind == 1 && (s == 0 || s >= g->block.q)) || kind < 0 || kind > 2)
        return PINHOLE_ERANGE;
    uint64_t h;
    int rc = pinhole_pgr_encode_draws(&g->block, x, s, free_coords, &h);
    if (rc == PINHOLE_OK)
        *report = b * Kb + h;
    return rc;
}

int pinhole_hpgr_encode(const pinhole_hpgr *g, uint64_t value, pinhole_rng *rng, uint64_t *report)
{
    if (value >= g->k)
        return PINHOLE_ERANGE;
    const uint32_t q = g->block.q;
    int kind = 0;
    if (!pinhole_rng_bernoulli(rng, g->d.t_in))
        kind = (g->d.B == 1 || pinhole_rng_bernoulli(rng, g->d.t_same)) ? 1 : 2;
    if (kind == 2)
        return pinhole_hpgr_encode_draws(g, value, 2, 0, NULL,
                                         pinhole_rng_uniform64(rng, g->d.B - 1),
                                         pinhole_rng_uniform64(rng, g->d.Kb), report);
    const uint32_t s = kind == 0 ? 0 : 1 + pinhole_rng_uniform(rng, q - 1);
    uint32_t free_coords[PINHOLE_T_MAX];
    int rc;
    do {
        for (uint32_t i = 0; i + 1 < g->block.t; i++)
            free_coords[i] = pinhole_rng_uniform(rng, q);
        rc = pinhole_hpgr_encode_draws(g, value, kind, s, free_coords, 0, 0, report);
    } while (rc == PINHOLE_EINVAL);
    return rc;
}
