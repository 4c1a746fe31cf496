/* The PostgreSQL backend's handle and the helpers its files share (not for use outside
 * server/store/pg/). Any number of server processes may share one database: every table is keyed
 * by the collection id first, so that the schema can later be distributed by collection.
 *
 * Tables (schema version PINHOLE_PG_SCHEMA_VERSION, recorded in schema_version):
 *   collections(id, name, mechanism, epsilon, k, q, t, time_precision, min_reports, fingerprint,
 *               labels, created, max_report_age, max_clock_skew, keep_reports, deleting,
 *               closed_before)                  closed_before: the first open time bucket
 *   server_keys(name, pk, sk)                       the server's key pairs, shared by every replica
 *   reports(collection, day, report_id, bucket, payload)    report_id: uuid (16 bytes)
 *       partitioned by day (UTC day of the report's bucket start), one partition reports_d<day>
 *       per day; primary key (collection, report_id, day). Old days are dropped whole.
 *   reports_kept(collection, report_id, bucket, payload)
 *       reports of collections with keep_reports, moved here before their day is dropped
 *   retired_days(day)                               days whose partition was dropped
 *   buckets(collection, bucket, shard, n)           reports per time bucket, per count shard
 *   count_deltas(collection, bucket, seq, idx, n)   what each flush added to a bucket's count
 *       vector, sparse (the indices and their counts); append-only: flushes never update a row
 *   counts(collection, bucket, chunk, data)         the count vector of a bucket, folded from the
 *       deltas by the garbage collector, in chunks of PINHOLE_PG_CHUNK values (bigint[], the last
 *       padded with zeros; only chunks holding a nonzero count exist). A bucket's vector is its
 *       chunks plus its deltas.
 *   jobs(id, collection_id, type, ..., lease_owner, lease_expires)
 *       the analytics job queue; a running job is leased, a lease not renewed in time expires
 *       and the job is taken over by another replica
 *
 * Count shards: each ingesting handle holds a session advisory lock on one shard number in
 * [0, PINHOLE_PG_SHARDS) and adds its bucket totals to rows of that shard only, so replicas never
 * wait on each other's rows (count vectors are appended as deltas: no row is shared there).
 *
 * Files: open.c (connection, schema, maintenance and the garbage collector), catalog.c
 * (collections, keys, closed buckets, the flushes' fence), ingest.c, queries.c (counts, buckets,
 * the recount check), jobs.c. */
#ifndef PINHOLE_SERVER_STORE_PG_H
#define PINHOLE_SERVER_STORE_PG_H

#include "server/store/backend.h"

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define PINHOLE_PG_SCHEMA_VERSION 2
#define PINHOLE_PG_CHUNK 32u /* count-vector values per stored chunk */
#define PINHOLE_PG_SHARDS 64 /* count shards: at most this many handles ingest at once */
#define PINHOLE_PG_LEASE_S                                                                         \
    60.0 /* seconds a job lease lasts without a progress report (the                               \
            environment's PINHOLE_PG_JOB_LEASE, 1..3600, overrides it) */
#define PINHOLE_PG_DAY 86400

/* A growable text buffer (array literals for the batch statements). */
typedef struct pg_buf {
    char *p;
    size_t len, cap;
    int failed; /* an allocation failed: the contents are incomplete */
} pg_buf;

typedef struct pg_store {
    pinhole_store base;
    PGconn *conn;
    int readonly;
    int shard;        /* count shard this handle holds, -1 until its first ingest */
    char owner[80];   /* lease owner name of this handle: host, pid, random */
    char sqlstate[6]; /* SQLSTATE of the latest failed statement ("" when none) */
    double lease_s;   /* job lease, seconds */
    struct pg_ingest_scratch *scratch;
    /* the collections of the flush under way as pg_fence() read them (share-locked) */
    struct pg_fenced {
        int64_t id;
        int live;              /* 0: deleted, or being deleted */
        int64_t closed_before; /* its first open time bucket */
    } * fenced;
    size_t nfenced, capfenced;
    /* the garbage collector's counters (read by other threads: pinhole_store_gc_read) */
    _Atomic uint64_t gc_rows, gc_bytes, gc_passes;
    _Atomic double gc_pass_since; /* wall-clock start of the pass under way, 0 when none */
} pg_store;

