/* PGR parameters, planner and randomizer: known probabilities, goodness of fit, unbiasedness,
 * variance against the exact formula, and the edge cases of epsilon and k. */
#include "client/encode.h"
#include "client/pgr.h"
#include "common/error.h"
#include "common/mechanism.h"
#include "server/estimate/estimate.h"
#include "server/estimate/pgr.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>

static void setup(void)
{
    cr_assert_geq(sodium_init(), 0);
}

TestSuite(pgr, .init = setup);

/* Asymptotic per-user variance ratio to the optimum: (e^eps - 1 + q)^2 / (4 e^eps (q - 1)). */
static double asym_ratio(double eps, double q)
{
    const double e = exp(eps);
    return (e - 1 + q) * (e - 1 + q) / (4 * e * (q - 1));
}

Test(pgr, planner_uses_exact_variance)
{
    /* at eps = 2 the "next prime above e^eps + 1" rule picks q = 11 and loses 2.3%; q = 8 is best
     */
    pinhole_pgr_choice ch[200];
    size_t n;
    int capped;
    cr_assert_eq(pinhole_pgr_plan(1000000, 2.0, NULL, ch, 200, &n, &capped), PINHOLE_OK);
    cr_assert_eq(ch[0].q, 8);
    cr_assert_eq(capped, 0);
    double r11 = 0;
    for (size_t i = 0; i < n; i++)
        if (ch[i].q == 11)
            r11 = ch[i].ratio;
    cr_assert_gt(r11, 0);
    cr_assert_float_eq(asym_ratio(2.0, 11), 1.0230, 1e-4);
    cr_assert_float_eq(r11 / ch[0].ratio, asym_ratio(2.0, 11) / asym_ratio(2.0, 8), 2e-3);
    cr_assert_gt(r11 / ch[0].ratio, 1.02);
    for (size_t i = 1; i < n; i++)
        if (ch[i].within_budget)
            cr_assert_leq(ch[0].variance, ch[i].variance);

    /* small epsilon: q = 2 at eps = 0.1, q = 3 at eps = 0.7, q = 4 at eps = 1 (large k) */
    cr_assert_eq(pinhole_pgr_plan(1000000, 0.1, NULL, ch, 1, &n, NULL), PINHOLE_OK);
    cr_assert_eq(ch[0].q, 2);
    cr_assert_eq(pinhole_pgr_plan(1000000, 0.7, NULL, ch, 1, &n, NULL), PINHOLE_OK);
    cr_assert_eq(ch[0].q, 3);
    cr_assert_eq(pinhole_pgr_plan(1000000, 1.0, NULL, ch, 1, &n, NULL), PINHOLE_OK);
    cr_assert_eq(ch[0].q, 4);
}

Test(pgr, known_vector_q11_t4)
{
    pinhole_pgr g;
    cr_assert_eq(pinhole_pgr_init(&g, 1024, 2.0, 11, 4), PINHOLE_OK);
    cr_assert_eq(g.K, 1464);
    cr_assert_eq(g.c_set, 133);
    cr_assert_eq(g.c_int, 12);
    cr_assert_eq(g.bits, 11);
    const double e = exp(2.0), want = e * 133 / ((e - 1) * 133 + 1464);
    cr_assert_float_eq(want, 0.4247, 5e-5);
    cr_assert_float_eq(g.s_in, want, 1e-15);
    cr_assert_leq(g.epsilon_realized, 2.0);
    cr_assert_float_eq(g.epsilon_realized, 2.0, 1e-12);

    /* 200,000 reports for v = 500: the fraction inside H_v within 3 sigma of 0.4247 */
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 11);
    uint32_t v[4], h[4];
    pinhole_pspace_vector(&g.S, 500, v);
    const int N = 200000;
    int inside = 0;
    for (int i = 0; i < N; i++) {
        uint64_t rep;
        cr_assert_eq(pinhole_pgr_encode(&g, 500, &rng, &rep), PINHOLE_OK);
        cr_assert_lt(rep, g.K);
        pinhole_pspace_vector(&g.S, rep, h);
        inside += pinhole_pspace_dot(&g.F, v, h, 4) == 0;
    }
    const double sigma = sqrt(want * (1 - want) / N);
    cr_assert_lt(fabs((double)inside / N - want), 3 * sigma, "fraction %f", (double)inside / N);
    pinhole_pgr_free(&g);
}

