/* libpinhole: the embeddable client of Pinhole's local-differential-privacy collections.
 *
 * Thread safety: after pinhole_init() has returned PINHOLE_OK every function is thread-safe; a
 * pinhole_collection is read-only after its init and may be shared; a pinhole_client may be shared
 * too (its privacy-budget accounting is serialized by an internal lock); the library has no
 * mutable global state of its own.
 *
 * Flow: pinhole_init(); a collection from the server's signed config
 * (pinhole_collection_init_signed, verified with the server's Ed25519 key) or from local
 * parameters (pinhole_collection_init_params); a client holding the device's privacy policy and
 * optional device secret (pinhole_client_init); then for each value one report
 * (pinhole_client_report, or pinhole_client_report_sealed to the server's X25519 key) written into
 * a caller-owned buffer of PINHOLE_REPORT_MAXBYTES / pinhole_collection_reportbytes() bytes.
 * Reporting allocates nothing. Errors are negative PINHOLE_E* codes; pinhole_strerror() names
 * them. Wire format: docs/protocol.md; privacy policy and memoization: docs/client.md.
 *
 * The randomizer is constant-time in the user's value: no branch and no memory index depends on
 * it (checked with valgrind by tests/ct/ct_check.sh; PGR only, the other mechanisms' randomizers
 * say so in their own files). */
#ifndef PINHOLE_H
#define PINHOLE_H

#include "common/error.h"
#include "common/mechanism.h"
#include "proto/batch.h"
#include "proto/config.h"
#include "proto/report.h"
#include "proto/seal.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define PINHOLE_VERSION_STRING "0.1.0"
#define PINHOLE_LIBRARY_VERSION_MAJOR 0 /* the soname's number: changes when the ABI breaks */
#define PINHOLE_LIBRARY_VERSION_MINOR 1
#define PINHOLE_DEVICE_SECRETBYTES 32u /* the device secret of memoized reports */

/** Initialise the library (libsodium's sodium_init()); call once before anything else; calling it
 * again is harmless. Errors: PINHOLE_EUNSUPPORTED if libsodium cannot initialise (no usable
 * random source). */
int pinhole_init(void);

/** PINHOLE_VERSION_STRING, and the library's ABI version numbers, as functions. */
const char *pinhole_version_string(void);
int pinhole_library_version_major(void);
int pinhole_library_version_minor(void);

/** PINHOLE_DEVICE_SECRETBYTES as a function. */
size_t pinhole_device_secretbytes(void);

/* ---- collections ---- */

typedef struct pinhole_collection {
    pinhole_collection_config config;               /* as verified or given */
    uint8_t fingerprint[PINHOLE_FINGERPRINT_BYTES]; /* of config */
    pinhole_config mech;                            /* the mechanism, built (owns tables) */
    int verified;                                   /* 1 if from a signed config */
} pinhole_collection;

/** A collection from the server's signed config (PINHOLE_CONFIG_SIGNEDBYTES bytes), verified
 * against the server's Ed25519 public key before anything is built. Allocates the mechanism's
 * tables (PGR: about 6q bytes); free with pinhole_collection_free().
 * Errors: those of pinhole_config_verify() (PINHOLE_ESIGNATURE for a bad signature), then
 * PINHOLE_EINVAL / PINHOLE_EOVERFLOW / PINHOLE_ENOMEM from building the mechanism (q not a prime
 * power, K < k, ...). On error nothing needs freeing. */
int pinhole_collection_init_signed(pinhole_collection *col, const uint8_t *signed_config,
                                   size_t len,
                                   const uint8_t server_pk[PINHOLE_CONFIG_PUBLICKEYBYTES]);

/** A collection from a config the app trusts without a signature (for example one it built with
 * pinhole_config_make()). Errors: those of pinhole_config_encode() and pinhole_config_init(). */
int pinhole_collection_init_config(pinhole_collection *col, const pinhole_collection_config *cfg);

/** A local collection from (mechanism, k, epsilon) alone: collection id 0, time precision 1 s,
 * the planner's parameters. For simulations and tests; a server collection has a signed config.
 * Errors: those of pinhole_config_make(). */
int pinhole_collection_init_params(pinhole_collection *col, pinhole_mechanism_id mechanism,
                                   uint64_t k, double epsilon);

/** Release the mechanism's tables; safe on a zeroed struct and after a failed init. */
void pinhole_collection_free(pinhole_collection *col);

/** Bytes of one encoded report of this collection, 56 + payload bytes. */
size_t pinhole_collection_reportbytes(const pinhole_collection *col);

/** Bytes of one sealed report of this collection, pinhole_collection_reportbytes() + 48. */
size_t pinhole_collection_sealedbytes(const pinhole_collection *col);

/* ---- the device: privacy policy and memoization ---- */

/** Load the epsilon already spent in budget period `period` (an integer: unix seconds divided by
 * the policy's period length) into *spent; a period never stored is 0. Return PINHOLE_OK or a
 * negative PINHOLE_E* code (the report is then refused with that code). */
typedef int (*pinhole_budget_load_fn)(void *ctx, uint64_t period, double *spent);

