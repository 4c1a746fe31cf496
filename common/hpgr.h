/* Hybrid PGR (HPGR): items split into B blocks, each block a smaller projective space.
 *
 * Source: V. Feldman, J. Nelson, H. Nguyen, K. Talwar, "Private Frequency Estimation via
 * Projective Geometry", ICML 2022, §5 (hybrid with blocks, trading accuracy for server time).
 * Item x is point x mod K' of block b = x / K' of P^{t-1}(F_q), K' = (q^t - 1)/(q - 1). A report
 * is a pair (block j, hyperplane h), written j K' + h, one of B K' outputs. The randomizer outputs
 * (j, h) with probability proportional to e^eps if j = b and h contains the user's point, else 1:
 * with probability t_in/2^64 a uniform hyperplane of block b through the point (c = c_set of them);
 * otherwise, with probability t_same/2^64, a uniform hyperplane of block b missing the point, else
 * a uniform hyperplane of a uniform other block. The estimator uses the block totals (unbiased F_b
 * from the block counts) to remove the same-block term: f_v = (T_v - r_other n - (r_same - r_other)
 * F_b) / (s_in - r_same). The server reconstructs each block with PGR's dynamic program: about B K'
 * q t operations instead of PGR's K q t on a space of K >= k points with a larger t. With B = 1 it
 * is PGR. */
#ifndef PINHOLE_COMMON_HPGR_H
#define PINHOLE_COMMON_HPGR_H

#include "common/blocks.h"
#include "common/pgr.h"

#include <stdint.h>

typedef struct pinhole_hpgr {
    uint64_t k;
    double epsilon, epsilon_realized;
    pinhole_pgr block; /* the block space (its k is K'; its own threshold is unused) */
    pinhole_blocks d;  /* the block design: Kb = per = K', c_set, c_int of the block space */
} pinhole_hpgr;

/** Configure HPGR with field order q and block dimension t. Both 0: the lowest variance (other
 * users spread evenly) over prime powers q <= 4096 and t giving at least 2 blocks whose estimated
 * reconstruction cost (pinhole_pgr_cost per block) is at most half of PGR's default, else (or if
 * that variance is over twice PGR's) PGR's (q, t) with one block. Only t = 0: one less than PGR's t
 * for that q (at least 2). Only q = 0: PGR's planner choice of q. Errors: PINHOLE_EINVAL (epsilon,
 * k < 2, q not a prime power <= 2^16, t < 2), PINHOLE_EOVERFLOW (B K' > 2^62), PINHOLE_ENOMEM. Free
 * with pinhole_hpgr_free(). */
int pinhole_hpgr_init(pinhole_hpgr *g, uint64_t k, double epsilon, uint32_t q, uint32_t t);

void pinhole_hpgr_free(pinhole_hpgr *g);

/** Exact variance (counts^2) of an item's estimate from n reports, f holding the item and F_b
 * holding an item of its block (f <= F_b <= n). */
double pinhole_hpgr_variance_block(const pinhole_hpgr *g, double n, double f, double F_b);

/** The variance when the other users are spread evenly over the items:
 * F_b = f + (n - f)(K' - 1)/(k - 1). */
double pinhole_hpgr_variance(const pinhole_hpgr *g, double n, double f);

#endif
