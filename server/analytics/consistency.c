/* Consistency of estimates: simplex projection by sort and threshold, and the PGR EM maximum
 * likelihood (see consistency.h for the sources and the convergence argument). */
#include "server/analytics/consistency.h"
#include "common/error.h"
#include "server/analytics/pgr_channel.h"
#include "server/estimate/pgr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int by_value_desc(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

int pinhole_simplex_project(const double *u, uint64_t k, double n, double *x, double *theta)
{
    if (k == 0 || !isfinite(n) || n < 0)
        return PINHOLE_EINVAL;
    for (uint64_t i = 0; i < k; i++)
        if (!isfinite(u[i]))
            return PINHOLE_EINVAL;
    double *s = malloc(k * sizeof *s);
    if (!s)
        return PINHOLE_ENOMEM;
    memcpy(s, u, k * sizeof *s);
    qsort(s, k, sizeof *s, by_value_desc);
    /* rho = the largest j with s_j - (S_j - n) / j > 0 (1-based); the condition holds for a prefix
     * of j, and at j = 1 it reads n > 0. Scan every j so that rounding cannot end the scan early.
     */
    double sum = 0, sum_rho = s[0] - n;
    uint64_t rho = 1;
    for (uint64_t j = 1; j <= k; j++) {
        sum += s[j - 1];
        if (!isfinite(sum)) {
            free(s);
            return PINHOLE_EOVERFLOW;
        }
        if (s[j - 1] - (sum - n) / (double)j > 0)
            rho = j, sum_rho = sum - n;
    }
    free(s);
    const double th = n == 0 ? INFINITY : sum_rho / (double)rho;
    for (uint64_t i = 0; i < k; i++)
        x[i] = u[i] > th ? u[i] - th : 0.0;
    if (theta)
        *theta = th;
    return PINHOLE_OK;
}

/* pi[h] = P[report h] = alpha + (beta - alpha) (I f)_h for a frequency vector f[0..K) (zero past
 * k, summing to 1); returns the log-likelihood sum_h y_h log pi_h. */
static int channel_probs(const pinhole_pgr *g, const uint64_t *y, const double *f, double *pi,
                         double *loglik)
{
    double alpha, beta;
    pinhole_pgr_channel(g, &alpha, &beta);
    int rc = pinhole_pgr_incidence(g, f, pi);
    if (rc != PINHOLE_OK)
        return rc;
    double L = 0;
    for (uint64_t h = 0; h < g->K; h++) {
        pi[h] = alpha + (beta - alpha) * pi[h];
        if (y[h])
            L += (double)y[h] * log(pi[h]);
    }
    *loglik = L;
    return PINHOLE_OK;
}

int pinhole_pgr_loglik(const pinhole_pgr *g, const uint64_t *y, const double *x, double *loglik)
{
    double sum = 0;
    for (uint64_t v = 0; v < g->k; v++) {
        if (!isfinite(x[v]) || x[v] < 0)
            return PINHOLE_EINVAL;
        sum += x[v];
    }
    if (!(sum > 0) || !isfinite(sum))
        return PINHOLE_EINVAL;
    double *f = calloc(g->K, sizeof *f), *pi = malloc(g->K * sizeof *pi);
    int rc = PINHOLE_ENOMEM;
    if (f && pi) {
        for (uint64_t v = 0; v < g->k; v++)
            f[v] = x[v] / sum;
        rc = channel_probs(g, y, f, pi, loglik);
    }
    free(f);
    free(pi);
    return rc;
}

/* Default EM start: the unbiased estimate projected onto the simplex, mixed with 10% uniform so
 * that every item starts positive (EM cannot revive a zero coordinate). f receives frequencies. */
static int default_start(const pinhole_pgr *g, const uint64_t *y, uint64_t n, double *f)
{
    uint64_t *T = malloc(g->k * sizeof *T);
    if (!T)
        return PINHOLE_ENOMEM;
    int rc = pinhole_pgr_reconstruct(g, y, T, PINHOLE_PGR_AUTO);
    if (rc == PINHOLE_OK)
        rc = pinhole_pgr_estimate(g, T, n, f);
    free(T);
    if (rc == PINHOLE_OK)
        rc = pinhole_simplex_project(f, g->k, (double)n, f, NULL);
    if (rc != PINHOLE_OK)
        return rc;
    for (uint64_t v = 0; v < g->k; v++)
        f[v] = 0.9 * f[v] / (double)n + 0.1 / (double)g->k;
    return PINHOLE_OK;
}

