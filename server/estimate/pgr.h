/* PGR estimator (server side): hyperplane counts -> per-item totals T_v -> unbiased estimates.
 * Source: Feldman, Nelson, Nguyen, Talwar, "Private Frequency Estimation via Projective
 * Geometry", ICML 2022, §4 (reconstruction by dynamic programming); docs/design.md, "PGR". */
#ifndef PINHOLE_SERVER_ESTIMATE_PGR_H
#define PINHOLE_SERVER_ESTIMATE_PGR_H

#include "common/pgr.h"

#include <stdint.h>

typedef enum pinhole_pgr_method {
    PINHOLE_PGR_AUTO = 0, /* the faster of the two by the cost model pinhole_pgr_cost_model() */
    PINHOLE_PGR_DP = 1,   /* dynamic program over coordinates, O(K q t) time, O(K) memory */
    PINHOLE_PGR_ENUM = 2, /* per item, enumerate the c_set hyperplanes through it: O(k c_set t) */
} pinhole_pgr_method;

#define PINHOLE_PGR_THREADS_MAX 256u /* larger thread counts are reduced to this */

/** The dynamic program's tables (of one geometry q, t), level buffers, scratch and thread pool,
 * kept between calls so that a repeated reconstruction allocates nothing and touches no new page.
 * Owned by one caller at a time (not thread-safe); a server keeps one per worker thread. It grows
 * to the largest problem it has served (about 2 K counts of the widest type used) and holds its
 * pool's threads until pinhole_pgr_workspace_free(). */
typedef struct pinhole_pgr_workspace pinhole_pgr_workspace;
#define PINHOLE_PGR_HAVE_WORKSPACE 1 /* for code that also builds against older trees */

/** A new, empty workspace (nothing allocated until first use), or NULL when out of memory. */
pinhole_pgr_workspace *pinhole_pgr_workspace_new(void);

/** Free ws and everything it holds, stopping its threads; NULL is ignored. */
void pinhole_pgr_workspace_free(pinhole_pgr_workspace *ws);

typedef struct pinhole_pgr_reconstruct_options {
    pinhole_pgr_method method; /* PINHOLE_PGR_AUTO (0) by default */
    unsigned threads;          /* threads for the dynamic program; 0 = online cores (1 when the
                                * cost model expects under a millisecond of work) */
    unsigned count_bits;       /* width of the DP's intermediate counts: 0 = the narrowest of
                                * 16, 32, 64 that holds n = sum of y; or 16, 32, 64 to force one
                                * (refused if narrower than n needs) */
    pinhole_pgr_workspace *workspace; /* tables and buffers to reuse (the DP keeps its pool's
                                       * threads there); NULL = a temporary one for this call */
} pinhole_pgr_reconstruct_options;

/** T[v] = sum of y[h] over the hyperplanes h that contain point v, for v in [0, k).
 * y: K hyperplane report counts; T: k totals (counts). Same as pinhole_pgr_reconstruct_ex() with
 * the method given and the other options at their defaults.
 * Errors: PINHOLE_ENOMEM; PINHOLE_EINVAL for an unknown method; PINHOLE_EOVERFLOW if the sum of y
 * does not fit in 64 bits. */
int pinhole_pgr_reconstruct(const pinhole_pgr *g, const uint64_t *y, uint64_t *T,
                            pinhole_pgr_method method);

/** Like pinhole_pgr_reconstruct() with options (NULL = defaults). The dynamic program (Feldman et
 * al. 2022, §4; docs/reconstruction.md) runs on a pthread pool of opt->threads threads, in
 * O(K q t) time and about 2 K counts of count_bits bits of memory; results are exact and do not
 * depend on the thread count. Errors: PINHOLE_ENOMEM; PINHOLE_EINVAL (unknown method, count_bits
 * not 0/16/32/64 or too narrow for the sum of y); PINHOLE_EOVERFLOW (sum of y exceeds 2^64 - 1, or
 * a DP table would need more than 2^32 suffix slots). */
int pinhole_pgr_reconstruct_ex(const pinhole_pgr *g, const uint64_t *y, uint64_t *T,
                               const pinhole_pgr_reconstruct_options *opt);

/** The unbiased estimates straight from the counts: est[v] = (T[v] - r n) / (s_in - r), v in [0,
 * k), n = sum of y, with T as pinhole_pgr_reconstruct_ex() computes it (the dynamic program writes
 * the estimates as it gathers the totals, so no k totals are stored). Bit for bit the same as
 * pinhole_pgr_reconstruct_ex() followed by pinhole_pgr_estimate(). Errors: those of
 * pinhole_pgr_reconstruct_ex(), and PINHOLE_ENOREPORTS if n == 0. */
int pinhole_pgr_reconstruct_estimate(const pinhole_pgr *g, const uint64_t *y, double *est,
                                     const pinhole_pgr_reconstruct_options *opt);

/** Unbiased count estimates from the totals: est[v] = (T[v] - r n) / (s_in - r), v in [0, k),
 * possibly negative. n is the number of reports. Errors: PINHOLE_ENOREPORTS if n == 0. */
int pinhole_pgr_estimate(const pinhole_pgr *g, const uint64_t *T, uint64_t n, double *est);

#endif
