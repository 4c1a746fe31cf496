/* The HTTP server: libmicrohttpd's callbacks (a request's first call, its body, completion),
 * routing through the route table (routes.c), and the lifecycle (start, graceful stop). The
 * handlers live in one file per resource; the service core (server/service) does the work. */
#include "common/clock.h"
#include "common/error.h"
#include "server/http/gate.h"
#include "server/http/head.h"
#include "server/http/http.h"
#include "server/http/relay.h"
#include "server/service/ingest.h"
#include "server/log/log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void pinhole_server_options_default(pinhole_server_options *o)
{
    memset(o, 0, sizeof *o);
    strcpy(o->listen, "127.0.0.1");
    o->port = 8080;
    o->threads = 2;
    o->connection_limit = 1024;
    o->connection_timeout = 30;
    o->connection_memory = 32768;
    o->head_timeout = 10;
    o->connections_per_address = 64;
    o->check_every_request = 1;
    o->body_buffer_bytes = (size_t)512 << 20;
    o->min_body_rate = 512;
    o->body_buffer_bytes_per_address = (size_t)64 << 20;
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
    o->max_report_age = PINHOLE_DEFAULT_MAX_REPORT_AGE;
    o->max_clock_skew = PINHOLE_DEFAULT_MAX_CLOCK_SKEW;
}

static int content_type_is(struct MHD_Connection *conn, const char *want)
{
    const char *ct =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    const size_t n = strlen(want);
    return ct && strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The body limit of a route. */
static size_t body_limit(const pinhole_server *s, pinhole_http_body body)
{
    switch (body) {
    case PINHOLE_BODY_REPORTS:
    case PINHOLE_BODY_JOB: /* job parameters (matrices, data sets) */
        return s->opt.max_body_bytes;
    case PINHOLE_BODY_ADMIN:
        return s->opt.max_admin_body_bytes;
    default:
        return 0;
    }
}

/* The query parameters a route takes (space-separated), and the first other one seen. */
typedef struct known_params {
    const char *names;
    const char *unknown;
} known_params;

static enum MHD_Result unknown_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    (void)value;
    known_params *kp = cls;
    const size_t n = strlen(key);
    for (const char *p = kp->names; *p;) {
        const char *e = strchr(p, ' ');
        const size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && strncmp(p, key, n) == 0)
            return MHD_YES;
        p += l + (e != NULL);
    }
    kp->unknown = key;
    return MHD_NO;
}

/* First callback of a request: the route table decides the handler, the role, whether the path
 * names a collection, and the body's type and limit. Returns 1 to go on receiving, or 0 with *res
 * set when an answer was queued already. */
