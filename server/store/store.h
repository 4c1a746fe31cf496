/* The storage interface of the server: one opaque handle, opened by URL, through which the service
 * keeps collections, the server's keys, reports with their per-time-bucket count vectors, and the
 * analytics job queue, and the state of discovery collections' rounds. What the operations promise
 * is written here; how a backend keeps it is the backend's (server/store/backend.h declares the
 * table of functions a backend supplies; server/store/sqlite/ is the SQLite one).
 *
 * Promises every backend keeps:
 *   - a report is unique per (collection, report id); ingest tells an identical retry (duplicate)
 *     from a reuse of the id with other content (replay);
 *   - reports and counts change together, in one transaction, so the counts always equal a
 *     recount of the stored reports (pinhole_store_check verifies it);
 *   - a handle is used by one thread at a time; several handles on one store may be used at once
 *     (the writer holds one, each reader another), and only one handle ingests at a time.
 *
 * URLs: "postgresql://..." (or "postgres://...") names a PostgreSQL database where that backend
 * is built in; anything without a scheme is the path of an SQLite file (":memory:" is a private
 * in-memory database). */
#ifndef PINHOLE_SERVER_STORE_H
#define PINHOLE_SERVER_STORE_H

#include "server/store/collection.h"

#include <stddef.h>
#include <stdint.h>

typedef struct pinhole_store pinhole_store;

/** Options of pinhole_store_open(). Zero values take the defaults shown. */
typedef struct pinhole_store_options {
    int synchronous_normal; /* 0: every commit durable on return (fsync; the default) */
    int readonly;           /* open for reading only (query connections) */
    int write_nothing;      /* with readonly: write no data, not even SQLite's shared WAL index,
                               so that a store whose disk is full can still be read (SQLite: a WAL
                               left by a crash is then read into private memory at each read
                               transaction, slower; an empty -shm file is made when missing;
                               PostgreSQL: as readonly) */
    int cache_mib;          /* page cache per handle, MiB (default 64) */
    int busy_ms;            /* how long to wait for a lock held by another handle (default 5000) */
} pinhole_store_options;

/** Open the store named by url (creating it and its schema if missing, unless readonly).
 * *out receives the handle. Errors: PINHOLE_ENOSPACE (the disk is full: a read-write open would
 * have to write, e.g. to recover a WAL left by a crash; a write_nothing open may still work),
 * PINHOLE_EIO (cannot open, not a Pinhole database, schema error), PINHOLE_EINVAL (url too long
 * or malformed), PINHOLE_EUNSUPPORTED (a URL scheme no backend of this build serves),
 * PINHOLE_ENOMEM. On error *out is NULL. */
int pinhole_store_open(pinhole_store **out, const char *url, const pinhole_store_options *opt);

/** Close the handle and free it; safe on NULL. */
void pinhole_store_close(pinhole_store *s);

/** The name of the backend serving s ("sqlite", "postgresql"). */
const char *pinhole_store_backend_name(const pinhole_store *s);

/* ---- maintenance ---- */

/** When pinhole_store_maintain() runs. */
typedef enum pinhole_store_upkeep {
    PINHOLE_UPKEEP_AFTER_COMMIT, /* by the ingesting thread, between two transactions: cheap
                                    unless the backend must catch up (SQLite: a WAL grown past
                                    64 MiB is checkpointed) */
    PINHOLE_UPKEEP_PERIODIC,     /* every few seconds, from a thread of its own on its own handle
                                    (SQLite: a passive WAL checkpoint) */
    PINHOLE_UPKEEP_CLOSING,      /* once, by the last writer before it closes (SQLite: the WAL
                                    truncated) */
} pinhole_store_upkeep;

/** Run the backend's upkeep; *did (may be NULL) is set to 1 when work was done (a checkpoint).
 * Errors: PINHOLE_EDB. */
int pinhole_store_maintain(pinhole_store *s, pinhole_store_upkeep when, int *did);

/** What the garbage collector has done since the handle was opened (counters of the handle that
 * runs PINHOLE_UPKEEP_PERIODIC). */
