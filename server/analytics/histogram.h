/* The estimated histogram with its optional modules, as analysts query it: unbiased estimates and
 * variances, then (on request) the consistent histogram and each item's probability of being in
 * the top k. One composition serves the histogram endpoint, the jobs and the CLI. */
#ifndef PINHOLE_SERVER_ANALYTICS_HISTOGRAM_H
#define PINHOLE_SERVER_ANALYTICS_HISTOGRAM_H

#include "common/mechanism.h"
#include "server/analytics/consistency.h"
#include "server/analytics/noise.h"
#include "server/analytics/progress.h"
#include "server/analytics/significance.h"
#include "server/estimate/pgr.h"

#include <jansson.h>
#include <stdint.h>

/* Standard normal 97.5% quantile: estimate +- PINHOLE_Z95 stderr is the 95% interval. */
#define PINHOLE_Z95 1.959963984540054

typedef enum pinhole_consistency {
    PINHOLE_CONSISTENCY_NONE = 0,
    PINHOLE_CONSISTENCY_PROJECT = 1, /* Euclidean projection onto {x >= 0, sum x = n} */
    PINHOLE_CONSISTENCY_MLE = 2,     /* maximum likelihood (PGR only) */
} pinhole_consistency;

typedef struct pinhole_histogram_options {
    pinhole_consistency consistency;
    uint32_t mle_iterations; /* MLE steps at most; 0 = the module's default */
    uint64_t topk;           /* k of the top-k probabilities; 0 = not computed */
    uint64_t topk_samples;   /* Monte Carlo samples; 0 = 1000 */
    pinhole_noise topk_noise;
    uint64_t seed;                     /* of the top-k sampling */
    pinhole_significance significance; /* per-item tests of count = 0; method NONE = not run */
    pinhole_pgr_workspace *workspace;  /* the reconstruction's tables and buffers, kept by the
                                        * caller's worker (server/estimate/pgr.h); NULL = none */
} pinhole_histogram_options;

typedef struct pinhole_histogram {
    uint64_t k, n;
    double *estimate; /* k unbiased count estimates */
    double
        *variance; /* k exact variances (counts^2), true count replaced by the clipped estimate */
    double *consistent;    /* k consistent counts, or NULL when not asked */
    double *topk_prob;     /* k probabilities of being in the top topk, or NULL when not asked */
    uint64_t topk_samples; /* Monte Carlo samples behind topk_prob (standard error of each
                              probability p: sqrt(p (1 - p) / samples) <= 0.5 / sqrt(samples)) */
    uint64_t *order;       /* k item indices by decreasing estimate (ties by index) */
    /* significance (when asked): pass[v] = 1 for the items that passed, p_value[v] the one-sided
     * p-value of "count = 0" with the null standard error null_stderr (significance.h) */
    pinhole_significance significance;
    uint8_t *pass;
    double *p_value;
    double null_stderr;
    uint64_t passed;
    int has_mle; /* 1 when consistent is the MLE: mle then describes its run */
    pinhole_mle_result mle;
} pinhole_histogram;

/** Compute the histogram of n reports summarised in counts[0..c->counts_len) with the modules
 * asked in opt (NULL = none). The top-k probabilities perturb the estimates with the standard
 * errors sqrt(variance) (Berthet et al., NeurIPS 2020); the consistent histogram is the
 * projection (Duchi et al. 2008) or the MLE (see server/analytics/consistency.h); the significance
 * tests use the exact standard error of an absent item's estimate, sqrt(variance(n, f = 0)).
 * Errors: those of pinhole_estimate() (PINHOLE_ENOREPORTS for n == 0, ...), PINHOLE_EINVAL (topk
 * > k), PINHOLE_EUNSUPPORTED (MLE for a mechanism other than PGR), PINHOLE_ENOMEM,
 * PINHOLE_ECANCELED. Free with pinhole_histogram_free() (also after an error). */
int pinhole_histogram_compute(const pinhole_config *c, const uint64_t *counts, uint64_t n,
                              const pinhole_histogram_options *opt, pinhole_histogram *h,
                              const pinhole_progress *progress);

/** Item v of a computed histogram as JSON, the form of every histogram answer (docs/api.md):
 * {"item", "estimate", "stderr", "lower", "upper", "label" (when label is not NULL),
 * "consistent", "topk_probability" and "p_value" (when computed)}. NULL when out of memory. */
json_t *pinhole_histogram_item_json(const pinhole_histogram *h, uint64_t v, const char *label);

/** The "significance" member of an answer: {"method", "alpha", "tested" (k), "passed",
 * "null_stderr"}, or NULL when no test was asked (or out of memory). */
json_t *pinhole_histogram_significance_json(const pinhole_histogram *h);

/** Free the arrays; safe on a zeroed struct. */
void pinhole_histogram_free(pinhole_histogram *h);

#endif
