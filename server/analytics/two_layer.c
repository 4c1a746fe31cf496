/* two_layer: gradient descent on a wide two-layer ReLU network (logistic loss) through the autodiff
 * tape, its normalized margin, and the GLPK linear program for the max-margin reference. */
#include "server/analytics/two_layer.h"
#include "common/error.h"
#include "common/rng.h"
#include "server/analytics/autodiff.h"

#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int check_data(uint32_t n, uint32_t d, const double *x, const double *y)
{
    if (n == 0 || n > PINHOLE_TWO_LAYER_MAXN || d == 0 || d > PINHOLE_TWO_LAYER_MAXD || !x || !y)
        return PINHOLE_EINVAL;
    for (size_t i = 0; i < (size_t)n * d; i++)
        if (!isfinite(x[i]))
            return PINHOLE_EINVAL;
    for (uint32_t i = 0; i < n; i++)
        if (y[i] != 1 && y[i] != -1)
            return PINHOLE_EINVAL;
    return PINHOLE_OK;
}

/* f(x_i) for every sample, with w as (d+1) x m (column j = w_j). */
static void forward(uint32_t n, uint32_t d, const double *x, uint32_t m, const double *wt,
                    const double *a, double *f)
{
    for (uint32_t i = 0; i < n; i++) {
        double s = 0;
        for (uint32_t j = 0; j < m; j++) {
            double z = wt[(size_t)d * m + j]; /* bias coordinate */
            for (uint32_t k = 0; k < d; k++)
                z += x[(size_t)i * d + k] * wt[(size_t)k * m + j];
            if (z > 0)
                s += a[j] * z;
        }
        f[i] = s / m;
    }
}

/* Normalized margin of the network (w as (d+1) x m), and the F1 bound. */
static double margin_of(uint32_t n, uint32_t d, const double *x, const double *y, uint32_t m,
                        const double *wt, const double *a, double *f, double *f1)
{
    forward(n, d, x, m, wt, a, f);
    double norm = 0;
    for (uint32_t j = 0; j < m; j++) {
        double s = 0;
        for (uint32_t k = 0; k <= d; k++)
            s += wt[(size_t)k * m + j] * wt[(size_t)k * m + j];
        norm += fabs(a[j]) * sqrt(s);
    }
    norm /= m;
    double mg = INFINITY;
    for (uint32_t i = 0; i < n; i++)
        mg = fmin(mg, y[i] * f[i]);
    *f1 = norm;
    return norm > 0 ? mg / norm : 0;
}

int pinhole_two_layer_margin(uint32_t n, uint32_t d, const double *x, const double *y, uint32_t m,
                             const double *w, const double *a, double *margin, double *f1_norm)
{
    int rc = check_data(n, d, x, y);
    if (rc)
        return rc;
    if (m == 0 || m > PINHOLE_TWO_LAYER_MAXM || !w || !a || !margin)
        return PINHOLE_EINVAL;
    double *wt = malloc((size_t)(d + 1) * m * sizeof *wt), *f = malloc((size_t)n * sizeof *f);
    if (!wt || !f) {
        free(wt), free(f);
        return PINHOLE_ENOMEM;
    }
    for (uint32_t j = 0; j < m; j++)
        for (uint32_t k = 0; k <= d; k++)
            wt[(size_t)k * m + j] = w[(size_t)j * (d + 1) + k];
    double f1;
    *margin = margin_of(n, d, x, y, m, wt, a, f, &f1);
    if (f1_norm)
        *f1_norm = f1;
    free(wt), free(f);
    return PINHOLE_OK;
}

