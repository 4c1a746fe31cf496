/* Multi-attribute estimation on a known population of 3 attributes (k = 2, 3, 4): consistency keeps
 * totals and makes marginals agree; the joint cells, the cross moments and the marginals are
 * unbiased and the correlation is (asymptotically) unbiased, checked over replications with a
 * fixed seed; the variances and the delta-method standard errors match the spread of the
 * replications. */
#include "server/analytics/multi.h"
#include "common/error.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define D 3
static const uint32_t K[D] = {2, 3, 4};
#define NX 24 /* tuples */

/* P[x] proportional to exp(0.9 (x0 - .5)(x1 - 1) - 0.5 (x1 - 1)(x2 - 1.5) + 0.2 x2) */
static void population(double *P)
{
    double s = 0;
    for (uint32_t i = 0; i < NX; i++) {
        const double x0 = i % 2, x1 = (i / 2) % 3, x2 = i / 6;
        P[i] = exp(0.9 * (x0 - .5) * (x1 - 1) - 0.5 * (x1 - 1) * (x2 - 1.5) + 0.2 * x2);
        s += P[i];
    }
    for (uint32_t i = 0; i < NX; i++)
        P[i] /= s;
}

static void tuple(uint32_t i, uint32_t *x)
{
    x[0] = i % 2;
    x[1] = (i / 2) % 3;
    x[2] = i / 6;
}

/* The true joint of pair (j, l) (k_j x k_l) and the true correlation of scores 0..k-1. */
static void truth(const double *P, uint32_t j, uint32_t l, double *joint, double *rho,
                  double *cross)
{
    memset(joint, 0, K[j] * K[l] * sizeof *joint);
    double mj = 0, ml = 0, vj = 0, vl = 0, c = 0;
    uint32_t x[D];
    for (uint32_t i = 0; i < NX; i++) {
        tuple(i, x);
        joint[x[j] * K[l] + x[l]] += P[i];
        mj += P[i] * x[j];
        ml += P[i] * x[l];
        vj += P[i] * x[j] * x[j];
        vl += P[i] * x[l] * x[l];
        c += P[i] * x[j] * x[l];
    }
    *cross = c;
    *rho = (c - mj * ml) / sqrt((vj - mj * mj) * (vl - ml * ml));
}

/* n simulated devices drawn from P into counts (zeroed here). */
static void simulate(const pinhole_multi *mc, const double *P, uint64_t n, pinhole_rng *rng,
                     uint64_t **counts)
{
    for (uint32_t p = 0; p < mc->npairs; p++)
        memset(counts[p], 0, mc->pairs[p].mech.counts_len * sizeof **counts);
    uint32_t x[D];
    for (uint64_t u = 0; u < n; u++) {
        double r = pinhole_rng_unit(rng);
        uint32_t i = 0;
        while (i + 1 < NX && r >= P[i])
            r -= P[i++];
        tuple(i, x);
        cr_assert_eq(pinhole_multi_simulate(mc, x, rng, counts), PINHOLE_OK);
    }
}

static uint64_t **alloc_counts(const pinhole_multi *mc)
{
    uint64_t **c = malloc(mc->npairs * sizeof *c);
    for (uint32_t p = 0; p < mc->npairs; p++)
        c[p] = calloc(mc->pairs[p].mech.counts_len, sizeof **c);
    return c;
}

static void free_counts(const pinhole_multi *mc, uint64_t **c)
{
    for (uint32_t p = 0; p < mc->npairs; p++)
        free(c[p]);
    free(c);
}

