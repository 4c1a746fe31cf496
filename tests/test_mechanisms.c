/* Every mechanism of the table through the generic encode/accumulate/estimate API: parameter
 * errors, unbiasedness and exact variance (fixed seeds, stated tolerances), absent items, zero
 * reports, n = 1, negative estimates; and the unary encoding's true bit. */
#include "client/encode.h"
#include "client/unary.h"
#include "common/compare.h"
#include "common/error.h"
#include "common/explain.h"
#include "common/ldp.h"
#include "common/mechanism.h"
#include "server/estimate/estimate.h"

#include <criterion/criterion.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
}

static pinhole_config_params params(pinhole_mechanism_id m, uint64_t k, double eps)
{
    pinhole_config_params p = {.mechanism = m, .k = k, .epsilon = eps};
    if (m == PINHOLE_MECH_OLH)
        p.pool = 64;
    if (m == PINHOLE_MECH_HPGR && k >= 8) { /* blocks of 7 points: several blocks */
        p.q = 2;
        p.t = 3;
    }
    if (m == PINHOLE_MECH_HR && k >= 8) /* blocks of 7 items: several blocks */
        p.block = 8;
    return p;
}

/* the exact variance of item v's estimate, including the data-dependent terms of OLH and HPGR */
static double exact_variance(const pinhole_config *c, const uint64_t *f, uint64_t n, uint64_t v)
{
    if (c->mechanism == PINHOLE_MECH_HPGR || c->mechanism == PINHOLE_MECH_HR) {
        const pinhole_blocks *d = c->mechanism == PINHOLE_MECH_HR ? &c->u.hr.d : &c->u.hpgr.d;
        uint64_t Fb = 0;
        for (uint64_t w = v / d->per * d->per; w < c->k && w / d->per == v / d->per; w++)
            Fb += f[w];
        return pinhole_blocks_variance_block(d, (double)n, (double)f[v], (double)Fb);
    }
    double var = pinhole_config_variance(c, (double)n, (double)f[v]);
    if (c->mechanism == PINHOLE_MECH_OLH) {
        double s = 0;
        for (uint64_t w = 0; w < c->k; w++)
            if (w != v)
                s += (double)f[w] * ((double)f[w] - 1);
        var += pinhole_olh_pool_variance(&c->u.olh, s);
    }
    return var;
}

/* one collection: the users' values in order, encoded, accumulated and estimated */
static void run(const pinhole_config *c, const uint64_t *f, uint64_t n, pinhole_rng *rng,
                uint64_t *counts, double *est)
{
    uint8_t payload[64];
    memset(counts, 0, c->counts_len * sizeof *counts);
    for (uint64_t v = 0; v < c->k; v++)
        for (uint64_t i = 0; i < f[v]; i++) {
            cr_assert_eq(pinhole_encode(c, v, rng, payload, sizeof payload), PINHOLE_OK);
            cr_assert_eq(pinhole_accumulate(c, payload, c->payload_bytes, counts), PINHOLE_OK);
        }
    cr_assert_eq(pinhole_estimate(c, counts, n, est, NULL), PINHOLE_OK);
}

/* Unbiasedness and variance over R collections of n = 1000 users, k = 20, one item held by
 * nobody. Tolerances: each item's mean within 4.5 standard errors; each item's sample variance
 * within [0.6, 1.5] of the exact one and their average within 10% (R = 300: the sample variance
 * has relative sd sqrt(2/R) = 8% per item). */
