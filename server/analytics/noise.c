/* Gaussian (polar method) and Gumbel (inverse CDF) draws from the ChaCha20 rng. */
#include "server/analytics/noise.h"

#include "common/bytes.h"

#include <math.h>

/* Uniform on (0, 1): 53 random bits plus half a step, never 0 or 1. */
static double open_unit(pinhole_rng *rng)
{
    return ((double)(pinhole_rng_u64(rng) >> 11) + 0.5) * 0x1p-53;
}

void pinhole_noise_fill(pinhole_rng *rng, pinhole_noise kind, double *out, uint64_t len)
{
    if (kind == PINHOLE_NOISE_GUMBEL) {
        for (uint64_t i = 0; i < len; i++)
            out[i] = -log(-log(open_unit(rng)));
        return;
    }
    if (kind != PINHOLE_NOISE_GAUSSIAN) {
        for (uint64_t i = 0; i < len; i++)
            out[i] = 0;
        return;
    }
    /* 32-bit uniforms read from the keystream in blocks: a quarter of the bytes of 53-bit
     * uniforms, plenty for Monte Carlo (the grid is 2^-31 on (-1, 1)) */
    uint8_t block[4096];
    size_t pos = sizeof block;
    for (uint64_t i = 0; i < len; i += 2) {
        double u, v, s;
        do {
            if (pos == sizeof block) {
                pinhole_rng_bytes(rng, block, sizeof block);
                pos = 0;
            }
            u = ((double)pinhole_load_le(block + pos, 4) + 0.5) * 0x1p-31 - 1;
            v = ((double)pinhole_load_le(block + pos + 4, 4) + 0.5) * 0x1p-31 - 1;
            pos += 8;
            s = u * u + v * v;
        } while (s >= 1);
        const double m = sqrt(-2 * log(s) / s);
        out[i] = u * m;
        if (i + 1 < len)
            out[i + 1] = v * m;
    }
}

double pinhole_noise_score(pinhole_noise kind, double z)
{
    return kind == PINHOLE_NOISE_GUMBEL ? 1 - exp(-z) : z;
}