typedef struct pinhole_store_gc_stats {
    uint64_t
        rows_removed; /* raw reports deleted (SQLite) or in dropped day partitions (PostgreSQL) */
    uint64_t bytes_removed; /* their bytes: report id and payload (SQLite), the partitions' on-disk
                               size (PostgreSQL) */
    uint64_t passes;        /* retirements of old days completed */
    double lag_seconds;     /* how long the pass under way has been running; 0 when caught up */
    uint64_t index_ids;     /* report ids in the in-memory replay index of the handle (SQLite's
                               ingesting handle; 0 elsewhere) */
    uint64_t index_bytes;   /* memory of that index */
} pinhole_store_gc_stats;

/** The garbage collector's counters of handle s (thread-safe: may be read while another thread
 * runs the upkeep on s). */
void pinhole_store_gc_read(pinhole_store *s, pinhole_store_gc_stats *out);

/** Bytes the store occupies on disk (SQLite: the file plus its WAL); 0 when unknown. */
uint64_t pinhole_store_disk_bytes(pinhole_store *s);

/* ---- collections ---- */

/** Create a collection: validate, reserve its id (one above every collection and multi-attribute
 * parent id so far), fill *c (fingerprint for that id), store it in
 * one transaction. created is Unix seconds. It has no report window (every time accepted) until
 * pinhole_store_set_window(); pinhole_store_create_collection_window() stores one with it.
 * Errors as pinhole_server_collection_init and PINHOLE_EDB. On error *c needs no freeing. */
int pinhole_store_create_collection(pinhole_store *s, pinhole_server_collection *c,
                                    const char *name, const pinhole_config_params *p,
                                    uint32_t time_precision, uint32_t min_reports,
                                    const char *const *labels);

/** pinhole_store_create_collection() with the report window and retention w (NULL: none) stored
 * in the same transaction (c->window = *w). Same errors. */
int pinhole_store_create_collection_window(pinhole_store *s, pinhole_server_collection *c,
                                           const char *name, const pinhole_config_params *p,
                                           uint32_t time_precision, uint32_t min_reports,
                                           const char *const *labels,
                                           const pinhole_collection_window *w);

/** Load every collection, ordered by id, into a fresh array *out of *n entries (each to be freed
 * with pinhole_server_collection_free, then the array with free()). Errors: PINHOLE_EDB
 * (including a stored collection whose parameters no longer configure or whose fingerprint no
 * longer matches them), PINHOLE_ENOMEM. */
int pinhole_store_load_collections(pinhole_store *s, pinhole_server_collection **out, size_t *n);

/** Store the report window and retention of collection id (loaded into c->window from then on;
 * a collection created without one has none: all zero). Errors: PINHOLE_ENOTFOUND, PINHOLE_EDB. */
int pinhole_store_set_window(pinhole_store *s, int64_t id, const pinhole_collection_window *w);

/** Close the time buckets of collection id below bucket `before` (>= 0, in units of its time
 * precision): once this returns, ingest refuses new reports of those buckets (PINHOLE_ECLOSED; an
 * identical retry of a stored one is still a DUPLICATE), in the same order as its transactions
 * (a batch being stored when the close came in is stored first), so their counts are final.
 * Closing only grows: *closed (may be NULL) receives the collection's first open bucket
 * afterwards, the larger of before and the one before the call. Errors: PINHOLE_ENOTFOUND (no
 * such collection, or being deleted), PINHOLE_EINVAL (before < 0), PINHOLE_EDB. */
int pinhole_store_close_buckets(pinhole_store *s, int64_t id, int64_t before, int64_t *closed);

/** The first open time bucket of collection id (the buckets below it are closed; 0 when none
 * is). Errors: PINHOLE_ENOTFOUND, PINHOLE_EDB. */
int pinhole_store_closed_before(pinhole_store *s, int64_t id, int64_t *closed);
/* ---- multi-attribute collections ---- */

