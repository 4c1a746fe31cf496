/* `pinhole analyze multi`: a simulated multi-attribute collection (Gaussian copula devices, one
 * sampled pair each, PGR over the pair's product domain), its marginals, pairwise joints and
 * correlation matrix with intervals against the population's truth, and the nearest-correlation
 * repair with its certificate (docs/multi-attribute.md). Runs in pinhole-optimize (LAPACK). */
#include "common/error.h"
#include "common/rng.h"
#include "server/analytics/burer_monteiro.h"
#include "server/analytics/corr_repair.h"
#include "server/analytics/histogram.h"
#include "server/analytics/multi.h"
#include "server/cli/cli.h"
#include "server/cli/cli_options.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void multi_usage(FILE *f)
{
    fprintf(
        f,
        "usage: pinhole analyze multi [--categories K1,K2,...] [--devices N] [--epsilon E]\n"
        "                             [--rho R] [--seed S] [--unweighted] [--rank R]\n"
        "  --categories   categories of each ordinal attribute, 2..256 (default 2,3,4,5)\n"
        "  --devices N    simulated devices, each reporting one sampled pair (default 100000)\n"
        "  --epsilon E    epsilon of each device's report (default 2)\n"
        "  --rho R        latent AR(1) correlation of the Gaussian copula, |R| < 1 (default 0.7)\n"
        "  --seed S       seed (default 1)\n"
        "  --unweighted   repair in the plain Frobenius norm (Newton) instead of weighting by\n"
        "                 1/stderr^2 (Burer-Monteiro)\n"
        "  --rank R       repair to a rank-R factor model (Burer-Monteiro)\n");
}

static int parse_categories(const char *s, uint32_t *k, uint32_t *d)
{
    *d = 0;
    while (*s) {
        char *end;
        const unsigned long v = strtoul(s, &end, 10);
        if (end == s || v < 2 || v > PINHOLE_MULTI_KMAX || *d == PINHOLE_MULTI_DMAX ||
            (*end && *end != ','))
            return -1;
        k[(*d)++] = (uint32_t)v;
        s = *end ? end + 1 : end;
    }
    return *d >= 2 ? 0 : -1;
}

static void print_matrix(const char *title, const double *a, const double *b, uint32_t n)
{
    printf("%s\n", title);
    for (uint32_t i = 0; i < n; i++) {
        printf("  ");
        for (uint32_t j = 0; j < n; j++) {
            if (b)
                printf(" %6.3f(%5.3f)", a[i * n + j], b[i * n + j]);
            else
                printf(" %6.3f", a[i * n + j]);
        }
        printf("\n");
    }
}

static double frob(const double *a, const double *b, uint32_t n)
{
    double s = 0;
    for (uint32_t i = 0; i < n * n; i++)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s);
}

