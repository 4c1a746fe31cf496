/* The server's SQLite store: collections, reports (unique per collection and report id) and
 * per-time-bucket count vectors, in one database file in WAL mode.
 *
 * Tables (DESIGN.md §4):
 *   collections(id, name, mechanism, epsilon, k, q, t, time_precision, min_reports, fingerprint,
 *               labels, created)
 *   reports(seq, collection, report_id, bucket, payload)     an append-only log; (collection,
 *       report_id) is unique, enforced by the writer's in-memory index (server/store/idset.h)
 *   buckets(collection, bucket, n)                            reports per time bucket
 *   counts(collection, bucket, chunk, data)                   the count vector of a bucket, in
 *       chunks of PINHOLE_STORE_CHUNK values stored as little-endian uint64 (only chunks holding a
 *       nonzero count exist), so an ingest transaction rewrites only the chunks it touched.
 * Reports and counts change only together, in one transaction (pinhole_store_ingest), so the
 * counts always equal a recount of the stored reports (pinhole_store_check verifies it).
 *
 * A pinhole_store wraps one sqlite3 connection and is used by one thread at a time: the writer
 * thread owns one, each reader owns another (SQLite's WAL lets readers run during writes). */
#ifndef PINHOLE_SERVER_STORE_H
#define PINHOLE_SERVER_STORE_H

#include "common/mechanism.h"
#include "proto/config.h"

#include <stddef.h>
#include <stdint.h>

#define PINHOLE_STORE_CHUNK 256u /* count-vector values per stored chunk */
#define PINHOLE_REPORT_ID_BYTES PINHOLE_REPORT_IDBYTES
#define PINHOLE_COLLECTION_NAME_MAX 200u
/* Largest count vector a collection may need (2^27 entries, 1 GiB of 64-bit counts). */
#define PINHOLE_COUNTS_LEN_MAX (UINT64_C(1) << 27)
/* Largest domain size a server collection may have: every query holds several k-sized arrays
 * (estimates, variances, order), 800 MiB at 2^25. */
#define PINHOLE_K_SERVER_MAX (UINT64_C(1) << 25)

typedef struct sqlite3 sqlite3;

/** A collection as the server holds it: parameters, the configured mechanism, labels. Read-only
 * once loaded; shared between threads. */
typedef struct pinhole_collection {
    int64_t id;
    char name[PINHOLE_COLLECTION_NAME_MAX + 1];
    pinhole_config_params params;   /* as requested (q, t resolved to the planner's choice) */
    pinhole_collection_config wire; /* the canonical config (proto/config.h) clients verify */
    pinhole_config cfg;             /* the configured mechanism */
    uint32_t time_precision;        /* seconds per time unit of a report; 1..2^31 */
    uint32_t min_reports;           /* histogram refused while fewer reports are stored */
    uint8_t fingerprint[PINHOLE_FINGERPRINT_BYTES]; /* of the canonical config (proto/config.h) */
    char *labels_blob;  /* k labels, each NUL-terminated, back to back; NULL when none */
    const char **label; /* label[v] points into labels_blob; NULL when none */
    int64_t created;    /* Unix seconds */
} pinhole_collection;

/** Options of pinhole_store_open(). Zero values take the defaults shown. */
typedef struct pinhole_store_options {
    int synchronous_normal; /* 0: synchronous=FULL (fsync on every commit, the default) */
    int readonly;           /* open for reading only (query connections) */
    int cache_mib;          /* page cache per connection, MiB (default 64) */
} pinhole_store_options;

typedef struct pinhole_store {
    sqlite3 *db;
    void *stmt[16]; /* prepared statements, owned */
    char path[4096];
    struct pinhole_idset *ids; /* the writer's index of stored report ids, loaded on first ingest */
} pinhole_store;

/** Open (creating it and its schema if missing) the database at path in WAL mode with foreign
 * keys off, a 5 s busy timeout, and the options given. A database file it creates is mode 0600,
 * and so are its -wal and -shm files. Errors: PINHOLE_EIO (cannot open, not a
 * Pinhole database, schema error), PINHOLE_EINVAL (path too long). On error nothing is open. */
int pinhole_store_open(pinhole_store *s, const char *path, const pinhole_store_options *opt);

/** Finalize statements and close the connection; safe on a zeroed or closed store. */
void pinhole_store_close(pinhole_store *s);