/** A stored multi-attribute collection: a parent record over ordinary pair collections
 * (docs/multi-attribute.md). Its id is drawn from the collections' ids (no collection has it). */
typedef struct pinhole_multi_record {
    int64_t id;
    char *name;      /* malloc'd */
    char *spec;      /* JSON object text (malloc'd): attributes, pair collection ids, epsilon */
    int64_t created; /* Unix seconds */
} pinhole_multi_record;

/** Free the strings of a record; safe on a zeroed one. */
void pinhole_multi_record_free(pinhole_multi_record *r);

/** Store a multi-attribute collection's parent record (name, spec as above, created in Unix
 * seconds) under a new id, one above every collection and parent id so far; *id receives it.
 * Errors: PINHOLE_EDB, PINHOLE_EUNSUPPORTED (a backend without multi-attribute collections). */
int pinhole_store_create_multi(pinhole_store *s, const char *name, const char *spec,
                               int64_t created, int64_t *id);

/** Load every parent record, ordered by id, into a fresh array *out of *n entries (free each with
 * pinhole_multi_record_free, then the array with free(); NULL when *n is 0). Errors: PINHOLE_EDB,
 * PINHOLE_ENOMEM. */
int pinhole_store_load_multis(pinhole_store *s, pinhole_multi_record **out, size_t *n);

/** Delete collection id and everything under it (reports, counts, jobs). It disappears at once:
 * marked `deleting` in one transaction, it is no longer loaded; the garbage collector
 * (PINHOLE_UPKEEP_PERIODIC) then removes its rows in small transactions, and finishes after a
 * crash or restart. Errors: PINHOLE_ENOTFOUND (none, or already being deleted), PINHOLE_EDB. */
int pinhole_store_delete_collection(pinhole_store *s, int64_t id);

/* ---- server keys ---- */

/** The server's long-term keys: Ed25519 for signing collection configs, X25519 for opening sealed
 * reports. Kept in the store (so a backup keeps them); made on first use. seal_pk/seal_sk is the
 * current sealing key, the one the server publishes for clients to seal to; seal_other_pk/sk[0 ..
 * seal_others) are the other live sealing keys during a rotation (the previous one, then the next
 * one once prepared), tried in that order when the current one does not open a report. */
typedef struct pinhole_server_keys {
    uint8_t sign_pk[PINHOLE_CONFIG_PUBLICKEYBYTES], sign_sk[PINHOLE_CONFIG_SECRETKEYBYTES];
    uint8_t seal_pk[32], seal_sk[32];
    uint8_t seal_other_pk[2][32], seal_other_sk[2][32];
    int seal_others;
} pinhole_server_keys;

/** Load the server's keys, generating and storing the current ones when absent.
 * Errors: PINHOLE_EDB. */
int pinhole_store_server_keys(pinhole_store *s, pinhole_server_keys *k);

/** The key pairs that rotate (docs/operations.md, "Rotating the keys"): the config-signing key
 * (Ed25519) and the sealing key (X25519). Both have 32-byte public keys. */
typedef enum pinhole_key_family {
    PINHOLE_KEY_SIGNING,
    PINHOLE_KEY_SEALING,
} pinhole_key_family;
#define PINHOLE_KEY_PUBLICBYTES 32u

/** Rotation with an overlap. */
typedef enum pinhole_key_op {
    PINHOLE_KEY_SHOW,     /* change nothing */
    PINHOLE_KEY_PREPARE,  /* make the next key (kept if one is prepared already) */
    PINHOLE_KEY_ACTIVATE, /* next becomes current, current becomes previous */
    PINHOLE_KEY_RETIRE,   /* forget the previous key: its secret is overwritten, then deleted */
} pinhole_key_op;

/** Rotate a family's key: the public keys after op, pk[0] current, pk[1] next, pk[2] previous;
 * have[i] says which exist. Changes are one transaction and take effect when the server next
 * starts. Errors: PINHOLE_ENOTFOUND (ACTIVATE without a prepared key), PINHOLE_EPOLICY
 * (ACTIVATE while a previous key is kept: retire it first), PINHOLE_EUNSUPPORTED (a backend
 * without rotation), PINHOLE_EDB. */
