/* The HTTP layer's shared state (not for use outside server/http/): the server, one request, the
 * response helpers (respond.c) and the handlers, one file per resource: collections.c,
 * reports.c, histogram.c, jobs.c, discoveries.c, ui.c, metrics.c, auth.c. server.c runs
 * libmicrohttpd and routes requests through the table of routes.c. */
#ifndef PINHOLE_SERVER_HTTP_HTTP_H
#define PINHOLE_SERVER_HTTP_HTTP_H

#include "server/analytics/histogram.h"
#include "server/http/api.h"
#include "server/http/httpd.h"
#include "server/http/problem.h"
#include "server/http/routes.h"
#include "server/service/service.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

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
    RS_WINDOW,
    RS_CLOSED,
    RS_DELETED,
    RS_COUNT
};

/* Their label values. */
extern const char *const pinhole_http_reason_name[RS_COUNT];

/* Their explanations, the `error` of a refused report in a batch's answer: one sentence per
 * reason, naming every cause the reason covers (not the text of a library error code, which
 * several reasons share). */
extern const char *const pinhole_http_reason_text[RS_COUNT];

struct pinhole_server {
    pinhole_server_options opt;
    struct MHD_Daemon *d;
    struct pinhole_gate *gate;   /* accepts, waits for request heads, hands connections to d */
    struct pinhole_relay *relay; /* between each client and d, checking every request head */
    pthread_rwlock_t token_lock; /* the token hashes of opt (pinhole_server_set_tokens) */
    uint16_t port;
    pinhole_service *svc;                /* registry, readers, writer, jobs (server/service) */
    _Atomic uint64_t status[600];        /* responses by HTTP status */
    _Atomic uint64_t rejected[RS_COUNT]; /* reports (or bodies) refused, by reason */
    _Atomic uint64_t waiting;     /* requests suspended (on the writer or the query thread) */
    _Atomic uint64_t connections; /* open connections */
    _Atomic uint64_t inflight;    /* requests between first callback and completion */
    double started;               /* monotonic seconds */
    /* Histogram queries run on their own thread, off the pool: a long estimate never stalls the
     * ingest connections that share a pool thread with it (histogram.c). */
    pthread_t qthread;
    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    struct request *qhead, *qtail;
    size_t qlen;
    int qstop, qstarted;
};

typedef struct request {
    pinhole_server *srv;
    struct MHD_Connection *conn;
    pinhole_http_match match;              /* the route and the path's {id} or {asset} */
    const pinhole_server_collection *coll; /* when the route names a collection */
    const pinhole_multi_record *multi;     /* or a multi-attribute collection (route value 2) */
    uint8_t *body;
    size_t len, cap, limit;
    size_t reserved; /* body buffer bytes reserved at the gate (pinhole_gate_reserve) */
    struct pinhole_ingest_stream *stream; /* a report batch, decoded as it arrives */
    int stream_error;                     /* its first whole-batch error, PINHOLE_OK until then */
    struct sockaddr_storage client;
    int too_large;
    int too_many_bodies; /* the body-buffer bounds refused it: answered 429 once it is read */
    int phase;           /* 0 receiving, 1 suspended (writer or query thread), 2 resumed */
    int submit_error;
    int answered; /* a response was queued at the first callback */
    /* for the request's log line (completed() in server.c) */
    char method[8];
    double t0;           /* monotonic seconds at the first callback */
    unsigned log_status; /* the status answered, 0 when none */
    size_t log_bytes;    /* its body bytes */
    int defer; /* responses go to out (built off the pool thread) instead of to the connection */
    struct {   /* a response built while deferred, queued once resumed */
        unsigned status;
        const char *type; /* static string */
        char *body;
        size_t len;
        const char *h1; /* static header name */
        char v1[128];
        int set;
    } out;
    pinhole_histogram_query query;
    struct request *qnext; /* query queue link */
    pinhole_ingest_batch batch;
    pinhole_ingest_report *reports;
    size_t n;
    uint8_t *arena; /* opened sealed reports */
} request;

/* ---- respond.c ---- */

/* Queue a response (buf malloc'd and taken, or NULL for none) with one optional extra header;
 * while rq->defer, keep it in rq->out instead. Counts it by status for /metrics. */
enum MHD_Result pinhole_http_send(request *rq, unsigned status, const char *type, char *buf,
                                  size_t len, const char *h1, const char *v1);

