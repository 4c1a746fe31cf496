/* The round config of a discovery collection on the wire: header, the round's oracle config and
 * its candidate table, signed with the server's Ed25519 key (docs/protocol.md, "Discovery rounds").
 *
 * Canonical binary form, version 1, little-endian, PINHOLE_ROUND_HEADERBYTES (96) + table bytes:
 *    0  u8  version (1)        1  u8  kind (pinhole_round_kind)     2  u16 reserved, 0
 *    4  u32 round index        8  u32 prefix_len                   12  u32 ext
 *   16  u32 ncand             20  u32 reserved, 0
 *   24  the round's collection config, canonical (proto/config.h, 72 bytes): its own collection
 *       id, the oracle's mechanism and parameters, epsilon, and k = the round's domain size
 *   96  the table: ncand entries of pinhole_round_width() bytes (common/discovery.h)
 * Signed form: the canonical bytes, then a 64-byte Ed25519 signature (crypto_sign_detached) of the
 * 20 ASCII bytes "pinhole-round-v1-sig" followed by the 32-byte BLAKE2b digest (crypto_generichash,
 * no key) of the canonical bytes. Reports of a round are ordinary reports of its collection config
 * (they carry that config's fingerprint), so each round has its own collection id.
 * Pure and thread-safe; libsodium must be initialised. */
#ifndef PINHOLE_PROTO_DISCOVERY_H
#define PINHOLE_PROTO_DISCOVERY_H

#include "common/discovery.h"
#include "proto/config.h"

#include <stddef.h>
#include <stdint.h>

#define PINHOLE_ROUND_VERSION 1u
#define PINHOLE_ROUND_HEADERBYTES (24u + PINHOLE_CONFIG_BYTES) /* 96 */
#define PINHOLE_ROUND_SIGBYTES 64u

typedef struct pinhole_round_config {
    uint32_t round;                   /* 0-based index within the collection */
    pinhole_round_domain domain;      /* kind, prefix_len, ext, ncand, table (borrowed) */
    pinhole_collection_config oracle; /* the round's frequency oracle; params.k = domain size */
} pinhole_round_config;

/** Bytes of the canonical form (header + table), or 0 if the domain's fields are out of range. */
size_t pinhole_round_config_bytes(const pinhole_round_config *rc);

/** Check a round config's domain against its oracle: PINHOLE_OK, PINHOLE_EINVAL (domain fields
 * out of range, oracle k not the domain size), PINHOLE_EFORMAT (pinhole_round_domain_check). */
int pinhole_round_config_check(const pinhole_round_config *rc);

/** Write the canonical form into out[0..cap); *written receives its size. Errors: PINHOLE_EINVAL
 * (domain fields out of range, oracle k not the domain size, a config field
 * pinhole_collection_config_encode() refuses), PINHOLE_EFORMAT (table not sorted, distinct and
 * well-formed: pinhole_round_domain_check), PINHOLE_EBUFSIZE (cap too small). */
int pinhole_round_config_encode(const pinhole_round_config *rc, uint8_t *out, size_t cap,
                                size_t *written);

/** Parse the canonical form in[0..len); rc->domain.table then points into in. Errors:
 * PINHOLE_ETRUNCATED (shorter than the header or than header + table), PINHOLE_EVERSION,
 * PINHOLE_ETOOBIG (longer), PINHOLE_EFORMAT (reserved bytes, fields out of range, oracle k not the
 * domain size, a bad table), then those of pinhole_collection_config_decode() for the embedded
 * config. On error *rc is zeroed. */
int pinhole_round_config_decode(const uint8_t *in, size_t len, pinhole_round_config *rc);

/** The canonical form followed by the signature (see above) into out[0..cap); *written receives
 * pinhole_round_config_bytes() + 64. Errors: those of pinhole_round_config_encode(). */
int pinhole_round_config_sign(const pinhole_round_config *rc,
                              const uint8_t sk[PINHOLE_CONFIG_SECRETKEYBYTES], uint8_t *out,
                              size_t cap, size_t *written);

/** Verify a signed round config in[0..len) against the server's Ed25519 public key, then decode
 * it (rc->domain.table points into in). Errors: PINHOLE_ETRUNCATED (len < 96 + 64),
 * PINHOLE_ESIGNATURE (the signature does not verify; nothing is decoded), then those of
 * pinhole_round_config_decode(). On error *rc is zeroed. */
int pinhole_round_config_verify(const uint8_t *in, size_t len,
                                const uint8_t pk[PINHOLE_CONFIG_PUBLICKEYBYTES],
                                pinhole_round_config *rc);

#endif
