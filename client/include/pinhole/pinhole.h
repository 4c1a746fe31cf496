/* libpinhole's public API: the embeddable client of Pinhole's local-differential-privacy
 * collections, usable from C (C99 or later), C++ and Objective-C. This header is self-contained:
 * it includes no other Pinhole header, and every type in it is either opaque (collections,
 * clients, outboxes) or a struct of plain fields.
 *
 * Flow: pinhole_init(); a collection from the server's signed config, verified with the server's
 * Ed25519 key (pinhole_collection_new_signed), or from local parameters
 * (pinhole_collection_new_params); a client holding the device's privacy policy and optional
 * device secret (pinhole_client_new); then for each value one report (pinhole_client_report, or
 * pinhole_client_report_sealed to the server's X25519 key) written into a caller-owned buffer of
 * pinhole_collection_reportbytes() / pinhole_collection_sealedbytes() bytes; reports go into an
 * outbox (pinhole_outbox_*) whose batches the app POSTs to the server. Reporting allocates
 * nothing. Errors are negative PINHOLE_E* codes; pinhole_strerror() names them.
 * Guide: docs/client.md; wire format: docs/protocol.md.
 *
 * Thread safety: after pinhole_init() has returned PINHOLE_OK every function is thread-safe on
 * distinct objects; a collection is read-only after it is made and may be shared; a client may be
 * shared (its privacy-budget accounting is serialized by a mutex held while the budget callbacks
 * run); an outbox is not thread-safe (one thread, or the app's own lock). */
#ifndef PINHOLE_PINHOLE_H
#define PINHOLE_PINHOLE_H

#include <stddef.h>
#include <stdint.h>

/* PINHOLE_API marks what the shared library exports; everything else in it is hidden. */
#if defined(_WIN32)
#define PINHOLE_API
#elif defined(__GNUC__) || defined(__clang__)
#define PINHOLE_API __attribute__((visibility("default")))
#else
#define PINHOLE_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define PINHOLE_VERSION_STRING "0.1.0"
#define PINHOLE_LIBRARY_VERSION_MAJOR 0 /* the soname's number: changes when the ABI breaks */
#define PINHOLE_LIBRARY_VERSION_MINOR 1

/* ---- error codes: 0 for success, negative for errors ---- */
enum {
    PINHOLE_OK = 0,
    PINHOLE_EINVAL = -1,       /* an argument is out of range (epsilon, k, q, t, value ...) */
    PINHOLE_ENOMEM = -2,       /* an allocation failed */
    PINHOLE_EOVERFLOW = -3,    /* a size (K, counts, bits) would exceed what the type holds */
    PINHOLE_ERANGE = -4,       /* a value or report index lies outside the domain */
    PINHOLE_ENOREPORTS = -5,   /* an estimate was asked from zero reports */
    PINHOLE_EFORMAT = -6,      /* malformed input (file, bytes) */
    PINHOLE_EIO = -7,          /* a file or stream could not be read or written */
    PINHOLE_EUNSUPPORTED = -8, /* the mechanism or operation is not available here */
    PINHOLE_ETRUNCATED = -9,   /* input ended before its declared length */
    PINHOLE_EVERSION = -10,    /* unknown wire-format version */
    PINHOLE_EMISMATCH = -11,   /* a report made for other parameters (fingerprint differs) */
    PINHOLE_ESIGNATURE = -12,  /* a signature or seal did not verify */
    PINHOLE_EPOLICY = -13,     /* refused by the privacy policy (epsilon cap, budget) */
    PINHOLE_EBUFSIZE = -14,    /* the caller's buffer is too small */
    PINHOLE_ECANCELED = -15,   /* the operation was cancelled */
    PINHOLE_ENOTFOUND = -16,   /* no such collection, job or item */
    PINHOLE_ETIMEOUT = -17,    /* a time limit was reached */
    PINHOLE_EDB = -18,         /* the database failed (SQLite error) */
    PINHOLE_ETOOBIG = -19,     /* input longer than declared, or over a size or count limit */
    PINHOLE_EWINDOW = -20,     /* a report's time lies outside its collection's report window */
    PINHOLE_ENOSPACE = -21,    /* the server's storage is full (disk full): nothing was written */
    PINHOLE_ECLOSED = -22,     /* a report's time bucket is closed: its estimate is final */
    PINHOLE_ELAST =
        PINHOLE_ECLOSED, /* the most negative code in use (keep last; tests walk the range) */
};