static void unbiased(pinhole_mechanism_id m, double eps, uint64_t seed)
{
    enum { K = 20, R = 300 };
    uint64_t f[K], n = 0;
    for (uint64_t v = 0; v < K; v++)
        n += f[v] = v == 7 ? 0 : 400 / (v + 1);
    pinhole_config_params p = params(m, K, eps);
    double sum[K] = {0}, sum2[K] = {0};
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    pinhole_config c;
    uint64_t *counts = NULL;
    for (int r = 0; r < R; r++) {
        p.pool_key = seed * 1000 + (uint64_t)r; /* the OLH pool is drawn afresh per collection */
        if (r == 0 || m == PINHOLE_MECH_OLH)
            cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_OK);
        if (!counts)
            counts = malloc(c.counts_len * sizeof *counts);
        double est[K];
        run(&c, f, n, &rng, counts, est);
        for (uint64_t v = 0; v < K; v++) {
            cr_assert(isfinite(est[v]));
            sum[v] += est[v] - (double)f[v];
            sum2[v] += (est[v] - (double)f[v]) * (est[v] - (double)f[v]);
        }
        if (r + 1 < R && m == PINHOLE_MECH_OLH)
            pinhole_config_free(&c);
    }
    double ratio_sum = 0;
    const char *name = pinhole_mechanism_find(m)->name;
    for (uint64_t v = 0; v < K; v++) {
        const double V = exact_variance(&c, f, n, v), mean = sum[v] / R;
        const double svar = (sum2[v] - R * mean * mean) / (R - 1);
        cr_assert(fabs(mean) <= 4.5 * sqrt(V / R), "%s eps %g item %llu: bias %g, se %g", name, eps,
                  (unsigned long long)v, mean, sqrt(V / R));
        cr_assert(svar / V > 0.6 && svar / V < 1.5, "%s eps %g item %llu: variance %g vs exact %g",
                  name, eps, (unsigned long long)v, svar, V);
        ratio_sum += svar / V;
    }
    cr_assert(fabs(ratio_sum / K - 1) < 0.10, "%s eps %g: mean variance ratio %g", name, eps,
              ratio_sum / K);
    pinhole_config_free(&c);
    free(counts);
}

#define UNBIASED(m, name)                                                                          \
    Test(mechanisms, unbiased_##name, .init = setup)                                               \
    {                                                                                              \
        unbiased(m, 1.0, 11);                                                                      \
        unbiased(m, 3.0, 12);                                                                      \
    }
UNBIASED(PINHOLE_MECH_PGR, pgr)
UNBIASED(PINHOLE_MECH_GRR, grr)
UNBIASED(PINHOLE_MECH_OUE, oue)
UNBIASED(PINHOLE_MECH_SUE, sue)
UNBIASED(PINHOLE_MECH_OLH, olh)
UNBIASED(PINHOLE_MECH_HR, hr)
UNBIASED(PINHOLE_MECH_SS, ss)
UNBIASED(PINHOLE_MECH_HPGR, hpgr)

Test(mechanisms, unbiased_rappor, .init = setup)
{
    /* RAPPOR with an instantaneous response: permanent epsilon 4, one report epsilon 1 */
    enum { K = 12, R = 300 };
    pinhole_config_params p = {
        .mechanism = PINHOLE_MECH_SUE, .k = K, .epsilon = 1, .epsilon_permanent = 4};
    pinhole_config c;
    cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_OK);
    cr_assert_neq(c.u.unary.t_irr, 0);
    cr_assert(c.u.unary.epsilon_permanent <= 4 && c.u.unary.epsilon_permanent > 3.99);
    uint64_t f[K], n = 0, counts[K];
    for (uint64_t v = 0; v < K; v++)
        n += f[v] = 30 * v;
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 5);
    double sum[K] = {0}, sum2[K] = {0}, est[K];
    for (int r = 0; r < R; r++) {
        run(&c, f, n, &rng, counts, est);
        for (uint64_t v = 0; v < K; v++)
            sum[v] += est[v] - (double)f[v],
                sum2[v] += (est[v] - (double)f[v]) * (est[v] - (double)f[v]);
    }
    for (uint64_t v = 0; v < K; v++) {
        const double V = pinhole_config_variance(&c, (double)n, (double)f[v]), mean = sum[v] / R;
        const double svar = (sum2[v] - R * mean * mean) / (R - 1);
        cr_assert(fabs(mean) <= 4.5 * sqrt(V / R));
        cr_assert(svar / V > 0.6 && svar / V < 1.5, "item %llu: %g vs %g", (unsigned long long)v,
                  svar, V);
    }
    pinhole_config_free(&c);
}

