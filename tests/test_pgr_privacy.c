/* Exact privacy of the PGR randomizer as coded: its output distribution P[y | v] is computed by
 * enumerating every draw the randomizer can make (pgr_output_distribution, tests/helpers.c) through
 * pinhole_pgr_encode_draws(), the same core pinhole_pgr_encode() runs.
 * Then max over y, v, v' of P[y|v]/P[y|v'] <= e^(realized eps) <= e^eps (1 + 1e-9). */
#include "client/pgr.h"
#include "common/error.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

static void check_exact_privacy(uint32_t q, uint32_t t, double eps, uint64_t pad)
{
    pinhole_pgr g;
    pinhole_pspace S;
    cr_assert_eq(pinhole_pspace_init(&S, q, t), PINHOLE_OK);
    const uint64_t k = S.K - pad;
    cr_assert_eq(pinhole_pgr_init(&g, k, eps, q, t), PINHOLE_OK);
    const uint64_t K = g.K;
    long double *P = calloc(k * K, sizeof *P);
    for (uint64_t v = 0; v < k; v++) {
        cr_assert_eq(pgr_output_distribution(&g, v, P + v * K), 0,
                     "only the zero draw is rejected, and every report is < K");
        long double total = 0;
        for (uint64_t y = 0; y < K; y++)
            total += P[v * K + y];
        cr_assert_lt(fabsl(total - 1), 1e-12L);
    }
    long double worst = 0;
    for (uint64_t y = 0; y < K; y++) {
        long double lo = INFINITY, hi = 0;
        for (uint64_t v = 0; v < k; v++) {
            const long double p = P[v * K + y];
            cr_assert_gt(p, 0);
            lo = p < lo ? p : lo;
            hi = p > hi ? p : hi;
        }
        worst = hi / lo > worst ? hi / lo : worst;
    }
    /* the threshold is the best one: realized > 0, and one step up would exceed epsilon */
    cr_assert_gt(g.epsilon_realized, 0);
    if (g.threshold != UINT64_MAX) {
        const uint64_t T1 = g.threshold + 1, C1 = (uint64_t)0 - T1;
        const long double c = (long double)g.c_set, Kl = (long double)g.K;
        const long double up =
            logl((long double)T1) - logl((long double)C1) + logl(Kl - c) - logl(c);
        cr_assert_gt(up, (long double)eps, "q=%u t=%u eps=%g: threshold + 1 still within epsilon",
                     q, t, eps);
    }
    const long double er = expl((long double)g.epsilon_realized);
    cr_assert_leq(worst, er * (1 + 1e-12L), "q=%u t=%u eps=%g: ratio %Lg > e^realized %Lg", q, t,
                  eps, worst, er);
    cr_assert_geq(worst, er * (1 - 1e-9L), "the bound is attained");
    cr_assert_leq(er, expl((long double)eps) * (1 + 1e-9L));
    free(P);
    pinhole_pgr_free(&g);
}

Test(pgr_privacy, exact_ratio_small_spaces)
{
    const uint32_t spaces[][2] = {{2, 3}, {2, 4}, {3, 3}, {3, 4}, {4, 3}, {5, 3}, {8, 2}, {9, 2}};
    const double eps[] = {1e-6, 1e-3, 0.1, 0.5, 1.0, 2.0, 5.0, 12.0, 40.0, 45.05, 1e6};
    for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++)
        for (size_t j = 0; j < sizeof eps / sizeof eps[0]; j++)
            check_exact_privacy(spaces[i][0], spaces[i][1], eps[j], (i + j) % 3); /* k = K - pad */
}

Test(pgr_privacy, saturated_threshold)
{
    /* beyond what a 64-bit threshold expresses, T = 2^64 - 1 and the realized epsilon is
     * ln((2^64 - 1)(K - c)/c), below the request; nearby requests do not lose more than that */
    pinhole_pgr g;
    cr_assert_eq(pinhole_pgr_init(&g, 13, 1e6, 3, 3), PINHOLE_OK);
    cr_assert_eq(g.threshold, UINT64_MAX);
    const double want = (double)(logl(18446744073709551615.0L) + logl(9.0L / 4.0L));
    cr_assert_float_eq(g.epsilon_realized, want, 1e-12);
    pinhole_pgr_free(&g);
    /* near saturation the complement C = 2^64 - T is small and the steps coarse: eps = 45 allows
     * C = 2 (realized ln((2^64 - 2)/2 * 9/4) = 44.48), not C = 1 (45.17) */
    cr_assert_eq(pinhole_pgr_init(&g, 13, 45.0, 3, 3), PINHOLE_OK);
    cr_assert_eq(g.threshold, UINT64_MAX - 1);
    cr_assert_float_eq(g.epsilon_realized,
                       (double)(logl(18446744073709551614.0L / 2) + logl(9.0L / 4.0L)), 1e-12);
    pinhole_pgr_free(&g);
}
