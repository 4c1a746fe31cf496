/* The relay between clients and the HTTP daemon, checking every request head (relay.h).
 *
 * Why libmicrohttpd (0.9.75) never answers a request it gets from here with one of its own HTML
 * error pages; each of its error responses, and what the relay lets through:
 * - 414 / 431 "request too big" when its read buffer cannot grow over a head: the daemon's pool is
 *   twice the connection memory, its read buffer starts at half of the pool and is reset to that
 *   after each request, and every head (and trailer section) here is at most a quarter of the
 *   pool (head_max = connection memory / 2).
 * - 431 when the pool has no room for a header, argument, cookie or footer record (about 56 bytes
 *   each) or the cookie copy: at most PINHOLE_HEAD_FIELDS_MAX of them (cookies and query
 *   parameters counted) and a cookie header under head_max fit in the other half of the pool.
 * - 400 on a request line, header line or footer line it cannot parse, 505 on an HTTP version:
 *   the request line here is METHOD SP TARGET SP HTTP/1.0 or HTTP/1.1 (single spaces, a token
 *   method, a target without spaces), each field line a token, a colon and a value without
 *   control characters, never folded.
 * - 400 / 413 on a Content-Length it cannot read: here it is 1 to 19 digits (below 2^64), the same
 *   in every Content-Length field; never with Transfer-Encoding, which must be chunked alone.
 * - 400 / 413 on malformed chunked framing: chunk sizes here are 1 to 15 hex digits (an extension
 *   without control characters after a semicolon), each line and each chunk's data ended by CRLF;
 *   otherwise the relay forwards nothing more, ends the daemon's side (which drops the unfinished
 *   request and closes once its answers to the requests before it are out) and then answers the
 *   client itself: 400 problem+json, Connection: close.
 * - 500 when the application leaves upload data unprocessed with a full buffer: the handler always
 *   takes every byte (server.c).
 * - 400 on a HTTP/1.1 request without Host is only made in its strict mode (not used): server.c
 *   answers it as problem+json. */
#define _GNU_SOURCE /* memmem */
#include "server/http/relay.h"
#include "server/http/answers.h"
#include "common/error.h"
#include "server/http/gate.h"
#include "server/http/head.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SCRATCH (64u << 10)  /* bytes read at once from either side */
#define LINGER_SECONDS 1.0   /* how long a closing client may read the daemon's last answer */
#define CHUNK_LINE_MAX 1024u /* a chunk-size line, extensions included */
#define WAKE_TAG UINT64_MAX  /* epoll tag of the stop eventfd */

/* Where the client's byte stream is: in a request head, a body of known length, a chunked
 * body's size line, chunk data, the CRLF after it, its trailer section; or dropped (after a
 * refusal), or the connection lingering before its close. */
enum { IN_HEAD, IN_BODY, IN_CHUNK_LINE, IN_CHUNK_DATA, IN_CHUNK_END, IN_TRAILER, IN_DROP };

typedef struct buffer {
    uint8_t *p;
    size_t len, off; /* bytes [off, len) wait to be written */
    double moved;    /* monotonic seconds: bytes last came (to it empty) or went out */
} buffer;

typedef struct conn {
    int cfd, dfd; /* the client's socket, the relay's end of the daemon's pair (-1: closed) */
    int state;
    uint64_t left; /* bytes left of a body or chunk */
    char *acc;     /* a head, chunk line or trailer gathered across reads (head_max bytes) */
    size_t acc_len;
    buffer to_d, to_c; /* bytes the daemon or the client did not take yet */
    int client_eof;    /* 1: the client's end closed; 2: failed, close everything */
    int daemon_eof, lingering, shut_d, dead;
    int broken;  /* a chunked body's framing broke: 1 its answer is owed, 2 it is written */
    int d_close; /* the daemon sent an answer with Connection: close (its last one) */
    /* The answers owed (answers.h): a client that ends its side gets every answer owed before
     * the daemon sees that end (libmicrohttpd drops a request whose end of stream it reads
     * while the request is still being answered). */
    pinhole_answers ans;
    uint32_t cmask, dmask; /* epoll interests registered */
    double since; /* monotonic seconds: the current head's first byte, or the linger's end */
    struct conn *prev, *next;
} conn;

