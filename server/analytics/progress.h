/* Progress and cancellation for long analytics runs: the caller's callback, polled between steps.
 */
#ifndef PINHOLE_SERVER_ANALYTICS_PROGRESS_H
#define PINHOLE_SERVER_ANALYTICS_PROGRESS_H

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

#endif
