/* The SQLite backend's handle and the helpers its files share (not for use outside
 * server/store/sqlite/).
 *
 * Tables, in one database file in WAL mode:
 *   collections(id, name, mechanism, epsilon, k, q, t, time_precision, min_reports, fingerprint,
 *               labels, created, max_report_age, max_clock_skew, keep_reports, deleting,
 *               closed_before)
 *       deleting: 0 live, 1 being deleted by the garbage collector, 2 deleted (a tombstone)
 *       closed_before: the first open time bucket (the ones below are closed)
 *   reports(seq, collection, report_id, bucket, payload)     an append-only log; (collection,
 *       report_id) is unique, enforced by the in-memory index of the ingesting handle (idset.h)
 *   buckets(collection, bucket, n)                            reports per time bucket
 *   counts(collection, bucket, chunk, data)                   the count vector of a bucket, in
 *       chunks of PINHOLE_SQLITE_CHUNK values stored as little-endian uint64 (only chunks holding
 *       a nonzero count exist), so an ingest transaction rewrites only the chunks it touched
 *   server_keys(name, pk, sk)                                 the server's key pairs
 *   gc_state(id = 1, retired_day)                             the newest retired day (gc.c)
 *   jobs(id, collection_id, type, t_from, t_to, params, status, progress, time_limit, created,
 *        started, finished, result, error, attempts)          the analytics job queue
 *
 * Files: open.c (schema, connections, maintenance), collections.c, keys.c, ingest.c (with the id
 * index), queries.c, check.c, jobs.c, gc.c (retention). */
#ifndef PINHOLE_SERVER_STORE_SQLITE_H
#define PINHOLE_SERVER_STORE_SQLITE_H

#include "server/store/backend.h"
#include "server/store/delta.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>

#define PINHOLE_SQLITE_CHUNK 256u /* count-vector values per stored chunk */

/* WAL size (4 KiB frames) beyond which the ingesting handle checkpoints between transactions:
 * 64 MiB. */
#define PINHOLE_SQLITE_WAL_RESTART_FRAMES 16384u

/* Prepared statements, made once per connection. */
enum {
    SQ_INSERT,
    SQ_SELECT,
    SQ_DELETE,
    SQ_CHUNK_GET,
    SQ_CHUNK_PUT,
    SQ_BUCKET_ADD,
    SQ_BEGIN,
    SQ_COMMIT,
    SQ_ROLLBACK,
    SQ_RANGE,
    SQ_RANGE_N,
    SQ_TOTAL,
    SQ_BUCKETS,
    SQ_RETIRED,
    SQ_STATE,
    SQ_COUNT
};

/* Scratch memory of the ingesting handle, reused across transactions. */
typedef struct sqlite_ingest_scratch {
    pinhole_count_deltas deltas; /* dense per-(collection, bucket) count deltas */
    uint64_t *hash;              /* index hashes of a transaction's reports */
    size_t hcap;
    /* the state of the collection of the latest report looked at, read inside the transaction */
    int64_t state_of;      /* its id (0: none read yet in this transaction) */
    int live;              /* 1: not being deleted */
    int64_t closed_before; /* its first open time bucket */
} sqlite_ingest_scratch;

typedef struct sqlite_store {
    pinhole_store base;
    sqlite3 *db;
    sqlite3_stmt *stmt[SQ_COUNT];
    char path[4096];
    int readonly;
    struct pinhole_idset *ids; /* index of stored report ids, built on first ingest */
    uint64_t phantom_ids;      /* ids kept in it from transactions that failed on a full disk */
    sqlite_ingest_scratch scratch;
    uint64_t wal_frames; /* WAL frames after this connection's last commit (sqlite3_wal_hook) */
    int64_t ids_horizon; /* ids holds no report of a day <= this; such reports are refused */
    struct {
        int64_t checked_day; /* when the windows were last looked at, for the id index */
        double next_check;   /* monotonic */
        int started, active; /* a deletion pass was started by this handle / is under way */
        int64_t seq, end;    /* the pass has looked at the rows up to seq, and stops at end */
        int64_t dropping;    /* the collection being deleted by the deletion pass (0: none) */
        int64_t dseq, dend;  /* that pass's rows looked at, and its end */
        _Atomic uint64_t rows, bytes, passes;
        _Atomic uint64_t index_ids, index_bytes; /* the id index, after each transaction */
        _Atomic double pass_since; /* wall-clock start of the pass under way, 0 when none */
    } gc;
} sqlite_store;

