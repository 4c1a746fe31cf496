/* Estimates, then the consistent histogram and top-k probabilities when asked. */
#include "server/analytics/histogram.h"
#include "common/error.h"
#include "server/analytics/consistency.h"
#include "server/analytics/topk_prob.h"
#include "server/estimate/estimate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void pinhole_histogram_free(pinhole_histogram *h)
{
    free(h->estimate);
    free(h->variance);
    free(h->consistent);
    free(h->topk_prob);
    free(h->order);
    free(h->pass);
    free(h->p_value);
    memset(h, 0, sizeof *h);
}

int pinhole_histogram_compute(const pinhole_config *c, const uint64_t *counts, uint64_t n,
                              const pinhole_histogram_options *opt, pinhole_histogram *h,
                              const pinhole_progress *progress)
{
    static const pinhole_histogram_options none = {0};
    if (!opt)
        opt = &none;
    memset(h, 0, sizeof *h);
    const uint64_t k = c->k;
    h->k = k;
    h->n = n;
    if (opt->topk > k)
        return PINHOLE_EINVAL;
    h->estimate = malloc(k * sizeof *h->estimate);
    h->variance = malloc(k * sizeof *h->variance);
    h->order = malloc(k * sizeof *h->order);
    if (!h->estimate || !h->variance || !h->order)
        return PINHOLE_ENOMEM;
    int rc = pinhole_estimate_ex(c, counts, n, h->estimate, h->variance, opt->workspace);
    if (rc == PINHOLE_OK)
        rc = pinhole_estimate_rank(h->estimate, k, h->order);
    if (rc != PINHOLE_OK)
        return rc;
    if (opt->significance.method != PINHOLE_SIG_NONE) {
        h->significance = opt->significance;
        h->null_stderr = sqrt(pinhole_config_variance(c, (double)n, 0));
        h->pass = malloc(k);
        h->p_value = malloc(k * sizeof *h->p_value);
        if (!h->pass || !h->p_value)
            return PINHOLE_ENOMEM;
        rc = pinhole_significance_test(h->estimate, NULL, h->null_stderr, k, &opt->significance,
                                       h->pass, &h->passed, NULL);
        if (rc != PINHOLE_OK)
            return rc;
        for (uint64_t v = 0; v < k; v++)
            h->p_value[v] = pinhole_significance_pvalue(h->estimate[v], h->null_stderr);
    }
    if (opt->consistency != PINHOLE_CONSISTENCY_NONE) {
        if (!(h->consistent = malloc(k * sizeof *h->consistent)))
            return PINHOLE_ENOMEM;
        if (opt->consistency == PINHOLE_CONSISTENCY_PROJECT) {
            rc = pinhole_simplex_project(h->estimate, k, (double)n, h->consistent, NULL);
        } else if (opt->consistency == PINHOLE_CONSISTENCY_MLE) {
            const pinhole_mle_options mo = {.max_iterations = opt->mle_iterations,
                                            .workspace = opt->workspace};
            rc = pinhole_mle(c, counts, &mo, h->consistent, NULL, &h->mle, progress);
            h->has_mle = rc == PINHOLE_OK;
        } else {
            rc = PINHOLE_EINVAL;
        }
        if (rc != PINHOLE_OK)
            return rc;
    }
    if (opt->topk > 0) {
        double *sigma = malloc(k * sizeof *sigma);
        h->topk_prob = malloc(k * sizeof *h->topk_prob);
        if (!sigma || !h->topk_prob) {
            free(sigma);
            return PINHOLE_ENOMEM;
        }
        for (uint64_t v = 0; v < k; v++)
            sigma[v] = sqrt(h->variance[v]);
        h->topk_samples = opt->topk_samples ? opt->topk_samples : 1000;
        const pinhole_topk_options to = {.top = opt->topk,
                                         .samples = opt->topk_samples ? opt->topk_samples : 1000,
                                         .noise = opt->topk_noise,
                                         .seed = opt->seed};
        rc =
            pinhole_topk_prob(h->estimate, sigma, k, &to, h->topk_prob, NULL, NULL, NULL, progress);
        free(sigma);
    }
    return rc;
}

json_t *pinhole_histogram_item_json(const pinhole_histogram *h, uint64_t v, const char *label)
{
    const double est = h->estimate[v], se = sqrt(h->variance[v]);
    json_t *it =
        json_pack("{s:I, s:f, s:f, s:f, s:f}", "item", (json_int_t)v, "estimate", est, "stderr", se,
                  "lower", est - PINHOLE_Z95 * se, "upper", est + PINHOLE_Z95 * se);
    if (it &&
        ((label && json_object_set_new(it, "label", json_string(label))) ||
         (h->consistent && json_object_set_new(it, "consistent", json_real(h->consistent[v]))) ||
         (h->topk_prob &&
          json_object_set_new(it, "topk_probability", json_real(h->topk_prob[v]))) ||
         (h->p_value && json_object_set_new(it, "p_value", json_real(h->p_value[v]))))) {
        json_decref(it);
        return NULL;
    }
    return it;
}

json_t *pinhole_histogram_significance_json(const pinhole_histogram *h)
{
    if (!h->pass)
        return NULL;
    return json_pack("{s:s, s:f, s:I, s:I, s:f}", "method",
                     pinhole_significance_name(h->significance.method), "alpha",
                     h->significance.alpha, "tested", (json_int_t)h->k, "passed",
                     (json_int_t)h->passed, "null_stderr", h->null_stderr);
}
