/* The connection gate: accept, head deadline, connection limit and per-address cap (gate.h). */
#define _GNU_SOURCE /* accept4 */
#include "server/http/gate.h"
#include "common/error.h"
#include "server/http/head.h"
#include "server/http/problem.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* SLOT_OVER: refused by a limit, waiting (briefly) for its head, which may be an operations
 * request (GET /healthz or /metrics): those are served past the limits, so that an operator can
 * see the server under overload. */
enum { SLOT_FREE, SLOT_HEAD, SLOT_CLOSING, SLOT_OVER };
#define OVER_SECONDS                                                                               \
    1.0 /* how long a refused connection may take to show an operations request                    \
         */
#define WAKE_TAG                                                                                   \
    UINT64_MAX              /* epoll tag of the stop eventfd; the listener is 0, slot i is i + 1   \
                             */
#define CLOSING_SECONDS 1.0 /* how long a refused client may read its answer before the close */
#define REFUSE_SLOTS PINHOLE_GATE_SPARE

typedef struct slot {
    int state, fd;
    int counted;      /* in the connection counts (not for connections refused at accept) */
    int over_address; /* SLOT_OVER: refused by the per-address cap (else the connection limit) */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    double deadline;
} slot;

/* Connections per client address: open addressing, linear probing, backward-shift deletion. */
typedef struct addr_entry {
    uint8_t key[17]; /* family byte, then 4 or 16 address bytes (zero-padded) */
    unsigned count;  /* 0: empty */
    size_t bytes;    /* request body bytes reserved (pinhole_gate_reserve) */
} addr_entry;

struct pinhole_gate {
    pinhole_gate_options o;
    pthread_t thread;
    int ep, wake, listening;
    _Atomic int stopping;
    double listen_paused_until;
    slot *slots;                 /* max_connections, then REFUSE_SLOTS */
    unsigned *free_slots, nfree; /* of the first max_connections */
    unsigned *free_refuse, nrefuse;
    char *peek;         /* head_max bytes */
    pthread_mutex_t mu; /* the counts below: the gate's thread and the daemon's release them */
    unsigned total;
    addr_entry *table;
    size_t mask;
    pinhole_gate_stats stats;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void addr_key(const struct sockaddr *a, uint8_t key[17])
{
    memset(key, 0, 17);
    key[0] = (uint8_t)a->sa_family;
    if (a->sa_family == AF_INET)
        memcpy(key + 1, &((const struct sockaddr_in *)a)->sin_addr, 4);
    else if (a->sa_family == AF_INET6)
        memcpy(key + 1, &((const struct sockaddr_in6 *)a)->sin6_addr, 16);
}

static size_t addr_hash(const uint8_t key[17])
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (int i = 0; i < 17; i++)
        h = (h ^ key[i]) * 1099511628211u;
    return (size_t)h;
}

/* The entry for key, or the empty one where it would go (caller holds mu). */
static size_t addr_find(const pinhole_gate *g, const uint8_t key[17])
{
    size_t i = addr_hash(key) & g->mask;
    while (g->table[i].count && memcmp(g->table[i].key, key, 17) != 0)
        i = (i + 1) & g->mask;
    return i;
}

static void addr_remove(pinhole_gate *g, size_t i)
{
    g->table[i].count = 0;
    for (size_t j = (i + 1) & g->mask; g->table[j].count; j = (j + 1) & g->mask) {
        const size_t home = addr_hash(g->table[j].key) & g->mask;
        /* move j back into the hole at i unless its home lies cyclically in (i, j] */
        if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
            g->table[i] = g->table[j];
            g->table[j].count = 0;
            i = j;
        }
    }
}

/* Count a new connection in; 0, or the 503 reason (1 limit, 2 address). */
static int admit_count(pinhole_gate *g, const struct sockaddr *a)
{
    uint8_t key[17];
    addr_key(a, key);
    pthread_mutex_lock(&g->mu);
    int why = 0;
    const size_t i = addr_find(g, key);
    if (g->total >= g->o.max_connections) {
        why = 1;
        g->stats.refused_limit++;
    } else if (g->table[i].count >= g->o.per_address) {
        why = 2;
        g->stats.refused_address++;
    } else {
        g->total++;
        if (!g->table[i].count)
            memcpy(g->table[i].key, key, 17);
        g->table[i].count++;
    }
    pthread_mutex_unlock(&g->mu);
    return why;
}

