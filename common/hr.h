/* Hadamard response: parameters, exact probabilities and variance.
 *
 * Source: J. Acharya, Z. Sun, H. Zhang, "Hadamard Response: Estimating Distributions Privately,
 * Efficiently, and with Little Communication", AISTATS 2019, §3 (the basic scheme) and §4
 * (blocks, for general epsilon).
 * Items are split into B blocks of b - 1 items, b a power of two >= 4 (any k works, not only
 * powers of two); the report is (block j, y) with y in [0, b), written j b + y. Item x at position
 * i = x mod (b - 1) of its block owns the outputs C_x = {(its block, y) : popcount((i + 1) & y)
 * even}, b/2 of them (row i + 1 of the Sylvester Hadamard matrix of order b; row 0, which holds
 * every output, is skipped); two items of one block share exactly b/4. The randomizer is the block
 * design of common/blocks.h with c = b/2, c_int = b/4: a supporting output with probability
 * t_in/2^64, else a non-supporting output of its block or a uniform output of another block.
 * With one block (b > k) this is the basic scheme: P[y in C_x] = e^eps/(e^eps + 1) and a user
 * holding another item lands in C_x with probability exactly 1/2; its per-user variance
 * ((e^eps + 1)/(e^eps - 1))^2 is near the optimum for eps below about 1. Larger eps asks for more,
 * smaller blocks (b about e^eps): the default b minimizes the exact variance. The server computes
 * every support total with one fast Walsh-Hadamard transform per block, O(B b log b). */
#ifndef PINHOLE_COMMON_HR_H
#define PINHOLE_COMMON_HR_H

#include "common/blocks.h"

#include <stdint.h>

typedef struct pinhole_hr {
    uint64_t k;
    uint64_t b; /* outputs per block, a power of two >= 4; b - 1 items per block */
    double epsilon_realized;
    pinhole_blocks d; /* Kb = b, per = b - 1, c_set = b/2, c_int = b/4 */
} pinhole_hr;

/* Largest number of outputs B b accepted (the server transform holds b 64-bit sums per block). */
#define PINHOLE_HR_KMAX (UINT64_C(1) << 30)

/** Configure Hadamard response with block size b (0: the power of two from 4 up to the smallest
 * one above k with the lowest exact variance, other users spread evenly).
 * Errors: PINHOLE_EINVAL (epsilon not finite and > 0, k < 2, b not 0 or a power of two >= 4),
 * PINHOLE_EOVERFLOW (B b > PINHOLE_HR_KMAX). */
int pinhole_hr_init(pinhole_hr *g, uint64_t k, double epsilon, uint64_t b);

/** Exact variance (counts^2) of an item's estimate from n reports, f holding it, the others
 * spread evenly (pinhole_blocks_variance; with one block it does not depend on the others). */
double pinhole_hr_variance(const pinhole_hr *g, double n, double f);

/** 1 if output y (< b) supports the item at position i of a block: popcount((i + 1) & y) even. */
static inline int pinhole_hr_contains(uint64_t i, uint64_t y)
{
    uint64_t x = (i + 1) & y;
    x ^= x >> 32, x ^= x >> 16, x ^= x >> 8, x ^= x >> 4, x ^= x >> 2, x ^= x >> 1;
    return !(x & 1);
}

#endif
