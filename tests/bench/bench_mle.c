/* The inline maximum-likelihood histogram of a PGR collection, as `GET
 * .../histogram?consistency=mle` computes it (pinhole_histogram_compute with the MLE capped at 200
 * steps and the query thread's kept workspace), timed without HTTP; and the accuracy of the MLE
 * against the projection and the unbiased estimate, for docs/analytics.md. One JSON line per run.
 * usage: bench_mle [--counts FILE] [--users N] [--epsilon E] [--iterations I] [--repeat R]
 *                  [--seed S]
 * Defaults: the SUBTLEX-US word counts (k = 74,286), 700,000 users drawn from them, epsilon 4,
 * 200 iterations (the inline cap), R = 3 runs (first and median wall time printed), seed 2026. */
#include "client/encode.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/rng.h"
#include "server/analytics/consistency.h"
#include "server/analytics/histogram.h"
#include "server/data/countfile.h"
#include "server/estimate/estimate.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* sum over items of |x - truth| */
static double l1(const double *x, const uint64_t *truth, uint64_t k)
{
    double s = 0;
    for (uint64_t v = 0; v < k; v++)
        s += fabs(x[v] - (double)truth[v]);
    return s;
}

/* mean of (x - truth)^2 over the items of order[0..m) */
static double mse_of(const double *x, const uint64_t *truth, const uint64_t *order, uint64_t m)
{
    double s = 0;
    for (uint64_t i = 0; i < m; i++) {
        const double d = x[order[i]] - (double)truth[order[i]];
        s += d * d;
    }
    return s / (double)m;
}

/* mean over items of (x - truth)^2 */
static double mse(const double *x, const uint64_t *truth, uint64_t k)
{
    double s = 0;
    for (uint64_t v = 0; v < k; v++)
        s += (x[v] - (double)truth[v]) * (x[v] - (double)truth[v]);
    return s / (double)k;
}

