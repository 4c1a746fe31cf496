/* The single writer: a thread that owns the store handle that ingests, takes ingest batches from a
 * bounded queue and commits them in groups (group commit: every batch queued while the previous
 * transaction was committing goes into the next one, so one fsync acknowledges many requests).
 * A batch's completion callback runs only after its transaction committed (or failed), so a report
 * is acknowledged only once it is durable. Between transactions, and every checkpoint_interval
 * seconds from a second thread on a handle of its own, the store's upkeep runs
 * (pinhole_store_maintain: for SQLite, WAL checkpoints). Only the storage interface is used here.
 *
 * pinhole_writer_submit() is thread-safe; everything else is called by the owner. */
#ifndef PINHOLE_SERVER_WRITER_H
#define PINHOLE_SERVER_WRITER_H

#include "server/store/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pinhole_ingest_batch pinhole_ingest_batch;

/** A batch of reports to store. The submitter owns it; after done() is called the writer no longer
 * touches it. */
struct pinhole_ingest_batch {
    pinhole_ingest_report *reports; /* statuses are final when done() runs with result 0 */
    size_t n;
    int result;      /* PINHOLE_OK, or the error of the failed transaction (PINHOLE_EDB...) */
    double enqueued; /* monotonic seconds, set by pinhole_writer_submit */
    double latency;  /* seconds from submit to commit, set before done() */
    void (*done)(pinhole_ingest_batch *batch, void *arg); /* called on the writer thread */
    void *arg;
    pinhole_ingest_batch *next; /* queue link, owned by the writer */
};

/** Writer settings; zero fields take the defaults shown. */
typedef struct pinhole_writer_options {
    size_t max_queue_reports; /* reports waiting beyond which submit refuses (default 1,000,000) */
    size_t max_txn_reports;   /* reports per transaction, at most (default 100,000) */
    double checkpoint_interval; /* seconds between periodic store upkeep (default 5) */
    /* Flush policy: once a batch is queued, wait up to flush_ms milliseconds for flush_reports
     * reports to gather before the transaction (default 0: commit at once, group commit only).
     * Fewer, larger transactions cost a shared database less per report; every report still
     * waits for its transaction's commit before it is acknowledged. */
    size_t flush_reports;
    double flush_ms;
    pinhole_store_options store;
} pinhole_writer_options;

/** Counters, readable at any time (relaxed atomics). */
typedef struct pinhole_writer_stats {
    _Atomic uint64_t accepted, duplicates, replays, invalid; /* reports by outcome */
    _Atomic uint64_t transactions, failed_transactions;
    _Atomic uint64_t checkpoints; /* store upkeep runs that did work (SQLite: WAL checkpoints) */
    _Atomic uint64_t queued_reports, queued_batches; /* gauges */
    /* ingest latency (submit to commit) histogram: bucket i counts batches <= latency_bounds[i] */
    _Atomic uint64_t latency_count[12];
    _Atomic uint64_t latency_total_us, latency_batches;
    _Atomic int last_result; /* PINHOLE_OK, or the error of the latest transaction if it failed */
} pinhole_writer_stats;

/** Upper bounds (seconds) of the latency histogram buckets; the last is +Inf. */
extern const double pinhole_writer_latency_bounds[12];

typedef struct pinhole_writer {
    pinhole_store *store;  /* the handle that ingests (the writer thread's) */
    pinhole_store *upkeep; /* the periodic upkeep thread's handle */
    pinhole_writer_options opt;
    pinhole_writer_stats stats;
    pthread_mutex_t mu;
    pthread_cond_t wake, upkeep_wake;
    pinhole_ingest_batch *head, *tail;
    int stopping, started, released;
    pthread_t thread, upkeep_thread;
} pinhole_writer;

/** Open the store at url (creating it), get it ready to ingest (pinhole_store_ingest_prepare), and
 * start the writer and upkeep threads.
 * Errors: those of pinhole_store_open (PINHOLE_EIO: cannot open the database, ...), PINHOLE_EDB
 * (cannot read its report ids), PINHOLE_ENOMEM. */
int pinhole_writer_start(pinhole_writer *w, const char *url, const pinhole_writer_options *opt);

/** Queue a batch. Errors: PINHOLE_EOVERFLOW (the queue holds max_queue_reports already: answer
 * "busy, retry later"), PINHOLE_ECANCELED (the writer is stopping). On error done() is not called.
 */
int pinhole_writer_submit(pinhole_writer *w, pinhole_ingest_batch *batch);

/** The garbage collector's counters (pinhole_store_gc_read): those of the upkeep handle, with the
 * replay index of the ingesting one. Thread-safe while the writer runs; all zero otherwise. */
void pinhole_writer_gc_read(pinhole_writer *w, pinhole_store_gc_stats *out);

/** Stop: refuse new batches, commit every queued one (their done() callbacks run), join the
 * threads, run the store's closing upkeep (SQLite: the WAL truncated) and close. Safe to call once
 * after a successful start.
 */
void pinhole_writer_stop(pinhole_writer *w);

/** After pinhole_writer_stop() and once no thread can call pinhole_writer_submit() any more,
 * destroy the writer's lock and condition variables. Safe to call twice. */
void pinhole_writer_release(pinhole_writer *w);

#endif
