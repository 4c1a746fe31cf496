/* Projective Geometry Response: parameters, exact probabilities and variance, and the planner.
 *
 * Source: V. Feldman, J. Nelson, H. Nguyen, K. Talwar, "Private Frequency Estimation via Projective
 * Geometry", ICML 2022, §3 (the mechanism) and §4 (reconstruction); docs/design.md, "PGR".
 *
 * Items 0..k-1 are the points with those indices in P^{t-1}(F_q), K = (q^t - 1)/(q - 1) >= k.
 * A report is the index of a hyperplane; the randomizer outputs h with probability e^eps * p if h
 * contains the user's point, else p, p = 1/((e^eps - 1) c_set + K). The choice "inside or outside"
 * is made by comparing a 64-bit uniform with the integer threshold below, so the realized epsilon
 * (computed from that threshold) is the guarantee that holds for the code as run.
 *
 * A pinhole_pgr is read-only after pinhole_pgr_init() and may be shared between threads. */
#ifndef PINHOLE_COMMON_PGR_H
#define PINHOLE_COMMON_PGR_H

#include "common/gf.h"
#include "common/gf_ct.h"
#include "common/projective.h"

#include <stddef.h>
#include <stdint.h>

/* The planner evaluates variances at min(epsilon, PINHOLE_EPSILON_CAP): beyond 40 they differ
 * from their limit by less than e^-40 relative. The randomizer's threshold is still chosen for the
 * requested epsilon; it saturates at T = 2^64 - 1, where the realized epsilon is
 * ln((2^64 - 1)(K - c_set)/c_set) >= 44.3, the most a 64-bit threshold can express. */
#define PINHOLE_EPSILON_CAP 40.0
/* Smallest epsilon accepted: below it the estimator's variance (about 4/eps^2 per user) makes any
 * estimate meaningless, and the 64-bit threshold cannot represent the probabilities exactly. */
#define PINHOLE_EPSILON_MIN 1e-6

typedef struct pinhole_pgr {
    uint64_t k;              /* domain size: items 0..k-1 */
    double epsilon;          /* requested epsilon */
    double epsilon_realized; /* epsilon of the integer threshold actually used (<= epsilon) */
    uint32_t q;              /* field order */
    uint32_t t;              /* vector length */
    uint64_t K;              /* points (= hyperplanes), the report alphabet size */
    uint64_t c_set;          /* points per hyperplane, (q^{t-1} - 1)/(q - 1) */
    uint64_t c_int;          /* hyperplanes through two points, (q^{t-2} - 1)/(q - 1) */
    uint32_t bits;           /* bits per report, ceil(log2 K) */
    uint64_t threshold;      /* P[report contains the user's point] = threshold / 2^64 */
    double s_in;             /* realized P[report contains v | value v] */
    double r;                /* realized P[report contains v | value w != v] */
    double gap;              /* s_in - r, computed without cancellation */
    pinhole_gf F;            /* the field (tables owned) */
    pinhole_pspace S;        /* the projective space */
    pinhole_gf_ct Fct;       /* the field for constant-time use (client/pgr.c) */
} pinhole_pgr;

/** Check a privacy parameter: PINHOLE_OK for finite epsilon >= PINHOLE_EPSILON_MIN (1e-6), else
 * PINHOLE_EINVAL. */
int pinhole_epsilon_check(double epsilon);

/** Configure PGR for domain size k and privacy epsilon. q = 0 lets the planner choose (the
 * default pick of pinhole_pgr_plan()); t = 0 takes the smallest t with K >= k.
 * The threshold is the largest whose realized epsilon does not exceed epsilon.
 * Errors: PINHOLE_EINVAL (epsilon not finite or below 1e-6, k < 2, q not a prime power <= 2^16,
 * t given with K < k or K > q k, or epsilon not representable by a 64-bit threshold at this K),
 * PINHOLE_EOVERFLOW (K > 2^62), PINHOLE_ENOMEM. Free with pinhole_pgr_free(). */
int pinhole_pgr_init(pinhole_pgr *g, uint64_t k, double epsilon, uint32_t q, uint32_t t);

/** Release the field tables; safe on a zeroed struct. */
void pinhole_pgr_free(pinhole_pgr *g);

/** Exact variance of the unbiased estimate of one item's count (counts^2) from n reports when f
 * of them hold that item: [f s_in (1 - s_in) + (n - f) r (1 - r)] / (s_in - r)^2. */
double pinhole_pgr_variance(const pinhole_pgr *g, double n, double f);

/** The large-k limit of the best per-user variance of an unbiased frequency oracle,
 * 4 e^eps / (e^eps - 1)^2 (Feldman et al. 2022, §2; Ye & Barg 2018), the planner's "optimum". At
 * small k exact variances can fall below it (ratios under 1). Evaluated at
 * min(epsilon, PINHOLE_EPSILON_CAP), like the variances it is compared with. */
