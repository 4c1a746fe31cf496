/* PGR randomizer (client side). Source: Feldman, Nelson, Nguyen, Talwar, ICML 2022, §3;
 * sampling in O(t) as in docs/design.md, "PGR". */
#ifndef PINHOLE_CLIENT_PGR_H
#define PINHOLE_CLIENT_PGR_H

#include "common/pgr.h"
#include "common/rng.h"

#include <stdint.h>

/** Randomize value (0 <= value < g->k) into a report: the index, in [0, K), of a hyperplane drawn
 * with probability proportional to e^eps if it contains the value's projective point, else 1.
 * With probability threshold/2^64 the dot value s is 0, else s is uniform in 1..q-1; then a
 * uniform vector u with <u, v> = s is drawn (redrawn if u = 0) and canonicalized.
 * Thread-safe for distinct rngs; no allocation. Errors: PINHOLE_ERANGE if value >= k. */
int pinhole_pgr_encode(const pinhole_pgr *g, uint64_t value, pinhole_rng *rng, uint64_t *report);

/** The randomizer's deterministic core, exposed so tests can enumerate its exact output
 * distribution: the report for value given the dot value s = <u, v> in [0, q) and the t-1 free
 * coordinates of u (every coordinate but v's leading one, in order); the remaining coordinate is
 * solved for. Errors: PINHOLE_ERANGE (value >= k), PINHOLE_EINVAL (the draws give u = 0, which
 * pinhole_pgr_encode() redraws). */
int pinhole_pgr_encode_draws(const pinhole_pgr *g, uint64_t value, uint32_t s,
                             const uint32_t *free_coords, uint64_t *report);

#include <stddef.h>

#define PINHOLE_ENCODE_BATCH 64 /* reports that pinhole_pgr_encode_batch() finishes together */

/** Randomize n values at once: reports[i] is the report of values[i] (0 <= values[i] < g->k), the
 * same as n calls of pinhole_pgr_encode() with rng in order would give (the keystream is read the
 * same way, straight from rng's buffer), so each report has exactly the single path's
 * distribution. Faster: the keystream is read inline and the inversions that canonicalize the
 * reports are shared by groups of PINHOLE_ENCODE_BATCH (one field inversion and three products
 * per report, Montgomery's trick). Constant time in the values as pinhole_pgr_encode(); no
 * allocation (about 2 KiB of stack). Errors: PINHOLE_ERANGE if some value >= k (nothing is drawn
 * or written). */
int pinhole_pgr_encode_batch(const pinhole_pgr *g, const uint64_t *values, size_t n,
                             pinhole_rng *rng, uint64_t *reports);

#endif
