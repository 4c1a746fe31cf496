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

#include "server/analytics/discovery.h"
#include "server/jobs/jobs.h"
#include "server/store/store.h"
#include "server/store/writer.h"

#include <stddef.h>
#include <stdint.h>

typedef struct pinhole_service_options {
    const char *store_url;          /* the store (server/store/store.h: a path or a URL) */
    unsigned readers;               /* read handles, at most this many reads run at once; 0 = 1 */
    unsigned job_workers;           /* analytics job worker threads; 0 = 1 */
    double job_time_limit;          /* default and maximum seconds per job; 0 = 600 */
    double writable_probe_interval; /* while read-only (disk full), seconds between attempts to
                                       open the store for writing again; 0 = 5 */
    pinhole_writer_options writer;
    /* the report window of a new collection whose creator gives none (all zero: no bound) */
    pinhole_collection_window window;
} pinhole_service_options;

typedef struct pinhole_service pinhole_service;

/** Open the store (creating it), start the writer, load the server's keys and every collection,
 * and start the job runner. When the store cannot be opened for writing because its disk is full
 * (PINHOLE_ENOSPACE, e.g. a WAL left by a crash cannot be recovered in place), the service opens
 * read-only instead (pinhole_service_readonly): everything is read as last committed, every write
 * fails with PINHOLE_ENOSPACE, no job runs, and a thread retries a writable open every
 * writable_probe_interval seconds, switching to normal service once it succeeds. Errors: those of
 * pinhole_store_open (PINHOLE_EIO, PINHOLE_EINVAL, PINHOLE_EUNSUPPORTED; PINHOLE_ENOSPACE when
 * even a read-only open fails), PINHOLE_EDB (the store cannot be read; also a read-only store
 * without the server's keys), PINHOLE_ENOMEM. */
int pinhole_service_open(pinhole_service **out, const pinhole_service_options *o);

/** 1 while the service refuses writes because its store's disk is full and it was opened
 * read-only (pinhole_service_open), else 0. */
int pinhole_service_readonly(pinhole_service *s);

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

/** Create and store a collection with the report window w (NULL: the service's default window,
 * pinhole_service_window()) in one transaction (pinhole_store_create_collection_window) and
 * serve it; *out receives it.
 * Errors: as pinhole_server_collection_init (PINHOLE_EINVAL, PINHOLE_ETOOBIG, ...), PINHOLE_EDB,
 * PINHOLE_ENOMEM (then it is stored and served after a restart). */
int pinhole_service_create_collection(pinhole_service *s, const char *name,
                                      const pinhole_config_params *p, uint32_t time_precision,
                                      uint32_t min_reports, const char *const *labels,
                                      const pinhole_collection_window *w,
                                      const pinhole_server_collection **out);

/** Close the time buckets of collection id below bucket `before` (pinhole_store_close_buckets):
 * from then on ingest refuses their reports (PINHOLE_ECLOSED) and their counts are final; *closed
 * receives the first open bucket. Errors: PINHOLE_ENOTFOUND, PINHOLE_EINVAL, PINHOLE_EDB. */
int pinhole_service_close_buckets(pinhole_service *s, int64_t id, int64_t before, int64_t *closed);

/** The first open time bucket of collection id (pinhole_store_closed_before, on a reader).
 * Errors: PINHOLE_ENOTFOUND, PINHOLE_EDB. */
int pinhole_service_closed_before(pinhole_service *s, int64_t id, int64_t *closed);

/** The report window a new collection gets unless its creator gives one (the options' window). */
const pinhole_collection_window *pinhole_service_window(pinhole_service *s);

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

/** Queue a batch for the writer (pinhole_writer_submit: same errors; PINHOLE_ENOSPACE while
 * read-only). */
int pinhole_service_submit(pinhole_service *s, pinhole_ingest_batch *b);

/** The writer's counters. */
pinhole_writer_stats *pinhole_service_writer_stats(pinhole_service *s);

/** The garbage collector's counters (pinhole_writer_gc_read). */
void pinhole_service_gc_read(pinhole_service *s, pinhole_store_gc_stats *out);

/** Bytes the store occupies on disk (pinhole_store_disk_bytes). */
uint64_t pinhole_service_disk_bytes(pinhole_service *s);

/* ---- discovery collections (docs/discovery.md) ---- */

/** Start a discovery collection named name with parameters p (pinhole_discovery_start): its
 * state is stored, and its round 0 collects into a new ordinary collection (the round's oracle,
 * time precision 1 s) named after it. *id receives its id. Errors: PINHOLE_EINVAL (name too long,
 * parameters pinhole_discovery_start() refuses), those of pinhole_service_create_collection(),
 * PINHOLE_EDB, PINHOLE_ENOMEM. */
int pinhole_service_discovery_create(pinhole_service *s, const char *name,
                                     const pinhole_discovery_params *p, int64_t *id);

/** Number of discovery collections. */
size_t pinhole_service_discovery_count(pinhole_service *s);

/** Discovery id as JSON (a new reference): pinhole_discovery_json()'s members (epsilon, devices,
 * rounds, open_round, done, log, results once done), and id, name, created, round_collections
 * (the collection of each round opened, in order) and, while a round is open,
 * open_round_collection, open_round_reports (stored so far) and open_round_wanted. Errors:
 * PINHOLE_ENOTFOUND, PINHOLE_ENOMEM. */
int pinhole_service_discovery_json(pinhole_service *s, int64_t id, json_t **out);

/** Every discovery collection as pinhole_service_discovery_json() gives it, by id, in a new
 * array. Errors: PINHOLE_ENOMEM. */
int pinhole_service_discovery_list(pinhole_service *s, json_t **out);

/** The open round's config of discovery id, its oracle the round's collection config, signed with
 * the server's config key (proto/discovery.h): *out (malloc'd) receives *len bytes. Errors:
 * PINHOLE_ENOTFOUND, PINHOLE_ERANGE (every round is closed: the results are final), PINHOLE_EDB,
 * PINHOLE_ENOMEM. */
int pinhole_service_discovery_round_config(pinhole_service *s, int64_t id, uint8_t **out,
                                           size_t *len);

/** Whether collection collects a discovery round: *id and *round receive the discovery and the
 * round, *open whether that round is still open (its reports are still taken). Errors:
 * PINHOLE_ENOTFOUND (an ordinary collection). */
int pinhole_service_discovery_round_of(pinhole_service *s, int64_t collection, int64_t *id,
                                       uint32_t *round, int *open);

/** Call after reports of collection were stored: when it collects the open round of a discovery
 * collection and holds the reports the round wants, queue the "discovery_round" job that closes
 * it (once). Errors: PINHOLE_EDB, PINHOLE_EINVAL (from pinhole_jobs_submit). */
int pinhole_service_discovery_reports_arrived(pinhole_service *s, int64_t collection);

/* ---- analytics jobs ---- */

/** The job runner (submit, get, cancel: server/jobs/jobs.h). */
pinhole_jobs *pinhole_service_jobs(pinhole_service *s);

#endif