/** Human-readable English text for a PINHOLE_* code (0 or negative). Never NULL; unknown codes give
 * "unknown error". Thread-safe (returns a static string). */
PINHOLE_API const char *pinhole_strerror(int code);

/* ---- mechanisms (the frequency oracles; docs/mechanisms.md) ---- */
typedef enum pinhole_mechanism_id {
    PINHOLE_MECH_PGR = 1,  /* Projective Geometry Response (Feldman et al., ICML 2022) */
    PINHOLE_MECH_GRR = 2,  /* generalized randomized response, k-RR */
    PINHOLE_MECH_OUE = 3,  /* optimized unary encoding */
    PINHOLE_MECH_SUE = 4,  /* symmetric unary encoding / basic RAPPOR */
    PINHOLE_MECH_OLH = 5,  /* optimized local hashing with a public seed pool */
    PINHOLE_MECH_HR = 6,   /* Hadamard response */
    PINHOLE_MECH_SS = 7,   /* Subset Selection */
    PINHOLE_MECH_HPGR = 8, /* hybrid PGR, blocks of a smaller projective space */
} pinhole_mechanism_id;

/* ---- sizes in bytes (also as functions below, so that bindings never hard-code them) ---- */
#define PINHOLE_PAYLOAD_MAXBYTES (1u << 20) /* largest payload of any mechanism */
#define PINHOLE_REPORT_HEADERBYTES 56u      /* an encoded report is 56 + payload bytes */
#define PINHOLE_REPORT_MAXBYTES (PINHOLE_REPORT_HEADERBYTES + PINHOLE_PAYLOAD_MAXBYTES)
#define PINHOLE_FINGERPRINT_BYTES 16u   /* BLAKE2b-128 of the collection config */
#define PINHOLE_REPORT_IDBYTES 16u      /* random report id, unique per (collection, report) */
#define PINHOLE_SEALBYTES 48u           /* crypto_box_SEALBYTES: ephemeral public key + MAC */
#define PINHOLE_SEAL_PUBLICKEYBYTES 32u /* X25519 key reports are sealed to */
#define PINHOLE_SEALED_MAXBYTES (PINHOLE_REPORT_MAXBYTES + PINHOLE_SEALBYTES)
#define PINHOLE_CONFIG_BYTES 72u /* canonical config, version 1 (a collection without labels) */
#define PINHOLE_CONFIG_V2BYTES                                                                     \
    112u                            /* version 2: + the hash of the label list, the "other" item   \
                                     */
#define PINHOLE_CONFIG_SIGBYTES 64u /* Ed25519 */
#define PINHOLE_CONFIG_SIGNEDBYTES (PINHOLE_CONFIG_BYTES + PINHOLE_CONFIG_SIGBYTES) /* 136 */
#define PINHOLE_CONFIG_SIGNED_MAXBYTES                                                             \
    (PINHOLE_CONFIG_V2BYTES + PINHOLE_CONFIG_SIGBYTES) /* 176                                      \
                                                        */
#define PINHOLE_LABELS_HASHBYTES 32u      /* BLAKE2b-256 of a collection's canonical label list */
#define PINHOLE_LABEL_MAXBYTES 1024u      /* longest label */
#define PINHOLE_CONFIG_PUBLICKEYBYTES 32u /* Ed25519 key configs are signed with */
#define PINHOLE_DEVICE_SECRETBYTES 32u    /* the device secret of memoized reports */
#define PINHOLE_BATCH_HEADERBYTES 8u
#define PINHOLE_BATCH_ITEMHEADERBYTES 4u /* the u32 length before each item */
#define PINHOLE_BATCH_MAXCOUNT 65536u    /* most reports in one batch */

/** Initialise the library (libsodium's sodium_init()); call once before anything else; calling it
 * again is harmless. Errors: PINHOLE_EUNSUPPORTED if libsodium cannot initialise (no usable
 * random source). */
PINHOLE_API int pinhole_init(void);

/** PINHOLE_VERSION_STRING, and the library's ABI version numbers, as functions. */
PINHOLE_API const char *pinhole_version_string(void);
PINHOLE_API int pinhole_library_version_major(void);
PINHOLE_API int pinhole_library_version_minor(void);

/** The size macros above as functions: PINHOLE_DEVICE_SECRETBYTES, PINHOLE_REPORT_MAXBYTES,
 * PINHOLE_SEALBYTES, PINHOLE_SEALED_MAXBYTES, PINHOLE_CONFIG_SIGNEDBYTES,
 * PINHOLE_CONFIG_PUBLICKEYBYTES, PINHOLE_SEAL_PUBLICKEYBYTES. */
