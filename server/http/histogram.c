/* The histogram resource (GET /v1/collections/{id}/histogram): query parameters, the query thread
 * that reads the counts and runs the estimate and inline modules off the pool threads, and the
 * rendered answer. */
#include "common/clock.h"
#include "common/error.h"
#include "server/http/http.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Inline modules stop after INLINE_SECONDS (they run on the single query thread): progress
 * callback of pinhole_histogram_compute(); ctx points at the deadline. */
#define INLINE_SECONDS 10.0
static int past_deadline(void *ctx, double fraction)
{
    (void)fraction;
    return pinhole_clock_mono() > *(const double *)ctx;
}

/* The histogram itself, on the query thread: counts of the range, estimate, rendering. ws: the
 * query thread's reconstruction workspace (NULL: a temporary one per query). */
static enum MHD_Result compute_histogram(request *rq, pinhole_pgr_workspace *ws)
{
    pinhole_server *s = rq->srv;
    const pinhole_server_collection *c = rq->coll;
    pinhole_histogram_query q = rq->query;
    char err[256];
    int64_t first, last, closed = 0;
    pinhole_server_collection_bucket_range(c, q.from, q.to, &first, &last);
    /* the closed buckets: read first, so that a close after it only makes the answer
     * conservative (a bucket closed meanwhile is summed but said open) */
    const int closed_rc = pinhole_service_closed_before(s->svc, c->id, &closed);
    if (q.closed_only && last >= closed)
        last = closed - 1;
    q.closed_before = closed * (int64_t)c->time_precision;
    q.final = last < closed;
    uint64_t *counts = malloc(c->cfg.counts_len * sizeof *counts);
    pinhole_histogram h = {0};
    double until = pinhole_clock_mono() + INLINE_SECONDS;
    const pinhole_progress deadline = {past_deadline, &until};
    /* inline modules: top-k probabilities from 256 samples (a power of two: they sum to topk
     * exactly), seeded so the same query gives the same answer; the MLE capped at 200 steps
     * (longer runs are jobs) */
    const pinhole_histogram_options ho = {.consistency = q.consistency,
                                          .mle_iterations = 200,
                                          .topk = q.topk,
                                          .topk_samples = 256,
                                          .seed = 1,
                                          .significance = q.significance,
                                          .workspace = ws};
    uint64_t n = 0;
    int rc = !counts ? PINHOLE_ENOMEM : closed_rc == PINHOLE_ENOTFOUND ? PINHOLE_OK : closed_rc;
    if (rc == PINHOLE_OK && first <= last) {
        rc = pinhole_service_counts(s->svc, c, first, last, counts, &n);
    }
    enum MHD_Result res;
    if (rc != PINHOLE_OK) {
        res = pinhole_http_problem(rq, PROBLEM_STORE_ERROR, "the counts could not be read");
    } else if (n == 0 || n < c->min_reports) {
        snprintf(err, sizeof err,
                 "%" PRIu64
                 " reports in this range; the collection releases estimates from %" PRIu32,
                 n, c->min_reports > 0 ? c->min_reports : 1u);
        res = pinhole_http_problem_ext(
            rq, PROBLEM_BELOW_MINIMUM_REPORTS, err,
            json_pack("{s:I, s:I}", "n", (json_int_t)n, "min_reports", (json_int_t)c->min_reports),
            NULL, NULL);
    } else if (pinhole_api_histogram_check(c->params.k, &q, err, sizeof err) != PINHOLE_OK) {
        res = pinhole_http_problem(rq, PROBLEM_BAD_QUERY, err);
    } else if ((rc = pinhole_histogram_compute(&c->cfg, counts, n, &ho, &h, &deadline)) !=
               PINHOLE_OK) {
        if (rc == PINHOLE_ECANCELED) {
            res = pinhole_http_problem(rq, PROBLEM_QUERY_TOO_LONG,
                                       "the inline modules took over 10 s; run them as a job "
                                       "(POST /v1/collections/{id}/jobs)");
        } else if (rc == PINHOLE_EUNSUPPORTED) {
            res = pinhole_http_problem(
                rq, PROBLEM_UNSUPPORTED_MODULE,
                "this consistency method is not available for the collection's "
                "mechanism");
        } else {
            snprintf(err, sizeof err, "estimation failed: %s", pinhole_strerror(rc));
            res = pinhole_http_problem(rq, PROBLEM_ESTIMATE_FAILED, err);
        }
    } else {
        size_t len = 0;
        char *text = pinhole_api_histogram_render(c, &q, &h, &len);
        char sig[96]; /* the CSV form names the significance test in a header */
        pinhole_api_significance_header(&h, sig, sizeof sig);
        if (!text)
            res = pinhole_http_problem(rq, PROBLEM_OUT_OF_MEMORY, NULL);
        else
            res = pinhole_http_send(
                rq, MHD_HTTP_OK, q.csv ? "text/csv; charset=utf-8" : "application/json", text, len,
                sig[0] ? "Pinhole-Significance" : NULL, sig[0] ? sig : NULL);
    }
    free(counts);
    pinhole_histogram_free(&h);
    return res;
}

