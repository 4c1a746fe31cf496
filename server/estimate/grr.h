/* k-RR estimator (server side). Source: Wang et al., USENIX Security 2017, §4.2. */
#ifndef PINHOLE_SERVER_ESTIMATE_GRR_H
#define PINHOLE_SERVER_ESTIMATE_GRR_H

#include "common/grr.h"

#include <stdint.h>

/** Unbiased count estimates est[0..k) from counts[0..k) (reports per item) and n reports:
 * (counts[v] - r n)/(p - r), possibly negative. Errors: PINHOLE_ENOREPORTS (n == 0),
 * PINHOLE_EINVAL (counts do not sum to n). */
int pinhole_grr_estimate(const pinhole_grr *g, const uint64_t *counts, uint64_t n, double *est);

#endif
