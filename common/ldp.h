/* Shared maths of the baseline frequency oracles: exact integer Bernoulli thresholds, randomized
 * response thresholds with their realized epsilon, and the "support set" estimator and variance.
 *
 * Every baseline here (GRR, OUE, SUE/RAPPOR, OLH, Hadamard response, Subset Selection) reports a
 * value y that "supports" some items; T_v counts the reports supporting v. If a user holding v
 * supports v with probability p and a user holding w != v supports v with probability r, then
 * (T_v - r n)/(p - r) is an unbiased count estimate with variance
 * [f p (1 - p) + (n - f) r (1 - r)] / (p - r)^2 (counts^2), f the true count of v.
 * Source: T. Wang, J. Blocki, N. Li, S. Jha, "Locally Differentially Private Protocols for
 * Frequency Estimation", USENIX Security 2017, §4 ("pure" protocols). */
#ifndef PINHOLE_COMMON_LDP_H
#define PINHOLE_COMMON_LDP_H

#include <stdint.h>

/** 2^64 as a long double (exact). */
#define PINHOLE_TWO64 18446744073709551616.0L

/** Probability threshold / 2^64 of a Bernoulli threshold (exact with a 64-bit long double). */
static inline long double pinhole_threshold_prob(uint64_t T)
{
    return (long double)T / PINHOLE_TWO64;
}

/** 1 - threshold / 2^64, computed as (2^64 - T) / 2^64. */
static inline long double pinhole_threshold_comp(uint64_t T)
{
    return (PINHOLE_TWO64 - (long double)T) / PINHOLE_TWO64;
}

/** e^epsilon - 1 evaluated at min(epsilon, PINHOLE_EPSILON_CAP) (the thresholds saturate there). */
long double pinhole_expm1_capped(double epsilon);

/** The keep threshold of randomized response over m >= 2 symmetric outcomes: the largest T with
 * T <= floor(2^64 e^eps / (e^eps + m - 1)) whose realized ratio (T/2^64) (m - 1) / (1 - T/2^64) is
 * at most e^eps, clamped to [1, 2^64 - 1]. *epsilon_realized (may be NULL) receives the log of that
 * realized ratio (<= epsilon). m may be a real number (e.g. the size ratio of two output sets).
 * The caller has checked epsilon (finite, > 0) and m >= 1. */
uint64_t pinhole_rr_threshold(double epsilon, long double m, double *epsilon_realized);

/** log of the realized ratio of a randomized response keep threshold over m outcomes. */
double pinhole_rr_epsilon(uint64_t T, long double m);

/** Exact variance (counts^2) of the support-set estimate from n reports, f of them holding the
 * item: [f p (1 - p) + (n - f) r (1 - r)] / (p - r)^2, p > r. */
double pinhole_support_variance(double p, double r, double n, double f);

/** Unbiased estimates est[v] = (T[v] - r n) / (p - r) for v < k (counts, possibly negative).
 * T: support totals (counts). */
void pinhole_support_estimate(const uint64_t *T, uint64_t k, uint64_t n, double p, double r,
                              double *est);

#endif
