/* Responses: buffers and JSON, the problem table and problem documents, rejection counters. */
#include "common/error.h"
#include "server/http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const pinhole_problem_type problems[PROBLEM_COUNT] = {
    [PROBLEM_NOT_FOUND] = {"not-found", "Not Found", 404},
    [PROBLEM_METHOD_NOT_ALLOWED] = {"method-not-allowed", "Method Not Allowed", 405},
    [PROBLEM_UNAUTHORIZED] = {"unauthorized", "Unauthorized", 401},
    [PROBLEM_FORBIDDEN] = {"forbidden", "Forbidden", 403},
    [PROBLEM_UNKNOWN_COLLECTION] = {"unknown-collection", "Unknown Collection", 404},
    [PROBLEM_UNSUPPORTED_MEDIA_TYPE] = {"unsupported-media-type", "Unsupported Media Type", 415},
    [PROBLEM_BODY_TOO_LARGE] = {"body-too-large", "Content Too Large", 413},
    [PROBLEM_OUT_OF_MEMORY] = {"out-of-memory", "Out of Memory", 503},
    [PROBLEM_MALFORMED_JSON] = {"malformed-json", "Malformed Request", 400},
    [PROBLEM_INVALID_COLLECTION] = {"invalid-collection", "Invalid Collection", 422},
    [PROBLEM_STORE_ERROR] = {"store-error", "Store Error", 503},
    [PROBLEM_STORE_UNAVAILABLE] = {"store-unavailable", "Service Unavailable", 503},
    [PROBLEM_BUSY] = {"busy", "Too Many Requests", 429},
    [PROBLEM_MALFORMED_BATCH] = {"malformed-batch", "Malformed Batch", 400},
    [PROBLEM_BATCH_TOO_LARGE] = {"batch-too-large", "Batch Too Large", 413},
    [PROBLEM_REPORTS_REJECTED] = {"reports-rejected", "Reports Rejected", 422},
    [PROBLEM_BAD_QUERY] = {"bad-query", "Bad Query", 400},
    [PROBLEM_BELOW_MINIMUM_REPORTS] = {"below-minimum-reports", "Too Few Reports", 403},
    [PROBLEM_QUERY_TOO_LONG] = {"query-too-long", "Query Too Long", 503},
    [PROBLEM_UNSUPPORTED_MODULE] = {"unsupported-module", "Unsupported Module", 400},
    [PROBLEM_ESTIMATE_FAILED] = {"estimate-failed", "Estimate Failed", 500},
    [PROBLEM_CONFIG] = {"config", "Config Error", 500},
    [PROBLEM_UNKNOWN_JOB_TYPE] = {"unknown-job-type", "Unknown Job Type", 422},
    [PROBLEM_INVALID_JOB] = {"invalid-job", "Invalid Job", 422},
    [PROBLEM_UNKNOWN_JOB] = {"unknown-job", "Unknown Job", 404},
    [PROBLEM_UNKNOWN_DISCOVERY] = {"unknown-discovery", "Unknown Discovery Collection", 404},
    [PROBLEM_INVALID_DISCOVERY] = {"invalid-discovery", "Invalid Discovery Collection", 422},
    [PROBLEM_DISCOVERY_FINISHED] = {"discovery-finished", "Discovery Finished", 409},
    [PROBLEM_ROUND_CLOSED] = {"round-closed", "Round Closed", 409},
    [PROBLEM_TOO_MANY_CONNECTIONS] = {"too-many-connections", "Service Unavailable", 503},
    [PROBLEM_REQUEST_TIMEOUT] = {"request-timeout", "Request Timeout", 408},
    [PROBLEM_HEADER_TOO_LARGE] = {"header-too-large", "Request Header Fields Too Large", 431},
    [PROBLEM_BAD_REQUEST] = {"bad-request", "Bad Request", 400},
    [PROBLEM_VERSION_NOT_SUPPORTED] = {"http-version-not-supported", "HTTP Version Not Supported",
                                       505},
    [PROBLEM_JOB_PATH] = {"job-path", "Wrong Path For This Job Type", 422},
    [PROBLEM_DISK_FULL] = {"disk-full", "Disk Full", 503},
    [PROBLEM_INVALID_CLOSE] = {"invalid-close", "Invalid Close", 422},
};

const pinhole_problem_type *pinhole_problem_get(pinhole_problem p)
{
    return &problems[p];
}

const pinhole_problem_type *pinhole_problem_types(size_t *n)
{
    *n = PROBLEM_COUNT;
    return problems;
}

