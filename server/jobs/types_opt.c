/* Offline solvers: the job types over the optimization and learning modules, nearest_correlation,
 * maxcut, single_location and two_layer. Their inputs come in the job's parameters, not from a
 * collection's reports, so they are posted to /v1/jobs, not under a collection. */
#include "common/error.h"
#include "server/analytics/burer_monteiro.h"
#include "server/analytics/corr_repair.h"
#include "server/analytics/single_location.h"
#include "server/analytics/two_layer.h"
#include "server/jobs/params.h"
#include "server/jobs/types_opt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Work a job of these types may ask for, in inner-loop operations (about 10-20 s here): the
 * parts that do not report progress between steps (the excess-risk estimate, the cut rounding,
 * long single steps, the GLPK linear program) cannot be stopped by the time limit, so their size
 * is bounded before they start. */
#define JOB_MAX_OPS 2e10
#define JOB_MAX_LP_DIRECTIONS 4000
/* nonzeros of the max-margin linear program, directions x (n + 1): GLPK's simplex cannot be
 * stopped, and about 1e6 runs in seconds */
#define JOB_MAX_LP_NONZEROS 1e6
/* d L samples of the excess-risk estimate (about 20 ns each, no progress polling) */
#define JOB_MAX_RISK_WORK 5e8
/* SDP size: one Burer-Monteiro step costs n^2 p with p up to n (rank escapes), polled every 10 */
#define JOB_MAX_SDP_N 500

/* The iteration-style progress of these modules, mapped onto the job's fraction. */
static int progress_adapter(void *ctl, uint64_t done, uint64_t total, double value)
{
    (void)value;
    return pinhole_job_progress(ctl, total ? (double)done / (double)total : 0);
}

/* A rows x cols array of finite numbers (cols = 0: any, the same for every row). */
static double *get_matrix(const json_t *m, uint32_t max_rows, uint32_t *rows, uint32_t *cols)
{
    if (!json_is_array(m) || json_array_size(m) == 0 || json_array_size(m) > max_rows)
        return NULL;
    const size_t r = json_array_size(m), c = json_array_size(json_array_get(m, 0));
    if (c == 0 || c > 100000)
        return NULL;
    for (size_t i = 0; i < r; i++) /* the shape first, so nothing is allocated for a ragged one */
        if (!json_is_array(json_array_get(m, i)) || json_array_size(json_array_get(m, i)) != c)
            return NULL;
    double *a = malloc(r * c * sizeof *a);
    for (size_t i = 0; a && i < r; i++) {
        const json_t *row = json_array_get(m, i);
        if (!json_is_array(row) || json_array_size(row) != c) {
            free(a);
            return NULL;
        }
        for (size_t j = 0; j < c; j++) {
            const json_t *x = json_array_get(row, j);
            a[i * c + j] = json_number_value(x);
            if (!json_is_number(x) || !isfinite(a[i * c + j])) {
                free(a);
                return NULL;
            }
        }
    }
    *rows = (uint32_t)r;
    *cols = (uint32_t)c;
    return a;
}

json_t *pinhole_job_matrix_json(const double *a, uint32_t rows, uint32_t cols)
{
    json_t *m = json_array();
    for (uint32_t i = 0; i < rows; i++) {
        json_t *row = json_array();
        for (uint32_t j = 0; j < cols; j++)
            json_array_append_new(row, json_real(a[(size_t)i * cols + j]));
        json_array_append_new(m, row);
    }
    return m;
}

static int bm_options(const json_t *p, pinhole_job_ctl *ctl, pinhole_bm_options *o)
{
    uint64_t rank, iters, seed;
    memset(o, 0, sizeof *o);
    if (pinhole_param_uint(p, "rank", 0, PINHOLE_BM_MAXN, &rank) ||
        pinhole_param_uint(p, "max_iter", 0, 100000000, &iters) ||
        pinhole_param_uint(p, "seed", 1, UINT64_MAX >> 1, &seed))
        return -1;
    o->rank = (uint32_t)rank;
    o->max_iter = (uint32_t)iters;
    o->seed = seed;
    o->progress = progress_adapter;
    o->progress_ctx = ctl;
    return 0;
}