struct pinhole_relay {
    size_t head_max;
    double head_timeout, idle_timeout;
    int ep, wake;
    pthread_t thread;
    _Atomic int stopping;
    double stop_by;
    conn *list;         /* every connection (the relay's thread alone) */
    conn *dead;         /* closed, freed after the current batch of events */
    pthread_mutex_t mu; /* the queue: pinhole_relay_add runs on the gate's thread */
    conn *queue;
    uint8_t *in, *out; /* scratch: bytes read, and bytes to forward (SCRATCH + head_max + 256) */
    size_t out_len;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* epoll tags: the connection's address, low bit set for the daemon's side */
static uint64_t tag(conn *c, int daemon)
{
    return (uint64_t)(uintptr_t)c | (uint64_t)daemon;
}

/* Close both sides; the memory goes once the current batch of events is handled (another event
 * of the batch may name the connection). */
static void close_conn(pinhole_relay *r, conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        r->list = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->cfd >= 0)
        close(c->cfd); /* also out of the epoll set */
    if (c->dfd >= 0)
        close(c->dfd);
    c->cfd = c->dfd = -1;
    c->dead = 1;
    c->next = r->dead;
    r->dead = c;
}

static void free_dead(pinhole_relay *r)
{
    while (r->dead) {
        conn *c = r->dead;
        r->dead = c->next;
        free(c->acc);
        free(c->to_d.p);
        free(c->to_c.p);
        free(c);
    }
}

/* Keep the bytes a side did not take. */
static int stash(buffer *b, const uint8_t *p, size_t n)
{
    if (b->off == b->len) {
        b->off = b->len = 0;
        b->moved = now();
    }
    uint8_t *q = realloc(b->p, b->len + n);
    if (!q)
        return -1;
    memcpy(q + b->len, p, n);
    b->p = q;
    b->len += n;
    return 0;
}

