/* significance: per-item z-tests with Bonferroni and Benjamini-Hochberg control, against
 * hand-computed cases and null simulations (fixed seeds, stated tolerances). */
#include "client/encode.h"
#include "common/error.h"
#include "common/mechanism.h"
#include "common/rng.h"
#include "server/analytics/noise.h"
#include "server/analytics/significance.h"
#include "server/estimate/estimate.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

/* the estimate (sd 1) whose one-sided p-value is p, by bisection to machine precision */
static double z_for(double p)
{
    double lo = -40, hi = 40;
    for (int i = 0; i < 200; i++) {
        const double mid = (lo + hi) / 2;
        if (pinhole_significance_pvalue(mid, 1) > p)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

Test(significance, parse)
{
    pinhole_significance s;
    cr_assert_eq(pinhole_significance_parse("fdr:0.05", &s), PINHOLE_OK);
    cr_assert_eq(s.method, PINHOLE_SIG_FDR);
    cr_assert_eq(s.alpha, 0.05);
    cr_assert_eq(pinhole_significance_parse("bonferroni:0.01", &s), PINHOLE_OK);
    cr_assert_eq(s.method, PINHOLE_SIG_BONFERRONI);
    cr_assert_eq(s.alpha, 0.01);
    cr_assert_eq(pinhole_significance_parse("none", &s), PINHOLE_OK);
    cr_assert_eq(s.method, PINHOLE_SIG_NONE);
    const char *bad[] = {"fdr",     "fdr:",    "fdr:0",     "fdr:1",
                         "fdr:abc", "bh:0.05", "fdr:0.05x", "bonferroni:-0.1",
                         "fdr:nan", "",        "FDR:0.05"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(pinhole_significance_parse(bad[i], &s), PINHOLE_EINVAL, "%s", bad[i]);
    cr_assert_eq(pinhole_significance_parse(NULL, &s), PINHOLE_EINVAL);
    cr_assert_str_eq(pinhole_significance_name(PINHOLE_SIG_FDR), "fdr");
    cr_assert_str_eq(pinhole_significance_name(PINHOLE_SIG_BONFERRONI), "bonferroni");
}

/* p = P[N(0,1) >= z]: closed-form values */
Test(significance, pvalue)
{
    cr_assert_float_eq(pinhole_significance_pvalue(0, 3), 0.5, 1e-15);
    cr_assert_float_eq(pinhole_significance_pvalue(1.6448536269514722, 1), 0.05, 1e-15);
    cr_assert_float_eq(pinhole_significance_pvalue(2 * 1.959963984540054, 2), 0.025, 1e-15);
    cr_assert_float_eq(pinhole_significance_pvalue(-1.959963984540054, 1), 0.975, 1e-15);
    /* far tail, relative: P[Z >= 10] = 7.619853024160527e-24 */
    cr_assert_float_eq(pinhole_significance_pvalue(10, 1) / 7.619853024160527e-24, 1, 1e-12);
    cr_assert_eq(pinhole_significance_pvalue(5, 0), 1);
    cr_assert_eq(pinhole_significance_pvalue(NAN, 1), 1);
}

/* Hand-computed: k = 5, alpha = 0.05, BH thresholds i alpha / k = .01 .02 .03 .04 .05. */
static void run_case(const double *p, size_t k, pinhole_sig_method m, const uint8_t *want,
                     uint64_t want_n, double want_cut)
{
    double est[8];
    for (size_t i = 0; i < k; i++)
        est[i] = z_for(p[i]);
    uint8_t pass[8];
    uint64_t n;
    double cut;
    const pinhole_significance s = {m, 0.05};
    cr_assert_eq(pinhole_significance_test(est, NULL, 1.0, k, &s, pass, &n, &cut), PINHOLE_OK);
    cr_assert_eq(n, want_n);
    for (size_t i = 0; i < k; i++)
        cr_assert_eq(pass[i], want[i], "method %d item %zu", (int)m, i);
    cr_assert_float_eq(cut, want_cut, 1e-12);
}

Test(significance, hand_computed)
{
    /* shuffled: sorted 0.001 (<= .01), 0.012 (<= .02), 0.029 (<= .03), 0.2, 0.9: BH passes 3;
     * Bonferroni (<= 0.01) passes 0.001 only */
    const double p1[5] = {0.2, 0.029, 0.9, 0.001, 0.012};
    run_case(p1, 5, PINHOLE_SIG_FDR, (const uint8_t[]){0, 1, 0, 1, 1}, 3, 0.029);
    run_case(p1, 5, PINHOLE_SIG_BONFERRONI, (const uint8_t[]){0, 0, 0, 1, 0}, 1, 0.001);
    /* step-up: p_(1) = 0.02 > 0.01, yet p_(5) = 0.04 <= 0.05, so all five pass; Bonferroni none */
    const double p2[5] = {0.022, 0.02, 0.04, 0.023, 0.021};
    run_case(p2, 5, PINHOLE_SIG_FDR, (const uint8_t[]){1, 1, 1, 1, 1}, 5, 0.04);
    run_case(p2, 5, PINHOLE_SIG_BONFERRONI, (const uint8_t[]){0, 0, 0, 0, 0}, 0, 0);
    /* nothing: 0.011 > 0.01, 0.021 > 0.02, ... */
    const double p3[5] = {0.011, 0.021, 0.031, 0.041, 0.051};
    run_case(p3, 5, PINHOLE_SIG_FDR, (const uint8_t[]){0, 0, 0, 0, 0}, 0, 0);
    /* none: everything passes */
    uint8_t pass[5];
    uint64_t n;
    const pinhole_significance none = {PINHOLE_SIG_NONE, 0};
    cr_assert_eq(pinhole_significance_test(p3, NULL, 1, 5, &none, pass, &n, NULL), PINHOLE_OK);
    cr_assert_eq(n, 5);
    /* per-item standard errors: estimate 3 with sd 1 (p = 0.00135) passes, with sd 3 (0.159)
     * not */
    const double est[2] = {3, 3}, sd[2] = {1, 3};
    const pinhole_significance b = {PINHOLE_SIG_BONFERRONI, 0.05};
    cr_assert_eq(pinhole_significance_test(est, sd, 0, 2, &b, pass, &n, NULL), PINHOLE_OK);
    cr_assert(pass[0] && !pass[1] && n == 1);
    const pinhole_significance bad = {PINHOLE_SIG_FDR, 1.5};
    cr_assert_eq(pinhole_significance_test(est, sd, 0, 2, &bad, pass, &n, NULL), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_significance_test(est, sd, 0, 0, &b, pass, &n, NULL), PINHOLE_EINVAL);
}

/* Gaussian null simulation, seed 16, R replications of k = 1000 independent z-statistics of which
 * k1 have mean 4. Independent continuous tests: BH's FDR is exactly alpha k0 / k and Bonferroni's
 * FWER is 1 - (1 - alpha/k)^k0; the simulated rates must be within 4 standard errors. */
static void gaussian_null(uint64_t k1, uint64_t R)
{
    const uint64_t k = 1000, k0 = k - k1;
    const double alpha = 0.05;
    double *est = malloc(k * sizeof *est);
    uint8_t *pass = malloc(k);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 16);
    double fdp_sum = 0, fdp_sq = 0, fwer_b = 0;
    for (uint64_t r = 0; r < R; r++) {
        pinhole_noise_fill(&rng, PINHOLE_NOISE_GAUSSIAN, est, k);
        for (uint64_t v = k0; v < k; v++)
            est[v] += 4;
        uint64_t n;
        const pinhole_significance bh = {PINHOLE_SIG_FDR, alpha},
                                   bf = {PINHOLE_SIG_BONFERRONI, alpha};
        cr_assert_eq(pinhole_significance_test(est, NULL, 1, k, &bh, pass, &n, NULL), PINHOLE_OK);
        uint64_t false_pos = 0;
        for (uint64_t v = 0; v < k0; v++)
            false_pos += pass[v];
        const double fdp = n ? (double)false_pos / (double)n : 0;
        fdp_sum += fdp;
        fdp_sq += fdp * fdp;
        cr_assert_eq(pinhole_significance_test(est, NULL, 1, k, &bf, pass, &n, NULL), PINHOLE_OK);
        false_pos = 0;
        for (uint64_t v = 0; v < k0; v++)
            false_pos += pass[v];
        fwer_b += false_pos > 0;
    }
    const double fdr = fdp_sum / (double)R, se = sqrt((fdp_sq / (double)R - fdr * fdr) / (double)R);
    const double want_fdr = alpha * (double)k0 / (double)k;
    cr_assert(fabs(fdr - want_fdr) <= 4 * se, "FDR %g, want %g +- 4 x %g", fdr, want_fdr, se);
    const double fw = fwer_b / (double)R, want_fw = 1 - pow(1 - alpha / (double)k, (double)k0);
    cr_log_info("gaussian k1 = %llu: FDR %.4f (want %.4f, se %.4f), Bonferroni FWER %.4f (want "
                "%.4f)",
                (unsigned long long)k1, fdr, want_fdr, se, fw, want_fw);
    const double se_fw = sqrt(want_fw * (1 - want_fw) / (double)R);
    cr_assert(fabs(fw - want_fw) <= 4 * se_fw, "FWER %g, want %g +- 4 x %g", fw, want_fw, se_fw);
    free(est);
    free(pass);
}

Test(significance, gaussian_null_mixed)
{
    gaussian_null(100, 4000);
}

/* complete null: BH's FDR equals its FWER, alpha */
Test(significance, gaussian_null_complete)
{
    gaussian_null(0, 4000);
}

/* The real mechanism: PGR, k = 300, epsilon = 2, 3000 users on 30 items (100 each), the other
 * 270 items null; z with the exact null standard error sqrt(Var[estimate | f = 0]). 300
 * replications (seed 7): Bonferroni's FWER and BH's FDR at alpha = 0.1 stay below the level plus
 * 3 standard errors of the simulation. */
Test(significance, pgr_null_simulation)
{
    const uint64_t k = 300, k1 = 30, users = 3000, R = 300;
    const double alpha = 0.1;
    pinhole_config c;
    const pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = k, .epsilon = 2};
    cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_OK);
    uint64_t *counts = malloc(c.counts_len * sizeof *counts);
    double *est = malloc(k * sizeof *est);
    uint8_t *pass = malloc(k), payload[16];
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 7);
    const double sd0 = sqrt(pinhole_config_variance(&c, (double)users, 0));
    double fdp_sum = 0, fwer = 0, power = 0;
    for (uint64_t r = 0; r < R; r++) {
        memset(counts, 0, c.counts_len * sizeof *counts);
        for (uint64_t u = 0; u < users; u++) {
            cr_assert_eq(pinhole_encode(&c, k - k1 + u % k1, &rng, payload, sizeof payload),
                         PINHOLE_OK);
            cr_assert_eq(pinhole_accumulate(&c, payload, c.payload_bytes, counts), PINHOLE_OK);
        }
        cr_assert_eq(pinhole_estimate(&c, counts, users, est, NULL), PINHOLE_OK);
        uint64_t n, fp = 0;
        const pinhole_significance bh = {PINHOLE_SIG_FDR, alpha},
                                   bf = {PINHOLE_SIG_BONFERRONI, alpha};
        cr_assert_eq(pinhole_significance_test(est, NULL, sd0, k, &bh, pass, &n, NULL), PINHOLE_OK);
        for (uint64_t v = 0; v < k - k1; v++)
            fp += pass[v];
        fdp_sum += n ? (double)fp / (double)n : 0;
        power += (double)(n - fp) / (double)k1;
        cr_assert_eq(pinhole_significance_test(est, NULL, sd0, k, &bf, pass, &n, NULL), PINHOLE_OK);
        fp = 0;
        for (uint64_t v = 0; v < k - k1; v++)
            fp += pass[v];
        fwer += fp > 0;
    }
    const double fdr = fdp_sum / (double)R, fw = fwer / (double)R;
    const double se = sqrt(alpha * (1 - alpha) / (double)R); /* a bound for both rates */
    cr_log_info("pgr: FDR %.4f, FWER %.4f, power %.3f (alpha %g, se %.4f)", fdr, fw,
                power / (double)R, alpha, se);
    cr_assert_leq(fdr, alpha * 0.9 + 3 * se, "FDR %g", fdr);
    cr_assert_leq(fw, alpha + 3 * se, "FWER %g", fw);
    /* 100 users per item: z about 2, so BH finds about a third of them (0.31 with this seed) */
    cr_assert_gt(power / (double)R, 0.2, "power %g", power / (double)R);
    pinhole_config_free(&c);
    free(counts);
    free(est);
    free(pass);
}
