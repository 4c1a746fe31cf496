/* Which items are significantly present: per-item one-sided z-tests of "count = 0" on the unbiased
 * estimates, with a multiple-testing control across the k items (Bonferroni's family-wise error
 * rate or the Benjamini-Hochberg false discovery rate). docs/analytics.md, "Significant items". */
#ifndef PINHOLE_SERVER_ANALYTICS_SIGNIFICANCE_H
#define PINHOLE_SERVER_ANALYTICS_SIGNIFICANCE_H

#include <stddef.h>
#include <stdint.h>

typedef enum pinhole_sig_method {
    PINHOLE_SIG_NONE = 0,       /* no test: every item passes */
    PINHOLE_SIG_BONFERRONI = 1, /* family-wise error rate <= alpha: p <= alpha / k */
    PINHOLE_SIG_FDR = 2,        /* Benjamini-Hochberg step-up: false discovery rate <= alpha */
} pinhole_sig_method;

typedef struct pinhole_significance {
    pinhole_sig_method method;
    double alpha; /* level, 0 < alpha < 1 */
} pinhole_significance;

/** Parse "fdr:ALPHA" or "bonferroni:ALPHA" (ALPHA a number in (0, 1), e.g. "fdr:0.05") into *s.
 * "none" gives PINHOLE_SIG_NONE. Errors: PINHOLE_EINVAL (unknown method, missing or bad level). */
int pinhole_significance_parse(const char *text, pinhole_significance *s);

/** The name of a method as parse() reads it: "none", "bonferroni" or "fdr". */
const char *pinhole_significance_name(pinhole_sig_method m);

/** One-sided p-value of the test of "count = 0" against "count > 0" for an unbiased estimate with
 * standard error sd under the null: P[N(0,1) >= estimate / sd] = erfc(z / sqrt 2) / 2, exact in
 * the far tail (no cancellation). sd <= 0 or NaN inputs give 1 (never significant). */
double pinhole_significance_pvalue(double estimate, double sd);

/** Test k items: estimate[v] with null standard error sd[v] (sd == NULL: sd0 for every item).
 * pass[v] receives 1 for the items that pass under s (all with PINHOLE_SIG_NONE), *passed their
 * number, *p_cut (may be NULL) the largest p-value that passes (0 when none passes; 1 with NONE).
 * Bonferroni: p_v <= alpha / k. Benjamini-Hochberg (J. R. Stat. Soc. B 57, 1995): with p sorted
 * ascending, i* = max{i : p_(i) <= i alpha / k}; the items with p <= p_(i*) pass (FDR <= alpha
 * for independent tests; the per-item estimates of an LDP histogram are nearly independent when
 * k is large, docs/analytics.md). Errors: PINHOLE_EINVAL (alpha outside (0, 1), k == 0),
 * PINHOLE_ENOMEM (the FDR sort needs 16 k bytes). */
int pinhole_significance_test(const double *estimate, const double *sd, double sd0, uint64_t k,
                              const pinhole_significance *s, uint8_t *pass, uint64_t *passed,
                              double *p_cut);

#endif