/* Write what fd takes of b; 0 when b is empty now, 1 when bytes are left, -1 on error. */
static int flush(int fd, buffer *b)
{
    while (b->off < b->len) {
        const ssize_t s = send(fd, b->p + b->off, b->len - b->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (s < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : errno == EINTR ? 1 : -1;
        b->off += (size_t)s;
        b->moved = now();
    }
    free(b->p);
    b->p = NULL;
    b->off = b->len = 0;
    return 0;
}

/* Write p[0..n) to fd, keeping in b what it does not take now (b empty before). */
static int send_or_stash(int fd, buffer *b, const uint8_t *p, size_t n)
{
    if (b->off < b->len)
        return stash(b, p, n);
    size_t done = 0;
    while (done < n) {
        const ssize_t s = send(fd, p + done, n - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (s < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
            break;
        }
        done += (size_t)s;
    }
    return done < n ? stash(b, p + done, n - done) : 0;
}

/* Register the interests the connection's state calls for. */
static void update_interest(pinhole_relay *r, conn *c)
{
    uint32_t cm = 0, dm = 0;
    if (c->cfd >= 0) {
        if (!c->client_eof && c->to_d.off == c->to_d.len && c->ans.owed < PINHOLE_ANSWERS_OWED_MAX)
            cm |= EPOLLIN | EPOLLRDHUP;
        if (c->to_c.off < c->to_c.len)
            cm |= EPOLLOUT;
    }
    if (c->dfd >= 0) {
        if (!c->daemon_eof && c->to_c.off == c->to_c.len)
            dm |= EPOLLIN | EPOLLRDHUP;
        if (c->to_d.off < c->to_d.len)
            dm |= EPOLLOUT;
    }
    if (c->cfd >= 0 && cm != c->cmask) {
        struct epoll_event ev = {.events = cm, .data.u64 = tag(c, 0)};
        epoll_ctl(r->ep, EPOLL_CTL_MOD, c->cfd, &ev);
        c->cmask = cm;
    }
    if (c->dfd >= 0 && dm != c->dmask) {
        struct epoll_event ev = {.events = dm, .data.u64 = tag(c, 1)};
        epoll_ctl(r->ep, EPOLL_CTL_MOD, c->dfd, &ev);
        c->dmask = dm;
    }
}

/* ---- the client's byte stream ---- */

static void out_add(pinhole_relay *r, const void *p, size_t n)
{
    memcpy(r->out + r->out_len, p, n);
    r->out_len += n;
}

/* In place of a refused head: a request the daemon answers with the fault's problem document
 * and Connection: close. Everything the client sends after it is dropped. */
static void refuse(pinhole_relay *r, conn *c, pinhole_head_fault f)
{
    char req[128];
    const int n = snprintf(req, sizeof req, "%s /%d HTTP/1.1\r\nHost: relay\r\n\r\n",
                           PINHOLE_HEAD_REFUSE_METHOD, (int)f);
    out_add(r, req, (size_t)n);
    pinhole_answers_owe(&c->ans, 0);
    c->state = IN_DROP;
}

/* Gather bytes into c->acc up to limit; returns how many of p[0..n) were taken. */
static size_t gather(conn *c, const uint8_t *p, size_t n, size_t limit)
{
    const size_t m = limit - c->acc_len < n ? limit - c->acc_len : n;
    memcpy(c->acc + c->acc_len, p, m);
    c->acc_len += m;
    return m;
}

/* A head is complete: check it, forward it (or its refusal), and enter its body. */
static void take_head(pinhole_relay *r, conn *c, const char *h, size_t n)
{
    pinhole_head_framing f;
    const pinhole_head_fault e = pinhole_head_check(h, n, &f);
    c->since = 0;
    if (e != HEAD_OK) {
        refuse(r, c, e);
        return;
    }
    out_add(r, h, n);
    pinhole_answers_owe(&c->ans, n > 5 && memcmp(h, "HEAD ", 5) == 0);
    c->left = f.length;
    c->state = f.chunked ? IN_CHUNK_LINE : f.length ? IN_BODY : IN_HEAD;
}

/* A chunk-size line c->acc[0..acc_len) ending in LF: 1 to 15 hex digits, an optional extension,
 * CRLF. -1 when malformed. */
static int take_chunk_line(conn *c)
{
    const char *p = c->acc;
    size_t n = c->acc_len;
    if (n < 3 || p[n - 2] != '\r')
        return -1;
    n -= 2;
    uint64_t size = 0;
    size_t i = 0;
    for (; i < n && i < 16; i++) {
        const char d = p[i];
        const int v = d >= '0' && d <= '9'   ? d - '0'
                      : d >= 'a' && d <= 'f' ? d - 'a' + 10
                      : d >= 'A' && d <= 'F' ? d - 'A' + 10
                                             : -1;
        if (v < 0)
            break;
        size = size * 16 + (uint64_t)v;
    }
    if (i == 0 || i > 15 || (i < n && p[i] != ';'))
        return -1;
    for (; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
            return -1;
    c->left = size;
    c->state = size ? IN_CHUNK_DATA : IN_TRAILER;
    return 0;
}

/* A chunked body's framing broke: nothing more of the client's is forwarded, and its answer is
 * owed (settle). -1. */
static int broken(conn *c)
{
    c->broken = 1;
    c->state = IN_DROP;
    return -1;
}

/* The client's bytes p[0..n): forwarded to r->out as far as they check. -1 when a chunked body's
 * framing breaks (c->broken set; r->out holds the bytes before the break) or memory runs out. */
static int parse(pinhole_relay *r, conn *c, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        switch (c->state) {
        case IN_HEAD: {
            if (c->acc_len == 0) {
                while (i < n && (p[i] == '\r' || p[i] == '\n'))
                    i++; /* empty lines before a request line are ignored */
                if (i == n)
                    break;
                const size_t avail = n - i < r->head_max ? n - i : r->head_max;
                const size_t end = pinhole_head_end((const char *)p + i, avail);
                if (end) { /* the whole head in this read: checked in place */
                    take_head(r, c, (const char *)p + i, end);
                    i += end;
                    break;
                }
                if (!c->acc && !(c->acc = malloc(r->head_max)))
                    return -1;
            }
            const size_t before = c->acc_len;
            const size_t m = gather(c, p + i, n - i, r->head_max);
            const size_t from = before > 2 ? before - 2 : 0;
            size_t end = pinhole_head_end(c->acc + from, c->acc_len - from);
            if (end) {
                end += from;
                i += end - before; /* bytes of this read the head took */
                c->acc_len = 0;
                take_head(r, c, c->acc, end);
            } else if (c->acc_len == r->head_max) {
                c->acc_len = 0;
                refuse(r, c, HEAD_TOO_LARGE);
            } else {
                i += m;
                if (!c->since)
                    c->since = now();
            }
            break;
        }
        case IN_BODY:
        case IN_CHUNK_DATA: {
            const size_t m = c->left < n - i ? (size_t)c->left : n - i;
            out_add(r, p + i, m);
            i += m;
            c->left -= m;
            if (c->left == 0)
                c->state = c->state == IN_BODY ? IN_HEAD : IN_CHUNK_END;
            break;
        }
        case IN_CHUNK_LINE:
        case IN_CHUNK_END:
        case IN_TRAILER: {
            if (!c->acc && !(c->acc = malloc(r->head_max)))
                return -1;
            /* a line at a time: up to its LF */
            const uint8_t *lf = memchr(p + i, '\n', n - i);
            const size_t want = lf ? (size_t)(lf - (p + i)) + 1 : n - i;
            const size_t limit = c->state == IN_TRAILER || r->head_max < CHUNK_LINE_MAX
                                     ? r->head_max
                                     : CHUNK_LINE_MAX;
            if (c->acc_len + want > limit)
                return broken(c);
            gather(c, p + i, want, limit);
            i += want;
            if (!lf)
                break;
            if (c->state == IN_CHUNK_END) {
                if (c->acc_len != 2 || c->acc[0] != '\r')
                    return broken(c);
                out_add(r, c->acc, 2);
                c->state = IN_CHUNK_LINE;
            } else if (c->state == IN_CHUNK_LINE) {
                if (take_chunk_line(c) != 0)
                    return broken(c);
                out_add(r, c->acc, c->acc_len);
            } else { /* field lines, CRLF each, to an empty line */
                const size_t l = c->acc_len;
                if (l < 2 || c->acc[l - 2] != '\r')
                    return broken(c);
                if (l != 2 && (l < 4 || memcmp(c->acc + l - 4, "\r\n\r\n", 4) != 0))
                    continue; /* another field line: keep gathering */
                if (pinhole_head_check_trailer(c->acc, c->acc_len) != HEAD_OK)
                    return broken(c);
                out_add(r, c->acc, c->acc_len);
                c->state = IN_HEAD;
            }
            c->acc_len = 0;
            break;
        }
        default: /* IN_DROP */
            i = n;
        }
    }
    return 0;
}

/* ---- events ---- */

static void client_readable(pinhole_relay *r, conn *c)
{
    const ssize_t n = recv(c->cfd, r->in, SCRATCH, MSG_DONTWAIT);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            c->client_eof = 2; /* reset: close everything */
        return;
    }
    if (n == 0) {
        c->client_eof = 1; /* the daemon sees the end once it has every byte before it */
        return;
    }
    if (c->lingering || c->dfd < 0)
        return; /* dropped */
    r->out_len = 0;
    if (parse(r, c, r->in, (size_t)n) != 0 && !c->broken) {
        c->client_eof = 2;
        return;
    }
    if (r->out_len && send_or_stash(c->dfd, &c->to_d, r->out, r->out_len) != 0)
        c->client_eof = 2;
}

static void daemon_readable(pinhole_relay *r, conn *c)
{
    const ssize_t n = recv(c->dfd, r->in, SCRATCH, MSG_DONTWAIT);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            c->daemon_eof = 1;
        return;
    }
    if (n == 0) {
        c->daemon_eof = 1;
        return;
    }
    if (memmem(r->in, (size_t)n, "\r\nConnection: close\r\n", 21))
        c->d_close = 1;
    pinhole_answers_read(&c->ans, r->in, (size_t)n);
    if (send_or_stash(c->cfd, &c->to_c, r->in, (size_t)n) != 0)
        c->client_eof = 2;
}

/* After events: close what is finished. Returns 1 when c was freed. */
static int settle(pinhole_relay *r, conn *c)
{
    if (c->daemon_eof && c->dfd >= 0) { /* its end is closed: nothing more comes, and a closed
                                           pair would wake the relay at every look (hang-up) */
        close(c->dfd);
        c->dfd = -1;
    }
    if (c->broken == 1 && c->client_eof != 2) {
        /* the daemon gets the end of the stream after the bytes before the break: it answers
         * the requests before the broken one, drops that one and closes; then the answer */
        if (!c->shut_d && c->dfd >= 0 && c->to_d.off == c->to_d.len &&
            (c->ans.owed <= 1 || c->ans.lost)) { /* the broken request's answer never comes */
            shutdown(c->dfd, SHUT_WR);
            c->shut_d = 1;
            c->since = now() + LINGER_SECONDS; /* the daemon may not look (sweep) */
        }
        if (c->daemon_eof && c->to_c.off == c->to_c.len) {
            char msg[PINHOLE_PROBLEM_MESSAGE_MAX];
            const size_t n =
                pinhole_problem_message(msg, sizeof msg, pinhole_head_problem(HEAD_CHUNKS),
                                        pinhole_head_detail(HEAD_CHUNKS), 0);
            c->broken = 2;
            /* unless the daemon answered the broken request already (before its body) */
            if (!c->d_close && send_or_stash(c->cfd, &c->to_c, (const uint8_t *)msg, n) != 0)
                c->client_eof = 2;
        }
    }
    if (c->client_eof == 2 || (c->daemon_eof && c->client_eof)) {
        if (c->client_eof == 2 || c->to_c.off == c->to_c.len) {
            close_conn(r, c);
            return 1;
        }
    }
    /* The client ended its side: the daemon sees the end once every byte before it is written
     * and once every answer owed has come back, but for the request the client stopped inside
     * the body of (it cannot complete). */
    const int mid_body = c->state != IN_HEAD && c->state != IN_DROP;
    if (c->client_eof == 1 && !c->shut_d && c->dfd >= 0 && c->to_d.off == c->to_d.len &&
        (c->ans.owed == 0 || c->ans.lost || (mid_body && c->ans.owed <= 1))) {
        shutdown(c->dfd, SHUT_WR);
        c->shut_d = 1;
    }
    if (c->daemon_eof && !c->lingering && c->to_c.off == c->to_c.len) {
        /* the daemon closed and its last answer is out: let the client read it, then close */
        shutdown(c->cfd, SHUT_WR);
        if (c->dfd >= 0)
            close(c->dfd);
        c->dfd = -1;
        c->lingering = 1;
        c->state = IN_DROP;
        c->since = now() + LINGER_SECONDS;
    }
    update_interest(r, c);
    return 0;
}

static void on_event(pinhole_relay *r, uint64_t t, uint32_t events)
{
    conn *c = (conn *)(uintptr_t)(t & ~(uint64_t)1);
    const int daemon = (int)(t & 1);
    if (c->dead)
        return;
    if (daemon) {
        if (c->dfd < 0)
            return;
        if ((events & EPOLLOUT) && flush(c->dfd, &c->to_d) < 0)
            c->daemon_eof = 1;
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            daemon_readable(r, c);
    } else {
        if ((events & EPOLLOUT) && flush(c->cfd, &c->to_c) < 0)
            c->client_eof = 2;
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            client_readable(r, c);
    }
    /* bytes that waited for the other side may go now */
    if (c->client_eof != 2 && c->to_c.off < c->to_c.len && flush(c->cfd, &c->to_c) < 0)
        c->client_eof = 2;
    if (c->dfd >= 0 && c->to_d.off < c->to_d.len && flush(c->dfd, &c->to_d) < 0)
        c->daemon_eof = 1;
    settle(r, c);
}

/* Heads past their deadline are refused (408); lingering connections past theirs are closed, and
 * so are connections whose client has taken none of its answer bytes for idle_timeout (a client
 * that never reads would hold its connection forever). */
static void sweep(pinhole_relay *r)
{
    const double t = now();
    for (conn *c = r->list, *next; c; c = next) {
        next = c->next;
        if ((c->lingering && t >= c->since) || (r->idle_timeout > 0 && c->to_c.off < c->to_c.len &&
                                                t - c->to_c.moved > r->idle_timeout)) {
            close_conn(r, c);
        } else if (c->broken == 1 && c->shut_d && t >= c->since) {
            /* libmicrohttpd notices the end of a body it waits for only at its own timeout:
             * what it answered by now is out, the rest of its side is dropped */
            close(c->dfd);
            c->dfd = -1;
            c->daemon_eof = 1;
            settle(r, c);
        } else if (!c->lingering && c->state == IN_HEAD && c->since &&
                   t - c->since > r->head_timeout) {
            c->acc_len = 0;
            r->out_len = 0;
            refuse(r, c, HEAD_TIMEOUT);
            if (send_or_stash(c->dfd, &c->to_d, r->out, r->out_len) != 0)
                c->client_eof = 2;
            settle(r, c);
        }
    }
}

/* Connections handed over since the last look: listed and watched. */
static void take_queue(pinhole_relay *r)
{
    uint64_t v;
    (void)!read(r->wake, &v, sizeof v);
    pthread_mutex_lock(&r->mu);
    conn *q = r->queue;
    r->queue = NULL;
    pthread_mutex_unlock(&r->mu);
    while (q) {
        conn *c = q;
        q = q->next;
        c->prev = NULL;
        c->next = r->list;
        if (r->list)
            r->list->prev = c;
        r->list = c;
        struct epoll_event ce = {.events = c->cmask, .data.u64 = tag(c, 0)},
                           de = {.events = c->dmask, .data.u64 = tag(c, 1)};
        if (epoll_ctl(r->ep, EPOLL_CTL_ADD, c->dfd, &de) != 0 ||
            epoll_ctl(r->ep, EPOLL_CTL_ADD, c->cfd, &ce) != 0)
            close_conn(r, c); /* the daemon sees its end close */
    }
}

static void *relay_main(void *arg)
{
    pinhole_relay *r = arg;
    struct epoll_event ev[64];
    double next_sweep = 0;
    for (;;) {
        const int n = epoll_wait(r->ep, ev, 64, 100);
        for (int k = 0; k < n; k++) {
            if (ev[k].data.u64 == WAKE_TAG)
                take_queue(r);
            else
                on_event(r, ev[k].data.u64, ev[k].events);
        }
        const double t = now();
        if (t >= next_sweep) {
            sweep(r);
            next_sweep = t + 0.1;
        }
        free_dead(r);
        if (r->stopping && (r->list == NULL || t >= r->stop_by))
            break;
    }
    return NULL;
}

int pinhole_relay_add(pinhole_relay *r, int client, int daemon)
{
    conn *c = calloc(1, sizeof *c);
    if (!c || r->stopping) {
        free(c);
        close(client);
        close(daemon);
        return c ? PINHOLE_ECANCELED : PINHOLE_ENOMEM;
    }
    c->cfd = client;
    c->dfd = daemon;
    /* the daemon's answers go out as they come (libmicrohttpd sets this on the sockets it has) */
    const int nodelay = 1;
    (void)setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay);
    c->state = IN_HEAD;
    c->cmask = EPOLLIN | EPOLLRDHUP;
    c->dmask = EPOLLIN | EPOLLRDHUP;
    pthread_mutex_lock(&r->mu); /* the relay's thread lists and watches it (take_queue) */
    c->next = r->queue;
    r->queue = c;
    pthread_mutex_unlock(&r->mu);
    const uint64_t one = 1;
    (void)!write(r->wake, &one, sizeof one);
    return PINHOLE_OK;
}