double pinhole_variance_optimum(double epsilon);

/* ---- the planner ---- */

typedef struct pinhole_pgr_choice {
    uint32_t q, t;
    uint64_t K;
    uint32_t bits;
    double variance;     /* per-user variance of an absent item's estimate, r(1-r)/(s_in-r)^2 */
    double ratio;        /* variance / pinhole_variance_optimum(epsilon) */
    double cost_ops;     /* estimated reconstruction operations (see pinhole_pgr_cost) */
    double memory_bytes; /* estimated reconstruction memory, counts y and totals T included */
    double seconds;      /* estimated reconstruction wall time (pinhole_pgr_cost_model) */
    int algorithm;       /* the pinhole_pgr_algo the estimate is for */
    int within_budget;   /* 1 if cost and memory are within the plan's budget */
} pinhole_pgr_choice;

typedef struct pinhole_pgr_plan_options {
    double max_cost_ops;       /* budget on reconstruction operations; 0 = no limit */
    double max_memory_bytes;   /* budget on reconstruction memory; 0 = default 1 GiB */
    double max_seconds;        /* budget on estimated reconstruction time (cost model); 0 = 5 s */
    unsigned threads;          /* server threads assumed by the time estimate; 0 = 1 */
    double variance_tolerance; /* relative variance the default pick may give up for a cheaper
                                  plan; 0 = PINHOLE_PLAN_TOLERANCE, negative = none */
} pinhole_pgr_plan_options;

/* The planner's default tolerance: the default pick is the cheapest plan whose variance is at most
 * 0.5% above the lowest variance within budget. Half a percent of variance is a quarter percent of
 * the interval width, far below what an analyst can see, while the plans it admits can differ by
 * 2^5 in K (bits per report, count storage, query time). */
#define PINHOLE_PLAN_TOLERANCE 0.005

typedef enum pinhole_pgr_algo {
    PINHOLE_PGR_ALGO_DP = 1,   /* the coordinate dynamic program */
    PINHOLE_PGR_ALGO_ENUM = 2, /* per item, enumerate the hyperplanes through it */
} pinhole_pgr_algo;

typedef struct pinhole_pgr_cost_estimate {
    pinhole_pgr_algo algorithm;  /* the faster algorithm by this model */
    double seconds;              /* its estimated wall time on the given threads */
    double bytes;                /* its estimated memory besides y (8 K bytes) and T (8 k bytes) */
    double ops;                  /* its basic operations: K q t (DP) or k c_set t (enumeration) */
    double dp_seconds, dp_bytes; /* the dynamic program (32-bit counts) */
    double enum_seconds, enum_bytes; /* enumeration (single-threaded) */
} pinhole_pgr_cost_estimate;

/** Cost model of turning K hyperplane counts into the k item totals T_v (docs/reconstruction.md):
 * time of the dynamic program from its block count, per-block work (q^2 ceil(q/8) vector adds for
 * prime q, q^3 table look-ups for prime powers) and the final gather, divided over threads (0 is
 * taken as 1); time of enumeration, k c_set t; memory of the DP's two level buffers. Constants were
 * calibrated on the project machine (docs/BENCHMARKS.md, "PGR reconstruction"). Fills *out. */
void pinhole_pgr_cost_model(uint32_t q, uint32_t t, uint64_t K, uint64_t k, unsigned threads,
                            pinhole_pgr_cost_estimate *out);

/** Operations and memory of the algorithm pinhole_pgr_cost_model() picks on one thread:
 * *ops receives its ops, *bytes its bytes plus the counts y (8 K bytes) and totals T (8 k). */
void pinhole_pgr_cost(uint32_t q, uint32_t t, uint64_t K, uint64_t k, double *ops, double *bytes);

/** Plan PGR for (k, epsilon): every prime power q <= 2^16 with its smallest t, scored by the exact
 * variance. Writes up to max choices into out: first the default pick, then the other choices
 * within budget by increasing variance, then the cheapest choices over budget. The default pick is
 * the cheapest choice within budget whose variance is at most (1 + tolerance) times the lowest
 * variance within budget (tolerance: opt->variance_tolerance, default PINHOLE_PLAN_TOLERANCE);
 * cheapest means the faster reconstruction by pinhole_pgr_cost_model() (on opt->threads), then
 * fewer bits per report, then fewer counts K, then the smaller q. *n receives the number
 * written; *capped (may be NULL) is set to 1 when the unconstrained optimum q was excluded by the
 * budget or by q <= 2^16. Errors: PINHOLE_EINVAL (epsilon, k < 2, max == 0), PINHOLE_EOVERFLOW (no
 * q gives K <= 2^62). */
int pinhole_pgr_plan(uint64_t k, double epsilon, const pinhole_pgr_plan_options *opt,
                     pinhole_pgr_choice *out, size_t max, size_t *n, int *capped);

#endif
