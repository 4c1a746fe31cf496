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

/** The exact output distribution of the PGR randomizer as coded for value v: P[0..K) receives
 * P[report = y | v], computed by enumerating every draw pinhole_pgr_encode() can make (the
 * Bernoulli threshold, the dot value s, the free coordinates) through pinhole_pgr_encode_draws(),
 * the core it runs. Returns 0, or -1 if a draw fails other than by the rejected all-zero draw. */
int pgr_output_distribution(const pinhole_pgr *g, uint64_t v, long double *P);

/** Chi-square statistic of observed counts against expected probabilities over n cells. */
double chi_square(const uint64_t *observed, const double *prob, uint64_t cells, uint64_t total);

#endif