PINHOLE_API size_t pinhole_device_secretbytes(void);
PINHOLE_API size_t pinhole_report_maxbytes(void);
PINHOLE_API size_t pinhole_sealbytes(void);
PINHOLE_API size_t pinhole_sealed_maxbytes(void);
PINHOLE_API size_t pinhole_collection_config_signedbytes(void);
PINHOLE_API size_t pinhole_collection_config_publickeybytes(void);
PINHOLE_API size_t pinhole_seal_publickeybytes(void);

/* ---- bytes and keys ---- */

/** Decode the hexadecimal string hex (upper or lower case, nothing else, even length) into
 * out[0..cap); *written receives the byte count (may be NULL). The server's keys arrive as hex
 * (GET /v1/keys). Errors: PINHOLE_EINVAL (hex NULL), PINHOLE_EFORMAT (a character that is not a hex
 * digit, or an odd length), PINHOLE_EBUFSIZE (more than cap bytes; out is then unspecified). */
PINHOLE_API int pinhole_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *written);

/** Write in[0..len) as lower-case hex and a terminating NUL into out[0..cap).
 * Errors: PINHOLE_EBUFSIZE (cap < 2 len + 1), PINHOLE_EOVERFLOW (2 len + 1 overflows). */
PINHOLE_API int pinhole_hex_encode(const uint8_t *in, size_t len, char *out, size_t cap);

/** Fill out[0..PINHOLE_DEVICE_SECRETBYTES) with a fresh device secret from the operating system's
 * random source (randombytes_buf). Generate it once per device and keep it in the platform's
 * keystore; pass it to pinhole_client_new() on every start. */
PINHOLE_API void pinhole_device_secret_generate(uint8_t *out);

/* ---- collections ---- */

/** A collection's parameters and built mechanism: opaque, read-only once made. */
typedef struct pinhole_collection pinhole_collection;

/** Make a collection from the server's signed config (PINHOLE_CONFIG_SIGNEDBYTES bytes, as served
 * by GET /v1/collections/{id}/config), verified against the server's Ed25519 public key
 * (server_pk, PINHOLE_CONFIG_PUBLICKEYBYTES bytes) before anything is built. *out receives it;
 * free it with pinhole_collection_free(). Allocates the mechanism's tables (PGR: about 6q bytes).
 * Errors: PINHOLE_ETRUNCATED / PINHOLE_ETOOBIG (wrong length), PINHOLE_ESIGNATURE (the signature
 * does not verify), PINHOLE_EVERSION / PINHOLE_EFORMAT / PINHOLE_EUNSUPPORTED (a config this
 * library cannot read), PINHOLE_EINVAL / PINHOLE_EOVERFLOW (parameters it cannot build),
 * PINHOLE_ENOMEM. On error *out is NULL. */
PINHOLE_API int pinhole_collection_new_signed(pinhole_collection **out,
                                              const uint8_t *signed_config, size_t len,
                                              const uint8_t *server_pk);

/** Make a local collection from (mechanism, k, epsilon) alone: collection id 0, time precision
 * 1 s, the planner's parameters. For simulations and tests; a server collection has a signed
 * config. Errors: PINHOLE_EUNSUPPORTED (unknown mechanism), PINHOLE_EINVAL (k < 2, epsilon not
 * finite and >= 1e-6), PINHOLE_EOVERFLOW, PINHOLE_ENOMEM. On error *out is NULL. */
PINHOLE_API int pinhole_collection_new_params(pinhole_collection **out,
                                              pinhole_mechanism_id mechanism, uint64_t k,
                                              double epsilon);

/** Release a collection; NULL is allowed. */
PINHOLE_API void pinhole_collection_free(pinhole_collection *col);

/** The collection's id (0 for a local one), mechanism, domain size k (items 0..k-1) and epsilon
 * of one report. */
PINHOLE_API uint64_t pinhole_collection_id(const pinhole_collection *col);
PINHOLE_API pinhole_mechanism_id pinhole_collection_mechanism(const pinhole_collection *col);
PINHOLE_API uint64_t pinhole_collection_k(const pinhole_collection *col);
PINHOLE_API double pinhole_collection_epsilon(const pinhole_collection *col);

