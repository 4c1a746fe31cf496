/* The fast PGR dynamic program against brute force and enumeration, for every (q, t) with
 * K <= 20,000 and q in {2, 3, 4, 5, 7, 8, 9, 11, 16, 27}; count widths, threads, cost model. */
#include "common/error.h"
#include "common/rng.h"
#include "server/estimate/pgr.h"
#include "server/estimate/pgr_dp.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <stdlib.h>

#define KMAX 20000u
/* random counts: brute force on every item when K k t is at most BRUTE_OPS, else on a sample of
 * about BRUTE_OPS / (K t) items, between 20 and 48 (the first 8, the last 8 and random ones);
 * zero and single counts: every item, exactly */
#define BRUTE_OPS 2.0e6

enum { Y_RANDOM_SMALL, Y_RANDOM, Y_ZERO, Y_SINGLE, Y_NEAR_2_40, Y_KINDS };

static void fill(uint64_t *y, uint64_t K, int kind, pinhole_rng *rng)
{
    for (uint64_t h = 0; h < K; h++) {
        switch (kind) {
        case Y_RANDOM_SMALL:
            y[h] = pinhole_rng_uniform(rng, 4);
            break; /* n < 2^16 for K <= 20000 */
        case Y_RANDOM:
            y[h] = pinhole_rng_uniform(rng, 1u << 16);
            break; /* n < 2^32 */
        case Y_NEAR_2_40:
            y[h] = (UINT64_C(1) << 40) - 1 - pinhole_rng_uniform(rng, 1000);
            break;
        default:
            y[h] = 0;
        }
    }
    if (kind == Y_SINGLE)
        y[pinhole_rng_uniform64(rng, K)] = 1 + pinhole_rng_uniform(rng, 1000);
}

/* ws: a workspace shared by every call of a check_q() run, so it is reused across geometries,
 * count widths and value types */
