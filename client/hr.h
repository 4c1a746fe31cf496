/* Hadamard response randomizer (client side). Source: Acharya, Sun, Zhang, AISTATS 2019, §3. */
#ifndef PINHOLE_CLIENT_HR_H
#define PINHOLE_CLIENT_HR_H

#include "common/hr.h"
#include "common/rng.h"

/** Randomize value (< g->k): with probability threshold/2^64 a uniform output of C_v, else a
 * uniform output of its complement. Errors: PINHOLE_ERANGE if value >= k. */
int pinhole_hr_encode(const pinhole_hr *g, uint64_t value, pinhole_rng *rng, uint64_t *report);

/** Deterministic core: the report for inside (0/1) and a uniform y in [0, K): y itself if it lies
 * on the wanted side, else y with the lowest set bit of v + 1 flipped (a bijection between C_v and
 * its complement). Errors: PINHOLE_ERANGE (value >= k or y >= K). */
int pinhole_hr_encode_draws(const pinhole_hr *g, uint64_t value, int inside, uint64_t y,
                            uint64_t *report);

#endif
