/* stream: SGD over per-bucket estimates, against the batch estimate and closed forms. */
#include "common/error.h"
#include "server/analytics/consistency.h"
#include "server/analytics/noise.h"
#include "server/analytics/stream.h"
#include "server/estimate/pgr.h"

#include <criterion/criterion.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
}

Test(stream, running_mean_equals_batch_estimate, .init = setup)
{
    pinhole_pgr g;
    cr_assert_eq(pinhole_pgr_init(&g, 200, 2.0, 0, 0), PINHOLE_OK);
    const uint64_t K = g.K, k = g.k;
    enum { B = 12 };
    uint64_t *y = malloc(K * sizeof *y), *pool = calloc(K, sizeof *pool),
             *T = malloc(k * sizeof *T);
    double *h = malloc(k * sizeof *h), *hv = malloc(k * sizeof *hv), *x = malloc(k * sizeof *x);
    double *var = malloc(k * sizeof *var), *batch = malloc(k * sizeof *batch);
    double *var_sum = calloc(k, sizeof *var_sum);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 31);
    pinhole_stream s;
    cr_assert_eq(pinhole_stream_init(&s, k, 0, 0, x, var), PINHOLE_OK);
    uint64_t ntot = 0;
    for (int b = 0; b < B; b++) {
        uint64_t n = 0;
        for (uint64_t j = 0; j < K; j++) {
            y[j] = pinhole_rng_uniform(&rng, 40 + 10 * b);
            pool[j] += y[j];
            n += y[j];
        }
        ntot += n;
        cr_assert_eq(pinhole_pgr_reconstruct(&g, y, T, PINHOLE_PGR_AUTO), PINHOLE_OK);
        cr_assert_eq(pinhole_pgr_estimate(&g, T, n, h), PINHOLE_OK);
        for (uint64_t v = 0; v < k; v++) {
            hv[v] = pinhole_pgr_variance(&g, (double)n, h[v] > 0 ? h[v] : 0);
            var_sum[v] += hv[v];
        }
        cr_assert_eq(pinhole_stream_update(&s, h, hv, (double)n), PINHOLE_OK);
    }
    cr_assert_eq(s.steps, B);
    cr_assert(fabs(s.n - (double)ntot / B) <= 1e-12 * s.n);
    /* the pooled counts' unbiased estimate, per bucket */
    cr_assert_eq(pinhole_pgr_reconstruct(&g, pool, T, PINHOLE_PGR_AUTO), PINHOLE_OK);
    cr_assert_eq(pinhole_pgr_estimate(&g, T, ntot, batch), PINHOLE_OK);
    for (uint64_t v = 0; v < k; v++) {
        const double want = batch[v] / B;
        cr_assert(fabs(x[v] - want) <= 1e-12 * (fabs(want) > 1 ? fabs(want) : 1),
                  "item %llu: %.17g vs %.17g", (unsigned long long)v, x[v], want);
        const double wv = var_sum[v] / (B * B); /* variance of a mean of independent buckets */
        cr_assert(fabs(var[v] - wv) <= 1e-12 * wv, "var %.17g vs %.17g", var[v], wv);
    }
    free(y), free(pool), free(T), free(h), free(hv), free(x), free(var), free(batch), free(var_sum);
    pinhole_pgr_free(&g);
}

Test(stream, noiseless_error_contracts_by_one_minus_eta)
{
    enum { K = 64, STEPS = 40 };
    double a[K], b[K], x[K], prev[K];
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 32);
    static const double etas[] = {0.3, 0.05, 0.9, 1.0};
    for (int c = 0; c < 4; c++) {
        const double eta = etas[c];
        for (int i = 0; i < K; i++)
            a[i] = 1000 * pinhole_rng_unit(&rng) - 100, b[i] = 500 * pinhole_rng_unit(&rng);
        pinhole_stream s;
        cr_assert_eq(pinhole_stream_init(&s, K, eta, 0, x, NULL), PINHOLE_OK);
        cr_assert_eq(pinhole_stream_update(&s, a, NULL, 10), PINHOLE_OK);
        cr_assert_eq(memcmp(x, a, sizeof a), 0, "the first step takes the first bucket");
        for (int t = 0; t < STEPS; t++) {
            memcpy(prev, x, sizeof x);
            cr_assert_eq(pinhole_stream_update(&s, b, NULL, 10), PINHOLE_OK);
            for (int i = 0; i < K; i++) {
                const double e0 = prev[i] - b[i], e1 = x[i] - b[i];
                cr_assert(fabs(e1 - (1 - eta) * e0) <= 1e-12 * (fabs(b[i]) + fabs(e0)),
                          "eta %g step %d item %d: %.17g vs %.17g", eta, t, i, e1, (1 - eta) * e0);
            }
        }
    }
}

