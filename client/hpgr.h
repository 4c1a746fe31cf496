/* HPGR randomizer (client side). Source: Feldman, Nelson, Nguyen, Talwar, ICML 2022, §5. */
#ifndef PINHOLE_CLIENT_HPGR_H
#define PINHOLE_CLIENT_HPGR_H

#include "common/hpgr.h"
#include "common/rng.h"

/** Randomize value (< g->k) into a report j K' + h (see common/hpgr.h). Errors: PINHOLE_ERANGE. */
int pinhole_hpgr_encode(const pinhole_hpgr *g, uint64_t value, pinhole_rng *rng, uint64_t *report);

/** Deterministic core. kind 0: a hyperplane of the value's block through its point, from the
 * free coordinates (dot value 0, as pinhole_pgr_encode_draws); kind 1: of its block missing it,
 * dot value s in 1..q-1; kind 2: hyperplane other_h (< K') of block other_block (< B - 1, skipping
 * the value's own). Errors: PINHOLE_ERANGE (value or draws out of range), PINHOLE_EINVAL (the
 * draws give the zero vector, which the randomizer redraws). */
int pinhole_hpgr_encode_draws(const pinhole_hpgr *g, uint64_t value, int kind, uint32_t s,
                              const uint32_t *free_coords, uint64_t other_block, uint64_t other_h,
                              uint64_t *report);

#endif