/* A JSON response (o stolen; NULL answers MHD_NO). */
enum MHD_Result pinhole_http_send_json(request *rq, unsigned status, json_t *o, const char *h1,
                                       const char *v1);

/* A problem document of type p; detail NULL repeats the title. */
enum MHD_Result pinhole_http_problem(request *rq, pinhole_problem p, const char *detail);

/* The same with extension members (extra stolen, may be NULL) and one optional header. */
enum MHD_Result pinhole_http_problem_ext(request *rq, pinhole_problem p, const char *detail,
                                         json_t *extra, const char *h1, const char *v1);

/* A 503 or 429 problem with Retry-After: the configured delay. */
enum MHD_Result pinhole_http_problem_retry(request *rq, pinhole_problem p, const char *detail);

/* The answer to a write refused because the store's disk is full (503 disk-full with
 * Retry-After), into *res. */
void pinhole_http_disk_full(request *rq, enum MHD_Result *res);

/* Count n reports (or bodies) refused for reason r. */
void pinhole_http_reject(pinhole_server *s, enum reason r, uint64_t n);

/* ---- auth.c ---- */

/* 0 when the request may proceed for role need, else -1 with a 401/403 queued (*res its
 * result). */
int pinhole_http_check_role(request *rq, int need, enum MHD_Result *res);

/* ---- handlers ---- */

enum MHD_Result pinhole_http_health(request *rq);                           /* metrics.c */
enum MHD_Result pinhole_http_metrics(request *rq);                          /* metrics.c */
enum MHD_Result pinhole_http_keys(request *rq);                             /* collections.c */
enum MHD_Result pinhole_http_collection_list(request *rq);                  /* collections.c */
enum MHD_Result pinhole_http_collection_create(request *rq);                /* collections.c */
enum MHD_Result pinhole_http_collection_get(request *rq);                   /* collections.c */
enum MHD_Result pinhole_http_collection_delete(request *rq);                /* collections.c */
enum MHD_Result pinhole_http_collection_close(request *rq);                 /* collections.c */
enum MHD_Result pinhole_http_config(request *rq);                           /* collections.c */
enum MHD_Result pinhole_http_labels(request *rq);                           /* collections.c */
enum MHD_Result pinhole_http_timeline(request *rq);                         /* collections.c */
enum MHD_Result pinhole_http_reports(request *rq);                          /* reports.c */
enum MHD_Result pinhole_http_histogram(request *rq);                        /* histogram.c */
enum MHD_Result pinhole_http_job_create(request *rq);                       /* jobs.c */
enum MHD_Result pinhole_http_job_offline(request *rq);                      /* jobs.c */
enum MHD_Result pinhole_http_job_get(request *rq);                          /* jobs.c */
enum MHD_Result pinhole_http_job_list(request *rq);                         /* jobs.c */
enum MHD_Result pinhole_http_job_cancel(request *rq);                       /* jobs.c */
enum MHD_Result pinhole_http_discovery_list(request *rq);                   /* discoveries.c */
enum MHD_Result pinhole_http_discovery_create(request *rq);                 /* discoveries.c */
enum MHD_Result pinhole_http_discovery_get(request *rq);                    /* discoveries.c */
enum MHD_Result pinhole_http_discovery_config(request *rq);                 /* discoveries.c */
enum MHD_Result pinhole_http_multi_create(request *rq, const json_t *body); /* multi.c */
enum MHD_Result pinhole_http_multi_get(request *rq);                        /* multi.c */
enum MHD_Result pinhole_http_root(request *rq);                             /* ui.c */
enum MHD_Result pinhole_http_ui(request *rq);                               /* ui.c */

/* multi.c: the params of the multi_attribute job under parent: the client's (params, may be NULL)
 * with the parent's attributes and pair collections, and from/to (may be NULL). A new reference,
 * NULL when out of memory or the parent's stored spec is unreadable. */
json_t *pinhole_http_multi_job_params(const pinhole_multi_record *parent, const json_t *params,
                                      const json_t *from, const json_t *to);

/* histogram.c: start the query thread (PINHOLE_ENOMEM when it cannot), and stop it after it
 * answered every queued query (safe when not started). */
int pinhole_http_queries_start(pinhole_server *s);
void pinhole_http_queries_stop(pinhole_server *s);

#endif
