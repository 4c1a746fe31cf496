/* Generalized randomized response (k-RR): parameters, exact probabilities and variance.
 *
 * Source: P. Kairouz, K. Bonawitz, D. Ramage, "Discrete Distribution Estimation under Local
 * Privacy", ICML 2016, §3 (k-RR); T. Wang et al., USENIX Security 2017, §4.2 (direct encoding).
 * A user holding v reports v with probability p = threshold/2^64 (ideally e^eps/(e^eps + k - 1)),
 * else an item drawn uniformly from the k - 1 others. A report is one item: ceil(log2 k) bits. */
#ifndef PINHOLE_COMMON_GRR_H
#define PINHOLE_COMMON_GRR_H

#include <stdint.h>

typedef struct pinhole_grr {
    uint64_t k;              /* domain size */
    uint64_t threshold;      /* P[report = v | v] = threshold / 2^64 */
    double epsilon_realized; /* log of p (k - 1) / (1 - p), <= the requested epsilon */
    double p;                /* realized P[report = v | v] */
    double r;                /* realized P[report = v | w != v] = (1 - p)/(k - 1) */
    uint32_t bits;           /* bits per report, ceil(log2 k) */
} pinhole_grr;

/** Configure k-RR. Errors: PINHOLE_EINVAL (epsilon not finite and > 0, k < 2, k > 2^62). */
int pinhole_grr_init(pinhole_grr *g, uint64_t k, double epsilon);

/** Exact variance (counts^2) of an item's unbiased estimate from n reports, f holding it. */
double pinhole_grr_variance(const pinhole_grr *g, double n, double f);

/** Bits needed to write integers 0..m-1 (0 for m <= 1). */
uint32_t pinhole_bits_for(uint64_t m);

#endif
