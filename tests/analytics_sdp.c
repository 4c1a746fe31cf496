/* Burer-Monteiro SDP solver: NAG g02aa nearest correlation, MaxCut SDP values of C_5 and K_n, and
 * the global-optimality certificate, all against published or closed-form values. */
#include "common/error.h"
#include "server/analytics/burer_monteiro.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* m = tridiag(-1, 2, -1) of order n (the NAG g02aa example's input family). */
static void tridiag(uint32_t n, double *m)
{
    memset(m, 0, sizeof(double) * n * n);
    for (uint32_t i = 0; i < n; i++) {
        m[i * n + i] = 2;
        if (i + 1 < n)
            m[i * n + i + 1] = m[(i + 1) * n + i] = -1;
    }
}

/* NAG g02aa example: the input is tridiag(-1, 2, -1), n = 4; the nearest correlation matrix is
 * symmetric Toeplitz-like with these off-diagonals (NAG Library Manual, g02aa example results). */
Test(nearest_correlation, nag_g02aa_example)
{
    const uint32_t n = 4;
    double a[16] = {0}, x[16];
    tridiag(n, a);
    pinhole_bm_result res;
    pinhole_bm_options opt = {.seed = 7};
    cr_assert_eq(pinhole_nearest_correlation(n, a, &opt, x, &res), PINHOLE_OK);
    const double x01 = -0.808412498149, x02 = 0.191587501850, x03 = 0.106775049026,
                 x12 = -0.656232694806;
    cr_expect_float_eq(x[0 * 4 + 1], x01, 1e-6);
    cr_expect_float_eq(x[0 * 4 + 2], x02, 1e-6);
    cr_expect_float_eq(x[0 * 4 + 3], x03, 1e-6);
    cr_expect_float_eq(x[1 * 4 + 2], x12, 1e-6);
    cr_expect_float_eq(x[1 * 4 + 3], x02, 1e-6); /* persymmetric: X_13 = X_02 */
    cr_expect_float_eq(x[2 * 4 + 3], x01, 1e-6);
    for (uint32_t i = 0; i < n; i++)
        cr_expect_float_eq(x[i * n + i], 1.0, 1e-12);
    cr_expect_geq(res.lambda_min, -1e-8, "lambda_min(S) = %g", res.lambda_min);
    cr_expect_eq(res.rank, 3); /* smallest p with p(p+1)/2 > 4 */
}

/* An input that already is a correlation matrix is its own nearest one (value 0). */
Test(nearest_correlation, fixed_point)
{
    const double a[9] = {1, 0.5, 0.2, 0.5, 1, 0.3, 0.2, 0.3, 1};
    double x[9];
    pinhole_bm_result res;
    cr_assert_eq(pinhole_nearest_correlation(3, a, NULL, x, &res), PINHOLE_OK);
    for (int i = 0; i < 9; i++)
        cr_expect_float_eq(x[i], a[i], 1e-7);
    cr_expect_lt(res.value, 1e-12);
    cr_expect_geq(res.lambda_min, -1e-8);
}

Test(nearest_correlation, rejects_bad_input)
{
    double a[4] = {1, 0.5, 0.4, 1}, x[4];
    pinhole_bm_result res;
    cr_expect_eq(pinhole_nearest_correlation(2, a, NULL, x, &res), PINHOLE_EINVAL); /* asymmetric */
    a[2] = NAN;
    cr_expect_eq(pinhole_nearest_correlation(2, a, NULL, x, &res), PINHOLE_EINVAL);
    a[2] = 0.5;
    cr_expect_eq(pinhole_nearest_correlation(0, a, NULL, x, &res), PINHOLE_EINVAL);
    cr_expect_eq(pinhole_nearest_correlation(2, NULL, NULL, x, &res), PINHOLE_EINVAL);
    pinhole_bm_options opt = {.rank = 3};
    cr_expect_eq(pinhole_nearest_correlation(2, a, &opt, x, &res), PINHOLE_EINVAL); /* rank > n */
}

static void cycle(uint32_t n, double *w)
{
    memset(w, 0, sizeof(double) * n * n);
    for (uint32_t i = 0; i < n; i++) {
        const uint32_t j = (i + 1) % n;
        w[i * n + j] = w[j * n + i] = 1;
    }
}

