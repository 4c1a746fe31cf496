/* The job-type registry, and the job types that wrap the estimators and analytics modules. */
#include "common/error.h"
#include "server/estimate/estimate.h"
#include "server/jobs/jobs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Read an optional non-negative integer parameter; -1 if present but invalid. */
static int param_uint(const json_t *params, const char *name, uint64_t dflt, uint64_t *out)
{
    const json_t *v = json_object_get(params, name);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* The histogram as JSON: the top items by estimate (all when top is 0 or >= k), each with its
 * label, unbiased estimate (counts), standard error and 95% interval. */
static json_t *histogram_json(const pinhole_job_data *d, const double *est, const double *var,
                              const uint64_t *order, uint64_t top)
{
    const pinhole_config *c = &d->cfg;
    const pinhole_mechanism_ops *ops = pinhole_mechanism_find(c->mechanism);
    json_t *items = json_array();
    for (uint64_t r = 0; r < top; r++) {
        const uint64_t v = order[r];
        const double se = sqrt(var[v]);
        json_t *it = json_object();
        json_object_set_new(it, "item", json_integer((json_int_t)v));
        if (d->labels)
            json_object_set_new(it, "label", json_string(d->labels[v]));
        json_object_set_new(it, "estimate", json_real(est[v]));
        json_object_set_new(it, "stderr", json_real(se));
        json_object_set_new(
            it, "ci95",
            json_pack("[ff]", est[v] - 1.959963984540054 * se, est[v] + 1.959963984540054 * se));
        json_array_append_new(items, it);
    }
    return json_pack("{s:s, s:I, s:I, s:f, s:f, s:i, s:o}", "mechanism",
                     ops ? ops->name : "unknown", "k", (json_int_t)c->k, "n", (json_int_t)d->n,
                     "epsilon", c->epsilon, "epsilon_realized", c->epsilon_realized,
                     "bits_per_report", (int)c->payload_bits, "items", items);
}

/* reconstruct: counts for the range -> unbiased estimates with exact variances (the mechanism's
 * estimator; for PGR the dynamic program of Feldman et al. 2022, §4). Params: top (default 100,
 * 0 = every item). */
static int job_reconstruct(const pinhole_job_data *d, const json_t *params, pinhole_job_ctl *ctl,
                           json_t **result, char *err, size_t errlen)
{
    uint64_t top;
    if (param_uint(params, "top", 100, &top) != 0) {
        snprintf(err, errlen, "top must be a non-negative integer");
        return PINHOLE_EINVAL;
    }
    const uint64_t k = d->cfg.k;
    if (top == 0 || top > k)
        top = k;
    double *est = malloc(k * sizeof *est), *var = malloc(k * sizeof *var);
    uint64_t *order = malloc(k * sizeof *order);
    int rc = !est || !var || !order ? PINHOLE_ENOMEM : PINHOLE_OK;
    if (rc == PINHOLE_OK && pinhole_job_progress(ctl, 0))
        rc = PINHOLE_ECANCELED;
    if (rc == PINHOLE_OK &&
        (rc = pinhole_estimate(&d->cfg, d->counts, d->n, est, var)) != PINHOLE_OK)
        snprintf(err, errlen, "%s",
                 rc == PINHOLE_ENOREPORTS ? "no reports in the range" : pinhole_strerror(rc));
    if (rc == PINHOLE_OK)
        rc = pinhole_estimate_rank(est, k, order);
    if (rc == PINHOLE_OK) {
        *result = histogram_json(d, est, var, order, top);
        if (!*result)
            rc = PINHOLE_ENOMEM;
    }
    free(est);
    free(var);
    free(order);
    return rc;
}

/* sleep: waits params.seconds (default 1), reporting progress; for checking a deployment's job
 * runner, cancellation and time limits without touching any data. */
static int job_sleep(const pinhole_job_data *d, const json_t *params, pinhole_job_ctl *ctl,
                     json_t **result, char *err, size_t errlen)
{
    (void)d;
    const json_t *sv = json_object_get(params, "seconds");
    const double seconds = sv ? json_number_value(sv) : 1.0;
    if ((sv && !json_is_number(sv)) || !(seconds >= 0) || seconds > 86400) {
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
    {"reconstruct", 1, job_reconstruct, "unbiased estimates of every item with standard errors"},
    {"sleep", 0, job_sleep, "wait params.seconds, for checking the runner (cancel, time limits)"},
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
