/* Health and metrics: GET /healthz (the store's state) and GET /metrics (Prometheus text). */
#include "common/clock.h"
#include "common/error.h"
#include "server/http/gate.h"
#include "server/http/http.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* 200 while the latest ingest transaction committed (or none ran yet), else 503: the store is
 * failing (disk full, I/O errors) and batches are being refused, or it is read-only (opened with
 * its disk full: reads are served, writes refused). */
enum MHD_Result pinhole_http_health(request *rq)
{
    pinhole_writer_stats *w = pinhole_service_writer_stats(rq->srv->svc);
    const int readonly = pinhole_service_readonly(rq->srv->svc);
    const int rc =
        readonly ? PINHOLE_ENOSPACE : atomic_load_explicit(&w->last_result, memory_order_relaxed);
    json_t *o =
        json_pack("{s:s, s:b, s:I, s:I}", "status",
                  readonly                 ? "read-only"
                  : rc == PINHOLE_OK       ? "ok"
                  : rc == PINHOLE_ENOSPACE ? "disk-full"
                                           : "store-failing",
                  "writable", !readonly, "queued_reports",
                  (json_int_t)atomic_load_explicit(&w->queued_reports, memory_order_relaxed),
                  "accepted", (json_int_t)atomic_load_explicit(&w->accepted, memory_order_relaxed));
    if (o && rc != PINHOLE_OK)
        json_object_set_new(o, "detail",
                            json_string(readonly ? "the disk is full: the store was opened "
                                                   "read-only; reads are served, writes refused "
                                                   "until space is freed"
                                                 : pinhole_strerror(rc)));
    return pinhole_http_send_json(rq, rc == PINHOLE_OK ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                                  o, NULL, NULL);
}

/* ---- /metrics ---- */

typedef struct mtext {
    char *p;
    size_t len, cap;
    int oom;
} mtext;

static void mprintf(mtext *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mprintf(mtext *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        const int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->oom = 1;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        char *p = realloc(t->p, 2 * t->cap + (size_t)n);
        if (!p) {
            t->oom = 1;
            return;
        }
        t->p = p;
        t->cap = 2 * t->cap + (size_t)n;
    }
}

static uint64_t ld(_Atomic uint64_t *x)
{
    return atomic_load_explicit(x, memory_order_relaxed);
}

