/* Nearest-correlation repair: the Newton method against NAG's published example and against
 * Burer-Monteiro, the weighted and rank-r variants, its certificates, the collection path
 * reproducing a direct call, and bad input. */
#include "common/error.h"
#include "common/rng.h"
#include "server/analytics/burer_monteiro.h"
#include "server/analytics/corr_repair.h"
#include "server/analytics/ncm_newton.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void tridiag(uint32_t n, double *m)
{
    memset(m, 0, (size_t)n * n * sizeof *m);
    for (uint32_t i = 0; i < n; i++) {
        m[i * n + i] = 2;
        if (i + 1 < n)
            m[i * n + i + 1] = m[(i + 1) * n + i] = -1;
    }
}

/* A symmetric matrix with unit diagonal and uniform off-diagonals in [-1, 1]: usually not PSD. */
static void random_symmetric(uint32_t n, uint64_t seed, double *a)
{
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    for (uint32_t i = 0; i < n; i++) {
        a[i * n + i] = 1;
        for (uint32_t j = i + 1; j < n; j++)
            a[i * n + j] = a[j * n + i] = 2 * pinhole_rng_unit(&rng) - 1;
    }
}

/* unit diagonal, symmetric, smallest eigenvalue >= -tol */
static void assert_correlation(uint32_t n, const double *x, double tol)
{
    for (uint32_t i = 0; i < n; i++) {
        cr_assert_float_eq(x[i * n + i], 1, 1e-12);
        for (uint32_t j = 0; j < n; j++)
            cr_assert_float_eq(x[i * n + j], x[j * n + i], 1e-12);
    }
    double lmin;
    cr_assert_eq(pinhole_eig_min(n, x, &lmin, NULL), PINHOLE_OK);
    cr_assert_geq(lmin, -tol);
}

Test(ncm_newton, nag_g02aa_example)
{
    const uint32_t n = 4;
    double a[16], x[16];
    tridiag(n, a);
    pinhole_ncm_result r;
    cr_assert_eq(pinhole_ncm_newton(n, a, NULL, x, &r), PINHOLE_OK);
    const double want[3] = {-0.808412498149, 0.191587501850, 0.106775049026};
    cr_assert_float_eq(x[1], want[0], 1e-9);
    cr_assert_float_eq(x[2], want[1], 1e-9);
    cr_assert_float_eq(x[3], want[2], 1e-9);
    cr_assert_float_eq(x[1 * 4 + 2], -0.656232694806, 1e-9);
    cr_assert_float_eq(x[1 * 4 + 3], want[1], 1e-9); /* persymmetric */
    cr_assert_lt(r.gap_bound, 1e-12);
    cr_assert_lt(r.residual, 1e-10);
    cr_assert_eq(r.rank, 3);
    assert_correlation(n, x, 1e-12);
}

/* Newton and Burer-Monteiro agree on random matrices; both certify. */
Test(ncm_newton, agrees_with_burer_monteiro)
{
    const uint32_t n = 30;
    double *a = malloc(n * n * sizeof *a), *x = malloc(n * n * sizeof *x),
           *y = malloc(n * n * sizeof *y);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        random_symmetric(n, seed, a);
        pinhole_ncm_result r;
        cr_assert_eq(pinhole_ncm_newton(n, a, NULL, x, &r), PINHOLE_OK);
        cr_assert_lt(r.gap_bound, 1e-9 * (1 + r.value), "gap %g", r.gap_bound);
        cr_assert_lt(r.iterations, 30);
        pinhole_bm_options o = {.seed = seed};
        pinhole_bm_result b;
        cr_assert_eq(pinhole_nearest_correlation(n, a, &o, y, &b), PINHOLE_OK);
        cr_assert_float_eq(r.value, b.value, 1e-7 * (1 + b.value));
        for (uint32_t i = 0; i < n * n; i++)
            cr_assert_float_eq(x[i], y[i], 1e-5);
        assert_correlation(n, x, 1e-12);
    }
    free(a), free(x), free(y);
}