/** Epsilon of the collection's permanent randomized response, which bounds every memoized report
 * of one value together: the SUE/RAPPOR parameter when the collection has an instantaneous step,
 * else the epsilon of one report. */
PINHOLE_API double pinhole_collection_epsilon_permanent(const pinhole_collection *col);

/** Bytes of one encoded report of this collection, 56 + payload bytes. */
PINHOLE_API size_t pinhole_collection_reportbytes(const pinhole_collection *col);

/** Bytes of one sealed report of this collection, pinhole_collection_reportbytes() + 48. */
PINHOLE_API size_t pinhole_collection_sealedbytes(const pinhole_collection *col);

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

/** The device: its privacy policy, device secret and budget lock. Opaque. */
typedef struct pinhole_client pinhole_client;

/** Make a client with a privacy policy (NULL = no cap, no budget) and an optional device secret
 * of PINHOLE_DEVICE_SECRETBYTES for memoized reports (NULL = none; the app keeps the secret, e.g.
 * in the platform keystore, and passes the same bytes on every start). The budget callbacks run
 * under the client's mutex, one report at a time: other threads reporting through the same client
 * wait (sleeping) while they run, and a callback must not report through the same client.
 * Errors: PINHOLE_EINVAL (max_epsilon or budget_epsilon negative or not finite; a budget without
 * a period or without both callbacks), PINHOLE_ENOMEM. On error *out is NULL. */
PINHOLE_API int pinhole_client_new(pinhole_client **out, const pinhole_policy *policy,
                                   const uint8_t *device_secret);

/** Erase the device secret (sodium_memzero) and release the client; NULL is allowed. */
PINHOLE_API void pinhole_client_free(pinhole_client *cl);

/** Flags of pinhole_client_report(). */
enum {
    PINHOLE_REPORT_MEMOIZE = 1, /* reuse the permanent randomized response of (collection, value) */
};

/** Randomize value (0 <= value < k) for the collection and write the encoded report into
 * out[0..cap); *written receives its size (pinhole_collection_reportbytes()). unix_seconds is the
 * time the report stands for; it is stored as unix_seconds / time_precision. The report id is 16
 * fresh random bytes. With PINHOLE_REPORT_MEMOIZE (needs a device secret) the permanent randomized
 * response of (collection, value) is reused: the randomizer's permanent step runs on a ChaCha20
 * stream keyed by BLAKE2b(key = device secret, "pinhole-memo-v1" || fingerprint || value); a
 * mechanism with an instantaneous step (SUE/RAPPOR with epsilon_permanent above epsilon) then
 * draws a fresh instantaneous response on top from the operating system, as RAPPOR does, so
 * memoized reports of one value vary (docs/client.md, "Longitudinal reports").
 * The privacy policy is applied first: the collection's epsilon above max_epsilon, or above what
 * is left of the period's budget, refuses the report with PINHOLE_EPOLICY (nothing is written,
 * nothing is charged). A report is charged its collection's epsilon (memoized ones too).
 * Errors: PINHOLE_ERANGE (value >= k), PINHOLE_EPOLICY, PINHOLE_EINVAL (MEMOIZE without a device
 * secret, unknown flags), PINHOLE_EBUFSIZE (cap too small), the budget callbacks' codes (a
 * positive one becomes PINHOLE_EIO), PINHOLE_EFORMAT (load gave a negative or non-finite amount),
 * PINHOLE_EUNSUPPORTED (no randomizer for the mechanism). No allocation. */
PINHOLE_API int pinhole_client_report(pinhole_client *cl, const pinhole_collection *col,
                                      uint64_t value, uint64_t unix_seconds, unsigned flags,
                                      uint8_t *out, size_t cap, size_t *written);

/** As pinhole_client_report(), then sealed to the server's X25519 public key (server_pk,
 * PINHOLE_SEAL_PUBLICKEYBYTES; crypto_box_seal): out receives pinhole_collection_sealedbytes()
 * bytes. server_pk is the server's current sealing key (`seal_key` of GET /v1/keys), which the
 * server rotates: fetch it again rather than pinning it (docs/protocol.md §5). The server opens
 * reports sealed to its previous key during a rotation's overlap and refuses them after (reason
 * `seal`). Errors: those of pinhole_client_report(), and PINHOLE_ESIGNATURE (server_pk is not a
 * usable key). */
PINHOLE_API int pinhole_client_report_sealed(pinhole_client *cl, const pinhole_collection *col,
                                             uint64_t value, uint64_t unix_seconds, unsigned flags,
                                             const uint8_t *server_pk, uint8_t *out, size_t cap,
                                             size_t *written);

