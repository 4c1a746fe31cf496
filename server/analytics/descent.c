/* Steepest descent with exact line search (closed-form step from the caller, or golden section). */
#include "server/analytics/descent.h"
#include "common/error.h"

#include <math.h>
#include <stdlib.h>

/* f(x - s g) into the scratch vector y. */
static double along(const pinhole_smooth_fn *fn, uint64_t dim, const double *x, const double *g,
                    double s, double *y)
{
    for (uint64_t i = 0; i < dim; i++)
        y[i] = x[i] - s * g[i];
    const double v = fn->value(fn->ctx, y);
    return isnan(v) ? INFINITY : v;
}

/* argmin_{s >= 0} f(x - s g): bracket a minimum, then golden-section search. Returns 0 when no
 * positive step decreases f below f0 (within 2^-100 of the initial trial step). */
static double line_search(const pinhole_smooth_fn *fn, uint64_t dim, const double *x,
                          const double *g, double gnorm, double f0, double *y)
{
    double b = 1.0 / gnorm, fb = along(fn, dim, x, g, b, y);
    for (int i = 0; fb >= f0; i++) {
        if (i == 100)
            return 0;
        b *= 0.5;
        fb = along(fn, dim, x, g, b, y);
    }
    double a = 0, c = 2 * b, fc = along(fn, dim, x, g, c, y);
    for (int i = 0; fc < fb && i < 1000; i++) { /* expand until f rises again */
        a = b;
        b = c, fb = fc;
        c *= 2;
        fc = along(fn, dim, x, g, c, y);
    }
    /* golden section on [a, c] holding the minimum (f(b) <= f(a), f(c)) */
    const double r = 0.5 * (3 - sqrt(5.0));
    double lo = a, hi = c;
    double m1 = lo + r * (hi - lo), m2 = hi - r * (hi - lo);
    double f1 = along(fn, dim, x, g, m1, y), f2 = along(fn, dim, x, g, m2, y);
    while (hi - lo > 1e-12 * hi) {
        if (f1 <= f2) {
            hi = m2, m2 = m1, f2 = f1;
            m1 = lo + r * (hi - lo);
            f1 = along(fn, dim, x, g, m1, y);
        } else {
            lo = m1, m1 = m2, f1 = f2;
            m2 = hi - r * (hi - lo);
            f2 = along(fn, dim, x, g, m2, y);
        }
    }
    const double s = f1 <= f2 ? m1 : m2, fs = f1 <= f2 ? f1 : f2;
    return fs < f0 ? s : (fb < f0 ? b : 0);
}

int pinhole_gd_exact(const pinhole_smooth_fn *fn, uint64_t dim, double *x,
                     const pinhole_gd_options *opt, double *trace, pinhole_gd_result *res,
                     const pinhole_progress *progress)
{
    if (dim == 0)
        return PINHOLE_EINVAL;
    const uint32_t max_it = opt && opt->max_iterations ? opt->max_iterations : 1000;
    const double tol = opt && opt->gradient_tolerance > 0 ? opt->gradient_tolerance : 1e-10;
    double *g = malloc(dim * sizeof *g), *y = malloc(dim * sizeof *y);
    int rc = PINHOLE_OK;
    if (!g || !y) {
        rc = PINHOLE_ENOMEM;
        goto out;
    }
    pinhole_gd_result r = {0};
    r.value = fn->value(fn->ctx, x);
    for (uint32_t it = 0;; it++) {
        fn->gradient(fn->ctx, x, g);
        double g2 = 0;
        for (uint64_t i = 0; i < dim; i++)
            g2 += g[i] * g[i];
        r.gradient_norm = sqrt(g2);
        if (!isfinite(r.value) || !isfinite(r.gradient_norm)) {
            rc = PINHOLE_EINVAL;
            goto out;
        }
        if (trace)
            trace[it] = r.value;
        r.converged = r.gradient_norm <= tol;
        if (r.converged || it == max_it)
            break;
        const double s = fn->line_min ? fn->line_min(fn->ctx, x, g)
                                      : line_search(fn, dim, x, g, r.gradient_norm, r.value, y);
        if (!isfinite(s) || s < 0) {
            rc = PINHOLE_EINVAL;
            goto out;
        }
        if (s == 0)
            break;
        for (uint64_t i = 0; i < dim; i++)
            x[i] -= s * g[i];
        r.value = fn->value(fn->ctx, x);
        r.iterations = it + 1;
        if (pinhole_progress_report(progress, (double)(it + 1) / max_it)) {
            rc = PINHOLE_ECANCELED;
            goto out;
        }
    }
    if (res)
        *res = r;
out:
    free(g);
    free(y);
    return rc;
}
