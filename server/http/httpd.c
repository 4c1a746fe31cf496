/* The HTTP daemon: routing, authentication, body limits, suspend/resume around the writer,
 * problem+json errors, the histogram query, /healthz and /metrics. */
#include "server/http/httpd.h"
#include "common/error.h"
#include "server/estimate/estimate.h"
#include "proto/config_json.h"
#include "server/http/ingest.h"
#include "server/http/ui.h"
#include "server/jobs/jobs.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Per-report and per-request rejection reasons, as /metrics labels. */
enum reason {
    RS_FORMAT,
    RS_TRUNCATED,
    RS_VERSION,
    RS_MISMATCH,
    RS_RANGE,
    RS_SEAL,
    RS_INVALID,
    RS_REPLAY,
    RS_BUSY,
    RS_TOO_LARGE,
    RS_STORE,
    RS_COUNT
};
static const char *const reason_name[RS_COUNT] = {
    [RS_FORMAT] = "format",        [RS_TRUNCATED] = "truncated", [RS_VERSION] = "version",
    [RS_MISMATCH] = "fingerprint", [RS_RANGE] = "time",          [RS_SEAL] = "seal",
    [RS_INVALID] = "payload",      [RS_REPLAY] = "replay",       [RS_BUSY] = "busy",
    [RS_TOO_LARGE] = "too_large",  [RS_STORE] = "store_error"};

enum role { ROLE_ADMIN = 1, ROLE_ANALYST = 2, ROLE_UPLOADER = 4 };

typedef struct reader_slot {
    pinhole_store store;
    int open, busy;
} reader_slot;

struct pinhole_server {
    pinhole_server_options opt;
    struct MHD_Daemon *d;
    uint16_t port;
    pinhole_writer writer;
    pthread_rwlock_t coll_lock; /* guards the array, not the collections (read-only, never freed
                                   before stop) */
    pinhole_collection **coll;
    size_t ncoll, capcoll;
    pthread_mutex_t admin_mu;
    pinhole_store admin;
    pinhole_server_keys keys;
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    reader_slot *readers;
    unsigned nreaders;
    _Atomic uint64_t status[600];        /* responses by HTTP status */
    _Atomic uint64_t rejected[RS_COUNT]; /* reports (or bodies) refused, by reason */
    _Atomic uint64_t waiting;     /* requests suspended (on the writer or the query thread) */
    _Atomic uint64_t connections; /* open connections */
    _Atomic uint64_t inflight;    /* requests between first callback and completion */
    double started;
    /* Histogram queries run on their own thread, off the pool: a long estimate never stalls the
     * ingest connections that share a pool thread with it. */
    pthread_t qthread;
    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    struct request *qhead, *qtail;
    size_t qlen;
    int qstop, qstarted;
    pinhole_jobs *jobs; /* the analytics job runner (server/jobs) */
};

enum route {
    R_NONE,
    R_HEALTH,
    R_METRICS,
    R_COLLECTIONS,
    R_COLLECTION,
    R_REPORTS,
    R_HISTOGRAM,
    R_CONFIG,
    R_KEYS,
    R_TIMELINE,
    R_JOBS_POST,
    R_JOB,
    R_UI,
    R_ROOT,
};

typedef struct request {
    pinhole_server *srv;
    struct MHD_Connection *conn;
    enum route route;
    pinhole_collection *coll;
    uint8_t *body;
    size_t len, cap, limit;
    int too_large;
    int phase; /* 0 receiving, 1 suspended (writer or query thread), 2 resumed */
    int submit_error;
    int answered; /* a response was queued at the first callback */
    int defer;    /* responses go to out (built off the pool thread) instead of to the connection */
    struct {      /* a response built while deferred, queued once resumed */
        unsigned status;
        const char *type; /* static string */
        char *body;
        size_t len;
        const char *h1; /* static header name */
        char v1[128];
        int set;
    } out;
    pinhole_histogram_query query;
    int64_t job_id;        /* R_JOB */
    const char *asset;     /* R_UI: file name */
    struct request *qnext; /* query queue link */
    pinhole_writer_job job;
    pinhole_ingest_report *reports;
    size_t n;
    uint8_t *arena; /* opened sealed reports */
} request;

void pinhole_server_options_default(pinhole_server_options *o)
{
    memset(o, 0, sizeof *o);
    strcpy(o->listen, "127.0.0.1");
    o->port = 8080;
    o->threads = 2;
    o->connection_limit = 1024;
    o->connection_timeout = 30;
    o->connection_memory = 32768;
    o->max_body_bytes = 8u << 20;
    o->max_admin_body_bytes = 64u << 20;
    o->max_batch_reports = 65536;
    o->retry_after = 1;
    o->job_workers = 1;
    o->job_time_limit = 600;
    strcpy(o->db_path, "pinhole.db");
    o->writer.max_queue_reports = 1000000;
    o->writer.max_txn_reports = 100000;
    o->writer.checkpoint_interval = 5;
}

/* ---- responses ---- */

static enum MHD_Result send_buffer(request *rq, unsigned status, const char *type, char *buf,
                                   size_t len, const char *h1, const char *v1)
{
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

static enum MHD_Result send_json(request *rq, unsigned status, json_t *o, const char *h1,
                                 const char *v1)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(o);
    if (!s)
        return MHD_NO;
    return send_buffer(rq, status, "application/json", s, strlen(s), h1, v1);
}

/* An RFC 9457 problem document; extra (may be NULL, stolen) adds extension members. */
static enum MHD_Result problem_ext(request *rq, unsigned status, const char *slug,
                                   const char *title, const char *detail, json_t *extra,
                                   const char *h1, const char *v1)
{
    char type[128];
    snprintf(type, sizeof type, "urn:pinhole:problem:%s", slug);
    json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", title, "status",
                          (int)status, "detail", detail ? detail : title);
    if (o && extra)
        json_object_update(o, extra);
    json_decref(extra);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(o);
    if (!s)
        return MHD_NO;
    return send_buffer(rq, status, "application/problem+json", s, strlen(s), h1, v1);
}

static enum MHD_Result problem(request *rq, unsigned status, const char *slug, const char *title,
                               const char *detail)
{
    return problem_ext(rq, status, slug, title, detail, NULL, NULL, NULL);
}

static void reject(pinhole_server *s, enum reason r, uint64_t n)
{
    atomic_fetch_add_explicit(&s->rejected[r], n, memory_order_relaxed);
}

/* ---- collections registry ---- */