Test(mechanisms, bad_epsilon, .init = setup)
{
    size_t nm;
    const pinhole_mechanism_ops *all = pinhole_mechanism_all(&nm);
    const double bad[] = {0, -1, -0.0, NAN, INFINITY, -INFINITY, 1e-9};
    for (size_t i = 0; i < nm; i++) {
        for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
            pinhole_config_params p = params(all[i].id, 16, bad[j]);
            pinhole_config c;
            cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_EINVAL, "%s eps %g", all[i].name,
                         bad[j]);
        }
        /* huge epsilon: capped thresholds, a finite realized epsilon and finite variances */
        const double huge[] = {1e-6, 60, 1e6, 1e308};
        for (size_t j = 0; j < 4; j++) {
            pinhole_config_params p = params(all[i].id, 16, huge[j]);
            pinhole_config c;
            cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_OK, "%s eps %g", all[i].name,
                         huge[j]);
            cr_assert(c.epsilon_realized > 0 && c.epsilon_realized <= huge[j] * (1 + 1e-9),
                      "%s eps %g realized %g", all[i].name, huge[j], c.epsilon_realized);
            const double v0 = pinhole_config_variance(&c, 100, 0),
                         v1 = pinhole_config_variance(&c, 100, 50);
            cr_assert(isfinite(v0) && isfinite(v1) && v0 >= 0 && v1 > 0, "%s eps %g: %g %g",
                      all[i].name, huge[j], v0, v1);
            pinhole_config_free(&c);
        }
        pinhole_config_params p = params(all[i].id, 1, 1);
        pinhole_config c;
        cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_EINVAL);
    }
    pinhole_config_params p = {
        .mechanism = PINHOLE_MECH_SUE, .k = 8, .epsilon = 2, .epsilon_permanent = 1};
    pinhole_config c;
    cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_EINVAL); /* permanent below one report */
    p.epsilon_permanent = NAN;
    cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_EINVAL);
}

/* An item nobody holds: finite estimates within 2 sigma of 0 in at least 40 of 50 collections
 * (expected 47.7; fewer than 40 has probability below 1e-4). Zero reports: an error. */
Test(mechanisms, absent_item_and_zero_reports, .init = setup)
{
    size_t nm;
    const pinhole_mechanism_ops *all = pinhole_mechanism_all(&nm);
    enum { K = 10 };
    uint64_t f[K] = {300, 200, 100, 0, 50, 50, 40, 30, 20, 10}, n = 800;
    for (size_t i = 0; i < nm; i++) {
        pinhole_config_params p = params(all[i].id, K, 2);
        pinhole_config c;
        cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_OK);
        uint64_t *counts = calloc(c.counts_len, sizeof *counts);
        double est[K], var[K];
        cr_assert_eq(pinhole_estimate(&c, counts, 0, est, var), PINHOLE_ENOREPORTS, "%s",
                     all[i].name);
        pinhole_rng rng;
        pinhole_rng_init_seeded(&rng, 99 + i);
        int within = 0;
        for (int r = 0; r < 50; r++) {
            run(&c, f, n, &rng, counts, est);
            const double sd = sqrt(exact_variance(&c, f, n, 3));
            cr_assert(isfinite(est[3]));
            within += fabs(est[3]) <= 2 * sd;
        }
        cr_assert_geq(within, 40, "%s: %d of 50 within 2 sigma", all[i].name, within);
        cr_assert_eq(pinhole_estimate(&c, counts, n, est, var), PINHOLE_OK);
        for (uint64_t v = 0; v < K; v++)
            cr_assert(isfinite(var[v]) && var[v] > 0);
        free(counts);
        pinhole_config_free(&c);
    }
}

