/* The aggregation server's HTTP front end: libmicrohttpd (internal epoll thread pool) in front of
 * the service core (server/service/service.h).
 *
 * The endpoints are the rows of the route table (server/http/routes.c; docs/api.md documents
 * each). Report batches are decoded on the pool's threads, then handed to the single writer; the
 * connection is suspended (not blocking a pool thread) until the batch's transaction commits, and
 * resumed by the writer. Histogram queries run on a thread of their own. Errors are RFC 9457
 * application/problem+json documents (server/http/problem.h).
 *
 * One pinhole_server per process is typical; its functions are called by one owner thread. */
#ifndef PINHOLE_SERVER_HTTPD_H
#define PINHOLE_SERVER_HTTPD_H

#include "server/http/api.h"
#include "server/store/writer.h"

#include <stddef.h>
#include <stdint.h>

/** Server settings. pinhole_server_options_default() fills every default; docs/pinhole-server.conf
 * documents each one. */
typedef struct pinhole_server_options {
    char listen[64];                  /* IPv4 address to bind, "127.0.0.1" */
    uint16_t port;                    /* 8080; 0 picks a free port (see pinhole_server_port) */
    unsigned threads;                 /* pool threads, 2 */
    unsigned connection_limit;        /* simultaneous connections, 1024 */
    unsigned connection_timeout;      /* seconds of inactivity before a connection is closed, 30 */
    size_t connection_memory;         /* bytes of buffer per connection (headers, I/O), 32768 */
    double head_timeout;              /* seconds from accept to a complete request head, 10 */
    unsigned connections_per_address; /* simultaneous connections from one client address, 64 */
    int log_client_address;           /* put the client's address in request log lines, 0 */
    int check_every_request;  /* 1 (the default): every request head of a connection is checked
                                 by the relay (server/http/relay.h) before libmicrohttpd reads it,
                                 and libmicrohttpd polls instead of using epoll; 0: only the first
                                 head is checked (by the gate), later ones by libmicrohttpd */
    unsigned min_body_rate;   /* bytes/s a body must average once head_timeout has passed, 512 */
    size_t body_buffer_bytes; /* request body bytes buffered at once, all clients, 512 MiB */
    size_t body_buffer_bytes_per_address; /* ... from one client address, 64 MiB */
    size_t max_body_bytes;                /* largest report batch body, 8 MiB */
    size_t max_admin_body_bytes;          /* largest collection spec body (labels), 64 MiB */
    size_t max_batch_reports;             /* reports in one batch, 65,536 */
    unsigned retry_after;                 /* seconds suggested by 429 and 503 answers, 1 */
    unsigned job_workers;                 /* analytics job worker threads, 1 */
    unsigned job_time_limit; /* seconds a job may run at most (its default limit), 600 */
    char db_path[4096];      /* the store: "pinhole.db" in the working directory (a path or a store
                               URL, server/store/store.h) */
    pinhole_writer_options writer;
    /* the report window of a collection created without one: seconds back (604800, 7 days) and
     * ahead (3600) of the server's clock; 0: no bound on that side */
    uint32_t max_report_age, max_clock_skew;
    uint8_t admin_hash[PINHOLE_TOKEN_HASH_BYTES];
    uint8_t analyst_hash[PINHOLE_TOKEN_HASH_BYTES];
    uint8_t uploader_hash[PINHOLE_TOKEN_HASH_BYTES];
    int have_admin, have_analyst, have_uploader; /* a role without a token is refused (uploader:
                                                    open when no token is configured) */
} pinhole_server_options;

/** Every default as documented above. */
void pinhole_server_options_default(pinhole_server_options *o);

typedef struct pinhole_server pinhole_server;

/** Open the service (store, collections, writer, jobs: pinhole_service_open) and start the HTTP
 * daemon.
 * *out receives the server. Errors: PINHOLE_EIO or PINHOLE_EDB (database), PINHOLE_EINVAL (bad
 * listen address), PINHOLE_EUNSUPPORTED (the daemon could not start: port in use, ...),
 * PINHOLE_ENOMEM. */
int pinhole_server_start(const pinhole_server_options *o, pinhole_server **out);

/** The TCP port the server listens on (the chosen one when options asked for 0). */
uint16_t pinhole_server_port(const pinhole_server *s);

/** Replace the tokens (the *_hash and have_* fields of o) of a running server, atomically for the
 * requests that check them (SIGHUP reloads token files). */
void pinhole_server_set_tokens(pinhole_server *s, const pinhole_server_options *o);

/** Graceful stop: stop accepting connections, let requests in flight finish (up to grace
 * seconds), commit everything queued, answer the waiting clients, close the daemon and the
 * store (after its closing upkeep, pinhole_store_maintain) and free the server. */
void pinhole_server_stop(pinhole_server *s, double grace);

#endif
