/* Offline solvers: the job types over the optimization and learning modules; rows of the registry
 * in types.c. Each is a pinhole_job_fn (server/jobs/jobs.h) reading its input from the parameters
 * (no collection data; posted to /v1/jobs):
 * - nearest_correlation {matrix: n x n, weights?: n x n, method: auto|newton|burer_monteiro, rank,
 *   max_iter, seed} -> the nearest correlation matrix and its certificate (gap_bound, certified):
 *   auto is the Newton method of Qi and Sun 2006 without weights at full rank, else
 *   Burer-Monteiro (Boumal et al. 2016) with the weights (Higham 2002) or at fixed rank.
 * - maxcut {weights: n x n, rounds, rank, max_iter, seed} -> SDP value, bound, rounded cut and
 *   sides (Goemans & Williamson 1995).
 * - single_location {d, L, gamma, noise, steps, batch, step, lambda0, lambda_decay, seed,
 *   risk_samples} -> alignments |<k, k*>|, |<v, v*>| and excess risk vs the closed form (Marion
 *   et al., ICLR 2025).
 * - two_layer {data: rows x_1..x_d y, width, steps, step, output_only, seed, lp_directions} ->
 *   normalized margin (and the LP max-margin reference when lp_directions > 0) (Chizat & Bach,
 *   COLT 2020).
 * Errors: PINHOLE_EINVAL with a message for bad parameters; the modules' own codes. */
#ifndef PINHOLE_SERVER_JOBS_TYPES_OPT_H
#define PINHOLE_SERVER_JOBS_TYPES_OPT_H

#include "server/jobs/jobs.h"

/** A rows x cols row-major matrix as a JSON array of rows (a new reference). */
json_t *pinhole_job_matrix_json(const double *a, uint32_t rows, uint32_t cols);

/** Check a multi-attribute collection's attributes, a JSON array of 1 to 64 objects {k (2..256),
 * name? (string), labels? (k strings), kind? (ordinal, nominal, binary with k = 2), scores? (k
 * finite numbers)} with every product k_j k_l <= 4096: *d and k[0..d) receive them. Errors:
 * PINHOLE_EINVAL with the reason in err. */
int pinhole_job_multi_attributes(const json_t *attrs, uint32_t *d, uint32_t *k, char *err,
                                 size_t errlen);

/** multi_attribute (server/jobs/types_multi.c): the marginals, pairwise joints, correlation matrix
 * and its repair of a multi-attribute collection whose pair collections params names
 * (docs/multi-attribute.md). Reads them through pinhole_job_load(). */
int pinhole_job_multi_attribute(const pinhole_job_data *d, const json_t *params,
                                pinhole_job_ctl *ctl, json_t **result, char *err, size_t errlen);

int pinhole_job_nearest_correlation(const pinhole_job_data *d, const json_t *params,
                                    pinhole_job_ctl *ctl, json_t **result, char *err,
                                    size_t errlen);
int pinhole_job_maxcut(const pinhole_job_data *d, const json_t *params, pinhole_job_ctl *ctl,
                       json_t **result, char *err, size_t errlen);
int pinhole_job_single_location(const pinhole_job_data *d, const json_t *params,
                                pinhole_job_ctl *ctl, json_t **result, char *err, size_t errlen);
int pinhole_job_two_layer(const pinhole_job_data *d, const json_t *params, pinhole_job_ctl *ctl,
                          json_t **result, char *err, size_t errlen);

#endif
