/* Dispatch of accumulation and estimation to each mechanism's estimator. */
#include "server/estimate/estimate.h"
#include "common/bytes.h"
#include "common/error.h"
#include "server/estimate/pgr.h"

#include <stdlib.h>

static int pgr_accumulate(const pinhole_config *c, const uint8_t *payload, uint64_t *counts)
{
    const uint64_t h = pinhole_load_le(payload, c->payload_bytes);
    if (h >= c->u.pgr.K)
        return PINHOLE_ERANGE;
    counts[h]++;
    return PINHOLE_OK;
}

static int pgr_estimate(const pinhole_config *c, const uint64_t *counts, uint64_t n, double *count)
{
    const pinhole_pgr *g = &c->u.pgr;
    uint64_t sum = 0;
    for (uint64_t h = 0; h < g->K; h++)
        sum += counts[h];
    if (sum != n)
        return PINHOLE_EINVAL;
    uint64_t *T = malloc(g->k * sizeof *T);
    if (!T)
        return PINHOLE_ENOMEM;
    int rc = pinhole_pgr_reconstruct(g, counts, T, PINHOLE_PGR_AUTO);
    if (rc == PINHOLE_OK)
        rc = pinhole_pgr_estimate(g, T, n, count);
    free(T);
    return rc;
}

static const struct {
    pinhole_mechanism_id id;
    int (*accumulate)(const pinhole_config *, const uint8_t *, uint64_t *);
    int (*estimate)(const pinhole_config *, const uint64_t *, uint64_t, double *);
} table[] = {
    {PINHOLE_MECH_PGR, pgr_accumulate, pgr_estimate},
};

int pinhole_accumulate(const pinhole_config *c, const uint8_t *payload, size_t len,
                       uint64_t *counts)
{
    if (len != c->payload_bytes)
        return PINHOLE_EFORMAT;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].id == c->mechanism)
            return table[i].accumulate(c, payload, counts);
    return PINHOLE_EUNSUPPORTED;
}

int pinhole_estimate(const pinhole_config *c, const uint64_t *counts, uint64_t n, double *count,
                     double *variance)
{
    if (n == 0)
        return PINHOLE_ENOREPORTS;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].id != c->mechanism)
            continue;
        int rc = table[i].estimate(c, counts, n, count);
        if (rc != PINHOLE_OK || !variance)
            return rc;
        for (uint64_t v = 0; v < c->k; v++) {
            double f = count[v] < 0 ? 0 : count[v] > (double)n ? (double)n : count[v];
            variance[v] = pinhole_config_variance(c, (double)n, f);
        }
        return PINHOLE_OK;
    }
    return PINHOLE_EUNSUPPORTED;
}

typedef struct {
    double x;
    uint64_t i;
} ranked;

static int by_value_desc(const void *a, const void *b)
{
    const ranked *p = a, *q = b;
    if (p->x != q->x)
        return p->x > q->x ? -1 : 1;
    return p->i < q->i ? -1 : (p->i > q->i);
}

int pinhole_estimate_rank(const double *count, uint64_t k, uint64_t *order)
{
    ranked *r = malloc(k * sizeof *r);
    if (!r)
        return PINHOLE_ENOMEM;
    for (uint64_t i = 0; i < k; i++)
        r[i] = (ranked){count[i], i};
    qsort(r, k, sizeof *r, by_value_desc);
    for (uint64_t i = 0; i < k; i++)
        order[i] = r[i].i;
    free(r);
    return PINHOLE_OK;
}
