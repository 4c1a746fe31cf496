/* Benchmark of multi-attribute collections (docs/multi-attribute.md): a Gaussian copula population
 * of d ordinal attributes, every marginal and pairwise joint estimated by one sampled pair per
 * device (PGR over the pair's product domain) next to the baseline that splits epsilon across the
 * attributes (every attribute reported with epsilon/d, joints from products of the per-attribute
 * unbiased indicators), and the correlation matrix before and after repair. Then the Newton method
 * against Burer-Monteiro on the high-rank nearest-correlation case tridiag(-1, 2, -1).
 *
 *   ./build/tests/bench/bench_multi [devices (1e6)] [d (20)] [seed (2026)]
 *
 * One JSON line per epsilon and per solver run. Latent law: AR(1) Gaussian, corr(z_i, z_j) =
 * 0.8^|i-j|; attribute j has k_j = 2 + j mod 7 categories, cut at k_j - 1 points evenly spaced in
 * [-1.5, 1.5]. The truth is the population's own joints, marginals and score correlations. */
#include "client/pgr.h"
#include "common/clock.h"
#include "common/error.h"
#include "server/analytics/burer_monteiro.h"
#include "server/analytics/corr_repair.h"
#include "server/analytics/multi.h"
#include "server/analytics/ncm_newton.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DM PINHOLE_MULTI_DMAX

static uint32_t d, K[DM];
static uint64_t N;
static uint8_t *X; /* N x d values */

static void population(uint64_t seed)
{
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    uint32_t v[DM];
    for (uint64_t u = 0; u < N; u++) {
        pinhole_multi_copula_draw(d, K, 0.8, &rng, v);
        for (uint32_t j = 0; j < d; j++)
            X[u * d + j] = (uint8_t)v[j];
    }
}

/* truth: joint of each pair (pair order), marginals, score correlations (d x d) */
static double *tjoint[DM * (DM - 1) / 2], *tmarg[DM], *tcorr;

static void truth(const pinhole_multi *mc)
{
    for (uint32_t p = 0; p < mc->npairs; p++) {
        uint32_t j, l;
        pinhole_multi_pair(mc, p, &j, &l);
        tjoint[p] = calloc(K[j] * K[l], sizeof **tjoint);
        for (uint64_t u = 0; u < N; u++)
            tjoint[p][X[u * d + j] * K[l] + X[u * d + l]] += 1.0 / N;
    }
    double mu[DM] = {0}, sd[DM] = {0};
    for (uint32_t j = 0; j < d; j++) {
        tmarg[j] = calloc(K[j], sizeof **tmarg);
        for (uint64_t u = 0; u < N; u++)
            tmarg[j][X[u * d + j]] += 1.0 / N;
        double m2 = 0;
        for (uint32_t a = 0; a < K[j]; a++) {
            mu[j] += a * tmarg[j][a];
            m2 += a * a * tmarg[j][a];
        }
        sd[j] = sqrt(m2 - mu[j] * mu[j]);
    }
    tcorr = calloc(d * d, sizeof *tcorr);
    for (uint32_t p = 0; p < mc->npairs; p++) {
        uint32_t j, l;
        pinhole_multi_pair(mc, p, &j, &l);
        double c = 0;
        for (uint32_t a = 0; a < K[j]; a++)
            for (uint32_t b = 0; b < K[l]; b++)
                c += a * b * tjoint[p][a * K[l] + b];
        tcorr[j * d + l] = tcorr[l * d + j] = (c - mu[j] * mu[l]) / (sd[j] * sd[l]);
    }
    for (uint32_t j = 0; j < d; j++)
        tcorr[j * d + j] = 1;
}

static double l1(const double *a, const double *b, uint32_t n)
{
    double s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += fabs(a[i] - b[i]);
    return s;
}

static double frob(const double *a, const double *b, uint32_t n)
{
    double s = 0;
    for (uint32_t i = 0; i < n * n; i++)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s);
}

typedef struct errors {
    double marg_l1, marg_max, joint_l1, joint_max;
} errors;

static void table_errors(const pinhole_multi *mc, double *const *marg, double *const *joint,
                         errors *e)
{
    memset(e, 0, sizeof *e);
    for (uint32_t j = 0; j < d; j++) {
        const double x = l1(marg[j], tmarg[j], K[j]);
        e->marg_l1 += x / d;
        e->marg_max = fmax(e->marg_max, x);
    }
    for (uint32_t p = 0; p < mc->npairs; p++) {
        uint32_t j, l;
        pinhole_multi_pair(mc, p, &j, &l);
        const double x = l1(joint[p], tjoint[p], K[j] * K[l]);
        e->joint_l1 += x / mc->npairs;
        e->joint_max = fmax(e->joint_max, x);
    }
}

