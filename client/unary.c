/* Unary encoding randomizers: one exact Bernoulli draw per bit, the true bit drawn separately. */
#include "client/unary.h"
#include "common/error.h"

#include <sodium.h>
#include <string.h>

static inline uint8_t next_byte(pinhole_rng *rng)
{
    if (rng->pos < PINHOLE_RNG_BUFBYTES)
        return rng->buf[rng->pos++];
    uint8_t b;
    pinhole_rng_bytes(rng, &b, 1);
    return b;
}

/* 1 with probability T/2^64 exactly: u < T for a uniform 64-bit u read most significant byte
 * first, stopping at the first byte that differs from T's (1 + 1/255 bytes on average). */
static inline int lazy_bernoulli(pinhole_rng *rng, uint64_t T)
{
    for (int s = 56; s >= 0; s -= 8) {
        const uint8_t b = next_byte(rng), t = (uint8_t)(T >> s);
        if (b != t)
            return b < t;
    }
    return 0;
}

static void encode(const pinhole_unary *u, uint64_t value, pinhole_rng *perm, pinhole_rng *irr,
                   uint8_t *bits)
{
    memset(bits, 0, (size_t)((u->k + 7) / 8));
    for (uint64_t i = 0; i < u->k; i++) {
        int b = lazy_bernoulli(perm, i == value ? u->t_true : u->t_noise);
        if (u->t_irr && !lazy_bernoulli(irr, u->t_irr))
            b = !b;
        bits[i >> 3] |= (uint8_t)(b << (i & 7));
    }
}

int pinhole_unary_encode(const pinhole_unary *u, uint64_t value, pinhole_rng *rng, uint8_t *bits)
{
    if (value >= u->k)
        return PINHOLE_ERANGE;
    encode(u, value, rng, rng, bits);
    return PINHOLE_OK;
}

int pinhole_unary_encode_split(const pinhole_unary *u, uint64_t value, pinhole_rng *perm,
                               pinhole_rng *inst, uint8_t *bits)
{
    if (value >= u->k)
        return PINHOLE_ERANGE;
    encode(u, value, perm, inst, bits);
    return PINHOLE_OK;
}

int pinhole_unary_encode_draws(const pinhole_unary *u, uint64_t value, const uint64_t *perm,
                               const uint64_t *irr, uint8_t *bits)
{
    if (value >= u->k)
        return PINHOLE_ERANGE;
    memset(bits, 0, (size_t)((u->k + 7) / 8));
    for (uint64_t i = 0; i < u->k; i++) {
        int b = perm[i] < (i == value ? u->t_true : u->t_noise);
        if (u->t_irr && !(irr[i] < u->t_irr))
            b = !b;
        bits[i >> 3] |= (uint8_t)(b << (i & 7));
    }
    return PINHOLE_OK;
}
