/* Hadamard response randomizer: a uniform output inside or outside the value's Hadamard set. */
#include "client/hr.h"
#include "common/error.h"

int pinhole_hr_encode_draws(const pinhole_hr *g, uint64_t value, int inside, uint64_t y,
                            uint64_t *report)
{
    if (value >= g->k || y >= g->K)
        return PINHOLE_ERANGE;
    const uint64_t row = value + 1;
    if (pinhole_hr_contains(value, y) != !!inside)
        y ^= row & (0 - row); /* flips the parity of popcount(row & y) */
    *report = y;
    return PINHOLE_OK;
}

int pinhole_hr_encode(const pinhole_hr *g, uint64_t value, pinhole_rng *rng, uint64_t *report)
{
    if (value >= g->k)
        return PINHOLE_ERANGE;
    const int inside = pinhole_rng_bernoulli(rng, g->threshold);
    return pinhole_hr_encode_draws(g, value, inside, pinhole_rng_uniform64(rng, g->K), report);
}