/* g set up with k = 13, epsilon = 1, q = 3, t = 3 (K = 13 hyperplanes, 4 through each point), and
 * its channel for value 5: p[y] = P[report = y | v = 5], s_in spread over the c_set hyperplanes
 * through the point, the rest over the others. */
static void channel_of_5(pinhole_pgr *g, double p[13])
{
    cr_assert_eq(pinhole_pgr_init(g, 13, 1.0, 3, 3), PINHOLE_OK);
    uint32_t v[3], h[3];
    pinhole_pspace_vector(&g->S, 5, v);
    for (uint64_t i = 0; i < 13; i++) {
        pinhole_pspace_vector(&g->S, i, h);
        p[i] = pinhole_pspace_dot(&g->F, v, h, 3) == 0 ? g->s_in / (double)g->c_set
                                                       : (1 - g->s_in) / (double)(g->K - g->c_set);
    }
}

Test(pgr, chi_square_fixed_value)
{
    /* q = 3, t = 3: K = 13 hyperplanes, 4 through each point. 260,000 reports of v = 5; 12 degrees
     * of freedom, the 0.999 quantile is 32.91 (fixed seed). */
    pinhole_pgr g;
    double p[13];
    channel_of_5(&g, p);
    uint64_t obs[13] = {0};
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 5);
    for (int i = 0; i < 260000; i++) {
        uint64_t rep;
        cr_assert_eq(pinhole_pgr_encode(&g, 5, &rng, &rep), PINHOLE_OK);
        obs[rep]++;
    }
    cr_assert_lt(chi_square(obs, p, 13, 260000), 32.91);
    pinhole_pgr_free(&g);
}

/* The batch path gives exactly the reports of the single path on the same keystream, for prime and
 * extension fields, q = 2, and batch sizes around the inversion group; the generator is left in
 * the same state; a value out of range refuses the whole batch. */
Test(pgr, batch_equals_single_path)
{
    static const struct {
        uint64_t k;
        double eps;
        uint32_t q, t;
    } cases[] = {{74286, 4, 0, 0}, {13, 1, 3, 3},  {21, 2, 4, 3},  {7, 1, 2, 3},
                 {800, 3, 9, 4},   {500, 3, 8, 4}, {5000, 5, 0, 0}};
    static const size_t sizes[] = {0, 1, 63, 64, 65, 1000};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        pinhole_pgr g;
        cr_assert_eq(pinhole_pgr_init(&g, cases[c].k, cases[c].eps, cases[c].q, cases[c].t),
                     PINHOLE_OK);
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            const size_t n = sizes[z];
            uint64_t values[1000], batch[1000], single[1000];
            pinhole_rng vr, a, b;
            pinhole_rng_init_seeded(&vr, 100 + z);
            for (size_t i = 0; i < n; i++)
                values[i] = pinhole_rng_uniform64(&vr, g.k);
            pinhole_rng_init_seeded(&a, 7 + c);
            pinhole_rng_init_seeded(&b, 7 + c);
            cr_assert_eq(pinhole_pgr_encode_batch(&g, values, n, &a, batch), PINHOLE_OK);
            for (size_t i = 0; i < n; i++)
                cr_assert_eq(pinhole_pgr_encode(&g, values[i], &b, &single[i]), PINHOLE_OK);
            for (size_t i = 0; i < n; i++)
                cr_assert_eq(batch[i], single[i], "q=%u t=%u n=%zu i=%zu", g.q, g.t, n, i);
            cr_assert(a.pos == b.pos && a.block == b.block, "the generators diverged");
        }
        uint64_t values[3] = {0, g.k, 1}, out[3] = {5, 5, 5};
        pinhole_rng r;
        pinhole_rng_init_seeded(&r, 1);
        const uint32_t pos = r.pos;
        cr_assert_eq(pinhole_pgr_encode_batch(&g, values, 3, &r, out), PINHOLE_ERANGE);
        cr_assert(out[0] == 5 && out[2] == 5 && r.pos == pos, "nothing drawn or written");
        pinhole_pgr_free(&g);
    }
}

/* The batch path's reports of one value follow the channel: the chi-square test of
 * chi_square_fixed_value on 260,000 batch reports (fixed seed, another stream). */
