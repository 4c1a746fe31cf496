/* Consistency module: PGR incidence on doubles, simplex projection, EM maximum likelihood, and
 * steepest descent with exact line search. */
#include "client/pgr.h"
#include "common/error.h"
#include "server/analytics/consistency.h"
#include "server/analytics/descent.h"
#include "server/analytics/pgr_channel.h"
#include "server/estimate/pgr.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
}

/* A PGR configuration with every point an item (k = K). */
static void init_full(pinhole_pgr *g, uint32_t q, uint32_t t, double eps)
{
    pinhole_pspace S;
    cr_assert_eq(pinhole_pspace_init(&S, q, t), PINHOLE_OK);
    cr_assert_eq(pinhole_pgr_init(g, S.K, eps, q, t), PINHOLE_OK);
}

Test(consistency, incidence_equals_brute_force_and_is_symmetric, .init = setup)
{
    static const uint32_t qt[][2] = {{2, 3}, {3, 3},  {4, 3}, {5, 3}, {2, 5},
                                     {3, 4}, {7, 3},  {8, 3}, {9, 3}, {4, 4},
                                     {2, 7}, {16, 3}, {2, 2}, {5, 2}, {27, 2}};
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 11);
    for (size_t c = 0; c < sizeof qt / sizeof qt[0]; c++) {
        pinhole_pgr g;
        init_full(&g, qt[c][0], qt[c][1], 2.0);
        const uint64_t K = g.K;
        uint64_t *y = malloc(K * sizeof *y), *T = malloc(K * sizeof *T);
        double *in = malloc(K * sizeof *in), *out = malloc(K * sizeof *out);
        double *b = malloc(K * sizeof *b), *Ib = malloc(K * sizeof *Ib);
        for (uint64_t h = 0; h < K; h++) {
            y[h] = pinhole_rng_uniform(&rng, 1000);
            in[h] = (double)y[h];
            b[h] = pinhole_rng_unit(&rng) - 0.5;
        }
        brute_reconstruct(&g, y, T);
        cr_assert_eq(pinhole_pgr_incidence(&g, in, out), PINHOLE_OK);
        for (uint64_t v = 0; v < K; v++)
            cr_assert_eq(out[v], (double)T[v], "q=%u t=%u v=%llu: %g vs %llu", g.q, g.t,
                         (unsigned long long)v, out[v], (unsigned long long)T[v]);
        /* <I a, b> = <a, I b>: the product is its own transpose */
        for (uint64_t h = 0; h < K; h++)
            in[h] = pinhole_rng_unit(&rng) - 0.5;
        cr_assert_eq(pinhole_pgr_incidence(&g, in, out), PINHOLE_OK);
        cr_assert_eq(pinhole_pgr_incidence(&g, b, Ib), PINHOLE_OK);
        double l = 0, r = 0;
        for (uint64_t h = 0; h < K; h++)
            l += out[h] * b[h], r += in[h] * Ib[h];
        cr_assert(fabs(l - r) <= 1e-12 * (double)K, "q=%u t=%u: %.17g vs %.17g", g.q, g.t, l, r);
        free(y), free(T), free(in), free(out), free(b), free(Ib);
        pinhole_pgr_free(&g);
    }
}

