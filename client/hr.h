/* Hadamard response randomizer (client side). Source: Acharya, Sun, Zhang, AISTATS 2019, §3-4. */
#ifndef PINHOLE_CLIENT_HR_H
#define PINHOLE_CLIENT_HR_H

#include "common/hr.h"
#include "common/rng.h"

/** Randomize value (< g->k) into a report j b + y (see common/hr.h): with probability t_in/2^64 a
 * uniform output of C_v, else (t_same) a uniform output of its block outside C_v, else a uniform
 * output of a uniform other block. Errors: PINHOLE_ERANGE if value >= k. */
int pinhole_hr_encode(const pinhole_hr *g, uint64_t value, pinhole_rng *rng, uint64_t *report);

/** Deterministic core. kind 0 (inside C_v) or 1 (its block, outside): y0 uniform in [0, b) taken
 * as is if on the wanted side, else with the lowest set bit of the row (i + 1) flipped (a
 * bijection between the two halves); kind 2: output y0 of block other_block (< B - 1, skipping
 * the value's own). Errors: PINHOLE_ERANGE (value, kind or a draw out of range). */
int pinhole_hr_encode_draws(const pinhole_hr *g, uint64_t value, int kind, uint64_t y0,
                            uint64_t other_block, uint64_t *report);

#endif
