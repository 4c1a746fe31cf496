/* A small fixed pthread pool (mutex + two condition variables, one job generation at a time). */
#include "server/estimate/pool.h"
#include "common/error.h"

#include <stdlib.h>
#include <unistd.h>

unsigned pinhole_online_cores(void)
{
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : n > 1024 ? 1024u : (unsigned)n;
}

typedef struct worker_arg {
    pinhole_pool *p;
    unsigned id;
} worker_arg;

static void *worker(void *varg)
{
    pinhole_pool *p = ((worker_arg *)varg)->p;
    const unsigned id = ((worker_arg *)varg)->id;
    free(varg);
    unsigned seen = 0; /* workers start before any job: generation 0 */
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->generation == seen && !p->stop)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        seen = p->generation;
        const pinhole_pool_fn fn = p->fn;
        void *arg = p->arg;
        const unsigned n = p->nworkers + 1;
        pthread_mutex_unlock(&p->mu);
        fn(arg, id, n);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int pinhole_pool_init(pinhole_pool *p, unsigned nthreads)
{
    p->tid = NULL;
    p->nworkers = 0;
    p->generation = 0;
    p->pending = 0;
    p->stop = 0;
    p->fn = NULL;
    p->arg = NULL;
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        return PINHOLE_ENOMEM;
    if (pthread_cond_init(&p->work, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        return PINHOLE_ENOMEM;
    }
    if (pthread_cond_init(&p->done, NULL) != 0) {
        pthread_cond_destroy(&p->work);
        pthread_mutex_destroy(&p->mu);
        return PINHOLE_ENOMEM;
    }
    if (nthreads <= 1)
        return PINHOLE_OK;
    p->tid = malloc((nthreads - 1) * sizeof *p->tid);
    if (!p->tid)
        return PINHOLE_OK; /* run on the caller alone */
    /* the lock keeps workers from reading nworkers while it still grows */
    pthread_mutex_lock(&p->mu);
    for (unsigned i = 0; i + 1 < nthreads; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (!a)
            break;
        a->p = p;
        a->id = i + 1;
        if (pthread_create(&p->tid[i], NULL, worker, a) != 0) {
            free(a);
            break;
        }
        p->nworkers++;
    }
    pthread_mutex_unlock(&p->mu);
    return PINHOLE_OK;
}

void pinhole_pool_run(pinhole_pool *p, pinhole_pool_fn fn, void *arg)
{
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->pending = p->nworkers;
    p->generation++;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0, p->nworkers + 1);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void pinhole_pool_free(pinhole_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nworkers; i++)
        pthread_join(p->tid[i], NULL);
    free(p->tid);
    p->tid = NULL;
    p->nworkers = 0;
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
}