/* The projection's threshold by bisection on theta: sum max(u - theta, 0) = n. */
static double bisect_theta(const double *u, uint64_t k, double n)
{
    double lo = u[0], hi = u[0];
    for (uint64_t i = 0; i < k; i++)
        lo = u[i] < lo ? u[i] : lo, hi = u[i] > hi ? u[i] : hi;
    lo -= n / (double)k + 1; /* sum >= n here */
    for (int it = 0; it < 2000 && lo < hi; it++) {
        const double mid = 0.5 * (lo + hi);
        if (mid == lo || mid == hi)
            break;
        double s = 0;
        for (uint64_t i = 0; i < k; i++)
            s += u[i] > mid ? u[i] - mid : 0;
        if (s > n)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

Test(consistency, projection_kkt_and_bisection)
{
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 3);
    for (int trial = 0; trial < 200; trial++) {
        const uint64_t k = 1 + pinhole_rng_uniform(&rng, 300);
        const double n = 1 + 1000 * pinhole_rng_unit(&rng);
        double *u = malloc(k * sizeof *u), *x = malloc(k * sizeof *x);
        for (uint64_t i = 0; i < k; i++) /* estimates around n/k with noise, many negative */
            u[i] = (n / (double)k) * (4 * pinhole_rng_unit(&rng) - 2) * (trial % 3 + 1);
        double theta;
        cr_assert_eq(pinhole_simplex_project(u, k, n, x, &theta), PINHOLE_OK);
        double sum = 0;
        for (uint64_t i = 0; i < k; i++) {
            cr_assert(x[i] >= 0);
            sum += x[i];
            /* KKT: x_i = u_i - theta where positive, u_i <= theta where zero */
            if (x[i] > 0)
                cr_assert(fabs(x[i] - (u[i] - theta)) <= 1e-12 * n);
            else
                cr_assert(u[i] <= theta + 1e-12 * n);
        }
        cr_assert(fabs(sum - n) <= 1e-12 * n, "sum %.17g n %.17g", sum, n);
        const double tb = bisect_theta(u, k, n);
        for (uint64_t i = 0; i < k; i++) {
            const double xb = u[i] > tb ? u[i] - tb : 0;
            cr_assert(fabs(x[i] - xb) <= 1e-12 * (n > 1 ? n : 1), "trial %d: %.17g vs %.17g", trial,
                      x[i], xb);
        }
        /* in place gives the same */
        double *w = malloc(k * sizeof *w);
        memcpy(w, u, k * sizeof *w);
        cr_assert_eq(pinhole_simplex_project(w, k, n, w, NULL), PINHOLE_OK);
        cr_assert_eq(memcmp(w, x, k * sizeof *w), 0);
        free(u), free(x), free(w);
    }
}

Test(consistency, projection_is_identity_inside)
{
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 4);
    for (int trial = 0; trial < 100; trial++) {
        const uint64_t k = 1 + pinhole_rng_uniform(&rng, 500);
        double *u = malloc(k * sizeof *u), *x = malloc(k * sizeof *x), n = 0;
        for (uint64_t i = 0; i < k; i++) { /* multiples of 1/8 (some 0): sums are exact */
            u[i] = pinhole_rng_uniform(&rng, 4) == 0 ? 0 : pinhole_rng_uniform(&rng, 80000) / 8.0;
            n += u[i];
        }
        if (n == 0)
            u[0] = n = 1;
        cr_assert_eq(pinhole_simplex_project(u, k, n, x, NULL), PINHOLE_OK);
        for (uint64_t i = 0; i < k; i++)
            cr_assert_eq(x[i], u[i], "trial %d item %llu: %.17g vs %.17g", trial,
                         (unsigned long long)i, x[i], u[i]);
        free(u), free(x);
    }
}

Test(consistency, projection_edge_cases_and_errors)
{
    double u[4] = {3, 3, 3, 3}, x[4] = {7, 7, 7, 7};
    cr_assert_eq(pinhole_simplex_project(u, 4, 2, x, NULL), PINHOLE_OK);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(x[i], 0.5);
    cr_assert_eq(pinhole_simplex_project(u, 4, 0, x, NULL), PINHOLE_OK);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(x[i], 0);
    double one = -5, xo;
    cr_assert_eq(pinhole_simplex_project(&one, 1, 9, &xo, NULL), PINHOLE_OK);
    cr_assert_eq(xo, 9);
    double big[3] = {1e300, -1e300, 5}, xb[3];
    cr_assert_eq(pinhole_simplex_project(big, 3, 1, xb, NULL), PINHOLE_OK);
    cr_assert(xb[1] == 0 && xb[2] == 0 && xb[0] >= 0);
    double huge[2] = {1.5e308, 1.5e308};
    cr_assert_eq(pinhole_simplex_project(huge, 2, 1, xb, NULL), PINHOLE_EOVERFLOW);

    double bad[3] = {1, NAN, 2}, keep[3] = {4, 5, 6};
    cr_assert_eq(pinhole_simplex_project(bad, 3, 1, keep, NULL), PINHOLE_EINVAL);
    bad[1] = INFINITY;
    cr_assert_eq(pinhole_simplex_project(bad, 3, 1, keep, NULL), PINHOLE_EINVAL);
    bad[1] = -INFINITY;
    cr_assert_eq(pinhole_simplex_project(bad, 3, 1, keep, NULL), PINHOLE_EINVAL);
    cr_assert(keep[0] == 4 && keep[1] == 5 && keep[2] == 6, "nothing written on error");
    cr_assert_eq(pinhole_simplex_project(u, 4, -1, x, NULL), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_simplex_project(u, 4, NAN, x, NULL), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_simplex_project(u, 0, 1, x, NULL), PINHOLE_EINVAL);
}

