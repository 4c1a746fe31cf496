/* Hadamard response: parameters, exact probabilities and variance.
 *
 * Source: J. Acharya, Z. Sun, H. Zhang, "Hadamard Response: Estimating Distributions Privately,
 * Efficiently, and with Little Communication", AISTATS 2019, §3 (the basic scheme).
 * K is the smallest power of two > k (so any k works, not only powers of two); item v owns the
 * set C_v = {y in [0, K) : popcount((v + 1) & y) even} of K/2 outputs (row v + 1 of the Sylvester
 * Hadamard matrix; row 0 is skipped because it holds every output). The randomizer outputs a
 * uniform element of C_v with probability p = threshold/2^64 (ideally e^eps/(e^eps + 1)), else a
 * uniform element of its complement. Two distinct rows agree on exactly half the outputs, so a
 * user holding w != v lands in C_v with probability exactly 1/2. Report: log2 K bits. The
 * per-user variance ((e^eps + 1)/(e^eps - 1))^2 is near the optimum for eps below about 1 and
 * grows like e^eps/4 times the optimum beyond. */
#ifndef PINHOLE_COMMON_HR_H
#define PINHOLE_COMMON_HR_H

#include <stdint.h>

typedef struct pinhole_hr {
    uint64_t k;
    uint64_t K;              /* outputs, a power of two > k */
    uint32_t bits;           /* log2 K */
    uint64_t threshold;      /* P[y in C_v | v] = threshold / 2^64 */
    double epsilon_realized; /* log of p/(1 - p) */
    double p;                /* realized P[y in C_v | v] */
    double r;                /* P[y in C_v | w != v] = 1/2 exactly */
} pinhole_hr;

/* Largest K accepted (the server transform holds K 64-bit sums). */
#define PINHOLE_HR_KMAX (UINT64_C(1) << 30)

/** Configure Hadamard response. Errors: PINHOLE_EINVAL (epsilon, k < 2), PINHOLE_EOVERFLOW
 * (K > PINHOLE_HR_KMAX). */
int pinhole_hr_init(pinhole_hr *g, uint64_t k, double epsilon);

/** Exact variance (counts^2) of an item's unbiased estimate from n reports, f holding it. */
double pinhole_hr_variance(const pinhole_hr *g, double n, double f);

/** 1 if output y lies in C_v (popcount((v + 1) & y) is even), else 0. */
static inline int pinhole_hr_contains(uint64_t v, uint64_t y)
{
    uint64_t x = (v + 1) & y;
    x ^= x >> 32, x ^= x >> 16, x ^= x >> 8, x ^= x >> 4, x ^= x >> 2, x ^= x >> 1;
    return !(x & 1);
}

#endif
