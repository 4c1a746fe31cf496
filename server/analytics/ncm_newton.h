/* Nearest correlation matrix by the semismooth Newton method of H. Qi and D. Sun, "A quadratically
 * convergent Newton method for computing the nearest correlation matrix", SIAM J. Matrix Anal.
 * Appl. 28(2), 2006 (Algorithm 5.1: the dual, Newton steps solved by preconditioned conjugate
 * gradients, Armijo line search), with a duality-gap certificate.
 *
 * Problem: minimise ||X - A||_F^2 over symmetric n x n X with diag(X) = 1, X PSD (A's diagonal is
 * taken as 1: it does not change the minimiser). Dual: minimise theta(y) = 1/2 ||(A + Diag y)_+||^2
 * - sum y; its gradient is diag((A + Diag y)_+) - 1. Eigendecompositions by LAPACK's dsyevd,
 * matrix products by BLAS dgemm. Cost per Newton step: one eigendecomposition per line-search
 * trial and two n^3 products per conjugate-gradient step; the number of Newton steps does not grow
 * with the rank of the answer (unlike the Burer-Monteiro staircase). Dense, row-major matrices;
 * thread-safe (no global state; O(n^2) workspace allocated per call). */
#ifndef PINHOLE_SERVER_ANALYTICS_NCM_NEWTON_H
#define PINHOLE_SERVER_ANALYTICS_NCM_NEWTON_H

#include "server/analytics/progress.h"

#include <stdint.h>

#define PINHOLE_NCM_MAXN 4000u /* largest n accepted (n^3 work per step) */

typedef struct pinhole_ncm_options {
    uint32_t max_iter;            /* Newton steps; 0 = 200 */
    double tol;                   /* stop when ||diag((A + Diag y)_+) - 1||_2 <= tol; 0 = 1e-10 */
    pinhole_progress_fn progress; /* called after each Newton step with f; may be NULL */
    void *progress_ctx;
} pinhole_ncm_options;

typedef struct pinhole_ncm_result {
    double value;      /* ||X - A||_F^2 at the returned X (A with unit diagonal) */
    double dual;       /* 2 g(y), g the dual function: a lower bound on the optimal value */
    double gap_bound;  /* max(0, value - dual) >= value - optimum: the certificate */
    double residual;   /* ||diag((A + Diag y)_+) - 1||_2 at the last y */
    double lambda_min; /* smallest eigenvalue of the returned X (>= 0 up to rounding) */
    uint32_t rank;     /* eigenvalues of (A + Diag y)_+ above 1e-12 n max|lambda| */
    uint32_t iterations, cg_iterations;
} pinhole_ncm_result;

/** The nearest correlation matrix to a (n x n, finite, symmetric to 1e-12 relative) in the
 * Frobenius norm. x_out (n x n) receives X = D^{-1/2} (A + Diag y)_+ D^{-1/2}, D its diagonal
 * (exactly unit diagonal and PSD whatever the last residual); *res the certificate. opt may be
 * NULL (defaults). Reaching max_iter is not an error: check res->gap_bound.
 * Errors: PINHOLE_EINVAL (n = 0 or > PINHOLE_NCM_MAXN, NULL pointers, a not finite or not
 * symmetric, tol negative or not finite), PINHOLE_ENOMEM, PINHOLE_EUNSUPPORTED (LAPACK failed),
 * PINHOLE_ECANCELED (the progress callback asked to stop; x_out then holds the current X). */
int pinhole_ncm_newton(uint32_t n, const double *a, const pinhole_ncm_options *opt, double *x_out,
                       pinhole_ncm_result *res);

#endif