/* n = 1, k = 2: one report, finite estimates; the item the report does not support gets a
 * negative estimate, equal to the formula and not wrapped around. */
Test(mechanisms, one_report_and_negative_estimates, .init = setup)
{
    size_t nm;
    const pinhole_mechanism_ops *all = pinhole_mechanism_all(&nm);
    for (size_t i = 0; i < nm; i++) {
        pinhole_config_params p = params(all[i].id, 2, 1);
        pinhole_config c;
        cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_OK, "%s", all[i].name);
        uint64_t *counts = calloc(c.counts_len, sizeof *counts);
        pinhole_rng rng;
        pinhole_rng_init_seeded(&rng, 3);
        int negative = 0;
        for (int r = 0; r < 20; r++) {
            uint64_t f[2] = {1, 0};
            double est[2];
            run(&c, f, 1, &rng, counts, est);
            for (int v = 0; v < 2; v++) {
                cr_assert(isfinite(est[v]) && fabs(est[v]) < 100, "%s: %g", all[i].name, est[v]);
                negative += est[v] < 0;
            }
        }
        cr_assert_gt(negative, 0, "%s: no negative estimate in 20 one-report collections",
                     all[i].name);
        free(counts);
        pinhole_config_free(&c);
    }
    /* k-RR: exactly -r/(p - r) for the item not reported */
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_GRR, .k = 2, .epsilon = 1};
    pinhole_config c;
    cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_OK);
    uint64_t counts[2] = {1, 0};
    double est[2];
    cr_assert_eq(pinhole_estimate(&c, counts, 1, est, NULL), PINHOLE_OK);
    cr_assert_eq(est[1], -c.u.grr.r / (c.u.grr.p - c.u.grr.r));
    cr_assert_lt(est[1], 0);
    counts[0] = 2;
    cr_assert_eq(pinhole_estimate(&c, counts, 1, est, NULL), PINHOLE_EINVAL); /* counts != n */
}

/* SUE, eps = 0.5, d = 16: the true bit is 1 with probability exactly e^0.25/(e^0.25 + 1) =
 * 0.5622 (not 0.5622 + 0.4378 * r, as when a noise draw may also set it). */
Test(mechanisms, unary_true_bit, .init = setup)
{
    pinhole_unary u;
    cr_assert_eq(pinhole_sue_init(&u, 16, 0.5, 0), PINHOLE_OK);
    const double p = exp(0.25) / (exp(0.25) + 1);
    cr_assert(fabs(u.p - p) < 1e-15 && fabs(u.p - 0.5622) < 5e-5, "p = %.17g", u.p);
    cr_assert(fabs((double)pinhole_threshold_prob(u.t_true) - p) < 1e-15);
    /* deterministic: noise draws that would set every bit leave bit v to its own draw */
    uint64_t perm[16];
    uint8_t bits[2];
    for (int i = 0; i < 16; i++)
        perm[i] = 0;
    perm[5] = UINT64_MAX;
    cr_assert_eq(pinhole_unary_encode_draws(&u, 5, perm, NULL, bits), PINHOLE_OK);
    cr_assert_eq(bits[0] | bits[1] << 8, 0xffff & ~(1u << 5));
    /* statistical: 200,000 reports of value 5 through the fast randomizer; the frequency of the
     * true bit and of one noise bit within 4.5 standard errors of p and 1 - p */
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 2026);
    const int N = 200000;
    int ones = 0, noise = 0;
    for (int i = 0; i < N; i++) {
        cr_assert_eq(pinhole_unary_encode(&u, 5, &rng, bits), PINHOLE_OK);
        ones += (bits[0] >> 5) & 1;
        noise += (bits[1] >> 2) & 1;
    }
    const double se = sqrt(p * (1 - p) / N);
    cr_assert(fabs((double)ones / N - p) < 4.5 * se, "true bit frequency %g", (double)ones / N);
    cr_assert(fabs((double)noise / N - (1 - p)) < 4.5 * se, "noise bit frequency %g",
              (double)noise / N);
    /* OUE keeps the true bit with probability exactly 1/2 */
    cr_assert_eq(pinhole_oue_init(&u, 16, 0.5), PINHOLE_OK);
    cr_assert_eq(u.p, 0.5);
    cr_assert_eq(u.t_true, UINT64_C(1) << 63);
}