int pinhole_store_rotate_key(pinhole_store *s, pinhole_key_family family, pinhole_key_op op,
                             uint8_t pk[3][PINHOLE_KEY_PUBLICBYTES], int have[3]);

/* ---- ingest ---- */

/** Outcome of one report in an ingest. */
typedef enum pinhole_report_status {
    PINHOLE_REPORT_PENDING = 0,
    PINHOLE_REPORT_ACCEPTED,  /* stored now */
    PINHOLE_REPORT_DUPLICATE, /* an identical report with this id was already stored:
                                 acknowledged */
    PINHOLE_REPORT_REPLAY,    /* this id was stored with other content: dropped */
    PINHOLE_REPORT_INVALID,   /* payload outside the mechanism's report alphabet: dropped */
    PINHOLE_REPORT_REJECTED,  /* refused before the store (decoding, fingerprint, ...): dropped */
} pinhole_report_status;

/** One decoded report, ready to store. payload points into memory owned by the caller. */
typedef struct pinhole_ingest_report {
    const pinhole_server_collection *coll;
    uint8_t id[PINHOLE_REPORT_ID_BYTES];
    int64_t bucket; /* time in the collection's precision units */
    const uint8_t *payload;
    uint32_t payload_len;
    pinhole_report_status status; /* in: REJECTED to skip; out: the outcome */
    int error;                    /* PINHOLE_E* code when INVALID or REJECTED */
} pinhole_ingest_report;

/** Get the handle ready to ingest (SQLite: build the in-memory index of stored report ids, one
 * scan of the reports). pinhole_store_ingest() does it on first use; the writer calls it at start
 * so that a restart pays it before listening. Errors: PINHOLE_EDB, PINHOLE_ENOMEM. */
int pinhole_store_ingest_prepare(pinhole_store *s);

/** Store reports r[0..n) in ONE transaction: each report not already marked REJECTED is appended
 * unless its (collection, report id) exists (then DUPLICATE when the stored bucket and payload are
 * identical, else REPLAY), folded into its bucket's count vector (INVALID, and removed again, when
 * the mechanism refuses the payload), and the touched counts and bucket totals are rewritten.
 * Statuses are final only when this returns PINHOLE_OK; on error the transaction is rolled back,
 * nothing is stored and every status is reset to PENDING. Only one handle may ingest into a store
 * at a time (the writer's). Errors: PINHOLE_ENOSPACE (the disk is full), PINHOLE_EDB (another
 * database error), PINHOLE_ENOMEM. */
int pinhole_store_ingest(pinhole_store *s, pinhole_ingest_report *r, size_t n);

/* ---- queries ---- */

/** Sum the count vectors of a collection's buckets in [from_bucket, to_bucket] (inclusive, time
 * units) into counts[0..c->cfg.counts_len) (zeroed first) and their report total into *n, both
 * from one snapshot. Errors: PINHOLE_EDB, PINHOLE_EFORMAT (stored counts of the wrong size). */
int pinhole_store_counts(pinhole_store *s, const pinhole_server_collection *c, int64_t from_bucket,
                         int64_t to_bucket, uint64_t *counts, uint64_t *n);

/** The time buckets in [from_bucket, to_bucket] (inclusive, time units) holding reports, in time
 * order: *bucket and *n receive malloc'd arrays of *count bucket numbers and report numbers (free
 * both; NULL when *count is 0). Errors: PINHOLE_EDB, PINHOLE_ENOMEM (nothing to free then). */
int pinhole_store_buckets(pinhole_store *s, int64_t collection, int64_t from_bucket,
                          int64_t to_bucket, int64_t **bucket, uint64_t **n, size_t *count);

/** Number of stored reports of a collection (all buckets). Errors: PINHOLE_EDB. */
int pinhole_store_report_total(pinhole_store *s, int64_t collection, uint64_t *n);

