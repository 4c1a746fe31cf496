/* GF(q): field axioms exhaustively for every prime power q <= 64, sampled above; the canonical
 * modulus. */
#include "common/error.h"
#include "common/gf.h"
#include "common/rng.h"

#include <criterion/criterion.h>

static void check_axioms_exhaustive(uint32_t q)
{
    pinhole_gf F;
    cr_assert_eq(pinhole_gf_init(&F, q), PINHOLE_OK, "q = %u", q);
    for (uint32_t a = 0; a < q; a++) {
        cr_assert_eq(pinhole_gf_add(&F, a, 0), a);
        cr_assert_eq(pinhole_gf_mul(&F, a, 1), a);
        cr_assert_eq(pinhole_gf_mul(&F, a, 0), 0);
        cr_assert_eq(pinhole_gf_add(&F, a, pinhole_gf_neg(&F, a)), 0, "q=%u a=%u", q, a);
        if (a)
            cr_assert_eq(pinhole_gf_mul(&F, a, pinhole_gf_inv(&F, a)), 1, "q=%u a=%u", q, a);
        for (uint32_t b = 0; b < q; b++) {
            const uint32_t s = pinhole_gf_add(&F, a, b), m = pinhole_gf_mul(&F, a, b);
            cr_assert(s < q && m < q);
            cr_assert_eq(s, pinhole_gf_add(&F, b, a));
            cr_assert_eq(m, pinhole_gf_mul(&F, b, a));
            cr_assert_eq(pinhole_gf_sub(&F, s, b), a);
            for (uint32_t c = 0; c < q; c++) {
                cr_assert_eq(pinhole_gf_add(&F, s, c),
                             pinhole_gf_add(&F, a, pinhole_gf_add(&F, b, c)));
                cr_assert_eq(pinhole_gf_mul(&F, m, c),
                             pinhole_gf_mul(&F, a, pinhole_gf_mul(&F, b, c)));
                cr_assert_eq(pinhole_gf_mul(&F, a, pinhole_gf_add(&F, b, c)),
                             pinhole_gf_add(&F, m, pinhole_gf_mul(&F, a, c)), "q=%u", q);
            }
        }
    }
    /* characteristic p: 1 added p times is 0, fewer times is not */
    uint32_t x = 0;
    for (uint32_t i = 1; i <= F.p; i++) {
        x = pinhole_gf_add(&F, x, 1);
        cr_assert_eq(x == 0, i == F.p);
    }
    pinhole_gf_free(&F);
}

Test(gf, axioms_exhaustive_up_to_64)
{
    int fields = 0;
    for (uint32_t q = 2; q <= 64; q++) {
        if (pinhole_gf_is_prime_power(q, NULL, NULL)) {
            check_axioms_exhaustive(q);
            fields++;
        }
    }
    cr_assert_eq(fields, 27); /* 18 primes <= 64 and 9 higher prime powers */
}

Test(gf, axioms_sampled_large)
{
    const uint32_t qs[] = {127, 128, 243, 256, 625, 1024, 2187, 4096, 16807, 59049, 65521, 65536};
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 7);
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        pinhole_gf F;
        const uint32_t q = qs[i];
        cr_assert_eq(pinhole_gf_init(&F, q), PINHOLE_OK, "q = %u", q);
        for (uint32_t a = 1; a < q; a++)
            cr_assert_eq(pinhole_gf_mul(&F, a, pinhole_gf_inv(&F, a)), 1, "q=%u a=%u", q, a);
        for (int s = 0; s < 20000; s++) {
            const uint32_t a = pinhole_rng_uniform(&rng, q), b = pinhole_rng_uniform(&rng, q),
                           c = pinhole_rng_uniform(&rng, q);
            cr_assert_eq(pinhole_gf_mul(&F, a, pinhole_gf_add(&F, b, c)),
                         pinhole_gf_add(&F, pinhole_gf_mul(&F, a, b), pinhole_gf_mul(&F, a, c)));
            cr_assert_eq(pinhole_gf_mul(&F, pinhole_gf_mul(&F, a, b), c),
                         pinhole_gf_mul(&F, a, pinhole_gf_mul(&F, b, c)));
            cr_assert_eq(pinhole_gf_add(&F, pinhole_gf_add(&F, a, b), c),
                         pinhole_gf_add(&F, a, pinhole_gf_add(&F, b, c)));
            cr_assert_eq(pinhole_gf_sub(&F, pinhole_gf_add(&F, a, b), b), a);
        }
        pinhole_gf_free(&F);
    }
}

/* The modulus is the monic irreducible with the smallest integer of low coefficients. */
Test(gf, canonical_modulus)
{
    const struct {
        uint32_t q, modulus;
    } want[] = {
        {4, 3},  /* x^2 + x + 1 */
        {8, 3},  /* x^3 + x + 1 (x^3 + 1 and x^3 + x are reducible) */
        {9, 1},  /* x^2 + 1: -1 is not a square mod 3 */
        {16, 3}, /* x^4 + x + 1 */
        {25, 2}, /* x^2 + 2: x^2 + 1 splits since 2^2 = -1 mod 5 */
        {27, 7}, /* x^3 + 2x + 1 */
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        pinhole_gf F;
        cr_assert_eq(pinhole_gf_init(&F, want[i].q), PINHOLE_OK);
        cr_assert_eq(F.modulus, want[i].modulus, "q = %u: modulus %u", want[i].q, F.modulus);
        pinhole_gf_free(&F);
    }
    /* in GF(4) with x^2 = x + 1: x * x = x + 1, i.e. 2 * 2 = 3 */
    pinhole_gf F;
    pinhole_gf_init(&F, 4);
    cr_assert_eq(pinhole_gf_mul(&F, 2, 2), 3);
    pinhole_gf_free(&F);
}

Test(gf, rejects_non_prime_powers)
{
    pinhole_gf F;
    const uint32_t bad[] = {0, 1, 6, 10, 12, 100, 65535, 65537, 70000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(pinhole_gf_init(&F, bad[i]), PINHOLE_EINVAL, "q = %u", bad[i]);
    uint32_t p, m;
    cr_assert(pinhole_gf_is_prime_power(3125, &p, &m));
    cr_assert(p == 5 && m == 5);
    cr_assert(pinhole_gf_is_prime_power(65521, &p, &m));
    cr_assert(p == 65521 && m == 1);
    cr_assert_not(pinhole_gf_is_prime_power(65535, NULL, NULL));
}