/* RAPPOR's split draws: one permanent stream gives one permanent response whatever the
 * instantaneous stream (without an instantaneous step); over devices the bit of v is 1 with
 * probability p. */
Test(mechanisms, rappor_split, .init = setup)
{
    pinhole_unary u;
    cr_assert_eq(pinhole_sue_init(&u, 64, 2, 0), PINHOLE_OK); /* no instantaneous response */
    uint8_t a[8], b[8], c[8];
    pinhole_rng p1, p1b, p2, r1, r2;
    pinhole_rng_init_seeded(&p1, 1);
    pinhole_rng_init_seeded(&p1b, 1);
    pinhole_rng_init_seeded(&p2, 2);
    pinhole_rng_init_seeded(&r1, 11);
    pinhole_rng_init_seeded(&r2, 12);
    cr_assert_eq(pinhole_unary_encode_split(&u, 9, &p1, &r1, a), PINHOLE_OK);
    cr_assert_eq(pinhole_unary_encode_split(&u, 9, &p1b, &r2, b), PINHOLE_OK);
    cr_assert_arr_eq(a, b, 8);
    cr_assert_eq(pinhole_unary_encode_split(&u, 9, &p2, &r2, c), PINHOLE_OK);
    cr_assert(memcmp(a, c, 8) != 0);
    /* with an instantaneous response the bit of v is 1 with probability p over devices */
    cr_assert_eq(pinhole_sue_init(&u, 64, 1, 3), PINHOLE_OK);
    int ones = 0;
    const int N = 40000;
    for (int i = 0; i < N; i++) {
        pinhole_rng_init_seeded(&p1, 1000 + (uint64_t)i);
        cr_assert_eq(pinhole_unary_encode_split(&u, 9, &p1, &r1, a), PINHOLE_OK);
        ones += (a[1] >> 1) & 1;
    }
    cr_assert(fabs((double)ones / N - u.p) < 4.5 * sqrt(u.p * (1 - u.p) / N), "%g vs %g",
              (double)ones / N, u.p);
    cr_assert_eq(pinhole_unary_encode_split(&u, 64, &p1, &r1, a), PINHOLE_ERANGE);
}

/* Malformed payloads are refused and add nothing. */
Test(mechanisms, bad_payloads, .init = setup)
{
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_OUE, .k = 12, .epsilon = 1};
    pinhole_config c;
    cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_OK);
    uint64_t counts[12] = {0};
    const uint8_t bad[2] = {0xff, 0x1f}; /* bit 12 set */
    cr_assert_eq(pinhole_accumulate(&c, bad, 2, counts), PINHOLE_ERANGE);
    for (int i = 0; i < 12; i++)
        cr_assert_eq(counts[i], 0);
    cr_assert_eq(pinhole_accumulate(&c, bad, 1, counts), PINHOLE_EFORMAT);
    pinhole_config_free(&c);
    p.mechanism = PINHOLE_MECH_HR;
    p.k = 5; /* K = 8 */
    cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_OK);
    const uint8_t y = 8;
    cr_assert_eq(pinhole_accumulate(&c, &y, 1, counts), PINHOLE_ERANGE);
    pinhole_config_free(&c);
}

