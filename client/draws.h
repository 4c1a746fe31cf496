/* Randomness as the unary and Subset Selection randomizers consume it: Bernoulli draws against
 * integer thresholds and uniform integers. The randomizers read it from an rng; the exact-privacy
 * tests (tests/test_privacy_baselines.c) from an enumerator of every outcome, weighted by the
 * thresholds and ranges the code itself asks for, so that they check the code apps run. */
#ifndef PINHOLE_CLIENT_DRAWS_H
#define PINHOLE_CLIENT_DRAWS_H

#include <stdint.h>

typedef struct pinhole_draws {
    int (*bernoulli)(void *ctx, uint64_t threshold); /* 1 with probability threshold / 2^64 */
    uint64_t (*uniform)(void *ctx, uint64_t n);      /* uniform in [0, n), n >= 1 */
    void *ctx;
} pinhole_draws;

#endif
