/* The job runner's view of the store: a collection's configuration, labels and counts over a time
 * range, and per time bucket when a job asks. Runs on a job worker, through the reader pool. */
#include "common/error.h"
#include "server/service/internal.h"

#include <stdlib.h>
#include <string.h>

/* Per-bucket loads are refused past this many buckets, or past this many bytes of vectors (every
 * bucket becomes a full count vector, plus a read and a JSON entry). */
#define LOADER_MAX_BUCKETS 10000
#define LOADER_MAX_BYTES (512.0 * 1024 * 1024)

int pinhole_service_job_loader(void *ctx, int64_t collection_id, int64_t from, int64_t to,
                               int buckets, pinhole_job_data *out)
{
    pinhole_service *s = ctx;
    memset(out, 0, sizeof *out);
    const pinhole_server_collection *c = pinhole_service_collection(s, collection_id);
    if (!c)
        return PINHOLE_ENOTFOUND;
    int rc = pinhole_config_init(&out->cfg, &c->params);
    if (rc != PINHOLE_OK)
        return rc;
    const uint64_t k = c->params.k, len = out->cfg.counts_len;
    out->counts = malloc(len * sizeof *out->counts);
    if (!out->counts)
        return PINHOLE_ENOMEM;
    if (c->label) {
        if (!(out->labels = calloc(k, sizeof *out->labels)))
            return PINHOLE_ENOMEM;
        for (uint64_t v = 0; v < k; v++)
            if (!(out->labels[v] = strdup(c->label[v])))
                return PINHOLE_ENOMEM;
    }
    int64_t first, last;
    pinhole_server_collection_bucket_range(c, from < 0 ? 0 : from, to, &first, &last);
    if (first > last) {
        memset(out->counts, 0, len * sizeof *out->counts);
        return PINHOLE_OK;
    }
    reader_slot *r = pinhole_service_reader_get(s);
    if (!r)
        return PINHOLE_EDB;
    rc = pinhole_store_counts(r->store, c, first, last, out->counts, &out->n);
    int64_t *bk = NULL;
    uint64_t *bn = NULL;
    size_t nb = 0;
    if (rc == PINHOLE_OK && buckets)
        rc = pinhole_store_buckets(r->store, c->id, first, last, &bk, &bn, &nb);
    if (rc == PINHOLE_OK && nb > 0 &&
        (nb > LOADER_MAX_BUCKETS || (double)nb * ((double)len * 8.0 + 1024) > LOADER_MAX_BYTES))
        rc = PINHOLE_ETOOBIG;
    if (rc == PINHOLE_OK && nb > 0 && !(out->buckets = calloc(nb, sizeof *out->buckets)))
        rc = PINHOLE_ENOMEM;
    for (size_t i = 0; rc == PINHOLE_OK && i < nb; i++) {
        pinhole_job_bucket *b = &out->buckets[i];
        out->nbuckets = i + 1;
        b->time = bk[i] * (int64_t)c->time_precision;
        if (!(b->counts = malloc(len * sizeof *b->counts)))
            rc = PINHOLE_ENOMEM;
        else
            rc = pinhole_store_counts(r->store, c, bk[i], bk[i], b->counts, &b->n);
    }
    pinhole_service_reader_put(s, r);
    free(bk);
    free(bn);
    return rc;
}