static pinhole_collection *find_collection(pinhole_server *s, int64_t id)
{
    pinhole_collection *c = NULL;
    pthread_rwlock_rdlock(&s->coll_lock);
    size_t lo = 0, hi = s->ncoll;
    while (lo < hi) { /* ids only grow, so the array is sorted */
        const size_t mid = lo + (hi - lo) / 2;
        if (s->coll[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->ncoll && s->coll[lo]->id == id)
        c = s->coll[lo];
    pthread_rwlock_unlock(&s->coll_lock);
    return c;
}

static int add_collection(pinhole_server *s, pinhole_collection *c)
{
    pthread_rwlock_wrlock(&s->coll_lock);
    if (s->ncoll == s->capcoll) {
        const size_t cap = s->capcoll ? 2 * s->capcoll : 16;
        pinhole_collection **a = realloc(s->coll, cap * sizeof *a);
        if (!a) {
            pthread_rwlock_unlock(&s->coll_lock);
            return PINHOLE_ENOMEM;
        }
        s->coll = a;
        s->capcoll = cap;
    }
    s->coll[s->ncoll++] = c;
    pthread_rwlock_unlock(&s->coll_lock);
    return PINHOLE_OK;
}

/* ---- reader connections ---- */

static reader_slot *reader_get(pinhole_server *s)
{
    pthread_mutex_lock(&s->pool_mu);
    for (;;) {
        for (unsigned i = 0; i < s->nreaders; i++) {
            reader_slot *r = &s->readers[i];
            if (r->busy)
                continue;
            if (!r->open) {
                pinhole_store_options o = {.readonly = 1};
                if (pinhole_store_open(&r->store, s->opt.db_path, &o) != PINHOLE_OK) {
                    pthread_mutex_unlock(&s->pool_mu);
                    return NULL;
                }
                r->open = 1;
            }
            r->busy = 1;
            pthread_mutex_unlock(&s->pool_mu);
            return r;
        }
        pthread_cond_wait(&s->pool_cv, &s->pool_mu);
    }
}

static void reader_put(pinhole_server *s, reader_slot *r)
{
    pthread_mutex_lock(&s->pool_mu);
    r->busy = 0;
    pthread_cond_signal(&s->pool_cv);
    pthread_mutex_unlock(&s->pool_mu);
}

/* ---- authentication ---- */

/* Roles granted by the request's bearer token (0 when absent or unknown). Every configured hash
 * is compared, in constant time, whatever matched. *present tells whether a token was sent. */
static int roles_of(pinhole_server *s, struct MHD_Connection *conn, int *present)
{
    const char *h =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *tok;
    size_t len;
    *present = h != NULL;
    if (pinhole_api_bearer_token(h, &tok, &len) != 0)
        return 0;
    uint8_t hash[PINHOLE_TOKEN_HASH_BYTES];
    pinhole_token_hash(tok, len, hash);
    int roles = 0;
    if (sodium_memcmp(hash, s->opt.admin_hash, sizeof hash) == 0 && s->opt.have_admin)
        roles |= ROLE_ADMIN | ROLE_ANALYST | ROLE_UPLOADER;
    if (sodium_memcmp(hash, s->opt.analyst_hash, sizeof hash) == 0 && s->opt.have_analyst)
        roles |= ROLE_ANALYST;
    if (sodium_memcmp(hash, s->opt.uploader_hash, sizeof hash) == 0 && s->opt.have_uploader)
        roles |= ROLE_UPLOADER;
    return roles;
}

/* 0 when the request may proceed for role need, else -1 with a 401/403 queued (*res its result). */
static int check_role(request *rq, int need, enum MHD_Result *res)
{
    pinhole_server *s = rq->srv;
    if (need == ROLE_UPLOADER && !s->opt.have_uploader)
        return 0; /* uploads are open when no uploader token is configured */
    int present;
    const int roles = roles_of(s, rq->conn, &present);
    if (roles & need)
        return 0;
    if (roles) {
        *res = problem(rq, MHD_HTTP_FORBIDDEN, "forbidden", "Forbidden",
                       "this token does not grant access to this operation");
    } else {
        *res = problem_ext(rq, MHD_HTTP_UNAUTHORIZED, "unauthorized", "Unauthorized",
                           present ? "the bearer token is not valid"
                                   : "an Authorization: Bearer token is required",
                           NULL, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                           present ? "Bearer realm=\"pinhole\", error=\"invalid_token\""
                                   : "Bearer realm=\"pinhole\"");
    }
    return -1;
}

/* ---- routing ---- */

/* Parse "/v1/collections/<id>[/<tail>]": 0 and *id, *tail ("" when none), or -1. */
static int parse_collection_path(const char *url, int64_t *id, const char **tail)
{
    static const char pre[] = "/v1/collections/";
    if (strncmp(url, pre, sizeof pre - 1) != 0)
        return -1;
    const char *p = url + sizeof pre - 1;
    int64_t x = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 18) {
        x = 10 * x + (*p++ - '0');
        digits++;
    }
    if (digits == 0 || (*p != '\0' && *p != '/'))
        return -1;
    *id = x;
    *tail = *p == '/' ? p + 1 : p;
    return 0;
}

static int content_type_is(struct MHD_Connection *conn, const char *want)
{
    const char *ct =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    const size_t n = strlen(want);
    return ct && strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* First callback of a request: route, method, authentication, size and type checks. Returns 1 to
 * go on receiving, or 0 with *res set when an answer was queued already. */
static int begin_request(request *rq, const char *url, const char *method, enum MHD_Result *res)
{
    pinhole_server *s = rq->srv;
    const int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    const int post = strcmp(method, "POST") == 0;
    const char *allow = "GET";
    int64_t id = 0;
    const char *tail = "";
    if (strcmp(url, "/healthz") == 0)
        rq->route = R_HEALTH;
    else if (strcmp(url, "/metrics") == 0)
        rq->route = R_METRICS;
    else if (strcmp(url, "/v1/keys") == 0)
        rq->route = R_KEYS;
    else if (strcmp(url, "/v1/collections") == 0)
        rq->route = R_COLLECTIONS, allow = "GET, POST";
    else if (strcmp(url, "/") == 0)
        rq->route = R_ROOT;
    else if (strcmp(url, "/ui") == 0)
        rq->route = R_ROOT; /* the page's relative links need the slash */
    else if (strncmp(url, "/ui/", 4) == 0) {
        const char *name = url[4] ? url + 4 : "index.html";
        if (pinhole_ui_find(name))
            rq->route = R_UI, rq->asset = name;
    } else if (strncmp(url, "/v1/jobs/", 9) == 0) {
        const char *p = url + 9;
        int64_t x = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 18)
            x = 10 * x + (*p++ - '0'), digits++;
        if (digits > 0 && *p == '\0')
            rq->route = R_JOB, rq->job_id = x, allow = "GET, DELETE";
    } else if (parse_collection_path(url, &id, &tail) == 0) {
        if (*tail == '\0')
            rq->route = R_COLLECTION;
        else if (strcmp(tail, "reports") == 0)
            rq->route = R_REPORTS, allow = "POST";
        else if (strcmp(tail, "histogram") == 0)
            rq->route = R_HISTOGRAM;
        else if (strcmp(tail, "config") == 0)
            rq->route = R_CONFIG;
        else if (strcmp(tail, "timeline") == 0)
            rq->route = R_TIMELINE;
        else if (strcmp(tail, "jobs") == 0)
            rq->route = R_JOBS_POST, allow = "POST";
    }
    if (rq->route == R_NONE) {
        *res = problem(rq, MHD_HTTP_NOT_FOUND, "not-found", "Not Found", "no such endpoint");
        return 0;
    }
    const int del = strcmp(method, "DELETE") == 0;
    const int want_post =
        rq->route == R_REPORTS || rq->route == R_JOBS_POST || (rq->route == R_COLLECTIONS && post);
    const int want_delete = rq->route == R_JOB && del;
    if ((want_post && !post) || (!want_post && !want_delete && !get)) {
        *res = problem_ext(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method-not-allowed",
                           "Method Not Allowed", "this endpoint does not accept this method", NULL,
                           MHD_HTTP_HEADER_ALLOW, allow);
        return 0;
    }
    int need = 0;
    switch (rq->route) {
    case R_COLLECTIONS:
        need = post ? ROLE_ADMIN : ROLE_ANALYST;
        break;
    case R_REPORTS:
        need = ROLE_UPLOADER;
        break;
    case R_HISTOGRAM:
    case R_TIMELINE:
    case R_JOBS_POST:
    case R_JOB:
        need = ROLE_ANALYST;
        break;
    default:
        break;
    }
    if (need && check_role(rq, need, res) != 0)
        return 0;
    if ((rq->route >= R_COLLECTION && rq->route <= R_CONFIG) || rq->route == R_TIMELINE ||
        rq->route == R_JOBS_POST) {
        rq->coll = find_collection(s, id);
        if (!rq->coll) {
            *res = problem(rq, MHD_HTTP_NOT_FOUND, "unknown-collection", "Unknown Collection",
                           "no collection has this id");
            return 0;
        }
    }
    if (want_post) {
        rq->limit = rq->route == R_REPORTS ? s->opt.max_body_bytes : s->opt.max_admin_body_bytes;
        if (rq->route == R_JOBS_POST) /* job parameters (matrices, data sets) */
            rq->limit = s->opt.max_body_bytes;
        const char *ct = rq->route == R_REPORTS ? "application/octet-stream" : "application/json";
        if (!content_type_is(rq->conn, ct)) {
            char d[128];
            snprintf(d, sizeof d, "the body must be %s", ct);
            *res = problem(rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type",
                           "Unsupported Media Type", d);
            return 0;
        }
        /* The declared length is checked before any byte of the body is read. */
        const char *cl =
            MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > rq->limit) {
            if (rq->route == R_REPORTS)
                reject(s, RS_TOO_LARGE, 1);
            char d[128];
            snprintf(d, sizeof d, "the body may hold at most %zu bytes", rq->limit);
            *res =
                problem(rq, MHD_HTTP_CONTENT_TOO_LARGE, "body-too-large", "Content Too Large", d);
            return 0;
        }
    }
    return 1;
}