void pinhole_gate_release(pinhole_gate *g, const struct sockaddr *a)
{
    if (!g || !a)
        return;
    uint8_t key[17];
    addr_key(a, key);
    pthread_mutex_lock(&g->mu);
    const size_t i = addr_find(g, key);
    if (g->table[i].count) {
        if (--g->table[i].count == 0)
            addr_remove(g, i);
        g->total--;
    }
    pthread_mutex_unlock(&g->mu);
}

int pinhole_gate_reserve(pinhole_gate *g, const struct sockaddr *a, size_t n)
{
    uint8_t key[17];
    addr_key(a, key);
    pthread_mutex_lock(&g->mu);
    const size_t i = addr_find(g, key);
    const size_t total = g->stats.body_bytes, mine = g->table[i].count ? g->table[i].bytes : 0;
    const int ok =
        g->table[i].count &&
        (!g->o.body_bytes || (total <= g->o.body_bytes && n <= g->o.body_bytes - total)) &&
        (!g->o.body_bytes_per_address ||
         (mine <= g->o.body_bytes_per_address && n <= g->o.body_bytes_per_address - mine));
    if (ok) {
        g->stats.body_bytes += n;
        g->table[i].bytes += n;
    } else {
        g->stats.refused_body_bytes++;
    }
    pthread_mutex_unlock(&g->mu);
    return ok ? 0 : -1;
}

void pinhole_gate_unreserve(pinhole_gate *g, const struct sockaddr *a, size_t n)
{
    uint8_t key[17];
    addr_key(a, key);
    pthread_mutex_lock(&g->mu);
    const size_t i = addr_find(g, key);
    if (g->table[i].count)
        g->table[i].bytes -= n <= g->table[i].bytes ? n : g->table[i].bytes;
    g->stats.body_bytes -= n <= g->stats.body_bytes ? n : g->stats.body_bytes;
    pthread_mutex_unlock(&g->mu);
}

void pinhole_gate_get_stats(pinhole_gate *g, pinhole_gate_stats *out)
{
    pthread_mutex_lock(&g->mu);
    *out = g->stats;
    pthread_mutex_unlock(&g->mu);
}