Test(pgr, chi_square_batch)
{
    pinhole_pgr g;
    double p[13];
    channel_of_5(&g, p);
    uint64_t obs[13] = {0};
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 6);
    uint64_t values[1000], reps[1000];
    for (int i = 0; i < 1000; i++)
        values[i] = 5;
    for (int r = 0; r < 260; r++) {
        cr_assert_eq(pinhole_pgr_encode_batch(&g, values, 1000, &rng, reps), PINHOLE_OK);
        for (int i = 0; i < 1000; i++)
            obs[reps[i]]++;
    }
    cr_assert_lt(chi_square(obs, p, 13, 260000), 32.91);
    pinhole_pgr_free(&g);
}

/* Unbiasedness (mean of R runs within 4 standard errors for every item) and variance (empirical
 * variance averaged over items within 10% of the exact formula averaged over items). */
static void check_unbiased(uint64_t k, double eps, uint32_t q, uint32_t t, int runs, uint64_t seed)
{
    pinhole_config c;
    pinhole_config_params par = {
        .mechanism = PINHOLE_MECH_PGR, .k = k, .epsilon = eps, .q = q, .t = t};
    cr_assert_eq(pinhole_config_init(&c, &par), PINHOLE_OK);
    uint64_t *truth = calloc(k, sizeof *truth), n = 0;
    for (uint64_t v = 0; v < k; v++) /* a skewed histogram with one empty item */
        n += truth[v] = v == 1 ? 0 : 400 / (v + 1) + 10;
    double *sum = calloc(k, sizeof *sum), *sq = calloc(k, sizeof *sq),
           *est = calloc(k, sizeof *est);
    uint64_t *counts = calloc(c.counts_len, sizeof *counts);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    uint8_t payload[8];
    for (int r = 0; r < runs; r++) {
        for (uint64_t i = 0; i < c.counts_len; i++)
            counts[i] = 0;
        for (uint64_t v = 0; v < k; v++)
            for (uint64_t i = 0; i < truth[v]; i++) {
                cr_assert_eq(pinhole_encode(&c, v, &rng, payload, sizeof payload), PINHOLE_OK);
                cr_assert_eq(pinhole_accumulate(&c, payload, c.payload_bytes, counts), PINHOLE_OK);
            }
        cr_assert_eq(pinhole_estimate(&c, counts, n, est, NULL), PINHOLE_OK);
        for (uint64_t v = 0; v < k; v++) {
            sum[v] += est[v];
            sq[v] += est[v] * est[v];
        }
    }
    double emp = 0, theory = 0;
    for (uint64_t v = 0; v < k; v++) {
        const double var = pinhole_config_variance(&c, (double)n, (double)truth[v]);
        const double mean = sum[v] / runs;
        cr_assert_lt(fabs(mean - (double)truth[v]), 4 * sqrt(var / runs),
                     "item %llu mean %f truth %llu", (unsigned long long)v, mean,
                     (unsigned long long)truth[v]);
        emp += (sq[v] - runs * mean * mean) / (runs - 1);
        theory += var;
    }
    cr_assert_lt(fabs(emp / theory - 1), 0.10, "variance ratio %f", emp / theory);
    free(truth);
    free(sum);
    free(sq);
    free(est);
    free(counts);
    pinhole_config_free(&c);
}

Test(pgr, unbiased_and_variance_q3)
{
    check_unbiased(13, 1.0, 3, 3, 300, 21);
}

Test(pgr, unbiased_and_variance_q4_padded)
{
    /* k = 18 < K = 21: three padding points hold no one */
    check_unbiased(18, 2.0, 4, 3, 300, 22);
}

Test(pgr, unbiased_and_variance_q2)
{
    check_unbiased(12, 0.5, 2, 4, 300, 23);
}

