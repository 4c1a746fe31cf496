/* Consistency: turn unbiased but noisy count estimates into a histogram (x >= 0, sum x = n).
 *
 * Two methods, both over the k real items (PGR's K - k padding points hold no one):
 * - project: the Euclidean projection of the estimate onto the scaled simplex {x >= 0, sum x = n}
 *   by sort and threshold, O(k log k), no iteration (Held, Wolfe, Crowder, "Validation of
 *   subgradient optimization", Math. Programming 1974; Duchi, Shalev-Shwartz, Singer, Chandra,
 *   "Efficient projections onto the l1-ball for learning in high dimensions", ICML 2008, Fig. 1).
 *   It is the limit of Norm-Sub (Wang, Lopuhaa-Zwakenberg, Li, Skoric, Li, "Locally differentially
 *   private frequency estimation with consistency", NDSS 2020, §IV).
 * - mle: the maximum-likelihood histogram given the PGR report counts and the channel, by EM
 *   (multiplicative updates, i.e. entropic mirror descent with unit step on the negative
 *   log-likelihood; Dempster, Laird, Rubin 1977; Vardi, Shepp, Kaufman, JASA 1985 for the
 *   Poisson/multinomial form). Each iteration costs two PGR incidence products (pgr_channel.h),
 *   each one run of the reconstruction's dynamic program on doubles.
 *
 * Why the iterations are safe. Bolte & Pauwels ("Curiosities and counterexamples in smooth convex
 * optimization", Math. Programming 2022) build C^k convex functions on which gradient descent with
 * exact line search, and Bregman (mirror) descent, produce bounded monotone sequences that do not
 * converge. Their functions are not real-analytic. Here the negative log-likelihood
 * -sum_h y_h log (M x)_h is real-analytic and convex on the simplex's interior, so it has the
 * Kurdyka-Lojasiewicz property and EM's bounded, monotone, sufficient-decrease iterates converge;
 * M has full column rank (the 2-design's incidence is invertible), so the maximizer is unique as
 * soon as the hyperplanes with y_h > 0 separate the items, which holds with probability -> 1 as n
 * grows. EM also certifies its answer: the gap below bounds the log-likelihood still missing.
 * The projection is a closed form and needs no such argument.
 *
 * Thread-safe: no global state. Caller-owned outputs; scratch memory is allocated per call (the
 * dynamic program's in the workspace the options pass, when they pass one). */
#ifndef PINHOLE_SERVER_ANALYTICS_CONSISTENCY_H
#define PINHOLE_SERVER_ANALYTICS_CONSISTENCY_H

#include "common/mechanism.h"
#include "common/pgr.h"
#include "server/analytics/progress.h"
#include "server/estimate/pgr.h"

#include <stdint.h>

/** x = argmin ||x - u||_2 subject to x >= 0, sum x = n: x[i] = max(u[i] - theta, 0) with the
 * threshold theta found by sorting u (O(k log k) time, k doubles of scratch). u and x: k counts
 * (x may equal u, in place). *theta (may be NULL) receives the threshold. n = 0 gives x = 0.
 * Terminates on every input. Errors: PINHOLE_EINVAL (k == 0, n < 0 or not finite, a NaN or
 * infinite u[i]); PINHOLE_EOVERFLOW (a partial sum of u overflows a double); PINHOLE_ENOMEM.
 * On error x is unchanged. */
int pinhole_simplex_project(const double *u, uint64_t k, double n, double *x, double *theta);

/** Multinomial log-likelihood of the PGR report counts y[0..K) when the true histogram is x[0..k)
 * (counts, x >= 0; only the proportions matter, x is normalized by its sum):
 * sum_h y_h log pi_h, pi = M x / sum x (the multinomial coefficient, which does not depend on x, is
 * left out). Natural log, nats.
 * Errors: PINHOLE_EINVAL (a negative or non-finite x[v], sum x <= 0); PINHOLE_ENOMEM. */
int pinhole_pgr_loglik(const pinhole_pgr *g, const uint64_t *y, const double *x, double *loglik);

typedef struct pinhole_mle_options {
    uint32_t max_iterations; /* steps at most; 0 = 1000 */
    double tolerance;        /* stop when the certified gap <= tolerance * n (nats); 0 = 1e-6 */
    const double *init;      /* k starting counts, all > 0 (scaled to sum n); NULL = the
                                projected unbiased estimate mixed with 10% uniform */
    int plain_em;            /* 1: EM steps only (eta = 1); 0: adaptive eta (default) */
    pinhole_pgr_workspace *workspace; /* the reconstruction's tables and buffers to use and keep
                                       * (server/estimate/pgr.h); NULL = a temporary one */
} pinhole_mle_options;

typedef struct pinhole_mle_result {
    uint32_t iterations; /* steps done */
    double loglik;       /* log-likelihood of the result (nats) */
    double gap;          /* certificate: max log-likelihood - loglik <= gap (nats) */
    int converged;       /* 1 if gap <= tolerance * n */
} pinhole_mle_result;

/** Maximum-likelihood histogram x[0..k) (counts, x >= 0, sum x = n) from the PGR report counts
 * y[0..K), n = sum y, by entropic mirror ascent on the log-likelihood L: with w = M^T (y / M x) / n
 * (the gradient over n; sum_v x_v w_v = n), x_v <- n x_v w_v^eta / sum_u x_u w_u^eta. eta = 1 is
 * the EM step, which never lowers L (Dempster, Laird, Rubin 1977). eta starts at 1, doubles after
 * each step once the last three were taken at their first trial (up to 64), and is halved (never
 * below 1) while a trial step would lower L, so L never decreases; plain_em keeps eta = 1. The gap
 * n (max_v w_v - 1) bounds max L - L (concavity); the run stops when gap <= tolerance n or after
 * max_iterations steps. Each step costs two incidence products (plus one per halving). trace (may
 * be NULL) receives the log-likelihood before each iteration and after the last: max_iterations + 1
 * entries must fit; res (may be NULL) gets the summary. Progress is reported as the share of
 * max_iterations used. When k = K and the unbiased estimate lies in the simplex, it is the
 * maximizer (the model is saturated and M is invertible). Errors: PINHOLE_ENOREPORTS (n == 0),
 * PINHOLE_EINVAL (opt->init not all finite and > 0, or its sum not finite), PINHOLE_ENOMEM,
 * PINHOLE_EOVERFLOW (sum y overflows), PINHOLE_ECANCELED (x then holds the last iterate, still a
 * histogram; res is not written). */
int pinhole_pgr_mle(const pinhole_pgr *g, const uint64_t *y, const pinhole_mle_options *opt,
                    double *x, double *trace, pinhole_mle_result *res,
                    const pinhole_progress *progress);

/** pinhole_pgr_mle() for a configured collection: counts[0..c->counts_len) are the mechanism's
 * report counts (for PGR the K hyperplane counts), x receives c->k counts. The entry point for a
 * job runner that holds a pinhole_config. Errors: those of pinhole_pgr_mle(), and
 * PINHOLE_EUNSUPPORTED for a mechanism without a maximum-likelihood solver here (every mechanism
 * but PGR, for now). */
int pinhole_mle(const pinhole_config *c, const uint64_t *counts, const pinhole_mle_options *opt,
                double *x, double *trace, pinhole_mle_result *res,
                const pinhole_progress *progress);

#endif