int pinhole_two_layer_train(uint32_t n, uint32_t d, const double *x, const double *y,
                            const pinhole_two_layer_options *opt, double *w_out, double *a_out,
                            double *trace, pinhole_two_layer_result *res)
{
    static const pinhole_two_layer_options defaults = {0};
    if (!opt)
        opt = &defaults;
    int rc = check_data(n, d, x, y);
    if (rc)
        return rc;
    const uint32_t m = opt->width ? opt->width : 100, steps = opt->steps ? opt->steps : 10000;
    const double eta = opt->step > 0 ? opt->step : PINHOLE_TWO_LAYER_STEP;
    const double scale = opt->init_scale > 0 ? opt->init_scale : 1;
    if (m > PINHOLE_TWO_LAYER_MAXM || !res || !isfinite(eta) || !isfinite(scale) || opt->step < 0 ||
        opt->init_scale < 0 || !isfinite(opt->relu_at_zero) || (uint64_t)n * m > 1u << 26)
        return PINHOLE_EINVAL;
    const uint32_t D = d + 1;
    double *xt = malloc((size_t)n * D * sizeof *xt), *wt = malloc((size_t)D * m * sizeof *wt);
    double *a = malloc((size_t)m * sizeof *a), *f = malloc((size_t)n * sizeof *f);
    pinhole_tape *t = NULL;
    rc = PINHOLE_ENOMEM;
    if (!xt || !wt || !a || !f || pinhole_tape_new(opt->relu_at_zero, &t))
        goto out;
    for (uint32_t i = 0; i < n; i++) { /* inputs with the bias coordinate */
        memcpy(xt + (size_t)i * D, x + (size_t)i * d, (size_t)d * sizeof *xt);
        xt[(size_t)i * D + d] = 1;
    }
    /* Balanced start: w_j uniform on the sphere of radius init_scale, a_j = +-init_scale. */
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, opt->seed);
    for (uint32_t j = 0; j < m; j++) {
        double s = 0;
        for (uint32_t k = 0; k < D; k++) {
            wt[(size_t)k * m + j] = pinhole_rng_normal(&rng);
            s += wt[(size_t)k * m + j] * wt[(size_t)k * m + j];
        }
        s = scale / sqrt(s);
        for (uint32_t k = 0; k < D; k++)
            wt[(size_t)k * m + j] *= s;
        a[j] = (pinhole_rng_u32(&rng) & 1) ? scale : -scale;
    }
    pinhole_rng_wipe(&rng);

    double loss = NAN, f1 = 0;
    uint32_t step = 0;
    rc = PINHOLE_OK;
    for (; step < steps; step++) {
        pinhole_tape_reset(t);
        const int vx = pinhole_tape_var(t, n * D, xt), vy = pinhole_tape_var(t, n, y);
        const int vw = pinhole_tape_var(t, D * m, wt), va = pinhole_tape_var(t, m, a);
        const int h = pinhole_tape_relu(t, pinhole_tape_matmul(t, vx, vw, n, D, m));
        const int fx = pinhole_tape_scale(t, pinhole_tape_matmul(t, h, va, n, m, 1), 1.0 / m);
        const int z = pinhole_tape_mul(t, fx, vy); /* y_i f(x_i) */
        /* log(1 + exp(-z)) = relu(-z) + log(1 + exp(-|z|)): no overflow for any z */
        const int nz = pinhole_tape_scale(t, z, -1);
        const int e = pinhole_tape_exp(t, pinhole_tape_scale(t, pinhole_tape_abs(t, z), -1));
        const int lo = pinhole_tape_add(
            t, pinhole_tape_relu(t, nz),
            pinhole_tape_log(t, pinhole_tape_add(t, pinhole_tape_fill(t, 1, 1), e)));
        const int out = pinhole_tape_scale(t, pinhole_tape_sum(t, lo), 1.0 / n);
        if ((rc = pinhole_tape_backward(t, out)))
            goto out;
        /* the loss itself, accurately even when exp(-z) underflows 1 + exp(-z) */
        const double *zv = pinhole_tape_value(t, z, NULL);
        loss = 0;
        for (uint32_t i = 0; i < n; i++)
            loss += zv[i] > 0 ? log1p(exp(-zv[i])) : -zv[i] + log1p(exp(zv[i]));
        loss /= n;
        if (!(loss > 1e-200) || !isfinite(loss))
            break; /* the loss has underflowed: doubles no longer resolve the direction's motion */
        const double lr = eta * m / loss;
        const double *ga = pinhole_tape_grad(t, va, NULL), *gw = pinhole_tape_grad(t, vw, NULL);
        for (uint32_t j = 0; j < m; j++)
            a[j] -= lr * ga[j];
        if (!opt->output_only)
            for (size_t k = 0; k < (size_t)D * m; k++)
                wt[k] -= lr * gw[k];
        if (opt->record_every && trace && (step + 1) % opt->record_every == 0)
            trace[(step + 1) / opt->record_every - 1] = margin_of(n, d, x, y, m, wt, a, f, &f1);
        if (opt->progress && (step + 1) % 100 == 0 &&
            opt->progress(opt->progress_ctx, step + 1, steps, loss)) {
            step++;
            rc = PINHOLE_ECANCELED;
            break;
        }
    }
    res->margin = margin_of(n, d, x, y, m, wt, a, f, &f1);
    if (opt->record_every && trace) /* after an early stop the model no longer moves */
        for (uint32_t k = step / opt->record_every; k < steps / opt->record_every; k++)
            trace[k] = res->margin;
    res->f1_norm = f1;
    res->loss = loss;
    res->steps = step;
    if (w_out)
        for (uint32_t j = 0; j < m; j++)
            for (uint32_t k = 0; k < D; k++)
                w_out[(size_t)j * D + k] = wt[(size_t)k * m + j];
    if (a_out)
        memcpy(a_out, a, (size_t)m * sizeof *a);
out:
    pinhole_tape_free(t);
    free(xt), free(wt), free(a), free(f);
    return rc;
}

