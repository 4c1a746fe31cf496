/* The collection config on the wire: canonical binary form, parameter fingerprint and Ed25519
 * signature (docs/protocol.md §4).
 *
 * Canonical binary form, version 1 (a collection without labels), exactly PINHOLE_CONFIG_BYTES (72)
 * bytes, little-endian:
 *    0  u8  version (1)            1  u8  mechanism (pinhole_mechanism_id)
 *    2  u16 reserved, 0            4  u64 collection id
 *   12  u64 domain size k (>= 2)
 *   20  f64 epsilon, IEEE-754 binary64 bits as a u64 (finite, >= PINHOLE_EPSILON_MIN = 1e-6)
 *   28  u32 q                     32  u32 t
 *       (the mechanism's parameters; PGR: the resolved field order and vector length, both >= 2)
 *   36  u32 time precision, seconds per time unit (>= 1)
 *   40  u32 minimum reports before an estimate is released (server policy; 0 = none)
 *   44  f64 epsilon_permanent (SUE/RAPPOR; 0, or finite >= 1e-6)
 *   52  u32 pool (OLH seed pool size)      56  u64 pool_key (OLH)      64  u64 block (HR)
 *       (0 where the mechanism has no such parameter; see pinhole_config_params)
 * Version 2 (a collection with labels), PINHOLE_CONFIG_V2BYTES (112) bytes: the 72 bytes above
 * with version 2, then
 *   72  32 bytes: the labels hash (proto/labels.h: BLAKE2b-256 of the canonical label list)
 *  104  u64 the "other" item: the index unknown labels map to, < k, or PINHOLE_NO_OTHER_ITEM
 * One config has exactly one encoding, so the fingerprint below identifies the parameters.
 *
 * Fingerprint: the first 16 bytes of BLAKE2b (libsodium crypto_generichash, 16-byte output, no
 * key) of the 20 ASCII bytes "pinhole-config-v1-fp" followed by the canonical bytes. A report
 * carries it, so a report made for k = 16 is refused by a collection with k = 8.
 *
 * Signed config: the canonical bytes followed by a 64-byte Ed25519 signature (crypto_sign_detached)
 * of the 21 ASCII bytes "pinhole-config-v1-sig" followed by the canonical bytes, made with the
 * server's key. A client verifies it (pinhole_collection_config_verify) before it encodes anything.
 *
 * Everything here is pure and thread-safe; libsodium must be initialised (sodium_init() >= 0). */
#ifndef PINHOLE_PROTO_CONFIG_H
#define PINHOLE_PROTO_CONFIG_H

#include "common/mechanism.h"
#include "proto/report.h"

#include <pinhole/pinhole.h>

#include <stddef.h>
#include <stdint.h>

/* PINHOLE_CONFIG_BYTES, _SIGBYTES, _SIGNEDBYTES, _PUBLICKEYBYTES are in <pinhole/pinhole.h>. */
#define PINHOLE_CONFIG_SECRETKEYBYTES 64u /* Ed25519 */

#define PINHOLE_CONFIG_V1 1u /* without labels */
#define PINHOLE_CONFIG_V2 2u /* with labels */
#define PINHOLE_NO_OTHER_ITEM UINT64_MAX

typedef struct pinhole_collection_config {
    uint64_t collection_id;
    pinhole_config_params params; /* mechanism, k, epsilon, and q, t resolved (never 0 for PGR) */
    uint32_t time_precision;      /* seconds per time unit of a report's time, >= 1 */
    uint32_t min_reports;         /* reports before an estimate is released; 0 = no minimum */
    int has_labels;               /* 1: a version 2 config, committing to a label list */
    uint8_t labels_hash[PINHOLE_LABELS_HASHBYTES]; /* with has_labels */
    uint64_t other_item; /* with has_labels: unknown labels map here; PINHOLE_NO_OTHER_ITEM */
} pinhole_collection_config;

/** Bytes of cfg's canonical form: PINHOLE_CONFIG_BYTES, or PINHOLE_CONFIG_V2BYTES with labels. */
size_t pinhole_collection_config_encoded_bytes(const pinhole_collection_config *cfg);

