/* k-RR estimator: the report counts are the support totals. */
#include "server/estimate/grr.h"
#include "common/error.h"
#include "common/ldp.h"

int pinhole_grr_estimate(const pinhole_grr *g, const uint64_t *counts, uint64_t n, double *est)
{
    if (n == 0)
        return PINHOLE_ENOREPORTS;
    uint64_t sum = 0;
    for (uint64_t v = 0; v < g->k; v++)
        sum += counts[v];
    if (sum != n)
        return PINHOLE_EINVAL;
    pinhole_support_estimate(counts, g->k, n, g->p, g->r, est);
    return PINHOLE_OK;
}
