/* The registry of multi-attribute collections' parent records: found by id (an id no collection
 * has), listed, created. */
#include "common/clock.h"
#include "common/error.h"
#include "server/service/internal.h"

#include <stdlib.h>
#include <string.h>

/* Add r (owned by the registry from then on); the caller holds the write lock. PINHOLE_ENOMEM. */
static int add_locked(pinhole_service *s, pinhole_multi_record *r)
{
    if (s->nmulti == s->capmulti) {
        const size_t cap = s->capmulti ? 2 * s->capmulti : 8;
        pinhole_multi_record **a = realloc(s->multi, cap * sizeof *a);
        if (!a)
            return PINHOLE_ENOMEM;
        s->multi = a;
        s->capmulti = cap;
    }
    s->multi[s->nmulti++] = r;
    return PINHOLE_OK;
}

const pinhole_multi_record *pinhole_service_multi(pinhole_service *s, int64_t id)
{
    const pinhole_multi_record *r = NULL;
    pthread_rwlock_rdlock(&s->coll_lock);
    size_t lo = 0, hi = s->nmulti;
    while (lo < hi) { /* ids only grow, so the array is sorted */
        const size_t mid = lo + (hi - lo) / 2;
        if (s->multi[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->nmulti && s->multi[lo]->id == id)
        r = s->multi[lo];
    pthread_rwlock_unlock(&s->coll_lock);
    return r;
}

size_t pinhole_service_multi_count(pinhole_service *s)
{
    pthread_rwlock_rdlock(&s->coll_lock);
    const size_t n = s->nmulti;
    pthread_rwlock_unlock(&s->coll_lock);
    return n;
}

const pinhole_multi_record *pinhole_service_multi_at(pinhole_service *s, size_t i)
{
    pthread_rwlock_rdlock(&s->coll_lock);
    const pinhole_multi_record *r = i < s->nmulti ? s->multi[i] : NULL;
    pthread_rwlock_unlock(&s->coll_lock);
    return r;
}

int pinhole_service_multi_load(pinhole_service *s)
{
    pinhole_multi_record *arr = NULL;
    size_t n = 0;
    int rc = pinhole_store_load_multis(s->admin, &arr, &n);
    for (size_t i = 0; i < n; i++) {
        pinhole_multi_record *r = rc == PINHOLE_OK ? malloc(sizeof *r) : NULL;
        pthread_rwlock_wrlock(&s->coll_lock);
        if (r && add_locked(s, r) == PINHOLE_OK) {
            *r = arr[i];
        } else {
            free(r);
            pinhole_multi_record_free(&arr[i]);
            rc = PINHOLE_ENOMEM;
        }
        pthread_rwlock_unlock(&s->coll_lock);
    }
    free(arr);
    return rc;
}

void pinhole_service_multi_free(pinhole_service *s)
{
    for (size_t i = 0; i < s->nmulti; i++) {
        pinhole_multi_record_free(s->multi[i]);
        free(s->multi[i]);
    }
    free(s->multi);
    s->multi = NULL;
    s->nmulti = s->capmulti = 0;
}

int pinhole_service_create_multi(pinhole_service *s, const char *name, const char *spec,
                                 const pinhole_multi_record **out)
{
    *out = NULL;
    pinhole_multi_record *r = calloc(1, sizeof *r);
    if (!r)
        return PINHOLE_ENOMEM;
    r->created = (int64_t)pinhole_clock_wall();
    r->name = strdup(name);
    r->spec = strdup(spec);
    if (!r->name || !r->spec) {
        pinhole_multi_record_free(r);
        free(r);
        return PINHOLE_ENOMEM;
    }
    pthread_mutex_lock(&s->admin_mu);
    int rc = pinhole_store_create_multi(s->admin, name, spec, r->created, &r->id);
    if (rc == PINHOLE_OK) {
        pthread_rwlock_wrlock(&s->coll_lock);
        rc = add_locked(s, r);
        pthread_rwlock_unlock(&s->coll_lock);
    }
    pthread_mutex_unlock(&s->admin_mu);
    if (rc != PINHOLE_OK) {
        pinhole_multi_record_free(r);
        free(r);
        return rc;
    }
    *out = r;
    return PINHOLE_OK;
}