/** Persist the epsilon spent in `period`. Called before the report is released: if it fails
 * (negative return), the report is refused with that code, so a crash never leaks an uncounted
 * report. */
typedef int (*pinhole_budget_store_fn)(void *ctx, uint64_t period, double spent);

typedef struct pinhole_policy {
    double max_epsilon;            /* largest epsilon of one report; 0 = no cap */
    double budget_epsilon;         /* total epsilon per period; 0 = no budget */
    uint64_t budget_period;        /* period length in seconds (e.g. 86400); needed with a budget */
    pinhole_budget_load_fn load;   /* needed with a budget */
    pinhole_budget_store_fn store; /* needed with a budget */
    void *ctx;                     /* passed to load and store */
} pinhole_policy;

typedef struct pinhole_client {
    pinhole_policy policy;
    uint8_t secret[PINHOLE_DEVICE_SECRETBYTES]; /* the device secret, if has_secret */
    int has_secret;
    atomic_flag lock; /* serializes load -> check -> store of the budget (a spin lock: keep the
                         callbacks short, other reporting threads spin while they run) */
} pinhole_client;

/** Set up a client with a privacy policy (NULL = no cap, no budget) and an optional device secret
 * for memoized reports (NULL = none; the app keeps the secret, e.g. in the platform keystore, and
 * passes the same bytes on every start). Errors: PINHOLE_EINVAL (max_epsilon or budget_epsilon
 * negative or not finite; a budget without a period or without both callbacks). */
int pinhole_client_init(pinhole_client *cl, const pinhole_policy *policy,
                        const uint8_t *device_secret);

/** Erase the device secret (sodium_memzero). */
void pinhole_client_wipe(pinhole_client *cl);

/** Flags of pinhole_client_report(). */
enum {
    PINHOLE_REPORT_MEMOIZE = 1, /* reuse the permanent randomized response of (collection, value) */
};

/** Randomize value (0 <= value < k) for the collection and write the encoded report into
 * out[0..cap); *written receives its size (pinhole_collection_reportbytes()). unix_seconds is the
 * time the report stands for; it is stored as unix_seconds / time_precision. The report id is 16
 * fresh random bytes. With PINHOLE_REPORT_MEMOIZE (needs a device secret) the payload is the
 * permanent randomized response of (collection, value): the randomizer run on a ChaCha20 stream
 * keyed by BLAKE2b(key = device secret, "pinhole-memo-v1" || fingerprint || value), so repeated
 * reports of one value reveal no more than one (docs/client.md).
 * The privacy policy is applied first: the collection's epsilon above max_epsilon, or above what
 * is left of the period's budget, refuses the report with PINHOLE_EPOLICY (nothing is written,
 * nothing is charged). A report is charged its collection's epsilon (memoized ones too).
 * Errors: PINHOLE_ERANGE (value >= k), PINHOLE_EPOLICY, PINHOLE_EINVAL (MEMOIZE without a device
 * secret, unknown flags), PINHOLE_EBUFSIZE (cap too small), the budget callbacks' codes, and
 * PINHOLE_EUNSUPPORTED (no randomizer for the mechanism). No allocation. */
int pinhole_client_report(pinhole_client *cl, const pinhole_collection *col, uint64_t value,
                          uint64_t unix_seconds, unsigned flags, uint8_t *out, size_t cap,
                          size_t *written);

/** As pinhole_client_report(), then sealed to the server's X25519 public key (crypto_box_seal):
 * out receives pinhole_collection_sealedbytes() bytes. Errors: those of pinhole_client_report()
 * and pinhole_report_seal(). */
int pinhole_client_report_sealed(pinhole_client *cl, const pinhole_collection *col, uint64_t value,
                                 uint64_t unix_seconds, unsigned flags,
                                 const uint8_t server_pk[PINHOLE_SEAL_PUBLICKEYBYTES], uint8_t *out,
                                 size_t cap, size_t *written);

/** Many reports in one call: reports of values[0..n) (each 0 <= values[i] < k) for the collection,
 * written back to back into out, pinhole_collection_reportbytes() bytes each; *written receives
 * n times that. Every draw of the batch (and the report ids) comes from one ChaCha20 keystream
 * keyed from the OS generator, and PGR uses its batch randomizer; each report has the
 * distribution pinhole_client_report() gives its value. The policy applies to the batch: the
 * collection's epsilon above max_epsilon refuses it, and n times epsilon is charged to the period
 * of unix_seconds at once or not at all (PINHOLE_EPOLICY). flags must be 0 (memoized reports go
 * one by one). Constant time in the values; no allocation.
 * Errors: PINHOLE_ERANGE (some value >= k), PINHOLE_EPOLICY, PINHOLE_EINVAL (flags),
 * PINHOLE_EBUFSIZE (cap below n reports), the budget callbacks' codes, PINHOLE_EUNSUPPORTED;
 * on error nothing is charged (unless the budget's store failed) and out is zeroed. */
int pinhole_client_report_batch(pinhole_client *cl, const pinhole_collection *col,
                                const uint64_t *values, size_t n, uint64_t unix_seconds,
                                unsigned flags, uint8_t *out, size_t cap, size_t *written);

#endif
