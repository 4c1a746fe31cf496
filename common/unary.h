/* Unary encodings: OUE and SUE / basic RAPPOR (permanent and instantaneous randomized response).
 *
 * A report is a k-bit string; bit v of a user holding v is drawn with its own threshold t_true
 * (and never touched by the noise draws), every other bit with t_noise. RAPPOR adds an
 * instantaneous randomized response: each bit of the (memoized) permanent response is kept with
 * probability t_irr / 2^64 and flipped otherwise.
 * Sources: T. Wang, J. Blocki, N. Li, S. Jha, USENIX Security 2017, §4.3 (SUE, OUE);
 * Ú. Erlingsson, V. Pihur, A. Korolova, "RAPPOR", CCS 2014, §3 (basic one-hash RAPPOR: permanent
 * randomized response with f, instantaneous randomized response; here both symmetric). */
#ifndef PINHOLE_COMMON_UNARY_H
#define PINHOLE_COMMON_UNARY_H

#include <stdint.h>

typedef struct pinhole_unary {
    uint64_t k;
    uint64_t t_true;          /* P[permanent bit v = 1 | v] = t_true / 2^64 */
    uint64_t t_noise;         /* P[permanent bit w = 1 | v], w != v */
    uint64_t t_irr;           /* instantaneous response: P[keep a bit] = t_irr/2^64; 0 = none */
    double epsilon_realized;  /* epsilon of one report, from the thresholds */
    double epsilon_permanent; /* epsilon of the permanent response (= of every report together) */
    double p;                 /* realized P[report bit v = 1 | v] */
    double r;                 /* realized P[report bit v = 1 | w != v] */
} pinhole_unary;

/** Optimized unary encoding: p = 1/2 exactly, r = 1/(e^eps + 1) rounded up to a threshold.
 * Errors: PINHOLE_EINVAL (epsilon not finite and > 0, k < 2), PINHOLE_EOVERFLOW (k bits exceed
 * PINHOLE_PAYLOAD_MAXBYTES). */
int pinhole_oue_init(pinhole_unary *u, uint64_t k, double epsilon);

/** Symmetric unary encoding / basic RAPPOR. epsilon bounds one report; epsilon_permanent (0 or
 * equal to epsilon: no instantaneous response) bounds the memoized permanent response, so every
 * report of a device together. Without it p = e^{eps/2}/(e^{eps/2} + 1), r = 1 - p.
 * Errors: PINHOLE_EINVAL (epsilon, k < 2, epsilon_permanent not finite or 0 < it < epsilon),
 * PINHOLE_EOVERFLOW (k bits exceed PINHOLE_PAYLOAD_MAXBYTES). */
int pinhole_sue_init(pinhole_unary *u, uint64_t k, double epsilon, double epsilon_permanent);

/** Exact variance (counts^2) of an item's unbiased estimate from n reports, f holding it. */
double pinhole_unary_variance(const pinhole_unary *u, double n, double f);

#endif
