/* The registry of collections: every collection the service serves, found by id. */
#include "common/error.h"
#include "server/service/internal.h"

#include <stdlib.h>
#include <string.h>

/* The collection with this id in the registry as it stands, or NULL. */
static const pinhole_server_collection *lookup(pinhole_service *s, int64_t id)
{
    pinhole_server_collection *c = NULL;
    pthread_rwlock_rdlock(&s->coll_lock);
    size_t lo = 0, hi = s->ncoll;
    while (lo < hi) { /* ids only grow, so the array is sorted */
        const size_t mid = lo + (hi - lo) / 2;
        if (s->coll[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->ncoll && s->coll[lo]->id == id)
        c = s->coll[lo];
    pthread_rwlock_unlock(&s->coll_lock);
    return c;
}

const pinhole_server_collection *pinhole_service_collection(pinhole_service *s, int64_t id)
{
    const pinhole_server_collection *c = lookup(s, id);
    if (!c && id > 0 && pinhole_service_registry_sync(s) == PINHOLE_OK) /* made by a replica? */
        c = lookup(s, id);
    return c;
}

size_t pinhole_service_collection_count(pinhole_service *s)
{
    pinhole_service_registry_sync(s); /* list what other replicas made too */
    pthread_rwlock_rdlock(&s->coll_lock);
    const size_t n = s->ncoll;
    pthread_rwlock_unlock(&s->coll_lock);
    return n;
}

const pinhole_server_collection *pinhole_service_collection_at(pinhole_service *s, size_t i)
{
    pthread_rwlock_rdlock(&s->coll_lock);
    const pinhole_server_collection *c = i < s->ncoll ? s->coll[i] : NULL;
    pthread_rwlock_unlock(&s->coll_lock);
    return c;
}

int pinhole_service_registry_add(pinhole_service *s, pinhole_server_collection *c)
{
    pthread_rwlock_wrlock(&s->coll_lock);
    if (s->ncoll == s->capcoll) {
        const size_t cap = s->capcoll ? 2 * s->capcoll : 16;
        pinhole_server_collection **a = realloc(s->coll, cap * sizeof *a);
        if (!a) {
            pthread_rwlock_unlock(&s->coll_lock);
            return PINHOLE_ENOMEM;
        }
        s->coll = a;
        s->capcoll = cap;
    }
    s->coll[s->ncoll++] = c;
    pthread_rwlock_unlock(&s->coll_lock);
    return PINHOLE_OK;
}

int pinhole_service_registry_remove_at(pinhole_service *s, size_t i)
{
    if (s->ndead == s->capdead) {
        const size_t cap = s->capdead ? 2 * s->capdead : 8;
        pinhole_server_collection **a = realloc(s->dead, cap * sizeof *a);
        if (!a)
            return PINHOLE_ENOMEM;
        s->dead = a;
        s->capdead = cap;
    }
    s->dead[s->ndead++] = s->coll[i];
    memmove(s->coll + i, s->coll + i + 1, (s->ncoll - i - 1) * sizeof *s->coll);
    s->ncoll--;
    return PINHOLE_OK;
}

int pinhole_service_delete_collection(pinhole_service *s, int64_t id)
{
    pthread_mutex_lock(&s->admin_mu);
    int rc = pinhole_store_delete_collection(s->admin, id);
    pthread_mutex_unlock(&s->admin_mu);
    if (rc != PINHOLE_OK && rc != PINHOLE_ENOTFOUND)
        return rc;
    int found = 0;
    pthread_rwlock_wrlock(&s->coll_lock);
    for (size_t i = 0; i < s->ncoll && !found; i++)
        if (s->coll[i]->id == id) {
            found = 1;
            if (pinhole_service_registry_remove_at(s, i) != PINHOLE_OK)
                rc = PINHOLE_ENOMEM;
        }
    pthread_rwlock_unlock(&s->coll_lock);
    return rc;
}

void pinhole_service_registry_free(pinhole_service *s)
{
    for (size_t i = 0; i < s->ndead; i++) {
        pinhole_server_collection_free(s->dead[i]);
        free(s->dead[i]);
    }
    free(s->dead);
    s->dead = NULL;
    s->ndead = s->capdead = 0;
    for (size_t i = 0; i < s->ncoll; i++) {
        pinhole_server_collection_free(s->coll[i]);
        free(s->coll[i]);
    }
    free(s->coll);
    s->coll = NULL;
    s->ncoll = s->capcoll = 0;
}

int pinhole_service_create_collection(pinhole_service *s, const char *name,
                                      const pinhole_config_params *p, uint32_t time_precision,
                                      uint32_t min_reports, const char *const *labels,
                                      const pinhole_collection_window *w,
                                      const pinhole_server_collection **out)
{
    *out = NULL;
    pinhole_server_collection *c = calloc(1, sizeof *c);
    if (!c)
        return PINHOLE_ENOMEM;
    pthread_mutex_lock(&s->admin_mu);
    int rc = pinhole_store_create_collection_window(s->admin, c, name, p, time_precision,
                                                    min_reports, labels, w ? w : &s->opt.window);
    const int made = rc == PINHOLE_OK;
    if (rc == PINHOLE_OK)
        rc = pinhole_service_registry_add(s, c);
    pthread_mutex_unlock(&s->admin_mu);
    if (rc != PINHOLE_OK) {
        if (made)
            pinhole_server_collection_free(c);
        free(c);
        return rc;
    }
    *out = c;
    return PINHOLE_OK;
}

const pinhole_collection_window *pinhole_service_window(pinhole_service *s)
{
    return &s->opt.window;
}

int pinhole_service_close_buckets(pinhole_service *s, int64_t id, int64_t before, int64_t *closed)
{
    pthread_mutex_lock(&s->admin_mu);
    const int rc = pinhole_store_close_buckets(s->admin, id, before, closed);
    pthread_mutex_unlock(&s->admin_mu);
    return rc;
}