/* The 5-cycle's SDP value is 5(1 + cos(pi/5))/2 (Goemans & Williamson 1995); its max cut is 4. */
Test(maxcut, five_cycle)
{
    double w[25], x[25];
    int8_t side[5];
    cycle(5, w);
    pinhole_maxcut_result res;
    pinhole_bm_options opt = {.seed = 1};
    cr_assert_eq(pinhole_maxcut(5, w, &opt, 50, side, x, &res), PINHOLE_OK);
    const double want = 5 * (1 + cos(PI / 5)) / 2;
    cr_expect_float_eq(want, 4.5225425, 1e-7);
    cr_expect_float_eq(res.sdp_value, want, 1e-7, "sdp %.10f", res.sdp_value);
    cr_expect_geq(res.bm.lambda_min, -1e-8, "lambda_min(S) = %g", res.bm.lambda_min);
    cr_expect_geq(res.sdp_bound, want - 1e-7);
    cr_expect_leq(res.sdp_bound, want + 1e-6);
    cr_expect_float_eq(res.cut_value, 4.0, 1e-12); /* the best of 50 hyperplanes is optimal */
    double c = 0;
    for (int i = 0; i < 5; i++)
        if (side[i] != side[(i + 1) % 5])
            c += 1;
    cr_expect_float_eq(c, res.cut_value, 1e-12);
    /* the optimum puts adjacent vertices at angle 4 pi / 5 */
    for (int i = 0; i < 5; i++)
        cr_expect_float_eq(x[i * 5 + (i + 1) % 5], cos(4 * PI / 5), 1e-6);
}

/* K_n with unit weights: SDP value n^2/4 (X = (n I - J)/(n - 1)); the max cut is floor(n^2/4). */
Test(maxcut, complete_graphs)
{
    for (uint32_t n = 2; n <= 12; n++) {
        double *w = malloc(sizeof(double) * n * n);
        int8_t *side = malloc(n);
        for (uint32_t i = 0; i < n * n; i++)
            w[i] = i % (n + 1) == 0 ? 0 : 1;
        pinhole_maxcut_result res;
        pinhole_bm_options opt = {.seed = n};
        cr_assert_eq(pinhole_maxcut(n, w, &opt, 200, side, NULL, &res), PINHOLE_OK);
        cr_expect_float_eq(res.sdp_value, n * n / 4.0, 1e-7, "n=%u sdp %.10f", n, res.sdp_value);
        cr_expect_geq(res.bm.lambda_min, -1e-8, "n=%u lambda_min %g", n, res.bm.lambda_min);
        cr_expect_float_eq(res.cut_value, (double)(n * n / 4), 1e-12, "n=%u cut %g", n,
                           res.cut_value);
        free(w), free(side);
    }
}

/* The certificate detects a non-optimal point: at a too small rank (p = 1, a cut vector) on the
 * 5-cycle the solver may not reach the SDP optimum, and then lambda_min(S) < 0 must say so, with
 * the bound still >= the true optimum. */
Test(maxcut, certificate_at_rank_one)
{
    double w[25];
    int8_t side[5];
    cycle(5, w);
    pinhole_bm_options opt = {.rank = 1, .escapes = 1, .max_iter = 1};
    pinhole_maxcut_result res;
    /* one escape at most, one iteration: the point is far from optimal */
    cr_assert_eq(pinhole_maxcut(5, w, &opt, 10, side, NULL, &res), PINHOLE_OK);
    const double want = 5 * (1 + cos(PI / 5)) / 2;
    cr_expect_lt(res.sdp_value, want - 1e-3);
    cr_expect_lt(res.bm.lambda_min, -1e-3);
    cr_expect_geq(res.sdp_bound, want - 1e-9);
}

Test(eig_min, closed_form)
{
    /* tridiag(-1, 2, -1) of order n: eigenvalues 2 - 2cos(k pi/(n+1)), smallest at k = 1 */
    const uint32_t n = 7;
    double s[49] = {0}, u[7], l;
    tridiag(n, s);
    cr_assert_eq(pinhole_eig_min(n, s, &l, u), PINHOLE_OK);
    cr_expect_float_eq(l, 2 - 2 * cos(PI / 8), 1e-13);
    for (uint32_t i = 0; i < n; i++) /* eigenvector sin(i pi/8), up to sign */
        cr_expect_float_eq(fabs(u[i]), sin((i + 1) * PI / 8) / 2, 1e-12);
    cr_expect_eq(pinhole_eig_min(0, s, &l, u), PINHOLE_EINVAL);
}

static int cancel_at(void *ctx, uint64_t done, uint64_t total, double value)
{
    (void)total, (void)value;
    return done >= *(uint64_t *)ctx;
}

