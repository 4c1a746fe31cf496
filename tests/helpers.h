/* Shared test helpers: brute-force references and statistics. */
#ifndef PINHOLE_TESTS_HELPERS_H
#define PINHOLE_TESTS_HELPERS_H

#include "common/pgr.h"

#include <stdint.h>

/** T[v] for v < k by testing every hyperplane against every point: O(K k t). */
void brute_reconstruct(const pinhole_pgr *g, const uint64_t *y, uint64_t *T);

/** Chi-square statistic of observed counts against expected probabilities over n cells. */
double chi_square(const uint64_t *observed, const double *prob, uint64_t cells, uint64_t total);

#endif