Test(pgr, rejects_bad_parameters)
{
    pinhole_pgr g;
    const double bad_eps[] = {0.0, -1.0, NAN, INFINITY, -INFINITY, 1e-300, 1e-17, 9.9e-7};
    for (size_t i = 0; i < sizeof bad_eps / sizeof bad_eps[0]; i++)
        cr_assert_eq(pinhole_pgr_init(&g, 100, bad_eps[i], 0, 0), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_pgr_init(&g, 1, 1.0, 0, 0), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_pgr_init(&g, 0, 1.0, 0, 0), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_pgr_init(&g, 100, 1.0, 6, 0), PINHOLE_EINVAL);     /* not a prime power */
    cr_assert_eq(pinhole_pgr_init(&g, 100, 1.0, 3, 3), PINHOLE_EINVAL);     /* K = 13 < k */
    cr_assert_eq(pinhole_pgr_init(&g, 100, 1.0, 65537, 0), PINHOLE_EINVAL); /* q > 2^16 */
    cr_assert_eq(pinhole_pgr_init(&g, UINT64_MAX, 1.0, 0, 0), PINHOLE_EINVAL); /* k > 2^62 */
    pinhole_pgr_choice ch;
    size_t n;
    cr_assert_eq(pinhole_pgr_plan(100, NAN, NULL, &ch, 1, &n, NULL), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_pgr_plan(1, 1.0, NULL, &ch, 1, &n, NULL), PINHOLE_EINVAL);

    cr_assert_eq(pinhole_pgr_init(&g, 100, 1.0, 0, 0), PINHOLE_OK);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 1);
    uint64_t rep;
    cr_assert_eq(pinhole_pgr_encode(&g, 100, &rng, &rep), PINHOLE_ERANGE);
    cr_assert_eq(pinhole_pgr_encode(&g, UINT64_MAX, &rng, &rep), PINHOLE_ERANGE);
    uint64_t T[100];
    double est[100];
    cr_assert_eq(pinhole_pgr_estimate(&g, T, 0, est), PINHOLE_ENOREPORTS);
    pinhole_pgr_free(&g);
}

Test(pgr, huge_epsilon_is_capped_not_overflowed)
{
    const double eps[] = {20, 50, 700, 1e6, 1e300, 1.7e308};
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++) {
        pinhole_pgr g;
        cr_assert_eq(pinhole_pgr_init(&g, 74286, eps[i], 0, 0), PINHOLE_OK, "eps %g", eps[i]);
        cr_assert(isfinite(g.epsilon_realized) && g.epsilon_realized > 0 &&
                  g.epsilon_realized <= eps[i]);
        cr_assert(g.s_in > g.r && g.s_in <= 1);
        const double var = pinhole_pgr_variance(&g, 1e6, 10);
        cr_assert(isfinite(var) && var >= 0, "eps %g var %g", eps[i], var);
        cr_assert_leq(g.q, PINHOLE_GF_QMAX);
        pinhole_pgr_choice ch;
        size_t n;
        int capped;
        cr_assert_eq(pinhole_pgr_plan(74286, eps[i], NULL, &ch, 1, &n, &capped), PINHOLE_OK);
        cr_assert_eq(capped, 1, "eps %g: the plan must say q is capped", eps[i]);
        cr_assert(ch.within_budget);
        cr_assert(isfinite(ch.ratio) && ch.ratio > 0, "eps %g: ratio %g", eps[i], ch.ratio);
        pinhole_pgr_free(&g);
    }
    cr_assert(isfinite(pinhole_variance_optimum(700)));
    cr_assert_eq(pinhole_variance_optimum(1e6), pinhole_variance_optimum(PINHOLE_EPSILON_CAP));
}

Test(pgr, generic_errors)
{
    pinhole_config c;
    pinhole_config_params par = {.mechanism = PINHOLE_MECH_PGR, .k = 100, .epsilon = 1};
    cr_assert_eq(pinhole_config_init(&c, &par), PINHOLE_OK);
    uint8_t payload[8] = {0xff, 0xff, 0xff, 0, 0, 0, 0, 0};
    uint64_t *counts = calloc(c.counts_len, sizeof *counts);
    cr_assert_eq(pinhole_accumulate(&c, payload, c.payload_bytes, counts), PINHOLE_ERANGE);
    cr_assert_eq(pinhole_accumulate(&c, payload, c.payload_bytes + 1, counts), PINHOLE_EFORMAT);
    double est[100];
    cr_assert_eq(pinhole_estimate(&c, counts, 0, est, NULL), PINHOLE_ENOREPORTS);
    counts[0] = 3;
    cr_assert_eq(pinhole_estimate(&c, counts, 2, est, NULL),
                 PINHOLE_EINVAL); /* counts sum to 3, not 2 */
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 1);
    cr_assert_eq(pinhole_encode(&c, 1, &rng, payload, 0), PINHOLE_EBUFSIZE);
    cr_assert_eq(pinhole_encode(&c, 100, &rng, payload, sizeof payload), PINHOLE_ERANGE);
    free(counts);
    pinhole_config_free(&c);
    par.mechanism = (pinhole_mechanism_id)99;
    cr_assert_eq(pinhole_config_init(&c, &par), PINHOLE_EUNSUPPORTED);
}