static void check_qt(uint32_t q, uint32_t t, uint64_t k, pinhole_rng *rng,
                     pinhole_pgr_workspace *ws)
{
    pinhole_pgr g;
    cr_assert_eq(pinhole_pgr_init(&g, k, 3.0, q, t), PINHOLE_OK, "init q=%u t=%u", q, t);
    const uint64_t K = g.K;
    uint64_t *y = malloc(K * sizeof *y), *T = malloc(k * sizeof *T), *T2 = malloc(k * sizeof *T2);
    uint64_t *ref = malloc(k * sizeof *ref), *idx = malloc(k * sizeof *idx);
    double *est = malloc(k * sizeof *est), *est2 = malloc(k * sizeof *est2);
    double *yd = malloc(K * sizeof *yd), *Td = malloc(K * sizeof *Td);
    uint32_t *H = brute_hyperplanes(&g);
    cr_assert(y && T && T2 && ref && idx && H && est && est2 && yd && Td);
    for (int kind = 0; kind < Y_KINDS; kind++) {
        fill(y, K, kind, rng);
        uint64_t m = k;
        if (kind == Y_ZERO || kind == Y_SINGLE) {
            uint64_t h0 = 0; /* the one nonzero count, if any */
            while (h0 + 1 < K && y[h0] == 0)
                h0++;
            uint32_t a[PINHOLE_T_MAX];
            for (uint64_t v = 0; v < k; v++) {
                pinhole_pspace_vector(&g.S, v, a);
                idx[v] = v;
                ref[v] = pinhole_pspace_dot(&g.F, a, H + h0 * t, t) == 0 ? y[h0] : 0;
            }
        } else {
            if ((double)K * (double)k * t > BRUTE_OPS) {
                const double want = BRUTE_OPS / ((double)K * t);
                m = want < 20 ? 20 : want > 48 ? 48 : (uint64_t)want;
            }
            for (uint64_t i = 0; i < m; i++) {
                idx[i] = m == k   ? i
                         : i < 8  ? i
                         : i < 16 ? k - 1 - (i - 8)
                                  : pinhole_rng_uniform64(rng, k);
                ref[i] = brute_total(&g, H, y, idx[i]);
            }
        }
        /* the narrowest width (16 bits for small, zero and single counts, 32 for random, 64 near
         * 2^40), and for small counts every wider one too; one thread and three */
        const unsigned widths[] = {0, 16, 32, 64};
        for (size_t w = 0; w < 4; w++) {
            if (w > 0 && kind != Y_RANDOM_SMALL)
                break;
            for (unsigned th = 1; th <= 3; th += 2) {
                pinhole_pgr_reconstruct_options opt = {.method = PINHOLE_PGR_DP,
                                                       .threads = th,
                                                       .count_bits = widths[w],
                                                       .workspace = th == 3 ? ws : NULL};
                uint64_t *out = th == 1 ? T : T2;
                cr_assert_eq(pinhole_pgr_reconstruct_ex(&g, y, out, &opt), PINHOLE_OK,
                             "q=%u t=%u kind=%d bits=%u threads=%u", q, t, kind, widths[w], th);
                for (uint64_t i = 0; i < m; i++)
                    cr_assert_eq(out[idx[i]], ref[i],
                                 "q=%u t=%u k=%llu kind=%d bits=%u threads=%u v=%llu", q, t,
                                 (unsigned long long)k, kind, widths[w], th,
                                 (unsigned long long)idx[i]);
            }
            /* one thread and three give identical totals for every item, sampled or not */
            for (uint64_t v = 0; v < k; v++)
                cr_assert_eq(T[v], T2[v], "q=%u t=%u threads 1 vs 3 differ at v=%llu", q, t,
                             (unsigned long long)v);
        }
        /* the estimates written by the gather are bit for bit those of pinhole_pgr_estimate() */
        uint64_t n = 0;
        for (uint64_t h = 0; h < K; h++)
            n += y[h];
        if (n > 0) {
            const pinhole_pgr_reconstruct_options eo = {.method = PINHOLE_PGR_DP, .workspace = ws};
            cr_assert_eq(pinhole_pgr_reconstruct_estimate(&g, y, est, &eo), PINHOLE_OK);
            cr_assert_eq(pinhole_pgr_estimate(&g, T, n, est2), PINHOLE_OK);
            cr_assert_arr_eq(est, est2, k * sizeof *est, "q=%u t=%u kind=%d", q, t, kind);
        }
        /* the same program on doubles, for all K points: exact on integers below 2^53 */
        if (kind != Y_NEAR_2_40 || K < 2048) {
            for (uint64_t h = 0; h < K; h++)
                yd[h] = (double)y[h];
            cr_assert_eq(pinhole_pgr_dp_f64(&g, yd, Td, K, 2, ws), PINHOLE_OK);
            for (uint64_t v = 0; v < k; v++)
                cr_assert_eq(Td[v], (double)T[v], "f64 q=%u t=%u kind=%d v=%llu", q, t, kind,
                             (unsigned long long)v);
        }
    }
    free(est);
    free(est2);
    free(yd);
    free(Td);
    free(y);
    free(T);
    free(T2);
    free(ref);
    free(idx);
    free(H);
    pinhole_pgr_free(&g);
}

static void check_q(uint32_t q, uint64_t seed)
{
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    pinhole_pgr_workspace *ws = pinhole_pgr_workspace_new();
    cr_assert(ws);
    for (uint32_t t = 2;; t++) {
        pinhole_pspace S;
        cr_assert_eq(pinhole_pspace_init(&S, q, t), PINHOLE_OK);
        if (S.K > KMAX)
            break;
        check_qt(q, t, S.K, &rng, ws); /* every point an item */
        if (S.K > 3)                   /* padding */
            check_qt(q, t, S.K - 1 - pinhole_rng_uniform64(&rng, S.K / 2), &rng, ws);
    }
    pinhole_pgr_workspace_free(ws);
}

Test(reconstruct_fast, q2)
{
    check_q(2, 102);
}
Test(reconstruct_fast, q3)
{
    check_q(3, 103);
}
Test(reconstruct_fast, q4)
{
    check_q(4, 104);
}
Test(reconstruct_fast, q5)
{
    check_q(5, 105);
}
Test(reconstruct_fast, q7)
{
    check_q(7, 107);
}
Test(reconstruct_fast, q8)
{
    check_q(8, 108);
}
Test(reconstruct_fast, q9)
{
    check_q(9, 109);
}
Test(reconstruct_fast, q11)
{
    check_q(11, 111);
}
Test(reconstruct_fast, q16)
{
    check_q(16, 116);
}
Test(reconstruct_fast, q27)
{
    check_q(27, 127);
}
/* q = 53: fourteen vectors per row for 64-bit counts and doubles (one 14-accumulator pass) */
Test(reconstruct_fast, q53)
{
    check_q(53, 153);
}

