/* The multi_attribute job: a multi-attribute collection's pair collections, named in the job's
 * parameters, estimated into marginals, pairwise joints and a correlation matrix with intervals,
 * and the matrix repaired to the nearest correlation matrix (docs/multi-attribute.md). */
#include "common/error.h"
#include "server/analytics/corr_repair.h"
#include "server/analytics/histogram.h"
#include "server/analytics/multi.h"
#include "server/jobs/params.h"
#include "server/jobs/types_opt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct request {
    uint32_t d, k[PINHOLE_MULTI_DMAX], npairs;
    uint8_t nominal[PINHOLE_MULTI_DMAX];
    double *scores[PINHOLE_MULTI_DMAX]; /* NULL = 0..k-1 */
    int64_t from, to;
    int correlation, repair, weighted;
    int method;
    uint64_t rank, seed;
} request;

static void request_free(request *r)
{
    for (uint32_t j = 0; j < PINHOLE_MULTI_DMAX; j++)
        free(r->scores[j]);
}

/* The attributes into r (d, k, npairs, nominal, scores); 0, or -1 with err filled. */
static int parse_attributes(const json_t *attrs, request *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->d = (uint32_t)json_array_size(attrs);
    if (!json_is_array(attrs) || r->d == 0 || r->d > PINHOLE_MULTI_DMAX) {
        snprintf(err, errlen,
                 "attributes must be an array of 1 to 64 objects {k, name?, labels?, "
                 "kind?, scores?}");
        return -1;
    }
    r->npairs = r->d == 1 ? 1 : r->d * (r->d - 1) / 2;
    for (uint32_t j = 0; j < r->d; j++) {
        const json_t *a = json_array_get(attrs, j), *k = json_object_get(a, "k");
        const json_t *kind = json_object_get(a, "kind"), *sc = json_object_get(a, "scores");
        if (!json_is_integer(k) || json_integer_value(k) < 2 ||
            json_integer_value(k) > PINHOLE_MULTI_KMAX) {
            snprintf(err, errlen, "attribute %u: k must be an integer in 2..256", j);
            return -1;
        }
        r->k[j] = (uint32_t)json_integer_value(k);
        const char *ks = kind ? json_string_value(kind) : "ordinal";
        if (!ks || (strcmp(ks, "ordinal") && strcmp(ks, "nominal") && strcmp(ks, "binary")) ||
            (!strcmp(ks, "binary") && r->k[j] != 2)) {
            snprintf(err, errlen, "attribute %u: kind is ordinal, nominal or binary (k = 2)", j);
            return -1;
        }
        r->nominal[j] = !strcmp(ks, "nominal");
        if (sc) {
            if (!json_is_array(sc) || json_array_size(sc) != r->k[j] ||
                !(r->scores[j] = malloc(r->k[j] * sizeof *r->scores[j]))) {
                snprintf(err, errlen, "attribute %u: scores must be k numbers", j);
                return -1;
            }
            for (uint32_t c = 0; c < r->k[j]; c++) {
                r->scores[j][c] = json_number_value(json_array_get(sc, c));
                if (!json_is_number(json_array_get(sc, c)) || !isfinite(r->scores[j][c])) {
                    snprintf(err, errlen, "attribute %u: scores must be finite numbers", j);
                    return -1;
                }
            }
        }
        for (uint32_t l = 0; l < j; l++)
            if (r->k[j] * r->k[l] > PINHOLE_MULTI_CELLMAX) {
                snprintf(err, errlen, "attributes %u and %u: k_j k_l must be <= 4096", l, j);
                return -1;
            }
        const json_t *name = json_object_get(a, "name"), *labels = json_object_get(a, "labels");
        if (name && !json_is_string(name)) {
            snprintf(err, errlen, "attribute %u: name must be a string", j);
            return -1;
        }
        int labels_ok = !labels || (json_is_array(labels) && json_array_size(labels) == r->k[j]);
        for (uint32_t c = 0; labels_ok && labels && c < r->k[j]; c++)
            labels_ok = json_is_string(json_array_get(labels, c));
        if (!labels_ok) {
            snprintf(err, errlen, "attribute %u: labels must be k strings", j);
            return -1;
        }
    }
    return 0;
}

