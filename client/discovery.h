/* The device side of a discovery collection: a verified round config, and a device string
 * reported into the round's domain (docs/discovery.md).
 *
 * Flow: the app fetches the open round's signed config from the server, builds a round with
 * pinhole_discovery_round_init_signed() (verifies the server's signature, copies the candidate
 * table, builds the round's frequency oracle), then reports its string once with
 * pinhole_discovery_report(). A device takes part in one round of a collection only: the user-level
 * epsilon of the whole collection is then the round's epsilon (the app must not report the same
 * string again to a later round of the same collection; docs/discovery.md, "Privacy accounting").
 *
 * Timing: what leaks is the string's length, and only through the copy of its len bytes into a
 * zero-padded buffer (the caller's buffer has len bytes, so nothing past them may be read) and the
 * range check 1..PINHOLE_DISCOVERY_MAXLEN (a refused string sends no report). Everything after the
 * copy runs over the padded PINHOLE_DISCOVERY_MAXLEN bytes with no branch and no memory index on
 * the bytes: the UTF-8 check, the table scan and the oracle's randomizer (PGR's is constant-time;
 * k-RR's and OLH's say so in their own files); its time depends on the round's table size, which
 * is public. */
#ifndef PINHOLE_CLIENT_DISCOVERY_H
#define PINHOLE_CLIENT_DISCOVERY_H

#include "client/pinhole.h"
#include "common/rng.h"
#include "proto/discovery.h"

#include <stddef.h>
#include <stdint.h>

/* The public API (<pinhole/pinhole.h>) has pinhole_discovery_round_new_signed(), _free(),
 * _index(), _collection(), pinhole_discovery_report() and _report_sealed(); this header adds the
 * layout of the opaque round and set-up functions for caller-allocated ones. Not installed. */
struct pinhole_discovery_round {
    pinhole_round_config config; /* as verified; config.domain.table points into table below */
    uint8_t *table;              /* owned copy of the candidate table */
    pinhole_collection col;      /* the round's oracle collection (its config: config.oracle) */
};

/** A round from the server's signed round config in[0..len), verified against the server's Ed25519
 * public key before anything is built. Allocates the table copy and the oracle's tables; free with
 * pinhole_discovery_round_clear(). Errors: those of pinhole_round_config_verify(), then those of
 * pinhole_collection_init_config(), PINHOLE_ENOMEM. On error nothing needs freeing. */
int pinhole_discovery_round_init_signed(pinhole_discovery_round *r, const uint8_t *in, size_t len,
                                        const uint8_t server_pk[PINHOLE_CONFIG_PUBLICKEYBYTES]);

/** A round from a config the caller trusts without a signature (simulations, tests, the server).
 * Errors: PINHOLE_EINVAL / PINHOLE_EFORMAT (the checks of pinhole_round_config_encode()), those of
 * pinhole_collection_init_config(), PINHOLE_ENOMEM. */
int pinhole_discovery_round_init(pinhole_discovery_round *r, const pinhole_round_config *rc);

/** Release a caller-allocated round; safe on a zeroed struct and after a failed init. */
void pinhole_discovery_round_clear(pinhole_discovery_round *r);

/** The item of the round's domain that string s[0..len) maps to, in [0, k) (k - 1 is "other").
 * Errors: those of pinhole_discovery_check() (PINHOLE_EINVAL empty, PINHOLE_ETOOBIG longer than
 * PINHOLE_DISCOVERY_MAXLEN bytes, PINHOLE_EFORMAT invalid UTF-8 or a NUL byte). No allocation. */
int pinhole_discovery_value(const pinhole_discovery_round *r, const uint8_t *s, size_t len,
                            uint64_t *value);

/** Randomize string s for the round into a report payload of r->col.mech.payload_bytes bytes
 * (pinhole_discovery_value(), then pinhole_encode() with the given rng): for simulations and tests.
 * Errors: those of pinhole_discovery_value() and pinhole_encode(). No allocation. */
int pinhole_discovery_encode(const pinhole_discovery_round *r, const uint8_t *s, size_t len,
                             pinhole_rng *rng, uint8_t *payload, size_t cap);

#endif
