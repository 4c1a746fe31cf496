/* The storage interface: a URL chooses the backend, every operation goes through its table. */
#include "server/store/store.h"
#include "common/error.h"
#include "proto/seal.h"
#include "server/store/backend.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Backends with URL schemes first; the last one (schemes NULL) serves plain paths. */
static const pinhole_store_backend *const backends[] = {
#ifdef PINHOLE_WITH_POSTGRESQL
    &pinhole_store_postgresql,
#endif
    &pinhole_store_sqlite,
};

int pinhole_store_open(pinhole_store **out, const char *url, const pinhole_store_options *opt)
{
    static const pinhole_store_options defaults = {0};
    *out = NULL;
    if (!url)
        return PINHOLE_EINVAL;
    if (!opt)
        opt = &defaults;
    const pinhole_store_backend *paths = NULL;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        const pinhole_store_backend *b = backends[i];
        if (!b->schemes) {
            paths = b;
            continue;
        }
        for (const char *const *sc = b->schemes; *sc; sc++)
            if (strncmp(url, *sc, strlen(*sc)) == 0)
                return b->open(out, url, opt);
    }
    /* "scheme://..." that no backend serves (a PostgreSQL URL in a build without it) */
    const char *colon = strstr(url, "://");
    if (colon && strspn(url, "abcdefghijklmnopqrstuvwxyz+.-") == (size_t)(colon - url))
        return PINHOLE_EUNSUPPORTED;
    return paths ? paths->open(out, url, opt) : PINHOLE_EUNSUPPORTED;
}

void pinhole_store_close(pinhole_store *s)
{
    if (s)
        s->backend->close(s);
}

const char *pinhole_store_backend_name(const pinhole_store *s)
{
    return s->backend->name;
}

int pinhole_store_maintain(pinhole_store *s, pinhole_store_upkeep when, int *did)
{
    int dummy;
    *(did ? did : &dummy) = 0;
    return s->backend->maintain(s, when, did ? did : &dummy);
}

void pinhole_store_gc_read(pinhole_store *s, pinhole_store_gc_stats *out)
{
    memset(out, 0, sizeof *out);
    s->backend->gc_stats(s, out);
}

uint64_t pinhole_store_disk_bytes(pinhole_store *s)
{
    return s->backend->disk_bytes(s);
}

int pinhole_store_create_collection(pinhole_store *s, pinhole_server_collection *c,
                                    const char *name, const pinhole_config_params *p,
                                    uint32_t time_precision, uint32_t min_reports,
                                    const char *const *labels)
{
    return s->backend->create_collection(s, c, name, p, time_precision, min_reports, labels, NULL);
}

int pinhole_store_create_collection_window(pinhole_store *s, pinhole_server_collection *c,
                                           const char *name, const pinhole_config_params *p,
                                           uint32_t time_precision, uint32_t min_reports,
                                           const char *const *labels,
                                           const pinhole_collection_window *w)
{
    return s->backend->create_collection(s, c, name, p, time_precision, min_reports, labels, w);
}

int pinhole_store_load_collections(pinhole_store *s, pinhole_server_collection **out, size_t *n)
{
    return s->backend->load_collections(s, out, n);
}

int pinhole_store_close_buckets(pinhole_store *s, int64_t id, int64_t before, int64_t *closed)
{
    int64_t got = 0;
    if (before < 0)
        return PINHOLE_EINVAL;
    const int rc = s->backend->close_buckets(s, id, before, &got);
    if (closed)
        *closed = got;
    return rc;
}

int pinhole_store_closed_before(pinhole_store *s, int64_t id, int64_t *closed)
{
    *closed = 0;
    return s->backend->closed_before(s, id, closed);
}

int pinhole_store_set_window(pinhole_store *s, int64_t id, const pinhole_collection_window *w)
{
    return s->backend->set_window(s, id, w);
}

void pinhole_multi_record_free(pinhole_multi_record *r)
{
    free(r->name);
    free(r->spec);
    r->name = r->spec = NULL;
}

int pinhole_store_create_multi(pinhole_store *s, const char *name, const char *spec,
                               int64_t created, int64_t *id)
{
    if (!s->backend->create_multi)
        return PINHOLE_EUNSUPPORTED; /* a backend without multi-attribute collections */
    return s->backend->create_multi(s, name, spec, created, id);
}

int pinhole_store_load_multis(pinhole_store *s, pinhole_multi_record **out, size_t *n)
{
    if (!s->backend->load_multis) { /* a backend without multi-attribute collections has none */
        *out = NULL;
        *n = 0;
        return PINHOLE_OK;
    }
    return s->backend->load_multis(s, out, n);
}

int pinhole_store_delete_collection(pinhole_store *s, int64_t id)
{
    return s->backend->delete_collection(s, id);
}

