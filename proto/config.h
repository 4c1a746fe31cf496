/* The collection config on the wire: canonical binary form, parameter fingerprint and Ed25519
 * signature (docs/protocol.md §4).
 *
 * Canonical binary form, version 1, exactly PINHOLE_CONFIG_BYTES (72) bytes, little-endian:
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

#include <stddef.h>
#include <stdint.h>

#define PINHOLE_CONFIG_VERSION 1u
#define PINHOLE_CONFIG_BYTES 72u
#define PINHOLE_CONFIG_SIGBYTES 64u                                                 /* Ed25519 */
#define PINHOLE_CONFIG_SIGNEDBYTES (PINHOLE_CONFIG_BYTES + PINHOLE_CONFIG_SIGBYTES) /* 136 */
#define PINHOLE_CONFIG_PUBLICKEYBYTES 32u                                           /* Ed25519 */
#define PINHOLE_CONFIG_SECRETKEYBYTES 64u                                           /* Ed25519 */

typedef struct pinhole_collection_config {
    uint64_t collection_id;
    pinhole_config_params params; /* mechanism, k, epsilon, and q, t resolved (never 0 for PGR) */
    uint32_t time_precision;      /* seconds per time unit of a report's time, >= 1 */
    uint32_t min_reports;         /* reports before an estimate is released; 0 = no minimum */
} pinhole_collection_config;

/** PINHOLE_CONFIG_BYTES, PINHOLE_CONFIG_SIGNEDBYTES, PINHOLE_CONFIG_PUBLICKEYBYTES and
 * PINHOLE_CONFIG_SECRETKEYBYTES as functions. */
size_t pinhole_collection_config_bytes(void);
size_t pinhole_collection_config_signedbytes(void);
size_t pinhole_collection_config_publickeybytes(void);
size_t pinhole_collection_config_secretkeybytes(void);

/** Build a collection config from mechanism parameters, resolving the planner's choices (PGR:
 * q = 0, t = 0) through pinhole_config_init(), so that the canonical form fixes every parameter.
 * Errors: those of pinhole_config_init(); PINHOLE_EINVAL (time_precision 0). */
int pinhole_collection_config_make(pinhole_collection_config *cfg, uint64_t collection_id,
                                   const pinhole_config_params *params, uint32_t time_precision,
                                   uint32_t min_reports);

/** Write the canonical form of cfg into out[0..PINHOLE_CONFIG_BYTES).
 * Errors: PINHOLE_EINVAL (a field the decoder would refuse: see pinhole_collection_config_decode).
 */
int pinhole_collection_config_encode(const pinhole_collection_config *cfg,
                                     uint8_t out[PINHOLE_CONFIG_BYTES]);

/** Parse a canonical config from in[0..len). Errors, in this order: PINHOLE_ETRUNCATED (len == 0
 * or len < 72), PINHOLE_EVERSION (version != 1), PINHOLE_ETOOBIG (len > 72), PINHOLE_EFORMAT
 * (reserved nonzero, k < 2, epsilon not finite or below PINHOLE_EPSILON_MIN (1e-6), time precision
 * 0, PGR with q < 2 or t < 2, epsilon_permanent neither 0 nor a valid epsilon),
 * PINHOLE_EUNSUPPORTED (mechanism not in this build's table). On error *cfg is zeroed. */
int pinhole_collection_config_decode(const uint8_t *in, size_t len, pinhole_collection_config *cfg);

/** The parameter fingerprint of cfg (see the top of this header) into out.
 * Errors: those of pinhole_collection_config_encode(). */
int pinhole_collection_config_fingerprint(const pinhole_collection_config *cfg,
                                          uint8_t out[PINHOLE_FINGERPRINT_BYTES]);

/** Ed25519 key pair for signing configs (crypto_sign_keypair); thread-safe. */
void pinhole_collection_config_keypair(uint8_t pk[PINHOLE_CONFIG_PUBLICKEYBYTES],
                                       uint8_t sk[PINHOLE_CONFIG_SECRETKEYBYTES]);

/** Sign cfg with the server's Ed25519 secret key: out receives the signed config,
 * PINHOLE_CONFIG_SIGNEDBYTES bytes. Errors: those of pinhole_collection_config_encode(). */
int pinhole_collection_config_sign(const pinhole_collection_config *cfg,
                                   const uint8_t sk[PINHOLE_CONFIG_SECRETKEYBYTES],
                                   uint8_t out[PINHOLE_CONFIG_SIGNEDBYTES]);

/** Verify a signed config in[0..len) against the server's Ed25519 public key and decode it.
 * Errors: PINHOLE_ETRUNCATED (len < 136), PINHOLE_ETOOBIG (len > 136), PINHOLE_ESIGNATURE (the
 * signature does not verify; the config is not decoded), then those of
 * pinhole_collection_config_decode(). On error *cfg is zeroed. */
int pinhole_collection_config_verify(const uint8_t *in, size_t len,
                                     const uint8_t pk[PINHOLE_CONFIG_PUBLICKEYBYTES],
                                     pinhole_collection_config *cfg);

#endif
