/* Brute-force references and statistics shared by the suites. */
#include "tests/helpers.h"

#include <stdlib.h>

uint32_t *brute_hyperplanes(const pinhole_pgr *g)
{
    uint32_t *H = malloc(g->K * g->t * sizeof *H);
    if (H)
        for (uint64_t i = 0; i < g->K; i++)
            pinhole_pspace_vector(&g->S, i, H + i * g->t);
    return H;
}

uint64_t brute_total(const pinhole_pgr *g, const uint32_t *H, const uint64_t *y, uint64_t v)
{
    uint32_t a[PINHOLE_T_MAX];
    pinhole_pspace_vector(&g->S, v, a);
    uint64_t s = 0;
    for (uint64_t i = 0; i < g->K; i++)
        if (pinhole_pspace_dot(&g->F, a, H + i * g->t, g->t) == 0)
            s += y[i];
    return s;
}

int brute_reconstruct(const pinhole_pgr *g, const uint64_t *y, uint64_t *T)
{
    uint32_t *H = brute_hyperplanes(g);
    if (!H)
        return -1;
    for (uint64_t x = 0; x < g->k; x++)
        T[x] = brute_total(g, H, y, x);
    free(H);
    return 0;
}

double chi_square(const uint64_t *observed, const double *prob, uint64_t cells, uint64_t total)
{
    double x2 = 0;
    for (uint64_t i = 0; i < cells; i++) {
        const double e = prob[i] * (double)total, d = (double)observed[i] - e;
        x2 += d * d / e;
    }
    return x2;
}