/* ---- handlers ---- */

/* 200 while the latest ingest transaction committed (or none ran yet), else 503: the store is
 * failing (disk full, I/O errors) and batches are being refused. */
static enum MHD_Result handle_health(request *rq)
{
    pinhole_writer_stats *w = &rq->srv->writer.stats;
    const int rc = atomic_load_explicit(&w->last_result, memory_order_relaxed);
    json_t *o = json_pack(
        "{s:s, s:I, s:I}", "status", rc == PINHOLE_OK ? "ok" : "store-failing", "queued_reports",
        (json_int_t)atomic_load_explicit(&w->queued_reports, memory_order_relaxed), "accepted",
        (json_int_t)atomic_load_explicit(&w->accepted, memory_order_relaxed));
    return send_json(rq, rc == PINHOLE_OK ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, o, NULL,
                     NULL);
}

static enum MHD_Result handle_metrics(request *rq);

static uint64_t stored_reports(pinhole_server *s, int64_t id)
{
    uint64_t n = 0;
    reader_slot *r = reader_get(s);
    if (r) {
        if (pinhole_store_report_total(&r->store, id, &n) != PINHOLE_OK)
            n = 0;
        reader_put(s, r);
    }
    return n;
}

static enum MHD_Result handle_collection_get(request *rq)
{
    const char *l = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "labels");
    const int with_labels = l && (strcmp(l, "1") == 0 || strcmp(l, "true") == 0);
    return send_json(
        rq, MHD_HTTP_OK,
        pinhole_api_collection_json(rq->coll, stored_reports(rq->srv, rq->coll->id), with_labels),
        NULL, NULL);
}

static enum MHD_Result handle_collection_list(request *rq)
{
    pinhole_server *s = rq->srv;
    json_t *arr = json_array();
    pthread_rwlock_rdlock(&s->coll_lock);
    const size_t n = s->ncoll;
    pthread_rwlock_unlock(&s->coll_lock);
    for (size_t i = 0; arr && i < n; i++) {
        pthread_rwlock_rdlock(&s->coll_lock);
        pinhole_collection *c = s->coll[i];
        pthread_rwlock_unlock(&s->coll_lock);
        json_array_append_new(arr, pinhole_api_collection_json(c, stored_reports(s, c->id), 0));
    }
    return send_json(rq, MHD_HTTP_OK, json_pack("{s:o}", "collections", arr), NULL, NULL);
}

static enum MHD_Result handle_collection_create(request *rq)
{
    pinhole_server *s = rq->srv;
    pinhole_collection_spec spec;
    char err[256];
    int rc = pinhole_api_parse_collection((const char *)rq->body, rq->len, &spec, err, sizeof err);
    if (rc == PINHOLE_ENOMEM)
        return problem(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "out-of-memory", "Out of Memory", NULL);
    if (rc != PINHOLE_OK)
        return problem(
            rq, rc == PINHOLE_EFORMAT ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_UNPROCESSABLE_CONTENT,
            rc == PINHOLE_EFORMAT ? "malformed-json" : "invalid-collection",
            rc == PINHOLE_EFORMAT ? "Malformed Request" : "Invalid Collection", err);
    pinhole_collection *c = calloc(1, sizeof *c);
    if (!c) {
        pinhole_collection_spec_free(&spec);
        return problem(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "out-of-memory", "Out of Memory", NULL);
    }
    pthread_mutex_lock(&s->admin_mu);
    rc = pinhole_store_create_collection(&s->admin, c, spec.name, &spec.params, spec.time_precision,
                                         spec.min_reports, (const char *const *)spec.labels);
    if (rc == PINHOLE_OK && (rc = add_collection(s, c)) != PINHOLE_OK)
        pinhole_collection_free(c); /* stored, served after a restart */
    pthread_mutex_unlock(&s->admin_mu);
    pinhole_collection_spec_free(&spec);
    if (rc != PINHOLE_OK) {
        free(c);
        if (rc == PINHOLE_EDB)
            return problem(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "store-error", "Store Error",
                           "the database refused the write; retry later");
        if (rc == PINHOLE_ETOOBIG)
            snprintf(err, sizeof err,
                     "k may be at most %llu and the mechanism's count vector at most %llu entries "
                     "(1 GiB); choose a smaller k or a mechanism with a smaller report alphabet",
                     (unsigned long long)PINHOLE_K_SERVER_MAX,
                     (unsigned long long)PINHOLE_COUNTS_LEN_MAX);
        else
            snprintf(err, sizeof err,
                     "the mechanism cannot be configured with these parameters: %s (epsilon must "
                     "be >= 1e-6; for PGR, q a prime power with (q^t - 1)/(q - 1) >= k; k within "
                     "what the mechanism supports)",
                     pinhole_strerror(rc));
        return problem(rq, MHD_HTTP_UNPROCESSABLE_CONTENT, "invalid-collection",
                       "Invalid Collection", err);
    }
    char loc[64];
    snprintf(loc, sizeof loc, "/v1/collections/%" PRId64, c->id);
    return send_json(rq, MHD_HTTP_CREATED, pinhole_api_collection_json(c, 0, 0),
                     MHD_HTTP_HEADER_LOCATION, loc);
}

