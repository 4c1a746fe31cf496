/* The PGR channel as a linear operator on real vectors, for likelihood methods (analytics).
 *
 * PGR reports hyperplane h for value v with probability beta if v lies on h, else alpha, where
 * beta = s_in / c_set and alpha = (1 - s_in) / (K - c_set) from the realized s_in (common/pgr.h).
 * So the K x k channel is M = alpha 1 1^T + (beta - alpha) I, I the point-hyperplane incidence,
 * and a product with M or M^T costs one incidence product: the reconstruction's coordinate dynamic
 * program (docs/reconstruction.md) run on doubles, O(K q t) time, O(K) memory, never a dense
 * K x k matrix.
 * The incidence of P^{t-1}(F_q) is symmetric (u lies on H_v iff v lies on H_u), so the same
 * product maps hyperplane weights to point totals (the reconstruction) and point weights to
 * per-hyperplane sums (its transpose).
 * Source: Feldman, Nelson, Nguyen, Talwar, "Private Frequency Estimation via Projective
 * Geometry", ICML 2022, §3-4. Thread-safe: no global state; g is only read; a workspace serves
 * one caller at a time. */
#ifndef PINHOLE_SERVER_ANALYTICS_PGR_CHANNEL_H
#define PINHOLE_SERVER_ANALYTICS_PGR_CHANNEL_H

#include "common/pgr.h"
#include "server/estimate/pgr.h"

#include <stdint.h>

/** out[v] = sum of in[h] over the hyperplanes h through point v, for every v in [0, K).
 * in: K weights (any real values), out: K sums; in and out must not overlap. Same result as
 * pinhole_pgr_reconstruct() on integer inputs, but on doubles and for all K points.
 * Errors: PINHOLE_ENOMEM. */
int pinhole_pgr_incidence(const pinhole_pgr *g, const double *in, double *out);

/** Like pinhole_pgr_incidence() for the first nout <= K points only (out: nout sums), with the
 * tables and buffers of ws (NULL: a temporary workspace) and threads threads (0: as
 * pinhole_pgr_incidence_threads()). Each sum is added in an order that does not depend on the
 * thread count. Errors: PINHOLE_ENOMEM, PINHOLE_EINVAL (nout > K), PINHOLE_EOVERFLOW (a geometry
 * too large for 32-bit positions). */
int pinhole_pgr_incidence_ex(const pinhole_pgr *g, const double *in, double *out, uint64_t nout,
                             pinhole_pgr_workspace *ws, unsigned threads);

/** The default thread count of the product: 1 when the cost model expects under a millisecond of
 * work, else the online cores. */
unsigned pinhole_pgr_incidence_threads(const pinhole_pgr *g);

/** Channel probabilities: *alpha = P[report h | v not on h], *beta = P[report h | v on h]. */
void pinhole_pgr_channel(const pinhole_pgr *g, double *alpha, double *beta);

#endif