/* The baseline: every device reports every attribute with epsilon/d through PGR; marginals by the
 * PGR estimator, joints as (1/N) sum_u Y_ja(u) Y_lb(u) with Y_ja = (1[a in h_j] - r_j)/gap_j,
 * computed from the pair histograms of reported hyperplanes. Fills est (raw = joints, marg). */
static int baseline(const pinhole_multi *mc, double eps, uint64_t seed, pinhole_multi_est *est)
{
    pinhole_pgr g[DM];
    uint8_t *mask[DM]; /* cells on each hyperplane, as a bit mask (k <= 8) */
    for (uint32_t j = 0; j < d; j++) {
        if (pinhole_pgr_init(&g[j], K[j], eps / d, 0, 0) != PINHOLE_OK)
            return -1;
        mask[j] = calloc(g[j].K, 1);
        uint32_t hv[PINHOLE_T_MAX], pv[PINHOLE_T_MAX];
        for (uint64_t h = 0; h < g[j].K; h++) {
            pinhole_pspace_vector(&g[j].S, h, hv);
            for (uint32_t a = 0; a < K[j]; a++) {
                pinhole_pspace_vector(&g[j].S, a, pv);
                if (pinhole_pspace_dot(&g[j].F, hv, pv, g[j].t) == 0)
                    mask[j][h] |= (uint8_t)(1u << a);
            }
        }
    }
    uint16_t *H = malloc(N * d * sizeof *H);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    for (uint64_t u = 0; u < N; u++)
        for (uint32_t j = 0; j < d; j++) {
            uint64_t h;
            pinhole_pgr_encode(&g[j], X[u * d + j], &rng, &h);
            H[u * d + j] = (uint16_t)h;
        }
    memset(est, 0, sizeof *est);
    est->d = d;
    est->npairs = mc->npairs;
    memcpy(est->k, K, d * sizeof *K);
    est->t = calloc(mc->npairs, sizeof *est->t);
    double M[DM][8];
    for (uint32_t j = 0; j < d; j++) {
        uint64_t T[8] = {0};
        for (uint64_t u = 0; u < N; u++)
            for (uint32_t a = 0; a < K[j]; a++)
                T[a] += mask[j][H[u * d + j]] >> a & 1;
        est->marg[j] = malloc(K[j] * sizeof *est->marg[j]);
        est->marg_var[j] = calloc(K[j], sizeof *est->marg_var[j]);
        for (uint32_t a = 0; a < K[j]; a++) {
            M[j][a] = (double)T[a];
            est->marg[j][a] = (T[a] - g[j].r * N) / g[j].gap / N;
        }
    }
    for (uint32_t p = 0; p < mc->npairs; p++) {
        pinhole_multi_table *t = &est->t[p];
        pinhole_multi_pair(mc, p, &t->j, &t->l);
        const uint32_t j = t->j, l = t->l, Kj = (uint32_t)g[j].K, Kl = (uint32_t)g[l].K;
        t->rows = K[j];
        t->cols = K[l];
        t->n = N;
        uint64_t *hh = calloc((size_t)Kj * Kl, sizeof *hh);
        for (uint64_t u = 0; u < N; u++)
            hh[H[u * d + j] * Kl + H[u * d + l]]++;
        double C[64] = {0};
        for (uint32_t x = 0; x < Kj; x++)
            for (uint32_t y = 0; y < Kl; y++) {
                if (!hh[x * Kl + y])
                    continue;
                for (uint32_t a = 0; a < K[j]; a++)
                    for (uint32_t b = 0; b < K[l]; b++)
                        if ((mask[j][x] >> a & 1) && (mask[l][y] >> b & 1))
                            C[a * K[l] + b] += (double)hh[x * Kl + y];
            }
        free(hh);
        t->raw = malloc(K[j] * K[l] * sizeof *t->raw);
        for (uint32_t a = 0; a < K[j]; a++)
            for (uint32_t b = 0; b < K[l]; b++)
                t->raw[a * K[l] + b] =
                    (C[a * K[l] + b] - g[l].r * M[j][a] - g[j].r * M[l][b] + g[j].r * g[l].r * N) /
                    (g[j].gap * g[l].gap * N);
    }
    free(H);
    for (uint32_t j = 0; j < d; j++) {
        free(mask[j]);
        pinhole_pgr_free(&g[j]);
    }
    return 0;
}