/* Make room for one more element at index len of an array of elem-byte elements with *cap slots,
 * doubling it (8 at first) when it is full: the load functions' row arrays. Returns the array
 * (moved when it grew), or NULL when memory ran out (then arr is still valid and *cap unchanged).
 */
static inline void *sqlite_reserve(void *arr, size_t *cap, size_t len, size_t elem)
{
    if (len < *cap)
        return arr;
    const size_t want = *cap ? 2 * *cap : 8;
    void *bigger = realloc(arr, want * elem);
    if (bigger)
        *cap = want;
    return bigger;
}

static inline sqlite_store *sqlite_of(pinhole_store *s)
{
    return (sqlite_store *)s;
}

/* The PINHOLE_E* code of db's latest failure: PINHOLE_ENOSPACE when the disk was full (SQLITE_FULL,
 * or an I/O error whose system error was ENOSPC or EDQUOT), else PINHOLE_EDB. Call it before
 * anything else runs on db (a ROLLBACK clears the error). */
int pinhole_sqlite_error(sqlite3 *db);

/* Step a statement that returns no row, then reset it: PINHOLE_OK or PINHOLE_EDB. */
int pinhole_sqlite_step_done(sqlite3_stmt *q);

/* Fills elem (zeroed) from the current row of q: PINHOLE_OK, or an error after releasing whatever
 * it allocated in elem (elem is then not kept). ctx is pinhole_sqlite_load_rows's. */
typedef int (*sqlite_row_reader)(sqlite3_stmt *q, void *elem, void *ctx);

/* Read every row of q (prepared and bound) into a new array of elem-byte elements, one a row in
 * order, each filled by read; q is finalized. On success *out (malloc'd, the caller frees it and
 * each element; NULL when there is no row) and *n (its length) are set. Errors, with *out NULL and
 * *n 0, every element read so far released with release: read's error (whatever it returns),
 * PINHOLE_ENOMEM (the array could not grow), PINHOLE_EDB (a step failed). */
int pinhole_sqlite_load_rows(sqlite3_stmt *q, size_t elem, sqlite_row_reader read,
                             void (*release)(void *elem), void *ctx, void **out, size_t *n);

/* Release the ingest state (id index, scratch) of a handle. */
void pinhole_sqlite_ingest_free(sqlite_store *s);

/* The Unix day of a report's bucket (of its last second): reports of retired days are refused. */
int64_t pinhole_sqlite_day_of(uint32_t time_precision, int64_t bucket);

/* The newest retired day (INT64_MIN when none): PINHOLE_OK or PINHOLE_EDB. */
int pinhole_sqlite_retired(sqlite_store *s, int64_t *day);

/* Inside an ingest transaction: catch up with the days the garbage collector retired (their ids
 * leave the index, their reports are refused from now on). PINHOLE_EDB, PINHOLE_ENOMEM. */
int pinhole_sqlite_gc_follow(sqlite_store *s);

/* The ingesting handle's part of the garbage collector (between transactions): drop the ids of
 * days that left every window from the id index. PINHOLE_EDB, PINHOLE_ENOMEM. */
int pinhole_sqlite_gc_index(sqlite_store *s);

/* Publish the id index's size to pinhole_store_gc_read (after each change). */
void pinhole_sqlite_gc_index_size(sqlite_store *s);

/* The periodic part: retire the days that left every window, then delete their raw reports, a few
 * small transactions per call; *did set when rows went. PINHOLE_EDB. */
