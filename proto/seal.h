/* Sealed reports: an encoded report encrypted to the server's X25519 public key with libsodium's
 * crypto_box_seal (anonymous sender), so the report id and payload are visible to the server only
 * (docs/protocol.md §5). A sealed report is PINHOLE_SEALBYTES (48) longer than the report.
 *
 * Pure and thread-safe; libsodium must be initialised (sodium_init() >= 0). */
#ifndef PINHOLE_PROTO_SEAL_H
#define PINHOLE_PROTO_SEAL_H

#include "proto/report.h"

#include <stddef.h>
#include <stdint.h>

/* PINHOLE_SEALBYTES, PINHOLE_SEAL_PUBLICKEYBYTES, PINHOLE_SEALED_MAXBYTES and their functions are
 * in <pinhole/pinhole.h>. */
#define PINHOLE_SEAL_SECRETKEYBYTES 32u

/** X25519 key pair for sealing (crypto_box_keypair). */
void pinhole_seal_keypair(uint8_t pk[PINHOLE_SEAL_PUBLICKEYBYTES],
                          uint8_t sk[PINHOLE_SEAL_SECRETKEYBYTES]);

/** Seal the encoded report in[0..len) to pk into out[0..cap); *written = len + 48.
 * Errors: PINHOLE_EINVAL (len 0), PINHOLE_ETOOBIG (len > PINHOLE_REPORT_MAXBYTES),
 * PINHOLE_EBUFSIZE (cap < len + 48), PINHOLE_ESIGNATURE (pk is not a usable public key). */
int pinhole_report_seal(const uint8_t *in, size_t len,
                        const uint8_t pk[PINHOLE_SEAL_PUBLICKEYBYTES], uint8_t *out, size_t cap,
                        size_t *written);

/** Open a sealed report in[0..len) with the server's key pair into out[0..cap); *written = len -
 * 48. The result still has to go through pinhole_report_decode().
 * Errors: PINHOLE_ETRUNCATED (len <= 48), PINHOLE_ETOOBIG (len > PINHOLE_SEALED_MAXBYTES),
 * PINHOLE_EBUFSIZE (cap < len - 48), PINHOLE_ESIGNATURE (not sealed to this key, or altered). */
int pinhole_report_open(const uint8_t *in, size_t len,
                        const uint8_t pk[PINHOLE_SEAL_PUBLICKEYBYTES],
                        const uint8_t sk[PINHOLE_SEAL_SECRETKEYBYTES], uint8_t *out, size_t cap,
                        size_t *written);

#endif