/* High rank: tridiag(-1, 2, -1) of order 120 (the optimum's rank is above half the order, where
 * Burer-Monteiro climbs its staircase) converges in a few Newton steps. */
Test(ncm_newton, high_rank)
{
    const uint32_t n = 120;
    double *a = malloc(n * n * sizeof *a), *x = malloc(n * n * sizeof *x);
    tridiag(n, a);
    pinhole_ncm_result r;
    cr_assert_eq(pinhole_ncm_newton(n, a, NULL, x, &r), PINHOLE_OK);
    cr_assert_lt(r.gap_bound, 1e-9 * (1 + r.value));
    cr_assert_gt(r.rank, n / 2);
    cr_assert_lt(r.iterations, 40);
    assert_correlation(n, x, 1e-12);
    free(a), free(x);
}

Test(repair, methods_and_variants)
{
    const uint32_t n = 12;
    double a[144], x[144], y[144], h[144];
    random_symmetric(n, 42, a);
    pinhole_repair_result r, b;
    /* AUTO without weights is Newton; BM on the same problem agrees */
    cr_assert_eq(pinhole_correlation_repair(n, a, NULL, x, &r), PINHOLE_OK);
    cr_assert_eq(r.method, PINHOLE_REPAIR_NEWTON);
    cr_assert(r.certified);
    pinhole_repair_options o = {.method = PINHOLE_REPAIR_BM, .seed = 5};
    cr_assert_eq(pinhole_correlation_repair(n, a, &o, y, &b), PINHOLE_OK);
    cr_assert(b.certified);
    cr_assert_float_eq(r.value, b.value, 1e-7);
    /* weights all 1 (off the diagonal) give the unweighted answer */
    for (uint32_t i = 0; i < n * n; i++)
        h[i] = 1;
    o = (pinhole_repair_options){.weights = h, .seed = 5};
    cr_assert_eq(pinhole_correlation_repair(n, a, &o, y, &b), PINHOLE_OK);
    cr_assert_eq(b.method, PINHOLE_REPAIR_BM);
    for (uint32_t i = 0; i < n * n; i++)
        cr_assert_float_eq(x[i], y[i], 1e-5);
    /* heavy weights on the first row keep it closer to a */
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n; j++)
            h[i * n + j] = i == 0 || j == 0 ? 100 : 1;
    cr_assert_eq(pinhole_correlation_repair(n, a, &o, y, &b), PINHOLE_OK);
    cr_assert(b.certified);
    assert_correlation(n, y, 1e-9);
    double dx = 0, dy = 0;
    for (uint32_t j = 1; j < n; j++) {
        dx += (x[j] - a[j]) * (x[j] - a[j]);
        dy += (y[j] - a[j]) * (y[j] - a[j]);
    }
    cr_assert_lt(dy, dx);
    /* rank 3: a factor model, no better than full rank, and of rank 3 */
    o = (pinhole_repair_options){.rank = 3, .seed = 5};
    cr_assert_eq(pinhole_correlation_repair(n, a, &o, y, &b), PINHOLE_OK);
    cr_assert_eq(b.rank, 3);
    cr_assert_geq(b.value, r.value - 1e-9);
    assert_correlation(n, y, 1e-9);
    /* bad input */
    o = (pinhole_repair_options){.method = PINHOLE_REPAIR_NEWTON, .rank = 2};
    cr_assert_eq(pinhole_correlation_repair(n, a, &o, y, &b), PINHOLE_EINVAL);
    h[5] = -1;
    o = (pinhole_repair_options){.weights = h};
    cr_assert_eq(pinhole_correlation_repair(n, a, &o, y, &b), PINHOLE_EINVAL);
    a[1] = 7;
    cr_assert_eq(pinhole_correlation_repair(n, a, NULL, y, &b), PINHOLE_EINVAL, "not symmetric");
    a[1] = NAN;
    cr_assert_eq(pinhole_ncm_newton(n, a, NULL, y, &(pinhole_ncm_result){0}), PINHOLE_EINVAL);
}