/** Bytes of cfg's signed form: pinhole_collection_config_encoded_bytes() + PINHOLE_CONFIG_SIGBYTES.
 */
size_t pinhole_collection_config_signed_bytes(const pinhole_collection_config *cfg);

/** PINHOLE_CONFIG_BYTES and PINHOLE_CONFIG_SECRETKEYBYTES as functions (the signed and public-key
 * sizes are public: <pinhole/pinhole.h>). */
size_t pinhole_collection_config_bytes(void);
size_t pinhole_collection_config_secretkeybytes(void);

/** Build a collection config from mechanism parameters, resolving the planner's choices (PGR:
 * q = 0, t = 0) through pinhole_config_init(), so that the canonical form fixes every parameter.
 * Errors: those of pinhole_config_init(); PINHOLE_EINVAL (time_precision 0). */
int pinhole_collection_config_make(pinhole_collection_config *cfg, uint64_t collection_id,
                                   const pinhole_config_params *params, uint32_t time_precision,
                                   uint32_t min_reports);

/** Write the canonical form of cfg into out[0..pinhole_collection_config_encoded_bytes(cfg)) (72
 * bytes without labels, 112 with: a buffer of PINHOLE_CONFIG_V2BYTES always fits). Errors:
 * PINHOLE_EINVAL (a field the decoder would refuse: see pinhole_collection_config_decode). */
int pinhole_collection_config_encode(const pinhole_collection_config *cfg, uint8_t *out);

/** Parse a canonical config from in[0..len). Errors, in this order: PINHOLE_ETRUNCATED (len ==
 * 0), PINHOLE_EVERSION (version not 1 or 2), PINHOLE_ETRUNCATED (len below 72 for version 1, 112
 * for version 2), PINHOLE_ETOOBIG (len above it), PINHOLE_EFORMAT (reserved nonzero, k < 2,
 * epsilon not finite or below PINHOLE_EPSILON_MIN (1e-6), time precision 0, PGR with q < 2 or
 * t < 2, epsilon_permanent neither 0 nor a valid epsilon, an "other" item neither < k nor
 * PINHOLE_NO_OTHER_ITEM), PINHOLE_EUNSUPPORTED (mechanism not in this build's table). On error
 * *cfg is zeroed. */
int pinhole_collection_config_decode(const uint8_t *in, size_t len, pinhole_collection_config *cfg);

/** The parameter fingerprint of cfg (see the top of this header) into out.
 * Errors: those of pinhole_collection_config_encode(). */
int pinhole_collection_config_fingerprint(const pinhole_collection_config *cfg,
                                          uint8_t out[PINHOLE_FINGERPRINT_BYTES]);

/** Ed25519 key pair for signing configs (crypto_sign_keypair); thread-safe. */
void pinhole_collection_config_keypair(uint8_t pk[PINHOLE_CONFIG_PUBLICKEYBYTES],
                                       uint8_t sk[PINHOLE_CONFIG_SECRETKEYBYTES]);

/** Sign cfg with the server's Ed25519 secret key: out receives the signed config,
 * pinhole_collection_config_signed_bytes(cfg) bytes (136 without labels, 176 with: a buffer of
 * PINHOLE_CONFIG_SIGNED_MAXBYTES always fits). Errors: those of pinhole_collection_config_encode().
 */
int pinhole_collection_config_sign(const pinhole_collection_config *cfg,
                                   const uint8_t sk[PINHOLE_CONFIG_SECRETKEYBYTES], uint8_t *out);

/** Verify a signed config in[0..len) against the server's Ed25519 public key and decode it.
 * Errors: PINHOLE_ETRUNCATED (len 0, or below 136 for a version 1 config, 176 for version 2, as
 * its first byte says), PINHOLE_ETOOBIG (above it), PINHOLE_ESIGNATURE (the signature does not
 * verify; the config is not decoded), then those of pinhole_collection_config_decode().
 * On error *cfg is zeroed. */
int pinhole_collection_config_verify(const uint8_t *in, size_t len,
                                     const uint8_t pk[PINHOLE_CONFIG_PUBLICKEYBYTES],
                                     pinhole_collection_config *cfg);

#endif
