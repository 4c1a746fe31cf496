/* The PGR reconstruction dynamic program (internal to server/estimate; see pgr.h for the API). */
#ifndef PINHOLE_SERVER_ESTIMATE_PGR_DP_H
#define PINHOLE_SERVER_ESTIMATE_PGR_DP_H

#include "common/pgr.h"

#include <stdint.h>

/** T[v] = sum of y[h] over hyperplanes h through point v, v in [0, k), by the coordinate dynamic
 * program (Feldman et al. 2022, §4; docs/reconstruction.md). y: K counts summing to n; threads:
 * pool size (>= 1); count_bits: 16, 32 or 64, the width of the intermediate counts, which must
 * hold n. Errors: PINHOLE_ENOMEM; PINHOLE_EINVAL (count_bits too narrow or not 16/32/64);
 * PINHOLE_EOVERFLOW (a level has 2^32 or more suffix slots). */
int pinhole_pgr_dp(const pinhole_pgr *g, const uint64_t *y, uint64_t n, uint64_t *T,
                   unsigned threads, unsigned count_bits);

/** The sum along lines of a q x q array for prime q, the per-block step of the dynamic program:
 * out[e q + u] = sum_{d < q} h[d q + (u - d e) mod q] for e, u < q (all counts, 32-bit; the caller
 * guarantees no sum exceeds 2^32 - 1). The same vector kernel as the DP, with its table and
 * scratch set up per call. Errors: PINHOLE_EINVAL (q not prime or q > 2^16), PINHOLE_ENOMEM. */
int pinhole_pgr_sum_lines(uint32_t q, const uint32_t *h, uint32_t *out);

#endif
