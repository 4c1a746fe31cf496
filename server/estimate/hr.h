/* Hadamard response estimator (server side). Source: Acharya, Sun, Zhang, AISTATS 2019, §3-4
 * (estimation by the fast Walsh-Hadamard transform). */
#ifndef PINHOLE_SERVER_ESTIMATE_HR_H
#define PINHOLE_SERVER_ESTIMATE_HR_H

#include "common/hr.h"

#include <stdint.h>

/** Support totals of the items of block blk: T[i] = number of its reports in C of position i,
 * i < b - 1, from the block's counts[0..b), by a fast Walsh-Hadamard transform in 64-bit signed
 * integers (sums never pass through int or float); w is work space of b entries. */
void pinhole_hr_support(const pinhole_hr *g, const uint64_t *counts, int64_t *w, uint64_t *T);

/** Unbiased estimates est[0..k) from counts[0..B b) and n reports (common/blocks.h).
 * Errors: PINHOLE_ENOREPORTS (n == 0), PINHOLE_EINVAL (counts do not sum to n, or n >= 2^62),
 * PINHOLE_ENOMEM. */
int pinhole_hr_estimate(const pinhole_hr *g, const uint64_t *counts, uint64_t n, double *est);

#endif
