/* HPGR estimator (server side). Source: Feldman, Nelson, Nguyen, Talwar, ICML 2022, §5. */
#ifndef PINHOLE_SERVER_ESTIMATE_HPGR_H
#define PINHOLE_SERVER_ESTIMATE_HPGR_H

#include "common/hpgr.h"

#include <stdint.h>

/** Unbiased estimates est[0..k) from counts[0..B K') (reports per (block, hyperplane)) and n:
 * each block reconstructed with PGR's dynamic program, then
 * (T_v - r_other n - (r_same - r_other) F_b)/(s_in - r_same), F_b the unbiased block total.
 * Errors: PINHOLE_ENOREPORTS (n == 0), PINHOLE_EINVAL (counts do not sum to n), PINHOLE_ENOMEM. */
int pinhole_hpgr_estimate(const pinhole_hpgr *g, const uint64_t *counts, uint64_t n, double *est);

#endif