/* Larger q on a sample. Primes (the contiguous-add kernel with several vector passes per row):
 * t = 3 with every point an item, and t = 4 (two DP levels, as in the epsilon = 5 benchmark) with
 * k below K. Prime powers above 32 (XOR for p = 2, digit-wise subtraction tables for odd p).
 * Brute force costs K t per sampled item. */
Test(reconstruct_fast, large_q_sampled)
{
    const struct {
        uint32_t q, t, samples;
        uint64_t k;
    } cases[] = {
        {37, 3, 40, 37 * 37 + 37 + 1},
        {61, 3, 40, 61 * 61 + 61 + 1},
        {149, 3, 40, 149 * 149 + 149 + 1},
        {37, 4, 16, 50000},
        {53, 4, 8, 148877},
        {49, 3, 16, 49 * 49 + 49 + 1},     /* 7^2: digit-wise subtraction tables */
        {125, 3, 10, 125 * 125 + 125 + 1}, /* 5^3: two low digits, one high */
        {109, 3, 10, 109 * 109 + 109 + 1}, /* 32-bit counts: fourteen vectors per row */
        {81, 3, 12, 81 * 81},              /* 3^4 */
        {64, 3, 12, 64 * 64 + 64 + 1},     /* 2^6: XOR */
        {128, 3, 10, 128 * 128 + 128 + 1}, /* 2^7 */
    };
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 2026);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pinhole_pgr g;
        const uint32_t q = cases[i].q;
        const uint64_t k = cases[i].k;
        cr_assert_eq(pinhole_pgr_init(&g, k, 5.0, q, cases[i].t), PINHOLE_OK);
        uint64_t *y = malloc(g.K * sizeof *y), *T = malloc(k * sizeof *T);
        uint32_t *H = brute_hyperplanes(&g);
        cr_assert(y && T && H);
        for (int kind = 0; kind < Y_KINDS; kind++) {
            fill(y, g.K, kind, &rng);
            cr_assert_eq(pinhole_pgr_reconstruct(&g, y, T, PINHOLE_PGR_DP), PINHOLE_OK);
            for (uint32_t s = 0; s < cases[i].samples; s++) {
                const uint64_t v = s < 4   ? s
                                   : s < 8 ? k - 1 - (s - 4)
                                           : pinhole_rng_uniform64(&rng, k);
                cr_assert_eq(T[v], brute_total(&g, H, y, v), "q=%u t=%u kind=%d v=%llu", q,
                             cases[i].t, kind, (unsigned long long)v);
            }
        }
        free(y);
        free(T);
        free(H);
        pinhole_pgr_free(&g);
    }
}

Test(reconstruct_fast, errors)
{
    pinhole_pgr g;
    cr_assert_eq(pinhole_pgr_init(&g, 100, 2.0, 5, 0), PINHOLE_OK);
    uint64_t *y = calloc(g.K, sizeof *y), T[100];
    cr_assert(y);
    y[3] = 70000; /* n >= 2^16: 16-bit counts refused */
    pinhole_pgr_reconstruct_options opt = {
        .method = PINHOLE_PGR_DP, .threads = 1, .count_bits = 16};
    cr_assert_eq(pinhole_pgr_reconstruct_ex(&g, y, T, &opt), PINHOLE_EINVAL);
    opt.count_bits = 24;
    cr_assert_eq(pinhole_pgr_reconstruct_ex(&g, y, T, &opt), PINHOLE_EINVAL);
    opt.count_bits = 0;
    opt.method = (pinhole_pgr_method)7;
    cr_assert_eq(pinhole_pgr_reconstruct_ex(&g, y, T, &opt), PINHOLE_EINVAL);
    y[4] = UINT64_MAX - 69999; /* the sum wraps */
    cr_assert_eq(pinhole_pgr_reconstruct(&g, y, T, PINHOLE_PGR_DP), PINHOLE_EOVERFLOW);
    free(y);
    pinhole_pgr_free(&g);
}

/* The cost model picks the dynamic program at the benchmark's size and enumeration when c_set is
 * tiny; its memory is the two largest levels, 32-bit counts. */