int pinhole_sqlite_gc_collect(sqlite_store *s, int *did);

/* The operations, by file. */
void pinhole_sqlite_gc_stats(pinhole_store *s, pinhole_store_gc_stats *st);
int pinhole_sqlite_create_collection(pinhole_store *s, pinhole_server_collection *c,
                                     const char *name, const pinhole_config_params *p,
                                     uint32_t time_precision, uint32_t min_reports,
                                     const char *const *labels, const pinhole_collection_window *w);
int pinhole_sqlite_load_collections(pinhole_store *s, pinhole_server_collection **out, size_t *n);
int pinhole_sqlite_delete_collection(pinhole_store *s, int64_t id);
int pinhole_sqlite_set_window(pinhole_store *s, int64_t id, const pinhole_collection_window *w);
int pinhole_sqlite_close_buckets(pinhole_store *s, int64_t id, int64_t before, int64_t *closed);
int pinhole_sqlite_closed_before(pinhole_store *s, int64_t id, int64_t *closed);
int pinhole_sqlite_create_multi(pinhole_store *s, const char *name, const char *spec,
                                int64_t created, int64_t *id);
int pinhole_sqlite_load_multis(pinhole_store *s, pinhole_multi_record **out, size_t *n);
int pinhole_sqlite_server_keys(pinhole_store *s, pinhole_server_keys *k);
int pinhole_sqlite_rotate_key(pinhole_store *s, pinhole_key_family family, pinhole_key_op op,
                              uint8_t pk[3][PINHOLE_KEY_PUBLICBYTES], int have[3]);
int pinhole_sqlite_ingest_prepare(pinhole_store *s);
int pinhole_sqlite_ingest(pinhole_store *s, pinhole_ingest_report *r, size_t n);
int pinhole_sqlite_counts(pinhole_store *s, const pinhole_server_collection *c, int64_t from_bucket,
                          int64_t to_bucket, uint64_t *counts, uint64_t *n);
int pinhole_sqlite_buckets(pinhole_store *s, int64_t collection, int64_t from_bucket,
                           int64_t to_bucket, int64_t **bucket, uint64_t **n, size_t *count);
int pinhole_sqlite_report_total(pinhole_store *s, int64_t collection, uint64_t *n);
int pinhole_sqlite_check(pinhole_store *s, uint64_t *problems, char *msg, size_t msglen);
int pinhole_sqlite_jobs_recover(pinhole_store *s, double now, int max_attempts);
int pinhole_sqlite_job_list(pinhole_store *s, int64_t collection, uint64_t offset, uint32_t limit,
                            pinhole_job_record **out, size_t *n, uint64_t *total);
int pinhole_sqlite_job_enqueue(pinhole_store *s, const pinhole_job_record *r, int64_t *id);
int pinhole_sqlite_job_claim(pinhole_store *s, double now, pinhole_job_record *r);
int pinhole_sqlite_job_progress(pinhole_store *s, int64_t id, double fraction);
int pinhole_sqlite_job_finish(pinhole_store *s, int64_t id, pinhole_job_state st, double finished,
                              const char *result, const char *error);
int pinhole_sqlite_job_cancel_queued(pinhole_store *s, int64_t id, double now);
int pinhole_sqlite_job_request_cancel(pinhole_store *s, int64_t id);
int pinhole_sqlite_job_state(pinhole_store *s, int64_t id, pinhole_job_state *st);
int pinhole_sqlite_job_get(pinhole_store *s, int64_t id, pinhole_job_record *r);
int pinhole_sqlite_discovery_create(pinhole_store *s, const char *name, const uint8_t *state,
                                    size_t len, int64_t first, int64_t created, int64_t *id);
int pinhole_sqlite_discovery_save(pinhole_store *s, int64_t id, const uint8_t *state, size_t len,
                                  int64_t next);
int pinhole_sqlite_discovery_load(pinhole_store *s, pinhole_store_discovery **out, size_t *n);

#endif
