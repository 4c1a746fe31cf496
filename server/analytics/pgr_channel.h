/* The PGR channel as a linear operator on real vectors, for likelihood methods (analytics).
 *
 * PGR reports hyperplane h for value v with probability beta if v lies on h, else alpha, where
 * beta = s_in / c_set and alpha = (1 - s_in) / (K - c_set) from the realized s_in (common/pgr.h).
 * So the K x k channel is M = alpha 1 1^T + (beta - alpha) I, I the point-hyperplane incidence,
 * and a product with M or M^T costs one incidence product: the coordinate dynamic program of
 * docs/design.md ("PGR"), run on doubles, O(K q t) time, O(K) memory, never a dense K x k matrix.
 * The incidence of P^{t-1}(F_q) is symmetric (u lies on H_v iff v lies on H_u), so the same
 * product maps hyperplane weights to point totals (the reconstruction) and point weights to
 * per-hyperplane sums (its transpose).
 * Source: Feldman, Nelson, Nguyen, Talwar, "Private Frequency Estimation via Projective
 * Geometry", ICML 2022, §3-4. Thread-safe: no global state; g is only read. */
#ifndef PINHOLE_SERVER_ANALYTICS_PGR_CHANNEL_H
#define PINHOLE_SERVER_ANALYTICS_PGR_CHANNEL_H

#include "common/pgr.h"

#include <stdint.h>

/** out[v] = sum of in[h] over the hyperplanes h through point v, for every v in [0, K).
 * in: K weights (any real values), out: K sums; in and out must not overlap. Same result as
 * pinhole_pgr_reconstruct() on integer inputs, but on doubles and for all K points.
 * Errors: PINHOLE_ENOMEM. */
int pinhole_pgr_incidence(const pinhole_pgr *g, const double *in, double *out);

/** Channel probabilities: *alpha = P[report h | v not on h], *beta = P[report h | v on h]. */
void pinhole_pgr_channel(const pinhole_pgr *g, double *alpha, double *beta);

#endif