Test(analytics_multi, consistency_keeps_totals)
{
    double P[NX];
    population(P);
    pinhole_multi mc;
    cr_assert_eq(pinhole_multi_init(&mc, 1, D, K, PINHOLE_MECH_PGR, 1.0), PINHOLE_OK);
    uint64_t **counts = alloc_counts(&mc);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 18);
    simulate(&mc, P, 20000, &rng, counts);
    pinhole_multi_est e;
    cr_assert_eq(pinhole_multi_estimate(&mc, (const uint64_t *const *)counts, &e), PINHOLE_OK);
    for (uint32_t j = 0; j < D; j++) {
        double s = 0;
        for (uint32_t a = 0; a < K[j]; a++)
            s += e.marg[j][a];
        cr_assert_float_eq(s, 1, 1e-12);
    }
    for (uint32_t p = 0; p < e.npairs; p++) {
        const pinhole_multi_table *t = &e.t[p];
        double raw = 0, joint = 0;
        for (uint32_t v = 0; v < t->rows * t->cols; v++) {
            raw += t->raw[v];
            joint += t->joint[v];
        }
        cr_assert_float_eq(raw, 1, 1e-12, "the shift makes each table total 1");
        cr_assert_float_eq(joint, 1, 1e-12, "consistency keeps the total");
        for (uint32_t a = 0; a < t->rows; a++) {
            double s = 0;
            for (uint32_t b = 0; b < t->cols; b++)
                s += t->joint[a * t->cols + b];
            cr_assert_float_eq(s, e.marg[t->j][a], 1e-12, "rows agree with attribute %u", t->j);
        }
        for (uint32_t b = 0; b < t->cols; b++) {
            double s = 0;
            for (uint32_t a = 0; a < t->rows; a++)
                s += t->joint[a * t->cols + b];
            cr_assert_float_eq(s, e.marg[t->l][b], 1e-12, "columns agree with attribute %u", t->l);
        }
        cr_assert_float_eq(t->wj + 0, t->wj, 0); /* weights are finite */
    }
    /* weights of each attribute's tables sum to 1 */
    for (uint32_t j = 0; j < D; j++) {
        double w = 0;
        for (uint32_t p = 0; p < e.npairs; p++)
            w += (e.t[p].j == j ? e.t[p].wj : 0) + (e.t[p].l == j ? e.t[p].wl : 0);
        cr_assert_float_eq(w, 1, 1e-12);
    }
    pinhole_multi_est_free(&e);
    free_counts(&mc, counts);
    pinhole_multi_clear(&mc);
}

/* R = 50 replications of n = 12,000 devices at epsilon = 2, seed 1818 (under a second, about
 * 13 s under ASan). For every pair: the mean of the cross moment, of one joint cell and of the
 * correlation is within 4 standard errors of the mean (sd / sqrt(R)) of the truth (the
 * correlation's O(1/n) bias, about 2e-4 here, is far below that); the mean reported standard error
 * is within 30% of the replications' standard deviation (the sample sd of 50 draws itself has a
 * relative error of about 10%). */