static json_t *bm_json(const pinhole_bm_result *r)
{
    return json_pack("{s:f, s:f, s:f, s:f, s:i, s:i}", "value", r->value, "grad_norm", r->grad_norm,
                     "lambda_min", r->lambda_min, "gap_bound", r->gap_bound, "rank", (int)r->rank,
                     "iterations", (int)r->iterations);
}

/* The repair's method by name: "auto" (default), "newton", "burer_monteiro"; -1 if unknown. */
static int repair_method(const json_t *p)
{
    const json_t *m = json_object_get(p, "method");
    if (!m)
        return PINHOLE_REPAIR_AUTO;
    const char *s = json_string_value(m);
    return !s                             ? -1
           : !strcmp(s, "auto")           ? PINHOLE_REPAIR_AUTO
           : !strcmp(s, "newton")         ? PINHOLE_REPAIR_NEWTON
           : !strcmp(s, "burer_monteiro") ? PINHOLE_REPAIR_BM
                                          : -1;
}

int pinhole_job_nearest_correlation(const pinhole_job_data *d, const json_t *params,
                                    pinhole_job_ctl *ctl, json_t **result, char *err, size_t errlen)
{
    (void)d;
    uint32_t n, c, wn = 0, wc = 0;
    pinhole_bm_options b;
    const json_t *wj = json_object_get(params, "weights");
    double *a = get_matrix(json_object_get(params, "matrix"), JOB_MAX_SDP_N, &n, &c);
    double *w = wj ? get_matrix(wj, JOB_MAX_SDP_N, &wn, &wc) : NULL;
    const int method = repair_method(params);
    if (!a || n != c || (wj && (!w || wn != n || wc != n)) || method < 0 ||
        bm_options(params, ctl, &b) != 0) {
        free(a);
        free(w);
        snprintf(err, errlen,
                 "matrix must be a square array of finite numbers (n <= 500), weights (optional) "
                 "one of the same size; method auto, newton or burer_monteiro; rank, max_iter and "
                 "seed non-negative integers");
        return PINHOLE_EINVAL;
    }
    pinhole_repair_options o = {.method = (pinhole_repair_method)method,
                                .weights = w,
                                .rank = b.rank,
                                .max_iter = b.max_iter,
                                .seed = b.seed,
                                .progress = progress_adapter,
                                .progress_ctx = ctl};
    double *x = malloc((size_t)n * n * sizeof *x);
    pinhole_repair_result r;
    int rc = x ? pinhole_correlation_repair(n, a, &o, x, &r) : PINHOLE_ENOMEM;
    if (rc == PINHOLE_OK) {
        *result =
            json_pack("{s:s, s:f, s:f, s:f, s:i, s:i, s:b}", "method",
                      r.method == PINHOLE_REPAIR_NEWTON ? "newton" : "burer_monteiro", "value",
                      r.value, "gap_bound", r.gap_bound, "lambda_min", r.lambda_min, "rank",
                      (int)r.rank, "iterations", (int)r.iterations, "certified", r.certified);
        json_object_set_new(*result, "matrix", pinhole_job_matrix_json(x, n, n));
    } else if (rc == PINHOLE_EINVAL) {
        snprintf(err, errlen,
                 "the matrix (and weights) must be symmetric, weights >= 0, rank <= n; the "
                 "newton method takes neither weights nor a rank");
    }
    free(a);
    free(w);
    free(x);
    return rc;
}

