/* The constant-time field arithmetic and PGR randomizer reproduce the table-based reference
 * (common/gf.h, common/projective.c) exactly. */
#include "client/pgr.h"
#include "common/ct.h"
#include "common/error.h"
#include "common/gf_ct.h"
#include "common/rng.h"

#include <criterion/criterion.h>
#include <string.h>

Test(ct, masks_match_comparisons)
{
    const uint64_t edge[] = {0,
                             1,
                             2,
                             0x7FFFFFFF,
                             0x80000000u,
                             0xFFFFFFFFu,
                             UINT64_C(1) << 32,
                             (UINT64_C(1) << 63) - 1,
                             UINT64_C(1) << 63,
                             UINT64_MAX};
    const size_t ne = sizeof edge / sizeof edge[0];
    for (size_t i = 0; i < ne; i++)
        for (size_t j = 0; j < ne; j++) {
            uint64_t a = edge[i], b = edge[j];
            cr_assert_eq(pinhole_ct_lt64(a, b), a < b ? UINT64_MAX : 0, "%llu < %llu",
                         (unsigned long long)a, (unsigned long long)b);
            uint32_t a32 = (uint32_t)a, b32 = (uint32_t)b;
            cr_assert_eq(pinhole_ct_lt32(a32, b32), a32 < b32 ? UINT32_MAX : 0);
            cr_assert_eq(pinhole_ct_eq32(a32, b32), a32 == b32 ? UINT32_MAX : 0);
        }
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 11);
    for (int n = 0; n < 100000; n++) {
        uint64_t a = pinhole_rng_u64(&rng) >> (n % 64), b = pinhole_rng_u64(&rng) >> (n / 7 % 64);
        cr_assert_eq(pinhole_ct_lt64(a, b), a < b ? UINT64_MAX : 0);
        uint32_t d = 2 + pinhole_rng_uniform(&rng, 65535), r32, rem;
        uint32_t x = pinhole_rng_u32(&rng);
        cr_assert_eq(pinhole_ct_divmod32(x, d, pinhole_ct_barrett_mu(d), &r32), x / d);
        cr_assert_eq(r32, x % d);
        cr_assert_eq(pinhole_ct_divmod64(a, d, pinhole_ct_barrett_mu(d), 4, &rem), a / d);
        cr_assert_eq(rem, a % d);
    }
    uint32_t rem;
    cr_assert_eq(pinhole_ct_divmod64(UINT64_MAX, 65536, pinhole_ct_barrett_mu(65536), 4, &rem),
                 UINT64_MAX >> 16);
    cr_assert_eq(rem, 65535);
    cr_assert_eq(pinhole_ct_divmod64(0xFFFFFFFFu, 3, pinhole_ct_barrett_mu(3), 2, &rem),
                 0xFFFFFFFFu / 3);
    cr_assert_eq(rem, 0);
    cr_assert_eq(pinhole_ct_divmod32(UINT32_MAX, 2, pinhole_ct_barrett_mu(2), &rem),
                 UINT32_MAX / 2);
}

static void check_field(uint32_t q, int exhaustive)
{
    pinhole_gf F;
    cr_assert_eq(pinhole_gf_init(&F, q), PINHOLE_OK);
    pinhole_gf_ct C;
    pinhole_gf_ct_init(&C, &F);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, q);
    const uint64_t pairs = exhaustive ? (uint64_t)q * q : 200000;
    for (uint64_t n = 0; n < pairs; n++) {
        uint32_t a = exhaustive ? (uint32_t)(n / q) : pinhole_rng_uniform(&rng, q);
        uint32_t b = exhaustive ? (uint32_t)(n % q) : pinhole_rng_uniform(&rng, q);
        cr_assert_eq(pinhole_gf_ct_mul(&C, a, b), pinhole_gf_mul(&F, a, b), "q=%u %u*%u", q, a, b);
        cr_assert_eq(pinhole_gf_ct_add(&C, a, b), pinhole_gf_add(&F, a, b), "q=%u %u+%u", q, a, b);
        cr_assert_eq(pinhole_gf_ct_sub(&C, a, b), pinhole_gf_sub(&F, a, b), "q=%u %u-%u", q, a, b);
    }
    for (uint32_t a = 0; a < q; a += exhaustive ? 1 : 1 + q / 5000)
        cr_assert_eq(pinhole_gf_ct_inv(&C, a), pinhole_gf_inv(&F, a), "q=%u inv %u", q, a);
    pinhole_gf_free(&F);
}