static int begin_request(request *rq, const char *url, const char *method, const char *version,
                         enum MHD_Result *res)
{
    pinhole_server *s = rq->srv;
    /* A head the relay refused, in its place: answered in turn, and the connection closed. */
    if (strcmp(method, PINHOLE_HEAD_REFUSE_METHOD) == 0) {
        const pinhole_head_fault f = (pinhole_head_fault)strtol(url + (url[0] == '/'), NULL, 10);
        *res = pinhole_http_problem_ext(rq, pinhole_head_problem(f), pinhole_head_detail(f), NULL,
                                        MHD_HTTP_HEADER_CONNECTION, "close");
        return 0;
    }
    /* Framing the proxies in front must read the same way (RFC 9112 §3.2, §6.1): HTTP/1.1 needs a
     * Host; a body declared both ways may be read differently upstream (request smuggling), so
     * it is refused and the connection closed. */
    struct MHD_Connection *c = rq->conn;
    if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
        !MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST)) {
        *res = pinhole_http_problem_ext(rq, PROBLEM_BAD_REQUEST, "HTTP/1.1 requires a Host header",
                                        NULL, MHD_HTTP_HEADER_CONNECTION, "close");
        return 0;
    }
    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH) &&
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
        *res = pinhole_http_problem_ext(rq, PROBLEM_BAD_REQUEST,
                                        "Content-Length and Transfer-Encoding together", NULL,
                                        MHD_HTTP_HEADER_CONNECTION, "close");
        return 0;
    }
    const int found = pinhole_http_route_find(url, method, &rq->match);
    if (found == PINHOLE_ROUTE_NOT_FOUND) {
        *res = pinhole_http_problem(rq, PROBLEM_NOT_FOUND, "no such endpoint");
        return 0;
    }
    if (found == PINHOLE_ROUTE_METHOD_NOT_ALLOWED) {
        *res = pinhole_http_problem_ext(rq, PROBLEM_METHOD_NOT_ALLOWED,
                                        "this endpoint does not accept this method", NULL,
                                        MHD_HTTP_HEADER_ALLOW, rq->match.allow);
        return 0;
    }
    const pinhole_http_route *route = rq->match.route;
    if (route->role && pinhole_http_check_role(rq, route->role, res) != 0)
        return 0;
    const char *unknown = NULL;
    if (!route->params || strcmp(route->params, "*") != 0) {
        known_params kp = {route->params ? route->params : "", NULL};
        MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, unknown_param, &kp);
        unknown = kp.unknown;
    }
    if (unknown) {
        char d[256];
        snprintf(d, sizeof d, "unknown query parameter '%.64s' (%s%.150s)", unknown,
                 route->params ? "known: " : "this route takes none",
                 route->params ? route->params : "");
        *res = pinhole_http_problem(rq, PROBLEM_BAD_QUERY, d);
        return 0;
    }
    if (route->collection) {
        rq->coll = pinhole_service_collection(s->svc, rq->match.id);
        if (!rq->coll)
            rq->multi = pinhole_service_multi(s->svc, rq->match.id);
        if (!rq->coll && (!rq->multi || route->collection != 2)) {
            *res = pinhole_http_problem(
                rq, PROBLEM_UNKNOWN_COLLECTION,
                rq->multi ? "this id is a multi-attribute collection: its pair collections "
                            "(listed by GET /v1/collections/{id}) take configs, reports and "
                            "queries"
                          : "no collection has this id");
            return 0;
        }
    }
    /* every route but GET writes: refused before its body is read while the store is read-only */
    if (strcmp(route->method, "GET") != 0 && pinhole_service_readonly(s->svc)) {
        pinhole_http_disk_full(rq, res);
        return 0;
    }
    rq->limit = body_limit(s, route->body);
    if (route->body != PINHOLE_BODY_NONE) {
        if (!content_type_is(rq->conn, route->content_type)) {
            char d[128];
            snprintf(d, sizeof d, "the body must be %s", route->content_type);
            *res = pinhole_http_problem(rq, PROBLEM_UNSUPPORTED_MEDIA_TYPE, d);
            return 0;
        }
        /* The declared length is checked before any byte of the body is read. */
        const char *cl =
            MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        const unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
        if (route->body == PINHOLE_BODY_REPORTS) { /* decoded as it arrives, not buffered */
            if (pinhole_ingest_stream_new(&rq->stream, rq->coll, pinhole_service_keys(s->svc),
                                          s->opt.max_batch_reports) != PINHOLE_OK) {
                *res = pinhole_http_problem(rq, PROBLEM_OUT_OF_MEMORY, NULL);
                return 0;
            }
        } else if (declared && declared <= rq->limit) { /* the whole buffer, before any byte */
            if (pinhole_gate_reserve(s->gate, (struct sockaddr *)&rq->client, declared) != 0) {
                *res = pinhole_http_problem_retry(
                    rq, PROBLEM_BUSY,
                    "the server holds as many request bodies as it buffers; retry later");
                return 0;
            }
            rq->reserved = declared;
            if (!(rq->body = malloc(declared))) {
                *res = pinhole_http_problem(rq, PROBLEM_OUT_OF_MEMORY, NULL);
                return 0;
            }
            rq->cap = declared;
        }
        if (cl && strtoull(cl, NULL, 10) > rq->limit) {
            if (route->body == PINHOLE_BODY_REPORTS)
                pinhole_http_reject(s, RS_TOO_LARGE, 1);
            char d[128];
            snprintf(d, sizeof d, "the body may hold at most %zu bytes", rq->limit);
            *res = pinhole_http_problem(rq, PROBLEM_BODY_TOO_LARGE, d);
            return 0;
        }
    }
    return 1;
}

