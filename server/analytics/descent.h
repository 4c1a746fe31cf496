/* Gradient descent with exact line search: x <- x - s* grad f(x), s* = argmin_{s >= 0} f(x - s grad
 * f(x)).
 *
 * Cauchy's steepest descent (1847). On a strongly convex quadratic with condition number kappa it
 * contracts f - f* by at most ((kappa - 1)/(kappa + 1))^2 per step, with equality from the worst
 * starting points (e.g. 1/2 (x1^2 + kappa x2^2) from (kappa, 1)); Nocedal & Wright, "Numerical
 * Optimization", 2nd ed., Thm 3.3. A utility for the analytics modules' smooth subproblems.
 *
 * Caution (Bolte & Pauwels, "Curiosities and counterexamples in smooth convex optimization", Math.
 * Programming 2022, §3): on some C^k convex functions this method's iterates stay bounded, decrease
 * f, and yet do not converge. Use it on real-analytic or semialgebraic objectives (quadratics,
 * log-likelihoods of affine models), where the Kurdyka-Lojasiewicz inequality rules that out, or
 * on strongly convex ones. Thread-safe if the callbacks are. */
#ifndef PINHOLE_SERVER_ANALYTICS_DESCENT_H
#define PINHOLE_SERVER_ANALYTICS_DESCENT_H

#include "server/analytics/progress.h"

#include <stdint.h>

typedef struct pinhole_smooth_fn {
    /* f(x) for x[0..dim) */
    double (*value)(void *ctx, const double *x);
    /* grad f(x) into g[0..dim) */
    void (*gradient)(void *ctx, const double *x, double *g);
    /* optional: the exact minimizer s >= 0 of f(x - s g) for g = grad f(x); NULL = numeric line
     * search (bracketing, then golden-section search to a relative width of 1e-12) */
    double (*line_min)(void *ctx, const double *x, const double *g);
    void *ctx;
} pinhole_smooth_fn;

typedef struct pinhole_gd_options {
    uint32_t max_iterations;   /* 0 = 1000 */
    double gradient_tolerance; /* stop when ||grad f||_2 <= this; 0 = 1e-10 */
} pinhole_gd_options;

typedef struct pinhole_gd_result {
    uint32_t iterations;  /* steps taken */
    double value;         /* f at the returned x */
    double gradient_norm; /* ||grad f||_2 at the returned x */
    int converged;        /* 1 if the gradient tolerance was met */
} pinhole_gd_result;

/** Minimize f from x[0..dim) (updated in place) by steepest descent with exact line search.
 * trace (may be NULL) receives f before each step and after the last (max_iterations + 1 entries
 * must fit); res (may be NULL) the summary. A step that cannot decrease f (line search returns
 * s = 0) ends the run with converged = 0. Progress is the share of max_iterations used.
 * Errors: PINHOLE_EINVAL (dim == 0, f or its gradient not finite at the start, a negative or
 * non-finite step from line_min); PINHOLE_ENOMEM; PINHOLE_ECANCELED (x holds the last iterate). */
int pinhole_gd_exact(const pinhole_smooth_fn *fn, uint64_t dim, double *x,
                     const pinhole_gd_options *opt, double *trace, pinhole_gd_result *res,
                     const pinhole_progress *progress);

#endif
