/* OLH estimator: per-seed hashing of every item, S k hash evaluations in all. */
#include "server/estimate/olh.h"
#include "common/error.h"
#include "common/ldp.h"

#include <stdlib.h>
#include <string.h>

void pinhole_olh_support(const pinhole_olh *g, const uint64_t *counts, uint64_t *T)
{
    memset(T, 0, g->k * sizeof *T);
    for (uint32_t s = 0; s < g->S; s++) {
        const uint64_t *row = counts + (uint64_t)s * g->g;
        uint64_t rowsum = 0;
        for (uint32_t y = 0; y < g->g; y++)
            rowsum += row[y];
        if (rowsum == 0) /* no user drew this seed */
            continue;
        for (uint64_t v = 0; v < g->k; v++)
            T[v] += row[pinhole_olh_hash(g, s, v)];
    }
}

int pinhole_olh_estimate(const pinhole_olh *g, const uint64_t *counts, uint64_t n, double *est)
{
    if (n == 0)
        return PINHOLE_ENOREPORTS;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < (uint64_t)g->S * g->g; i++)
        sum += counts[i];
    if (sum != n)
        return PINHOLE_EINVAL;
    uint64_t *T = malloc(g->k * sizeof *T);
    if (!T)
        return PINHOLE_ENOMEM;
    pinhole_olh_support(g, counts, T);
    pinhole_support_estimate(T, g->k, n, g->p, g->r, est);
    free(T);
    return PINHOLE_OK;
}
