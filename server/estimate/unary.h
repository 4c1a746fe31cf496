/* Estimators of the bit-string mechanisms (OUE, SUE/RAPPOR, Subset Selection): each report's set
 * bits are the items it supports. Sources: Wang et al., USENIX Security 2017, §4.3; Ye & Barg,
 * IEEE Trans. IT 2018, §III. */
#ifndef PINHOLE_SERVER_ESTIMATE_UNARY_H
#define PINHOLE_SERVER_ESTIMATE_UNARY_H

#include <stddef.h>
#include <stdint.h>

/** Add one k-bit report bits[0..ceil(k/8)) into counts[0..k) (counts[i] += bit i). Errors:
 * PINHOLE_ERANGE (a bit set at a position >= k); nothing is added on error. */
int pinhole_bits_accumulate(uint64_t k, const uint8_t *bits, uint64_t *counts);

/** Unbiased estimates est[0..k) = (counts[v] - r n)/(p - r) from n reports. Errors:
 * PINHOLE_ENOREPORTS (n == 0), PINHOLE_EINVAL (a count above n). */
int pinhole_bits_estimate(uint64_t k, double p, double r, const uint64_t *counts, uint64_t n,
                          double *est);

#endif