/** Run a passive WAL checkpoint (PRAGMA wal_checkpoint(PASSIVE)); *wal_frames receives the WAL size
 * in frames when not NULL. Errors: PINHOLE_EDB. */
int pinhole_store_checkpoint(pinhole_store *s, int truncate, int *wal_frames);

/** Bytes of the database file plus its WAL (0 when they cannot be stat'ed). */
uint64_t pinhole_store_disk_bytes(const pinhole_store *s);

/* ---- collections ---- */

/** Fill c from parameters: configures the mechanism, builds the canonical config and its
 * fingerprint (proto/config.h; the id is part of both). labels (may be NULL) are k NUL-terminated
 * strings, copied. Errors: PINHOLE_EINVAL (bad parameters, time_precision 0, name too long),
 * PINHOLE_ETOOBIG (k above PINHOLE_K_SERVER_MAX or the mechanism's count vector above
 * PINHOLE_COUNTS_LEN_MAX entries),
 * PINHOLE_EUNSUPPORTED, PINHOLE_EOVERFLOW, PINHOLE_ENOMEM. Free with pinhole_collection_free(). */
int pinhole_collection_init(pinhole_collection *c, int64_t id, const char *name,
                            const pinhole_config_params *p, uint32_t time_precision,
                            uint32_t min_reports, const char *const *labels, int64_t created);

/** Release a collection's configuration and labels; safe on a zeroed struct. */
void pinhole_collection_free(pinhole_collection *c);

/** Create a collection: validate, reserve its id, fill *c (fingerprint for that id), store it in
 * one transaction. Errors as
 * pinhole_collection_init and PINHOLE_EDB. On error *c needs no freeing. */
int pinhole_store_create_collection(pinhole_store *s, pinhole_collection *c, const char *name,
                                    const pinhole_config_params *p, uint32_t time_precision,
                                    uint32_t min_reports, const char *const *labels);

/** The server's long-term keys: Ed25519 for signing collection configs, X25519 for opening sealed
 * reports. Stored in the database (table server_keys, so a backup of the file keeps them); made
 * on first use. */
typedef struct pinhole_server_keys {
    uint8_t sign_pk[PINHOLE_CONFIG_PUBLICKEYBYTES], sign_sk[PINHOLE_CONFIG_SECRETKEYBYTES];
    uint8_t seal_pk[32], seal_sk[32];
} pinhole_server_keys;

/** Load the server's keys, generating and storing them when absent. Errors: PINHOLE_EDB. */
int pinhole_store_server_keys(pinhole_store *s, pinhole_server_keys *k);

/** Signing-key rotation with an overlap (docs/operations.md, "Rotating the signing key"). */
typedef enum pinhole_signing_key_op {
    PINHOLE_SIGNING_KEY_SHOW,     /* change nothing */
    PINHOLE_SIGNING_KEY_PREPARE,  /* make the next key (kept if one is prepared already) */
    PINHOLE_SIGNING_KEY_ACTIVATE, /* next becomes current, current becomes previous */
    PINHOLE_SIGNING_KEY_RETIRE,   /* forget the previous key */
} pinhole_signing_key_op;

/** The signing public keys after op: pk[0] current, pk[1] next, pk[2] previous; have[i] says
 * which exist. Changes are one transaction and take effect when the server next starts.
 * Errors: PINHOLE_ENOTFOUND (ACTIVATE without a prepared key), PINHOLE_EDB. */
int pinhole_store_signing_key(pinhole_store *s, pinhole_signing_key_op op,
                              uint8_t pk[3][PINHOLE_CONFIG_PUBLICKEYBYTES], int have[3]);

/** Load every collection, ordered by id, into a fresh array *out of *n entries (each to be freed
 * with pinhole_collection_free, then the array with free()). Errors: PINHOLE_EDB (including a
 * stored collection whose parameters no longer configure), PINHOLE_ENOMEM. */
int pinhole_store_load_collections(pinhole_store *s, pinhole_collection **out, size_t *n);

/* ---- ingest ---- */

