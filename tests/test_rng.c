/* The ChaCha20 generator: determinism, unbiased uniform integers, exact Bernoulli thresholds. */
#include "common/rng.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <sodium.h>
#include <string.h>

Test(rng, seeded_is_deterministic_and_matches_chacha20)
{
    pinhole_rng a, b;
    pinhole_rng_init_seeded(&a, 42);
    pinhole_rng_init_seeded(&b, 42);
    uint8_t x[1500], y[1500], ref[1500];
    pinhole_rng_bytes(&a, x, sizeof x);
    pinhole_rng_bytes(&b, y, sizeof y);
    cr_assert_eq(memcmp(x, y, sizeof x), 0);
    /* the stream is ChaCha20 (8-byte zero nonce) keyed by the seed, little-endian */
    uint8_t key[32] = {42}, nonce[8] = {0};
    crypto_stream_chacha20(ref, sizeof ref, nonce, key);
    cr_assert_eq(memcmp(x, ref, sizeof x), 0);
    pinhole_rng_init_seeded(&b, 43);
    pinhole_rng_bytes(&b, y, sizeof y);
    cr_assert_neq(memcmp(x, y, sizeof x), 0);
}

Test(rng, uniform_chi_square)
{
    /* n = 7 does not divide 2^32: rejection must keep every class at probability 1/7.
     * 70,000 draws, 6 degrees of freedom: the 0.999 quantile is 22.46 (fixed seed). */
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 1);
    uint64_t obs[7] = {0};
    double p[7];
    for (int i = 0; i < 7; i++)
        p[i] = 1.0 / 7;
    for (int i = 0; i < 70000; i++) {
        uint32_t x = pinhole_rng_uniform(&rng, 7);
        cr_assert_lt(x, 7);
        obs[x]++;
    }
    cr_assert_lt(chi_square(obs, p, 7, 70000), 22.46);
    cr_assert_eq(pinhole_rng_uniform(&rng, 1), 0);
    for (int i = 0; i < 1000; i++)
        cr_assert_lt(pinhole_rng_uniform64(&rng, 3), 3);
}

Test(rng, bernoulli_threshold)
{
    /* threshold 2^62: probability exactly 1/4; 400,000 draws, sd = sqrt(n p (1-p)) = 273.9, 4 sd */
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 9);
    uint64_t hits = 0;
    for (int i = 0; i < 400000; i++)
        hits += (uint64_t)pinhole_rng_bernoulli(&rng, UINT64_C(1) << 62);
    cr_assert_lt(fabs((double)hits - 100000.0), 4 * 273.9);
    /* threshold 0 never fires; UINT64_MAX fires unless the draw is exactly 2^64 - 1 */
    uint64_t never = 0, always = 0;
    for (int i = 0; i < 1000; i++) {
        never += (uint64_t)pinhole_rng_bernoulli(&rng, 0);
        always += (uint64_t)pinhole_rng_bernoulli(&rng, UINT64_MAX);
    }
    cr_assert_eq(never, 0);
    cr_assert_eq(always, 1000);
}

/* The lazy Bernoulli draw of the unary encodings decides u < threshold exactly, u being the next
 * 8 stream bytes read most significant first: checked against the full comparison on a copy of
 * the stream, for thresholds equal to u in their first 0..8 bytes (where the lazy read goes
 * deepest) and random ones. */
Test(rng, bernoulli_lazy_is_exact)
{
    pinhole_rng rng, copy, thresholds;
    pinhole_rng_init_seeded(&rng, 77);
    pinhole_rng_init_seeded(&thresholds, 78);
    for (int i = 0; i < 200000; i++) {
        copy = rng;
        uint8_t b[8];
        pinhole_rng_bytes(&copy, b, 8);
        uint64_t u = 0;
        for (int j = 0; j < 8; j++)
            u = u << 8 | b[j];
        const int same = i % 9; /* leading bytes shared with u */
        uint64_t T = pinhole_rng_u64(&thresholds);
        if (same == 8)
            T = u + (uint64_t)(i % 3) - 1; /* u - 1, u, u + 1 */
        else if (same > 0)
            T = (u & ~(UINT64_MAX >> (8 * same))) | (T & (UINT64_MAX >> (8 * same)));
        const int got = pinhole_rng_bernoulli_lazy(&rng, T);
        cr_assert_eq(got, u < T, "draw %d: u %016llx T %016llx", i, (unsigned long long)u,
                     (unsigned long long)T);
    }
}
