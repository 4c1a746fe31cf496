/* Shared test helpers: brute-force references and statistics. */
#ifndef PINHOLE_TESTS_HELPERS_H
#define PINHOLE_TESTS_HELPERS_H

#include "common/pgr.h"

#include <stdint.h>

/** T[v] for v < k by testing every hyperplane against every point: O(K k t). Returns 0, or -1 if
 * out of memory. */
int brute_reconstruct(const pinhole_pgr *g, const uint64_t *y, uint64_t *T);

/** The canonical vectors of all K hyperplanes, K x t coordinates (malloc'ed; NULL if out of
 * memory), for brute_total(). */
uint32_t *brute_hyperplanes(const pinhole_pgr *g);

/** T[v] for one point v < K by testing every hyperplane of H (from brute_hyperplanes) against it:
 * O(K t). */
uint64_t brute_total(const pinhole_pgr *g, const uint32_t *H, const uint64_t *y, uint64_t v);

/** The exact output distribution P[report = y | value] of the PGR randomizer as coded, y < K, into
 * P[0..K): every draw pinhole_pgr_encode() can make (the Bernoulli threshold, the dot value s, the
 * free coordinates) enumerated through pinhole_pgr_encode_draws(), the core it runs. O(q^t).
 * Returns 0, or -1 if a draw other than the all-zero one is rejected or a report is out of range.
 */
int pgr_exact_distribution(const pinhole_pgr *g, uint64_t value, long double *P);

/** Chi-square statistic of observed counts against expected probabilities over n cells. */
double chi_square(const uint64_t *observed, const double *prob, uint64_t cells, uint64_t total);

#endif