static void run_epsilon(double eps, uint64_t seed)
{
    pinhole_multi mc;
    if (pinhole_multi_init(&mc, 1, d, K, PINHOLE_MECH_PGR, eps) != PINHOLE_OK)
        exit(1);
    if (!tcorr)
        truth(&mc);
    uint64_t **counts = malloc(mc.npairs * sizeof *counts);
    for (uint32_t p = 0; p < mc.npairs; p++)
        counts[p] = calloc(mc.pairs[p].mech.counts_len, sizeof **counts);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    uint32_t x[DM];
    double t0 = pinhole_clock_mono();
    for (uint64_t u = 0; u < N; u++) {
        for (uint32_t j = 0; j < d; j++)
            x[j] = X[u * d + j];
        if (pinhole_multi_simulate(&mc, x, &rng, counts) != PINHOLE_OK)
            exit(1);
    }
    const double t_sim = pinhole_clock_mono() - t0;
    pinhole_multi_est e;
    pinhole_multi_corr c;
    t0 = pinhole_clock_mono();
    if (pinhole_multi_estimate(&mc, (const uint64_t *const *)counts, &e) != PINHOLE_OK ||
        pinhole_multi_correlation(&e, NULL, NULL, &c) != PINHOLE_OK)
        exit(1);
    const double t_est = pinhole_clock_mono() - t0;
    double *raw[DM * (DM - 1) / 2], *joint[DM * (DM - 1) / 2];
    for (uint32_t p = 0; p < mc.npairs; p++) {
        raw[p] = e.t[p].raw;
        joint[p] = e.t[p].joint;
    }
    errors er, ec, eb;
    table_errors(&mc, e.marg, raw, &er);
    table_errors(&mc, e.marg, joint, &ec);
    double se_mean = 0;
    for (uint32_t i = 0; i < d * d; i++)
        se_mean += c.se[i] / (d * (d - 1.0));
    /* repairs: unweighted (Newton) and weighted by the standard errors (Burer-Monteiro) */
    double *xn = malloc(d * d * sizeof *xn), *xw = malloc(d * d * sizeof *xw);
    pinhole_repair_result rn, rw;
    pinhole_repair_options o = {.seed = 1};
    t0 = pinhole_clock_mono();
    if (pinhole_multi_repair(&c, 0, &o, xn, &rn) != PINHOLE_OK)
        exit(1);
    const double t_newton = pinhole_clock_mono() - t0;
    t0 = pinhole_clock_mono();
    if (pinhole_multi_repair(&c, 1, &o, xw, &rw) != PINHOLE_OK)
        exit(1);
    const double t_bm = pinhole_clock_mono() - t0;
    double lraw, ln, lw;
    pinhole_eig_min(d, c.r, &lraw, NULL);
    pinhole_eig_min(d, xn, &ln, NULL);
    pinhole_eig_min(d, xw, &lw, NULL);
    /* baseline */
    pinhole_multi_est b;
    pinhole_multi_corr bc;
    t0 = pinhole_clock_mono();
    if (baseline(&mc, eps, seed + 7, &b) != 0)
        exit(1);
    const double t_base = pinhole_clock_mono() - t0;
    for (uint32_t p = 0; p < mc.npairs; p++)
        raw[p] = b.t[p].raw;
    table_errors(&mc, b.marg, raw, &eb);
    const int bok = pinhole_multi_correlation(&b, NULL, NULL, &bc) == PINHOLE_OK;
    double *xb = malloc(d * d * sizeof *xb), lb = NAN, fb_rep = NAN;
    pinhole_repair_result rb;
    if (bok && pinhole_correlation_repair(d, bc.r, NULL, xb, &rb) == PINHOLE_OK) {
        pinhole_eig_min(d, bc.r, &lb, NULL);
        fb_rep = frob(xb, tcorr, d);
    }
    printf("{\"bench\":\"multi\",\"devices\":%llu,\"d\":%u,\"epsilon\":%g,"
           "\"sampled\":{\"marg_l1_mean\":%.5f,\"marg_l1_max\":%.5f,\"joint_l1_mean\":%.5f,"
           "\"joint_l1_max\":%.5f,\"joint_consistent_l1_mean\":%.5f,"
           "\"joint_consistent_l1_max\":%.5f,\"corr_frob\":%.5f,\"corr_lambda_min\":%.5f,"
           "\"corr_se_mean\":%.5f,\"newton_frob\":%.5f,\"newton_lambda_min\":%.3g,"
           "\"newton_gap\":%.3g,\"newton_iters\":%u,\"newton_s\":%.4f,\"weighted_frob\":%.5f,"
           "\"weighted_lambda_min\":%.3g,\"weighted_gap\":%.3g,\"weighted_s\":%.4f,"
           "\"simulate_s\":%.2f,\"estimate_s\":%.2f},"
           "\"split\":{\"marg_l1_mean\":%.5f,\"marg_l1_max\":%.5f,\"joint_l1_mean\":%.5f,"
           "\"joint_l1_max\":%.5f,\"corr_frob\":%.5f,\"corr_lambda_min\":%.5f,"
           "\"newton_frob\":%.5f,\"seconds\":%.2f}}\n",
           (unsigned long long)N, d, eps, er.marg_l1, er.marg_max, er.joint_l1, er.joint_max,
           ec.joint_l1, ec.joint_max, frob(c.r, tcorr, d), lraw, se_mean, frob(xn, tcorr, d), ln,
           rn.gap_bound, rn.iterations, t_newton, frob(xw, tcorr, d), lw, rw.gap_bound, t_bm, t_sim,
           t_est, eb.marg_l1, eb.marg_max, eb.joint_l1, eb.joint_max,
           bok ? frob(bc.r, tcorr, d) : NAN, lb, fb_rep, t_base);
    fflush(stdout);
    if (bok)
        pinhole_multi_corr_free(&bc);
    for (uint32_t p = 0; p < b.npairs; p++)
        b.t[p].raw = raw[p]; /* the baseline's own tables, freed below */
    pinhole_multi_est_free(&b);
    pinhole_multi_corr_free(&c);
    pinhole_multi_est_free(&e);
    free(xn), free(xw), free(xb);
    for (uint32_t p = 0; p < mc.npairs; p++)
        free(counts[p]);
    free(counts);
    pinhole_multi_clear(&mc);
}