static void *query_main(void *arg)
{
    pinhole_server *s = arg;
    pinhole_pgr_workspace *ws = pinhole_pgr_workspace_new(); /* kept across queries */
    pthread_mutex_lock(&s->qmu);
    for (;;) {
        while (!s->qhead && !s->qstop)
            pthread_cond_wait(&s->qcv, &s->qmu);
        request *rq = s->qhead;
        if (!rq)
            break; /* stopping, and every query answered */
        s->qhead = rq->qnext;
        if (!s->qhead)
            s->qtail = NULL;
        s->qlen--;
        pthread_mutex_unlock(&s->qmu);
        rq->defer = 1;
        if (compute_histogram(rq, ws) != MHD_YES || !rq->out.set)
            rq->out.status = 0; /* the resumed callback closes the connection */
        rq->defer = 0;
        rq->phase = 2;
        atomic_fetch_sub_explicit(&s->waiting, 1, memory_order_relaxed);
        MHD_resume_connection(rq->conn);
        pthread_mutex_lock(&s->qmu);
    }
    pthread_mutex_unlock(&s->qmu);
    pinhole_pgr_workspace_free(ws);
    return NULL;
}

/* Most histogram queries waiting for the query thread; more are answered 503. */
#define PINHOLE_QUERY_QUEUE 64

enum MHD_Result pinhole_http_histogram(request *rq)
{
    pinhole_server *s = rq->srv;
    if (rq->phase == 2) { /* resumed: queue what the query thread built */
        if (!rq->out.set)
            return MHD_NO;
        rq->out.set = 0;
        return pinhole_http_send(rq, rq->out.status, rq->out.type, rq->out.body, rq->out.len,
                                 rq->out.h1, rq->out.v1);
    }
    struct MHD_Connection *k = rq->conn;
    char err[256];
    if (pinhole_api_parse_histogram_query(
            MHD_lookup_connection_value(k, MHD_GET_ARGUMENT_KIND, "from"),
            MHD_lookup_connection_value(k, MHD_GET_ARGUMENT_KIND, "to"),
            MHD_lookup_connection_value(k, MHD_GET_ARGUMENT_KIND, "top"),
            MHD_lookup_connection_value(k, MHD_GET_ARGUMENT_KIND, "format"),
            MHD_lookup_connection_value(k, MHD_GET_ARGUMENT_KIND, "consistency"),
            MHD_lookup_connection_value(k, MHD_GET_ARGUMENT_KIND, "topk"), &rq->query, err,
            sizeof err) != PINHOLE_OK ||
        pinhole_api_parse_histogram_select(
            MHD_lookup_connection_value(k, MHD_GET_ARGUMENT_KIND, "significant"),
            MHD_lookup_connection_value(k, MHD_GET_ARGUMENT_KIND, "items"), &rq->query, err,
            sizeof err) != PINHOLE_OK)
        return pinhole_http_problem(rq, PROBLEM_BAD_QUERY, err);
    const char *closed = MHD_lookup_connection_value(k, MHD_GET_ARGUMENT_KIND, "closed");
    if (closed && strcmp(closed, "true") != 0 && strcmp(closed, "false") != 0)
        return pinhole_http_problem(rq, PROBLEM_BAD_QUERY, "closed: true or false");
    rq->query.closed_only = closed && strcmp(closed, "true") == 0;
    pthread_mutex_lock(&s->qmu);
    if (s->qstop || s->qlen >= PINHOLE_QUERY_QUEUE) {
        const int stopping = s->qstop;
        pthread_mutex_unlock(&s->qmu);
        return pinhole_http_problem_retry(
            rq, PROBLEM_STORE_UNAVAILABLE,
            stopping ? "the server is shutting down"
                     : "too many histogram queries are waiting; retry later");
    }
    rq->phase = 1;
    atomic_fetch_add_explicit(&s->waiting, 1, memory_order_relaxed);
    MHD_suspend_connection(rq->conn); /* before the query thread can resume it */
    if (s->qtail)
        s->qtail->qnext = rq;
    else
        s->qhead = rq;
    s->qtail = rq;
    s->qlen++;
    pthread_cond_signal(&s->qcv);
    pthread_mutex_unlock(&s->qmu);
    return MHD_YES;
}

int pinhole_http_queries_start(pinhole_server *s)
{
    if (pthread_create(&s->qthread, NULL, query_main, s) != 0)
        return PINHOLE_ENOMEM;
    s->qstarted = 1;
    return PINHOLE_OK;
}

void pinhole_http_queries_stop(pinhole_server *s)
{
    if (!s->qstarted)
        return;
    pthread_mutex_lock(&s->qmu);
    s->qstop = 1; /* the thread answers what is queued, then ends */
    pthread_cond_broadcast(&s->qcv);
    pthread_mutex_unlock(&s->qmu);
    pthread_join(s->qthread, NULL);
    s->qstarted = 0;
}