/* Report counts y[0..K) of n users with values drawn from weights w[0..k) (exact PGR randomizer).
 */
static void draw_reports(const pinhole_pgr *g, const double *w, uint64_t n, uint64_t seed,
                         uint64_t *y, uint64_t *truth)
{
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    double tot = 0;
    for (uint64_t v = 0; v < g->k; v++)
        tot += w[v];
    memset(y, 0, g->K * sizeof *y);
    memset(truth, 0, g->k * sizeof *truth);
    for (uint64_t i = 0; i < n; i++) {
        double u = pinhole_rng_unit(&rng) * tot;
        uint64_t v = 0;
        while (v + 1 < g->k && u >= w[v])
            u -= w[v++];
        uint64_t rep;
        cr_assert_eq(pinhole_pgr_encode(g, v, &rng, &rep), PINHOLE_OK);
        y[rep]++;
        truth[v]++;
    }
}

Test(consistency, loglik_matches_dense_channel, .init = setup)
{
    pinhole_pgr g;
    cr_assert_eq(pinhole_pgr_init(&g, 30, 1.5, 3, 4), PINHOLE_OK); /* K = 40, 10 padding points */
    uint64_t y[40], T[40];
    double x[30], alpha, beta;
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 5);
    for (int i = 0; i < 40; i++)
        y[i] = pinhole_rng_uniform(&rng, 50);
    y[5] = 1000; /* counts past the grouped classes (the log-likelihood's per-term path) */
    y[7] = 256;
    y[8] = 255;
    for (int v = 0; v < 30; v++)
        x[v] = 1 + pinhole_rng_uniform(&rng, 20);
    pinhole_pgr_channel(&g, &alpha, &beta);
    /* columns of the channel sum to one */
    cr_assert(fabs(alpha * (double)(g.K - g.c_set) + beta * (double)g.c_set - 1) < 1e-15);
    double L;
    cr_assert_eq(pinhole_pgr_loglik(&g, y, x, &L), PINHOLE_OK);
    /* dense: P[h | v] from the incidence found by brute force, one unit vector at a time */
    double sx = 0, ref = 0;
    for (int v = 0; v < 30; v++)
        sx += x[v];
    double pi[40] = {0};
    for (int v = 0; v < 30; v++) {
        uint64_t e[40] = {0};
        e[v] = 1;
        pinhole_pgr gf;
        init_full(&gf, 3, 4, 1.5);
        brute_reconstruct(&gf, e, T); /* T[h] = [v on h] by symmetry */
        pinhole_pgr_free(&gf);
        for (int h = 0; h < 40; h++)
            pi[h] += x[v] / sx * (T[h] ? beta : alpha);
    }
    for (int h = 0; h < 40; h++)
        ref += (double)y[h] * log(pi[h]);
    cr_assert(fabs(L - ref) <= 1e-12 * fabs(ref), "%.17g vs %.17g", L, ref);
    x[3] = -1;
    cr_assert_eq(pinhole_pgr_loglik(&g, y, x, &L), PINHOLE_EINVAL);
    pinhole_pgr_free(&g);
}