int pinhole_relay_start(pinhole_relay **out, size_t head_max, double head_timeout,
                        double idle_timeout)
{
    *out = NULL;
    pinhole_relay *r = calloc(1, sizeof *r);
    if (!r)
        return PINHOLE_ENOMEM;
    r->head_max = head_max < 256 ? 256 : head_max;
    r->head_timeout = head_timeout;
    r->idle_timeout = idle_timeout;
    r->in = malloc(SCRATCH);
    r->out = malloc(SCRATCH + r->head_max + 256);
    r->ep = epoll_create1(EPOLL_CLOEXEC);
    r->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&r->mu, NULL);
    struct epoll_event wev = {.events = EPOLLIN, .data.u64 = WAKE_TAG};
    int rc = !r->in || !r->out ? PINHOLE_ENOMEM : PINHOLE_EIO;
    if (r->in && r->out && r->ep >= 0 && r->wake >= 0 &&
        epoll_ctl(r->ep, EPOLL_CTL_ADD, r->wake, &wev) == 0 &&
        pthread_create(&r->thread, NULL, relay_main, r) == 0) {
        *out = r;
        return PINHOLE_OK;
    }
    if (r->ep >= 0)
        close(r->ep);
    if (r->wake >= 0)
        close(r->wake);
    pthread_mutex_destroy(&r->mu);
    free(r->in);
    free(r->out);
    free(r);
    return rc;
}

void pinhole_relay_stop(pinhole_relay *r, double grace)
{
    if (!r)
        return;
    r->stop_by = now() + grace;
    r->stopping = 1;
    const uint64_t one = 1;
    (void)!write(r->wake, &one, sizeof one);
    pthread_join(r->thread, NULL);
    take_queue(r);
    while (r->list)
        close_conn(r, r->list);
    free_dead(r);
    close(r->ep);
    close(r->wake);
    pthread_mutex_destroy(&r->mu);
    free(r->in);
    free(r->out);
    free(r);
}