int pinhole_pgr_mle(const pinhole_pgr *g, const uint64_t *y, const pinhole_mle_options *opt,
                    double *x, double *trace, pinhole_mle_result *res,
                    const pinhole_progress *progress)
{
    const uint64_t K = g->K, k = g->k;
    const uint32_t max_it = opt && opt->max_iterations ? opt->max_iterations : 1000;
    const double tol = opt && opt->tolerance > 0 ? opt->tolerance : 1e-6;
    uint64_t n = 0;
    for (uint64_t h = 0; h < K; h++) {
        if (y[h] > UINT64_MAX - n)
            return PINHOLE_EOVERFLOW;
        n += y[h];
    }
    if (n == 0)
        return PINHOLE_ENOREPORTS;
    const double nd = (double)n;
    double init_sum = 0;
    if (opt && opt->init) {
        for (uint64_t v = 0; v < k; v++) {
            if (!isfinite(opt->init[v]) || !(opt->init[v] > 0))
                return PINHOLE_EINVAL;
            init_sum += opt->init[v];
        }
        if (!isfinite(init_sum))
            return PINHOLE_EINVAL;
    }

    double *f = calloc(K, sizeof *f), *fn = calloc(K, sizeof *fn), *pi = malloc(K * sizeof *pi),
           *w = malloc(K * sizeof *w);
    int rc = PINHOLE_ENOMEM;
    if (!f || !fn || !pi || !w)
        goto out;
    if (opt && opt->init) {
        for (uint64_t v = 0; v < k; v++)
            f[v] = opt->init[v] / init_sum;
    } else if ((rc = default_start(g, y, n, f)) != PINHOLE_OK) {
        goto out;
    }

    double alpha, beta;
    pinhole_pgr_channel(g, &alpha, &beta);
    const double eta_max = opt && opt->plain_em ? 1 : 64;
    double eta = 1;
    pinhole_mle_result r = {0};
    if ((rc = channel_probs(g, y, f, pi, &r.loglik)) != PINHOLE_OK)
        goto out;
    if (trace)
        trace[0] = r.loglik;
    for (uint32_t it = 0;; it++) {
        /* w_v = (M^T (y / pi))_v / n = (alpha U + (beta - alpha) (I u)_v) / n, u = y / pi: the
         * gradient of the log-likelihood over n; sum_v f_v w_v = 1 */
        double U = 0;
        for (uint64_t h = 0; h < K; h++) {
            pi[h] = y[h] ? (double)y[h] / pi[h] : 0.0;
            U += pi[h];
        }
        if ((rc = pinhole_pgr_incidence(g, pi, w)) != PINHOLE_OK)
            goto out;
        double wmax = 0;
        for (uint64_t v = 0; v < k; v++) {
            w[v] = log((alpha * U + (beta - alpha) * w[v]) / nd);
            wmax = w[v] > wmax ? w[v] : wmax;
        }
        r.gap = nd * expm1(wmax);
        r.converged = r.gap <= tol * nd;
        if (r.converged || it == max_it)
            break;
        /* f_v <- f_v w_v^eta / sum (in logs); keep the step only if L does not drop, else halve
         * eta; eta = 1 is the EM step, which never lowers L (up to rounding) */
        double L;
        for (;;) {
            double top = -INFINITY, s = 0;
            for (uint64_t v = 0; v < k; v++) {
                fn[v] = f[v] > 0 ? log(f[v]) + eta * w[v] : -INFINITY;
                top = fn[v] > top ? fn[v] : top;
            }
            for (uint64_t v = 0; v < k; v++)
                s += fn[v] = exp(fn[v] - top);
            for (uint64_t v = 0; v < k; v++)
                fn[v] /= s;
            if ((rc = channel_probs(g, y, fn, pi, &L)) != PINHOLE_OK)
                goto out;
            if (L >= r.loglik || eta == 1)
                break;
            eta = eta / 2 > 1 ? eta / 2 : 1;
        }
        double *tmp = f;
        f = fn, fn = tmp;
        r.loglik = L;
        eta = 2 * eta < eta_max ? 2 * eta : eta_max;
        r.iterations = it + 1;
        if (trace)
            trace[it + 1] = L;
        if (pinhole_progress_report(progress, (double)(it + 1) / max_it)) {
            rc = PINHOLE_ECANCELED;
            break;
        }
    }
    for (uint64_t v = 0; v < k; v++)
        x[v] = f[v] * nd;
    if (res && rc == PINHOLE_OK)
        *res = r;
out:
    free(f);
    free(fn);
    free(pi);
    free(w);
    return rc;
}

int pinhole_mle(const pinhole_config *c, const uint64_t *counts, const pinhole_mle_options *opt,
                double *x, double *trace, pinhole_mle_result *res, const pinhole_progress *progress)
{
    if (c->mechanism != PINHOLE_MECH_PGR)
        return PINHOLE_EUNSUPPORTED;
    return pinhole_pgr_mle(&c->u.pgr, counts, opt, x, trace, res, progress);
}