/** Consistency check: the backend's own integrity check, no (collection, report id) stored twice,
 * then for every collection a recount of its stored reports per bucket compared with the stored
 * count vectors and bucket totals. *problems receives the number of mismatches (0 when
 * consistent); a description of the first goes to msg. Errors: PINHOLE_EDB, PINHOLE_ENOMEM. */
int pinhole_store_check(pinhole_store *s, uint64_t *problems, char *msg, size_t msglen);

/* ---- analytics jobs ---- */

/** A job's state. */
typedef enum pinhole_job_state {
    PINHOLE_JOB_QUEUED,
    PINHOLE_JOB_RUNNING,
    PINHOLE_JOB_DONE,
    PINHOLE_JOB_FAILED,
    PINHOLE_JOB_CANCELED,
} pinhole_job_state;

/** The API name of a state: "queued", "running", "done", "failed", "canceled". */
const char *pinhole_job_state_name(pinhole_job_state st);

/** A stored job. Times are Unix seconds (wall clock), NAN when not set. */
typedef struct pinhole_job_record {
    int64_t id, collection_id;
    char type[64];    /* job type name (server/jobs/types.c) */
    int64_t from, to; /* time range, Unix seconds, [from, to) */
    char *params;     /* JSON object text (malloc'd) */
    pinhole_job_state state;
    double progress;   /* in [0, 1] */
    double time_limit; /* seconds */
    double created, started, finished;
    char *result; /* JSON text when done (malloc'd), else NULL */
    char *error;  /* message when failed (malloc'd), else NULL */
} pinhole_job_record;

/** Free the strings of a record; safe on a zeroed one. */
void pinhole_job_record_free(pinhole_job_record *r);

/** Settle the jobs a process left running when it died (now: Unix seconds): those whose
 * cancellation was asked become canceled, those started max_attempts times already fail (they may
 * be what kills the process), the others are queued again. Errors: PINHOLE_EDB. */
int pinhole_store_jobs_recover(pinhole_store *s, double now, int max_attempts);

/** Queue a job from r's collection_id, type, from, to, params, time_limit and created; *id
 * receives its id. Errors: PINHOLE_EDB, PINHOLE_EINVAL (type too long). */
int pinhole_store_job_enqueue(pinhole_store *s, const pinhole_job_record *r, int64_t *id);

/** Claim the oldest queued job: it becomes running, started = now, progress 0, one more attempt;
 * *r receives it (free with pinhole_job_record_free). Errors: PINHOLE_ENOTFOUND (nothing queued),
 * PINHOLE_EDB, PINHOLE_ENOMEM. */
int pinhole_store_job_claim(pinhole_store *s, double now, pinhole_job_record *r);

/** Record a running job's progress (fraction in [0, 1]); on PostgreSQL this renews the handle's
 * lease on it. Tells the job's holder whether to go on: PINHOLE_OK, or PINHOLE_ECANCELED when
 * cancelling it was asked (pinhole_store_job_request_cancel(), through any handle or replica):
 * stop and end it CANCELED. Errors: PINHOLE_ENOTFOUND (the job is not running, or on PostgreSQL
 * not under this handle's lease: another replica took it over or settled it; stop without ending
 * it), PINHOLE_EDB. */
int pinhole_store_job_progress(pinhole_store *s, int64_t id, double fraction);

/** End a job in state st at time finished: DONE stores result (JSON text) and progress 1, FAILED
 * stores error, CANCELED clears the error, QUEUED puts it back in the queue (progress 0, not
 * started: to run again at the next start). Errors: PINHOLE_EINVAL (st RUNNING), PINHOLE_EDB. */
int pinhole_store_job_finish(pinhole_store *s, int64_t id, pinhole_job_state st, double finished,
                             const char *result, const char *error);

/** Cancel a job that is still queued (nothing happens to a job in another state). Errors:
 * PINHOLE_EDB. */
int pinhole_store_job_cancel_queued(pinhole_store *s, int64_t id, double now);