int pinhole_job_multi_attributes(const json_t *attrs, uint32_t *d, uint32_t *k, char *err,
                                 size_t errlen)
{
    request r;
    const int rc = parse_attributes(attrs, &r, err, errlen);
    request_free(&r);
    if (rc != 0)
        return PINHOLE_EINVAL;
    *d = r.d;
    memcpy(k, r.k, r.d * sizeof *k);
    return PINHOLE_OK;
}

/* The attributes and options; 0, or -1 with err filled. */
static int parse(const json_t *p, request *r, char *err, size_t errlen)
{
    const json_t *attrs = json_object_get(p, "attributes"),
                 *cols = json_object_get(p, "collections");
    const json_t *from = json_object_get(p, "from"), *to = json_object_get(p, "to");
    const json_t *corr = json_object_get(p, "correlation"), *rep = json_object_get(p, "repair");
    if (parse_attributes(attrs, r, err, errlen) != 0)
        return -1;
    if (!json_is_array(cols) || json_array_size(cols) != r->npairs) {
        snprintf(err, errlen,
                 "collections must list the %u pair collections' ids, pairs (0,1), (0,2), ..., "
                 "(1,2), ... in that order",
                 r->npairs);
        return -1;
    }
    for (uint32_t p = 0; p < r->npairs; p++)
        if (!json_is_integer(json_array_get(cols, p)) ||
            json_integer_value(json_array_get(cols, p)) < 1) {
            snprintf(err, errlen, "collections must be positive integer ids");
            return -1;
        }
    r->from = from ? json_integer_value(from) : 0;
    r->to = to ? json_integer_value(to) : INT64_MAX;
    if ((from && !json_is_integer(from)) || (to && !json_is_integer(to)) || r->from >= r->to) {
        snprintf(err, errlen, "from and to must be Unix seconds, from before to");
        return -1;
    }
    r->correlation = corr ? json_is_true(corr) : r->d >= 2;
    r->repair = r->correlation && !json_is_false(rep);
    r->weighted = 1;
    if (rep && !json_is_false(rep)) {
        const json_t *w = json_object_get(rep, "weighted"), *m = json_object_get(rep, "method");
        const char *ms = m ? json_string_value(m) : "auto";
        r->method = !ms                             ? -1
                    : !strcmp(ms, "auto")           ? PINHOLE_REPAIR_AUTO
                    : !strcmp(ms, "newton")         ? PINHOLE_REPAIR_NEWTON
                    : !strcmp(ms, "burer_monteiro") ? PINHOLE_REPAIR_BM
                                                    : -1;
        r->weighted = w ? json_is_true(w) : 1;
        if (!json_is_object(rep) || r->method < 0 || (w && !json_is_boolean(w)) ||
            pinhole_param_uint(rep, "rank", 0, PINHOLE_MULTI_DMAX, &r->rank) ||
            pinhole_param_uint(rep, "seed", 1, UINT64_MAX >> 1, &r->seed)) {
            snprintf(err, errlen,
                     "repair must be false or {method: auto|newton|burer_monteiro, "
                     "weighted: bool, rank, seed}");
            return -1;
        }
    }
    return 0;
}

/* [estimate...], [stderr...], [lower...], [upper...] of n values into o under the four names. */
static void intervals(json_t *o, const double *est, const double *var, uint32_t n)
{
    json_t *e = json_array(), *s = json_array(), *lo = json_array(), *hi = json_array();
    for (uint32_t i = 0; i < n; i++) {
        const double se = sqrt(var[i] > 0 ? var[i] : 0);
        json_array_append_new(e, json_real(est[i]));
        json_array_append_new(s, json_real(se));
        json_array_append_new(lo, json_real(est[i] - PINHOLE_Z95 * se));
        json_array_append_new(hi, json_real(est[i] + PINHOLE_Z95 * se));
    }
    json_object_set_new(o, "estimate", e);
    json_object_set_new(o, "stderr", s);
    json_object_set_new(o, "lower", lo);
    json_object_set_new(o, "upper", hi);
}

