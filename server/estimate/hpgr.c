/* HPGR estimator: per-block PGR reconstruction and the block-total correction. */
#include "server/estimate/hpgr.h"
#include "common/error.h"
#include "server/estimate/pgr.h"

#include <stdlib.h>

int pinhole_hpgr_estimate(const pinhole_hpgr *g, const uint64_t *counts, uint64_t n, double *est)
{
    if (n == 0)
        return PINHOLE_ENOREPORTS;
    const uint64_t Kb = g->d.Kb;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < g->d.B * Kb; i++)
        sum += counts[i];
    if (sum != n)
        return PINHOLE_EINVAL;
    uint64_t *T = malloc(Kb * sizeof *T);
    if (!T)
        return PINHOLE_ENOMEM;
    for (uint64_t b = 0; b < g->d.B; b++) {
        const uint64_t *y = counts + b * Kb;
        int rc = pinhole_pgr_reconstruct(&g->block, y, T, PINHOLE_PGR_AUTO);
        if (rc != PINHOLE_OK) {
            free(T);
            return rc;
        }
        uint64_t Nb = 0;
        for (uint64_t h = 0; h < Kb; h++)
            Nb += y[h];
        pinhole_blocks_estimate(&g->d, b, T, Nb, n, est + b * Kb);
    }
    free(T);
    return PINHOLE_OK;
}