/** Many reports in one call: the plain reports of values[0..n) (each 0 <= values[i] < k) for the
 * collection, written back to back into out[0..cap), pinhole_collection_reportbytes() bytes each;
 * *written receives n times that (0 on error). Each report has the distribution
 * pinhole_client_report() gives its value, and its own random report id; all the draws of the
 * batch (and the report ids) come from one ChaCha20 keystream keyed from the operating system's
 * random source, and PGR uses its batch randomizer (one field inversion per 64 reports). The
 * policy applies to the batch as a whole: the collection's epsilon above max_epsilon refuses it,
 * and n times epsilon is charged to the budget period of unix_seconds at once, or the batch is
 * refused (PINHOLE_EPOLICY). flags must be 0: memoized and sealed reports go one by one. Constant
 * time in the values; no allocation.
 * Errors: PINHOLE_ERANGE (some value >= k), PINHOLE_EPOLICY, PINHOLE_EINVAL (flags not 0),
 * PINHOLE_EBUFSIZE (cap below n reports), the budget callbacks' codes (a positive one becomes
 * PINHOLE_EIO), PINHOLE_EFORMAT (load gave a negative or non-finite amount),
 * PINHOLE_EUNSUPPORTED (no randomizer for the mechanism). On error nothing is charged (unless the
 * budget's store callback failed) and no report is left in out (what was written is zeroed). */
PINHOLE_API int pinhole_client_report_batch(pinhole_client *cl, const pinhole_collection *col,
                                            const uint64_t *values, size_t n, uint64_t unix_seconds,
                                            unsigned flags, uint8_t *out, size_t cap,
                                            size_t *written);
/* ---- multi-attribute collections: d attributes per device, one sampled pair reported ---- */

/** A multi-attribute collection as a device sees it (docs/multi-attribute.md): d categorical
 * attributes, attribute j taking values 0..k[j]-1; each pair (j, l), j < l, numbered p = 0, 1, ...
 * in lexicographic order (one "pair", attribute 0, when d = 1), is an ordinary collection over the
 * k_j k_l cells of its product domain. Opaque, read-only once made (share it). */
typedef struct pinhole_multi pinhole_multi;

/** Make a multi-attribute collection from the server's signed configs of its pair collections:
 * signed_configs[p], PINHOLE_CONFIG_SIGNEDBYTES bytes each, the config of pair p (as served at the
 * "config" URL of pair p in GET /v1/collections/{id} of the multi-attribute collection), each
 * verified against the server's Ed25519 key server_pk (PINHOLE_CONFIG_PUBLICKEYBYTES) and checked
 * against the attributes (its k is k_j k_l; mechanism and epsilon as pair 0's). k[0..d) are the
 * attributes' domain sizes. *out receives it; free with pinhole_multi_free().
 * Errors: PINHOLE_EINVAL (d = 0 or > 64, a k outside 2..256, a product k_j k_l > 4096, a config
 * whose k, mechanism or epsilon does not fit), those of pinhole_collection_new_signed()
 * (PINHOLE_ESIGNATURE for a bad signature), PINHOLE_ENOMEM. On error *out is NULL. */
PINHOLE_API int pinhole_multi_new_signed(pinhole_multi **out, uint32_t d, const uint32_t *k,
                                         const uint8_t *const *signed_configs,
                                         const uint8_t *server_pk);

/** Make a local multi-attribute collection (for simulations and tests): pair p is a local
 * collection with id base_id + p over k_j k_l cells, mechanism and the whole epsilon. Errors:
 * PINHOLE_EINVAL (as above, or base_id + pairs overflowing), those of
 * pinhole_collection_new_params(), PINHOLE_ENOMEM. On error *out is NULL. */
PINHOLE_API int pinhole_multi_new_params(pinhole_multi **out, uint64_t base_id, uint32_t d,
                                         const uint32_t *k, pinhole_mechanism_id mechanism,
                                         double epsilon);

/** Release a multi-attribute collection; NULL is allowed. */
PINHOLE_API void pinhole_multi_free(pinhole_multi *mc);

/** Number of pairs: d(d-1)/2, or 1 when d = 1. */
PINHOLE_API uint32_t pinhole_multi_pairs(const pinhole_multi *mc);

/** The attributes (*j, *l) of pair p (j < l; j = l = 0 when d = 1). Errors: PINHOLE_ERANGE (p >=
 * the number of pairs). */
