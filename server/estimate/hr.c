/* Hadamard response estimator: per block, a Walsh-Hadamard transform of the counts in int64. */
#include "server/estimate/hr.h"
#include "common/error.h"

#include <stdlib.h>

void pinhole_hr_support(const pinhole_hr *g, const uint64_t *counts, int64_t *w, uint64_t *T)
{
    const uint64_t b = g->b;
    for (uint64_t y = 0; y < b; y++)
        w[y] = (int64_t)counts[y];
    /* w[r] = sum_y counts[y] (-1)^popcount(r & y); |w[r]| <= n < 2^62 throughout */
    for (uint64_t h = 1; h < b; h <<= 1)
        for (uint64_t i = 0; i < b; i += h << 1)
            for (uint64_t j = i; j < i + h; j++) {
                const int64_t a = w[j], c = w[j + h];
                w[j] = a + c;
                w[j + h] = a - c;
            }
    /* w[0] = N (the block's reports); row i + 1: w = T_i - (N - T_i) */
    for (uint64_t i = 0; i + 1 < b; i++)
        T[i] = (uint64_t)((w[0] + w[i + 1]) / 2);
}

int pinhole_hr_estimate(const pinhole_hr *g, const uint64_t *counts, uint64_t n, double *est)
{
    if (n == 0)
        return PINHOLE_ENOREPORTS;
    const uint64_t b = g->b;
    uint64_t sum = 0;
    for (uint64_t y = 0; y < g->d.B * b; y++)
        sum += counts[y];
    if (sum != n || n >= (UINT64_C(1) << 62))
        return PINHOLE_EINVAL;
    int64_t *w = malloc(b * sizeof *w);
    uint64_t *T = malloc(b * sizeof *T);
    if (!w || !T) {
        free(w);
        free(T);
        return PINHOLE_ENOMEM;
    }
    for (uint64_t blk = 0; blk < g->d.B; blk++) {
        pinhole_hr_support(g, counts + blk * b, w, T);
        pinhole_blocks_estimate(&g->d, blk, T, (uint64_t)w[0], n, est + blk * (b - 1));
    }
    free(w);
    free(T);
    return PINHOLE_OK;
}
