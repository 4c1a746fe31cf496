/* Hadamard response estimator: Walsh-Hadamard transform of the report counts in int64. */
#include "server/estimate/hr.h"
#include "common/error.h"
#include "common/ldp.h"

#include <stdlib.h>

int pinhole_hr_support(const pinhole_hr *g, const uint64_t *counts, uint64_t n, uint64_t *T)
{
    const uint64_t K = g->K;
    int64_t *w = malloc(K * sizeof *w);
    if (!w)
        return PINHOLE_ENOMEM;
    for (uint64_t y = 0; y < K; y++)
        w[y] = (int64_t)counts[y];
    /* w[i] = sum_y counts[y] (-1)^popcount(i & y); |w[i]| <= n < 2^62 throughout */
    for (uint64_t h = 1; h < K; h <<= 1)
        for (uint64_t i = 0; i < K; i += h << 1)
            for (uint64_t j = i; j < i + h; j++) {
                const int64_t a = w[j], b = w[j + h];
                w[j] = a + b;
                w[j + h] = a - b;
            }
    /* row v + 1: w = T_v - (n - T_v) */
    for (uint64_t v = 0; v < g->k; v++)
        T[v] = (uint64_t)(((int64_t)n + w[v + 1]) / 2);
    free(w);
    return PINHOLE_OK;
}

int pinhole_hr_estimate(const pinhole_hr *g, const uint64_t *counts, uint64_t n, double *est)
{
    if (n == 0)
        return PINHOLE_ENOREPORTS;
    uint64_t sum = 0;
    for (uint64_t y = 0; y < g->K; y++)
        sum += counts[y];
    if (sum != n || n >= (UINT64_C(1) << 62))
        return PINHOLE_EINVAL;
    uint64_t *T = malloc(g->k * sizeof *T);
    if (!T)
        return PINHOLE_ENOMEM;
    int rc = pinhole_hr_support(g, counts, n, T);
    if (rc == PINHOLE_OK)
        pinhole_support_estimate(T, g->k, n, g->p, g->r, est);
    free(T);
    return rc;
}