const char *const pinhole_http_reason_name[RS_COUNT] = {
    [RS_FORMAT] = "format",        [RS_TRUNCATED] = "truncated", [RS_VERSION] = "version",
    [RS_MISMATCH] = "fingerprint", [RS_RANGE] = "time",          [RS_SEAL] = "seal",
    [RS_INVALID] = "payload",      [RS_REPLAY] = "replay",       [RS_BUSY] = "busy",
    [RS_TOO_LARGE] = "too_large",  [RS_STORE] = "store_error",   [RS_WINDOW] = "window",
    [RS_CLOSED] = "closed",        [RS_DELETED] = "deleted"};

const char *const pinhole_http_reason_text[RS_COUNT] = {
    [RS_FORMAT] = "malformed report",
    [RS_TRUNCATED] = "report truncated",
    [RS_VERSION] = "unsupported report version",
    [RS_MISMATCH] = "report made for other collection parameters (its collection id or "
                    "fingerprint differs)",
    [RS_RANGE] = "report time out of range: 2^62 time units or more, a 17th distinct time in one "
                 "batch (at most 16), or a day whose report ids the server has already retired",
    [RS_SEAL] = "sealed report that no key of the server opens (sealed to a retired key or to "
                "another server's, or altered)",
    [RS_INVALID] = "payload outside the collection's report alphabet",
    [RS_REPLAY] = "report id already stored with other content (a replay): dropped",
    [RS_BUSY] = "the server is busy: retry later",
    [RS_TOO_LARGE] = "too large, or bytes after the report",
    [RS_STORE] = "the store failed: retry later",
    [RS_WINDOW] = "report time outside the collection's report window (too old, or ahead of the "
                  "server's clock)",
    [RS_CLOSED] = "report time in a closed time bucket of the collection (its estimate is final)",
    [RS_DELETED] = "the collection was deleted while the batch waited",
};

enum MHD_Result pinhole_http_send(request *rq, unsigned status, const char *type, char *buf,
                                  size_t len, const char *h1, const char *v1)
{
    rq->log_status = status;
    rq->log_bytes = len;
    if (rq->defer) { /* keep it for the pool thread that resumes the connection */
        rq->out.status = status;
        rq->out.type = type;
        rq->out.body = buf;
        rq->out.len = len;
        rq->out.h1 = h1;
        snprintf(rq->out.v1, sizeof rq->out.v1, "%s", v1 ? v1 : "");
        rq->out.set = 1;
        return MHD_YES;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, buf, buf ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(buf);
        return MHD_NO;
    }
    if (type) /* none on a 204 */
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (h1)
        MHD_add_response_header(r, h1, v1);
    enum MHD_Result ok = MHD_queue_response(rq->conn, status, r);
    MHD_destroy_response(r);
    if (status < 600)
        atomic_fetch_add_explicit(&rq->srv->status[status], 1, memory_order_relaxed);
    return ok;
}

enum MHD_Result pinhole_http_send_json(request *rq, unsigned status, json_t *o, const char *h1,
                                       const char *v1)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(o);
    if (!s)
        return MHD_NO;
    return pinhole_http_send(rq, status, "application/json", s, strlen(s), h1, v1);
}

enum MHD_Result pinhole_http_problem_ext(request *rq, pinhole_problem p, const char *detail,
                                         json_t *extra, const char *h1, const char *v1)
{
    const pinhole_problem_type *pt = &problems[p];
    char type[128];
    snprintf(type, sizeof type, "urn:pinhole:problem:%s", pt->slug);
    json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", pt->title, "status",
                          (int)pt->status, "detail", detail ? detail : pt->title);
    if (o && extra)
        json_object_update(o, extra);
    json_decref(extra);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(o);
    if (!s)
        return MHD_NO;
    return pinhole_http_send(rq, pt->status, "application/problem+json", s, strlen(s), h1, v1);
}

enum MHD_Result pinhole_http_problem(request *rq, pinhole_problem p, const char *detail)
{
    return pinhole_http_problem_ext(rq, p, detail, NULL, NULL, NULL);
}

enum MHD_Result pinhole_http_problem_retry(request *rq, pinhole_problem p, const char *detail)
{
    char ra[16];
    snprintf(ra, sizeof ra, "%u", rq->srv->opt.retry_after);
    return pinhole_http_problem_ext(rq, p, detail, NULL, MHD_HTTP_HEADER_RETRY_AFTER, ra);
}

void pinhole_http_disk_full(request *rq, enum MHD_Result *res)
{
    *res = pinhole_http_problem_retry(
        rq, PROBLEM_DISK_FULL,
        pinhole_service_readonly(rq->srv->svc)
            ? "the server's disk is full and its store is read-only: nothing was written; reads "
              "are served; writes are accepted again once space is freed"
            : "the server's disk is full: nothing was written; reads are served; retry after "
              "the given delay");
}

void pinhole_http_reject(pinhole_server *s, enum reason r, uint64_t n)
{
    atomic_fetch_add_explicit(&s->rejected[r], n, memory_order_relaxed);
}