/* Inline modules stop after INLINE_SECONDS (they run on the single query thread): progress
 * callback of pinhole_histogram_compute(); ctx points at the deadline. */
#define INLINE_SECONDS 10.0
static int past_deadline(void *ctx, double fraction)
{
    (void)fraction;
    return pinhole_now() > *(const double *)ctx;
}

/* The histogram itself, on the query thread: counts of the range, estimate, rendering. ws: the
 * query thread's reconstruction workspace (NULL: a temporary one per query). */
static enum MHD_Result compute_histogram(request *rq, pinhole_pgr_workspace *ws)
{
    pinhole_server *s = rq->srv;
    const pinhole_collection *c = rq->coll;
    const pinhole_histogram_query q = rq->query;
    char err[256];
    int64_t first, last;
    pinhole_api_bucket_range(c, &q, &first, &last);
    uint64_t *counts = malloc(c->cfg.counts_len * sizeof *counts);
    pinhole_histogram h = {0};
    double until = pinhole_now() + INLINE_SECONDS;
    const pinhole_progress deadline = {past_deadline, &until};
    /* inline modules: top-k probabilities from 256 samples (a power of two: they sum to topk
     * exactly), seeded so the same query gives the same answer; the MLE capped at 200 steps
     * (longer runs are jobs) */
    const pinhole_histogram_options ho = {.consistency = q.consistency,
                                          .mle_iterations = 200,
                                          .topk = q.topk,
                                          .topk_samples = 256,
                                          .seed = 1,
                                          .workspace = ws};
    uint64_t n = 0;
    int rc = counts ? PINHOLE_OK : PINHOLE_ENOMEM;
    if (rc == PINHOLE_OK && first <= last) {
        reader_slot *r = reader_get(s);
        rc = r ? pinhole_store_counts(&r->store, c, first, last, counts, &n) : PINHOLE_EDB;
        if (r)
            reader_put(s, r);
    }
    enum MHD_Result res;
    if (rc != PINHOLE_OK) {
        res = problem(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "store-error", "Store Error",
                      "the counts could not be read");
    } else if (n == 0 || n < c->min_reports) {
        snprintf(err, sizeof err,
                 "%" PRIu64
                 " reports in this range; the collection releases estimates from %" PRIu32,
                 n, c->min_reports > 0 ? c->min_reports : 1u);
        res = problem_ext(
            rq, MHD_HTTP_FORBIDDEN, "below-minimum-reports", "Too Few Reports", err,
            json_pack("{s:I, s:I}", "n", (json_int_t)n, "min_reports", (json_int_t)c->min_reports),
            NULL, NULL);
    } else if (q.topk > c->params.k) {
        snprintf(err, sizeof err, "topk: at most k = %" PRIu64, c->params.k);
        res = problem(rq, MHD_HTTP_BAD_REQUEST, "bad-query", "Bad Query", err);
    } else if ((rc = pinhole_histogram_compute(&c->cfg, counts, n, &ho, &h, &deadline)) !=
               PINHOLE_OK) {
        if (rc == PINHOLE_ECANCELED) {
            res = problem(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "query-too-long", "Query Too Long",
                          "the inline modules took over 10 s; run them as a job "
                          "(POST /v1/collections/{id}/jobs)");
        } else if (rc == PINHOLE_EUNSUPPORTED) {
            res = problem(rq, MHD_HTTP_BAD_REQUEST, "unsupported-module", "Unsupported Module",
                          "this consistency method is not available for the collection's "
                          "mechanism");
        } else {
            snprintf(err, sizeof err, "estimation failed: %s", pinhole_strerror(rc));
            res = problem(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "estimate-failed", "Estimate Failed",
                          err);
        }
    } else {
        size_t len = 0;
        char *text = pinhole_api_histogram_render(c, &q, &h, &len);
        if (!text)
            res = problem(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "out-of-memory", "Out of Memory", NULL);
        else
            res =
                send_buffer(rq, MHD_HTTP_OK, q.csv ? "text/csv; charset=utf-8" : "application/json",
                            text, len, NULL, NULL);
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

/* MHD_get_connection_values iterator: remember the first query parameter not in the list. */
static enum MHD_Result unknown_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    (void)value;
    static const char *const known[] = {"from", "to", "top", "format", "consistency", "topk"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(key, known[i]) == 0)
            return MHD_YES;
    const char **first = cls;
    *first = key;
    return MHD_NO;
}

static enum MHD_Result handle_histogram(request *rq)
{
    pinhole_server *s = rq->srv;
    if (rq->phase == 2) { /* resumed: queue what the query thread built */
        if (!rq->out.set)
            return MHD_NO;
        rq->out.set = 0;
        return send_buffer(rq, rq->out.status, rq->out.type, rq->out.body, rq->out.len, rq->out.h1,
                           rq->out.v1);
    }
    struct MHD_Connection *k = rq->conn;
    char err[256];
    const char *unknown = NULL;
    MHD_get_connection_values(k, MHD_GET_ARGUMENT_KIND, unknown_arg, &unknown);
    if (unknown) {
        snprintf(
            err, sizeof err,
            "unknown query parameter '%.64s' (known: from, to, top, format, consistency, topk)",
            unknown);
        return problem(rq, MHD_HTTP_BAD_REQUEST, "bad-query", "Bad Query", err);
    }
    if (pinhole_api_parse_histogram_query(
            MHD_lookup_connection_value(k, MHD_GET_ARGUMENT_KIND, "from"),
            MHD_lookup_connection_value(k, MHD_GET_ARGUMENT_KIND, "to"),
            MHD_lookup_connection_value(k, MHD_GET_ARGUMENT_KIND, "top"),
            MHD_lookup_connection_value(k, MHD_GET_ARGUMENT_KIND, "format"),
            MHD_lookup_connection_value(k, MHD_GET_ARGUMENT_KIND, "consistency"),
            MHD_lookup_connection_value(k, MHD_GET_ARGUMENT_KIND, "topk"), &rq->query, err,
            sizeof err) != PINHOLE_OK)
        return problem(rq, MHD_HTTP_BAD_REQUEST, "bad-query", "Bad Query", err);
    pthread_mutex_lock(&s->qmu);
    if (s->qstop || s->qlen >= PINHOLE_QUERY_QUEUE) {
        const int stopping = s->qstop;
        pthread_mutex_unlock(&s->qmu);
        char ra[16];
        snprintf(ra, sizeof ra, "%u", s->opt.retry_after);
        return problem_ext(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "store-unavailable",
                           "Service Unavailable",
                           stopping ? "the server is shutting down"
                                    : "too many histogram queries are waiting; retry later",
                           NULL, MHD_HTTP_HEADER_RETRY_AFTER, ra);
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

/* GET /v1/collections/{id}/timeline: reports per time bucket, for the dashboard's chart. */
static enum MHD_Result handle_timeline(request *rq)
{
    pinhole_server *s = rq->srv;
    const pinhole_collection *c = rq->coll;
    int64_t *bucket = NULL;
    uint64_t *n = NULL;
    size_t count = 0;
    reader_slot *r = reader_get(s);
    int rc = r ? pinhole_store_buckets(&r->store, c->id, INT64_MIN, INT64_MAX, &bucket, &n, &count)
               : PINHOLE_EDB;
    if (r)
        reader_put(s, r);
    if (rc != PINHOLE_OK)
        return problem(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "store-error", "Store Error",
                       "the buckets could not be read");
    json_t *arr = json_array();
    /* bucket * time_precision cannot overflow: ingest refuses times whose product passes 2^63 */
    for (size_t i = 0; arr && i < count; i++)
        json_array_append_new(arr, json_pack("{s:I, s:I}", "start",
                                             (json_int_t)(bucket[i] * (int64_t)c->time_precision),
                                             "reports", (json_int_t)n[i]));
    free(bucket);
    free(n);
    return send_json(rq, MHD_HTTP_OK,
                     json_pack("{s:I, s:I, s:o}", "collection", (json_int_t)c->id, "time_precision",
                               (json_int_t)c->time_precision, "buckets", arr),
                     NULL, NULL);
}

/* POST /v1/collections/{id}/jobs {"type", "from"?, "to"?, "params"?}: 202 and Location. */
static enum MHD_Result handle_job_create(request *rq)
{
    pinhole_server *s = rq->srv;
    json_error_t jerr;
    json_t *body = json_loadb((const char *)rq->body, rq->len, JSON_REJECT_DUPLICATES, &jerr);
    const json_t *type = json_object_get(body, "type"), *params = json_object_get(body, "params");
    const json_t *from = json_object_get(body, "from"), *to = json_object_get(body, "to");
    char err[256];
    const char *key;
    json_t *val;
    int unknown = 0;
    json_object_foreach(body, key, val)
    {
        (void)val;
        unknown |= strcmp(key, "type") && strcmp(key, "from") && strcmp(key, "to") &&
                   strcmp(key, "params");
    }
    if (!json_is_object(body) || !json_is_string(type) || (params && !json_is_object(params)) ||
        (from && !json_is_integer(from)) || (to && !json_is_integer(to)) || unknown) {
        json_decref(body);
        return problem(rq, MHD_HTTP_BAD_REQUEST, "malformed-json", "Malformed Request",
                       "expected {\"type\": string, \"from\"?: Unix seconds, \"to\"?: Unix "
                       "seconds, \"params\"?: object}");
    }
    if (!pinhole_job_type_find(json_string_value(type))) {
        size_t nt;
        const pinhole_job_type *all = pinhole_job_types(&nt);
        int m = snprintf(err, sizeof err, "unknown job type; known:");
        for (size_t i = 0; i < nt && m > 0 && (size_t)m < sizeof err; i++)
            m += snprintf(err + m, sizeof err - (size_t)m, " %s", all[i].name);
        json_decref(body);
        return problem(rq, MHD_HTTP_UNPROCESSABLE_CONTENT, "unknown-job-type", "Unknown Job Type",
                       err);
    }
    int64_t id;
    const int64_t f = from ? json_integer_value(from) : 0,
                  t = to ? json_integer_value(to) : INT64_MAX;
    int rc = f < t ? pinhole_jobs_submit(s->jobs, rq->coll->id, json_string_value(type), f, t,
                                         params, &id)
                   : PINHOLE_EINVAL;
    json_decref(body);
    if (rc == PINHOLE_EINVAL)
        return problem(rq, MHD_HTTP_UNPROCESSABLE_CONTENT, "invalid-job", "Invalid Job",
                       "from must be before to, and time_limit a positive number of seconds");
    if (rc != PINHOLE_OK)
        return problem(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "store-error", "Store Error",
                       "the job could not be queued; retry later");
    json_t *job = NULL;
    pinhole_jobs_get(s->jobs, id, &job);
    char loc[64];
    snprintf(loc, sizeof loc, "/v1/jobs/%" PRId64, id);
    return send_json(rq, MHD_HTTP_ACCEPTED, job, MHD_HTTP_HEADER_LOCATION, loc);
}

/* GET /v1/jobs/{id}: status, progress, result or error; DELETE cancels. */
static enum MHD_Result handle_job(request *rq, int del)
{
    pinhole_server *s = rq->srv;
    int rc = del ? pinhole_jobs_cancel(s->jobs, rq->job_id) : PINHOLE_OK;
    json_t *job = NULL;
    if (rc == PINHOLE_OK)
        rc = pinhole_jobs_get(s->jobs, rq->job_id, &job);
    if (rc == PINHOLE_ENOTFOUND)
        return problem(rq, MHD_HTTP_NOT_FOUND, "unknown-job", "Unknown Job", "no job has this id");
    if (rc != PINHOLE_OK)
        return problem(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "store-error", "Store Error",
                       "the job could not be read; retry later");
    return send_json(rq, del ? MHD_HTTP_ACCEPTED : MHD_HTTP_OK, job, NULL, NULL);
}

/* The dashboard's files (embedded at build time; no token needed to load the page itself: its
 * requests carry the analyst token the user types). */
static enum MHD_Result handle_ui(request *rq)
{
    const pinhole_ui_asset *a = pinhole_ui_find(rq->asset);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    /* the page loads nothing from elsewhere; say so to the browser */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; style-src 'self'; script-src 'self'");
    enum MHD_Result ok = MHD_queue_response(rq->conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    atomic_fetch_add_explicit(&rq->srv->status[MHD_HTTP_OK], 1, memory_order_relaxed);
    return ok;
}

/* The job runner's view of the store: a collection's configuration, labels and counts of the
 * reports whose time lies in [from, to), and per bucket when asked. Runs on a job worker. */
static int job_loader(void *ctx, int64_t collection_id, int64_t from, int64_t to, int buckets,
                      pinhole_job_data *out)
{
    pinhole_server *s = ctx;
    memset(out, 0, sizeof *out);
    const pinhole_collection *c = find_collection(s, collection_id);
    if (!c)
        return PINHOLE_ENOTFOUND;
    int rc = pinhole_config_init(&out->cfg, &c->params);
    if (rc != PINHOLE_OK)
        return rc;
    const uint64_t k = c->params.k, len = out->cfg.counts_len;
    out->counts = malloc(len * sizeof *out->counts);
    if (!out->counts)
        return PINHOLE_ENOMEM;
    if (c->label) {
        if (!(out->labels = calloc(k, sizeof *out->labels)))
            return PINHOLE_ENOMEM;
        for (uint64_t v = 0; v < k; v++)
            if (!(out->labels[v] = strdup(c->label[v])))
                return PINHOLE_ENOMEM;
    }
    pinhole_histogram_query q = {.from = from < 0 ? 0 : from, .to = to};
    int64_t first, last;
    pinhole_api_bucket_range(c, &q, &first, &last);
    if (first > last) {
        memset(out->counts, 0, len * sizeof *out->counts);
        return PINHOLE_OK;
    }
    reader_slot *r = reader_get(s);
    if (!r)
        return PINHOLE_EDB;
    rc = pinhole_store_counts(&r->store, c, first, last, out->counts, &out->n);
    int64_t *bk = NULL;
    uint64_t *bn = NULL;
    size_t nb = 0;
    if (rc == PINHOLE_OK && buckets)
        rc = pinhole_store_buckets(&r->store, c->id, first, last, &bk, &bn, &nb);
    /* every bucket becomes a full count vector (plus a read and a JSON entry): refuse ranges of
     * more than 10,000 buckets or whose vectors would pass 512 MiB */
    if (rc == PINHOLE_OK && nb > 0 &&
        (nb > 10000 || (double)nb * ((double)len * 8.0 + 1024) > 512.0 * 1024 * 1024))
        rc = PINHOLE_ETOOBIG;
    if (rc == PINHOLE_OK && nb > 0 && !(out->buckets = calloc(nb, sizeof *out->buckets)))
        rc = PINHOLE_ENOMEM;
    for (size_t i = 0; rc == PINHOLE_OK && i < nb; i++) {
        pinhole_job_bucket *b = &out->buckets[i];
        out->nbuckets = i + 1;
        b->time = bk[i] * (int64_t)c->time_precision;
        if (!(b->counts = malloc(len * sizeof *b->counts)))
            rc = PINHOLE_ENOMEM;
        else
            rc = pinhole_store_counts(&r->store, c, bk[i], bk[i], b->counts, &b->n);
    }
    reader_put(s, r);
    free(bk);
    free(bn);
    return rc;
}

/* The collection's canonical config signed with the server's Ed25519 key (binary), or with
 * ?format=json its JSON form with the signed bytes in hex. */
static enum MHD_Result handle_config(request *rq)
{
    uint8_t signed_cfg[PINHOLE_CONFIG_SIGNEDBYTES];
    if (pinhole_config_sign(&rq->coll->wire, rq->srv->keys.sign_sk, signed_cfg) != PINHOLE_OK)
        return problem(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "config", "Config Error",
                       "the collection config could not be encoded");
    const char *f = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "format");
    if (f && strcmp(f, "json") == 0) {
        char *text = pinhole_config_to_json(&rq->coll->wire, NULL);
        json_t *cfg = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        char hex[2 * PINHOLE_CONFIG_SIGNEDBYTES + 1], pk[2 * PINHOLE_CONFIG_PUBLICKEYBYTES + 1];
        sodium_bin2hex(hex, sizeof hex, signed_cfg, sizeof signed_cfg);
        sodium_bin2hex(pk, sizeof pk, rq->srv->keys.sign_pk, sizeof rq->srv->keys.sign_pk);
        return send_json(
            rq, MHD_HTTP_OK,
            cfg ? json_pack("{s:o, s:s, s:s}", "config", cfg, "signed", hex, "signing_key", pk)
                : NULL,
            NULL, NULL);
    }
    char *buf = malloc(sizeof signed_cfg);
    if (!buf)
        return MHD_NO;
    memcpy(buf, signed_cfg, sizeof signed_cfg);
    return send_buffer(rq, MHD_HTTP_OK, "application/octet-stream", buf, sizeof signed_cfg, NULL,
                       NULL);
}

/* The server's public keys: config signatures (Ed25519) and report sealing (X25519). */
static enum MHD_Result handle_keys(request *rq)
{
    char sign[2 * PINHOLE_CONFIG_PUBLICKEYBYTES + 1], seal[2 * 32 + 1];
    sodium_bin2hex(sign, sizeof sign, rq->srv->keys.sign_pk, sizeof rq->srv->keys.sign_pk);
    sodium_bin2hex(seal, sizeof seal, rq->srv->keys.seal_pk, sizeof rq->srv->keys.seal_pk);
    return send_json(rq, MHD_HTTP_OK,
                     json_pack("{s:s, s:s}", "config_signing_key", sign, "seal_key", seal), NULL,
                     NULL);
}

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

/* The reply to a batch once its statuses are final: counts, and the reports not acknowledged. */
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
            if (r->status == PINHOLE_REPORT_REPLAY)
                reject(rq->srv, RS_REPLAY, 1);
            else if (r->status == PINHOLE_REPORT_INVALID)
                reject(rq->srv, RS_INVALID, 1);
            json_array_append_new(errors, json_pack("{s:I, s:s, s:s}", "index", (json_int_t)i,
                                                    "status", status_name(r->status), "error",
                                                    pinhole_strerror(r->error)));
        }
    }
    json_t *body = json_pack("{s:I, s:I, s:I, s:o}", "accepted", (json_int_t)acc, "duplicates",
                             (json_int_t)dup, "rejected", (json_int_t)bad, "errors", errors);
    if (acc + dup == 0 && bad > 0)
        return problem_ext(rq, MHD_HTTP_UNPROCESSABLE_CONTENT, "reports-rejected",
                           "Reports Rejected", "no report of the batch was acknowledged", body,
                           NULL, NULL);
    return send_json(rq, MHD_HTTP_OK, body, NULL, NULL);
}

