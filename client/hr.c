/* Hadamard response randomizer: a uniform output inside or outside the value's Hadamard row. */
#include "client/hr.h"
#include "common/error.h"

int pinhole_hr_encode_draws(const pinhole_hr *g, uint64_t value, int kind, uint64_t y0,
                            uint64_t other_block, uint64_t *report)
{
    const uint64_t b = g->b, per = b - 1;
    if (value >= g->k || y0 >= b || kind < 0 || kind > 2)
        return PINHOLE_ERANGE;
    const uint64_t blk = value / per, i = value % per;
    if (kind == 2) {
        if (g->d.B < 2 || other_block >= g->d.B - 1)
            return PINHOLE_ERANGE;
        *report = (other_block < blk ? other_block : other_block + 1) * b + y0;
        return PINHOLE_OK;
    }
    const uint64_t row = i + 1;
    if (pinhole_hr_contains(i, y0) != (kind == 0))
        y0 ^= row & (0 - row); /* flips the parity of popcount(row & y) */
    *report = blk * b + y0;
    return PINHOLE_OK;
}

int pinhole_hr_encode(const pinhole_hr *g, uint64_t value, pinhole_rng *rng, uint64_t *report)
{
    if (value >= g->k)
        return PINHOLE_ERANGE;
    int kind = 0;
    if (!pinhole_rng_bernoulli(rng, g->d.t_in))
        kind = (g->d.B == 1 || pinhole_rng_bernoulli(rng, g->d.t_same)) ? 1 : 2;
    const uint64_t other = kind == 2 ? pinhole_rng_uniform64(rng, g->d.B - 1) : 0;
    return pinhole_hr_encode_draws(g, value, kind, pinhole_rng_uniform64(rng, g->b), other, report);
}
