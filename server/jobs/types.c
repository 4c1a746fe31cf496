/* The job-type registry, and the job types that wrap the estimators and analytics modules. */
#include "common/error.h"
#include "server/analytics/histogram.h"
#include "server/analytics/stream.h"
#include "server/estimate/estimate.h"
#include "server/jobs/jobs.h"
#include "server/jobs/params.h"
#include "server/jobs/types_opt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static json_t *result_header(const pinhole_job_data *d)
{
    const pinhole_config *c = &d->cfg;
    const pinhole_mechanism_ops *ops = pinhole_mechanism_find(c->mechanism);
    return json_pack("{s:s, s:I, s:I, s:f, s:f, s:i}", "mechanism", ops ? ops->name : "unknown",
                     "k", (json_int_t)c->k, "n", (json_int_t)d->n, "epsilon", c->epsilon,
                     "epsilon_realized", c->epsilon_realized, "bits_per_report",
                     (int)c->payload_bits);
}

/* The top rows of a computed histogram (all when top is 0 or >= k) with whatever modules ran. */
static json_t *histogram_json(const pinhole_job_data *d, const pinhole_histogram *h, uint64_t top)
{
    if (top == 0 || top > h->k)
        top = h->k;
    json_t *o = result_header(d), *items = json_array();
    if (!o || !items) {
        json_decref(o);
        json_decref(items);
        return NULL;
    }
    for (uint64_t r = 0; r < top; r++) {
        const uint64_t v = h->order[r];
        json_array_append_new(items,
                              pinhole_histogram_item_json(h, v, d->labels ? d->labels[v] : NULL));
    }
    json_object_set_new(o, "items", items);
    if (h->has_mle &&
        json_object_set_new(o, "mle",
                            json_pack("{s:I, s:f, s:f, s:b}", "iterations",
                                      (json_int_t)h->mle.iterations, "loglik", h->mle.loglik, "gap",
                                      h->mle.gap, "converged", h->mle.converged)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Shared body of reconstruct, project, mle and topk_prob: the histogram with one module. */
static int run_histogram(const pinhole_job_data *d, const json_t *params, pinhole_job_ctl *ctl,
                         pinhole_histogram_options *ho, json_t **result, char *err, size_t errlen)
{
    uint64_t top;
    if (pinhole_param_uint(params, "top", 100, UINT64_MAX >> 1, &top) != 0) {
        snprintf(err, errlen, "top must be a non-negative integer");
        return PINHOLE_EINVAL;
    }
    if (ho->topk > d->cfg.k) {
        snprintf(err, errlen, "k of the top-k (%llu) exceeds the domain size %llu",
                 (unsigned long long)ho->topk, (unsigned long long)d->cfg.k);
        return PINHOLE_EINVAL;
    }
    const pinhole_progress pr = {pinhole_job_progress_fn, ctl};
    ho->workspace = d->workspace;
    pinhole_histogram h = {0};
    int rc = pinhole_job_progress(ctl, 0)
                 ? PINHOLE_ECANCELED
                 : pinhole_histogram_compute(&d->cfg, d->counts, d->n, ho, &h, &pr);
    if (rc == PINHOLE_OK) {
        *result = histogram_json(d, &h, top);
        if (!*result)
            rc = PINHOLE_ENOMEM;
    } else if (rc == PINHOLE_ENOREPORTS) {
        snprintf(err, errlen, "no reports in the range");
    } else if (rc == PINHOLE_EUNSUPPORTED) {
        snprintf(err, errlen, "this module is not available for the collection's mechanism");
    }
    pinhole_histogram_free(&h);
    return rc;
}

/* reconstruct: unbiased estimates with exact variances (the mechanism's estimator; for PGR the
 * dynamic program of Feldman et al. 2022, §4). Params: top (default 100, 0 = every item). */
static int job_reconstruct(const pinhole_job_data *d, const json_t *params, pinhole_job_ctl *ctl,
                           json_t **result, char *err, size_t errlen)
{
    pinhole_histogram_options ho = {0};
    return run_histogram(d, params, ctl, &ho, result, err, errlen);
}

/* project: the estimates and their Euclidean projection onto {x >= 0, sum x = n} (Duchi et al.
 * 2008). Params: top. */
static int job_project(const pinhole_job_data *d, const json_t *params, pinhole_job_ctl *ctl,
                       json_t **result, char *err, size_t errlen)
{
    pinhole_histogram_options ho = {.consistency = PINHOLE_CONSISTENCY_PROJECT};
    return run_histogram(d, params, ctl, &ho, result, err, errlen);
}

/* mle: the estimates and the maximum-likelihood histogram (PGR; server/analytics/consistency.h).
 * Params: top, max_iterations (default 1000). */
static int job_mle(const pinhole_job_data *d, const json_t *params, pinhole_job_ctl *ctl,
                   json_t **result, char *err, size_t errlen)
{
    uint64_t it;
    if (pinhole_param_uint(params, "max_iterations", 0, UINT64_MAX >> 1, &it) != 0 ||
        it > 1000000) {
        snprintf(err, errlen, "max_iterations must be an integer in [0, 1000000]");
        return PINHOLE_EINVAL;
    }
    pinhole_histogram_options ho = {.consistency = PINHOLE_CONSISTENCY_MLE,
                                    .mle_iterations = (uint32_t)it};
    return run_histogram(d, params, ctl, &ho, result, err, errlen);
}

/* topk_prob: each item's probability of being in the top k under perturbation of the estimates by
 * their standard errors (Berthet et al., NeurIPS 2020). Params: top, k (default 20), samples
 * (default 1000), noise ("gaussian" | "gumbel"), seed (default 1). */
static int job_topk_prob(const pinhole_job_data *d, const json_t *params, pinhole_job_ctl *ctl,
                         json_t **result, char *err, size_t errlen)
{
    uint64_t kk, samples, seed;
    const json_t *noise = json_object_get(params, "noise");
    const char *ns = noise ? json_string_value(noise) : "gaussian";
    if (pinhole_param_uint(params, "k", 20, UINT64_MAX >> 1, &kk) != 0 || kk == 0 ||
        pinhole_param_uint(params, "samples", 1000, UINT64_MAX >> 1, &samples) != 0 ||
        samples == 0 || samples > 100000000 ||
        pinhole_param_uint(params, "seed", 1, UINT64_MAX >> 1, &seed) != 0 || !ns ||
        (strcmp(ns, "gaussian") != 0 && strcmp(ns, "gumbel") != 0)) {
        snprintf(err, errlen,
                 "k and samples must be positive integers, noise \"gaussian\" or \"gumbel\"");
        return PINHOLE_EINVAL;
    }
    pinhole_histogram_options ho = {
        .topk = kk,
        .topk_samples = samples,
        .topk_noise = strcmp(ns, "gumbel") == 0 ? PINHOLE_NOISE_GUMBEL : PINHOLE_NOISE_GAUSSIAN,
        .seed = seed};
    return run_histogram(d, params, ctl, &ho, result, err, errlen);
}

/* stream: estimates over time, one SGD step per time bucket on 1/2 ||x - h_b||^2 (step eta, or
 * eta_t = 1/t when eta is 0), optionally projected each step (server/analytics/stream.h). Params:
 * top, eta (default 0), project (default false). Result: the final estimate with its variance, and
 * each bucket's time and report count. */
static int job_stream(const pinhole_job_data *d, const json_t *params, pinhole_job_ctl *ctl,
                      json_t **result, char *err, size_t errlen)
{
    uint64_t top;
    double eta;
    const json_t *pj = json_object_get(params, "project");
    if (pinhole_param_uint(params, "top", 100, UINT64_MAX >> 1, &top) != 0 ||
        pinhole_param_double(params, "eta", 0, &eta) != 0 || eta < 0 || eta > 1 ||
        (pj && !json_is_boolean(pj))) {
        snprintf(err, errlen,
                 "top must be a non-negative integer, eta in [0, 1], project a boolean");
        return PINHOLE_EINVAL;
    }
    const uint64_t k = d->cfg.k;
    if (d->nbuckets == 0) {
        snprintf(err, errlen, "no reports in the range");
        return PINHOLE_ENOREPORTS;
    }
    double *x = malloc(k * sizeof *x), *var = malloc(k * sizeof *var), *h = malloc(k * sizeof *h),
           *hv = malloc(k * sizeof *hv);
    uint64_t *order = malloc(k * sizeof *order);
    json_t *buckets = json_array();
    pinhole_stream s;
    int rc = !x || !var || !h || !hv || !order || !buckets
                 ? PINHOLE_ENOMEM
                 : pinhole_stream_init(&s, k, eta, pj && json_is_true(pj), x, var);
    for (uint64_t b = 0; rc == PINHOLE_OK && b < d->nbuckets; b++) {
        const pinhole_job_bucket *bk = &d->buckets[b];
        if (pinhole_job_progress(ctl, (double)b / (double)d->nbuckets)) {
            rc = PINHOLE_ECANCELED;
            break;
        }
        if (bk->n == 0)
            continue;
        if ((rc = pinhole_estimate_ex(&d->cfg, bk->counts, bk->n, h, hv, d->workspace)) ==
            PINHOLE_OK)
            rc = pinhole_stream_update(&s, h, hv, (double)bk->n);
        json_array_append_new(
            buckets, json_pack("{s:I, s:I}", "time", (json_int_t)bk->time, "n", (json_int_t)bk->n));
    }
    if (rc == PINHOLE_OK)
        rc = pinhole_estimate_rank(x, k, order);
    if (rc == PINHOLE_OK) {
        json_t *o = result_header(d), *items = json_array();
        const pinhole_histogram view = {.k = k, .estimate = x, .variance = var}; /* the stream's */
        if (top == 0 || top > k)
            top = k;
        for (uint64_t r = 0; r < top; r++)
            json_array_append_new(
                items, pinhole_histogram_item_json(&view, order[r],
                                                   d->labels ? d->labels[order[r]] : NULL));
        json_object_set_new(o, "eta", json_real(eta));
        json_object_set_new(o, "buckets", buckets);
        json_object_set_new(o, "items", items);
        buckets = NULL;
        *result = o;
    }
    json_decref(buckets);
    free(x);
    free(var);
    free(h);
    free(hv);
    free(order);
    return rc;
}

/* sleep: waits params.seconds (default 1), reporting progress; for checking a deployment's job
 * runner, cancellation and time limits without touching any data. */
static int job_sleep(const pinhole_job_data *d, const json_t *params, pinhole_job_ctl *ctl,
                     json_t **result, char *err, size_t errlen)
{
    (void)d;
    double seconds;
    if (pinhole_param_double(params, "seconds", 1.0, &seconds) != 0 || !(seconds >= 0) ||
        seconds > 86400) {
        snprintf(err, errlen, "seconds must be a number in [0, 86400]");
        return PINHOLE_EINVAL;
    }
    const long steps = (long)ceil(seconds / 0.01);
    for (long i = 0; i < steps; i++) {
        if (pinhole_job_progress(ctl, (double)i / (double)steps))
            return PINHOLE_ECANCELED;
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    *result = json_pack("{s:f}", "slept", seconds);
    return *result ? PINHOLE_OK : PINHOLE_ENOMEM;
}

static const pinhole_job_type types[] = {
    {"reconstruct", 1, job_reconstruct, "unbiased estimates of every item with standard errors",
     "top"},
    {"project", 1, job_project, "estimates and their projection onto the probability simplex",
     "top"},
    {"mle", 1, job_mle, "estimates and the maximum-likelihood histogram (PGR)",
     "top max_iterations"},
    {"topk_prob", 1, job_topk_prob, "each item's probability of being in the top k",
     "top k samples noise seed"},
    {"stream", 2, job_stream, "estimates over time by SGD over the time buckets",
     "top eta project"},
    {"nearest_correlation", 0, pinhole_job_nearest_correlation, "nearest correlation matrix (SDP)",
     "matrix weights method rank max_iter seed"},
    {"maxcut", 0, pinhole_job_maxcut, "MaxCut SDP relaxation with Goemans-Williamson rounding",
     "weights rank max_iter seed rounds"},
    {"single_location", 0, pinhole_job_single_location, "attention on single-location regression",
     "d L steps batch seed risk_samples gamma noise step lambda0 lambda_decay"},
    {"two_layer", 0, pinhole_job_two_layer, "two-layer ReLU network margin (logistic loss)",
     "data width steps seed lp_directions step output_only"},
    {"multi_attribute", PINHOLE_JOB_NAMED, pinhole_job_multi_attribute,
     "marginals, pairwise joints and correlation matrix of a multi-attribute collection",
     "attributes collections from to correlation repair"},
    {"discovery_round", PINHOLE_JOB_COUNTS, NULL,
     "close a discovery collection's open round (this collection) and open the next", ""},
    {"sleep", PINHOLE_JOB_ANYWHERE, job_sleep,
     "wait params.seconds, for checking the runner (cancel, time limits)", "seconds"},
};

const pinhole_job_type *pinhole_job_types(size_t *n)
{
    *n = sizeof types / sizeof types[0];
    return types;
}

const pinhole_job_type *pinhole_job_type_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i].name, name) == 0)
            return &types[i];
    return NULL;
}

int pinhole_job_params_check(const pinhole_job_type *type, const json_t *params, char *err,
                             size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)params, key, v)
    {
        (void)v;
        const size_t n = strlen(key);
        const char *p = type->params;
        int known = !p || strcmp(key, "time_limit") == 0; /* no list: not checked */
        while (!known && n && (p = strstr(p, key)) != NULL) {
            known = (p == type->params || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0');
            p += n;
        }
        if (!known) {
            snprintf(err, errlen, "unknown parameter '%.64s' for a %s job; known: %s, time_limit",
                     key, type->name, type->params);
            return PINHOLE_EINVAL;
        }
    }
    return PINHOLE_OK;
}