static void job_done(pinhole_writer_job *job, void *arg)
{
    (void)job;
    request *rq = arg;
    rq->phase = 2;
    atomic_fetch_sub_explicit(&rq->srv->waiting, 1, memory_order_relaxed);
    MHD_resume_connection(rq->conn);
}

static enum MHD_Result handle_reports(request *rq)
{
    pinhole_server *s = rq->srv;
    if (rq->phase == 2) { /* resumed by the writer */
        if (rq->submit_error == PINHOLE_EOVERFLOW) {
            reject(s, RS_BUSY, rq->n);
            char ra[16];
            snprintf(ra, sizeof ra, "%u", s->opt.retry_after);
            return problem_ext(rq, MHD_HTTP_TOO_MANY_REQUESTS, "busy", "Too Many Requests",
                               "the write queue is full; retry after the given delay", NULL,
                               MHD_HTTP_HEADER_RETRY_AFTER, ra);
        }
        if (rq->submit_error != PINHOLE_OK || rq->job.result != PINHOLE_OK) {
            reject(s, RS_STORE, rq->n);
            char ra[16];
            snprintf(ra, sizeof ra, "%u", s->opt.retry_after);
            return problem_ext(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "store-unavailable",
                               "Service Unavailable",
                               rq->submit_error == PINHOLE_ECANCELED
                                   ? "the server is shutting down; nothing was stored"
                                   : "the transaction failed; nothing was stored, retry",
                               NULL, MHD_HTTP_HEADER_RETRY_AFTER, ra);
        }
        return batch_reply(rq);
    }
    int rc = pinhole_ingest_decode(rq->coll, &s->keys, rq->body, rq->len, s->opt.max_batch_reports,
                                   &rq->reports, &rq->n, &rq->arena);
    if (rc != PINHOLE_OK) {
        if (rc == PINHOLE_ENOMEM)
            return problem(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "out-of-memory", "Out of Memory",
                           NULL);
        reject(s, reason_of(rc), 1);
        char d[200];
        snprintf(d, sizeof d, "the batch could not be decoded: %s%s", pinhole_strerror(rc),
                 rc == PINHOLE_ETOOBIG ? " (too many reports, or an item over its size limit)"
                                       : "");
        return problem(rq,
                       rc == PINHOLE_ETOOBIG ? MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_BAD_REQUEST,
                       rc == PINHOLE_ETOOBIG ? "batch-too-large" : "malformed-batch",
                       rc == PINHOLE_ETOOBIG ? "Batch Too Large" : "Malformed Batch", d);
    }
    size_t pending = 0;
    for (size_t i = 0; i < rq->n; i++) {
        if (rq->reports[i].status == PINHOLE_REPORT_PENDING)
            pending++;
        else
            reject(s, reason_of(rq->reports[i].error), 1);
    }
    if (pending == 0)
        return batch_reply(rq);
    rq->job = (pinhole_writer_job){.reports = rq->reports, .n = rq->n, .done = job_done, .arg = rq};
    /* Suspend first: the writer may finish and resume before this callback returns, which
     * libmicrohttpd handles; resuming a connection not yet suspended it would not. */
    rq->phase = 1;
    atomic_fetch_add_explicit(&s->waiting, 1, memory_order_relaxed);
    MHD_suspend_connection(rq->conn);
    rc = pinhole_writer_submit(&s->writer, &rq->job);
    if (rc != PINHOLE_OK) {
        rq->submit_error = rc;
        rq->phase = 2;
        atomic_fetch_sub_explicit(&s->waiting, 1, memory_order_relaxed);
        MHD_resume_connection(rq->conn);
    }
    return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    (void)version;
    pinhole_server *s = cls;
    request *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        rq->srv = s;
        rq->conn = conn;
        *con_cls = rq;
        atomic_fetch_add_explicit(&s->inflight, 1, memory_order_relaxed);
        enum MHD_Result res = MHD_YES;
        if (!begin_request(rq, url, method, &res)) {
            rq->answered = 1; /* answered before the body: whatever follows is ignored */
            return res;
        }
        return MHD_YES;
    }
    if (rq->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        const size_t m = *upload_data_size;
        *upload_data_size = 0;
        if (rq->too_large || m > rq->limit - rq->len) { /* chunked bodies have no declared size */
            rq->too_large = 1;
            return MHD_YES;
        }
        if (rq->len + m > rq->cap) {
            size_t cap = rq->cap ? rq->cap : 16384;
            while (cap < rq->len + m)
                cap *= 2;
            if (cap > rq->limit)
                cap = rq->limit;
            uint8_t *b = realloc(rq->body, cap ? cap : 1);
            if (!b)
                return MHD_NO;
            rq->body = b;
            rq->cap = cap;
        }
        memcpy(rq->body + rq->len, upload_data, m);
        rq->len += m;
        return MHD_YES;
    }
    if (rq->phase == 1)
        return MHD_YES; /* spurious call while suspended: nothing to do */
    if (rq->too_large) {
        if (rq->route == R_REPORTS)
            reject(s, RS_TOO_LARGE, 1);
        char d[128];
        snprintf(d, sizeof d, "the body may hold at most %zu bytes", rq->limit);
        return problem(rq, MHD_HTTP_CONTENT_TOO_LARGE, "body-too-large", "Content Too Large", d);
    }
    switch (rq->route) {
    case R_HEALTH:
        return handle_health(rq);
    case R_METRICS:
        return handle_metrics(rq);
    case R_COLLECTIONS:
        return strcmp(method, "POST") == 0 ? handle_collection_create(rq)
                                           : handle_collection_list(rq);
    case R_COLLECTION:
        return handle_collection_get(rq);
    case R_REPORTS:
        return handle_reports(rq);
    case R_HISTOGRAM:
        return handle_histogram(rq);
    case R_CONFIG:
        return handle_config(rq);
    case R_KEYS:
        return handle_keys(rq);
    case R_TIMELINE:
        return handle_timeline(rq);
    case R_JOBS_POST:
        return handle_job_create(rq);
    case R_JOB:
        return handle_job(rq, strcmp(method, "DELETE") == 0);
    case R_UI:
        return handle_ui(rq);
    case R_ROOT:
        return send_buffer(rq, MHD_HTTP_FOUND, "text/plain", NULL, 0, MHD_HTTP_HEADER_LOCATION,
                           "/ui/");
    default:
        return MHD_NO;
    }
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    pinhole_server *s = cls;
    request *rq = *con_cls;
    if (!rq)
        return;
    free(rq->body);
    free(rq->reports);
    free(rq->arena);
    if (rq->out.set)
        free(rq->out.body);
    free(rq);
    *con_cls = NULL;
    atomic_fetch_sub_explicit(&s->inflight, 1, memory_order_relaxed);
}

