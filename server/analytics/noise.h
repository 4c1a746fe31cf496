/* Noise for perturbation methods: standard Gaussian and standard Gumbel draws from a seeded
 * pinhole_rng (common/rng.h). Simulation only: these doubles never drive a privacy decision.
 * Thread-safe with one rng per thread. */
#ifndef PINHOLE_SERVER_ANALYTICS_NOISE_H
#define PINHOLE_SERVER_ANALYTICS_NOISE_H

#include "common/rng.h"

#include <stdint.h>

typedef enum pinhole_noise {
    PINHOLE_NOISE_GAUSSIAN = 0, /* N(0, 1): density exp(-z^2/2)/sqrt(2 pi) */
    PINHOLE_NOISE_GUMBEL = 1,   /* standard Gumbel: density exp(-(z + e^-z)), mean Euler's gamma */
} pinhole_noise;

/** Fill out[0..len) with independent draws of the given noise. Gaussian: Marsaglia's polar method
 * (Marsaglia & Bray, SIAM Review 1964), pairs from points uniform on the unit disc (coordinates on
 * a 2^-31 grid, never 0, read from the keystream in 4 KiB blocks). Gumbel: -log(-log U) with U
 * uniform on the open interval (0, 1) (53-bit grid shifted by half a step). An unknown kind fills
 * zeros. Deterministic given the rng state. */
void pinhole_noise_fill(pinhole_rng *rng, pinhole_noise kind, double *out, uint64_t len);

/** d/dz of -log(density) of the noise at z (the nu'(z) of the perturbation Jacobian formula):
 * z for Gaussian, 1 - e^-z for Gumbel. */
double pinhole_noise_score(pinhole_noise kind, double z);

#endif
