/* The service core: what the aggregation server is, without HTTP. It owns the store handles (the
 * writer's, an admin handle, a pool of readers), the registry of collections, the server's keys,
 * the single writer (group commit, server/store/writer.h) and the analytics job runner
 * (server/jobs/jobs.h) with the loader through which jobs read counts. The HTTP layer
 * (server/http/) and any other front end call these functions; they never touch the store.
 *
 * Thread safety: every function may be called from any thread once pinhole_service_open()
 * returned, until pinhole_service_close(). */
#ifndef PINHOLE_SERVER_SERVICE_H
#define PINHOLE_SERVER_SERVICE_H

#include "server/jobs/jobs.h"
#include "server/store/store.h"
#include "server/store/writer.h"

#include <stddef.h>
#include <stdint.h>

typedef struct pinhole_service_options {
    const char *store_url; /* the store (server/store/store.h: a path or a URL) */
    unsigned readers;      /* read handles, at most this many reads run at once; 0 = 1 */
    unsigned job_workers;  /* analytics job worker threads; 0 = 1 */
    double job_time_limit; /* default and maximum seconds per job; 0 = 600 */
    pinhole_writer_options writer;
} pinhole_service_options;

typedef struct pinhole_service pinhole_service;

/** Open the store (creating it), start the writer, load the server's keys and every collection,
 * and start the job runner. Errors: those of pinhole_store_open (PINHOLE_EIO, PINHOLE_EINVAL,
 * PINHOLE_EUNSUPPORTED), PINHOLE_EDB (the store cannot be read), PINHOLE_ENOMEM. */
int pinhole_service_open(pinhole_service **out, const pinhole_service_options *o);

/** Refuse new batches, commit every queued one (their callbacks run) and stop the writer. Safe to
 * call more than once. */
void pinhole_service_stop_writer(pinhole_service *s);

/** Stop the job runner (a running job is queued again for the next start), stop the writer if
 * still running, close every store handle and free the service. No other call may run or follow.
 * Safe on NULL. */
void pinhole_service_close(pinhole_service *s);

/* ---- collections ---- */

/** The collection with this id, or NULL. Collections live until pinhole_service_close(). */
const pinhole_server_collection *pinhole_service_collection(pinhole_service *s, int64_t id);

/** Number of collections; they are numbered 0.. in id order for pinhole_service_collection_at. */
size_t pinhole_service_collection_count(pinhole_service *s);

/** The i-th collection by id (i below pinhole_service_collection_count), or NULL. */
const pinhole_server_collection *pinhole_service_collection_at(pinhole_service *s, size_t i);

/** Delete collection id (pinhole_store_delete_collection): it is no longer served from now on (the
 * garbage collector removes its rows in the background); pointers to it stay valid until
 * pinhole_service_close(). Errors: PINHOLE_ENOTFOUND, PINHOLE_EDB, PINHOLE_ENOMEM. */
int pinhole_service_delete_collection(pinhole_service *s, int64_t id);

/** Create and store a collection (pinhole_store_create_collection) with the report window w (NULL:
 * the defaults; pinhole_store_set_window) and serve it; *out receives it.
 * Errors: as pinhole_server_collection_init (PINHOLE_EINVAL, PINHOLE_ETOOBIG, ...), PINHOLE_EDB,
 * PINHOLE_ENOMEM (then it is stored and served after a restart). */
int pinhole_service_create_collection(pinhole_service *s, const char *name,
                                      const pinhole_config_params *p, uint32_t time_precision,
                                      uint32_t min_reports, const char *const *labels,
                                      const pinhole_collection_window *w,
                                      const pinhole_server_collection **out);

/* ---- multi-attribute collections (server/service/multi.c) ---- */

/** The multi-attribute parent record with this id, or NULL. Records live until
 * pinhole_service_close(). */
const pinhole_multi_record *pinhole_service_multi(pinhole_service *s, int64_t id);

/** Number of parent records; numbered 0.. in id order for pinhole_service_multi_at. */
size_t pinhole_service_multi_count(pinhole_service *s);

/** The i-th parent record by id (i below pinhole_service_multi_count), or NULL. */
const pinhole_multi_record *pinhole_service_multi_at(pinhole_service *s, size_t i);

/** Store a parent record (pinhole_store_create_multi; its pair collections are created first by
 * the caller) and serve it; *out receives it. Errors: PINHOLE_EDB, PINHOLE_ENOMEM (then it is
 * stored and served after a restart). */
int pinhole_service_create_multi(pinhole_service *s, const char *name, const char *spec,
                                 const pinhole_multi_record **out);

/** The server's keys (read-only). */
const pinhole_server_keys *pinhole_service_keys(pinhole_service *s);

/* ---- reads (through the pool of read handles) ---- */

/** pinhole_store_report_total on a reader. Errors: PINHOLE_EDB (also when no reader opens). */
int pinhole_service_report_total(pinhole_service *s, int64_t collection, uint64_t *n);

/** pinhole_store_counts on a reader. Errors: as pinhole_store_counts. */
int pinhole_service_counts(pinhole_service *s, const pinhole_server_collection *c,
                           int64_t from_bucket, int64_t to_bucket, uint64_t *counts, uint64_t *n);

/** pinhole_store_buckets on a reader. Errors: as pinhole_store_buckets. */
int pinhole_service_buckets(pinhole_service *s, int64_t collection, int64_t from_bucket,
                            int64_t to_bucket, int64_t **bucket, uint64_t **n, size_t *count);

/* ---- writes ---- */

/** Queue a batch for the writer (pinhole_writer_submit: same errors). */
int pinhole_service_submit(pinhole_service *s, pinhole_ingest_batch *b);

/** The writer's counters. */
pinhole_writer_stats *pinhole_service_writer_stats(pinhole_service *s);

/** The garbage collector's counters (pinhole_writer_gc_read). */
void pinhole_service_gc_read(pinhole_service *s, pinhole_store_gc_stats *out);

/** Bytes the store occupies on disk (pinhole_store_disk_bytes). */
uint64_t pinhole_service_disk_bytes(pinhole_service *s);

/* ---- analytics jobs ---- */

/** The job runner (submit, get, cancel: server/jobs/jobs.h). */
pinhole_jobs *pinhole_service_jobs(pinhole_service *s);

#endif