/* The repair read from a collection's correlation estimate equals a direct call on the same matrix
 * (unweighted, and weighted by the standard errors), and returns a certified correlation matrix.
 * The collection: 6 ordinal attributes driven by one latent factor, 20,000 devices at epsilon 0.5
 * (seed 99): noisy enough that the raw estimate is not positive semidefinite. */
Test(repair, from_a_collection)
{
    const uint32_t d = 6, k[6] = {2, 3, 4, 5, 3, 2};
    pinhole_multi mc;
    cr_assert_eq(pinhole_multi_init(&mc, 1, d, k, PINHOLE_MECH_PGR, 0.5), PINHOLE_OK);
    uint64_t **counts = malloc(mc.npairs * sizeof *counts);
    for (uint32_t p = 0; p < mc.npairs; p++)
        counts[p] = calloc(mc.pairs[p].mech.counts_len, sizeof **counts);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 99);
    uint32_t x[6];
    for (int u = 0; u < 20000; u++) {
        const double z = pinhole_rng_normal(&rng);
        for (uint32_t j = 0; j < d; j++) {
            const double v = (0.8 * z + 0.6 * pinhole_rng_normal(&rng)) + k[j] / 2.0;
            x[j] = v < 0 ? 0 : v >= k[j] ? k[j] - 1 : (uint32_t)v;
        }
        cr_assert_eq(pinhole_multi_simulate(&mc, x, &rng, counts), PINHOLE_OK);
    }
    pinhole_multi_est e;
    pinhole_multi_corr c;
    cr_assert_eq(pinhole_multi_estimate(&mc, (const uint64_t *const *)counts, &e), PINHOLE_OK);
    cr_assert_eq(pinhole_multi_correlation(&e, NULL, NULL, &c), PINHOLE_OK);
    cr_assert_eq(c.n, d);
    double lmin;
    cr_assert_eq(pinhole_eig_min(d, c.r, &lmin, NULL), PINHOLE_OK);
    cr_assert_lt(lmin, 0, "the raw estimate is not PSD (lambda_min %g)", lmin);
    double x1[36], x2[36], h[36];
    pinhole_repair_result r1, r2;
    cr_assert_eq(pinhole_multi_repair(&c, 0, NULL, x1, &r1), PINHOLE_OK);
    cr_assert_eq(pinhole_correlation_repair(d, c.r, NULL, x2, &r2), PINHOLE_OK);
    cr_assert_eq(memcmp(x1, x2, sizeof x1), 0);
    cr_assert_eq(r1.method, PINHOLE_REPAIR_NEWTON);
    cr_assert(r1.certified);
    assert_correlation(d, x1, 1e-12);
    pinhole_repair_options o = {.seed = 3};
    cr_assert_eq(pinhole_multi_repair(&c, 1, &o, x1, &r1), PINHOLE_OK);
    cr_assert_eq(pinhole_repair_weights(d, c.se, h), PINHOLE_OK);
    o.weights = h;
    cr_assert_eq(pinhole_correlation_repair(d, c.r, &o, x2, &r2), PINHOLE_OK);
    cr_assert_eq(memcmp(x1, x2, sizeof x1), 0);
    cr_assert_eq(r1.method, PINHOLE_REPAIR_BM);
    cr_assert(r1.certified, "gap %g", r1.gap_bound);
    assert_correlation(d, x1, 1e-9);
    pinhole_multi_corr_free(&c);
    pinhole_multi_est_free(&e);
    for (uint32_t p = 0; p < mc.npairs; p++)
        free(counts[p]);
    free(counts);
    pinhole_multi_clear(&mc);
}