/* tridiag(-1, 2, -1) of order n: Newton, then Burer-Monteiro with its defaults. */
static void high_rank(uint32_t n)
{
    double *a = calloc((size_t)n * n, sizeof *a), *x = malloc((size_t)n * n * sizeof *x);
    for (uint32_t i = 0; i < n; i++) {
        a[i * n + i] = 2;
        if (i + 1 < n)
            a[i * n + i + 1] = a[(i + 1) * n + i] = -1;
    }
    pinhole_ncm_result r;
    double t0 = pinhole_clock_mono(), c0 = pinhole_clock_cpu();
    const int rc = pinhole_ncm_newton(n, a, NULL, x, &r);
    printf("{\"bench\":\"ncm\",\"method\":\"newton\",\"n\":%u,\"rc\":%d,\"value\":%.10f,"
           "\"gap_bound\":%.3g,\"rank\":%u,\"iterations\":%u,\"cg\":%u,\"seconds\":%.3f,"
           "\"cpu_seconds\":%.3f}\n",
           n, rc, r.value, r.gap_bound, r.rank, r.iterations, r.cg_iterations,
           pinhole_clock_mono() - t0, pinhole_clock_cpu() - c0);
    fflush(stdout);
    pinhole_bm_options o = {.seed = 1};
    pinhole_bm_result b;
    t0 = pinhole_clock_mono(), c0 = pinhole_clock_cpu();
    const int rb = pinhole_nearest_correlation(n, a, &o, x, &b);
    printf("{\"bench\":\"ncm\",\"method\":\"burer_monteiro\",\"n\":%u,\"rc\":%d,\"value\":%.10f,"
           "\"gap_bound\":%.3g,\"rank\":%u,\"iterations\":%u,\"seconds\":%.3f,"
           "\"cpu_seconds\":%.3f}\n",
           n, rb, b.value, b.gap_bound, b.rank, b.iterations, pinhole_clock_mono() - t0,
           pinhole_clock_cpu() - c0);
    free(a), free(x);
}

int main(int argc, char **argv)
{
    N = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    d = argc > 2 ? (uint32_t)atoi(argv[2]) : 20;
    const uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 2026;
    if (N < 1000 || d < 2 || d > 64) {
        fprintf(stderr, "usage: bench_multi [devices >= 1000] [2 <= d <= 64] [seed]\n");
        return 2;
    }
    for (uint32_t j = 0; j < d; j++)
        K[j] = 2 + j % 7;
    X = malloc(N * d);
    if (!X || pinhole_init() != PINHOLE_OK)
        return 1;
    population(seed);
    const double eps[] = {1, 2, 4};
    for (int i = 0; i < 3; i++)
        run_epsilon(eps[i], seed + 100 * (i + 1));
    high_rank(200);
    free(X);
    return 0;
}
