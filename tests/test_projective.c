/* P^{t-1}(F_q): indexing round trips, the documented anchors, incidence counts and K limits. */
#include "common/error.h"
#include "common/projective.h"
#include "common/rng.h"

#include <criterion/criterion.h>
#include <stdlib.h>

Test(projective, index_anchors)
{
    pinhole_pspace S;
    cr_assert_eq(pinhole_pspace_init(&S, 5, 3), PINHOLE_OK);
    cr_assert_eq(S.K, 31);
    uint32_t v[3] = {0, 0, 1};
    cr_assert_eq(pinhole_pspace_index(&S, v), 0);
    for (uint32_t x = 0; x < 5; x++) {
        uint32_t w[3] = {0, 1, x};
        cr_assert_eq(pinhole_pspace_index(&S, w), 1 + x);
    }
    uint32_t last[3] = {1, 4, 4};
    cr_assert_eq(pinhole_pspace_index(&S, last), 30);
    uint32_t mid[3] = {1, 2, 3}; /* 6 + 2*5 + 3 */
    cr_assert_eq(pinhole_pspace_index(&S, mid), 19);
}

Test(projective, round_trip_and_canonical)
{
    const uint32_t qs[] = {2, 3, 4, 8, 9, 13};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        for (uint32_t t = 2; t <= 4; t++) {
            pinhole_pspace S;
            cr_assert_eq(pinhole_pspace_init(&S, qs[i], t), PINHOLE_OK);
            uint32_t v[8];
            for (uint64_t x = 0; x < S.K; x++) {
                cr_assert_eq(pinhole_pspace_vector(&S, x, v), PINHOLE_OK);
                uint32_t j = 0;
                while (v[j] == 0)
                    j++;
                cr_assert_eq(v[j], 1);
                cr_assert_eq(pinhole_pspace_index(&S, v), x);
            }
            cr_assert_eq(pinhole_pspace_vector(&S, S.K, v), PINHOLE_ERANGE);
        }
    }
}

/* Every hyperplane holds c_set points; every two distinct points lie on c_int common hyperplanes.
 */
static void check_incidence(uint32_t q, uint32_t t)
{
    pinhole_gf F;
    pinhole_pspace S;
    cr_assert_eq(pinhole_gf_init(&F, q), PINHOLE_OK);
    cr_assert_eq(pinhole_pspace_init(&S, q, t), PINHOLE_OK);
    const uint64_t K = S.K;
    uint32_t *vec = malloc(K * t * sizeof *vec);
    unsigned char *inc = malloc(K * K);
    for (uint64_t x = 0; x < K; x++)
        pinhole_pspace_vector(&S, x, vec + x * t);
    for (uint64_t h = 0; h < K; h++) {
        uint64_t on = 0;
        for (uint64_t x = 0; x < K; x++) {
            inc[h * K + x] = pinhole_pspace_dot(&F, vec + h * t, vec + x * t, t) == 0;
            on += inc[h * K + x];
        }
        cr_assert_eq(on, pinhole_pspace_c_set(&S), "q=%u t=%u h=%llu", q, t, (unsigned long long)h);
    }
    for (uint64_t a = 0; a < K; a++) {
        for (uint64_t b = a + 1; b < K; b++) {
            uint64_t common = 0;
            for (uint64_t h = 0; h < K; h++)
                common += inc[h * K + a] & inc[h * K + b];
            cr_assert_eq(common, pinhole_pspace_c_int(&S), "q=%u t=%u", q, t);
        }
    }
    free(vec);
    free(inc);
    pinhole_gf_free(&F);
}

Test(projective, incidence_small_spaces)
{
    const uint32_t cases[][2] = {{2, 3}, {2, 4}, {2, 5}, {3, 3}, {3, 4},
                                 {4, 3}, {4, 4}, {5, 3}, {8, 3}, {9, 3}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_incidence(cases[i][0], cases[i][1]);
}

Test(projective, k_limits)
{
    pinhole_pspace S;
    cr_assert_eq(pinhole_pspace_init(&S, 2, 62), PINHOLE_OK);
    cr_assert_eq(S.K, (UINT64_C(1) << 62) - 1);
    cr_assert_eq(pinhole_pspace_init(&S, 2, 63), PINHOLE_EOVERFLOW);
    cr_assert_eq(pinhole_pspace_init(&S, 65536, 4), PINHOLE_OK);
    cr_assert_eq(pinhole_pspace_init(&S, 65536, 5), PINHOLE_EOVERFLOW);
    cr_assert_eq(pinhole_pspace_init(&S, 65521, 5), PINHOLE_EOVERFLOW);
    cr_assert_eq(pinhole_pspace_init(&S, 3, 1), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_pspace_init(&S, 1, 3), PINHOLE_EINVAL);
    uint32_t t;
    cr_assert_eq(pinhole_pspace_min_dim(53, 74286, &t), PINHOLE_OK);
    cr_assert_eq(t, 4);
    cr_assert_eq(pinhole_pspace_min_dim(2, UINT64_C(1) << 62, &t), PINHOLE_EOVERFLOW);
    cr_assert_eq(pinhole_pspace_min_dim(2, (UINT64_C(1) << 62) - 1, &t), PINHOLE_OK);
    cr_assert_eq(t, 62);

    /* round trips at random indices of the largest spaces */
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 3);
    const uint32_t big[][2] = {{2, 62}, {65521, 4}, {65536, 4}, {3, 39}};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        cr_assert_eq(pinhole_pspace_init(&S, big[i][0], big[i][1]), PINHOLE_OK);
        uint32_t v[PINHOLE_T_MAX];
        for (int s = 0; s < 2000; s++) {
            const uint64_t x = s == 0 ? S.K - 1 : pinhole_rng_uniform64(&rng, S.K);
            cr_assert_eq(pinhole_pspace_vector(&S, x, v), PINHOLE_OK);
            cr_assert_eq(pinhole_pspace_index(&S, v), x);
        }
    }
}