static inline pg_store *pg_of(pinhole_store *s)
{
    return (pg_store *)s;
}

/* Run sql with text parameters v[0..n) (a NULL value is SQL NULL); the result when its status is
 * want (PGRES_TUPLES_OK; PGRES_COMMAND_OK accepts rows too), else NULL with s->sqlstate set (and
 * the server's message on stderr when PINHOLE_PG_DEBUG is set). Free with PQclear. */
PGresult *pg_run(pg_store *s, const char *sql, int n, const char *const *v, ExecStatusType want);

/* pg_run's check of a result of any PQexec* call (res may be NULL): res when its status is want,
 * else NULL with res freed and s->sqlstate set. */
PGresult *pg_result(pg_store *s, PGresult *res, ExecStatusType want);

/* Run a statement, ignoring any rows it returns: PINHOLE_OK or PINHOLE_EDB. */
int pg_exec(pg_store *s, const char *sql, int n, const char *const *v);

/* Run a statement that returns at most one row (a SELECT by key, an UPDATE ... RETURNING):
 * PINHOLE_OK with the row's first column in *first (when first is not NULL), PINHOLE_ENOTFOUND
 * when no row came back, PINHOLE_EDB when the statement failed. */
int pg_one_row(pg_store *s, const char *sql, int n, const char *const *v, int64_t *first);

/* The PINHOLE_E* code of the latest failed statement: PINHOLE_ENOSPACE for SQLSTATE 53100
 * (disk_full: PostgreSQL could not write), else PINHOLE_EDB. */
int pg_error(const pg_store *s);

/* Is the latest failure one a retry of the whole transaction may cure (serialization failure,
 * deadlock, a missing day partition)? */
int pg_retryable(const pg_store *s);

/* Column text of row r, column c as an int64 / a double (0 when NULL). */
int64_t pg_int(const PGresult *res, int r, int c);
double pg_double(const PGresult *res, int r, int c);

/* Decode a uuid column (a report id) into out[0..16): PINHOLE_OK or PINHOLE_EFORMAT. */
int pg_uuid(const PGresult *res, int r, int c, uint8_t *out);

/* Decode a bytea column (hex output format) into out[0..max); the length, or -1 when it is not
 * bytea hex or longer than max. */
long pg_bytea(const PGresult *res, int r, int c, uint8_t *out, size_t max);

