/* stream: estimates over time, by stochastic gradient steps over the per-bucket estimates.
 *
 * Each time bucket b brings an unbiased estimate h_b (counts per bucket) with per-item variance
 * var_b. The stream takes one SGD step on the objective 1/2 ||x - h_b||^2, whose gradient is
 * x - h_b: x <- x - eta_t (x - h_b), i.e. an exponentially weighted average with weight eta
 * (eta_t = eta), or the running mean (eta_t = 1/t, which equals the batch estimate of the pooled
 * buckets divided by their number). The objective is 1-strongly convex, so it satisfies the
 * Polyak-Lojasiewicz condition and a constant step contracts the error by exactly (1 - eta) per
 * step when the data are noiseless; with independent noise of variance s^2 the iterate's variance
 * is tracked exactly, var <- (1 - eta)^2 var + eta^2 var_b, and tends to eta s^2 / (2 - eta).
 * Optionally each step ends with the simplex projection (consistency.h) onto sum x = n_t, n_t the
 * same average of the buckets' report numbers; the tracked variance then ignores the projection.
 * Source: Karimi, Nutini, Schmidt, "Linear convergence of gradient and proximal-gradient methods
 * under the Polyak-Lojasiewicz condition", ECML-PKDD 2016, §2 and §4 (SGD with constant step).
 *
 * A pinhole_stream is plain state over caller-owned arrays (no allocation except the projection's
 * scratch); one writer at a time. To resume a stream later (e.g. a job runner across restarts),
 * store k, eta, project, steps, n and the arrays x and var, and restore the struct's fields. */
#ifndef PINHOLE_SERVER_ANALYTICS_STREAM_H
#define PINHOLE_SERVER_ANALYTICS_STREAM_H

#include <stdint.h>

typedef struct pinhole_stream {
    uint64_t k;     /* items */
    double eta;     /* constant step in (0, 1], or 0 for eta_t = 1/t */
    int project;    /* 1: project onto {x >= 0, sum x = n} after each step */
    uint64_t steps; /* buckets folded in so far */
    double n;       /* the same average of the buckets' report numbers */
    double *x;      /* caller's k counts: the current estimate */
    double *var;    /* caller's k counts^2: its variance, or NULL to skip variance tracking */
} pinhole_stream;

/** Start a stream over caller-owned x[0..k) and var[0..k) (var may be NULL). The first step takes
 * eta_1 = 1 in both modes (x = h_1), so there is no prior to forget.
 * Errors: PINHOLE_EINVAL (k == 0, x NULL, eta not 0 and not in (0, 1]). */
int pinhole_stream_init(pinhole_stream *s, uint64_t k, double eta, int project, double *x,
                        double *var);

/** Fold in one bucket: h[0..k) its estimate (counts), h_var[0..k) its per-item variance (counts^2;
 * required when the stream tracks variance, else ignored, may be NULL), n_b its number of reports.
 * Errors: PINHOLE_EINVAL (a non-finite h or h_var, a negative h_var, h_var NULL while tracking
 * variance, n_b negative or non-finite); PINHOLE_ENOMEM (projection scratch);
 * PINHOLE_EOVERFLOW (the projection's sums overflow). On error the state is unchanged. */
int pinhole_stream_update(pinhole_stream *s, const double *h, const double *h_var, double n_b);

#endif
