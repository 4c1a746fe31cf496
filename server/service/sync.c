/* The registry kept in step with the store: collections another server process created in the
 * same database (replicas sharing one PostgreSQL) are found and served here too. */
#include "common/clock.h"
#include "common/error.h"
#include "server/service/internal.h"

#include <stdlib.h>
#include <string.h>

/* At most one reload of the collection list per this many seconds, whatever asks for it. */
#define SYNC_INTERVAL_S 1.0

/* Insert c at its place by id (the registry stays sorted); PINHOLE_ENOMEM. Caller holds the write
 * lock. */
static int insert_sorted(pinhole_service *s, pinhole_server_collection *c)
{
    if (s->ncoll == s->capcoll) {
        const size_t cap = s->capcoll ? 2 * s->capcoll : 16;
        pinhole_server_collection **a = realloc(s->coll, cap * sizeof *a);
        if (!a)
            return PINHOLE_ENOMEM;
        s->coll = a;
        s->capcoll = cap;
    }
    size_t i = s->ncoll;
    while (i > 0 && s->coll[i - 1]->id > c->id)
        i--;
    memmove(s->coll + i + 1, s->coll + i, (s->ncoll - i) * sizeof *s->coll);
    s->coll[i] = c;
    s->ncoll++;
    return PINHOLE_OK;
}

int pinhole_service_registry_sync(pinhole_service *s)
{
    /* an SQLite file is served by one process: nothing can appear behind its back */
    if (s->single_process)
        return PINHOLE_OK;
    pthread_mutex_lock(&s->admin_mu);
    const double now = pinhole_clock_mono();
    if (now - s->last_sync < SYNC_INTERVAL_S) {
        pthread_mutex_unlock(&s->admin_mu);
        return PINHOLE_OK;
    }
    s->last_sync = now;
    pinhole_server_collection *all = NULL;
    size_t n = 0;
    int rc = pinhole_store_load_collections(s->admin, &all, &n);
    if (rc != PINHOLE_OK) {
        pthread_mutex_unlock(&s->admin_mu);
        return rc;
    }
    /* collections another process deleted leave the registry (all[] is sorted by id); still
     * under admin_mu, so that none this process creates meanwhile is taken for one */
    pthread_rwlock_wrlock(&s->coll_lock);
    for (size_t j = 0, i = 0; j < s->ncoll && rc == PINHOLE_OK;) {
        while (i < n && all[i].id < s->coll[j]->id)
            i++;
        if (i < n && all[i].id == s->coll[j]->id)
            j++;
        else
            rc = pinhole_service_registry_remove_at(s, j);
    }
    pthread_rwlock_unlock(&s->coll_lock);
    pthread_mutex_unlock(&s->admin_mu);
    for (size_t i = 0; i < n; i++) {
        pinhole_server_collection *c = NULL;
        if (!pinhole_service_collection(s, all[i].id) && (c = malloc(sizeof *c))) {
            *c = all[i]; /* moved: the registry owns it now */
            memset(&all[i], 0, sizeof all[i]);
            pthread_rwlock_wrlock(&s->coll_lock);
            /* another thread may have added it meanwhile */
            int have = 0;
            for (size_t j = 0; j < s->ncoll && !have; j++)
                have = s->coll[j]->id == c->id;
            const int added = have ? PINHOLE_OK : insert_sorted(s, c);
            pthread_rwlock_unlock(&s->coll_lock);
            if (have || added != PINHOLE_OK) {
                pinhole_server_collection_free(c);
                free(c);
                rc = added != PINHOLE_OK ? added : rc;
            }
        }
        pinhole_server_collection_free(&all[i]);
    }
    free(all);
    return rc;
}
