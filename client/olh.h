/* OLH randomizer (client side). Source: Wang et al., USENIX Security 2017, §4.4. */
#ifndef PINHOLE_CLIENT_OLH_H
#define PINHOLE_CLIENT_OLH_H

#include "common/olh.h"
#include "common/rng.h"

/** Randomize value (< g->k): a uniform seed s of the pool, then randomized response over the g
 * hash values around H_s(value). *report = s g + y. Errors: PINHOLE_ERANGE if value >= k. */
int pinhole_olh_encode(const pinhole_olh *g, uint64_t value, pinhole_rng *rng, uint64_t *report);

/** Deterministic core: the report for seed s (< S), keep (0/1) and other (< g - 1, the uniform
 * draw among the other hash values, ignored when keep). Errors: PINHOLE_ERANGE. */
int pinhole_olh_encode_draws(const pinhole_olh *g, uint64_t value, uint32_t s, int keep,
                             uint32_t other, uint64_t *report);

#endif