/* The default pick is the cheapest plan within PINHOLE_PLAN_TOLERANCE of the lowest variance within
 * budget: at epsilon = 4, k = 165,321 the lowest variance is q = 53, t = 5 (K = 8,042,221, 23 bits)
 * and q = 59, t = 4 (K = 208,920, 18 bits) is 0.018% worse; with no tolerance the former wins. */
Test(pgr, planner_default_is_cheapest_within_tolerance)
{
    pinhole_pgr_choice ch[400];
    size_t n;
    cr_assert_eq(pinhole_pgr_plan(165321, 4.0, NULL, ch, 400, &n, NULL), PINHOLE_OK);
    cr_assert_eq(ch[0].q, 59);
    cr_assert_eq(ch[0].t, 4);
    cr_assert_eq(ch[0].K, 208920);
    cr_assert_eq(ch[0].bits, 18);
    double best = INFINITY;
    for (size_t i = 0; i < n; i++)
        if (ch[i].within_budget && ch[i].variance < best)
            best = ch[i].variance;
    cr_assert_leq(ch[0].variance, best * (1 + PINHOLE_PLAN_TOLERANCE));
    cr_assert_float_eq(ch[0].variance / best, 1.00018, 5e-5);
    for (size_t i = 1; i < n; i++) /* nothing admissible is faster */
        if (ch[i].within_budget && ch[i].variance <= best * (1 + PINHOLE_PLAN_TOLERANCE))
            cr_assert_geq(ch[i].seconds, ch[0].seconds, "q = %u", ch[i].q);
    const pinhole_pgr_plan_options strict = {.variance_tolerance = -1};
    cr_assert_eq(pinhole_pgr_plan(165321, 4.0, &strict, ch, 1, &n, NULL), PINHOLE_OK);
    cr_assert_eq(ch[0].q, 53);
    cr_assert_eq(ch[0].t, 5);
    cr_assert_eq(ch[0].variance, best);
    /* pinhole_pgr_init takes the default pick */
    pinhole_pgr g;
    cr_assert_eq(pinhole_pgr_init(&g, 165321, 4.0, 0, 0), PINHOLE_OK);
    cr_assert_eq(g.q, 59);
    pinhole_pgr_free(&g);
}

/* t = 3 is one block: more threads do not shorten it, and a block too large for the cache runs
 * from memory. At epsilon = 8, k = 165,321 the best variance (q = 2971, t = 3) needs about 8 s
 * (measured 8.3-13 s of CPU), over the 5 s budget, so the default stays within it. */
Test(pgr, planner_t3_large_q_within_budget)
{
    pinhole_pgr_cost_estimate one, two;
    const uint64_t K = 2971ull * 2971 + 2971 + 1;
    pinhole_pgr_cost_model(2971, 3, K, 165321, 1, &one);
    pinhole_pgr_cost_model(2971, 3, K, 165321, 2, &two);
    cr_assert_eq(one.algorithm, PINHOLE_PGR_ALGO_DP);
    cr_assert(one.dp_seconds > 6 && one.dp_seconds < 12, "model %g s", one.dp_seconds);
    cr_assert_gt(two.dp_seconds, 0.95 * one.dp_seconds);
    cr_assert_gt(one.enum_seconds, 2 * one.dp_seconds); /* enumeration misses the cache too */
    pinhole_pgr_choice ch;
    size_t n;
    int capped;
    cr_assert_eq(pinhole_pgr_plan(165321, 8.0, NULL, &ch, 1, &n, &capped), PINHOLE_OK);
    cr_assert_eq(ch.t, 3);
    cr_assert_lt(ch.q, 2971);
    cr_assert(ch.within_budget && ch.seconds <= 5.0, "q %u: %g s", ch.q, ch.seconds);
    cr_assert_eq(capped, 1);
}
