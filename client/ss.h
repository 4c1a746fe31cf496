/* Subset Selection randomizer (client side). Source: Ye & Barg, IEEE Trans. IT 2018, §III. */
#ifndef PINHOLE_CLIENT_SS_H
#define PINHOLE_CLIENT_SS_H

#include "client/draws.h"
#include "common/rng.h"
#include "common/ss.h"

#include <stdint.h>

/** Randomize value (< g->k) into the k-bit indicator string bits[0..ceil(k/8)) of a subset of d
 * items: v is in it with probability threshold/2^64; the other d - 1 (or d) items are a uniform
 * subset of the k - 1 items other than v (Floyd's algorithm, uniforms by rejection).
 * O(d + k/8) time, no allocation. Errors: PINHOLE_ERANGE if value >= k. */
int pinhole_ss_encode(const pinhole_ss *g, uint64_t value, pinhole_rng *rng, uint8_t *bits);

/** The randomizer with its draws from d: the inclusion of v (a Bernoulli draw with threshold),
 * then Floyd's draws (uniform in [0, j + 1)). What pinhole_ss_encode() runs with an rng, and what
 * the exact-privacy tests run with an enumerator. Errors: PINHOLE_ERANGE (value >= k, or a draw
 * out of its range; bits are then unspecified). */
int pinhole_ss_encode_with(const pinhole_ss *g, uint64_t value, const pinhole_draws *d,
                           uint8_t *bits);

#endif