void pg_buf_add(pg_buf *b, const char *s, size_t n);
void pg_buf_str(pg_buf *b, const char *s);
void pg_buf_fmt(pg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pg_buf_hex(pg_buf *b, const uint8_t *p, size_t n); /* lowercase hex digits */
void pg_buf_free(pg_buf *b);
const char *pg_buf_text(pg_buf *b); /* NUL-terminated contents ("" when empty) */

/* Parse the text of an integer array, "{v0,v1,...}" (non-negative), into out[0..*n), at most max
 * values. Errors: PINHOLE_EFORMAT. */
int pg_parse_array(const char *text, uint64_t *out, size_t max, size_t *n);

/* Add a stored count chunk of collection c (the text of a bigint[] of PINHOLE_PG_CHUNK values,
 * the last chunk padded with zeros) into counts[chunk * PINHOLE_PG_CHUNK ...]. Errors:
 * PINHOLE_EFORMAT (not a chunk of c). */
int pg_chunk_add(const pinhole_server_collection *c, int64_t chunk, const char *text,
                 uint64_t *counts);

/* The UTC day (Unix days) of a bucket start of collection c. */
int64_t pg_day_of(const pinhole_server_collection *c, int64_t bucket);

/* Make the day partitions of reports for days [from, to] that do not exist yet (each in its own
 * transaction; another replica making the same one at once is not an error). Errors: PINHOLE_EDB.
 */
int pg_make_partitions(pg_store *s, int64_t from, int64_t to);

/* Inside a flush's transaction, before its reports are decided: share-lock the rows of the
 * collections of the reports r[i] with pending[i] set and read their state (pg_live). A deletion
 * (or any change of a collection's row) waits for the flushes that locked it, and a flush that
 * starts after it sees it: no report is ever stored under a collection marked deleted. Errors:
 * PINHOLE_EDB, PINHOLE_ENOMEM. */
int pg_fence(pg_store *s, const pinhole_ingest_report *r, size_t n, const uint8_t *pending);

/* May the flush under way store reports of collection id (read by pg_fence: it exists and is not
 * being deleted)? */
int pg_live(const pg_store *s, int64_t id);

/* Is bucket closed in collection id (as pg_fence read it)? */
int pg_closed(const pg_store *s, int64_t id, int64_t bucket);

/* The operations, by file. */
void pg_ingest_free(pg_store *s);
int pg_create_collection(pinhole_store *s, pinhole_server_collection *c, const char *name,
                         const pinhole_config_params *p, uint32_t time_precision,
                         uint32_t min_reports, const char *const *labels,
                         const pinhole_collection_window *w);
int pg_load_collections(pinhole_store *s, pinhole_server_collection **out, size_t *n);
int pg_delete_collection(pinhole_store *s, int64_t id);
int pg_set_window(pinhole_store *s, int64_t id, const pinhole_collection_window *w);
int pg_close_buckets(pinhole_store *s, int64_t id, int64_t before, int64_t *closed);
int pg_closed_before(pinhole_store *s, int64_t id, int64_t *closed);
int pg_create_multi(pinhole_store *s, const char *name, const char *spec, int64_t created,
                    int64_t *id);
int pg_load_multis(pinhole_store *s, pinhole_multi_record **out, size_t *n);

/* discovery.c: discovery collections (pinhole_store_discovery_create, _save, _load) */
int pg_discovery_create(pinhole_store *s, const char *name, const uint8_t *state, size_t len,
                        int64_t first, int64_t created, int64_t *id);
int pg_discovery_save(pinhole_store *s, int64_t id, const uint8_t *state, size_t len, int64_t next);
int pg_discovery_load(pinhole_store *s, pinhole_store_discovery **out, size_t *n);
int pg_server_keys(pinhole_store *s, pinhole_server_keys *k);
int pg_rotate_key(pinhole_store *s, pinhole_key_family family, pinhole_key_op op,
                  uint8_t pk[3][PINHOLE_KEY_PUBLICBYTES], int have[3]);
int pg_ingest_prepare(pinhole_store *s);
int pg_ingest(pinhole_store *s, pinhole_ingest_report *r, size_t n);
int pg_counts(pinhole_store *s, const pinhole_server_collection *c, int64_t from_bucket,
              int64_t to_bucket, uint64_t *counts, uint64_t *n);
int pg_buckets(pinhole_store *s, int64_t collection, int64_t from_bucket, int64_t to_bucket,
               int64_t **bucket, uint64_t **n, size_t *count);
int pg_report_total(pinhole_store *s, int64_t collection, uint64_t *n);
int pg_check(pinhole_store *s, uint64_t *problems, char *msg, size_t msglen);
int pg_jobs_recover(pinhole_store *s, double now, int max_attempts);
int pg_job_enqueue(pinhole_store *s, const pinhole_job_record *r, int64_t *id);
int pg_job_claim(pinhole_store *s, double now, pinhole_job_record *r);
int pg_job_progress(pinhole_store *s, int64_t id, double fraction);
int pg_job_finish(pinhole_store *s, int64_t id, pinhole_job_state st, double finished,
                  const char *result, const char *error);
int pg_job_cancel_queued(pinhole_store *s, int64_t id, double now);
int pg_job_request_cancel(pinhole_store *s, int64_t id);
int pg_job_state(pinhole_store *s, int64_t id, pinhole_job_state *st);
int pg_job_get(pinhole_store *s, int64_t id, pinhole_job_record *r);
int pg_job_list(pinhole_store *s, int64_t collection, uint64_t offset, uint32_t limit,
                pinhole_job_record **out, size_t *n, uint64_t *total);

#endif