int pinhole_store_server_keys(pinhole_store *s, pinhole_server_keys *k)
{
    return s->backend->server_keys(s, k);
}

int pinhole_store_rotate_key(pinhole_store *s, pinhole_key_family family, pinhole_key_op op,
                             uint8_t pk[3][PINHOLE_KEY_PUBLICBYTES], int have[3])
{
    return s->backend->rotate_key ? s->backend->rotate_key(s, family, op, pk, have)
                                  : PINHOLE_EUNSUPPORTED;
}

const pinhole_key_names *pinhole_key_names_of(pinhole_key_family family)
{
    static const pinhole_key_names names[2] = {
        {{"config-ed25519", "config-ed25519-next", "config-ed25519-previous"},
         PINHOLE_CONFIG_SECRETKEYBYTES,
         pinhole_collection_config_keypair},
        {{"seal-x25519", "seal-x25519-next", "seal-x25519-previous"},
         PINHOLE_SEAL_SECRETKEYBYTES,
         pinhole_seal_keypair},
    };
    return &names[family == PINHOLE_KEY_SEALING];
}

int pinhole_key_rows_load(pinhole_store *s, const pinhole_key_rows *rows, pinhole_server_keys *k)
{
    const pinhole_key_names *sign = pinhole_key_names_of(PINHOLE_KEY_SIGNING);
    const pinhole_key_names *seal = pinhole_key_names_of(PINHOLE_KEY_SEALING);
    sodium_memzero(k, sizeof *k); /* the unused slots too: equal keys, equal structs */
    int rc = rows->pair(s, sign->name[0], k->sign_pk, sizeof k->sign_pk, k->sign_sk,
                        sizeof k->sign_sk, sign->keypair);
    if (rc == PINHOLE_OK)
        rc = rows->pair(s, seal->name[0], k->seal_pk, sizeof k->seal_pk, k->seal_sk,
                        sizeof k->seal_sk, seal->keypair);
    /* the other live sealing keys, in the order they are tried: previous, next */
    const char *const other[2] = {seal->name[2], seal->name[1]};
    k->seal_others = 0;
    for (int i = 0; i < 2 && rc == PINHOLE_OK; i++) {
        rc = rows->get(s, other[i], k->seal_other_pk[k->seal_others], PINHOLE_SEAL_PUBLICKEYBYTES,
                       k->seal_other_sk[k->seal_others], PINHOLE_SEAL_SECRETKEYBYTES);
        if (rc == PINHOLE_OK)
            k->seal_others++;
        else if (rc == PINHOLE_ENOTFOUND)
            rc = PINHOLE_OK;
    }
    return rc;
}

int pinhole_key_rows_roles(pinhole_store *s, const pinhole_key_rows *rows,
                           const pinhole_key_names *names, uint8_t pk[3][PINHOLE_KEY_PUBLICBYTES],
                           int have[3])
{
    int rc = PINHOLE_OK;
    for (int i = 0; i < 3 && rc == PINHOLE_OK; i++) {
        rc = rows->get(s, names->name[i], pk[i], PINHOLE_KEY_PUBLICBYTES, NULL, names->sk_bytes);
        have[i] = rc == PINHOLE_OK;
        if (rc == PINHOLE_ENOTFOUND)
            rc = PINHOLE_OK;
    }
    return rc;
}

int pinhole_key_rows_rotate_begin(pinhole_store *s, const pinhole_key_rows *rows,
                                  const pinhole_key_names *names, pinhole_key_op op,
                                  uint8_t pk[3][PINHOLE_KEY_PUBLICBYTES], int have[3])
{
    int rc = pinhole_key_rows_roles(s, rows, names, pk, have);
    if (rc == PINHOLE_OK && op == PINHOLE_KEY_ACTIVATE && !have[1])
        rc = PINHOLE_ENOTFOUND;
    if (rc == PINHOLE_OK && op == PINHOLE_KEY_ACTIVATE && have[2])
        rc = PINHOLE_EPOLICY;
    uint8_t spk[PINHOLE_KEY_PUBLICBYTES], ssk[64];
    for (int i = 0; i < 2 && rc == PINHOLE_OK && op == PINHOLE_KEY_PREPARE; i++)
        rc = rows->pair(s, names->name[i], spk, sizeof spk, ssk, names->sk_bytes,
                        names->keypair); /* the current key first */
    sodium_memzero(ssk, sizeof ssk);
    return rc;
}

int pinhole_store_ingest_prepare(pinhole_store *s)
{
    return s->backend->ingest_prepare(s);
}

int pinhole_store_ingest(pinhole_store *s, pinhole_ingest_report *r, size_t n)
{
    return s->backend->ingest(s, r, n);
}

int pinhole_store_counts(pinhole_store *s, const pinhole_server_collection *c, int64_t from_bucket,
                         int64_t to_bucket, uint64_t *counts, uint64_t *n)
{
    return s->backend->counts(s, c, from_bucket, to_bucket, counts, n);
}

