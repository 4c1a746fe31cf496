/* Burer-Monteiro solver for SDPs with unit diagonal, and its two jobs: nearest correlation, MaxCut.
 *
 * Problem: minimise f(X) over symmetric n x n X with diag(X) = 1 and X positive semidefinite, f
 * convex and smooth. X is factored as V V^T with V an n x p matrix whose rows have unit norm (the
 * oblique manifold); f(V V^T) is minimised by Riemannian gradient descent (Barzilai-Borwein steps,
 * nonmonotone Armijo backtracking, row-normalisation retraction). The rank p defaults to the
 * smallest with p(p+1)/2 > n, the bound under which second-order critical points are globally
 * optimal for generic costs (Boumal, Voroninski, Bandeira, "The non-convex Burer-Monteiro approach
 * works on smooth semidefinite programs", NeurIPS 2016; Waldspurger & Waters, "Rank optimality for
 * the Burer-Monteiro factorization", SIAM J. Optim. 2020, show the bound cannot be lowered in
 * general).
 *
 * Certificate: with G = grad f(X) and lambda_i = <(G V)_i, V_i>, S = G - Diag(lambda). X is
 * globally optimal iff S is positive semidefinite (then S X = 0 holds at a critical point);
 * lambda_min(S) is computed with LAPACK's dsyevr, and f(X) - f* <= n * max(0, -lambda_min(S)) for
 * any convex f. If lambda_min(S) < 0 the solver raises the rank along the eigenvectors of its
 * negative eigenvalues (up to max(1, p/2) columns per round) and continues (the "staircase"), at
 * most `escapes` times. The rank bound above concerns linear costs (MaxCut: some optimum has rank r
 * with r(r+1)/2 <= n, Pataki 1998); a quadratic cost such as the nearest-correlation one can have
 * its unique optimum at a higher rank, and the staircase climbs to it (tridiag(-1, 2, -1) of order
 * 40 needs rank > 20). The V workspace is n x n for that reason.
 *
 * Matrices are dense, row-major, n x n doubles. Thread-safe: no global state; each call allocates
 * its own workspace (O(n^2) doubles) and frees it. Randomness (initial V, rounding) comes from a
 * seeded pinhole_rng, so results are reproducible. */
#ifndef PINHOLE_SERVER_ANALYTICS_BURER_MONTEIRO_H
#define PINHOLE_SERVER_ANALYTICS_BURER_MONTEIRO_H

#include "server/analytics/progress.h"

#include <stdint.h>

/** Largest n the solver accepts (the dense n x n workspace must stay in memory). */
#define PINHOLE_BM_MAXN 20000u

/** The cost: given X = V V^T (n x n, row-major, unit diagonal), store f(X) in *f and the Euclidean
 * gradient grad f(X) (symmetric n x n) in g. Return 0, or a negative PINHOLE_E* code to stop the
 * solver with that code. */
typedef int (*pinhole_bm_cost_fn)(void *ctx, uint32_t n, const double *x, double *f, double *g);

typedef struct pinhole_bm_options {
    uint32_t rank;     /* p; 0 = the smallest p with p(p+1)/2 > n (capped at n) */
    uint32_t max_iter; /* gradient steps in all; 0 = 20000 */
    double grad_tol;   /* stop when ||Riemannian gradient||_F <= grad_tol; 0 = 1e-10 */
    uint32_t escapes; /* rank-increase rounds allowed when the certificate fails; 0 = until p = n */
    int keep_rank;    /* nonzero: never raise the rank (a rank-p factor model); the certificate
                       * is still computed and its gap_bound still bounds f(X) - f* of the full
                       * problem, hence of the rank-p one */
    uint64_t seed;    /* seed of the random initial V (pinhole_rng_init_seeded) */
    pinhole_progress_fn progress; /* called every 10 iterations with f(X); may be NULL */
    void *progress_ctx;
} pinhole_bm_options;

typedef struct pinhole_bm_result {
    double value;      /* f(X) at the returned X */
    double grad_norm;  /* Frobenius norm of the Riemannian gradient there */
    double lambda_min; /* smallest eigenvalue of the certificate matrix S */
    double gap_bound;  /* n * max(0, -lambda_min): f(X) - f* is at most this */
    uint32_t rank;     /* p used at the end (after any escapes) */
    uint32_t iterations;
    uint32_t escapes; /* rank-increase rounds performed */
} pinhole_bm_result;

