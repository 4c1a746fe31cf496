/* Repair of an estimated correlation matrix: the nearest correlation matrix, unweighted by the
 * Newton method (server/analytics/ncm_newton.h), weighted or of bounded rank by Burer-Monteiro
 * (server/analytics/burer_monteiro.h), each with its certificate; and the same read from a
 * multi-attribute collection's correlation estimate (docs/multi-attribute.md, "Repair"). */
#ifndef PINHOLE_SERVER_ANALYTICS_CORR_REPAIR_H
#define PINHOLE_SERVER_ANALYTICS_CORR_REPAIR_H

#include "server/analytics/multi.h"
#include "server/analytics/progress.h"

#include <stdint.h>

typedef enum pinhole_repair_method {
    PINHOLE_REPAIR_AUTO = 0,   /* Newton when unweighted at full rank, else Burer-Monteiro */
    PINHOLE_REPAIR_NEWTON = 1, /* Qi-Sun Newton: unweighted, full rank only */
    PINHOLE_REPAIR_BM = 2,     /* Burer-Monteiro: weights, rank r */
} pinhole_repair_method;

typedef struct pinhole_repair_options {
    pinhole_repair_method method;
    const double *weights; /* n x n elementwise weights H_ij >= 0 (symmetric), NULL = all 1 */
    uint32_t rank;         /* r > 0: rank(X) <= r (factor model, Burer-Monteiro); 0 = any */
    uint32_t max_iter;     /* 0 = the method's default */
    uint64_t seed;         /* Burer-Monteiro's initial point */
    pinhole_progress_fn progress; /* may be NULL */
    void *progress_ctx;
} pinhole_repair_options;

typedef struct pinhole_repair_result {
    pinhole_repair_method method; /* the method that ran */
    double value;                 /* sum_{i != j} H_ij (X_ij - A_ij)^2 */
    double gap_bound;             /* value - optimum <= gap_bound (of the full-rank problem) */
    double lambda_min; /* Newton: smallest eigenvalue of X; BM: of the certificate matrix S */
    uint32_t rank;     /* rank of X (Newton: numerical; BM: the factor's columns) */
    uint32_t iterations;
    int certified; /* 1 if gap_bound <= 1e-8 (1 + value) */
} pinhole_repair_result;

/** The correlation matrix X (unit diagonal, PSD; n x n into x_out) nearest to a (n x n, finite,
 * symmetric) in the weighted Frobenius norm of opt (NULL = defaults: unweighted, full rank, AUTO).
 * The weighted objective is Higham's H-weighted problem (N. Higham, "Computing the nearest
 * correlation matrix", IMA J. Numer. Anal. 2002, §3).
 * Errors: PINHOLE_EINVAL (NEWTON asked with weights or a rank; weights negative, not finite or not
 * symmetric; rank > n), and those of pinhole_ncm_newton() and pinhole_bm_solve(). */
int pinhole_correlation_repair(uint32_t n, const double *a, const pinhole_repair_options *opt,
                               double *x_out, pinhole_repair_result *res);

/** Weights from standard errors: H_ij = 1/se_ij^2 off the diagonal (an se_ij <= 1e-12 counts as
 * 1e-12), normalised to mean 1 over the off-diagonal; H_ii = 0. se and h are n x n. Errors:
 * PINHOLE_EINVAL (n < 2, an se not finite or negative). */
int pinhole_repair_weights(uint32_t n, const double *se, double *h);

/** Repair the correlation estimate of a multi-attribute collection: pinhole_correlation_repair()
 * on c->r, weighted by pinhole_repair_weights(c->se) when `weighted` (opt->weights is then
 * ignored). x_out is c->n x c->n. Errors: those of the two functions, PINHOLE_ENOMEM. */
int pinhole_multi_repair(const pinhole_multi_corr *c, int weighted,
                         const pinhole_repair_options *opt, double *x_out,
                         pinhole_repair_result *res);

#endif
