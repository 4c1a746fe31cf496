/* Little-endian integer <-> byte helpers, independent of the host's byte order. */
#ifndef PINHOLE_COMMON_BYTES_H
#define PINHOLE_COMMON_BYTES_H

#include <stddef.h>
#include <stdint.h>

/** Write the low 8n bits of x as n little-endian bytes (bytes past the 8th are 0). */
static inline void pinhole_store_le(uint8_t *out, uint64_t x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = i < 8 ? (uint8_t)(x >> (8 * i)) : 0;
}

/** Read up to 8 little-endian bytes (of n) as an integer; bytes past the 8th are ignored. */
static inline uint64_t pinhole_load_le(const uint8_t *in, size_t n)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        x |= (uint64_t)in[i] << (8 * i);
    return x;
}

#endif