/** Remember that cancelling the running job id was asked (nothing happens to a job in another
 * state): its holder, in this process or another replica, learns it at its next
 * pinhole_store_job_progress(), and a restart before it stops cancels it instead of running it
 * again. Errors: PINHOLE_EDB. */
int pinhole_store_job_request_cancel(pinhole_store *s, int64_t id);

/** The state of job id. Errors: PINHOLE_ENOTFOUND, PINHOLE_EDB. */
int pinhole_store_job_state(pinhole_store *s, int64_t id, pinhole_job_state *st);

/** A page of jobs, newest first: those of collection (every collection when collection < 0),
 * skipping the offset newest, at most limit of them, into a new array *out of *n records (free each
 * with pinhole_job_record_free, then the array with free(); *out is NULL when *n == 0) without
 * their results (result NULL; get one job for it); *total receives the number of jobs that match.
 * Errors: PINHOLE_EDB, PINHOLE_ENOMEM, PINHOLE_EUNSUPPORTED (a backend without job lists). */
int pinhole_store_job_list(pinhole_store *s, int64_t collection, uint64_t offset, uint32_t limit,
                           pinhole_job_record **out, size_t *n, uint64_t *total);

/** The whole job id into *r (free with pinhole_job_record_free). Errors: PINHOLE_ENOTFOUND,
 * PINHOLE_EDB, PINHOLE_ENOMEM. */
int pinhole_store_job_get(pinhole_store *s, int64_t id, pinhole_job_record *r);

/* ---- discovery collections ---- */

/** A discovery collection as stored (docs/discovery.md): its name, the state of its rounds (the
 * opaque bytes of pinhole_discovery_save(), server/analytics/discovery.h) and, for each round
 * opened so far in order, the id of the ordinary collection that round's reports go to. */
typedef struct pinhole_store_discovery {
    int64_t id;
    char name[PINHOLE_COLLECTION_NAME_MAX + 1];
    int64_t created; /* Unix seconds */
    uint8_t *state;  /* malloc'd, state_len bytes */
    size_t state_len;
    int64_t *round_collection; /* malloc'd: [r] = the collection of round r, nrounds entries */
    uint32_t nrounds;
} pinhole_store_discovery;

/** Free a record's arrays; safe on a zeroed one. */
void pinhole_store_discovery_free(pinhole_store_discovery *d);

/** Store a new discovery collection named name (at most PINHOLE_COLLECTION_NAME_MAX bytes) with
 * its first state state[0..len), its round 0 collecting into collection first (an existing
 * collection id), created at `created` (Unix seconds), in one transaction; *id receives its id.
 * Errors: PINHOLE_EINVAL (name NULL or too long, len 0, first <= 0), PINHOLE_EDB,
 * PINHOLE_EUNSUPPORTED (a backend that does not keep discovery collections; its
 * pinhole_store_discovery_load() then finds none). */
int pinhole_store_discovery_create(pinhole_store *s, const char *name, const uint8_t *state,
                                   size_t len, int64_t first, int64_t created, int64_t *id);

/** Replace discovery id's state with state[0..len) and, when next > 0, record that its next round
 * (index: the number of rounds recorded so far) collects into collection next, in one
 * transaction: a crash leaves either the old state and rounds or the new ones. Errors:
 * PINHOLE_EINVAL (len 0), PINHOLE_ENOTFOUND (no such discovery), PINHOLE_EDB,
 * PINHOLE_EUNSUPPORTED. */
int pinhole_store_discovery_save(pinhole_store *s, int64_t id, const uint8_t *state, size_t len,
                                 int64_t next);

/** Load every discovery collection, ordered by id, with its rounds, into a fresh array *out of *n
 * records (free each with pinhole_store_discovery_free, then the array with free(); *out is NULL
 * when *n is 0). Errors: PINHOLE_EDB (including rounds not numbered 0, 1, ...), PINHOLE_ENOMEM. */
int pinhole_store_discovery_load(pinhole_store *s, pinhole_store_discovery **out, size_t *n);

#endif
