/* Perturbed top-k by Monte Carlo: per sample, noise, quickselect of the top k, Welford on the max.
 */
#include "server/analytics/topk_prob.h"
#include "common/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct item {
    double v;   /* theta_i + sigma_i z_i */
    uint64_t i; /* item index */
} item;

/* The order of the top-k: larger value first, ties to the smaller index (a strict total order). */
static int before(const item *a, const item *b)
{
    return a->v > b->v || (a->v == b->v && a->i < b->i);
}

static void swap(item *a, item *b)
{
    const item t = *a;
    *a = *b;
    *b = t;
}

/* Rearrange p[0..n) so that p[0..k) are the first k items in the order (in no particular order).
 * Quickselect with a median-of-three pivot and Hoare's partition: O(n) expected, and since the
 * values carry fresh noise at every sample, no input is adversarial for long. */
static void select_top(item *p, uint64_t n, uint64_t k)
{
    uint64_t lo = 0, hi = n;
    while (lo < k && k < hi) {
        if (hi - lo <= 16) { /* insertion sort the small range */
            for (uint64_t a = lo + 1; a < hi; a++)
                for (uint64_t b = a; b > lo && before(&p[b], &p[b - 1]); b--)
                    swap(&p[b], &p[b - 1]);
            return;
        }
        const uint64_t mid = lo + (hi - lo) / 2;
        if (before(&p[mid], &p[lo]))
            swap(&p[mid], &p[lo]);
        if (before(&p[hi - 1], &p[lo]))
            swap(&p[hi - 1], &p[lo]);
        if (before(&p[hi - 1], &p[mid]))
            swap(&p[hi - 1], &p[mid]);
        swap(&p[lo], &p[mid]); /* the median of three becomes the pivot at lo */
        const item x = p[lo];
        uint64_t i = lo, j = hi; /* Hoare: returns j in [lo, hi - 2] */
        for (;;) {
            do
                j--;
            while (before(&x, &p[j]));
            while (before(&p[i], &x))
                i++;
            if (i >= j)
                break;
            swap(&p[i], &p[j]);
            i++;
        }
        /* p[lo..j] come before (or are) the pivot, p[j+1..hi) after it */
        if (k <= j + 1)
            hi = j + 1;
        else
            lo = j + 1;
    }
}

int pinhole_topk_prob(const double *theta, const double *sigma, uint64_t d,
                      const pinhole_topk_options *opt, double *prob, uint64_t *hits,
                      double *jacobian, pinhole_topk_result *res, const pinhole_progress *progress)
{
    if (d == 0 || !opt || opt->top == 0 || opt->top > d ||
        (opt->noise != PINHOLE_NOISE_GAUSSIAN && opt->noise != PINHOLE_NOISE_GUMBEL))
        return PINHOLE_EINVAL;
    for (uint64_t i = 0; i < d; i++)
        if (!isfinite(theta[i]) || !isfinite(sigma[i]) || sigma[i] < 0 ||
            (jacobian && sigma[i] == 0))
            return PINHOLE_EINVAL;
    if (jacobian && d > UINT64_MAX / d / sizeof(double))
        return PINHOLE_EOVERFLOW;
    const uint64_t m = opt->samples ? opt->samples : 1000, top = opt->top;
    item *p = malloc(d * sizeof *p);
    double *z = malloc(d * sizeof *z);
    uint64_t *cnt = calloc(d, sizeof *cnt);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, opt->seed);
    int rc = PINHOLE_OK;
    if (!p || !z || !cnt) {
        rc = PINHOLE_ENOMEM;
        goto out;
    }
    if (jacobian)
        memset(jacobian, 0, d * d * sizeof *jacobian);
    const uint64_t stride = d >= (1u << 16) ? 1 : (1u << 16) / d;
    double mean = 0, m2 = 0; /* Welford's running mean and sum of squared deviations of the max */
    for (uint64_t s = 0; s < m; s++) {
        pinhole_noise_fill(&rng, opt->noise, z, d);
        double mx = -INFINITY;
        for (uint64_t i = 0; i < d; i++) {
            p[i].v = theta[i] + sigma[i] * z[i];
            p[i].i = i;
            mx = p[i].v > mx ? p[i].v : mx;
        }
        const double delta = mx - mean;
        mean += delta / (double)(s + 1);
        m2 += delta * (mx - mean);
        select_top(p, d, top);
        for (uint64_t j = 0; j < top; j++)
            cnt[p[j].i]++;
        if (jacobian) {
            for (uint64_t c = 0; c < d; c++)
                z[c] = pinhole_noise_score(opt->noise, z[c]) / sigma[c];
            for (uint64_t j = 0; j < top; j++) {
                double *row = jacobian + p[j].i * d;
                for (uint64_t c = 0; c < d; c++)
                    row[c] += z[c];
            }
        }
        if (((s + 1) % stride == 0 || s + 1 == m) &&
            pinhole_progress_report(progress, (double)(s + 1) / m)) {
            rc = PINHOLE_ECANCELED;
            goto out;
        }
    }
    for (uint64_t i = 0; i < d; i++) {
        if (prob)
            prob[i] = (double)cnt[i] / (double)m;
        if (hits)
            hits[i] = cnt[i];
    }
    if (jacobian)
        for (uint64_t i = 0; i < d * d; i++)
            jacobian[i] /= (double)m;
    if (res) {
        res->samples = m;
        res->max_mean = mean;
        res->max_se = m > 1 ? sqrt(m2 / (double)(m - 1) / (double)m) : 0;
    }
out:
    pinhole_rng_wipe(&rng);
    free(p);
    free(z);
    free(cnt);
    return rc;
}