Test(bm, progress_cancels)
{
    const uint32_t n = 30;
    double *w = calloc(n * n, sizeof *w), *x = malloc(sizeof(double) * n * n);
    for (uint32_t i = 0; i < n; i++) /* a random-looking weighted graph */
        for (uint32_t j = i + 1; j < n; j++)
            w[i * n + j] = w[j * n + i] = (double)((i * 7 + j * 13) % 5);
    uint64_t stop = 20;
    pinhole_bm_options opt = {.grad_tol = 1e-300, .progress = cancel_at, .progress_ctx = &stop};
    pinhole_bm_result res;
    int8_t side[30];
    pinhole_maxcut_result mres;
    cr_expect_eq(pinhole_maxcut(n, w, &opt, 1, side, x, &mres), PINHOLE_ECANCELED);
    cr_expect_eq(mres.bm.iterations, 20, "iterations %u gnorm %g", mres.bm.iterations,
                 mres.bm.grad_norm);
    (void)res;
    free(w), free(x);
}

/* The staircase: started at rank 1 (where the 5-cycle has spurious local optima, the cuts), the
 * solver climbs along negative eigenvectors of S until the certificate holds. */
Test(maxcut, staircase_from_rank_one)
{
    double w[25];
    int8_t side[5];
    cycle(5, w);
    pinhole_bm_options opt = {.rank = 1, .escapes = 3, .seed = 3};
    pinhole_maxcut_result res;
    cr_assert_eq(pinhole_maxcut(5, w, &opt, 10, side, NULL, &res), PINHOLE_OK);
    cr_expect_geq(res.bm.escapes, 1);
    cr_expect_float_eq(res.sdp_value, 5 * (1 + cos(PI / 5)) / 2, 1e-7);
    cr_expect_geq(res.bm.lambda_min, -1e-8);
}

/* A quadratic cost's optimum can sit above the Boumal-Voroninski-Bandeira rank: the nearest
 * correlation matrix of tridiag(-1, 2, -1) of order 40 needs rank > 20 (p = 9 by the bound). The
 * staircase must climb until the certificate holds, and reach the same value as a full-rank
 * (p = n, no escape needed) solve. */
Test(nearest_correlation, staircase_climbs_above_the_rank_bound)
{
    const uint32_t n = 40;
    double *a = calloc(n * n, sizeof *a), *x = malloc(sizeof(double) * n * n);
    tridiag(n, a);
    pinhole_bm_result climb, full;
    cr_assert_eq(pinhole_nearest_correlation(n, a, NULL, x, &climb), PINHOLE_OK);
    cr_expect_gt(climb.rank, 20);
    cr_expect_geq(climb.escapes, 1);
    cr_expect_geq(climb.lambda_min, -1e-8, "lambda_min %g", climb.lambda_min);
    pinhole_bm_options o = {.rank = n};
    cr_assert_eq(pinhole_nearest_correlation(n, a, &o, x, &full), PINHOLE_OK);
    cr_expect_geq(full.lambda_min, -1e-8);
    cr_expect_float_eq(climb.value, full.value, 1e-8, "%.12f vs %.12f", climb.value, full.value);
    pinhole_bm_options capped = {.escapes = 1, .max_iter = 100000};
    pinhole_bm_result stuck; /* one round is not enough: the certificate must say so */
    cr_assert_eq(pinhole_nearest_correlation(n, a, &capped, x, &stuck), PINHOLE_OK);
    cr_expect_lt(stuck.lambda_min, -1e-3);
    cr_expect_gt(stuck.value, full.value + 1e-3);
    cr_expect_leq(stuck.value - stuck.gap_bound, full.value + 1e-9); /* the certified lower bound */
    free(a), free(x);
}

/* <J - I, X> (K_n's cut cost up to scale) that fails on its third evaluation */
static int failing_cost(void *ctx, uint32_t n, const double *x, double *f, double *g)
{
    int *calls = ctx;
    *f = 0;
    for (uint32_t i = 0; i < n * n; i++) {
        g[i] = i % (n + 1) == 0 ? 0 : 1;
        *f += g[i] * x[i];
    }
    return ++*calls >= 3 ? PINHOLE_EIO : 0;
}

/* A cost that fails stops the solver with its code; nothing leaks (ASan run). */
Test(bm, cost_error_propagates)
{
    int calls = 0;
    double x[9];
    pinhole_bm_result res;
    cr_expect_eq(pinhole_bm_solve(3, failing_cost, &calls, NULL, x, &res), PINHOLE_EIO);
    cr_expect_eq(calls, 3);
}
