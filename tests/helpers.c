/* Brute-force references and statistics shared by the suites. */
#include "tests/helpers.h"

void brute_reconstruct(const pinhole_pgr *g, const uint64_t *y, uint64_t *T)
{
    uint32_t v[PINHOLE_T_MAX], h[PINHOLE_T_MAX];
    for (uint64_t x = 0; x < g->k; x++) {
        pinhole_pspace_vector(&g->S, x, v);
        uint64_t s = 0;
        for (uint64_t i = 0; i < g->K; i++) {
            pinhole_pspace_vector(&g->S, i, h);
            if (pinhole_pspace_dot(&g->F, v, h, g->t) == 0)
                s += y[i];
        }
        T[x] = s;
    }
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