/** Solve min f(X) s.t. diag(X) = 1, X PSD, with f given by `cost`. On success writes X = V V^T into
 * x_out (n x n) and fills *res. opt may be NULL (all defaults).
 * Errors: PINHOLE_EINVAL (n = 0, n > PINHOLE_BM_MAXN, a NULL pointer, rank > n, non-finite
 * grad_tol), PINHOLE_ENOMEM, PINHOLE_EUNSUPPORTED (the LAPACK eigensolver failed),
 * PINHOLE_ECANCELED (the progress callback asked to stop; x_out and *res then hold the last
 * iterate, with lambda_min = NaN), or any code the cost returned. Reaching max_iter is not an
 * error: check res->grad_norm and res->lambda_min. */
int pinhole_bm_solve(uint32_t n, pinhole_bm_cost_fn cost, void *ctx, const pinhole_bm_options *opt,
                     double *x_out, pinhole_bm_result *res);

/** Nearest correlation matrix in the Frobenius norm: minimise ||X - A||_F^2 over correlation
 * matrices (unit diagonal, PSD), the problem of Higham, "Computing the nearest correlation matrix",
 * IMA J. Numer. Anal. 2002 (NAG's g02aa). a (n x n) must be finite and symmetric (to 1e-12
 * relative); its diagonal does not affect the answer. Writes X into x_out (n x n).
 * Errors: those of pinhole_bm_solve, and PINHOLE_EINVAL if a is not finite or not symmetric. */
int pinhole_nearest_correlation(uint32_t n, const double *a, const pinhole_bm_options *opt,
                                double *x_out, pinhole_bm_result *res);

typedef struct pinhole_maxcut_result {
    double sdp_value; /* (1/4) sum_{i != j} w_ij (1 - X_ij): the SDP relaxation's cut weight */
    double sdp_bound; /* certified upper bound on the SDP optimum (hence on the max cut) */
    double cut_value; /* total weight of the edges cut by the best rounded cut */
    uint32_t rounds;  /* random hyperplanes tried */
    pinhole_bm_result bm;
} pinhole_maxcut_result;

/** MaxCut by the SDP relaxation of Goemans & Williamson ("Improved approximation algorithms for
 * maximum cut and satisfiability problems using semidefinite programming", J. ACM 1995): solve
 * max (1/4) sum_{i,j} w_ij (1 - X_ij) s.t. diag(X) = 1, X PSD (as min <W/4, X>), then round with
 * `rounds` random hyperplanes (r ~ N(0, I_p), side_i = sign <V_i, r>) and keep the heaviest cut.
 * w: n x n symmetric finite edge weights (the diagonal is ignored; weights >= 0 for the 0.878
 * guarantee). side_out[i] = +1 or -1 for the best cut; x_out (n x n) receives X and may be NULL.
 * rounds = 0 means 100. The rounding draws from a pinhole_rng seeded with opt->seed + 1.
 * Errors: those of pinhole_bm_solve, and PINHOLE_EINVAL if w is not finite or not symmetric. On
 * PINHOLE_ECANCELED no rounding is done (side_out untouched, cut_value 0) and sdp_value, x_out and
 * res->bm describe the last iterate. */
int pinhole_maxcut(uint32_t n, const double *w, const pinhole_bm_options *opt, uint32_t rounds,
                   int8_t *side_out, double *x_out, pinhole_maxcut_result *res);

/** PINHOLE_OK if the n x n matrix a (row-major) is finite and symmetric to 1e-12 relative
 * (|a_ij - a_ji| <= 1e-12 max(1, |a_ij| + |a_ji|)), else PINHOLE_EINVAL. */
int pinhole_check_symmetric(uint32_t n, const double *a);

/** Smallest eigenvalue (and, if vec != NULL, a unit eigenvector) of the symmetric n x n matrix s
 * (row-major; only the upper triangle is read), by LAPACK's dsyevr. Errors: PINHOLE_EINVAL,
 * PINHOLE_ENOMEM, PINHOLE_EUNSUPPORTED (LAPACK reported failure). */
int pinhole_eig_min(uint32_t n, const double *s, double *lambda, double *vec);

#endif
