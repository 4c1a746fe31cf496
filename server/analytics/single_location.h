/* The single_location job: a simplified attention layer trained by projected SGD on the
 * single-location regression task.
 *
 * Source: P. Marion, R. Berthier, G. Biau, C. Boyer, "Attention layers provably solve
 * single-location regression", ICLR 2025. A sample is a sequence X of L tokens x_1..x_L in R^d. One
 * token, at a hidden uniformly random position J, is drawn from N(sqrt(d/2) k*, gamma^2 I), the
 * others from N(0, I); the label is y = <x_J, v*> + noise * N(0, 1), with k*, v* orthogonal unit
 * vectors. The predictor is
 *     T(X) = sum_l erf(lambda <x_l, k>) <x_l, v>,
 * trained on the empirical risk (T(X) - y)^2 by projected (Riemannian) SGD on the unit spheres of k
 * and v: the gradient is projected on the tangent space, a step taken, and the point renormalised.
 * The temperature follows lambda_t = lambda0 / (1 + decay t). Gradients come from the autodiff tape
 * (autodiff.h).
 *
 * Closed form at the oracle (k*, v*) for a given lambda (derived from the model above; <x, k*> and
 * <x, v*> are independent since k* is orthogonal to v*): the excess risk E[(T - <x_J, v*>)^2] is
 *     gamma^2 E[(1 - erf(lambda a))^2], a ~ N(sqrt(d/2), gamma^2)
 *   + (L - 1) (2/pi) arcsin(2 lambda^2 / (1 + 2 lambda^2)),
 * the first expectation by quadrature. For the paper's d = 80, L = 10, gamma^2 = 0.5 and
 * lambda = 2/21 it is 0.18207.
 *
 * Shapes: k*, v*, k, v have d entries; a data set of n samples stores x as n x L x d (sample,
 * token, coordinate) row-major and y as n values. Thread-safety: reentrant, no global state. */
#ifndef PINHOLE_SERVER_ANALYTICS_SINGLE_LOCATION_H
#define PINHOLE_SERVER_ANALYTICS_SINGLE_LOCATION_H

#include "server/analytics/progress.h"

#include <stdint.h>

#define PINHOLE_SL_MAXD 100000u
#define PINHOLE_SL_MAXL 100000u

/** The data-generating model. */
typedef struct pinhole_sl_task {
    uint32_t d, L;
    double gamma;         /* standard deviation of the relevant token around sqrt(d/2) k* */
    double noise;         /* standard deviation of the label noise */
    const double *k_star; /* d entries, unit norm */
    const double *v_star; /* d entries, unit norm, orthogonal to k_star */
} pinhole_sl_task;

typedef struct pinhole_sl_options {
    uint64_t steps;      /* SGD steps; 0 = 200000 */
    uint32_t batch;      /* samples per step; 0 = 5 */
    double step;         /* learning rate; 0 = 1e-3 */
    double lambda0;      /* initial temperature; 0 = 2 */
    double lambda_decay; /* lambda_t = lambda0 / (1 + lambda_decay t); 0 = 1e-4, < 0 = none */
    uint64_t seed;       /* seed of the initial k, v (uniform on the sphere) and of the batches */
    pinhole_progress_fn progress; /* called every 1000 steps (and about every 10^6 B L d
                                   multiply-adds when fewer) with the batch loss; may be NULL */
    void *progress_ctx;
} pinhole_sl_options;

typedef struct pinhole_sl_result {
    uint64_t steps; /* steps done */
    double lambda;  /* temperature at the end, lambda_steps */
    double loss;    /* mean batch loss over the last 1000 steps (or fewer) */
} pinhole_sl_result;

/** Two orthogonal unit vectors k*, v* of R^d drawn uniformly (Gram-Schmidt on Gaussians) from a
 * pinhole_rng seeded with seed. Errors: PINHOLE_EINVAL (d < 2, NULL). */
int pinhole_sl_random_task(uint32_t d, uint64_t seed, double *k_star, double *v_star);

/** Draw n samples of the task into x (n x L x d), y (n) and, if pos != NULL, the hidden positions J
 * (n), from a pinhole_rng seeded with seed. Errors: PINHOLE_EINVAL (a bad task: d or L zero or
 * too large, gamma or noise negative or not finite, NULL vectors; NULL outputs). */
int pinhole_sl_generate(const pinhole_sl_task *task, uint64_t n, uint64_t seed, double *x,
                        double *y, uint32_t *pos);

/** Train on fresh samples of the task every step (online SGD). k_out, v_out (d entries each)
 * receive the final k, v. Errors: PINHOLE_EINVAL (bad task or options), PINHOLE_ENOMEM,
 * PINHOLE_ECANCELED (the progress callback asked to stop; outputs hold the last iterate). */
int pinhole_sl_train_online(const pinhole_sl_task *task, const pinhole_sl_options *opt,
                            double *k_out, double *v_out, pinhole_sl_result *res);

/** Train on a fixed data set (x: n x L x d, y: n, all finite), batches drawn uniformly with
 * replacement. Errors: as pinhole_sl_train_online, PINHOLE_EINVAL also for non-finite data. */
int pinhole_sl_train_data(uint32_t d, uint32_t L, uint64_t n, const double *x, const double *y,
                          const pinhole_sl_options *opt, double *k_out, double *v_out,
                          pinhole_sl_result *res);

/** Monte Carlo estimate of the excess risk E[(T(X) - <x_J, v*>)^2] of (k, v) at temperature lambda
 * over `samples` fresh samples (seeded); its standard error goes to *stderr_out if not NULL.
 * Errors: PINHOLE_EINVAL. */
int pinhole_sl_excess_risk(const pinhole_sl_task *task, const double *k, const double *v,
                           double lambda, uint64_t samples, uint64_t seed, double *risk,
                           double *stderr_out);

/** The closed form above: excess risk of the oracle (k*, v*) at temperature lambda. Returns NaN for
 * invalid arguments (d or L zero, gamma < 0, lambda not finite). */
double pinhole_sl_oracle_risk(uint32_t d, uint32_t L, double gamma, double lambda);

#endif
