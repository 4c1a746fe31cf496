/* Buffered ChaCha20 keystream generator over libsodium, with unbiased integer sampling. */
#include "common/rng.h"

#include <math.h>
#include <sodium.h>
#include <string.h>

static void refill(pinhole_rng *rng)
{
    static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
    memset(rng->buf, 0, sizeof rng->buf);
    crypto_stream_chacha20_xor_ic(rng->buf, rng->buf, sizeof rng->buf, nonce, rng->block, rng->key);
    rng->block += sizeof rng->buf / 64;
    rng->pos = 0;
}

void pinhole_rng_init_key(pinhole_rng *rng, const uint8_t key[32])
{
    memcpy(rng->key, key, 32);
    rng->block = 0;
    refill(rng);
}

void pinhole_rng_init_system(pinhole_rng *rng)
{
    uint8_t key[32];
    randombytes_buf(key, sizeof key);
    pinhole_rng_init_key(rng, key);
    sodium_memzero(key, sizeof key);
}

void pinhole_rng_init_seeded(pinhole_rng *rng, uint64_t seed)
{
    uint8_t key[32] = {0};
    for (int i = 0; i < 8; i++)
        key[i] = (uint8_t)(seed >> (8 * i));
    pinhole_rng_init_key(rng, key);
}

void pinhole_rng_bytes(pinhole_rng *rng, void *out, size_t len)
{
    uint8_t *o = out;
    while (len > 0) {
        if (rng->pos == sizeof rng->buf)
            refill(rng);
        size_t n = sizeof rng->buf - rng->pos;
        if (n > len)
            n = len;
        memcpy(o, rng->buf + rng->pos, n);
        rng->pos += (uint32_t)n;
        o += n;
        len -= n;
    }
}

uint64_t pinhole_rng_u64(pinhole_rng *rng)
{
    if (rng->pos + 8 > sizeof rng->buf)
        refill(rng);
    const uint8_t *b = rng->buf + rng->pos;
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x |= (uint64_t)b[i] << (8 * i);
    rng->pos += 8;
    return x;
}

uint32_t pinhole_rng_u32(pinhole_rng *rng)
{
    if (rng->pos + 4 > sizeof rng->buf)
        refill(rng);
    const uint8_t *b = rng->buf + rng->pos;
    uint32_t x = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    rng->pos += 4;
    return x;
}

uint32_t pinhole_rng_uniform(pinhole_rng *rng, uint32_t n)
{
    if (n <= 1)
        return 0;
    /* reject the lowest (2^32 mod n) values so the rest split evenly into n classes */
    const uint32_t min = (uint32_t)(-n) % n;
    uint32_t x;
    do
        x = pinhole_rng_u32(rng);
    while (x < min);
    return x % n;
}

uint64_t pinhole_rng_uniform64(pinhole_rng *rng, uint64_t n)
{
    if (n <= 1)
        return 0;
    const uint64_t min = (uint64_t)(-n) % n;
    uint64_t x;
    do
        x = pinhole_rng_u64(rng);
    while (x < min);
    return x % n;
}

double pinhole_rng_unit(pinhole_rng *rng)
{
    return (double)(pinhole_rng_u64(rng) >> 11) * 0x1.0p-53;
}

double pinhole_rng_normal(pinhole_rng *rng)
{
    /* 1 - unit lies in (0, 1], so the logarithm is finite */
    const double u = 1.0 - pinhole_rng_unit(rng), w = pinhole_rng_unit(rng);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * w);
}

void pinhole_rng_normals(pinhole_rng *rng, double *out, size_t n)
{
    size_t i = 0;
    for (; i + 1 < n; i += 2) {
        const double u = 1.0 - pinhole_rng_unit(rng), w = 6.283185307179586 * pinhole_rng_unit(rng);
        const double r = sqrt(-2.0 * log(u));
        out[i] = r * cos(w);
        out[i + 1] = r * sin(w);
    }
    if (i < n)
        out[i] = pinhole_rng_normal(rng);
}

void pinhole_rng_wipe(pinhole_rng *rng)
{
    sodium_memzero(rng, sizeof *rng);
}