/* Report batch bytes: decoded at once; the bytes the decoder holds are reserved at the gate as
 * they grow. After the batch's first bad byte (or a refused reservation) the rest of the body is
 * read and dropped, and the final call answers. */
static enum MHD_Result take_batch_bytes(request *rq, const uint8_t *data, size_t m)
{
    rq->len += m;
    if (rq->stream_error != PINHOLE_OK)
        return MHD_YES;
    rq->stream_error = pinhole_ingest_stream_feed(rq->stream, data, m);
    const size_t held = pinhole_ingest_stream_held(rq->stream);
    if (held > rq->reserved) { /* the records grow by doubling: a few reservations a batch */
        pinhole_server *s = rq->srv;
        if (pinhole_gate_reserve(s->gate, (struct sockaddr *)&rq->client, held - rq->reserved) !=
            0) {
            rq->too_many_bodies = 1;
            pinhole_ingest_stream_free(rq->stream); /* nothing more is kept */
            rq->stream = NULL;
            return MHD_YES;
        }
        rq->reserved = held;
    }
    return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    pinhole_server *s = cls;
    request *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        rq->srv = s;
        rq->conn = conn;
        rq->t0 = pinhole_clock_mono();
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr)
            memcpy(&rq->client, ci->client_addr,
                   ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                          : sizeof(struct sockaddr_in));
        snprintf(rq->method, sizeof rq->method, "%s", method);
        *con_cls = rq;
        atomic_fetch_add_explicit(&s->inflight, 1, memory_order_relaxed);
        enum MHD_Result res = MHD_YES;
        if (!begin_request(rq, url, method, version, &res)) {
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
        if (rq->too_many_bodies)
            return MHD_YES;
        /* A body trickling in (each byte resets the inactivity timeout) is cut: after a grace of
         * head_timeout, it must average min_body_rate. The connection closes without an answer. */
        const double grace = s->opt.head_timeout, t = pinhole_clock_mono() - rq->t0;
        if (s->opt.min_body_rate && t > grace &&
            (double)(rq->len + m) < (double)s->opt.min_body_rate * (t - grace)) {
            pinhole_log(PINHOLE_LOG_INFO, "slow_body", "sroute", rq->match.route->pattern, "ubytes",
                        (unsigned long long)(rq->len + m), "fseconds", t, NULL);
            return MHD_NO;
        }
        if (rq->too_large || m > rq->limit - rq->len) { /* chunked bodies have no declared size */
            rq->too_large = 1;
            return MHD_YES;
        }
        if (rq->stream)
            return take_batch_bytes(rq, (const uint8_t *)upload_data, m);
        if (rq->len + m > rq->cap) {
            size_t cap = rq->cap ? rq->cap : 16384;
            while (cap < rq->len + m)
                cap *= 2;
            if (cap > rq->limit)
                cap = rq->limit;
            if (cap > rq->reserved) { /* the body-buffer bounds (chunked bodies grow here) */
                if (pinhole_gate_reserve(s->gate, (struct sockaddr *)&rq->client,
                                         cap - rq->reserved) != 0) {
                    rq->too_many_bodies = 1;
                    return MHD_YES;
                }
                rq->reserved = cap;
            }
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
    if (rq->too_many_bodies)
        return pinhole_http_problem_retry(
            rq, PROBLEM_BUSY, "the server holds as many request bodies as it buffers; retry later");
    if (rq->too_large) {
        if (rq->match.route->body == PINHOLE_BODY_REPORTS)
            pinhole_http_reject(s, RS_TOO_LARGE, 1);
        char d[128];
        snprintf(d, sizeof d, "the body may hold at most %zu bytes", rq->limit);
        return pinhole_http_problem(rq, PROBLEM_BODY_TOO_LARGE, d);
    }
    return rq->match.route->handler(rq);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    pinhole_server *s = cls;
    request *rq = *con_cls;
    if (!rq)
        return;
    /* One line per request: the route's pattern, never the path (ids) or, unless configured, the
     * client's address. */
    char addr[64] = "";
    const union MHD_ConnectionInfo *ci =
        s->opt.log_client_address
            ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS)
            : NULL;
    if (ci && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, addr,
                  sizeof addr);
    else if (ci && ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, addr,
                  sizeof addr);
    pinhole_log(PINHOLE_LOG_INFO, "request", "smethod", rq->method, "sroute",
                rq->match.route ? rq->match.route->pattern : NULL, "ustatus",
                (unsigned long long)rq->log_status, "ubytes", (unsigned long long)rq->log_bytes,
                "fms", (pinhole_clock_mono() - rq->t0) * 1e3, "bcomplete",
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK, addr[0] ? "sclient" : NULL, addr, NULL);
    free(rq->body);
    pinhole_ingest_stream_free(rq->stream);
    if (rq->reserved)
        pinhole_gate_unreserve(s->gate, (struct sockaddr *)&rq->client, rq->reserved);
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
    (void)socket_context;
    pinhole_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add_explicit(&s->connections, 1, memory_order_relaxed);
    } else {
        atomic_fetch_sub_explicit(&s->connections, 1, memory_order_relaxed);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        pinhole_gate_release(s->gate, ci ? ci->client_addr : NULL);
    }
}