Test(consistency, em_loglik_never_decreases_and_beats_feasible_points, .init = setup)
{
    pinhole_pgr g;
    cr_assert_eq(pinhole_pgr_init(&g, 100, 1.0, 5, 4), PINHOLE_OK); /* K = 156 */
    double w[100];
    for (int v = 0; v < 100; v++)
        w[v] = v < 10 ? 50 : (v % 7 == 0 ? 0 : 1); /* zipf-like with empty items */
    uint64_t *y = malloc(g.K * sizeof *y), truth[100], T[100];
    draw_reports(&g, w, 20000, 21, y, truth);
    enum { IT = 400 };
    for (int plain = 0; plain < 2; plain++) {
        double x[100], trace[IT + 1];
        pinhole_mle_options o = {.max_iterations = IT, .tolerance = 1e-15, .plain_em = plain};
        pinhole_mle_result r;
        cr_assert_eq(pinhole_pgr_mle(&g, y, &o, x, trace, &r, NULL), PINHOLE_OK);
        cr_assert_eq(r.iterations, IT);
        for (int i = 0; i < IT; i++)
            cr_assert(trace[i + 1] >= trace[i] - 1e-12 * fabs(trace[i]), "step %d: %.17g -> %.17g",
                      i, trace[i], trace[i + 1]);
        cr_assert(trace[IT] > trace[0]);
        cr_assert_eq(trace[IT], r.loglik);
        double sum = 0;
        for (int v = 0; v < 100; v++) {
            cr_assert(x[v] >= 0);
            sum += x[v];
        }
        cr_assert(fabs(sum - 20000) < 1e-8);
        /* the result beats the truth and the projected unbiased estimate, and the gap certifies it
         */
        double xt[100], est[100], Lt, Lp;
        for (int v = 0; v < 100; v++)
            xt[v] = (double)truth[v];
        cr_assert_eq(pinhole_pgr_reconstruct(&g, y, T, PINHOLE_PGR_AUTO), PINHOLE_OK);
        cr_assert_eq(pinhole_pgr_estimate(&g, T, 20000, est), PINHOLE_OK);
        cr_assert_eq(pinhole_simplex_project(est, 100, 20000, est, NULL), PINHOLE_OK);
        cr_assert_eq(pinhole_pgr_loglik(&g, y, xt, &Lt), PINHOLE_OK);
        cr_assert_eq(pinhole_pgr_loglik(&g, y, est, &Lp), PINHOLE_OK);
        /* (plain EM is slow near the boundary: 400 steps beat the truth but not yet always the
         * projection; the adaptive steps beat both) */
        cr_assert(r.loglik >= Lt && (plain || r.loglik >= Lp), "%.17g %.17g %.17g", r.loglik, Lt,
                  Lp);
        /* the gap after 20 iterations bounds what the 400 iterations still gained */
        double x20[100];
        pinhole_mle_options o20 = {.max_iterations = 20, .tolerance = 1e-15, .plain_em = plain};
        pinhole_mle_result r20;
        cr_assert_eq(pinhole_pgr_mle(&g, y, &o20, x20, NULL, &r20, NULL), PINHOLE_OK);
        cr_assert_eq(r20.loglik, trace[20]);
        cr_assert(r.loglik - r20.loglik <= r20.gap, "%g > %g", r.loglik - r20.loglik, r20.gap);
        cr_assert(r.gap < r20.gap);
    }
    free(y);
    pinhole_pgr_free(&g);
}

