/* The connection gate in front of the HTTP daemon: it accepts every connection itself and hands
 * one to the daemon only once its whole request head has arrived (seen with MSG_PEEK, so nothing
 * is consumed), within a deadline that bytes trickling in do not extend. On the way it enforces
 * the connection limit and a per-client-address cap, answering at once (503 + Retry-After, or
 * 408 / 431) and closing rather than leaving clients in the accept queue. Every answer it writes
 * is application/problem+json. One thread, epoll; IPv4 and IPv6 addresses.
 *
 * Past its first request head a connection goes through the relay (relay.h), which checks every
 * later head of a kept-alive connection; the daemon's inactivity timeout and the per-address cap
 * bound what one address can hold that way. */
#ifndef PINHOLE_SERVER_HTTP_GATE_H
#define PINHOLE_SERVER_HTTP_GATE_H

#include "server/http/problem.h"

#include <stddef.h>
#include <sys/socket.h>

typedef struct pinhole_gate pinhole_gate;

/* Connections past the limits the gate holds at once: to see whether they are operations requests
 * (GET /healthz, /metrics, served anyway), and to let the others read their 503. The daemon must
 * accept max_connections + PINHOLE_GATE_SPARE connections. */
#define PINHOLE_GATE_SPARE 256u

/** Gate settings. */
typedef struct pinhole_gate_options {
    int listen_fd;            /* bound and listening; the gate owns it from start on */
    double head_timeout;      /* seconds from accept to a complete request head (408 after) */
    size_t head_max;          /* most bytes a request head may take (431 beyond) */
    unsigned max_connections; /* at the gate and in the daemon together (503 beyond) */
    unsigned per_address;     /* connections from one client address (503 beyond) */
    unsigned retry_after;     /* seconds, in the 503's Retry-After */
    size_t body_bytes;        /* request body bytes buffered at once, server-wide (0: no bound) */
    size_t body_bytes_per_address; /* ... for one client address (0: no bound) */
    /* hand a connection with a complete head to the daemon: 0 when taken (the daemon closes the
     * socket and calls pinhole_gate_release when it does), nonzero when refused */
    int (*admit)(void *ctx, int fd, const struct sockaddr *addr, socklen_t addrlen);
    void *ctx;
} pinhole_gate_options;

/** Counters, readable at any time. */
typedef struct pinhole_gate_stats {
    unsigned long long admitted, refused_limit, refused_address, head_timeouts, head_too_large;
    unsigned long long refused_body_bytes; /* reservations refused */
    unsigned long long evicted; /* closed before their head arrived, to make room at the limit */
    size_t body_bytes;          /* reserved now */
} pinhole_gate_stats;

/* Bytes a problem message of pinhole_problem_message takes at most. */
#define PINHOLE_PROBLEM_MESSAGE_MAX 700u

/** A whole HTTP/1.1 answer with problem p as application/problem+json (detail: a JSON-safe
 * line), `Connection: close` and, when retry_after is nonzero, `Retry-After`, written to
 * msg[0..cap): its length, 0 when it does not fit (cap PINHOLE_PROBLEM_MESSAGE_MAX always does).
 * Used where the server answers outside libmicrohttpd (the connection gate, the relay). */
size_t pinhole_problem_message(char *msg, size_t cap, pinhole_problem p, const char *detail,
                               unsigned retry_after);

/** Start the gate's thread. Errors: PINHOLE_ENOMEM, PINHOLE_EIO (epoll). On error the listening
 * socket is left open. */
int pinhole_gate_start(pinhole_gate **out, const pinhole_gate_options *o);

/** A connection the daemon took has closed: count it out (addr as given to admit). Thread-safe. */
void pinhole_gate_release(pinhole_gate *g, const struct sockaddr *addr);

/** Stop accepting (the listening socket is closed), close the connections still at the gate and
 * join the thread; the daemon's connections stay open. Safe on NULL. */
void pinhole_gate_stop(pinhole_gate *g);

/** Free the gate once the daemon (which calls pinhole_gate_release) is stopped. Safe on NULL. */
void pinhole_gate_free(pinhole_gate *g);

/** Reserve n bytes of request body buffer for a connection from addr (one the daemon holds):
 * 0 when both the server-wide and the address's bound allow it, else -1 (nothing reserved; the
 * refusal is counted). Thread-safe. */
int pinhole_gate_reserve(pinhole_gate *g, const struct sockaddr *addr, size_t n);

/** Give back n bytes reserved for addr. Thread-safe. */
void pinhole_gate_unreserve(pinhole_gate *g, const struct sockaddr *addr, size_t n);

/** Snapshot of the counters. */
void pinhole_gate_get_stats(pinhole_gate *g, pinhole_gate_stats *out);

#endif
