/* The reports resource (POST /v1/collections/{id}/reports): a batch is decoded on the pool thread
 * as its bytes arrive (server/service/ingest.h), handed to the writer with the connection
 * suspended, and answered once its transaction committed. A collection collecting a discovery round
 * takes reports while the round is open only. */
#include "common/error.h"
#include "server/http/http.h"
#include "server/service/ingest.h"

#include <stdio.h>
#include <stdlib.h>

static enum reason reason_of(int error)
{
    switch (error) {
    case PINHOLE_ETOOBIG:
        return RS_TOO_LARGE;
    case PINHOLE_ESIGNATURE:
        return RS_SEAL;
    case PINHOLE_ETRUNCATED:
        return RS_TRUNCATED;
    case PINHOLE_EVERSION:
        return RS_VERSION;
    case PINHOLE_EMISMATCH:
        return RS_MISMATCH;
    case PINHOLE_ERANGE:
        return RS_RANGE;
    case PINHOLE_EWINDOW:
        return RS_WINDOW;
    case PINHOLE_ECLOSED:
        return RS_CLOSED;
    case PINHOLE_ENOTFOUND:
        return RS_DELETED;
    default:
        return RS_FORMAT;
    }
}

static const char *status_name(pinhole_report_status st)
{
    switch (st) {
    case PINHOLE_REPORT_REPLAY:
        return "replay";
    case PINHOLE_REPORT_INVALID:
        return "invalid";
    default:
        return "rejected";
    }
}

/* The reply to a batch once its statuses are final: counts, and the reports not acknowledged,
 * each counted under its reason (decoding and the store both refuse reports). */
static enum MHD_Result batch_reply(request *rq)
{
    uint64_t acc = 0, dup = 0, bad = 0;
    json_t *errors = json_array();
    for (size_t i = 0; i < rq->n; i++) {
        const pinhole_ingest_report *r = &rq->reports[i];
        if (r->status == PINHOLE_REPORT_ACCEPTED) {
            acc++;
        } else if (r->status == PINHOLE_REPORT_DUPLICATE) {
            dup++;
        } else {
            bad++;
            const enum reason why = r->status == PINHOLE_REPORT_REPLAY    ? RS_REPLAY
                                    : r->status == PINHOLE_REPORT_INVALID ? RS_INVALID
                                                                          : reason_of(r->error);
            pinhole_http_reject(rq->srv, why, 1);
            json_array_append_new(errors, json_pack("{s:I, s:s, s:s, s:s}", "index", (json_int_t)i,
                                                    "status", status_name(r->status), "reason",
                                                    pinhole_http_reason_name[why], "error",
                                                    pinhole_http_reason_text[why]));
        }
    }
    json_t *body = json_pack("{s:I, s:I, s:I, s:o}", "accepted", (json_int_t)acc, "duplicates",
                             (json_int_t)dup, "rejected", (json_int_t)bad, "errors", errors);
    if (acc + dup == 0 && bad > 0)
        return pinhole_http_problem_ext(rq, PROBLEM_REPORTS_REJECTED,
                                        "no report of the batch was acknowledged", body, NULL,
                                        NULL);
    return pinhole_http_send_json(rq, MHD_HTTP_OK, body, NULL, NULL);
}

static void batch_done(pinhole_ingest_batch *batch, void *arg)
{
    (void)batch;
    request *rq = arg;
    rq->phase = 2;
    atomic_fetch_sub_explicit(&rq->srv->waiting, 1, memory_order_relaxed);
    MHD_resume_connection(rq->conn);
}

enum MHD_Result pinhole_http_reports(request *rq)
{
    pinhole_server *s = rq->srv;
    if (rq->phase == 2) { /* resumed by the writer */
        if (rq->submit_error == PINHOLE_EOVERFLOW) {
            pinhole_http_reject(s, RS_BUSY, rq->n);
            return pinhole_http_problem_retry(
                rq, PROBLEM_BUSY, "the write queue is full; retry after the given delay");
        }
        if (rq->submit_error == PINHOLE_ENOSPACE || rq->batch.result == PINHOLE_ENOSPACE) {
            pinhole_http_reject(s, RS_STORE, rq->n);
            enum MHD_Result res;
            pinhole_http_disk_full(rq, &res);
            return res;
        }
        if (rq->submit_error != PINHOLE_OK || rq->batch.result != PINHOLE_OK) {
            pinhole_http_reject(s, RS_STORE, rq->n);
            return pinhole_http_problem_retry(
                rq, PROBLEM_STORE_UNAVAILABLE,
                rq->submit_error == PINHOLE_ECANCELED
                    ? "the server is shutting down; nothing was stored"
                    : "the transaction failed; nothing was stored, retry");
        }
        /* a discovery round holding the reports it wants is closed by a job */
        pinhole_service_discovery_reports_arrived(s->svc, rq->coll->id);
        return batch_reply(rq);
    }
    int64_t discovery;
    uint32_t round;
    int open;
    if (pinhole_service_discovery_round_of(s->svc, rq->coll->id, &discovery, &round, &open) ==
            PINHOLE_OK &&
        !open) {
        char d[240];
        snprintf(d, sizeof d,
                 "round %u of discovery collection %lld is closed and takes no more reports; a "
                 "device reports to one round only (the open round: GET /v1/discoveries/%lld)",
                 (unsigned)round, (long long)discovery, (long long)discovery);
        return pinhole_http_problem(rq, PROBLEM_ROUND_CLOSED, d);
    }
    /* decoded as the body arrived (server.c): only the reports' records are held */
    int rc = rq->stream_error != PINHOLE_OK
                 ? rq->stream_error
                 : pinhole_ingest_stream_finish(rq->stream, &rq->reports, &rq->n, &rq->arena);
    if (rc != PINHOLE_OK) {
        if (rc == PINHOLE_ENOMEM)
            return pinhole_http_problem(rq, PROBLEM_OUT_OF_MEMORY, NULL);
        pinhole_http_reject(s, reason_of(rc), 1);
        char d[200];
        snprintf(d, sizeof d, "the batch could not be decoded: %s%s", pinhole_strerror(rc),
                 rc == PINHOLE_ETOOBIG ? " (too many reports, or an item over its size limit)"
                                       : "");
        return pinhole_http_problem(
            rq, rc == PINHOLE_ETOOBIG ? PROBLEM_BATCH_TOO_LARGE : PROBLEM_MALFORMED_BATCH, d);
    }
    size_t pending = 0;
    for (size_t i = 0; i < rq->n; i++)
        pending += rq->reports[i].status == PINHOLE_REPORT_PENDING;
    if (pending == 0)
        return batch_reply(rq);
    rq->batch =
        (pinhole_ingest_batch){.reports = rq->reports, .n = rq->n, .done = batch_done, .arg = rq};
    /* Suspend first: the writer may finish and resume before this callback returns, which
     * libmicrohttpd handles; resuming a connection not yet suspended it would not. */
    rq->phase = 1;
    atomic_fetch_add_explicit(&s->waiting, 1, memory_order_relaxed);
    MHD_suspend_connection(rq->conn);
    rc = pinhole_service_submit(s->svc, &rq->batch);
    if (rc != PINHOLE_OK) {
        rq->submit_error = rc;
        rq->phase = 2;
        atomic_fetch_sub_explicit(&s->waiting, 1, memory_order_relaxed);
        MHD_resume_connection(rq->conn);
    }
    return MHD_YES;
}