enum MHD_Result pinhole_http_metrics(request *rq)
{
    pinhole_server *s = rq->srv;
    pinhole_writer_stats *w = pinhole_service_writer_stats(s->svc);
    const uint64_t disk_bytes = pinhole_service_disk_bytes(s->svc);
    mtext t = {.p = malloc(8192), .cap = 8192};
    if (!t.p)
        return MHD_NO;
    mprintf(&t,
            "# HELP pinhole_reports_accepted_total Reports stored (durable).\n"
            "# TYPE pinhole_reports_accepted_total counter\n"
            "pinhole_reports_accepted_total %" PRIu64 "\n",
            ld(&w->accepted));
    mprintf(&t,
            "# HELP pinhole_reports_duplicate_total Identical retries acknowledged, not stored "
            "twice.\n# TYPE pinhole_reports_duplicate_total counter\n"
            "pinhole_reports_duplicate_total %" PRIu64 "\n",
            ld(&w->duplicates));
    mprintf(&t, "# HELP pinhole_reports_rejected_total Reports (or whole bodies) refused, by "
                "reason.\n# TYPE pinhole_reports_rejected_total counter\n");
    for (int i = 0; i < RS_COUNT; i++)
        mprintf(&t, "pinhole_reports_rejected_total{reason=\"%s\"} %" PRIu64 "\n",
                pinhole_http_reason_name[i], ld(&s->rejected[i]));
    mprintf(&t, "# HELP pinhole_http_responses_total Responses by status code.\n"
                "# TYPE pinhole_http_responses_total counter\n");
    for (int c = 100; c < 600; c++)
        if (ld(&s->status[c]))
            mprintf(&t, "pinhole_http_responses_total{code=\"%d\"} %" PRIu64 "\n", c,
                    ld(&s->status[c]));
    mprintf(&t, "# HELP pinhole_ingest_latency_seconds Time from queueing a batch to its commit.\n"
                "# TYPE pinhole_ingest_latency_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < 12; i++) {
        cum += ld(&w->latency_count[i]);
        if (i < 11)
            mprintf(&t, "pinhole_ingest_latency_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                    pinhole_writer_latency_bounds[i], cum);
        else
            mprintf(&t, "pinhole_ingest_latency_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
    }
    mprintf(&t,
            "pinhole_ingest_latency_seconds_sum %.6f\npinhole_ingest_latency_seconds_count %" PRIu64
            "\n",
            (double)ld(&w->latency_total_us) * 1e-6, ld(&w->latency_batches));
    mprintf(&t,
            "# HELP pinhole_writer_queue_reports Reports waiting for the writer.\n"
            "# TYPE pinhole_writer_queue_reports gauge\npinhole_writer_queue_reports %" PRIu64 "\n"
            "# HELP pinhole_writer_queue_batches Batches waiting for the writer.\n"
            "# TYPE pinhole_writer_queue_batches gauge\npinhole_writer_queue_batches %" PRIu64 "\n",
            ld(&w->queued_reports), ld(&w->queued_batches));
    mprintf(&t,
            "# HELP pinhole_transactions_total Ingest transactions committed (ok) or rolled back.\n"
            "# TYPE pinhole_transactions_total counter\n"
            "pinhole_transactions_total{result=\"ok\"} %" PRIu64 "\n"
            "pinhole_transactions_total{result=\"failed\"} %" PRIu64 "\n"
            "# HELP pinhole_wal_checkpoints_total Passive WAL checkpoints run.\n"
            "# TYPE pinhole_wal_checkpoints_total counter\npinhole_wal_checkpoints_total %" PRIu64
            "\n",
            ld(&w->transactions), ld(&w->failed_transactions), ld(&w->checkpoints));
    mprintf(&t,
            "# HELP pinhole_store_writable 0 while the store is read-only (opened with its disk "
            "full: writes refused), else 1.\n"
            "# TYPE pinhole_store_writable gauge\npinhole_store_writable %d\n",
            !pinhole_service_readonly(s->svc));
    mprintf(&t,
            "# HELP pinhole_db_bytes Size of the database file and its WAL.\n"
            "# TYPE pinhole_db_bytes gauge\npinhole_db_bytes %" PRIu64 "\n"
            "# HELP pinhole_connections Open HTTP connections.\n"
            "# TYPE pinhole_connections gauge\npinhole_connections %" PRIu64 "\n"
            "# HELP pinhole_requests_waiting Requests suspended until their batch commits.\n"
            "# TYPE pinhole_requests_waiting gauge\npinhole_requests_waiting %" PRIu64 "\n"
            "# HELP pinhole_uptime_seconds Seconds since the server started.\n"
            "# TYPE pinhole_uptime_seconds gauge\npinhole_uptime_seconds %.3f\n",
            disk_bytes, ld(&s->connections), ld(&s->waiting), pinhole_clock_mono() - s->started);
    pinhole_store_gc_stats gc;
    pinhole_service_gc_read(s->svc, &gc);
    mprintf(&t,
            "# HELP pinhole_gc_rows_removed_total Raw reports the garbage collector removed.\n"
            "# TYPE pinhole_gc_rows_removed_total counter\npinhole_gc_rows_removed_total %" PRIu64
            "\n# HELP pinhole_gc_bytes_removed_total Bytes the garbage collector freed (SQLite:"
            " report ids and payloads; PostgreSQL: dropped day partitions).\n"
            "# TYPE pinhole_gc_bytes_removed_total counter\npinhole_gc_bytes_removed_total %" PRIu64
            "\n# HELP pinhole_gc_passes_total Retirements of old days completed.\n"
            "# TYPE pinhole_gc_passes_total counter\npinhole_gc_passes_total %" PRIu64 "\n"
            "# HELP pinhole_gc_lag_seconds How long the garbage collector's pass under way has"
            " run; 0 when caught up.\n# TYPE pinhole_gc_lag_seconds gauge\n"
            "pinhole_gc_lag_seconds %.3f\n"
            "# HELP pinhole_replay_index_ids Report ids in the in-memory replay index (SQLite).\n"
            "# TYPE pinhole_replay_index_ids gauge\npinhole_replay_index_ids %" PRIu64 "\n"
            "# HELP pinhole_replay_index_bytes Memory of the replay index (SQLite).\n"
            "# TYPE pinhole_replay_index_bytes gauge\npinhole_replay_index_bytes %" PRIu64 "\n",
            gc.rows_removed, gc.bytes_removed, gc.passes, gc.lag_seconds, gc.index_ids,
            gc.index_bytes);
    mprintf(&t,
            "# HELP pinhole_collections Collections defined.\n"
            "# TYPE pinhole_collections gauge\npinhole_collections %zu\n",
            pinhole_service_collection_count(s->svc));
    pinhole_gate_stats gs;
    pinhole_gate_get_stats(s->gate, &gs);
    mprintf(&t,
            "# HELP pinhole_connections_refused_total Connections answered and closed before a "
            "request: limit (connection_limit), address (connections_per_address), head_timeout "
            "(408), head_too_large (431), evicted (408: the oldest connection still without a "
            "request, closed at the limit to make room).\n"
            "# TYPE pinhole_connections_refused_total counter\n"
            "pinhole_connections_refused_total{reason=\"limit\"} %llu\n"
            "pinhole_connections_refused_total{reason=\"address\"} %llu\n"
            "pinhole_connections_refused_total{reason=\"head_timeout\"} %llu\n"
            "pinhole_connections_refused_total{reason=\"head_too_large\"} %llu\n"
            "pinhole_connections_refused_total{reason=\"evicted\"} %llu\n",
            gs.refused_limit, gs.refused_address, gs.head_timeouts, gs.head_too_large, gs.evicted);
    mprintf(&t,
            "# HELP pinhole_body_buffer_bytes Request body bytes buffered (reserved) now.\n"
            "# TYPE pinhole_body_buffer_bytes gauge\npinhole_body_buffer_bytes %zu\n"
            "# HELP pinhole_body_buffer_refused_total Requests answered 429 because their body "
            "would pass body_buffer_bytes or body_buffer_bytes_per_address.\n"
            "# TYPE pinhole_body_buffer_refused_total counter\n"
            "pinhole_body_buffer_refused_total %llu\n",
            gs.body_bytes, gs.refused_body_bytes);
    if (t.oom) {
        free(t.p);
        return MHD_NO;
    }
    return pinhole_http_send(rq, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", t.p,
                             t.len, NULL, NULL);
}
