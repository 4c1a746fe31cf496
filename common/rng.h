/* The randomness interface (docs/design.md, "Privacy as run"): a ChaCha20 keystream (libsodium)
 * read through a buffer.
 *
 * pinhole_rng_init_system() keys it from libsodium's randombytes_buf() (the OS generator), for
 * privacy-bearing use; pinhole_rng_init_seeded() keys it from a caller's seed, for reproducible
 * tests and simulations. Uniform integers are drawn by rejection (no modulo bias) and Bernoulli
 * choices compare a 64-bit uniform with an integer threshold. Never rand().
 *
 * A pinhole_rng is plain caller-owned state: one per thread, no locking, no allocation. libsodium
 * must have been initialised (sodium_init() >= 0) before pinhole_rng_init_system(). */
#ifndef PINHOLE_COMMON_RNG_H
#define PINHOLE_COMMON_RNG_H

#include <stddef.h>
#include <stdint.h>

#define PINHOLE_RNG_BUFBYTES 512u

typedef struct pinhole_rng {
    uint8_t key[32];                   /* ChaCha20 key */
    uint64_t block;                    /* next 64-byte block counter */
    uint32_t pos;                      /* bytes of buf already used */
    uint8_t buf[PINHOLE_RNG_BUFBYTES]; /* keystream not yet used */
} pinhole_rng;

/** Key the generator with 32 fresh bytes from randombytes_buf(). */
void pinhole_rng_init_system(pinhole_rng *rng);

/** Key the generator deterministically from a 64-bit seed (the key is the seed, little-endian,
 * zero-padded). The same seed gives the same stream on every platform. */
void pinhole_rng_init_seeded(pinhole_rng *rng, uint64_t seed);

/** Key the generator from a 32-byte key (for example one derived from a device secret). */
void pinhole_rng_init_key(pinhole_rng *rng, const uint8_t key[32]);

/** Fill out[0..len) with keystream bytes. */
void pinhole_rng_bytes(pinhole_rng *rng, void *out, size_t len);

/** Uniform 64-bit integer (8 keystream bytes, little-endian). */
uint64_t pinhole_rng_u64(pinhole_rng *rng);

/** Uniform 32-bit integer. */
uint32_t pinhole_rng_u32(pinhole_rng *rng);

/** Uniform integer in [0, n) for n >= 1, by rejection sampling on 32-bit words (no modulo bias). */
uint32_t pinhole_rng_uniform(pinhole_rng *rng, uint32_t n);

/** Uniform integer in [0, n) for n >= 1, by rejection on 64-bit words. */
uint64_t pinhole_rng_uniform64(pinhole_rng *rng, uint64_t n);

/** Bernoulli draw: 1 with probability threshold / 2^64 exactly. */
static inline int pinhole_rng_bernoulli(pinhole_rng *rng, uint64_t threshold)
{
    return pinhole_rng_u64(rng) < threshold;
}

/** Bernoulli draw as pinhole_rng_bernoulli(), 1 with probability threshold / 2^64 exactly, reading
 * the 64-bit uniform most significant byte first and only until its first byte that differs from
 * the threshold's (1 + 1/255 bytes on average instead of 8): u < threshold is decided by that
 * byte. For the unary encodings, which draw one Bernoulli per item. */
static inline int pinhole_rng_bernoulli_lazy(pinhole_rng *rng, uint64_t threshold)
{
    for (int s = 56; s >= 0; s -= 8) {
        uint8_t b;
        if (rng->pos < PINHOLE_RNG_BUFBYTES)
            b = rng->buf[rng->pos++];
        else
            pinhole_rng_bytes(rng, &b, 1);
        const uint8_t t = (uint8_t)(threshold >> s);
        if (b != t)
            return b < t;
    }
    return 0;
}

/** Uniform double in [0, 1) with 53 random bits (for simulations, never for privacy choices). */
double pinhole_rng_unit(pinhole_rng *rng);

/** Standard normal N(0, 1) draw by the Box-Muller transform of two pinhole_rng_unit() values (for
 * simulations and random initialisations, never for privacy choices). */
double pinhole_rng_normal(pinhole_rng *rng);

/** Fill out[0..n) with independent N(0, 1) draws, using both outputs of each Box-Muller pair
 * (about twice as fast per draw as pinhole_rng_normal()). */
void pinhole_rng_normals(pinhole_rng *rng, double *out, size_t n);

/** Erase the generator state (sodium_memzero). */
void pinhole_rng_wipe(pinhole_rng *rng);

#endif