int main(int argc, char **argv)
{
    const char *path = PINHOLE_SOURCE_DIR "/data/subtlex-us.tsv";
    uint64_t users = 700000, seed = 2026;
    double eps = 4;
    unsigned iterations = 200, repeat = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--counts") == 0)
            path = v;
        else if (strcmp(a, "--users") == 0)
            users = strtoull(v, NULL, 10);
        else if (strcmp(a, "--epsilon") == 0)
            eps = strtod(v, NULL);
        else if (strcmp(a, "--iterations") == 0)
            iterations = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--repeat") == 0)
            repeat = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--seed") == 0)
            seed = strtoull(v, NULL, 10);
        else {
            fprintf(stderr, "bench_mle: unknown option %s\n", a);
            return 2;
        }
    }
    if (sodium_init() < 0 || users == 0 || repeat == 0 || repeat > 100)
        return 2;
    pinhole_countfile cf;
    uint64_t line = 0;
    int rc = pinhole_countfile_read(path, &cf, &line);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "bench_mle: %s: %s (line %llu)\n", path, pinhole_strerror(rc),
                (unsigned long long)line);
        return 1;
    }
    const uint64_t k = cf.k;
    pinhole_config c;
    const pinhole_config_params par = {.mechanism = PINHOLE_MECH_PGR, .k = k, .epsilon = eps};
    if ((rc = pinhole_config_init(&c, &par)) != PINHOLE_OK) {
        fprintf(stderr, "bench_mle: %s\n", pinhole_strerror(rc));
        return 1;
    }
    uint64_t *cum = malloc(k * sizeof *cum), *truth = calloc(k, sizeof *truth);
    uint64_t *counts = calloc(c.counts_len, sizeof *counts),
             *values = malloc(4096 * sizeof *values);
    uint8_t *payloads = malloc(4096 * 8);
    double *proj = malloc(k * sizeof *proj);
    if (!cum || !truth || !counts || !values || !payloads || !proj)
        return 1;
    uint64_t acc = 0;
    for (uint64_t v = 0; v < k; v++)
        cum[v] = acc += cf.count[v];
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    for (uint64_t i0 = 0; i0 < users && rc == PINHOLE_OK; i0 += 4096) {
        const size_t m = users - i0 < 4096 ? (size_t)(users - i0) : 4096;
        for (size_t j = 0; j < m; j++) {
            values[j] = pinhole_countfile_draw(cum, k, pinhole_rng_uniform64(&rng, cf.total));
            truth[values[j]]++;
        }
        rc = pinhole_encode_batch(&c, values, m, &rng, payloads, 8);
        for (size_t j = 0; j < m && rc == PINHOLE_OK; j++)
            rc = pinhole_accumulate(&c, payloads + 8 * j, c.payload_bytes, counts);
    }
    pinhole_pgr_workspace *ws = pinhole_pgr_workspace_new();
    double wall[100], cpu = 0;
    pinhole_histogram h = {0};
    for (unsigned r = 0; r < repeat && rc == PINHOLE_OK; r++) {
        pinhole_histogram_free(&h);
        const pinhole_histogram_options ho = {
            .consistency = PINHOLE_CONSISTENCY_MLE, .mle_iterations = iterations, .workspace = ws};
        const double t0 = pinhole_clock_mono(), c0 = pinhole_clock_cpu();
        rc = pinhole_histogram_compute(&c, counts, users, &ho, &h, NULL);
        wall[r] = pinhole_clock_mono() - t0;
        cpu = pinhole_clock_cpu() - c0;
    }
    if (rc == PINHOLE_OK)
        rc = pinhole_simplex_project(h.estimate, k, (double)users, proj, NULL);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "bench_mle: %s\n", pinhole_strerror(rc));
        return 1;
    }
    /* the 100 items with the largest true counts (the head an analyst reads first) */
    double *td = malloc(k * sizeof *td);
    uint64_t *order = malloc(k * sizeof *order);
    if (!td || !order)
        return 1;
    for (uint64_t v = 0; v < k; v++)
        td[v] = (double)truth[v];
    pinhole_estimate_rank(td, k, order);
    const uint64_t head = k < 100 ? k : 100;
    const double first = wall[0];
    qsort(wall, repeat, sizeof *wall, by_double);
    printf("{\"bench\":\"mle\",\"k\":%llu,\"epsilon\":%g,\"q\":%u,\"t\":%u,\"K\":%llu,"
           "\"users\":%llu,\"max_iterations\":%u,\"iterations\":%u,\"converged\":%s,"
           "\"gap\":%.4g,\"loglik\":%.10g,\"first_seconds\":%.4f,\"median_seconds\":%.4f,"
           "\"cpu_seconds\":%.4f,\"mse_unbiased\":%.6g,\"mse_projection\":%.6g,\"mse_mle\":%.6g,"
           "\"l1_projection\":%.6g,\"l1_mle\":%.6g,\"mse_head_projection\":%.6g,"
           "\"mse_head_mle\":%.6g}\n",
           (unsigned long long)k, eps, c.u.pgr.q, c.u.pgr.t, (unsigned long long)c.u.pgr.K,
           (unsigned long long)users, iterations, h.mle.iterations,
           h.mle.converged ? "true" : "false", h.mle.gap, h.mle.loglik, first, wall[repeat / 2],
           cpu, mse(h.estimate, truth, k), mse(proj, truth, k), mse(h.consistent, truth, k),
           l1(proj, truth, k), l1(h.consistent, truth, k), mse_of(proj, truth, order, head),
           mse_of(h.consistent, truth, order, head));
    free(td);
    free(order);
    pinhole_histogram_free(&h);
    pinhole_pgr_workspace_free(ws);
    free(cum);
    free(truth);
    free(counts);
    free(values);
    free(payloads);
    free(proj);
    pinhole_config_free(&c);
    pinhole_countfile_free(&cf);
    return 0;
}