Test(analytics_multi, unbiased_with_calibrated_errors, .timeout = 600)
{
    enum { R = 50 };
    const uint64_t n = 12000;
    double P[NX];
    population(P);
    pinhole_multi mc;
    cr_assert_eq(pinhole_multi_init(&mc, 1, D, K, PINHOLE_MECH_PGR, 2.0), PINHOLE_OK);
    uint64_t **counts = alloc_counts(&mc);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 1818);
    double rho[R][3], cross[R][3], se[R][3], cell[R][3], cvar[R][3], marg[R], mvar[R];
    for (int r = 0; r < R; r++) {
        simulate(&mc, P, n, &rng, counts);
        pinhole_multi_est e;
        pinhole_multi_corr c;
        cr_assert_eq(pinhole_multi_estimate(&mc, (const uint64_t *const *)counts, &e), PINHOLE_OK);
        cr_assert_eq(pinhole_multi_correlation(&e, NULL, NULL, &c), PINHOLE_OK);
        cr_assert_eq(c.n, 3);
        for (uint32_t p = 0; p < 3; p++) {
            const uint32_t x = p == 2 ? 1 : 0, y = p == 0 ? 1 : 2; /* pairs (0,1) (0,2) (1,2) */
            rho[r][p] = c.r[x * 3 + y];
            se[r][p] = c.se[x * 3 + y];
            cross[r][p] = c.cross[x * 3 + y];
            cell[r][p] = e.t[p].raw[1];
            cvar[r][p] = e.t[p].var[1];
        }
        marg[r] = e.marg[2][3];
        mvar[r] = e.marg_var[2][3];
        pinhole_multi_corr_free(&c);
        pinhole_multi_est_free(&e);
    }
    for (uint32_t p = 0; p < 3; p++) {
        const uint32_t j = p == 2 ? 1 : 0, l = p == 0 ? 1 : 2;
        double joint[12], trho, tcross;
        truth(P, j, l, joint, &trho, &tcross);
        const double *series[3][2] = {
            {&rho[0][p], &se[0][p]}, {&cross[0][p], NULL}, {&cell[0][p], &cvar[0][p]}};
        const double want[3] = {trho, tcross, joint[1]};
        const char *name[3] = {"correlation", "cross moment", "cell 1"};
        for (int s = 0; s < 3; s++) {
            double m = 0, m2 = 0, err = 0;
            for (int r = 0; r < R; r++) {
                m += series[s][0][r * 3];
                if (series[s][1])
                    err += s == 0 ? series[s][1][r * 3] : sqrt(series[s][1][r * 3]);
            }
            m /= R;
            err /= R;
            for (int r = 0; r < R; r++)
                m2 += (series[s][0][r * 3] - m) * (series[s][0][r * 3] - m);
            const double sd = sqrt(m2 / (R - 1));
            cr_assert_lt(fabs(m - want[s]), 4 * sd / sqrt(R),
                         "pair %u %s: mean %g, truth %g, sd %g", p, name[s], m, want[s], sd);
            if (series[s][1])
                cr_assert(err > 0.7 * sd && err < 1.3 * sd,
                          "pair %u %s: mean standard error %g, replications' sd %g", p, name[s],
                          err, sd);
        }
    }
    double m = 0, m2 = 0, err = 0, tm = 0;
    for (uint32_t i = 0; i < NX; i++)
        tm += i / 6 == 3 ? P[i] : 0;
    for (int r = 0; r < R; r++) {
        m += marg[r] / R;
        err += sqrt(mvar[r]) / R;
    }
    for (int r = 0; r < R; r++)
        m2 += (marg[r] - m) * (marg[r] - m);
    const double sd = sqrt(m2 / (R - 1));
    cr_assert_lt(fabs(m - tm), 4 * sd / sqrt(R), "marginal: mean %g, truth %g", m, tm);
    cr_assert(err > 0.7 * sd && err < 1.3 * sd, "marginal: standard error %g, sd %g", err, sd);
    free_counts(&mc, counts);
    pinhole_multi_clear(&mc);
}

Test(analytics_multi, errors)
{
    const uint32_t k1[] = {4};
    pinhole_multi mc;
    cr_assert_eq(pinhole_multi_init(&mc, 1, 1, k1, PINHOLE_MECH_PGR, 1.0), PINHOLE_OK);
    uint64_t **counts = alloc_counts(&mc);
    pinhole_multi_est e;
    cr_assert_eq(pinhole_multi_estimate(&mc, (const uint64_t *const *)counts, &e),
                 PINHOLE_ENOREPORTS);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 3);
    const uint32_t x[] = {2}, bad[] = {4};
    cr_assert_eq(pinhole_multi_simulate(&mc, bad, &rng, counts), PINHOLE_ERANGE);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(pinhole_multi_simulate(&mc, x, &rng, counts), PINHOLE_OK);
    cr_assert_eq(pinhole_multi_estimate(&mc, (const uint64_t *const *)counts, &e), PINHOLE_OK);
    pinhole_multi_corr c;
    cr_assert_eq(pinhole_multi_correlation(&e, NULL, NULL, &c), PINHOLE_EINVAL, "d = 1");
    pinhole_multi_est_free(&e);
    free_counts(&mc, counts);
    pinhole_multi_clear(&mc);
    const uint32_t k2[] = {3, 3};
    cr_assert_eq(pinhole_multi_init(&mc, 1, 2, k2, PINHOLE_MECH_GRR, 1.0), PINHOLE_OK);
    counts = alloc_counts(&mc);
    counts[0][0] = 5;
    cr_assert_eq(pinhole_multi_estimate(&mc, (const uint64_t *const *)counts, &e),
                 PINHOLE_EUNSUPPORTED);
    free_counts(&mc, counts);
    pinhole_multi_clear(&mc);
}