/* The automatic choice follows its stated rule on closed-form cases. */
Test(mechanisms, auto_choice, .init = setup)
{
    pinhole_mechanism_id id;
    /* large domain: only PGR is near the optimum within the limits */
    cr_assert_eq(pinhole_mechanism_auto(74286, 4, NULL, &id), PINHOLE_OK);
    cr_assert_eq(id, PINHOLE_MECH_PGR);
    /* k = 4, eps = 4: k-RR is optimal (variance (k - 2 + e^eps)/(e^eps - 1)^2) and cheapest */
    cr_assert_eq(pinhole_mechanism_auto(4, 4, NULL, &id), PINHOLE_OK);
    cr_assert_eq(id, PINHOLE_MECH_GRR);
    pinhole_mechanism_row rows[16];
    size_t n;
    cr_assert_eq(pinhole_mechanism_compare(4, 4, NULL, rows, 16, &n), PINHOLE_OK);
    const double e = exp(4.0);
    cr_assert(fabs(rows[1].variance - (2 + e) / ((e - 1) * (e - 1))) < 1e-6 * rows[1].variance);
    /* lifting the bit limit lets a k-bit mechanism win for a small domain */
    pinhole_auto_options o = {.max_bits = 1e9, .max_accumulate_ops = 1e9};
    cr_assert_eq(pinhole_mechanism_auto(16, 1, &o, &id), PINHOLE_OK);
    cr_assert_eq(id, PINHOLE_MECH_SS);
    cr_assert_eq(pinhole_mechanism_auto(16, NAN, NULL, &id), PINHOLE_EINVAL);
}

/* Hadamard sums stay in 64 bits: 3e9 reports (beyond int and uint32) give the exact estimates. */
Test(mechanisms, hadamard_large_counts, .init = setup)
{
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_HR, .k = 5, .epsilon = 0.5, .block = 8};
    pinhole_config c;
    cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_OK);
    cr_assert_eq(c.u.hr.d.B, 1);
    uint64_t counts[8] = {0};
    const uint64_t n = UINT64_C(3000000000);
    counts[6] = n; /* y = 6 = 0b110: in C_v iff popcount((v + 1) & 6) is even */
    double est[5];
    cr_assert_eq(pinhole_estimate(&c, counts, n, est, NULL), PINHOLE_OK);
    const double s_in = c.u.hr.d.s_in, r = c.u.hr.d.r_same, gap = s_in - r;
    cr_assert_eq(r, 0.5);
    for (uint64_t v = 0; v < 5; v++) {
        const double T = pinhole_hr_contains(v, 6) ? (double)n : 0;
        cr_assert(fabs(est[v] - (T - 0.5 * (double)n) / gap) < 1e-6 * (double)n / gap,
                  "item %llu: %g", (unsigned long long)v, est[v]);
    }
    cr_assert_gt(est[0], 0); /* v = 0: row 1, popcount(1 & 6) = 0: y inside C_0 */
    cr_assert_lt(est[1], 0); /* v = 1: row 2, popcount(2 & 6) = 1: outside, negative estimate */
    pinhole_config_free(&c);
}

/* HPGR: one block is PGR (same probabilities and variance); the default block space for a large
 * domain has several blocks and at most half of PGR's reconstruction cost. */
Test(mechanisms, hpgr_blocks, .init = setup)
{
    pinhole_pgr g;
    pinhole_hpgr h;
    cr_assert_eq(pinhole_pgr_init(&g, 100, 2, 5, 4), PINHOLE_OK); /* K = 156 >= 100 */
    cr_assert_eq(pinhole_hpgr_init(&h, 100, 2, 5, 4), PINHOLE_OK);
    cr_assert_eq(h.d.B, 1);
    cr_assert(fabs(h.d.s_in - g.s_in) < 1e-12 && fabs(h.d.r_same - g.r) < 1e-12);
    cr_assert(fabs(pinhole_hpgr_variance(&h, 1000, 10) / pinhole_pgr_variance(&g, 1000, 10) - 1) <
              1e-9);
    pinhole_hpgr_free(&h);
    pinhole_pgr_free(&g);
    cr_assert_eq(pinhole_pgr_init(&g, 74286, 4, 0, 0), PINHOLE_OK);
    cr_assert_eq(pinhole_hpgr_init(&h, 74286, 4, 0, 0), PINHOLE_OK);
    cr_assert_geq(h.d.B, 2);
    double pg, ph, bytes;
    pinhole_pgr_cost(g.q, g.t, g.K, g.k, &pg, &bytes);
    pinhole_pgr_cost(h.block.q, h.block.t, h.d.Kb, h.d.Kb, &ph, &bytes);
    cr_assert_leq(ph * (double)h.d.B, pg / 2);
    const double ratio = pinhole_hpgr_variance(&h, 1, 0) / pinhole_pgr_variance(&g, 1, 0);
    cr_assert(ratio > 1 && ratio <= 2, "variance ratio %g", ratio);
    pinhole_hpgr_free(&h);
    pinhole_pgr_free(&g);
}