int pinhole_job_maxcut(const pinhole_job_data *d, const json_t *params, pinhole_job_ctl *ctl,
                       json_t **result, char *err, size_t errlen)
{
    (void)d;
    uint32_t n, c;
    uint64_t rounds;
    pinhole_bm_options o;
    double *w = get_matrix(json_object_get(params, "weights"), JOB_MAX_SDP_N, &n, &c);
    if (!w || n != c || bm_options(params, ctl, &o) != 0 ||
        pinhole_param_uint(params, "rounds", 100, 1000000, &rounds) ||
        (double)rounds * n * n > JOB_MAX_OPS) {
        free(w);
        snprintf(err, errlen,
                 "weights must be a square array of finite numbers (n <= 500); rounds, "
                 "rank, max_iter and seed non-negative integers, rounds n^2 <= 2e10");
        return PINHOLE_EINVAL;
    }
    int8_t *side = malloc(n);
    pinhole_maxcut_result r;
    int rc = side ? pinhole_maxcut(n, w, &o, (uint32_t)rounds, side, NULL, &r) : PINHOLE_ENOMEM;
    if (rc == PINHOLE_OK) {
        json_t *s = json_array();
        for (uint32_t i = 0; i < n; i++)
            json_array_append_new(s, json_integer(side[i]));
        *result = json_pack("{s:f, s:f, s:f, s:i, s:o, s:o}", "sdp_value", r.sdp_value, "sdp_bound",
                            r.sdp_bound, "cut_value", r.cut_value, "rounds", (int)r.rounds, "side",
                            s, "certificate", bm_json(&r.bm));
    } else if (rc == PINHOLE_EINVAL) {
        snprintf(err, errlen, "the weights must be symmetric");
    }
    free(w);
    free(side);
    return rc;
}

int pinhole_job_single_location(const pinhole_job_data *d, const json_t *params,
                                pinhole_job_ctl *ctl, json_t **result, char *err, size_t errlen)
{
    (void)d;
    uint64_t dim, L, steps, batch, seed, risk_samples;
    double gamma, noise, step, lambda0, decay;
    if (pinhole_param_uint(params, "d", 80, 10000, &dim) ||
        pinhole_param_uint(params, "L", 10, 10000, &L) ||
        pinhole_param_uint(params, "steps", 200000, 100000000, &steps) ||
        pinhole_param_uint(params, "batch", 5, 100000, &batch) ||
        pinhole_param_uint(params, "seed", 1, UINT64_MAX >> 1, &seed) ||
        pinhole_param_uint(params, "risk_samples", 20000, 10000000, &risk_samples) ||
        pinhole_param_double(params, "gamma", sqrt(0.5), &gamma) ||
        pinhole_param_double(params, "noise", 0.1, &noise) ||
        pinhole_param_double(params, "step", 1e-3, &step) ||
        pinhole_param_double(params, "lambda0", 2, &lambda0) ||
        pinhole_param_double(params, "lambda_decay", 1e-4, &decay) || dim < 2 || L < 1 ||
        steps < 1 || batch < 1 || (double)dim * L > 1e7 ||
        ((double)steps * batch + (double)risk_samples) * dim * L > JOB_MAX_OPS ||
        (double)risk_samples * dim * L > JOB_MAX_RISK_WORK) {
        snprintf(err, errlen,
                 "d >= 2, L >= 1, steps >= 1, batch >= 1 integers with d L <= 1e7 and "
                 "(steps batch + risk_samples) d L <= 2e10, risk_samples d L <= 5e8; gamma, "
                 "noise, step, lambda0, "
                 "lambda_decay finite numbers");
        return PINHOLE_EINVAL;
    }
    double *ks = malloc(dim * sizeof *ks), *vs = malloc(dim * sizeof *vs),
           *k = malloc(dim * sizeof *k), *v = malloc(dim * sizeof *v);
    int rc =
        ks && vs && k && v ? pinhole_sl_random_task((uint32_t)dim, seed, ks, vs) : PINHOLE_ENOMEM;
    const pinhole_sl_task task = {(uint32_t)dim, (uint32_t)L, gamma, noise, ks, vs};
    const pinhole_sl_options o = {steps,    (uint32_t)batch,  step, lambda0, decay,
                                  seed + 1, progress_adapter, ctl};
    pinhole_sl_result r;
    if (rc == PINHOLE_OK)
        rc = pinhole_sl_train_online(&task, &o, k, v, &r);
    double risk = NAN, se = NAN;
    if (rc == PINHOLE_OK)
        rc = pinhole_sl_excess_risk(&task, k, v, r.lambda, risk_samples, seed + 2, &risk, &se);
    if (rc == PINHOLE_OK) {
        double ak = 0, av = 0;
        for (uint64_t i = 0; i < dim; i++) {
            ak += k[i] * ks[i];
            av += v[i] * vs[i];
        }
        *result =
            json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "steps", (json_int_t)r.steps,
                      "lambda", r.lambda, "loss", r.loss, "alignment_k", fabs(ak), "alignment_v",
                      fabs(av), "excess_risk", risk, "excess_risk_stderr", se, "oracle_risk",
                      pinhole_sl_oracle_risk((uint32_t)dim, (uint32_t)L, gamma, r.lambda));
    } else if (rc == PINHOLE_EINVAL) {
        snprintf(err, errlen, "invalid task or options");
    }
    free(ks);
    free(vs);
    free(k);
    free(v);
    return rc;
}

