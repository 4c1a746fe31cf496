/* topk_prob: how sure is the top-k? Perturbed optimizers over the estimates.
 *
 * For estimates theta[0..d) with per-item standard deviations sigma (from the mechanism's exact
 * variance) and noise Z with density prop. to exp(-nu(z)), Monte Carlo estimates of
 *   - the perturbed top-k  E[topk(theta + sigma * Z)]: item i's probability of being in the top k
 *     (topk(y) is the 0/1 indicator vector of the k largest entries of y);
 *   - the smoothed max  E[max_i (theta_i + sigma_i Z_i)]  with its standard error;
 *   - optionally the Jacobian d E[topk] / d theta by the perturbation formula
 *     J[i][j] = E[ topk(theta + sigma Z)_i  nu'(Z_j) ] / sigma_j,
 * with Gaussian or Gumbel noise from a seeded ChaCha20 stream (the same seed gives the same
 * output on every platform with IEEE doubles and the same libm).
 * With Gumbel noise and sigma = eps for every item, the perturbed argmax (k = 1) is softmax(theta /
 * eps) and E max = eps logsumexp(theta / eps) + eps gamma (Gumbel-max trick).
 * Source: Berthet, Blondel, Teboul, Cuturi, Vert, Bach, "Learning with Differentiable Perturbed
 * Optimizers", NeurIPS 2020, §3 (Prop. 3.1 for the Jacobian). Each sample costs O(d) (the top k by
 * quickselect, no sort), plus O(k d) for the Jacobian. Thread-safe: no global state. */
#ifndef PINHOLE_SERVER_ANALYTICS_TOPK_PROB_H
#define PINHOLE_SERVER_ANALYTICS_TOPK_PROB_H

#include "server/analytics/noise.h"
#include "server/analytics/progress.h"

#include <stdint.h>

typedef struct pinhole_topk_options {
    uint64_t top;        /* k of top-k, 1 <= top <= d */
    uint64_t samples;    /* Monte Carlo samples m; 0 = 1000 */
    pinhole_noise noise; /* PINHOLE_NOISE_GAUSSIAN or PINHOLE_NOISE_GUMBEL */
    uint64_t seed;       /* seed of the ChaCha20 stream */
} pinhole_topk_options;

typedef struct pinhole_topk_result {
    uint64_t samples; /* m, the samples drawn */
    double max_mean;  /* smoothed max E[max_i (theta_i + sigma_i Z_i)], same units as theta */
    double max_se;    /* its Monte Carlo standard error: sample standard deviation / sqrt(m) */
} pinhole_topk_result;

/** Perturbed top-k of theta[0..d) with noise scale sigma[0..d) (sigma_i >= 0; units of theta,
 * e.g. counts). Outputs (caller-owned; any may be NULL): prob[0..d), the share of samples in which
 * item i was among the top k (the probabilities sum to k up to rounding, exactly when m is a power
 * of two); hits[0..d), the integer numbers of such samples (summing to k m exactly);
 * jacobian[0..d*d) row-major, J[i*d + j] = d prob_i / d theta_j; res, the smoothed max. Ties (only
 * possible where sigma is 0) go to the smaller index. Progress is the share of samples drawn.
 * Errors: PINHOLE_EINVAL (d == 0, top == 0 or > d, unknown noise, a non-finite theta or sigma, a
 * negative sigma, a zero sigma when jacobian is asked); PINHOLE_EOVERFLOW (d * d overflows);
 * PINHOLE_ENOMEM; PINHOLE_ECANCELED (outputs then unspecified). */
int pinhole_topk_prob(const double *theta, const double *sigma, uint64_t d,
                      const pinhole_topk_options *opt, double *prob, uint64_t *hits,
                      double *jacobian, pinhole_topk_result *res, const pinhole_progress *progress);

#endif
