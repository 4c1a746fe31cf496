/* k-RR randomizer (client side). Source: Kairouz, Bonawitz, Ramage, ICML 2016, §3. */
#ifndef PINHOLE_CLIENT_GRR_H
#define PINHOLE_CLIENT_GRR_H

#include "common/grr.h"
#include "common/rng.h"

/** Randomize value (< g->k): keep it with probability threshold/2^64, else report an item drawn
 * uniformly (by rejection) from the k - 1 others. Errors: PINHOLE_ERANGE if value >= k. */
int pinhole_grr_encode(const pinhole_grr *g, uint64_t value, pinhole_rng *rng, uint64_t *report);

/** Deterministic core: the report for value given the Bernoulli outcome keep (0/1) and a uniform
 * other in [0, k - 1) (ignored when keep). Errors: PINHOLE_ERANGE (value >= k or other >= k - 1).
 */
int pinhole_grr_encode_draws(const pinhole_grr *g, uint64_t value, int keep, uint64_t other,
                             uint64_t *report);

#endif
