/* The count deltas of an ingest transaction, shared by the storage backends. */
#include "server/store/delta.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

/* Open vectors at most: 16, and 64 MiB of them. */
static size_t delta_limit(const pinhole_server_collection *c)
{
    const uint64_t per = c->cfg.counts_len * sizeof(uint64_t), fit = (UINT64_C(64) << 20) / per;
    return fit < 1 ? 1 : fit > 16 ? 16 : (size_t)fit;
}

pinhole_count_delta *pinhole_count_deltas_for(pinhole_count_deltas *ds,
                                              const pinhole_server_collection *c, int64_t bucket,
                                              pinhole_count_deltas_flush flush, void *ctx, int *rc)
{
    for (size_t i = ds->ndelta; i-- > 0;)
        if (ds->delta[i].coll == c && ds->delta[i].bucket == bucket)
            return &ds->delta[i];
    if (ds->ndelta >= delta_limit(c) && (*rc = flush(ctx)) != PINHOLE_OK)
        return NULL;
    *rc = PINHOLE_ENOMEM;
    if (ds->ndelta == ds->cap) {
        const size_t cap = ds->cap ? 2 * ds->cap : 4;
        pinhole_count_delta *d = realloc(ds->delta, cap * sizeof *d);
        if (!d)
            return NULL;
        memset(d + ds->cap, 0, (cap - ds->cap) * sizeof *d);
        ds->delta = d;
        ds->cap = cap;
    }
    pinhole_count_delta *d = &ds->delta[ds->ndelta];
    const uint64_t len = c->cfg.counts_len;
    if (d->len < len) { /* vectors stay zero between uses */
        free(d->v);
        d->v = calloc(len, sizeof *d->v);
        d->len = d->v ? len : 0;
        if (!d->v)
            return NULL;
    }
    d->coll = c;
    d->bucket = bucket;
    d->n = 0;
    ds->ndelta++;
    *rc = PINHOLE_OK;
    return d;
}

void pinhole_count_deltas_clear(pinhole_count_deltas *ds, size_t from)
{
    for (size_t i = from; i < ds->ndelta; i++)
        memset(ds->delta[i].v, 0, ds->delta[i].coll->cfg.counts_len * sizeof *ds->delta[i].v);
    ds->ndelta = 0;
}

void pinhole_count_deltas_free(pinhole_count_deltas *ds)
{
    for (size_t i = 0; i < ds->cap; i++)
        free(ds->delta[i].v);
    free(ds->delta);
    memset(ds, 0, sizeof *ds);
}