static json_t *estimate_json(const request *r, const json_t *params, const pinhole_multi_est *e,
                             const json_t *cols)
{
    json_t *out = json_object(), *margs = json_array(), *joints = json_array();
    const json_t *attrs = json_object_get(params, "attributes");
    for (uint32_t j = 0; j < r->d; j++) {
        const json_t *a = json_array_get(attrs, j);
        json_t *m = json_pack("{s:i}", "attribute", (int)j);
        if (json_object_get(a, "name"))
            json_object_set(m, "name", json_object_get(a, "name"));
        if (json_object_get(a, "labels"))
            json_object_set(m, "labels", json_object_get(a, "labels"));
        intervals(m, e->marg[j], e->marg_var[j], r->k[j]);
        json_array_append_new(margs, m);
    }
    uint64_t total = 0;
    for (uint32_t p = 0; p < e->npairs; p++) {
        const pinhole_multi_table *t = &e->t[p];
        total += t->n;
        json_t *jt = json_pack("{s:[i,i], s:O, s:I, s:i, s:i}", "attributes", (int)t->j, (int)t->l,
                               "collection", json_array_get(cols, p), "reports", (json_int_t)t->n,
                               "rows", (int)t->rows, "cols", (int)t->cols);
        json_object_set_new(jt, "consistent", pinhole_job_matrix_json(t->joint, t->rows, t->cols));
        json_t *raw = json_object();
        intervals(raw, t->raw, t->var, t->rows * t->cols);
        json_object_set_new(jt, "raw", raw); /* row-major flat, with intervals */
        json_array_append_new(joints, jt);
    }
    json_object_set_new(out, "d", json_integer(r->d));
    json_object_set_new(out, "reports", json_integer((json_int_t)total));
    json_object_set_new(out, "marginals", margs);
    json_object_set_new(out, "joints", joints);
    return out;
}

static json_t *correlation_json(const pinhole_multi_corr *c)
{
    const uint32_t n = c->n;
    double *lo = malloc((size_t)n * n * sizeof *lo), *hi = malloc((size_t)n * n * sizeof *hi);
    json_t *o = json_object(), *attr = json_array();
    for (uint32_t i = 0; lo && hi && i < n * n; i++) {
        lo[i] = fmax(-1, c->r[i] - PINHOLE_Z95 * c->se[i]);
        hi[i] = fmin(1, c->r[i] + PINHOLE_Z95 * c->se[i]);
    }
    for (uint32_t i = 0; i < n; i++)
        json_array_append_new(attr, json_integer(c->attr[i]));
    json_object_set_new(o, "attributes", attr);
    json_object_set_new(o, "estimate", pinhole_job_matrix_json(c->r, n, n));
    json_object_set_new(o, "stderr", pinhole_job_matrix_json(c->se, n, n));
    if (lo && hi) {
        json_object_set_new(o, "lower", pinhole_job_matrix_json(lo, n, n));
        json_object_set_new(o, "upper", pinhole_job_matrix_json(hi, n, n));
    }
    free(lo);
    free(hi);
    return o;
}

static int progress(void *ctl, uint64_t done, uint64_t total, double value)
{
    (void)value;
    return pinhole_job_progress(ctl, 0.5 + 0.5 * (total ? (double)done / (double)total : 0));
}