/* Unit direction number k of `count` in R^D (see the header for the grids). */
static void direction(uint32_t D, uint32_t k, uint32_t count, pinhole_rng *rng, double *u)
{
    if (D == 2) {
        const double th = 6.283185307179586 * k / count;
        u[0] = cos(th), u[1] = sin(th);
    } else if (D == 3) { /* Fibonacci lattice: equal-area latitude bands, golden-angle longitudes */
        const double z = 1 - (2.0 * k + 1) / count, r = sqrt(1 - z * z);
        const double ph = k * 2.399963229728653; /* pi (3 - sqrt 5) */
        u[0] = r * cos(ph), u[1] = r * sin(ph), u[2] = z;
    } else {
        double s = 0;
        for (uint32_t i = 0; i < D; i++)
            u[i] = pinhole_rng_normal(rng), s += u[i] * u[i];
        for (uint32_t i = 0; i < D; i++)
            u[i] /= sqrt(s);
    }
}

int pinhole_two_layer_lp_margin(uint32_t n, uint32_t d, const double *x, const double *y,
                                uint32_t directions, uint64_t seed, double *margin,
                                double *weights_out)
{
    int rc = check_data(n, d, x, y);
    if (rc)
        return rc;
    if (directions == 0 || directions > PINHOLE_TWO_LAYER_MAXDIRS || !margin ||
        (uint64_t)directions * (n + 1) * 2 > 1u << 28)
        return PINHOLE_EINVAL;
    const uint32_t D = d + 1, M = directions;
    /* GLPK arrays are 1-based; the constraint matrix has 2M(n+1) + n nonzeros at most. */
    const size_t nnz = (size_t)2 * M * (n + 1) + n;
    int *ia = malloc((nnz + 1) * sizeof *ia), *ja = malloc((nnz + 1) * sizeof *ja);
    double *ar = malloc((nnz + 1) * sizeof *ar), *u = malloc((size_t)D * sizeof *u);
    if (!ia || !ja || !ar || !u) {
        free(ia), free(ja), free(ar), free(u);
        return PINHOLE_ENOMEM;
    }
    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MAX);
    /* rows 1..n: y_i sum_k (c+_k - c-_k) phi_k(x_i) - gamma >= 0; row n+1: sum (c+ + c-) <= 1 */
    glp_add_rows(lp, (int)n + 1);
    for (uint32_t i = 1; i <= n; i++)
        glp_set_row_bnds(lp, (int)i, GLP_LO, 0, 0);
    glp_set_row_bnds(lp, (int)n + 1, GLP_UP, 0, 1);
    /* columns 1..M: c+, M+1..2M: c-, 2M+1: gamma (free) */
    glp_add_cols(lp, (int)(2 * M + 1));
    for (uint32_t k = 1; k <= 2 * M; k++)
        glp_set_col_bnds(lp, (int)k, GLP_LO, 0, 0);
    glp_set_col_bnds(lp, (int)(2 * M + 1), GLP_FR, 0, 0);
    glp_set_obj_coef(lp, (int)(2 * M + 1), 1);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    size_t q = 0;
    for (uint32_t k = 0; k < M; k++) {
        direction(D, k, M, &rng, u);
        for (uint32_t i = 0; i < n; i++) {
            double z = u[d];
            for (uint32_t c = 0; c < d; c++)
                z += u[c] * x[(size_t)i * d + c];
            if (z <= 0)
                continue;
            q++, ia[q] = (int)i + 1, ja[q] = (int)k + 1, ar[q] = y[i] * z;
            q++, ia[q] = (int)i + 1, ja[q] = (int)(M + k) + 1, ar[q] = -y[i] * z;
        }
        q++, ia[q] = (int)n + 1, ja[q] = (int)k + 1, ar[q] = 1;
        q++, ia[q] = (int)n + 1, ja[q] = (int)(M + k) + 1, ar[q] = 1;
    }
    pinhole_rng_wipe(&rng);
    for (uint32_t i = 0; i < n; i++)
        q++, ia[q] = (int)i + 1, ja[q] = (int)(2 * M + 1), ar[q] = -1;
    glp_load_matrix(lp, (int)q, ia, ja, ar);
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.presolve = GLP_ON;
    rc = PINHOLE_EUNSUPPORTED;
    if (glp_simplex(lp, &parm) == 0 && glp_get_status(lp) == GLP_OPT) {
        *margin = glp_get_obj_val(lp);
        if (weights_out)
            for (uint32_t k = 0; k < M; k++)
                weights_out[k] =
                    glp_get_col_prim(lp, (int)k + 1) - glp_get_col_prim(lp, (int)(M + k) + 1);
        rc = PINHOLE_OK;
    }
    glp_delete_prob(lp);
    /* GLPK keeps an environment per thread until glp_free_env(); a job worker thread that ends
     * without it leaks that environment */
    glp_free_env();
    free(ia), free(ja), free(ar), free(u);
    return rc;
}
