/* PGR estimator (server side): hyperplane counts -> per-item totals T_v -> unbiased estimates.
 * Source: Feldman, Nelson, Nguyen, Talwar, "Private Frequency Estimation via Projective
 * Geometry", ICML 2022, §4 (reconstruction by dynamic programming); DESIGN.md §2. */
#ifndef PINHOLE_SERVER_ESTIMATE_PGR_H
#define PINHOLE_SERVER_ESTIMATE_PGR_H

#include "common/pgr.h"

#include <stdint.h>

typedef enum pinhole_pgr_method {
    PINHOLE_PGR_AUTO = 0, /* the cheaper of the two by pinhole_pgr_cost() */
    PINHOLE_PGR_DP = 1,   /* dynamic program over coordinates, O(K q t) time, O(K) memory */
    PINHOLE_PGR_ENUM = 2, /* per item, enumerate the c_set hyperplanes through it: O(k c_set t) */
} pinhole_pgr_method;

/** T[v] = sum of y[h] over the hyperplanes h that contain point v, for v in [0, k).
 * y: K hyperplane report counts; T: k totals (counts). Totals are exact as long as the sum of y
 * fits in 64 bits. Errors: PINHOLE_ENOMEM; PINHOLE_EINVAL for an unknown method. */
int pinhole_pgr_reconstruct(const pinhole_pgr *g, const uint64_t *y, uint64_t *T,
                            pinhole_pgr_method method);

/** Unbiased count estimates from the totals: est[v] = (T[v] - r n) / (s_in - r), v in [0, k),
 * possibly negative. n is the number of reports. Errors: PINHOLE_ENOREPORTS if n == 0. */
int pinhole_pgr_estimate(const pinhole_pgr *g, const uint64_t *T, uint64_t n, double *est);

#endif
