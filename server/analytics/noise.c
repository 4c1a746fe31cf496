/* Gaussian (polar method) and Gumbel (inverse CDF) draws from the ChaCha20 rng. */
#include "server/analytics/noise.h"

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
    for (uint64_t i = 0; i < len; i += 2) {
        double u, v, s;
        do {
            u = 2 * pinhole_rng_unit(rng) - 1;
            v = 2 * pinhole_rng_unit(rng) - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
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