PINHOLE_API int pinhole_multi_pair(const pinhole_multi *mc, uint32_t p, uint32_t *j, uint32_t *l);

/** Pair p's collection (owned by mc): its id says where a report of that pair is POSTed
 * (pinhole_collection_id), its pinhole_collection_reportbytes() the report's size. NULL when p >=
 * the number of pairs. */
PINHOLE_API const pinhole_collection *pinhole_multi_collection(const pinhole_multi *mc, uint32_t p);

/** The largest report of any pair, bytes: a buffer this big holds any pinhole_multi_report(). */
PINHOLE_API size_t pinhole_multi_reportbytes(const pinhole_multi *mc);

/** The device's report of its d-tuple values[0..d): a pair p drawn independently of the values
 * (uniformly, by the operating system's random source; with PINHOLE_REPORT_MEMOIZE, which needs a
 * device secret, derived from the device secret and pair 0's fingerprint, so a device reports the
 * same pair every time), then the cell values[j] k_l + values[l] of that pair reported through
 * pair p's collection by pinhole_client_report() (privacy policy, budget and memoization as there:
 * the report is charged the collection's epsilon once, and is epsilon-LDP for the whole tuple).
 * *pair (may be NULL) receives p; the report carries pair p's collection id. Every value is
 * range-checked, also those of attributes outside the pair. Errors: PINHOLE_ERANGE (a values[j] >=
 * k[j]), PINHOLE_EINVAL (MEMOIZE without a device secret, unknown flags), and those of
 * pinhole_client_report() (PINHOLE_EPOLICY, PINHOLE_EBUFSIZE, ...). No allocation. */
PINHOLE_API int pinhole_multi_report(pinhole_client *cl, const pinhole_multi *mc,
                                     const uint32_t *values, uint64_t unix_seconds, unsigned flags,
                                     uint8_t *out, size_t cap, size_t *written, uint32_t *pair);

/** As pinhole_multi_report(), then sealed to the server's X25519 public key (server_pk,
 * PINHOLE_SEAL_PUBLICKEYBYTES) as pinhole_client_report_sealed() does: out receives the drawn
 * pair's pinhole_collection_sealedbytes() bytes (at most pinhole_multi_reportbytes() + 48).
 * Errors: those of pinhole_multi_report(), and PINHOLE_ESIGNATURE (server_pk is not a usable
 * key). */
PINHOLE_API int pinhole_multi_report_sealed(pinhole_client *cl, const pinhole_multi *mc,
                                            const uint32_t *values, uint64_t unix_seconds,
                                            unsigned flags, const uint8_t *server_pk, uint8_t *out,
                                            size_t cap, size_t *written, uint32_t *pair);

/* ---- labels: the collection's item names ---- */

/** Whether the collection's signed config commits to a label list (a version 2 config). */
PINHOLE_API int pinhole_collection_has_labels(const pinhole_collection *col);

/** A collection's labels, verified and indexed: opaque, read-only once made (share it). */
typedef struct pinhole_labels pinhole_labels;

/** Verify the collection's label list (the canonical list of docs/protocol.md §4.5, as served by
 * GET /v1/collections/{id}/labels) against the hash the collection's signed config commits to,
 * and index it; the list is copied. Costs O(k log k) time and about 48 k bytes plus the list.
 * Errors: PINHOLE_ENOTFOUND (the collection has no labels), PINHOLE_EINVAL (list NULL),
 * PINHOLE_ESIGNATURE (the list is not the one the config commits to), PINHOLE_ETRUNCATED /
 * PINHOLE_ETOOBIG / PINHOLE_EFORMAT (a malformed list, not k labels, a repeated label),
 * PINHOLE_ENOMEM. On error *out is NULL. */
PINHOLE_API int pinhole_labels_new(pinhole_labels **out, const pinhole_collection *col,
                                   const uint8_t *list, size_t len);

/** Release the labels; NULL is allowed. */
PINHOLE_API void pinhole_labels_free(pinhole_labels *lab);

/** Number of labels, the collection's k. */
PINHOLE_API uint64_t pinhole_labels_count(const pinhole_labels *lab);

/** The item of the label label[0..len) (bytes, compared exactly; no NUL needed) into *item: its
 * index, or the collection's designated "other" item for a label not in the list if the
 * collection has one. O(log k). Errors: PINHOLE_ENOTFOUND (not a label of the collection, and no
 * "other" item), PINHOLE_EINVAL (label NULL). */
