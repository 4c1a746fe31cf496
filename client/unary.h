/* Unary encoding randomizers (client side): OUE, SUE / basic RAPPOR with a memoized permanent
 * response. Sources: Wang et al., USENIX Security 2017, §4.3; Erlingsson, Pihur, Korolova,
 * "RAPPOR", CCS 2014, §3. Reports are k-bit strings, bit i of byte i/8 = item i. */
#ifndef PINHOLE_CLIENT_UNARY_H
#define PINHOLE_CLIENT_UNARY_H

#include "client/draws.h"
#include "common/rng.h"
#include "common/unary.h"

#include <stdint.h>

/** One report for value (< u->k) into bits[0..ceil(k/8)), the permanent response drawn fresh
 * (right for one report per device): bit v is 1 with probability t_true/2^64 and is not drawn
 * again by the noise, every other bit with t_noise/2^64; then, for RAPPOR, each bit is kept with
 * probability t_irr/2^64 and flipped otherwise. Each Bernoulli draw compares a uniform 64-bit
 * number, read most significant byte first and only as far as needed, with its threshold.
 * Errors: PINHOLE_ERANGE if value >= k. */
int pinhole_unary_encode(const pinhole_unary *u, uint64_t value, pinhole_rng *rng, uint8_t *bits);

/** RAPPOR's longitudinal report: as pinhole_unary_encode(), the permanent response drawn from
 * perm (memoized: the device's stream of (collection, value), so that a device always gets the
 * same permanent bits for the same value) and the instantaneous response from inst (fresh).
 * Errors: PINHOLE_ERANGE if value >= k. */
int pinhole_unary_encode_split(const pinhole_unary *u, uint64_t value, pinhole_rng *perm,
                               pinhole_rng *inst, uint8_t *bits);

/** The randomizer with its draws from perm (the permanent response) and inst (the instantaneous
 * one): what pinhole_unary_encode_split() runs with the rngs' lazy Bernoulli draws
 * (pinhole_rng_bernoulli_lazy), and what the exact-privacy tests run with an enumerator.
 * Errors: PINHOLE_ERANGE if value >= k. */
int pinhole_unary_encode_with(const pinhole_unary *u, uint64_t value, const pinhole_draws *perm,
                              const pinhole_draws *inst, uint8_t *bits);

/** Deterministic core: the report for value given each position's 64-bit uniforms, perm[i] for
 * the permanent response and irr[i] for the instantaneous one (irr ignored, may be NULL, without
 * it). The same code as the randomizer, with each Bernoulli draw u < T taking its u from the
 * arrays instead of the rng. Errors: PINHOLE_ERANGE if value >= k. */
int pinhole_unary_encode_draws(const pinhole_unary *u, uint64_t value, const uint64_t *perm,
                               const uint64_t *irr, uint8_t *bits);

#endif
