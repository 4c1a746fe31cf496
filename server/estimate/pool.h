/* A small fixed pthread pool: run one function on every worker (and the caller) and wait. */
#ifndef PINHOLE_SERVER_ESTIMATE_POOL_H
#define PINHOLE_SERVER_ESTIMATE_POOL_H

#include <pthread.h>

typedef void (*pinhole_pool_fn)(void *arg, unsigned id, unsigned nthreads);

typedef struct pinhole_pool {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a new generation was posted (or stop) */
    pthread_cond_t done; /* the last worker of a generation finished */
    pthread_t *tid;
    unsigned nworkers;   /* threads started besides the caller */
    unsigned generation; /* bumped by every pinhole_pool_run() */
    unsigned pending;    /* workers still running the current generation */
    int stop;
    pinhole_pool_fn fn;
    void *arg;
} pinhole_pool;

/** Number of online processor cores (at least 1). */
unsigned pinhole_online_cores(void);

/** Start a pool for nthreads threads in all: the caller of pinhole_pool_run() counts as one, so
 * nthreads - 1 workers are started (none for nthreads <= 1). If the system refuses some threads
 * the pool runs with fewer; pinhole_pool_size() tells how many. Errors: PINHOLE_ENOMEM (the pool
 * state could not be set up; nothing to free). */
int pinhole_pool_init(pinhole_pool *p, unsigned nthreads);

/** Threads that run each job: workers started + the caller (>= 1). */
static inline unsigned pinhole_pool_size(const pinhole_pool *p)
{
    return p->nworkers + 1;
}

/** Run fn(arg, id, n) for every id in [0, n), n = pinhole_pool_size(p), id 0 on the calling
 * thread, and return when all have returned. Not reentrant: one caller at a time. */
void pinhole_pool_run(pinhole_pool *p, pinhole_pool_fn fn, void *arg);

/** Stop and join the workers and free the pool's state. */
void pinhole_pool_free(pinhole_pool *p);

#endif