/** Outcome of one report in an ingest. */
typedef enum pinhole_report_status {
    PINHOLE_REPORT_PENDING = 0,
    PINHOLE_REPORT_ACCEPTED,  /* stored now */
    PINHOLE_REPORT_DUPLICATE, /* an identical report with this id was already stored: acknowledged
                               */
    PINHOLE_REPORT_REPLAY,    /* this id was stored with other content: dropped */
    PINHOLE_REPORT_INVALID,   /* payload outside the mechanism's report alphabet: dropped */
    PINHOLE_REPORT_REJECTED,  /* refused before the store (decoding, fingerprint, ...): dropped */
} pinhole_report_status;

/** One decoded report, ready to store. payload points into memory owned by the caller. */
typedef struct pinhole_ingest_report {
    const pinhole_collection *coll;
    uint8_t id[PINHOLE_REPORT_ID_BYTES];
    int64_t bucket; /* time in the collection's precision units */
    const uint8_t *payload;
    uint32_t payload_len;
    pinhole_report_status status; /* in: REJECTED to skip; out: the outcome */
    int error;                    /* PINHOLE_E* code when INVALID or REJECTED */
} pinhole_ingest_report;

/** Scratch memory reused across ingests (dense per-bucket count deltas). Zero-initialise. */
typedef struct pinhole_ingest_scratch {
    struct pinhole_delta *delta;
    size_t ndelta, cap;
    uint64_t *hash; /* index hashes of a transaction's reports */
    size_t hcap;
} pinhole_ingest_scratch;

/** Free the scratch; safe on a zeroed struct. */
void pinhole_ingest_scratch_free(pinhole_ingest_scratch *sc);

/** (Re)build the index of stored report ids from the reports table: one scan, 23-46 bytes of
 * memory per stored report. pinhole_store_ingest() calls it on first use; the writer calls it at
 * start so that a restart pays it before listening. Errors: PINHOLE_EDB, PINHOLE_ENOMEM. */
int pinhole_store_load_ids(pinhole_store *s);

/** Store reports r[0..n) in ONE transaction (BEGIN IMMEDIATE ... COMMIT): each report not already
 * marked REJECTED is appended unless its (collection, report id) exists (then DUPLICATE when the
 * stored bucket and payload are identical, else REPLAY), folded into its bucket's count vector
 * (INVALID, and removed again, when the mechanism refuses the payload), and the touched count
 * chunks and bucket totals are rewritten. Statuses are final only when this returns PINHOLE_OK;
 * on error the transaction is rolled back, nothing is stored and every status is reset to PENDING.
 * The first call loads the index of stored report ids (one scan of the reports table). Only one
 * connection may ingest into a database (the writer's).
 * Errors: PINHOLE_EDB (SQLite error, disk full, ...), PINHOLE_ENOMEM. */
int pinhole_store_ingest(pinhole_store *s, pinhole_ingest_scratch *sc, pinhole_ingest_report *r,
                         size_t n);

/* ---- queries ---- */

/** Sum the count vectors of a collection's buckets in [from_bucket, to_bucket] (inclusive, time
 * units) into counts[0..c->cfg.counts_len) (zeroed first) and their report total into *n.
 * Errors: PINHOLE_EDB, PINHOLE_EFORMAT (a stored chunk of the wrong size). */
int pinhole_store_counts(pinhole_store *s, const pinhole_collection *c, int64_t from_bucket,
                         int64_t to_bucket, uint64_t *counts, uint64_t *n);

/** The time buckets in [from_bucket, to_bucket] (inclusive, time units) holding reports, in time
 * order: *bucket and *n receive malloc'd arrays of *count bucket numbers and report numbers (free
 * both; NULL when *count is 0). Errors: PINHOLE_EDB, PINHOLE_ENOMEM (nothing to free then). */
int pinhole_store_buckets(pinhole_store *s, int64_t collection, int64_t from_bucket,
                          int64_t to_bucket, int64_t **bucket, uint64_t **n, size_t *count);

/** Number of stored reports of a collection (all buckets). Errors: PINHOLE_EDB. */
int pinhole_store_report_total(pinhole_store *s, int64_t collection, uint64_t *n);

/** Consistency check: PRAGMA integrity_check, no (collection, report id) stored twice, then for
 * every collection a recount of its stored
 * reports per bucket compared with the stored count vectors and bucket totals. *problems receives
 * the number of mismatches (0 when consistent); a description of the first goes to msg.
 * Errors: PINHOLE_EDB, PINHOLE_ENOMEM. */
int pinhole_store_check(pinhole_store *s, uint64_t *problems, char *msg, size_t msglen);

#endif