/* The gate's hand-over: the daemon gets one end of a socket pair, with the client's address, and
 * the relay copies between the client and the other end (relay.h). Both sockets are closed on
 * failure. */
static int admit(void *ctx, int fd, const struct sockaddr *addr, socklen_t len)
{
    pinhole_server *s = ctx;
    if (!s->relay) /* check_every_request off: the daemon takes the client's socket */
        return MHD_add_connection(s->d, fd, addr, len) == MHD_YES ? 0 : -1;
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) {
        close(fd);
        return -1;
    }
    if (MHD_add_connection(s->d, pair[1], addr, len) != MHD_YES) { /* it closed pair[1] */
        close(pair[0]);
        close(fd);
        return -1;
    }
    (void)pinhole_relay_add(s->relay, fd, pair[0]); /* on failure the daemon sees its end close */
    return 0;
}

/* ---- lifecycle ---- */

static void free_server(pinhole_server *s)
{
    pinhole_service_close(s->svc);
    pthread_mutex_destroy(&s->qmu);
    pthread_rwlock_destroy(&s->token_lock);
    pthread_cond_destroy(&s->qcv);
    free(s);
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
    s->started = pinhole_clock_mono();
    pthread_mutex_init(&s->qmu, NULL);
    pthread_rwlock_init(&s->token_lock, NULL);
    pthread_cond_init(&s->qcv, NULL);
    /* a reader per pool thread, one for the query thread, one per job worker (the job loader) */
    const pinhole_service_options so = {.store_url = s->opt.db_path,
                                        .readers = s->opt.threads + 1 + s->opt.job_workers,
                                        .job_workers = s->opt.job_workers,
                                        .job_time_limit = s->opt.job_time_limit,
                                        .writer = s->opt.writer,
                                        .window = {.max_report_age = s->opt.max_report_age,
                                                   .max_clock_skew = s->opt.max_clock_skew}};
    int rc = pinhole_service_open(&s->svc, &so);
    if (rc != PINHOLE_OK) {
        free_server(s);
        return rc;
    }
    if ((rc = pinhole_http_queries_start(s)) != PINHOLE_OK)
        goto fail;
    /* The gate owns the listening socket and hands the daemon connections whose request head
     * has arrived (server/http/gate.h). */
    const int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    struct sockaddr_in bound;
    socklen_t blen = sizeof bound;
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 1024) != 0 ||
        getsockname(lfd, (struct sockaddr *)&bound, &blen) != 0) {
        if (lfd >= 0)
            close(lfd);
        rc = PINHOLE_EUNSUPPORTED;
        goto fail;
    }
    s->port = ntohs(bound.sin_port);
    /* Heads of at most half the connection memory, checked by the gate and the relay; the
     * daemon's pool is twice the connection memory, so that a head it is given (with at most
     * PINHOLE_HEAD_FIELDS_MAX fields) always fits in it: its own 414 and 431 cannot happen. */
    const size_t head_max = s->opt.connection_memory / 2;
    const double head_timeout = s->opt.head_timeout < s->opt.connection_timeout
                                    ? s->opt.head_timeout
                                    : s->opt.connection_timeout;
    if (s->opt.check_every_request &&
        (rc = pinhole_relay_start(&s->relay, head_max, head_timeout,
                                  (double)s->opt.connection_timeout)) != PINHOLE_OK) {
        close(lfd);
        goto fail;
    }
    /* Behind the relay libmicrohttpd polls (level-triggered): with its edge-triggered epoll,
     * keep-alive connections resumed after their batch committed were at times never read
     * again (docs/BENCHMARKS.md, "The relay"). */
    const unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
                           (s->relay ? MHD_USE_POLL : MHD_USE_EPOLL) | MHD_ALLOW_SUSPEND_RESUME |
                           MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET;
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, handler, s, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->opt.threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->opt.connection_limit + PINHOLE_GATE_SPARE,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->opt.connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (s->relay ? 2 : 1) * s->opt.connection_memory,
        MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_NOTIFY_CONNECTION, connection_event,
        s, MHD_OPTION_END);
    const pinhole_gate_options go = {.listen_fd = lfd,
                                     .head_timeout = head_timeout,
                                     .head_max = head_max,
                                     .max_connections = s->opt.connection_limit,
                                     .per_address = s->opt.connections_per_address,
                                     .body_bytes = s->opt.body_buffer_bytes,
                                     .body_bytes_per_address = s->opt.body_buffer_bytes_per_address,
                                     .retry_after = s->opt.retry_after,
                                     .admit = admit,
                                     .ctx = s};
    if (!s->d || (rc = pinhole_gate_start(&s->gate, &go)) != PINHOLE_OK) {
        close(lfd);
        if (s->d)
            MHD_stop_daemon(s->d);
        rc = PINHOLE_EUNSUPPORTED;
        goto fail;
    }
    *out = s;
    return PINHOLE_OK;
fail:
    pinhole_relay_stop(s->relay, 0);
    pinhole_http_queries_stop(s);
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
    pinhole_gate_stop(s->gate);
    /* 2. Let requests in flight (receiving, decoding, waiting on the writer) finish. */
    const double until = pinhole_clock_mono() + grace;
    while (atomic_load(&s->inflight) > 0 && pinhole_clock_mono() < until) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    /* 3. Commit whatever is queued and answer its clients (resuming their connections); answer
     * the histogram queries still waiting. */
    pinhole_service_stop_writer(s->svc);
    pinhole_http_queries_stop(s);
    while (atomic_load(&s->waiting) > 0 && pinhole_clock_mono() < until + 1) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    /* 4. Close every connection and the daemon's threads; stop the job workers (a running job is
     * queued again for the next start); then the database. */
    MHD_stop_daemon(s->d);
    pinhole_relay_stop(s->relay, 1.0); /* the last answers reach their clients */
    pinhole_gate_free(s->gate);
    free_server(s);
}