size_t pinhole_problem_message(char *msg, size_t cap, pinhole_problem p, const char *detail,
                               unsigned retry_after)
{
    const pinhole_problem_type *t = pinhole_problem_get(p);
    char body[400], retry[48] = "";
    const int blen = snprintf(body, sizeof body,
                              "{\"type\":\"urn:pinhole:problem:%s\",\"title\":\"%s\","
                              "\"status\":%u,\"detail\":\"%s\"}",
                              t->slug, t->title, t->status, detail);
    if (retry_after)
        snprintf(retry, sizeof retry, "Retry-After: %u\r\n", retry_after);
    const int n = snprintf(msg, cap,
                           "HTTP/1.1 %u %s\r\nContent-Type: application/problem+json\r\n%s"
                           "Connection: close\r\nContent-Length: %d\r\n\r\n%s",
                           t->status, t->title, retry, blen, body);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* Write a complete problem+json answer (best effort: the socket is nonblocking). */
static void answer(int fd, pinhole_problem p, const char *detail, unsigned retry_after)
{
    char msg[PINHOLE_PROBLEM_MESSAGE_MAX];
    const size_t n = pinhole_problem_message(msg, sizeof msg, p, detail, retry_after);
    if (n)
        (void)!send(fd, msg, n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void free_slot(pinhole_gate *g, unsigned i)
{
    slot *s = &g->slots[i];
    close(s->fd); /* also takes it out of the epoll set */
    s->state = SLOT_FREE;
    if (s->counted) {
        pinhole_gate_release(g, (struct sockaddr *)&s->addr);
        g->free_slots[g->nfree++] = i;
    } else {
        g->free_refuse[g->nrefuse++] = i;
    }
}

/* Answer, then let the client read it for a moment before closing (a close with unread request
 * bytes would reset the connection and could destroy the answer). */
static void refuse(pinhole_gate *g, unsigned i, pinhole_problem p, const char *detail)
{
    slot *s = &g->slots[i];
    answer(s->fd, p, detail, 0);
    shutdown(s->fd, SHUT_WR);
    s->state = SLOT_CLOSING;
    s->deadline = now() + CLOSING_SECONDS;
}

/* GET (or HEAD) /healthz or /metrics, with or without a query. */
static int is_operations(const char *p, size_t n)
{
    static const char *const lines[] = {"GET /healthz", "GET /metrics", "HEAD /healthz",
                                        "HEAD /metrics"};
    for (size_t i = 0; i < 4; i++) {
        const size_t l = strlen(lines[i]);
        if (n > l && memcmp(p, lines[i], l) == 0 && (p[l] == ' ' || p[l] == '?'))
            return 1;
    }
    return 0;
}

/* Count an operations connection in, whatever the limits. */
static void count_in(pinhole_gate *g, const struct sockaddr *a)
{
    uint8_t key[17];
    addr_key(a, key);
    pthread_mutex_lock(&g->mu);
    const size_t i = addr_find(g, key);
    g->total++;
    if (!g->table[i].count) {
        memcpy(g->table[i].key, key, 17);
        g->table[i].bytes = 0;
    }
    g->table[i].count++;
    pthread_mutex_unlock(&g->mu);
}

/* A connection over the limits that is not an operations request: 503 now. */
static void refuse_over(pinhole_gate *g, unsigned i)
{
    slot *s = &g->slots[i];
    answer(s->fd, PROBLEM_TOO_MANY_CONNECTIONS,
           s->over_address ? "too many connections from this address; retry later"
                           : "the server has as many connections as it takes; retry later",
           g->o.retry_after);
    shutdown(s->fd, SHUT_WR);
    s->state = SLOT_CLOSING;
    s->deadline = now() + CLOSING_SECONDS;
}

static void on_readable(pinhole_gate *g, unsigned i, uint32_t events)
{
    slot *s = &g->slots[i];
    if (s->state == SLOT_CLOSING) {
        char sink[4096];
        ssize_t n;
        while ((n = recv(s->fd, sink, sizeof sink, MSG_DONTWAIT)) > 0) {
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            free_slot(g, i);
        return;
    }
    const ssize_t n = recv(s->fd, g->peek, g->o.head_max, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        free_slot(g, i); /* the client went away */
        return;
    }
    if (n < 0)
        return;
    if (s->state == SLOT_OVER) {
        const int complete = pinhole_head_end(g->peek, (size_t)n) != 0;
        if (complete && is_operations(g->peek, (size_t)n)) {
            epoll_ctl(g->ep, EPOLL_CTL_DEL, s->fd, NULL);
            count_in(g, (struct sockaddr *)&s->addr); /* past the limits, released as any */
            s->state = SLOT_FREE;
            g->free_refuse[g->nrefuse++] = i;
            if (g->o.admit(g->o.ctx, s->fd, (struct sockaddr *)&s->addr, s->addrlen) != 0)
                pinhole_gate_release(g, (struct sockaddr *)&s->addr);
        } else if (complete || (size_t)n >= g->o.head_max ||
                   (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
            refuse_over(g, i);
        }
        return;
    }
    /* the framing checks libmicrohttpd would answer with an HTML page (the relay makes them on
     * every later head of the connection) */
    const size_t end = pinhole_head_end(g->peek, (size_t)n);
    pinhole_head_framing framing;
    const pinhole_head_fault bad = end ? pinhole_head_check(g->peek, end, &framing) : HEAD_OK;
    if (bad != HEAD_OK) {
        refuse(g, i, pinhole_head_problem(bad), pinhole_head_detail(bad));
    } else if (end) {
        epoll_ctl(g->ep, EPOLL_CTL_DEL, s->fd, NULL);
        s->state = SLOT_FREE;
        g->free_slots[g->nfree++] = i;
        pthread_mutex_lock(&g->mu);
        g->stats.admitted++;
        pthread_mutex_unlock(&g->mu);
        if (g->o.admit(g->o.ctx, s->fd, (struct sockaddr *)&s->addr, s->addrlen) != 0)
            pinhole_gate_release(g, (struct sockaddr *)&s->addr); /* the daemon closed it */
    } else if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        free_slot(g, i); /* the client stopped sending before its head was complete */
    } else if ((size_t)n >= g->o.head_max) {
        pthread_mutex_lock(&g->mu);
        g->stats.head_too_large++;
        pthread_mutex_unlock(&g->mu);
        refuse(g, i, PROBLEM_HEADER_TOO_LARGE,
               "the request line and headers are larger than the server accepts");
    }
}

/* At the connection limit: close the connection that has waited longest for its head (the state
 * slow-header and idle clients hold), so that a client that sends its request at once gets in.
 * 1 when one was closed. */
static int evict_oldest(pinhole_gate *g)
{
    unsigned oldest = UINT32_MAX;
    for (unsigned i = 0; i < g->o.max_connections; i++)
        if (g->slots[i].state == SLOT_HEAD &&
            (oldest == UINT32_MAX || g->slots[i].deadline < g->slots[oldest].deadline))
            oldest = i;
    if (oldest == UINT32_MAX)
        return 0;
    const int fd = g->slots[oldest].fd;
    answer(fd, PROBLEM_REQUEST_TIMEOUT,
           "the server is full and this connection had not sent its request", 0);
    char sink[4096]; /* read what it sent, so that the close is a FIN, not a reset */
    while (recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
    }
    free_slot(g, oldest);
    pthread_mutex_lock(&g->mu);
    g->stats.evicted++;
    pthread_mutex_unlock(&g->mu);
    return 1;
}

static void accept_all(pinhole_gate *g)
{
    for (;;) {
        struct sockaddr_storage addr;
        socklen_t len = sizeof addr;
        const int fd =
            accept4(g->o.listen_fd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* out of descriptors: stop watching the listener for a moment instead of spinning
                 */
                epoll_ctl(g->ep, EPOLL_CTL_DEL, g->o.listen_fd, NULL);
                g->listening = 0;
                g->listen_paused_until = now() + 0.1;
            }
            return; /* EAGAIN: accepted everything; other errors: the next event retries */
        }
        int why = admit_count(g, (struct sockaddr *)&addr);
        if (why == 1 && evict_oldest(g))
            why = admit_count(g, (struct sockaddr *)&addr);
        if (why && g->nrefuse == 0) { /* a flood: no time to look at each, or let it read */
            answer(fd, PROBLEM_TOO_MANY_CONNECTIONS, "the server is overloaded; retry later",
                   g->o.retry_after);
            close(fd);
            continue;
        }
        const unsigned i = why ? g->free_refuse[--g->nrefuse] : g->free_slots[--g->nfree];
        slot *s = &g->slots[i];
        s->state = why ? SLOT_OVER : SLOT_HEAD;
        s->counted = !why;
        s->over_address = why == 2;
        s->fd = fd;
        s->addr = addr;
        s->addrlen = len;
        s->deadline = now() + (why ? OVER_SECONDS : g->o.head_timeout);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLET | EPOLLRDHUP, .data.u64 = i + 1u};
        if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            free_slot(g, i);
            continue;
        }
        on_readable(g, i, 0); /* the head (or the refused request) may be there already */
    }
}

static void sweep(pinhole_gate *g)
{
    const double t = now();
    for (unsigned i = 0; i < g->o.max_connections + REFUSE_SLOTS; i++) {
        slot *s = &g->slots[i];
        if (s->state == SLOT_FREE || t < s->deadline)
            continue;
        if (s->state == SLOT_CLOSING) {
            free_slot(g, i);
        } else if (s->state == SLOT_OVER) {
            refuse_over(g, i);
        } else {
            pthread_mutex_lock(&g->mu);
            g->stats.head_timeouts++;
            pthread_mutex_unlock(&g->mu);
            refuse(g, i, PROBLEM_REQUEST_TIMEOUT, "the request head did not arrive in time");
        }
    }
    if (!g->listening && t >= g->listen_paused_until) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
        g->listening = epoll_ctl(g->ep, EPOLL_CTL_ADD, g->o.listen_fd, &ev) == 0;
    }
}