int pinhole_job_two_layer(const pinhole_job_data *d, const json_t *params, pinhole_job_ctl *ctl,
                          json_t **result, char *err, size_t errlen)
{
    (void)d;
    uint32_t n, c;
    uint64_t width, steps, seed, directions;
    double step;
    const json_t *oo = json_object_get(params, "output_only");
    double *t = get_matrix(json_object_get(params, "data"), PINHOLE_TWO_LAYER_MAXN, &n, &c);
    if (!t || c < 2 || c - 1 > PINHOLE_TWO_LAYER_MAXD ||
        pinhole_param_uint(params, "width", 100, PINHOLE_TWO_LAYER_MAXM, &width) ||
        pinhole_param_uint(params, "steps", 10000, 100000000, &steps) ||
        pinhole_param_uint(params, "seed", 1, UINT64_MAX >> 1, &seed) ||
        pinhole_param_uint(params, "lp_directions", 0, JOB_MAX_LP_DIRECTIONS, &directions) ||
        pinhole_param_double(params, "step", PINHOLE_TWO_LAYER_STEP, &step) ||
        (oo && !json_is_boolean(oo)) || (double)steps * n * width * c > JOB_MAX_OPS ||
        (double)directions * (n + 1) > JOB_MAX_LP_NONZEROS) {
        free(t);
        snprintf(err, errlen,
                 "data must be rows of d inputs then a label +-1; width, steps, seed, "
                 "lp_directions (<= 4000) non-negative integers with steps n width (d + 1) <= "
                 "2e10 and lp_directions (n + 1) <= 1e6; step a number; output_only a boolean");
        return PINHOLE_EINVAL;
    }
    const uint32_t dim = c - 1;
    double *x = malloc((size_t)n * dim * sizeof *x), *y = malloc(n * sizeof *y);
    int rc = x && y ? PINHOLE_OK : PINHOLE_ENOMEM;
    for (uint32_t i = 0; rc == PINHOLE_OK && i < n; i++) {
        memcpy(x + (size_t)i * dim, t + (size_t)i * c, dim * sizeof *x);
        y[i] = t[(size_t)i * c + dim];
    }
    pinhole_two_layer_options o = {.width = (uint32_t)width,
                                   .steps = (uint32_t)steps,
                                   .step = step,
                                   .output_only = oo && json_is_true(oo),
                                   .seed = seed,
                                   .progress = progress_adapter,
                                   .progress_ctx = ctl};
    pinhole_two_layer_result r;
    if (rc == PINHOLE_OK)
        rc = pinhole_two_layer_train(n, dim, x, y, &o, NULL, NULL, NULL, &r);
    double lp = NAN;
    if (rc == PINHOLE_OK && directions > 0)
        rc = pinhole_two_layer_lp_margin(n, dim, x, y, (uint32_t)directions, seed, &lp, NULL);
    if (rc == PINHOLE_OK) {
        *result = json_pack("{s:f, s:f, s:f, s:i}", "margin", r.margin, "loss", r.loss, "f1_norm",
                            r.f1_norm, "steps", (int)r.steps);
        if (directions > 0)
            json_object_set_new(*result, "lp_margin", json_real(lp));
    } else if (rc == PINHOLE_EINVAL) {
        snprintf(err, errlen, "invalid data (labels must be +1 or -1) or options");
    }
    free(t);
    free(x);
    free(y);
    return rc;
}