Test(reconstruct_fast, cost_model)
{
    pinhole_pgr_cost_estimate c;
    const uint64_t K = 149ull * 149 * 149 + 149 * 149 + 149 + 1;
    pinhole_pgr_cost_model(149, 4, K, 3307948, 2, &c);
    cr_assert_eq(c.algorithm, PINHOLE_PGR_ALGO_DP);
    cr_assert_float_eq(c.ops, (double)K * 149 * 4, 1);
    /* levels 2 and 3: 150 x 151 x 149 and 1 x 22352 x 149 counts of 4 bytes, plus small maps */
    const double levels = (150.0 * 151 * 149 + 22352.0 * 149) * 4;
    cr_assert(c.bytes >= levels && c.bytes < levels * 1.05, "bytes %g", c.bytes);
    cr_assert(c.seconds > 0 && c.seconds < c.enum_seconds);
    /* t = 2: the DP is only the final gather, faster than enumeration (measured at k = 60,000,
     * q = 65521: 0.7 against 1.5 ms) */
    pinhole_pgr_cost_model(65521, 2, 65522, 60000, 1, &c);
    cr_assert_eq(c.algorithm, PINHOLE_PGR_ALGO_DP);
    /* t = 3 with k barely above q: one huge block against k (q + 1) tests (measured 0.19 s for the
     * DP, 0.05 s enumerating) */
    pinhole_pgr_cost_model(1021, 3, 1043463, 1023, 1, &c);
    cr_assert_eq(c.algorithm, PINHOLE_PGR_ALGO_ENUM);
    cr_assert_float_eq(c.ops, 1023.0 * 1022 * 3, 1e-3);
}

/* The sum along lines (the DP's per-block kernel) against its definition, including counts whose
 * line sums reach 2^32 - 1, and its refusal of prime powers. */
Test(reconstruct_fast, sum_lines)
{
    const uint32_t qs[] = {2, 3, 5, 17, 37, 67};
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 99);
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        const uint32_t q = qs[i];
        uint32_t *h = malloc((size_t)q * q * sizeof *h), *out = malloc((size_t)q * q * sizeof *out);
        cr_assert(h && out);
        for (int top = 0; top < 2; top++) {
            /* top: every line sums to q floor((2^32 - 1) / q), at most 2^32 - 1 */
            for (size_t j = 0; j < (size_t)q * q; j++)
                h[j] = top ? UINT32_MAX / q : pinhole_rng_uniform(&rng, 1000);
            cr_assert_eq(pinhole_pgr_sum_lines(q, h, out), PINHOLE_OK);
            for (uint32_t e = 0; e < q; e++)
                for (uint32_t u = 0; u < q; u++) {
                    uint64_t s = 0;
                    for (uint32_t d = 0; d < q; d++)
                        s += h[(size_t)d * q + (u + q - (d * e) % q) % q];
                    cr_assert_eq(out[(size_t)e * q + u], s, "q=%u e=%u u=%u", q, e, u);
                }
        }
        free(h);
        free(out);
    }
    uint32_t h[16] = {0}, out[16];
    cr_assert_eq(pinhole_pgr_sum_lines(4, h, out), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_pgr_sum_lines(1, h, out), PINHOLE_EINVAL);
}

/* The planner reports the cost model's time, memory (plus y and T) and algorithm for each row. */
Test(reconstruct_fast, plan_shows_cost)
{
    pinhole_pgr_choice ch[4];
    size_t n = 0;
    const pinhole_pgr_plan_options opt = {.threads = 2};
    cr_assert_eq(pinhole_pgr_plan(3307948, 5.0, &opt, ch, 4, &n, NULL), PINHOLE_OK);
    cr_assert_eq(n, 4);
    for (size_t i = 0; i < n; i++) {
        pinhole_pgr_cost_estimate c;
        pinhole_pgr_cost_model(ch[i].q, ch[i].t, ch[i].K, 3307948, 2, &c);
        cr_assert_eq(ch[i].algorithm, (int)c.algorithm);
        cr_assert_float_eq(ch[i].seconds, c.seconds, 1e-12);
        cr_assert_float_eq(ch[i].memory_bytes, c.bytes + 8.0 * (double)ch[i].K + 8.0 * 3307948,
                           1e-3);
    }
    cr_assert_eq(ch[0].q, 149);
    cr_assert_eq(ch[0].algorithm, PINHOLE_PGR_ALGO_DP);
}
