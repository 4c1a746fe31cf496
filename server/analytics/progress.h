/* Progress and cancellation for long analytics runs: the caller's callback, polled between steps.
 */
#ifndef PINHOLE_SERVER_ANALYTICS_PROGRESS_H
#define PINHOLE_SERVER_ANALYTICS_PROGRESS_H

#include <stdint.h>

/* A module calls fn(ctx, fraction) now and then with fraction in [0, 1] (the share of the work
 * done, or of the iteration budget used); a nonzero return asks the module to stop, and it then
 * returns PINHOLE_ECANCELED. The callback runs on the caller's thread; a job runner typically
 * stores the fraction and returns its cancel flag. A NULL pinhole_progress pointer or a NULL fn
 * means "no reporting, never cancel". */
typedef struct pinhole_progress {
    int (*fn)(void *ctx, double fraction);
    void *ctx;
} pinhole_progress;

/** Report fraction to p (if any); nonzero when the caller asked to cancel. */
static inline int pinhole_progress_report(const pinhole_progress *p, double fraction)
{
    return p && p->fn && p->fn(p->ctx, fraction) != 0;
}

/* The optimization and learning modules (SDP solver, trainers) report iterations instead:
 * pinhole_progress_fn below. */
/** Called by a job every so often with the iteration (or step) just finished, the total planned
 * (0 when open-ended) and the job's current objective value (its units are the job's: the SDP
 * objective, the training loss ...). Return 0 to continue; any other value cancels the job, which
 * then returns PINHOLE_ECANCELED with its outputs holding the last iterate. May be NULL. */
typedef int (*pinhole_progress_fn)(void *ctx, uint64_t done, uint64_t total, double value);

#endif
