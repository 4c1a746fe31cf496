/* Subset Selection: parameters, exact probabilities and variance.
 *
 * Source: M. Ye, A. Barg, "Optimal Schemes for Discrete Distribution Estimation under Locally
 * Differential Privacy", IEEE Trans. Inf. Theory 64(8), 2018, §III; S. Wang et al., "Mutual
 * Information Optimally Local Private Discrete Distribution Estimation", 2016.
 * A report is a subset Z of d items: P[Z | v] is proportional to e^eps if v is in Z, else 1. The
 * randomizer includes v with probability p = threshold/2^64 (ideally d e^eps/(d e^eps + k - d)),
 * then draws the other d - 1 (or d) items uniformly from the k - 1 items other than v. The payload
 * is the k-bit indicator string of Z (bit i of byte i/8 = item i). */
#ifndef PINHOLE_COMMON_SS_H
#define PINHOLE_COMMON_SS_H

#include <stdint.h>

typedef struct pinhole_ss {
    uint64_t k;
    uint64_t d;              /* subset size, 1 <= d < k */
    uint64_t threshold;      /* P[v in Z | v] = threshold / 2^64 */
    double epsilon_realized; /* log of p (k - d) / ((1 - p) d) */
    double p;                /* realized P[v in Z | v] */
    double r;                /* realized P[v in Z | w != v] = (p (d - 1) + (1 - p) d)/(k - 1) */
} pinhole_ss;

/** Configure Subset Selection; d is the floor or ceiling of k/(e^eps + 1) (at least 1, below k),
 * whichever has the lower exact variance. Errors: PINHOLE_EINVAL (epsilon, k < 2),
 * PINHOLE_EOVERFLOW (k bits exceed PINHOLE_PAYLOAD_MAXBYTES). */
int pinhole_ss_init(pinhole_ss *g, uint64_t k, double epsilon);

/** Exact variance (counts^2) of an item's unbiased estimate from n reports, f holding it. */
double pinhole_ss_variance(const pinhole_ss *g, double n, double f);

#endif