static void *gate_main(void *arg)
{
    pinhole_gate *g = arg;
    struct epoll_event ev[64];
    double next_sweep = 0;
    while (!g->stopping) {
        const int n = epoll_wait(g->ep, ev, 64, 50);
        for (int k = 0; k < n && !g->stopping; k++) {
            if (ev[k].data.u64 == WAKE_TAG)
                continue;
            if (ev[k].data.u64 == 0)
                accept_all(g);
            else if (g->slots[ev[k].data.u64 - 1].state != SLOT_FREE)
                on_readable(g, (unsigned)(ev[k].data.u64 - 1), ev[k].events);
        }
        if (now() >= next_sweep) {
            sweep(g);
            next_sweep = now() + 0.05;
        }
    }
    return NULL;
}

void pinhole_gate_free(pinhole_gate *g)
{
    if (!g)
        return;
    pthread_mutex_destroy(&g->mu);
    free(g->slots);
    free(g->free_slots);
    free(g->free_refuse);
    free(g->peek);
    free(g->table);
    free(g);
}

int pinhole_gate_start(pinhole_gate **out, const pinhole_gate_options *o)
{
    *out = NULL;
    pinhole_gate *g = calloc(1, sizeof *g);
    if (!g)
        return PINHOLE_ENOMEM;
    g->o = *o;
    if (g->o.max_connections < 1)
        g->o.max_connections = 1;
    if (g->o.head_max < 64)
        g->o.head_max = 64;
    size_t cap = 16;
    while (cap < 2 * (size_t)g->o.max_connections)
        cap *= 2;
    g->mask = cap - 1;
    pthread_mutex_init(&g->mu, NULL);
    g->slots = calloc((size_t)g->o.max_connections + REFUSE_SLOTS, sizeof *g->slots);
    g->free_slots = malloc(g->o.max_connections * sizeof *g->free_slots);
    g->free_refuse = malloc(REFUSE_SLOTS * sizeof *g->free_refuse);
    g->peek = malloc(g->o.head_max);
    g->table = calloc(cap, sizeof *g->table);
    g->ep = g->wake = -1;
    int rc = PINHOLE_ENOMEM;
    if (!g->slots || !g->free_slots || !g->free_refuse || !g->peek || !g->table)
        goto fail;
    for (unsigned i = 0; i < g->o.max_connections; i++)
        g->free_slots[g->nfree++] = g->o.max_connections - 1 - i;
    for (unsigned i = 0; i < REFUSE_SLOTS; i++)
        g->free_refuse[g->nrefuse++] = g->o.max_connections + i;
    rc = PINHOLE_EIO;
    g->ep = epoll_create1(EPOLL_CLOEXEC);
    g->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.u64 = 0},
                       wev = {.events = EPOLLIN, .data.u64 = WAKE_TAG};
    if (g->ep < 0 || g->wake < 0 || epoll_ctl(g->ep, EPOLL_CTL_ADD, o->listen_fd, &lev) != 0 ||
        epoll_ctl(g->ep, EPOLL_CTL_ADD, g->wake, &wev) != 0)
        goto fail;
    g->listening = 1;
    if (pthread_create(&g->thread, NULL, gate_main, g) != 0) {
        rc = PINHOLE_ENOMEM;
        goto fail;
    }
    *out = g;
    return PINHOLE_OK;
fail:
    if (g->ep >= 0)
        close(g->ep);
    if (g->wake >= 0)
        close(g->wake);
    pinhole_gate_free(g);
    return rc;
}

void pinhole_gate_stop(pinhole_gate *g)
{
    if (!g || g->stopping)
        return;
    g->stopping = 1;
    const uint64_t one = 1;
    (void)!write(g->wake, &one, sizeof one);
    pthread_join(g->thread, NULL);
    close(g->o.listen_fd);
    for (unsigned i = 0; i < g->o.max_connections + REFUSE_SLOTS; i++)
        if (g->slots[i].state != SLOT_FREE)
            free_slot(g, i);
    close(g->ep);
    close(g->wake);
}