Test(consistency, em_equals_unbiased_estimate_inside_simplex, .init = setup)
{
    /* k = K: the model is saturated and M invertible, so an unbiased estimate inside the simplex
     * is the maximum-likelihood histogram */
    static const uint32_t qt[][2] = {{3, 3}, {2, 4}, {4, 3}};
    for (int c = 0; c < 3; c++) {
        pinhole_pgr g;
        init_full(&g, qt[c][0], qt[c][1], 3.0);
        const uint64_t K = g.K, n = 200000;
        double *w = malloc(K * sizeof *w), *est = malloc(K * sizeof *est),
               *x = malloc(K * sizeof *x);
        uint64_t *y = malloc(K * sizeof *y), *truth = malloc(K * sizeof *truth);
        uint64_t *T = malloc(K * sizeof *T);
        for (uint64_t v = 0; v < K; v++)
            w[v] = 1 + (double)(v % 4);
        draw_reports(&g, w, n, 100 + c, y, truth);
        cr_assert_eq(pinhole_pgr_reconstruct(&g, y, T, PINHOLE_PGR_AUTO), PINHOLE_OK);
        cr_assert_eq(pinhole_pgr_estimate(&g, T, n, est), PINHOLE_OK);
        double sum = 0;
        for (uint64_t v = 0; v < K; v++) {
            cr_assert(est[v] > 0, "precondition: estimate inside the simplex");
            sum += est[v];
        }
        cr_assert(fabs(sum - (double)n) < 1e-6);
        pinhole_mle_options o = {.max_iterations = 5000, .tolerance = 1e-13};
        pinhole_mle_result r;
        cr_assert_eq(pinhole_pgr_mle(&g, y, &o, x, NULL, &r, NULL), PINHOLE_OK);
        cr_assert(r.converged, "q=%u t=%u: gap %g after %u", g.q, g.t, r.gap, r.iterations);
        for (uint64_t v = 0; v < K; v++)
            cr_assert(fabs(x[v] - est[v]) <= 1e-6 * (double)n, "q=%u t=%u v=%llu: %.10g vs %.10g",
                      g.q, g.t, (unsigned long long)v, x[v], est[v]);
        free(w), free(est), free(x), free(y), free(truth), free(T);
        pinhole_pgr_free(&g);
    }
}

static int cancel_at_3(void *ctx, double fraction)
{
    (void)fraction;
    return ++*(int *)ctx >= 3;
}

Test(consistency, em_errors_and_cancel, .init = setup)
{
    pinhole_pgr g;
    cr_assert_eq(pinhole_pgr_init(&g, 10, 2.0, 3, 3), PINHOLE_OK);
    uint64_t y[13] = {0};
    double x[10], init[10];
    cr_assert_eq(pinhole_pgr_mle(&g, y, NULL, x, NULL, NULL, NULL), PINHOLE_ENOREPORTS);
    for (int h = 0; h < 13; h++)
        y[h] = 10 + h;
    for (int v = 0; v < 10; v++)
        init[v] = 1;
    init[4] = 0;
    pinhole_mle_options o = {.init = init};
    cr_assert_eq(pinhole_pgr_mle(&g, y, &o, x, NULL, NULL, NULL), PINHOLE_EINVAL);
    init[4] = NAN;
    cr_assert_eq(pinhole_pgr_mle(&g, y, &o, x, NULL, NULL, NULL), PINHOLE_EINVAL);
    for (int v = 0; v < 10; v++)
        init[v] = 1e308;
    cr_assert_eq(pinhole_pgr_mle(&g, y, &o, x, NULL, NULL, NULL), PINHOLE_EINVAL);
    int calls = 0;
    pinhole_progress p = {cancel_at_3, &calls};
    pinhole_mle_options o2 = {.max_iterations = 100, .tolerance = 1e-300};
    cr_assert_eq(pinhole_pgr_mle(&g, y, &o2, x, NULL, NULL, &p), PINHOLE_ECANCELED);
    cr_assert_eq(calls, 3);
    double s = 0;
    for (int v = 0; v < 10; v++) {
        cr_assert(x[v] >= 0);
        s += x[v];
    }
    cr_assert(fabs(s - 208) < 1e-9, "a cancelled run still leaves a histogram");
    pinhole_pgr_free(&g);
}

