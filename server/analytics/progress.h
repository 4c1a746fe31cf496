/* The progress/cancel callback that the long-running analytics jobs (SDP solver, trainers) call. */
#ifndef PINHOLE_SERVER_ANALYTICS_PROGRESS_H
#define PINHOLE_SERVER_ANALYTICS_PROGRESS_H

#include <stdint.h>

/** Called by a job every so often with the iteration (or step) just finished, the total planned
 * (0 when open-ended) and the job's current objective value (its units are the job's: the SDP
 * objective, the training loss ...). Return 0 to continue; any other value cancels the job, which
 * then returns PINHOLE_ECANCELED with its outputs holding the last iterate. May be NULL. */
typedef int (*pinhole_progress_fn)(void *ctx, uint64_t done, uint64_t total, double value);

#endif
