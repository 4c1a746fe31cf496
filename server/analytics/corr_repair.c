/* Nearest-correlation repair: method choice, the weighted cost, weights from standard errors. */
#include "server/analytics/corr_repair.h"
#include "common/error.h"
#include "server/analytics/burer_monteiro.h"
#include "server/analytics/ncm_newton.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct weighted {
    const double *a, *h;
} weighted;

/* f(X) = sum_{i != j} H_ij (X_ij - A_ij)^2, grad = 2 H o (X - A) off the diagonal. */
static int weighted_cost(void *ctx, uint32_t n, const double *x, double *f, double *g)
{
    const weighted *w = ctx;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            const size_t ij = i * n + j;
            const double h = i == j ? 0 : w->h ? w->h[ij] : 1, r = x[ij] - w->a[ij];
            s += h * r * r;
            g[ij] = 2 * h * r;
        }
    *f = s;
    return PINHOLE_OK;
}

int pinhole_correlation_repair(uint32_t n, const double *a, const pinhole_repair_options *opt,
                               double *x_out, pinhole_repair_result *res)
{
    static const pinhole_repair_options defaults = {0};
    if (!opt)
        opt = &defaults;
    if (!a || !x_out || !res || opt->rank > n)
        return PINHOLE_EINVAL;
    if (opt->weights) {
        if (pinhole_check_symmetric(n, opt->weights) != PINHOLE_OK)
            return PINHOLE_EINVAL;
        for (size_t i = 0; i < (size_t)n * n; i++)
            if (opt->weights[i] < 0)
                return PINHOLE_EINVAL;
    }
    const int plain = !opt->weights && opt->rank == 0;
    pinhole_repair_method m = opt->method;
    if (m == PINHOLE_REPAIR_AUTO)
        m = plain ? PINHOLE_REPAIR_NEWTON : PINHOLE_REPAIR_BM;
    if (m == PINHOLE_REPAIR_NEWTON && !plain)
        return PINHOLE_EINVAL;
    memset(res, 0, sizeof *res);
    res->method = m;
    int rc;
    if (m == PINHOLE_REPAIR_NEWTON) {
        pinhole_ncm_options o = {.max_iter = opt->max_iter,
                                 .progress = opt->progress,
                                 .progress_ctx = opt->progress_ctx};
        pinhole_ncm_result r;
        rc = pinhole_ncm_newton(n, a, &o, x_out, &r);
        if (rc != PINHOLE_OK)
            return rc;
        res->value = r.value;
        res->gap_bound = r.gap_bound;
        res->lambda_min = r.lambda_min;
        res->rank = r.rank;
        res->iterations = r.iterations;
    } else {
        if (pinhole_check_symmetric(n, a) != PINHOLE_OK)
            return PINHOLE_EINVAL;
        pinhole_bm_options o = {.rank = opt->rank,
                                .keep_rank = opt->rank != 0,
                                .max_iter = opt->max_iter,
                                .seed = opt->seed,
                                .progress = opt->progress,
                                .progress_ctx = opt->progress_ctx};
        weighted w = {.a = a, .h = opt->weights};
        pinhole_bm_result r;
        rc = pinhole_bm_solve(n, weighted_cost, &w, &o, x_out, &r);
        if (rc != PINHOLE_OK)
            return rc;
        res->value = r.value;
        res->gap_bound = r.gap_bound;
        res->lambda_min = r.lambda_min;
        res->rank = r.rank;
        res->iterations = r.iterations;
    }
    res->certified = res->gap_bound <= 1e-8 * (1 + res->value);
    return PINHOLE_OK;
}

int pinhole_repair_weights(uint32_t n, const double *se, double *h)
{
    if (n < 2 || !se || !h)
        return PINHOLE_EINVAL;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            const double s = se[i * n + j];
            if (!isfinite(s) || s < 0)
                return PINHOLE_EINVAL;
            const double v = i == j ? 0 : 1 / (fmax(s, 1e-12) * fmax(s, 1e-12));
            h[i * n + j] = v;
            sum += v;
        }
    const double mean = sum / ((double)n * (n - 1));
    for (size_t i = 0; i < (size_t)n * n; i++)
        h[i] /= mean;
    return PINHOLE_OK;
}

int pinhole_multi_repair(const pinhole_multi_corr *c, int weighted,
                         const pinhole_repair_options *opt, double *x_out,
                         pinhole_repair_result *res)
{
    static const pinhole_repair_options defaults = {0};
    pinhole_repair_options o = opt ? *opt : defaults;
    double *h = NULL;
    if (weighted) {
        h = malloc((size_t)c->n * c->n * sizeof *h);
        if (!h)
            return PINHOLE_ENOMEM;
        int rc = pinhole_repair_weights(c->n, c->se, h);
        if (rc != PINHOLE_OK) {
            free(h);
            return rc;
        }
        o.weights = h;
    }
    const int rc = pinhole_correlation_repair(c->n, c->r, &o, x_out, res);
    free(h);
    return rc;
}
