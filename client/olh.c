/* OLH randomizer: seed from the public pool, hash, randomized response over g values. */
#include "client/olh.h"
#include "common/error.h"

int pinhole_olh_encode_draws(const pinhole_olh *g, uint64_t value, uint32_t s, int keep,
                             uint32_t other, uint64_t *report)
{
    if (value >= g->k || s >= g->S || (!keep && other >= g->g - 1))
        return PINHOLE_ERANGE;
    const uint32_t h = pinhole_olh_hash(g, s, value);
    const uint32_t y = keep ? h : other < h ? other : other + 1;
    *report = (uint64_t)s * g->g + y;
    return PINHOLE_OK;
}

int pinhole_olh_encode(const pinhole_olh *g, uint64_t value, pinhole_rng *rng, uint64_t *report)
{
    if (value >= g->k)
        return PINHOLE_ERANGE;
    const uint32_t s = pinhole_rng_uniform(rng, g->S);
    const int keep = pinhole_rng_bernoulli(rng, g->threshold);
    const uint32_t other = keep ? 0 : pinhole_rng_uniform(rng, g->g - 1);
    return pinhole_olh_encode_draws(g, value, s, keep, other, report);
}