PINHOLE_API int pinhole_labels_index(const pinhole_labels *lab, const char *label, size_t len,
                                     uint64_t *item);

/** The label of item: *label points into the labels (not NUL-terminated), *len its bytes.
 * Errors: PINHOLE_ERANGE (item >= k). */
PINHOLE_API int pinhole_labels_get(const pinhole_labels *lab, uint64_t item, const char **label,
                                   size_t *len);

/* ---- the outbox: batches to POST ---- */

/** Reports of one collection waiting to be posted, grouped into batches (docs/protocol.md §3) of
 * at most max_batch_bytes each and at most PINHOLE_BATCH_MAXCOUNT reports and 16 distinct time
 * units (the server's limit per batch). Opaque; not thread-safe. The exchange (docs/client.md):
 *     while (pinhole_outbox_next(ob, &body, &len)) {
 *         status = POST body to /v1/collections/{id}/reports as application/octet-stream
 *                  (0 when no HTTP answer came: no network, timeout, connection reset)
 *         if (pinhole_http_should_retry(status)) break;  // same bytes later: safe, the server
 *                                                        // acknowledges repeats as duplicates
 *         pinhole_outbox_done(ob);                       // 2xx, or an answer a retry cannot change
 *     }
 * The batch bytes are also what to save to storage for a POST after a restart. */
typedef struct pinhole_outbox pinhole_outbox;

/** Flags of pinhole_outbox_new(). */
enum {
    PINHOLE_OUTBOX_SEALED = 1, /* the reports are sealed (pinhole_client_report_sealed) */
};

/** Make an outbox for reports of col (plain, or sealed with PINHOLE_OUTBOX_SEALED), batches of at
 * most max_batch_bytes bytes (keep it at or below the server's max_body_bytes, 8 MiB by default;
 * 64 KiB suits a phone). The outbox keeps col's id and time precision, not col itself.
 * Errors: PINHOLE_EINVAL (unknown flags; max_batch_bytes below one report's batch,
 * 8 + 4 + pinhole_collection_reportbytes() or _sealedbytes()), PINHOLE_ENOMEM. */
PINHOLE_API int pinhole_outbox_new(pinhole_outbox **out, const pinhole_collection *col,
                                   unsigned flags, size_t max_batch_bytes);

/** Release the outbox and every report in it; NULL is allowed. */
PINHOLE_API void pinhole_outbox_free(pinhole_outbox *ob);

/** Copy one report (as written by pinhole_client_report(), or _sealed() for a sealed outbox)
 * made for unix_seconds into the outbox. A report that does not fit the open batch (size, count,
 * or a 17th time unit) starts a new one. Errors: PINHOLE_EINVAL (report NULL, len 0),
 * PINHOLE_ETOOBIG (longer than the batch kind allows, or than one batch of max_batch_bytes),
 * PINHOLE_ENOMEM (the outbox is unchanged). */
PINHOLE_API int pinhole_outbox_add(pinhole_outbox *ob, const uint8_t *report, size_t len,
                                   uint64_t unix_seconds);

/** Reports in the outbox, and the bytes of their batches. */
PINHOLE_API size_t pinhole_outbox_pending(const pinhole_outbox *ob);
PINHOLE_API size_t pinhole_outbox_pending_bytes(const pinhole_outbox *ob);

/** The oldest batch to POST: *body and *len receive its bytes (owned by the outbox, valid until
 * pinhole_outbox_done() or _free(); adding reports does not move them). Returns 1, or 0 with
 * *body NULL and *len 0 when the outbox is empty. Until pinhole_outbox_done() it returns the same
 * batch, byte for byte. */
PINHOLE_API int pinhole_outbox_next(pinhole_outbox *ob, const uint8_t **body, size_t *len);

/** Drop the batch pinhole_outbox_next() returned, once the server has answered it for good. */
PINHOLE_API void pinhole_outbox_done(pinhole_outbox *ob);

/** The retry rule for an answer to a report POST: 1 (keep the batch, POST the same bytes again
 * later, after Retry-After if the answer has one) for 0 (no HTTP answer), 408, 429, 500, 502, 503
 * and 504; 0 (pinhole_outbox_done) for everything else: 2xx (stored; reports the server refused
 * are listed in its answer and would be refused again), 400, 401, 403, 404, 413, 415, 422. */
PINHOLE_API int pinhole_http_should_retry(int status);

