/* The PGR reconstruction dynamic program (internal to server/estimate; see pgr.h for the API). */
#ifndef PINHOLE_SERVER_ESTIMATE_PGR_DP_H
#define PINHOLE_SERVER_ESTIMATE_PGR_DP_H

#include "common/pgr.h"
#include "server/estimate/pgr.h"

#include <stdint.h>

/** T[v] = sum of y[h] over hyperplanes h through point v, v in [0, k), by the coordinate dynamic
 * program (Feldman et al. 2022, §4; docs/reconstruction.md). y: K counts summing to n; T: k
 * totals, or, when est is not NULL, est receives (T[v] - r n) / gap in place of T (T unused);
 * threads: pool size (>= 1); count_bits: 16, 32 or 64, the width of the intermediate counts,
 * which must hold n; ws: the tables and buffers to use and keep (NULL: a temporary workspace).
 * Errors: PINHOLE_ENOMEM; PINHOLE_EINVAL (count_bits too narrow or not 16/32/64);
 * PINHOLE_EOVERFLOW (a level has 2^32 or more suffix slots). */
int pinhole_pgr_dp(const pinhole_pgr *g, const uint64_t *y, uint64_t n, uint64_t *T, double *est,
                   unsigned threads, unsigned count_bits, pinhole_pgr_workspace *ws);

/** *n = the sum of the K counts y. Errors: PINHOLE_EOVERFLOW (the sum exceeds 2^64 - 1). */
int pinhole_pgr_sum_counts(const uint64_t *y, uint64_t K, uint64_t *n);

/** The same dynamic program on real weights: out[v] = sum of in[h] over the hyperplanes h through
 * point v, for v in [0, nout), nout <= K (the incidence of P^{t-1}(F_q) is symmetric, so this is
 * also the transposed product). in: K doubles; out must not overlap in. Each output is summed in
 * an order that does not depend on threads. Errors: PINHOLE_ENOMEM; PINHOLE_EINVAL (nout > K);
 * PINHOLE_EOVERFLOW (as pinhole_pgr_dp()). */
int pinhole_pgr_dp_f64(const pinhole_pgr *g, const double *in, double *out, uint64_t nout,
                       unsigned threads, pinhole_pgr_workspace *ws);

/** The sum along lines of a q x q array for prime q, the per-block step of the dynamic program:
 * out[e q + u] = sum_{d < q} h[d q + (u - d e) mod q] for e, u < q (all counts, 32-bit; the caller
 * guarantees no sum exceeds 2^32 - 1). The same vector kernel as the DP, with its table and
 * scratch set up per call. Errors: PINHOLE_EINVAL (q not prime or q > 2^16), PINHOLE_ENOMEM. */
int pinhole_pgr_sum_lines(uint32_t q, const uint32_t *h, uint32_t *out);

#endif