static void connection_event(void *cls, struct MHD_Connection *conn, void **socket_context,
                             enum MHD_ConnectionNotificationCode toe)
{
    (void)conn;
    (void)socket_context;
    pinhole_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add_explicit(&s->connections, 1, memory_order_relaxed);
    else
        atomic_fetch_sub_explicit(&s->connections, 1, memory_order_relaxed);
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

static enum MHD_Result handle_metrics(request *rq)
{
    pinhole_server *s = rq->srv;
    pinhole_writer_stats *w = &s->writer.stats;
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
        mprintf(&t, "pinhole_reports_rejected_total{reason=\"%s\"} %" PRIu64 "\n", reason_name[i],
                ld(&s->rejected[i]));
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
            (double)ld(&w->latency_total_us) * 1e-6, ld(&w->latency_jobs));
    mprintf(&t,
            "# HELP pinhole_writer_queue_reports Reports waiting for the writer.\n"
            "# TYPE pinhole_writer_queue_reports gauge\npinhole_writer_queue_reports %" PRIu64 "\n"
            "# HELP pinhole_writer_queue_batches Batches waiting for the writer.\n"
            "# TYPE pinhole_writer_queue_batches gauge\npinhole_writer_queue_batches %" PRIu64 "\n",
            ld(&w->queued_reports), ld(&w->queued_jobs));
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
            "# HELP pinhole_db_bytes Size of the database file and its WAL.\n"
            "# TYPE pinhole_db_bytes gauge\npinhole_db_bytes %" PRIu64 "\n"
            "# HELP pinhole_connections Open HTTP connections.\n"
            "# TYPE pinhole_connections gauge\npinhole_connections %" PRIu64 "\n"
            "# HELP pinhole_requests_waiting Requests suspended until their batch commits.\n"
            "# TYPE pinhole_requests_waiting gauge\npinhole_requests_waiting %" PRIu64 "\n"
            "# HELP pinhole_uptime_seconds Seconds since the server started.\n"
            "# TYPE pinhole_uptime_seconds gauge\npinhole_uptime_seconds %.3f\n",
            pinhole_store_disk_bytes(&s->writer.store), ld(&s->connections), ld(&s->waiting),
            pinhole_now() - s->started);
    pthread_rwlock_rdlock(&s->coll_lock);
    mprintf(&t,
            "# HELP pinhole_collections Collections defined.\n"
            "# TYPE pinhole_collections gauge\npinhole_collections %zu\n",
            s->ncoll);
    pthread_rwlock_unlock(&s->coll_lock);
    if (t.oom) {
        free(t.p);
        return MHD_NO;
    }
    return send_buffer(rq, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", t.p, t.len,
                       NULL, NULL);
}

