/* The service core's lifecycle (open, stop, close) and its small accessors. */
#include "common/error.h"
#include "server/service/internal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void free_service(pinhole_service *s)
{
    pinhole_service_registry_free(s);
    pinhole_service_discovery_free(s);
    pthread_mutex_destroy(&s->disc_mu);
    pinhole_service_multi_free(s);
    for (unsigned i = 0; i < s->nreaders; i++)
        pinhole_store_close(s->readers[i].store);
    free(s->readers);
    pinhole_store_close(s->admin);
    sodium_memzero(&s->keys, sizeof s->keys);
    pinhole_writer_release(&s->writer);
    pthread_rwlock_destroy(&s->coll_lock);
    pthread_mutex_destroy(&s->admin_mu);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cv);
    pthread_mutex_destroy(&s->probe_mu);
    pthread_cond_destroy(&s->probe_cv);
    free(s->store_url);
    free(s);
}

/* Load the stored collections into the registry. */
static int load_collections(pinhole_service *s)
{
    pinhole_server_collection *arr = NULL;
    size_t n = 0;
    int rc = pinhole_store_load_collections(s->admin, &arr, &n);
    if (rc != PINHOLE_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        pinhole_server_collection *c = malloc(sizeof *c);
        if (!c || pinhole_service_registry_add(s, c) != PINHOLE_OK) {
            free(c);
            for (size_t j = i; j < n; j++)
                pinhole_server_collection_free(&arr[j]);
            free(arr);
            return PINHOLE_ENOMEM;
        }
        *c = arr[i];
    }
    free(arr);
    return PINHOLE_OK;
}

int pinhole_service_open(pinhole_service **out, const pinhole_service_options *o)
{
    *out = NULL;
    if (!o || !o->store_url)
        return PINHOLE_EINVAL;
    pinhole_service *s = calloc(1, sizeof *s);
    if (!s)
        return PINHOLE_ENOMEM;
    s->opt = *o;
    s->store_url = strdup(o->store_url);
    s->opt.store_url = s->store_url;
    s->writer.released = 1; /* nothing for pinhole_writer_release() until the writer starts */
    pthread_rwlock_init(&s->coll_lock, NULL);
    pthread_mutex_init(&s->admin_mu, NULL);
    pthread_mutex_init(&s->disc_mu, NULL);
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_cond_init(&s->pool_cv, NULL);
    pthread_mutex_init(&s->probe_mu, NULL);
    pthread_cond_init(&s->probe_cv, NULL);
    s->nreaders = o->readers ? o->readers : 1;
    s->readers = calloc(s->nreaders, sizeof *s->readers);
    if (!s->readers || !s->store_url) {
        free_service(s);
        return PINHOLE_ENOMEM;
    }
    /* The writer creates the store and its schema first; the other handles open it after. A
     * store whose disk is full is opened read-only (writable.c). */
    int rc = pinhole_writer_start(&s->writer, s->store_url, &s->opt.writer);
    if (rc == PINHOLE_OK) {
        s->writer_started = 1;
        rc = pinhole_store_open(&s->admin, s->store_url, &s->opt.writer.store);
    }
    if (rc == PINHOLE_ENOSPACE) {
        pinhole_service_go_readonly(s);
        pinhole_store_options ro = s->opt.writer.store;
        ro.readonly = ro.write_nothing = 1;
        rc = pinhole_store_open(&s->admin, s->store_url, &ro);
    }
    if (rc != PINHOLE_OK) {
        pinhole_service_stop_writer(s);
        free_service(s);
        return rc;
    }
    s->single_process = strcmp(pinhole_store_backend_name(s->admin), "sqlite") == 0;
    if ((rc = pinhole_store_server_keys(s->admin, &s->keys)) != PINHOLE_OK ||
        (rc = load_collections(s)) != PINHOLE_OK ||
        (rc = pinhole_service_multi_load(s)) != PINHOLE_OK ||
        (rc = pinhole_service_discovery_load(s)) != PINHOLE_OK)
        goto fail;
    pinhole_jobs_options jo = {.store_url = s->store_url,
                               .workers = s->opt.job_workers,
                               .time_limit_s = s->opt.job_time_limit,
                               .loader = pinhole_service_job_loader,
                               .loader_ctx = s,
                               .host = pinhole_service_discovery_job,
                               .host_ctx = s,
                               .readonly = pinhole_service_readonly(s)};
    rc = pinhole_jobs_open(&s->jobs, &jo);
    if (rc == PINHOLE_ENOSPACE) { /* settling the jobs of a crashed process needs a write */
        pinhole_service_go_readonly(s);
        jo.readonly = 1;
        rc = pinhole_jobs_open(&s->jobs, &jo);
    }
    if (rc != PINHOLE_OK || (rc = pinhole_service_probe_start(s)) != PINHOLE_OK)
        goto fail;
    *out = s;
    return PINHOLE_OK;
fail:
    pinhole_jobs_close(s->jobs);
    pinhole_service_stop_writer(s);
    free_service(s);
    return rc;
}

void pinhole_service_stop_writer(pinhole_service *s)
{
    pinhole_service_probe_stop(s); /* it may be starting the writer */
    if (!s->writer_started)
        return;
    pinhole_writer_stop(&s->writer);
    s->writer_started = 0;
}

void pinhole_service_close(pinhole_service *s)
{
    if (!s)
        return;
    pinhole_service_probe_stop(s); /* before the runner it may be making writable goes */
    pinhole_jobs_close(s->jobs);
    pinhole_service_stop_writer(s);
    free_service(s);
}

const pinhole_server_keys *pinhole_service_keys(pinhole_service *s)
{
    return &s->keys;
}

int pinhole_service_submit(pinhole_service *s, pinhole_ingest_batch *b)
{
    /* while read-only the writer is not running (its lock may not even exist) */
    if (pinhole_service_readonly(s))
        return PINHOLE_ENOSPACE;
    return pinhole_writer_submit(&s->writer, b);
}

pinhole_writer_stats *pinhole_service_writer_stats(pinhole_service *s)
{
    return &s->writer.stats;
}

void pinhole_service_gc_read(pinhole_service *s, pinhole_store_gc_stats *out)
{
    pinhole_writer_gc_read(&s->writer, out);
}

uint64_t pinhole_service_disk_bytes(pinhole_service *s)
{
    pthread_mutex_lock(&s->admin_mu);
    const uint64_t n = pinhole_store_disk_bytes(s->admin);
    pthread_mutex_unlock(&s->admin_mu);
    return n;
}

pinhole_jobs *pinhole_service_jobs(pinhole_service *s)
{
    return s->jobs;
}
