/* Multi-attribute collections, server side: from each pair's report histogram, the pairwise joint
 * tables, the one-way marginals made consistent across the tables that share an attribute, and
 * the variance of any linear functional of a table (docs/multi-attribute.md, "Estimation").
 * Consistency: the marginal post-processing of CALM (Zhang, Wang, Li, He, Chen, CCS 2018, §5).
 * Variances are implemented for PGR collections (Feldman, Nelson, Nguyen, Talwar, ICML 2022, §3),
 * whose estimator is linear per report. */
#ifndef PINHOLE_SERVER_ANALYTICS_MULTI_H
#define PINHOLE_SERVER_ANALYTICS_MULTI_H

#include "client/multi.h"
#include "common/rng.h"

#include <stdint.h>

typedef struct pinhole_multi_table {
    uint32_t j, l; /* attributes: rows j (k_j), columns l (k_l); j = l = 0 when d = 1 */
    uint32_t rows, cols;
    uint64_t n;    /* reports of this pair */
    double *raw;   /* rows x cols frequencies, shifted to total 1 (before consistency) */
    double *var;   /* variance of each raw cell */
    double *joint; /* rows x cols after the consistency step (total 1, marginals M_j, M_l) */
    double wj, wl; /* this table's weights in the combined marginals of j and of l */
    /* the variance data: distinct report values seen, their counts and cell memberships */
    uint32_t nh;
    uint64_t *hcount; /* nh report counts */
    uint8_t *member;  /* nh x (rows cols): 1 if the cell's point lies on the reported hyperplane */
    uint32_t *hsize;  /* nh: cells on each reported hyperplane */
    double gap;       /* s_in - r of the pair's PGR */
} pinhole_multi_table;

typedef struct pinhole_multi_est {
    uint32_t d, npairs;
    uint32_t k[PINHOLE_MULTI_DMAX];
    pinhole_multi_table *t;           /* npairs tables, in pair order */
    double *marg[PINHOLE_MULTI_DMAX]; /* combined marginal of each attribute (k_j, total 1) */
    double *marg_var[PINHOLE_MULTI_DMAX];
} pinhole_multi_est;

/** One simulated device of mc holding values[0..d): a pair drawn uniformly from rng, its cell
 * randomized by the pair's mechanism from rng (pinhole_encode) and folded into counts[pair]
 * (pinhole_accumulate), the path of pinhole_multi_report() without the framing and with a seeded
 * pair draw. For simulations and benchmarks. Errors: PINHOLE_ERANGE (a value out of range), those
 * of pinhole_encode() and pinhole_accumulate(). */
int pinhole_multi_simulate(const pinhole_multi *mc, const uint32_t *values, pinhole_rng *rng,
                           uint64_t *const *counts);

/** One simulated device of a Gaussian copula population: latent z_0 ~ N(0, 1), z_j = rho z_{j-1} +
 * sqrt(1 - rho^2) e_j (an AR(1) law, corr(z_i, z_j) = rho^|i-j|), and values[j] = the number of the
 * k[j] - 1 cut points -1.5 + 3c/k[j] (c = 1..k[j]-1) below z_j. For simulations and benchmarks.
 * |rho| < 1. */
void pinhole_multi_copula_draw(uint32_t d, const uint32_t *k, double rho, pinhole_rng *rng,
                               uint32_t *values);

/** Estimate every pairwise joint and every marginal of the multi-attribute collection mc from its
 * pairs' report counts: counts[p] is the count vector of pair p's collection (for PGR the K
 * hyperplane counts, as pinhole_accumulate() builds it). Steps (docs/multi-attribute.md): the
 * pair's estimator; each table shifted to total 1; variances of the cells from the per-report
 * contributions; marginals combined over the tables holding the attribute, weight per table
 * proportional to 1/(sum of its marginal's variances); each table projected onto those marginals.
 * Errors: PINHOLE_EUNSUPPORTED (a pair not PGR), PINHOLE_ENOREPORTS (a pair with no report),
 * PINHOLE_ENOMEM, and those of pinhole_pgr_reconstruct(). Free with pinhole_multi_est_free(). */
int pinhole_multi_estimate(const pinhole_multi *mc, const uint64_t *const *counts,
                           pinhole_multi_est *e);

/** Release the estimate; safe on a zeroed struct. */
void pinhole_multi_est_free(pinhole_multi_est *e);

/** Variance of c . raw for table p, c a rows x cols vector: the empirical variance of the
 * per-report contributions, (1/n) [(1/n) sum_h y_h (c~ . z(h))^2 - (c~ . raw)^2], c~ = c - mean(c)
 * (which accounts for the shift to total 1 exactly). Returns NaN if p >= npairs. */
double pinhole_multi_functional_var(const pinhole_multi_est *e, uint32_t p, const double *c);

/** The table of attributes (a, b), a != b, and whether a is its row attribute: returns the pair
 * index (its table is e->t[p]) and sets *a_is_row; UINT32_MAX if a == b or out of range. */
uint32_t pinhole_multi_table_of(const pinhole_multi_est *e, uint32_t a, uint32_t b, int *a_is_row);

/* ---- correlation ---- */

typedef struct pinhole_multi_corr {
    uint32_t n;     /* attributes in the matrix */
    uint32_t *attr; /* n attribute indices (ordinal or binary ones, increasing) */
    double *r;      /* n x n correlation estimates, unit diagonal, symmetric */
    double *se;     /* n x n standard errors (delta method), 0 on the diagonal */
    double *cross;  /* n x n: the pair's own table's sum_ab s_a t_b raw_ab (unbiased), diag 0 */
} pinhole_multi_corr;

/** The correlation matrix of the attributes with numeric meaning: Pearson's correlation of the
 * category scores (scores[j][0..k_j), or 0..k_j-1 when scores or scores[j] is NULL), which for a
 * binary attribute pair is the phi coefficient. nominal[j] != 0 (nominal may be NULL) leaves out an
 * attribute with k_j > 2. rho_jl = (cross_jl - mu_j mu_l)/(sigma_j sigma_l), cross from the pair's
 * raw table, mu and sigma from the combined marginals; standard errors by the delta method over
 * every table that feeds these (docs/multi-attribute.md, "Correlation matrix").
 * Errors: PINHOLE_EINVAL (d < 2, fewer than 2 attributes left, non-finite scores, an attribute
 * whose estimated variance of scores is <= 0), PINHOLE_ENOMEM. Free with
 * pinhole_multi_corr_free(). */
int pinhole_multi_correlation(const pinhole_multi_est *e, const double *const *scores,
                              const uint8_t *nominal, pinhole_multi_corr *c);

/** Release the matrix; safe on a zeroed struct. */
void pinhole_multi_corr_free(pinhole_multi_corr *c);

#endif
