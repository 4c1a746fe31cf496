/* PGR reconstruction: the dynamic program and per-item enumeration equal brute force. */
#include "common/error.h"
#include "common/rng.h"
#include "server/estimate/pgr.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <stdlib.h>

static void check_case(uint32_t q, uint32_t t, uint64_t pad, int kind, uint64_t seed)
{
    pinhole_pspace S;
    cr_assert_eq(pinhole_pspace_init(&S, q, t), PINHOLE_OK);
    const uint64_t k = S.K - pad;
    pinhole_pgr g;
    cr_assert_eq(pinhole_pgr_init(&g, k, 1.0, q, t), PINHOLE_OK);
    uint64_t *y = calloc(g.K, sizeof *y), *want = calloc(k, sizeof *want),
             *got = calloc(k, sizeof *got);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    for (uint64_t h = 0; h < g.K; h++) {
        switch (kind) {
        case 0:
            y[h] = pinhole_rng_uniform(&rng, 1000);
            break; /* random */
        case 1:
            y[h] = 0;
            break; /* all zero */
        case 2:
            y[h] = h == g.K / 2 ? 7 : 0;
            break; /* single nonzero */
        default:
            y[h] = (UINT64_C(1) << 40) - 1 - pinhole_rng_uniform(&rng, 1000); /* near 2^40 */
        }
    }
    brute_reconstruct(&g, y, want);
    const pinhole_pgr_method methods[] = {PINHOLE_PGR_DP, PINHOLE_PGR_ENUM, PINHOLE_PGR_AUTO};
    for (size_t m = 0; m < 3; m++) {
        cr_assert_eq(pinhole_pgr_reconstruct(&g, y, got, methods[m]), PINHOLE_OK);
        for (uint64_t v = 0; v < k; v++)
            cr_assert_eq(got[v], want[v], "q=%u t=%u kind=%d method=%d v=%llu", q, t, kind,
                         (int)methods[m], (unsigned long long)v);
    }
    free(y);
    free(want);
    free(got);
    pinhole_pgr_free(&g);
}

Test(reconstruct, equals_brute_force)
{
    const uint32_t cases[][2] = {{2, 2},  {2, 3},  {2, 6}, {3, 2}, {3, 3}, {3, 5},  {4, 3},
                                 {4, 4},  {5, 3},  {7, 3}, {8, 3}, {9, 3}, {11, 3}, {16, 2},
                                 {16, 3}, {27, 2}, {2, 9}, {5, 4}, {9, 4}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int kind = 0; kind < 4; kind++)
            check_case(cases[i][0], cases[i][1], i % 3, kind, 100 + i);
}

Test(reconstruct, production_shape_t5)
{
    /* q >= 5 with t >= 4 exercises every middle level of the dynamic program */
    check_case(7, 5, 11, 0, 7);
}

Test(reconstruct, rejects_unknown_method)
{
    pinhole_pgr g;
    cr_assert_eq(pinhole_pgr_init(&g, 10, 1.0, 3, 3), PINHOLE_OK);
    uint64_t y[13] = {0}, T[10];
    cr_assert_eq(pinhole_pgr_reconstruct(&g, y, T, (pinhole_pgr_method)9), PINHOLE_EINVAL);
    pinhole_pgr_free(&g);
}
