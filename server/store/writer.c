/* The writer thread (group commit of queued ingest batches) and the store's upkeep thread. */
#include "server/store/writer.h"
#include "common/clock.h"
#include "common/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const double pinhole_writer_latency_bounds[12] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                  0.05,   0.1,   0.25,   0.5,   1.0,  1e300};

static void record_latency(pinhole_writer_stats *st, double seconds)
{
    size_t i = 0;
    while (i < 11 && seconds > pinhole_writer_latency_bounds[i])
        i++;
    atomic_fetch_add_explicit(&st->latency_count[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->latency_total_us, (uint64_t)(seconds * 1e6),
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&st->latency_batches, 1, memory_order_relaxed);
}

#ifdef PINHOLE_TEST_ACK_BEFORE_COMMIT
/* A deliberately broken writer, compiled only into the test that shows the power-loss check can
 * fail (tests/meson.build, crash_ack_before_commit; the server never defines this): it
 * acknowledges every batch of the group as stored, then commits a copy of its reports. A crash
 * between the two loses acknowledged reports. Only for callers whose done() frees nothing (the
 * copy still points into the batches' payloads). */
static int ack_before_commit(pinhole_writer *w, pinhole_ingest_batch *group, size_t nreports)
{
    pinhole_ingest_report *flat = malloc((nreports ? nreports : 1) * sizeof *flat);
    if (!flat)
        return PINHOLE_ENOMEM;
    size_t n = 0;
    for (pinhole_ingest_batch *j = group, *next; j; j = next) {
        next = j->next;
        memcpy(flat + n, j->reports, j->n * sizeof *flat);
        n += j->n;
        for (size_t i = 0; i < j->n; i++)
            j->reports[i].status = PINHOLE_REPORT_ACCEPTED;
        j->result = PINHOLE_OK;
        j->next = NULL;
        j->done(j, j->arg);
    }
    const int rc = pinhole_store_ingest(w->store, flat, n);
    free(flat);
    return rc;
}
#endif

/* Commit one group of batches (linked through next) and complete them. */
static void commit_group(pinhole_writer *w, pinhole_ingest_batch *group, size_t nreports)
{
#ifdef PINHOLE_TEST_ACK_BEFORE_COMMIT
    atomic_store_explicit(&w->stats.last_result, ack_before_commit(w, group, nreports),
                          memory_order_relaxed);
    return;
#endif
    /* The store takes one flat array; batches keep their own arrays, so copy in and out. Copying a
     * pinhole_ingest_report is cheap beside its B-tree insert. */
    pinhole_ingest_report *flat = NULL;
    size_t n = 0;
    int rc;
    if (group->next == NULL) {
        flat = group->reports;
        n = group->n;
        rc = pinhole_store_ingest(w->store, flat, n);
    } else {
        flat = malloc((nreports ? nreports : 1) * sizeof *flat);
        if (!flat) {
            rc = PINHOLE_ENOMEM;
        } else {
            for (pinhole_ingest_batch *j = group; j; j = j->next) {
                memcpy(flat + n, j->reports, j->n * sizeof *flat);
                n += j->n;
            }
            rc = pinhole_store_ingest(w->store, flat, n);
            n = 0;
            for (pinhole_ingest_batch *j = group; j; j = j->next) {
                memcpy(j->reports, flat + n, j->n * sizeof *flat);
                n += j->n;
            }
            free(flat);
        }
    }
    pinhole_writer_stats *st = &w->stats;
    atomic_fetch_add_explicit(rc == PINHOLE_OK ? &st->transactions : &st->failed_transactions, 1,
                              memory_order_relaxed);
    atomic_store_explicit(&st->last_result, rc, memory_order_relaxed);
    const double now = pinhole_clock_mono();
    for (pinhole_ingest_batch *j = group, *next; j; j = next) {
        next = j->next; /* done() may free the batch */
        j->result = rc;
        j->latency = now - j->enqueued;
        if (rc == PINHOLE_OK) {
            uint64_t acc = 0, dup = 0, rep = 0, inv = 0;
            for (size_t i = 0; i < j->n; i++) {
                switch (j->reports[i].status) {
                case PINHOLE_REPORT_ACCEPTED:
                    acc++;
                    break;
                case PINHOLE_REPORT_DUPLICATE:
                    dup++;
                    break;
                case PINHOLE_REPORT_REPLAY:
                    rep++;
                    break;
                case PINHOLE_REPORT_INVALID:
                    inv++;
                    break;
                default:
                    break;
                }
            }
            atomic_fetch_add_explicit(&st->accepted, acc, memory_order_relaxed);
            atomic_fetch_add_explicit(&st->duplicates, dup, memory_order_relaxed);
            atomic_fetch_add_explicit(&st->replays, rep, memory_order_relaxed);
            atomic_fetch_add_explicit(&st->invalid, inv, memory_order_relaxed);
        }
        record_latency(st, j->latency);
        j->next = NULL;
        j->done(j, j->arg);
    }
}

static void *writer_main(void *arg)
{
    pinhole_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->wake, &w->mu);
        if (!w->head)
            break; /* stopping and drained */
        /* flush policy: let flush_reports gather, for at most flush_ms after the oldest batch */
        if (w->opt.flush_ms > 0) {
            const double due = w->head->enqueued + w->opt.flush_ms / 1000;
            const struct timespec until = pinhole_clock_after(due - pinhole_clock_mono());
            while (!w->stopping && pinhole_clock_mono() < due &&
                   atomic_load_explicit(&w->stats.queued_reports, memory_order_relaxed) <
                       w->opt.flush_reports)
                if (pthread_cond_timedwait(&w->wake, &w->mu, &until) != 0)
                    break;
        }
        /* Take batches up to the transaction size (always at least one). */
        pinhole_ingest_batch *group = w->head, *last = w->head;
        size_t n = last->n, batches = 1;
        while (last->next && n + last->next->n <= w->opt.max_txn_reports) {
            last = last->next;
            n += last->n;
            batches++;
        }
        w->head = last->next;
        if (!w->head)
            w->tail = NULL;
        last->next = NULL;
        atomic_fetch_sub_explicit(&w->stats.queued_reports, n, memory_order_relaxed);
        atomic_fetch_sub_explicit(&w->stats.queued_batches, batches, memory_order_relaxed);
        pthread_mutex_unlock(&w->mu);
        commit_group(w, group, n);
        int did = 0; /* between two transactions: no write can race the upkeep */
        if (pinhole_store_maintain(w->store, PINHOLE_UPKEEP_AFTER_COMMIT, &did) == PINHOLE_OK &&
            did)
            atomic_fetch_add_explicit(&w->stats.checkpoints, 1, memory_order_relaxed);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void *upkeep_main(void *arg)
{
    pinhole_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stopping) {
        const struct timespec until = pinhole_clock_after(w->opt.checkpoint_interval);
        int rc = 0;
        while (!w->stopping && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&w->upkeep_wake, &w->mu, &until);
        if (w->stopping)
            break;
        pthread_mutex_unlock(&w->mu);
        int did = 0;
        if (pinhole_store_maintain(w->upkeep, PINHOLE_UPKEEP_PERIODIC, &did) == PINHOLE_OK && did)
            atomic_fetch_add_explicit(&w->stats.checkpoints, 1, memory_order_relaxed);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int pinhole_writer_start(pinhole_writer *w, const char *url, const pinhole_writer_options *opt)
{
    memset(w, 0, sizeof *w);
    if (opt)
        w->opt = *opt;
    if (!w->opt.max_queue_reports)
        w->opt.max_queue_reports = 1000000;
    if (!w->opt.max_txn_reports)
        w->opt.max_txn_reports = 100000;
    if (!(w->opt.checkpoint_interval > 0))
        w->opt.checkpoint_interval = 5;
    int rc = pinhole_store_open(&w->store, url, &w->opt.store);
    if (rc != PINHOLE_OK)
        return rc;
    if ((rc = pinhole_store_open(&w->upkeep, url, &w->opt.store)) != PINHOLE_OK ||
        (rc = pinhole_store_ingest_prepare(w->store)) != PINHOLE_OK) {
        pinhole_store_close(w->upkeep);
        pinhole_store_close(w->store);
        w->upkeep = w->store = NULL;
        return rc;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_cond_init(&w->upkeep_wake, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
        goto fail;
    if (pthread_create(&w->upkeep_thread, NULL, upkeep_main, w) != 0) {
        pthread_mutex_lock(&w->mu);
        w->stopping = 1;
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
        goto fail;
    }
    w->started = 1;
    return PINHOLE_OK;
fail:
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->upkeep_wake);
    pthread_mutex_destroy(&w->mu);
    w->released = 1; /* nothing left for pinhole_writer_release() */
    pinhole_store_close(w->upkeep);
    pinhole_store_close(w->store);
    w->upkeep = w->store = NULL;
    return PINHOLE_ENOMEM;
}

int pinhole_writer_submit(pinhole_writer *w, pinhole_ingest_batch *batch)
{
    batch->next = NULL;
    batch->result = PINHOLE_OK;
    batch->enqueued = pinhole_clock_mono();
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        pthread_mutex_unlock(&w->mu);
        return PINHOLE_ECANCELED;
    }
    const uint64_t queued = atomic_load_explicit(&w->stats.queued_reports, memory_order_relaxed);
    if (queued > 0 && queued + batch->n > w->opt.max_queue_reports) {
        pthread_mutex_unlock(&w->mu);
        return PINHOLE_EOVERFLOW;
    }
    if (w->tail)
        w->tail->next = batch;
    else
        w->head = batch;
    w->tail = batch;
    atomic_fetch_add_explicit(&w->stats.queued_reports, batch->n, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->stats.queued_batches, 1, memory_order_relaxed);
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    return PINHOLE_OK;
}

void pinhole_writer_gc_read(pinhole_writer *w, pinhole_store_gc_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!w->started)
        return;
    pinhole_store_gc_stats ingest;
    pinhole_store_gc_read(w->upkeep, out);
    pinhole_store_gc_read(w->store, &ingest);
    out->index_ids = ingest.index_ids;
    out->index_bytes = ingest.index_bytes;
}

void pinhole_writer_stop(pinhole_writer *w)
{
    if (!w->started)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_broadcast(&w->wake);
    pthread_cond_broadcast(&w->upkeep_wake);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_join(w->upkeep_thread, NULL);
    pinhole_store_close(w->upkeep);
    pinhole_store_maintain(w->store, PINHOLE_UPKEEP_CLOSING, NULL);
    pinhole_store_close(w->store);
    w->upkeep = w->store = NULL;
    /* the lock stays valid: connections still open may call pinhole_writer_submit(), which now
     * answers PINHOLE_ECANCELED; pinhole_writer_release() destroys it once they are closed */
    w->started = 0;
    w->released = 0;
}

void pinhole_writer_release(pinhole_writer *w)
{
    if (w->started || w->released || !w->stopping)
        return;
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->upkeep_wake);
    pthread_mutex_destroy(&w->mu);
    w->released = 1;
}
