/* Brute-force references and statistics shared by the suites. */
#include "tests/helpers.h"
#include "client/pgr.h"
#include "common/error.h"

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

int pgr_output_distribution(const pinhole_pgr *g, uint64_t v, long double *P)
{
    const uint32_t q = g->q, t = g->t;
    const long double p0 = (long double)g->threshold / 18446744073709551616.0L; /* P[s = 0] */
    uint64_t nfree = 1;
    for (uint32_t i = 0; i + 1 < t; i++)
        nfree *= q;
    for (uint64_t y = 0; y < g->K; y++)
        P[y] = 0;
    uint32_t fc[PINHOLE_T_MAX];
    for (uint32_t s = 0; s < q; s++) {
        /* s = 0: the all-zero draw is rejected, the other nfree - 1 equally likely */
        const long double w =
            s == 0 ? p0 / (long double)(nfree - 1) : (1 - p0) / (q - 1) / (long double)nfree;
        for (uint64_t f = 0; f < nfree; f++) {
            uint64_t x = f;
            for (uint32_t i = 0; i + 1 < t; i++) {
                fc[i] = (uint32_t)(x % q);
                x /= q;
            }
            uint64_t y;
            const int rc = pinhole_pgr_encode_draws(g, v, s, fc, &y);
            if (rc == PINHOLE_EINVAL && s == 0 && f == 0)
                continue;
            if (rc != PINHOLE_OK || y >= g->K)
                return -1;
            P[y] += w;
        }
    }
    return 0;
}
