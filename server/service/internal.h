/* The service core's state, shared by its files (the .c files of server/service/) and by no one
 * else. */
#ifndef PINHOLE_SERVER_SERVICE_INTERNAL_H
#define PINHOLE_SERVER_SERVICE_INTERNAL_H

#include "server/service/service.h"

#include <pthread.h>

/* One read handle of the pool, opened on first use. */
typedef struct reader_slot {
    pinhole_store *store;
    int busy;
    int write_nothing; /* opened while read-only: reopened once the store is writable */
} reader_slot;

struct pinhole_service {
    pinhole_service_options opt;
    char *store_url;
    pinhole_writer writer;
    int writer_started;
    /* the registry: guards the array, not the collections (read-only, freed at close) */
    pthread_rwlock_t coll_lock;
    pinhole_server_collection **coll; /* sorted by id (ids only grow) */
    size_t ncoll, capcoll;
    pinhole_multi_record **multi; /* multi-attribute parents, sorted by id, same lock */
    size_t nmulti, capmulti;
    /* deleted collections: out of the registry, kept (pointers handed out stay valid) until
     * close */
    pinhole_server_collection **dead;
    size_t ndead, capdead;
    /* the admin handle: collection creation, keys, disk size */
    pthread_mutex_t admin_mu;
    pinhole_store *admin;
    int single_process; /* an SQLite file: no other process adds collections (sync.c) */
    pinhole_server_keys keys;
    double last_sync; /* monotonic time of the latest registry sync (sync.c), under admin_mu */
    /* the reader pool */
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    reader_slot *readers;
    unsigned nreaders;
    pinhole_jobs *jobs;
    /* read-only (the store could not be written when opened: its disk is full): writes are
     * refused, reads served; the probe thread (writable.c) tries to open it for writing every
     * few seconds and, once it can, starts the writer and clears readonly */
    _Atomic int readonly;
    pthread_mutex_t probe_mu;
    pthread_cond_t probe_cv;
    pthread_t probe;
    int probe_started, probe_stop; /* under probe_mu */
    /* discovery collections (discovery.c); disc_mu guards the array and every entry */
    pthread_mutex_t disc_mu;
    struct svc_discovery **disc;
    size_t ndisc, capdisc;
};

typedef struct svc_discovery svc_discovery;

/* registry.c: add a collection (owned by the registry from then on). PINHOLE_ENOMEM. */
int pinhole_service_registry_add(pinhole_service *s, pinhole_server_collection *c);

/* sync.c: add the collections other server processes created in the same store (reloaded at
 * most once a second; a no-op in between). Errors: PINHOLE_EDB, PINHOLE_ENOMEM. */
int pinhole_service_registry_sync(pinhole_service *s);

/* registry.c: take the collection at index i out of the registry (kept until close).
 * PINHOLE_ENOMEM. Caller holds the write lock. */
int pinhole_service_registry_remove_at(pinhole_service *s, size_t i);

/* registry.c: free every collection. */
void pinhole_service_registry_free(pinhole_service *s);

/* multi.c: load the stored parent records into the registry. Errors: those of
 * pinhole_store_load_multis. */
int pinhole_service_multi_load(pinhole_service *s);

/* multi.c: free every parent record. */
void pinhole_service_multi_free(pinhole_service *s);

/* readers.c: a free read handle (waiting for one), or NULL when it cannot be opened. */
reader_slot *pinhole_service_reader_get(pinhole_service *s);

/* multi.c: load the stored parent records into the registry. Errors: those of
 * pinhole_store_load_multis. */
int pinhole_service_multi_load(pinhole_service *s);

/* multi.c: free every parent record. */
void pinhole_service_multi_free(pinhole_service *s);

/* writable.c: go read-only now (the writer stopped and its lock released if it ran). Called
 * before the service is shared. */
void pinhole_service_go_readonly(pinhole_service *s);

/* writable.c: when read-only, log it and start the probe thread. PINHOLE_ENOMEM. */
int pinhole_service_probe_start(pinhole_service *s);

/* writable.c: stop and join the probe thread (safe when none runs). */
void pinhole_service_probe_stop(pinhole_service *s);

/* readers.c: give a handle back. */
void pinhole_service_reader_put(pinhole_service *s, reader_slot *r);

/* loader.c: the job runner's loader (pinhole_job_loader), ctx the service. */
int pinhole_service_job_loader(void *ctx, int64_t collection_id, int64_t from, int64_t to,
                               int buckets, pinhole_job_data *out);

/* discovery.c: load the stored discovery collections (PINHOLE_EDB, PINHOLE_ENOMEM), free them. */
int pinhole_service_discovery_load(pinhole_service *s);
void pinhole_service_discovery_free(pinhole_service *s);

/* discovery.c: the job runner's host job (pinhole_job_host_fn), ctx the service: the
 * "discovery_round" job closes the open round collecting into collection_id from data's counts,
 * stores the new state and opens the next round's collection. */
int pinhole_service_discovery_job(void *ctx, const char *type, int64_t collection_id,
                                  const pinhole_job_data *data, const json_t *params,
                                  pinhole_job_ctl *ctl, json_t **result, char *err, size_t errlen);

#endif