/* ---- discovery: frequent strings nobody listed (docs/discovery.md) ---- */

#define PINHOLE_DISCOVERY_MAXLEN 32u /* longest device string of a discovery collection, bytes */

/** A round of a discovery collection, verified: its candidate table and its frequency oracle's
 * collection. Opaque, read-only once made (share it). */
typedef struct pinhole_discovery_round pinhole_discovery_round;

/** Verify the server's signed round config in[0..len) (its canonical bytes, then an Ed25519
 * signature: docs/protocol.md, "Discovery round configs") against the server's config key server_pk
 * (PINHOLE_CONFIG_PUBLICKEYBYTES, the same key that signs collection configs), then copy its
 * candidate table and build the round's frequency oracle. *out receives the round; free it with
 * pinhole_discovery_round_free(). Costs the table's bytes (at most 2 MiB) plus the oracle's tables.
 * Errors: PINHOLE_ETRUNCATED (shorter than a round config), PINHOLE_ESIGNATURE (the signature does
 * not verify; nothing is decoded), PINHOLE_EVERSION, PINHOLE_ETOOBIG, PINHOLE_EFORMAT (a malformed
 * config or table), PINHOLE_EUNSUPPORTED / PINHOLE_EINVAL / PINHOLE_EOVERFLOW (an oracle this
 * library cannot build), PINHOLE_ENOMEM. On error *out is NULL. */
PINHOLE_API int pinhole_discovery_round_new_signed(pinhole_discovery_round **out, const uint8_t *in,
                                                   size_t len, const uint8_t *server_pk);

/** Release a round; NULL is allowed. */
PINHOLE_API void pinhole_discovery_round_free(pinhole_discovery_round *r);

/** The round's index within its discovery collection (0 for the first round). */
PINHOLE_API uint32_t pinhole_discovery_round_index(const pinhole_discovery_round *r);

/** The round's collection: the frequency oracle its reports belong to (its own collection id,
 * epsilon, report size). Use it for pinhole_collection_reportbytes() and an outbox
 * (pinhole_outbox_new()) whose batches go to POST /v1/collections/{its id}/reports. Owned by the
 * round: valid until pinhole_discovery_round_free(). */
PINHOLE_API const pinhole_collection *
pinhole_discovery_round_collection(const pinhole_discovery_round *r);

/** Check a device string s[0..len) as pinhole_discovery_report() would. Errors: PINHOLE_EINVAL
 * (len 0: the empty string is refused), PINHOLE_ETOOBIG (len > PINHOLE_DISCOVERY_MAXLEN),
 * PINHOLE_EFORMAT (not well-formed UTF-8, or a NUL byte). */
PINHOLE_API int pinhole_discovery_check(const uint8_t *s, size_t len);

/** Report the device's string s[0..len) (UTF-8 bytes, 1..PINHOLE_DISCOVERY_MAXLEN, no NUL) into
 * the round: the string is mapped, on the device, to the item of the round's domain it falls in
 * (its candidate prefix and next bytes, or "other"), and that item is reported as
 * pinhole_client_report() does for the round's collection (privacy policy, budget, flags; charged
 * the round's epsilon); out receives pinhole_collection_reportbytes(round collection) bytes. A
 * device takes part in one round of a discovery collection only: its user-level epsilon is then
 * the round's. Timing depends on len (the bytes are copied into a padded buffer) and on the
 * round's public table size, not on the bytes (docs/discovery.md, "Timing").
 * Errors: those of pinhole_discovery_check(), then those of pinhole_client_report(). No
 * allocation. */
PINHOLE_API int pinhole_discovery_report(pinhole_client *cl, const pinhole_discovery_round *r,
                                         const uint8_t *s, size_t len, uint64_t unix_seconds,
                                         unsigned flags, uint8_t *out, size_t cap, size_t *written);

/** As pinhole_discovery_report(), then sealed to the server's X25519 key as
 * pinhole_client_report_sealed() does. Errors: those of pinhole_discovery_report(), and
 * PINHOLE_ESIGNATURE (server_pk is not a usable key). No allocation. */
PINHOLE_API int pinhole_discovery_report_sealed(pinhole_client *cl,
                                                const pinhole_discovery_round *r, const uint8_t *s,
                                                size_t len, uint64_t unix_seconds, unsigned flags,
                                                const uint8_t *server_pk, uint8_t *out, size_t cap,
                                                size_t *written);

#ifdef __cplusplus
}
#endif

#endif
