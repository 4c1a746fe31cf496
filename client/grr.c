/* k-RR randomizer: keep the value or report a uniform other item. */
#include "client/grr.h"
#include "common/error.h"

int pinhole_grr_encode_draws(const pinhole_grr *g, uint64_t value, int keep, uint64_t other,
                             uint64_t *report)
{
    if (value >= g->k || (!keep && other >= g->k - 1))
        return PINHOLE_ERANGE;
    *report = keep ? value : other < value ? other : other + 1;
    return PINHOLE_OK;
}

int pinhole_grr_encode(const pinhole_grr *g, uint64_t value, pinhole_rng *rng, uint64_t *report)
{
    if (value >= g->k)
        return PINHOLE_ERANGE;
    const int keep = pinhole_rng_bernoulli(rng, g->threshold);
    const uint64_t other = keep ? 0 : pinhole_rng_uniform64(rng, g->k - 1);
    return pinhole_grr_encode_draws(g, value, keep, other, report);
}