/* ---- lifecycle ---- */

static void free_server(pinhole_server *s)
{
    for (size_t i = 0; i < s->ncoll; i++) {
        pinhole_collection_free(s->coll[i]);
        free(s->coll[i]);
    }
    free(s->coll);
    for (unsigned i = 0; i < s->nreaders; i++)
        if (s->readers[i].open)
            pinhole_store_close(&s->readers[i].store);
    free(s->readers);
    pinhole_store_close(&s->admin);
    sodium_memzero(&s->keys, sizeof s->keys);
    pinhole_writer_release(&s->writer);
    pthread_rwlock_destroy(&s->coll_lock);
    pthread_mutex_destroy(&s->admin_mu);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cv);
    pthread_mutex_destroy(&s->qmu);
    pthread_cond_destroy(&s->qcv);
    free(s);
}

static void stop_queries(pinhole_server *s)
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

int pinhole_server_start(const pinhole_server_options *o, pinhole_server **out)
{
    *out = NULL;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(o->port)};
    if (inet_pton(AF_INET, o->listen, &addr.sin_addr) != 1)
        return PINHOLE_EINVAL;
    pinhole_server *s = calloc(1, sizeof *s);
    if (!s)
        return PINHOLE_ENOMEM;
    s->opt = *o;
    if (s->opt.threads < 1)
        s->opt.threads = 1;
    s->started = pinhole_now();
    pthread_rwlock_init(&s->coll_lock, NULL);
    pthread_mutex_init(&s->admin_mu, NULL);
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_cond_init(&s->pool_cv, NULL);
    pthread_mutex_init(&s->qmu, NULL);
    pthread_cond_init(&s->qcv, NULL);
    /* a reader per pool thread, one for the query thread, one per job worker (the job loader) */
    s->nreaders = s->opt.threads + 1 + s->opt.job_workers;
    s->readers = calloc(s->nreaders, sizeof *s->readers);
    if (!s->readers) {
        free_server(s);
        return PINHOLE_ENOMEM;
    }
    /* The writer creates the file and schema first; the other connections open it after. */
    int rc = pinhole_writer_start(&s->writer, s->opt.db_path, &s->opt.writer);
    if (rc != PINHOLE_OK) {
        free_server(s);
        return rc;
    }
    pinhole_collection *arr = NULL;
    size_t n = 0;
    if ((rc = pinhole_store_open(&s->admin, s->opt.db_path, &s->opt.writer.store)) != PINHOLE_OK ||
        (rc = pinhole_store_server_keys(&s->admin, &s->keys)) != PINHOLE_OK ||
        (rc = pinhole_store_load_collections(&s->admin, &arr, &n)) != PINHOLE_OK)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        pinhole_collection *c = malloc(sizeof *c);
        if (!c || add_collection(s, c) != PINHOLE_OK) {
            free(c);
            for (size_t j = i; j < n; j++)
                pinhole_collection_free(&arr[j]);
            free(arr);
            rc = PINHOLE_ENOMEM;
            goto fail;
        }
        *c = arr[i];
    }
    free(arr);
    if (pthread_create(&s->qthread, NULL, query_main, s) != 0) {
        rc = PINHOLE_ENOMEM;
        goto fail;
    }
    s->qstarted = 1;
    const pinhole_jobs_options jo = {.db_path = s->opt.db_path,
                                     .workers = s->opt.job_workers,
                                     .time_limit_s = s->opt.job_time_limit,
                                     .loader = job_loader,
                                     .loader_ctx = s};
    if ((rc = pinhole_jobs_open(&s->jobs, &jo)) != PINHOLE_OK)
        goto fail;
    const unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC;
    s->d = MHD_start_daemon(flags, o->port, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
                            (unsigned)s->opt.threads, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)s->opt.connection_limit, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)s->opt.connection_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                            (size_t)s->opt.connection_memory, MHD_OPTION_NOTIFY_COMPLETED,
                            completed, s, MHD_OPTION_NOTIFY_CONNECTION, connection_event, s,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END);
    if (!s->d) {
        rc = PINHOLE_EUNSUPPORTED;
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : o->port;
    *out = s;
    return PINHOLE_OK;
fail:
    pinhole_jobs_close(s->jobs);
    stop_queries(s);
    pinhole_writer_stop(&s->writer);
    free_server(s);
    return rc;
}

uint16_t pinhole_server_port(const pinhole_server *s)
{
    return s->port;
}

void pinhole_server_stop(pinhole_server *s, double grace)
{
    /* 1. Stop accepting: the listening socket closes; open connections keep being served. */
    MHD_socket ls = MHD_quiesce_daemon(s->d);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    /* 2. Let requests in flight (receiving, decoding, waiting on the writer) finish. */
    const double until = pinhole_now() + grace;
    while (atomic_load(&s->inflight) > 0 && pinhole_now() < until) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    /* 3. Commit whatever is queued and answer its clients (resuming their connections); answer
     * the histogram queries still waiting. */
    pinhole_writer_stop(&s->writer);
    stop_queries(s);
    while (atomic_load(&s->waiting) > 0 && pinhole_now() < until + 1) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    /* 4. Close every connection and the daemon's threads; stop the job workers (a running job is
     * queued again for the next start); then the database. */
    MHD_stop_daemon(s->d);
    pinhole_jobs_close(s->jobs);
    free_server(s);
}
