/* The generic randomizer: any mechanism of the table, value -> report payload bytes. */
#ifndef PINHOLE_CLIENT_ENCODE_H
#define PINHOLE_CLIENT_ENCODE_H

#include "common/bytes.h"
#include "common/mechanism.h"
#include "common/rng.h"

#include <stddef.h>
#include <stdint.h>

/** Randomize value (0 <= value < c->k) with c's mechanism and write the report payload into
 * payload[0..c->payload_bytes): the payload as an unsigned little-endian integer (PGR: the
 * hyperplane index) or bit string (unary mechanisms: bit i of byte i/8 is item i).
 * Thread-safe for distinct rngs; no allocation.
 * Errors: PINHOLE_ERANGE (value >= k), PINHOLE_EBUFSIZE (len < payload_bytes),
 * PINHOLE_EUNSUPPORTED (mechanism has no randomizer here). */
int pinhole_encode(const pinhole_config *c, uint64_t value, pinhole_rng *rng, uint8_t *payload,
                   size_t len);

/** As pinhole_encode(), for a memoized report: the permanent randomized response is drawn from
 * perm (the device's memo stream of (collection, value)) and a mechanism's instantaneous step,
 * if it has one (SUE/RAPPOR with epsilon_permanent > epsilon), from inst (fresh randomness), so
 * that the payload varies from report to report as in RAPPOR (Erlingsson, Pihur, Korolova, CCS
 * 2014, §3). Mechanisms without an instantaneous step draw from perm only: their memoized payload
 * repeats. Same errors as pinhole_encode(). */
int pinhole_encode_memoized(const pinhole_config *c, uint64_t value, pinhole_rng *perm,
                            pinhole_rng *inst, uint8_t *payload, size_t len);

/** Randomize n values: the payload of values[i] goes to payloads + i stride (stride >=
 * c->payload_bytes), each as pinhole_encode() writes it, drawn from rng in order. PGR takes the
 * batch path (client/pgr.h: the same reports as n pinhole_encode() calls on the same rng, for
 * fewer instructions); other mechanisms call pinhole_encode() per value. Constant time in the
 * values as pinhole_encode(); no allocation. Errors: PINHOLE_ERANGE (some value >= k: nothing is
 * written), PINHOLE_EBUFSIZE (stride too small), PINHOLE_EUNSUPPORTED. */
int pinhole_encode_batch(const pinhole_config *c, const uint64_t *values, size_t n,
                         pinhole_rng *rng, uint8_t *payloads, size_t stride);

#endif