Test(ct, field_arithmetic_matches_tables_small_q)
{
    /* every prime power up to 128: prime fields, GF(2^m) and odd extensions (9, 25, 27, 49, 81,
     * 121, 125) */
    for (uint32_t q = 2; q <= 128; q++)
        if (pinhole_gf_is_prime_power(q, NULL, NULL))
            check_field(q, 1);
}

Test(ct, field_arithmetic_matches_tables_large_q)
{
    const uint32_t qs[] = {65521, 65536, 59049, 32768, 63001, 243, 2187, 4096, 50653, 16807};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
        check_field(qs[i], 0);
}

/* The randomizer's core computed with the tables and the early-exit projective helpers. */
static uint64_t reference_draws(const pinhole_pgr *g, uint64_t value, uint32_t s,
                                const uint32_t *fc)
{
    const pinhole_gf *F = &g->F;
    uint32_t v[PINHOLE_T_MAX], u[PINHOLE_T_MAX];
    pinhole_pspace_vector(&g->S, value, v);
    uint32_t j = 0;
    while (v[j] == 0)
        j++;
    for (uint32_t i = 0, c = 0; i < g->t; i++)
        if (i != j)
            u[i] = fc[c++];
    u[j] = 0;
    u[j] = pinhole_gf_sub(F, s, pinhole_pspace_dot(F, u, v, g->t));
    pinhole_pspace_canonicalize(F, u, g->t);
    return pinhole_pspace_index(&g->S, u);
}

static void check_pgr(uint64_t k, uint32_t q, uint32_t t, int draws_per_value)
{
    pinhole_pgr g;
    cr_assert_eq(pinhole_pgr_init(&g, k, 2.0, q, t), PINHOLE_OK, "q=%u t=%u", q, t);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, q * 100 + t);
    uint32_t fc[PINHOLE_T_MAX];
    for (uint64_t value = 0; value < k; value += 1 + k / 3000) {
        for (int d = 0; d < draws_per_value; d++) {
            uint32_t s = pinhole_rng_uniform(&rng, q), any = s;
            for (uint32_t i = 0; i + 1 < t; i++)
                any |= fc[i] = d == 0 ? 0 : pinhole_rng_uniform(&rng, q);
            uint64_t got = 0;
            int rc = pinhole_pgr_encode_draws(&g, value, s, fc, &got);
            if (any == 0) {
                cr_assert_eq(rc, PINHOLE_EINVAL);
                continue;
            }
            cr_assert_eq(rc, PINHOLE_OK);
            cr_assert_eq(got, reference_draws(&g, value, s, fc), "q=%u t=%u value=%llu", q, t,
                         (unsigned long long)value);
        }
    }
    uint64_t h;
    cr_assert_eq(pinhole_pgr_encode_draws(&g, k, 1, fc, &h), PINHOLE_ERANGE);
    cr_assert_eq(pinhole_pgr_encode(&g, k, &rng, &h), PINHOLE_ERANGE);
    pinhole_pgr_free(&g);
}

Test(ct, pgr_randomizer_matches_reference)
{
    check_pgr(7, 2, 3, 50);        /* every value of a small binary space */
    check_pgr(40, 3, 4, 20);       /* K = 40 */
    check_pgr(21, 4, 3, 30);       /* GF(4) */
    check_pgr(91, 9, 3, 20);       /* GF(9), odd extension */
    check_pgr(1000, 67, 3, 5);     /* prime field */
    check_pgr(74286, 5, 8, 3);     /* SUBTLEX-sized domain */
    check_pgr(1u << 20, 2, 21, 2); /* long vectors over GF(2) */
    check_pgr(65000, 256, 3, 3);   /* GF(2^8) */
    check_pgr(5000, 65521, 2, 3);  /* the largest prime field */
}
