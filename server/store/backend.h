/* What a storage backend supplies: one table of functions, one per operation of
 * server/store/store.h (same arguments, same promises, same error codes), and a handle that starts
 * with struct pinhole_store. Adding a backend is: a directory server/store/<name>/ implementing the
 * table, its entry in the list of server/store/store.c, its source files in server/meson.build.
 * Only store.c and the backends include this header. */
#ifndef PINHOLE_SERVER_STORE_BACKEND_H
#define PINHOLE_SERVER_STORE_BACKEND_H

#include "server/store/store.h"

/* A rotating key family's rows in server_keys (current, next, previous), the size of its secret
 * key and its key-pair generator; the same for every backend. */
typedef struct pinhole_key_names {
    const char *name[3];
    size_t sk_bytes;
    void (*keypair)(uint8_t *pk, uint8_t *sk);
} pinhole_key_names;
const pinhole_key_names *pinhole_key_names_of(pinhole_key_family family);

/* A backend's access to its server_keys rows: load row `name` into pk, sk (sk may be NULL; sklen
 * still checks the stored size): PINHOLE_OK, PINHOLE_ENOTFOUND, PINHOLE_EDB; and load it or make
 * one with keypair() and store it: PINHOLE_OK, PINHOLE_EDB. */
typedef struct pinhole_key_rows {
    int (*get)(pinhole_store *s, const char *name, uint8_t *pk, size_t pklen, uint8_t *sk,
               size_t sklen);
    int (*pair)(pinhole_store *s, const char *name, uint8_t *pk, size_t pklen, uint8_t *sk,
                size_t sklen, void (*keypair)(uint8_t *pk, uint8_t *sk));
} pinhole_key_rows;

/* The backends' server_keys operation over their rows: the current key pairs (made when absent)
 * and the other live sealing keys (store.h). */
int pinhole_key_rows_load(pinhole_store *s, const pinhole_key_rows *rows, pinhole_server_keys *k);

/* The public keys of a family's current, next and previous pairs; have[i] says which exist. */
int pinhole_key_rows_roles(pinhole_store *s, const pinhole_key_rows *rows,
                           const pinhole_key_names *names, uint8_t pk[3][PINHOLE_KEY_PUBLICBYTES],
                           int have[3]);

/* The first part of a rotation, inside the backend's transaction: the roles before, whether op may
 * run (PINHOLE_ENOTFOUND: ACTIVATE without a next key; PINHOLE_EPOLICY: ACTIVATE while a previous
 * key is kept), and PREPARE's new pair. The backend then renames (ACTIVATE) or zeroes and deletes
 * (RETIRE) rows, reads the roles again and commits. */
int pinhole_key_rows_rotate_begin(pinhole_store *s, const pinhole_key_rows *rows,
                                  const pinhole_key_names *names, pinhole_key_op op,
                                  uint8_t pk[3][PINHOLE_KEY_PUBLICBYTES], int have[3]);

typedef struct pinhole_store_backend {
    const char *name;           /* "sqlite", "postgresql" */
    const char *const *schemes; /* URL prefixes served ("postgresql://", ...), NULL-terminated;
                                   NULL for the backend of plain paths */
    int (*open)(pinhole_store **out, const char *url, const pinhole_store_options *opt);
    void (*close)(pinhole_store *s);
    int (*maintain)(pinhole_store *s, pinhole_store_upkeep when, int *did);
    uint64_t (*disk_bytes)(pinhole_store *s);
    void (*gc_stats)(pinhole_store *s, pinhole_store_gc_stats *out);
    int (*create_collection)(pinhole_store *s, pinhole_server_collection *c, const char *name,
                             const pinhole_config_params *p, uint32_t time_precision,
                             uint32_t min_reports, const char *const *labels,
                             const pinhole_collection_window *w);
    int (*load_collections)(pinhole_store *s, pinhole_server_collection **out, size_t *n);
    int (*set_window)(pinhole_store *s, int64_t id, const pinhole_collection_window *w);
    int (*close_buckets)(pinhole_store *s, int64_t id, int64_t before, int64_t *closed);
    int (*closed_before)(pinhole_store *s, int64_t id, int64_t *closed);
    int (*create_multi)(pinhole_store *s, const char *name, const char *spec, int64_t created,
                        int64_t *id);
    int (*load_multis)(pinhole_store *s, pinhole_multi_record **out, size_t *n);
    int (*delete_collection)(pinhole_store *s, int64_t id);
    int (*server_keys)(pinhole_store *s, pinhole_server_keys *k);
    int (*rotate_key)(pinhole_store *s, pinhole_key_family family, pinhole_key_op op,
                      uint8_t pk[3][PINHOLE_KEY_PUBLICBYTES], int have[3]); /* or NULL */
    int (*ingest_prepare)(pinhole_store *s);
    int (*ingest)(pinhole_store *s, pinhole_ingest_report *r, size_t n);
    int (*counts)(pinhole_store *s, const pinhole_server_collection *c, int64_t from_bucket,
                  int64_t to_bucket, uint64_t *counts, uint64_t *n);
    int (*buckets)(pinhole_store *s, int64_t collection, int64_t from_bucket, int64_t to_bucket,
                   int64_t **bucket, uint64_t **n, size_t *count);
    int (*report_total)(pinhole_store *s, int64_t collection, uint64_t *n);
    int (*check)(pinhole_store *s, uint64_t *problems, char *msg, size_t msglen);
    int (*jobs_recover)(pinhole_store *s, double now, int max_attempts);
    int (*job_enqueue)(pinhole_store *s, const pinhole_job_record *r, int64_t *id);
    int (*job_claim)(pinhole_store *s, double now, pinhole_job_record *r);
    int (*job_progress)(pinhole_store *s, int64_t id, double fraction);
    int (*job_finish)(pinhole_store *s, int64_t id, pinhole_job_state st, double finished,
                      const char *result, const char *error);
    int (*job_cancel_queued)(pinhole_store *s, int64_t id, double now);
    int (*job_request_cancel)(pinhole_store *s, int64_t id);
    int (*job_state)(pinhole_store *s, int64_t id, pinhole_job_state *st);
    int (*job_get)(pinhole_store *s, int64_t id, pinhole_job_record *r);
    int (*job_list)(pinhole_store *s, int64_t collection, uint64_t offset, uint32_t limit,
                    pinhole_job_record **out, size_t *n, uint64_t *total);
    int (*discovery_create)(pinhole_store *s, const char *name, const uint8_t *state, size_t len,
                            int64_t first, int64_t created, int64_t *id);
    int (*discovery_save)(pinhole_store *s, int64_t id, const uint8_t *state, size_t len,
                          int64_t next);
    int (*discovery_load)(pinhole_store *s, pinhole_store_discovery **out, size_t *n);
} pinhole_store_backend;

/* The first member of every backend's handle. */
struct pinhole_store {
    const pinhole_store_backend *backend;
};

/* The backends built in (server/store/store.c lists them). */
extern const pinhole_store_backend pinhole_store_sqlite;
#ifdef PINHOLE_WITH_POSTGRESQL
extern const pinhole_store_backend pinhole_store_postgresql; /* server/store/pg/ (libpq) */
#endif

#endif