Test(consistency, mle_through_a_config, .init = setup)
{
    pinhole_config c;
    pinhole_config_params p = {
        .mechanism = PINHOLE_MECH_PGR, .k = 10, .epsilon = 2, .q = 3, .t = 3};
    cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_OK);
    uint64_t y[13];
    for (int h = 0; h < 13; h++)
        y[h] = 5 + 3 * (uint64_t)h;
    double a[10], b[10];
    pinhole_mle_options o = {.max_iterations = 50};
    cr_assert_eq(pinhole_mle(&c, y, &o, a, NULL, NULL, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_pgr_mle(&c.u.pgr, y, &o, b, NULL, NULL, NULL), PINHOLE_OK);
    cr_assert_eq(memcmp(a, b, sizeof a), 0);
    c.mechanism = (pinhole_mechanism_id)99;
    cr_assert_eq(pinhole_mle(&c, y, &o, a, NULL, NULL, NULL), PINHOLE_EUNSUPPORTED);
    c.mechanism = PINHOLE_MECH_PGR;
    pinhole_config_free(&c);
}

/* f = 1/2 (x1^2 + kappa x2^2) */
static double quad_value(void *ctx, const double *x)
{
    return 0.5 * (x[0] * x[0] + *(double *)ctx * x[1] * x[1]);
}
static void quad_grad(void *ctx, const double *x, double *g)
{
    g[0] = x[0], g[1] = *(double *)ctx * x[1];
}
static double quad_line(void *ctx, const double *x, const double *g)
{
    (void)x;
    const double kappa = *(double *)ctx;
    return (g[0] * g[0] + g[1] * g[1]) / (g[0] * g[0] + kappa * g[1] * g[1]);
}

Test(descent, exact_line_search_rate_on_quadratic)
{
    static const double kappas[] = {10, 2, 100};
    for (int c = 0; c < 3; c++) {
        double kappa = kappas[c];
        const double rate = ((kappa - 1) / (kappa + 1)) * ((kappa - 1) / (kappa + 1));
        if (kappa == 10)
            cr_assert(fabs(rate - 0.669421487603305785) < 1e-15, "%.17g", rate);
        for (int numeric = 0; numeric < 2; numeric++) {
            pinhole_smooth_fn fn = {quad_value, quad_grad, numeric ? NULL : quad_line, &kappa};
            double x[2] = {kappa, 1}, trace[31];
            pinhole_gd_options o = {.max_iterations = 30, .gradient_tolerance = 1e-300};
            pinhole_gd_result r;
            cr_assert_eq(pinhole_gd_exact(&fn, 2, x, &o, trace, &r, NULL), PINHOLE_OK);
            cr_assert_eq(r.iterations, 30);
            for (int i = 0; i < 30; i++) {
                const double ratio = trace[i + 1] / trace[i];
                cr_assert(fabs(ratio - rate) <= (numeric ? 1e-9 : 1e-12),
                          "kappa %g %s step %d: ratio %.17g, expected %.17g", kappa,
                          numeric ? "numeric" : "closed form", i, ratio, rate);
            }
        }
    }
}

static double rosen_value(void *ctx, const double *x)
{
    (void)ctx;
    return 100 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0]) + (1 - x[0]) * (1 - x[0]);
}
static void rosen_grad(void *ctx, const double *x, double *g)
{
    (void)ctx;
    g[0] = -400 * x[0] * (x[1] - x[0] * x[0]) - 2 * (1 - x[0]);
    g[1] = 200 * (x[1] - x[0] * x[0]);
}

Test(descent, converges_on_rosenbrock_and_refuses_bad_input)
{
    pinhole_smooth_fn fn = {rosen_value, rosen_grad, NULL, NULL};
    double x[2] = {-1.2, 1};
    pinhole_gd_options o = {.max_iterations = 100000, .gradient_tolerance = 1e-6};
    pinhole_gd_result r;
    cr_assert_eq(pinhole_gd_exact(&fn, 2, x, &o, NULL, &r, NULL), PINHOLE_OK);
    cr_assert(r.converged, "gradient %g after %u", r.gradient_norm, r.iterations);
    cr_assert(fabs(x[0] - 1) < 1e-4 && fabs(x[1] - 1) < 1e-4, "(%g, %g)", x[0], x[1]);
    double bad[2] = {NAN, 0};
    cr_assert_eq(pinhole_gd_exact(&fn, 2, bad, &o, NULL, &r, NULL), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_gd_exact(&fn, 0, x, &o, NULL, &r, NULL), PINHOLE_EINVAL);
}
