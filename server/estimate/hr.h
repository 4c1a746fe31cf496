/* Hadamard response estimator (server side). Source: Acharya, Sun, Zhang, AISTATS 2019, §3-4
 * (estimation by the fast Walsh-Hadamard transform). */
#ifndef PINHOLE_SERVER_ESTIMATE_HR_H
#define PINHOLE_SERVER_ESTIMATE_HR_H

#include "common/hr.h"

#include <stdint.h>

/** T[v] = number of reports in C_v for v < k, from counts[0..K), by a fast Walsh-Hadamard
 * transform in 64-bit signed integers (O(K log K); sums never pass through int or float).
 * Errors: PINHOLE_ENOMEM. */
int pinhole_hr_support(const pinhole_hr *g, const uint64_t *counts, uint64_t n, uint64_t *T);

/** Unbiased estimates est[0..k) = (T_v - n/2)/(p - 1/2). Errors: PINHOLE_ENOREPORTS (n == 0),
 * PINHOLE_EINVAL (counts do not sum to n, or n >= 2^62), PINHOLE_ENOMEM. */
int pinhole_hr_estimate(const pinhole_hr *g, const uint64_t *counts, uint64_t n, double *est);

#endif