int cli_analyze_multi(int argc, char **argv)
{
    const char *cats = "2,3,4,5";
    uint64_t devices = 100000, seed = 1, rank = 0;
    double eps = 2, rho = 0.7;
    int unweighted = 0;
    const cli_opt opts[] = {CLI_OPT("categories", CLI_OPT_STRING, &cats),
                            CLI_OPT("devices", CLI_OPT_U64, &devices, .min = 100, .max = 100000000),
                            CLI_OPT("epsilon", CLI_OPT_EPSILON, &eps),
                            CLI_OPT("rho", CLI_OPT_DOUBLE, &rho),
                            CLI_OPT("seed", CLI_OPT_U64, &seed),
                            CLI_OPT("unweighted", CLI_OPT_FLAG, &unweighted),
                            CLI_OPT("rank", CLI_OPT_U64, &rank, .max = PINHOLE_MULTI_DMAX),
                            {0}};
    const cli_command cmd = {.name = "analyze multi", .opts = opts, .usage = multi_usage};
    const int p = cli_parse(&cmd, argc, argv);
    if (p != 0)
        return p > 0 ? CLI_OK : CLI_USAGE;
    uint32_t k[PINHOLE_MULTI_DMAX], d;
    if (parse_categories(cats, k, &d) != 0 || !(fabs(rho) < 1)) {
        fprintf(stderr, "pinhole analyze multi: --categories must list 2 to 64 integers in 2..256 "
                        "separated by commas, --rho lie in (-1, 1)\n");
        return CLI_USAGE;
    }
    pinhole_multi mc;
    int rc = pinhole_multi_init(&mc, 1, d, k, PINHOLE_MECH_PGR, eps);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "pinhole analyze multi: %s (a pair's k_j k_l must be <= 4096)\n",
                pinhole_strerror(rc));
        return CLI_USAGE;
    }
    uint64_t **counts = calloc(mc.npairs, sizeof *counts);
    double **truth = calloc(mc.npairs, sizeof *truth);
    for (uint32_t q = 0; q < mc.npairs; q++) {
        uint32_t j, l;
        pinhole_multi_pair(&mc, q, &j, &l);
        counts[q] = calloc(mc.pairs[q].mech.counts_len, sizeof **counts);
        truth[q] = calloc((size_t)k[j] * k[l], sizeof **truth);
    }
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    uint32_t x[PINHOLE_MULTI_DMAX];
    for (uint64_t u = 0; u < devices; u++) {
        pinhole_multi_copula_draw(d, k, rho, &rng, x);
        for (uint32_t q = 0; q < mc.npairs; q++) {
            uint32_t j, l;
            pinhole_multi_pair(&mc, q, &j, &l);
            truth[q][x[j] * k[l] + x[l]] += 1.0 / (double)devices;
        }
        pinhole_multi_simulate(&mc, x, &rng, counts);
    }
    pinhole_multi_est e, te;
    pinhole_multi_corr c, tc;
    memset(&tc, 0, sizeof tc);
    rc = pinhole_multi_estimate(&mc, (const uint64_t *const *)counts, &e);
    if (rc == PINHOLE_OK)
        rc = pinhole_multi_correlation(&e, NULL, NULL, &c);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "pinhole analyze multi: %s (more devices?)\n", pinhole_strerror(rc));
        return CLI_FAIL;
    }
    /* the truth through the same formulas: the population's tables as exact estimates */
    te = e;
    te.t = calloc(e.npairs, sizeof *te.t);
    double *tm[PINHOLE_MULTI_DMAX] = {0};
    for (uint32_t q = 0; q < e.npairs; q++) {
        te.t[q] = e.t[q];
        te.t[q].raw = truth[q];
        te.t[q].nh = 0;
    }
    for (uint32_t j = 0; j < d; j++) {
        tm[j] = calloc(k[j], sizeof *tm[j]);
        const pinhole_multi_table *t =
            &e.t[j == 0 ? 0 : pinhole_multi_table_of(&e, j, 0, &(int){0})];
        for (uint32_t a = 0; a < t->rows; a++)
            for (uint32_t b = 0; b < t->cols; b++)
                tm[j][t->j == j ? a : b] += truth[t - e.t][a * t->cols + b];
        te.marg[j] = tm[j];
    }
    pinhole_multi_correlation(&te, NULL, NULL, &tc);
    printf("multi-attribute collection: d = %u, %u pairs, epsilon %g, %llu devices, rho %g, seed "
           "%llu\n",
           d, mc.npairs, eps, (unsigned long long)devices, rho, (unsigned long long)seed);
    printf("marginals: estimate [95%% interval] (truth)\n");
    for (uint32_t j = 0; j < d; j++) {
        printf("  attribute %u:", j);
        for (uint32_t a = 0; a < k[j]; a++) {
            const double se = sqrt(e.marg_var[j][a]);
            printf(" %.4f [%.4f, %.4f] (%.4f)", e.marg[j][a], e.marg[j][a] - PINHOLE_Z95 * se,
                   e.marg[j][a] + PINHOLE_Z95 * se, tm[j][a]);
        }
        printf("\n");
    }
    printf("joint of attributes 0 and 1 (consistent; raw stderr in parentheses):\n");
    for (uint32_t a = 0; a < e.t[0].rows; a++) {
        printf("  ");
        for (uint32_t b = 0; b < e.t[0].cols; b++)
            printf(" %.4f(%.4f)", e.t[0].joint[a * e.t[0].cols + b],
                   sqrt(e.t[0].var[a * e.t[0].cols + b]));
        printf("\n");
    }
    print_matrix("correlation (Pearson of the category scores; phi for binary pairs), estimate "
                 "(stderr):",
                 c.r, c.se, d);
    print_matrix("truth:", tc.r, NULL, d);
    double *xr = malloc((size_t)d * d * sizeof *xr), lraw, lrep;
    pinhole_repair_options o = {.rank = (uint32_t)rank, .seed = seed};
    pinhole_repair_result rr;
    rc = pinhole_multi_repair(&c, !unweighted, &o, xr, &rr);
    if (rc == PINHOLE_OK) {
        print_matrix("repaired:", xr, NULL, d);
        pinhole_eig_min(d, c.r, &lraw, NULL);
        pinhole_eig_min(d, xr, &lrep, NULL);
        printf("repair: %s%s, value %.6g, gap_bound %.3g (%s), rank %u\n",
               rr.method == PINHOLE_REPAIR_NEWTON ? "Newton (Qi-Sun)" : "Burer-Monteiro",
               unweighted ? "" : ", weighted by 1/stderr^2", rr.value, rr.gap_bound,
               rr.certified ? "certified" : "NOT certified", rr.rank);
        printf("Frobenius error to the truth: %.4f before, %.4f after; lambda_min %.4g before, "
               "%.4g after\n",
               frob(c.r, tc.r, d), frob(xr, tc.r, d), lraw, lrep);
    } else {
        fprintf(stderr, "pinhole analyze multi: repair failed: %s\n", pinhole_strerror(rc));
    }
    free(xr);
    pinhole_multi_corr_free(&tc);
    pinhole_multi_corr_free(&c);
    free(te.t);
    for (uint32_t j = 0; j < d; j++)
        free(tm[j]);
    pinhole_multi_est_free(&e);
    for (uint32_t q = 0; q < mc.npairs; q++) {
        free(counts[q]);
        free(truth[q]);
    }
    free(counts);
    free(truth);
    pinhole_multi_clear(&mc);
    return rc == PINHOLE_OK ? CLI_OK : CLI_FAIL;
}