int pinhole_job_multi_attribute(const pinhole_job_data *unused, const json_t *params,
                                pinhole_job_ctl *ctl, json_t **result, char *err, size_t errlen)
{
    (void)unused;
    request r;
    if (parse(params, &r, err, errlen) != 0) {
        request_free(&r);
        return PINHOLE_EINVAL;
    }
    const json_t *cols = json_object_get(params, "collections");
    pinhole_job_data *data = calloc(r.npairs, sizeof *data);
    pinhole_multi mc = {.d = r.d, .npairs = r.npairs};
    memcpy(mc.k, r.k, sizeof mc.k);
    mc.pairs = calloc(r.npairs, sizeof *mc.pairs);
    const uint64_t **counts = calloc(r.npairs, sizeof *counts);
    int rc = data && mc.pairs && counts ? PINHOLE_OK : PINHOLE_ENOMEM;
    for (uint32_t p = 0; rc == PINHOLE_OK && p < r.npairs; p++) {
        const int64_t id = json_integer_value(json_array_get(cols, p));
        uint32_t j, l;
        pinhole_multi_pair(&mc, p, &j, &l);
        const uint64_t cells = r.d == 1 ? r.k[0] : (uint64_t)r.k[j] * r.k[l];
        rc = pinhole_job_load(ctl, id, r.from, r.to, &data[p]);
        if (rc != PINHOLE_OK) {
            snprintf(err, errlen, "collection %lld (pair %u): %s", (long long)id, p,
                     pinhole_strerror(rc));
        } else if (data[p].cfg.mechanism != PINHOLE_MECH_PGR || data[p].cfg.k != cells ||
                   data[p].cfg.epsilon != data[0].cfg.epsilon) {
            rc = PINHOLE_EINVAL;
            snprintf(err, errlen,
                     "collection %lld (pair %u, attributes %u and %u) must be PGR with k = %llu "
                     "and the epsilon of the first pair's collection",
                     (long long)id, p, j, l, (unsigned long long)cells);
        } else if (data[p].n == 0) {
            rc = PINHOLE_ENOREPORTS;
            snprintf(err, errlen, "collection %lld (pair %u) has no reports in the range",
                     (long long)id, p);
        } else {
            mc.pairs[p].mech = data[p].cfg; /* borrowed: freed with data[p] */
            counts[p] = data[p].counts;
            if (pinhole_job_progress(ctl, 0.5 * (p + 1) / r.npairs))
                rc = PINHOLE_ECANCELED;
        }
    }
    pinhole_multi_est e;
    pinhole_multi_corr c;
    memset(&e, 0, sizeof e);
    memset(&c, 0, sizeof c);
    if (rc == PINHOLE_OK && (rc = pinhole_multi_estimate(&mc, counts, &e)) != PINHOLE_OK)
        snprintf(err, errlen, "estimation failed: %s", pinhole_strerror(rc));
    if (rc == PINHOLE_OK) {
        *result = estimate_json(&r, params, &e, cols);
        json_object_set_new(*result, "epsilon", json_real(data[0].cfg.epsilon));
    }
    if (rc == PINHOLE_OK && r.correlation) {
        rc = pinhole_multi_correlation(&e, (const double *const *)r.scores, r.nominal, &c);
        if (rc == PINHOLE_OK) {
            json_object_set_new(*result, "correlation", correlation_json(&c));
        } else {
            snprintf(err, errlen,
                     "no correlation matrix: fewer than two ordinal or binary attributes, or an "
                     "attribute whose estimated spread of scores is not positive (too few "
                     "reports); ask for \"correlation\": false");
        }
    }
    if (rc == PINHOLE_OK && r.repair) {
        double *x = malloc((size_t)c.n * c.n * sizeof *x);
        pinhole_repair_options o = {.method = (pinhole_repair_method)r.method,
                                    .rank = (uint32_t)r.rank,
                                    .seed = r.seed,
                                    .progress = progress,
                                    .progress_ctx = ctl};
        pinhole_repair_result rr;
        rc = x ? pinhole_multi_repair(&c, r.weighted, &o, x, &rr) : PINHOLE_ENOMEM;
        if (rc == PINHOLE_OK) {
            json_t *rj = json_pack("{s:s, s:b, s:f, s:f, s:f, s:i, s:i, s:b}", "method",
                                   rr.method == PINHOLE_REPAIR_NEWTON ? "newton" : "burer_monteiro",
                                   "weighted", r.weighted, "value", rr.value, "gap_bound",
                                   rr.gap_bound, "lambda_min", rr.lambda_min, "rank", (int)rr.rank,
                                   "iterations", (int)rr.iterations, "certified", rr.certified);
            json_object_set_new(rj, "matrix", pinhole_job_matrix_json(x, c.n, c.n));
            json_object_set_new(*result, "repaired", rj);
        } else if (rc == PINHOLE_EINVAL) {
            snprintf(err, errlen,
                     "the newton method takes neither weights nor a rank: ask for "
                     "\"weighted\": false and no rank, or another method");
        }
        free(x);
    }
    if (rc != PINHOLE_OK && *result) {
        json_decref(*result);
        *result = NULL;
    }
    pinhole_multi_corr_free(&c);
    pinhole_multi_est_free(&e);
    for (uint32_t p = 0; data && p < r.npairs; p++)
        pinhole_job_data_free(&data[p]);
    free(data);
    free(mc.pairs);
    free(counts);
    request_free(&r);
    return rc;
}
