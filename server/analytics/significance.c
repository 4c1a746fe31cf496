/* Per-item z-tests with Bonferroni or Benjamini-Hochberg control (significance.h). */
#include "server/analytics/significance.h"
#include "common/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int pinhole_significance_parse(const char *text, pinhole_significance *s)
{
    s->method = PINHOLE_SIG_NONE;
    s->alpha = 0;
    if (!text)
        return PINHOLE_EINVAL;
    if (strcmp(text, "none") == 0)
        return PINHOLE_OK;
    const char *colon = strchr(text, ':');
    if (!colon)
        return PINHOLE_EINVAL;
    const size_t n = (size_t)(colon - text);
    pinhole_sig_method m;
    if (n == 3 && strncmp(text, "fdr", 3) == 0)
        m = PINHOLE_SIG_FDR;
    else if (n == 10 && strncmp(text, "bonferroni", 10) == 0)
        m = PINHOLE_SIG_BONFERRONI;
    else
        return PINHOLE_EINVAL;
    char *end;
    const double a = strtod(colon + 1, &end);
    if (end == colon + 1 || *end != '\0' || !(a > 0 && a < 1))
        return PINHOLE_EINVAL;
    s->method = m;
    s->alpha = a;
    return PINHOLE_OK;
}

const char *pinhole_significance_name(pinhole_sig_method m)
{
    return m == PINHOLE_SIG_BONFERRONI ? "bonferroni" : m == PINHOLE_SIG_FDR ? "fdr" : "none";
}

double pinhole_significance_pvalue(double estimate, double sd)
{
    if (!(sd > 0) || isnan(estimate))
        return 1;
    return 0.5 * erfc(estimate / sd / sqrt(2.0));
}

typedef struct pv {
    double p;
    uint64_t v;
} pv;

static int cmp_pv(const void *a, const void *b)
{
    const pv *x = a, *y = b;
    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    return x->v < y->v ? -1 : (x->v > y->v);
}

int pinhole_significance_test(const double *estimate, const double *sd, double sd0, uint64_t k,
                              const pinhole_significance *s, uint8_t *pass, uint64_t *passed,
                              double *p_cut)
{
    *passed = 0;
    if (p_cut)
        *p_cut = 0;
    if (k == 0)
        return PINHOLE_EINVAL;
    if (s->method == PINHOLE_SIG_NONE) {
        memset(pass, 1, k);
        *passed = k;
        if (p_cut)
            *p_cut = 1;
        return PINHOLE_OK;
    }
    if (!(s->alpha > 0 && s->alpha < 1))
        return PINHOLE_EINVAL;
    const double kd = (double)k;
    if (s->method == PINHOLE_SIG_BONFERRONI) {
        const double cut = s->alpha / kd;
        double best = 0;
        for (uint64_t v = 0; v < k; v++) {
            const double p = pinhole_significance_pvalue(estimate[v], sd ? sd[v] : sd0);
            pass[v] = p <= cut;
            if (pass[v]) {
                ++*passed;
                best = p > best ? p : best;
            }
        }
        if (p_cut)
            *p_cut = best;
        return PINHOLE_OK;
    }
    if (s->method != PINHOLE_SIG_FDR)
        return PINHOLE_EINVAL;
    pv *a = malloc(k * sizeof *a);
    if (!a)
        return PINHOLE_ENOMEM;
    for (uint64_t v = 0; v < k; v++) {
        a[v].p = pinhole_significance_pvalue(estimate[v], sd ? sd[v] : sd0);
        a[v].v = v;
    }
    qsort(a, k, sizeof *a, cmp_pv);
    uint64_t istar = 0; /* number passing: the largest i with p_(i) <= i alpha / k */
    for (uint64_t i = k; i >= 1; i--)
        if (a[i - 1].p <= (double)i * s->alpha / kd) {
            istar = i;
            break;
        }
    memset(pass, 0, k);
    for (uint64_t i = 0; i < istar; i++)
        pass[a[i].v] = 1;
    *passed = istar;
    if (p_cut)
        *p_cut = istar ? a[istar - 1].p : 0;
    free(a);
    return PINHOLE_OK;
}