int pinhole_store_buckets(pinhole_store *s, int64_t collection, int64_t from_bucket,
                          int64_t to_bucket, int64_t **bucket, uint64_t **n, size_t *count)
{
    return s->backend->buckets(s, collection, from_bucket, to_bucket, bucket, n, count);
}

int pinhole_store_report_total(pinhole_store *s, int64_t collection, uint64_t *n)
{
    return s->backend->report_total(s, collection, n);
}

int pinhole_store_check(pinhole_store *s, uint64_t *problems, char *msg, size_t msglen)
{
    return s->backend->check(s, problems, msg, msglen);
}

/* ---- jobs ---- */

const char *pinhole_job_state_name(pinhole_job_state st)
{
    static const char *const names[] = {[PINHOLE_JOB_QUEUED] = "queued",
                                        [PINHOLE_JOB_RUNNING] = "running",
                                        [PINHOLE_JOB_DONE] = "done",
                                        [PINHOLE_JOB_FAILED] = "failed",
                                        [PINHOLE_JOB_CANCELED] = "canceled"};
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "unknown";
}

void pinhole_job_record_free(pinhole_job_record *r)
{
    free(r->params);
    free(r->result);
    free(r->error);
    r->params = r->result = r->error = NULL;
}

int pinhole_store_jobs_recover(pinhole_store *s, double now, int max_attempts)
{
    return s->backend->jobs_recover(s, now, max_attempts);
}

int pinhole_store_job_enqueue(pinhole_store *s, const pinhole_job_record *r, int64_t *id)
{
    return s->backend->job_enqueue(s, r, id);
}

int pinhole_store_job_claim(pinhole_store *s, double now, pinhole_job_record *r)
{
    return s->backend->job_claim(s, now, r);
}

int pinhole_store_job_progress(pinhole_store *s, int64_t id, double fraction)
{
    return s->backend->job_progress(s, id, fraction);
}

int pinhole_store_job_finish(pinhole_store *s, int64_t id, pinhole_job_state st, double finished,
                             const char *result, const char *error)
{
    if (st == PINHOLE_JOB_RUNNING)
        return PINHOLE_EINVAL;
    return s->backend->job_finish(s, id, st, finished, result, error);
}

int pinhole_store_job_cancel_queued(pinhole_store *s, int64_t id, double now)
{
    return s->backend->job_cancel_queued(s, id, now);
}

int pinhole_store_job_request_cancel(pinhole_store *s, int64_t id)
{
    return s->backend->job_request_cancel(s, id);
}

int pinhole_store_job_state(pinhole_store *s, int64_t id, pinhole_job_state *st)
{
    return s->backend->job_state(s, id, st);
}

int pinhole_store_job_get(pinhole_store *s, int64_t id, pinhole_job_record *r)
{
    return s->backend->job_get(s, id, r);
}

int pinhole_store_job_list(pinhole_store *s, int64_t collection, uint64_t offset, uint32_t limit,
                           pinhole_job_record **out, size_t *n, uint64_t *total)
{
    if (!s->backend->job_list) { /* a backend that does not list jobs */
        *out = NULL;
        *n = 0;
        *total = 0;
        return PINHOLE_EUNSUPPORTED;
    }
    return s->backend->job_list(s, collection, offset, limit, out, n, total);
}

/* ---- discovery collections ---- */

void pinhole_store_discovery_free(pinhole_store_discovery *d)
{
    free(d->state);
    free(d->round_collection);
    d->state = NULL;
    d->round_collection = NULL;
    d->state_len = 0;
    d->nrounds = 0;
}

int pinhole_store_discovery_create(pinhole_store *s, const char *name, const uint8_t *state,
                                   size_t len, int64_t first, int64_t created, int64_t *id)
{
    if (!name || strlen(name) > PINHOLE_COLLECTION_NAME_MAX || !state || len == 0 || first <= 0)
        return PINHOLE_EINVAL;
    if (!s->backend->discovery_create) /* a backend that does not keep discovery collections */
        return PINHOLE_EUNSUPPORTED;
    return s->backend->discovery_create(s, name, state, len, first, created, id);
}

int pinhole_store_discovery_save(pinhole_store *s, int64_t id, const uint8_t *state, size_t len,
                                 int64_t next)
{
    if (!state || len == 0)
        return PINHOLE_EINVAL;
    if (!s->backend->discovery_save)
        return PINHOLE_EUNSUPPORTED;
    return s->backend->discovery_save(s, id, state, len, next);
}

int pinhole_store_discovery_load(pinhole_store *s, pinhole_store_discovery **out, size_t *n)
{
    if (!s->backend->discovery_load) { /* it cannot hold any */
        *out = NULL;
        *n = 0;
        return PINHOLE_OK;
    }
    return s->backend->discovery_load(s, out, n);
}