Test(stream, stationary_variance)
{
    enum { D = 20000, STEPS = 400 };
    const double eta = 0.1, sigma = 3, mu = 100;
    double *x = malloc(D * sizeof *x), *var = malloc(D * sizeof *var);
    double *h = malloc(D * sizeof *h), *hv = malloc(D * sizeof *hv);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 33);
    pinhole_stream s;
    cr_assert_eq(pinhole_stream_init(&s, D, eta, 0, x, var), PINHOLE_OK);
    for (int i = 0; i < D; i++)
        hv[i] = sigma * sigma;
    for (int t = 0; t < STEPS; t++) {
        pinhole_noise_fill(&rng, PINHOLE_NOISE_GAUSSIAN, h, D);
        for (int i = 0; i < D; i++)
            h[i] = mu + sigma * h[i];
        cr_assert_eq(pinhole_stream_update(&s, h, hv, 1000), PINHOLE_OK);
    }
    const double want = eta * sigma * sigma / (2 - eta);
    double m = 0, ss = 0;
    for (int i = 0; i < D; i++)
        m += x[i];
    m /= D;
    for (int i = 0; i < D; i++)
        ss += (x[i] - m) * (x[i] - m);
    const double emp = ss / (D - 1);
    /* across D independent items the sample variance has relative sd sqrt(2/D) = 1%: 5% is 5 sd */
    cr_assert(fabs(emp / want - 1) < 0.05, "empirical %g vs eta sigma^2/(2 - eta) = %g", emp, want);
    cr_assert(fabs(m - mu) < 5 * sqrt(want / D), "mean %g", m);
    for (int i = 0; i < D; i++)
        cr_assert(fabs(var[i] - want) <= 1e-12 * want, "tracked %.17g vs %.17g", var[i], want);
    free(x), free(var), free(h), free(hv);
}

Test(stream, projection_each_step)
{
    enum { K = 30 };
    double x[K], h[K], ref[K];
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 34);
    pinhole_stream s;
    cr_assert_eq(pinhole_stream_init(&s, K, 0.25, 1, x, NULL), PINHOLE_OK);
    double n_ref = 0;
    for (int t = 0; t < 20; t++) {
        const double n = 500 + 10 * t;
        for (int i = 0; i < K; i++)
            h[i] = n / K * (3 * pinhole_rng_unit(&rng) - 1);
        const double eta = t == 0 ? 1 : 0.25;
        for (int i = 0; i < K; i++)
            ref[i] = t == 0 ? h[i] : ref[i] - eta * (ref[i] - h[i]);
        n_ref = t == 0 ? n : n_ref + eta * (n - n_ref);
        cr_assert_eq(pinhole_simplex_project(ref, K, n_ref, ref, NULL), PINHOLE_OK);
        cr_assert_eq(pinhole_stream_update(&s, h, NULL, n), PINHOLE_OK);
        double sum = 0;
        for (int i = 0; i < K; i++) {
            cr_assert(x[i] >= 0);
            cr_assert(fabs(x[i] - ref[i]) <= 1e-12 * n);
            sum += x[i];
        }
        cr_assert(fabs(sum - n_ref) <= 1e-9 * n_ref, "sum %.17g n %.17g", sum, n_ref);
    }
}

Test(stream, errors_leave_state_unchanged)
{
    double x[3], var[3], h[3] = {1, 2, 3}, hv[3] = {1, 1, 1};
    pinhole_stream s;
    cr_assert_eq(pinhole_stream_init(&s, 3, 1.5, 0, x, var), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_stream_init(&s, 3, -0.1, 0, x, var), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_stream_init(&s, 3, NAN, 0, x, var), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_stream_init(&s, 0, 0.5, 0, x, var), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_stream_init(&s, 3, 0.5, 1, x, var), PINHOLE_OK);
    cr_assert_eq(pinhole_stream_update(&s, h, hv, 6), PINHOLE_OK);
    double x0[3], v0[3];
    memcpy(x0, x, sizeof x), memcpy(v0, var, sizeof var);
    const double bad_h[3] = {1, INFINITY, 3}, bad_v[3] = {1, -1, 1};
    cr_assert_eq(pinhole_stream_update(&s, bad_h, hv, 6), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_stream_update(&s, h, bad_v, 6), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_stream_update(&s, h, NULL, 6), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_stream_update(&s, h, hv, -1), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_stream_update(&s, h, hv, NAN), PINHOLE_EINVAL);
    cr_assert_eq(memcmp(x, x0, sizeof x), 0);
    cr_assert_eq(memcmp(var, v0, sizeof var), 0);
    cr_assert_eq(s.steps, 1);
}
