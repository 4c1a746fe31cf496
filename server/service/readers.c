/* The pool of read handles: reads of counts, buckets and totals, at most one per handle at a time
 * (the store lets readers run beside the writer). */
#include "common/error.h"
#include "server/service/internal.h"

reader_slot *pinhole_service_reader_get(pinhole_service *s)
{
    pthread_mutex_lock(&s->pool_mu);
    for (;;) {
        for (unsigned i = 0; i < s->nreaders; i++) {
            reader_slot *r = &s->readers[i];
            if (r->busy)
                continue;
            /* read-only service (disk full): handles that write nothing, reopened as normal
             * ones (faster: SQLite's shared WAL index) once the store is writable again */
            const int write_nothing = pinhole_service_readonly(s);
            if (r->store && r->write_nothing && !write_nothing) {
                pinhole_store_close(r->store);
                r->store = NULL;
            }
            if (!r->store) {
                const pinhole_store_options o = {.readonly = 1, .write_nothing = write_nothing};
                if (pinhole_store_open(&r->store, s->store_url, &o) != PINHOLE_OK) {
                    pthread_mutex_unlock(&s->pool_mu);
                    return NULL;
                }
                r->write_nothing = write_nothing;
            }
            r->busy = 1;
            pthread_mutex_unlock(&s->pool_mu);
            return r;
        }
        pthread_cond_wait(&s->pool_cv, &s->pool_mu);
    }
}

void pinhole_service_reader_put(pinhole_service *s, reader_slot *r)
{
    pthread_mutex_lock(&s->pool_mu);
    r->busy = 0;
    pthread_cond_broadcast(&s->pool_cv); /* a reader waiting, or the probe (writable.c) */
    pthread_mutex_unlock(&s->pool_mu);
}

int pinhole_service_report_total(pinhole_service *s, int64_t collection, uint64_t *n)
{
    reader_slot *r = pinhole_service_reader_get(s);
    if (!r)
        return PINHOLE_EDB;
    const int rc = pinhole_store_report_total(r->store, collection, n);
    pinhole_service_reader_put(s, r);
    return rc;
}

int pinhole_service_closed_before(pinhole_service *s, int64_t id, int64_t *closed)
{
    reader_slot *r = pinhole_service_reader_get(s);
    if (!r)
        return PINHOLE_EDB;
    const int rc = pinhole_store_closed_before(r->store, id, closed);
    pinhole_service_reader_put(s, r);
    return rc;
}

int pinhole_service_counts(pinhole_service *s, const pinhole_server_collection *c,
                           int64_t from_bucket, int64_t to_bucket, uint64_t *counts, uint64_t *n)
{
    reader_slot *r = pinhole_service_reader_get(s);
    if (!r)
        return PINHOLE_EDB;
    const int rc = pinhole_store_counts(r->store, c, from_bucket, to_bucket, counts, n);
    pinhole_service_reader_put(s, r);
    return rc;
}

int pinhole_service_buckets(pinhole_service *s, int64_t collection, int64_t from_bucket,
                            int64_t to_bucket, int64_t **bucket, uint64_t **n, size_t *count)
{
    reader_slot *r = pinhole_service_reader_get(s);
    if (!r) {
        *bucket = NULL;
        *n = NULL;
        *count = 0;
        return PINHOLE_EDB;
    }
    const int rc =
        pinhole_store_buckets(r->store, collection, from_bucket, to_bucket, bucket, n, count);
    pinhole_service_reader_put(s, r);
    return rc;
}