/* Refused parameters come with a reason; accepted ones with none; an HR block larger than one
 * block (which pinhole_config_init shrinks) is refused for a new collection. */
Test(mechanisms, explain_refusals)
{
    char why[256];
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 74286, .epsilon = 4};
    cr_assert_eq(pinhole_config_explain(&p, why, sizeof why), PINHOLE_OK);
    cr_assert_str_eq(why, "");
    p.q = 6;
    cr_assert_eq(pinhole_config_explain(&p, why, sizeof why), PINHOLE_EINVAL);
    cr_assert(strstr(why, "q = 6 is not a prime power"), "%s", why);
    p.q = 7;
    p.t = 2;
    cr_assert_eq(pinhole_config_explain(&p, why, sizeof why), PINHOLE_EINVAL);
    cr_assert(strstr(why, "K = 8 points < k = 74286; t must be at least 7"), "%s", why);
    p.t = 9;
    cr_assert_eq(pinhole_config_explain(&p, why, sizeof why), PINHOLE_EINVAL);
    cr_assert(strstr(why, "t = 9 is larger than needed"), "%s", why);
    p = (pinhole_config_params){.mechanism = PINHOLE_MECH_SUE, .k = 10, .epsilon = 4,
                                .epsilon_permanent = 3};
    cr_assert_eq(pinhole_config_explain(&p, why, sizeof why), PINHOLE_EINVAL);
    cr_assert(strstr(why, "at least epsilon = 4"), "%s", why);
    p.epsilon_permanent = 4;
    cr_assert_eq(pinhole_config_explain(&p, why, sizeof why), PINHOLE_OK);
    p = (pinhole_config_params){.mechanism = PINHOLE_MECH_HR, .k = 5, .epsilon = 1, .block = 16};
    cr_assert_eq(pinhole_config_explain(&p, why, sizeof why), PINHOLE_EINVAL);
    cr_assert(strstr(why, "at most 8"), "%s", why);
    pinhole_config c; /* the library itself still takes it (stored collections), as 8 */
    cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_OK);
    cr_assert_eq(c.u.hr.b, 8);
    pinhole_config_free(&c);
    p.block = 8;
    cr_assert_eq(pinhole_config_explain(&p, why, sizeof why), PINHOLE_OK);
    p.block = 6;
    cr_assert_eq(pinhole_config_explain(&p, why, sizeof why), PINHOLE_EINVAL);
    cr_assert(strstr(why, "power of two"), "%s", why);
    p = (pinhole_config_params){.mechanism = PINHOLE_MECH_GRR, .k = 1, .epsilon = 1};
    cr_assert_eq(pinhole_config_explain(&p, why, sizeof why), PINHOLE_EINVAL);
    cr_assert(strstr(why, "k must be at least 2"), "%s", why);
    p.k = 10;
    p.epsilon = NAN;
    cr_assert_eq(pinhole_config_explain(&p, why, sizeof why), PINHOLE_EINVAL);
    cr_assert(strstr(why, "epsilon must be"), "%s", why);
}
