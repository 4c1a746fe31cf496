/* Comparing every mechanism of the table for a domain size and epsilon, and the automatic choice.
 *
 * Costs are operation counts from each mechanism's algorithm (not timings): client operations per
 * report (Bernoulli draws, field operations, hash evaluations), server operations per report
 * folded into the counts, and server operations and memory of one estimate from the counts. */
#ifndef PINHOLE_COMMON_COMPARE_H
#define PINHOLE_COMMON_COMPARE_H

#include "common/mechanism.h"

#include <stddef.h>
#include <stdint.h>

typedef struct pinhole_mechanism_row {
    pinhole_mechanism_id id;
    const char *name;
    int ok; /* 0 if the mechanism cannot be configured for (k, eps); rc says why */
    int rc;
    double variance; /* per-user variance of an absent item's estimate (n = 1, f = 0) */
    double ratio;    /* variance / pinhole_variance_optimum(eps) */
    double epsilon_realized;
    uint32_t bits;         /* bits per report */
    double client_ops;     /* per report */
    double accumulate_ops; /* server, per report */
    double estimate_ops;   /* server, per estimate */
    double memory_bytes;   /* server, per estimate (counts and work space) */
    int eligible;          /* meets the automatic choice's limits */
} pinhole_mechanism_row;

typedef struct pinhole_auto_options {
    double max_bits;           /* 0 = default 1024 */
    double max_accumulate_ops; /* 0 = default 1024 */
    double max_estimate_ops;   /* 0 = default 2^33 */
    double max_memory_bytes;   /* 0 = default 2 GiB */
} pinhole_auto_options;

/** One row per mechanism of the table (in table order, default parameters) for (k, epsilon), into
 * rows[0..max); *n receives the number written. Errors: PINHOLE_EINVAL (epsilon not finite and
 * > 0, k < 2, max == 0). */
int pinhole_mechanism_compare(uint64_t k, double epsilon, const pinhole_auto_options *opt,
                              pinhole_mechanism_row *rows, size_t max, size_t *n);

/** The automatic choice ("--mechanism auto"): among the mechanisms other than OLH (whose seed
 * pool adds a variance term that depends on the data) with at most max_bits per
 * report, max_accumulate_ops per report, max_estimate_ops and max_memory_bytes per estimate, the
 * lowest variance; variances within 1% of that lowest count as equal and are decided by the
 * lower estimate cost, then fewer bits. Falls back to PGR when none is eligible.
 * Errors: as pinhole_mechanism_compare(). */
int pinhole_mechanism_auto(uint64_t k, double epsilon, const pinhole_auto_options *opt,
                           pinhole_mechanism_id *out);

#endif
