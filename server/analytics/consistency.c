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

/* What one MLE run shares: the geometry, the channel, the workspace and thread count of the
 * incidence products, and the hyperplanes grouped by their count for the log-likelihood. */
typedef struct mle_ctx {
    const pinhole_pgr *g;
    const uint64_t *y;
    double alpha, beta;
    pinhole_pgr_workspace *ws;
    unsigned threads;
    uint32_t *byc; /* hyperplanes with 1 <= y <= CLASS_MAX, by increasing y */
    uint64_t *cls; /* class c (y = c) is byc[cls[c - 1] .. cls[c]), c = 1..CLASS_MAX */
    uint32_t run;  /* products of this many probabilities stay normal doubles */
    uint64_t *big; /* hyperplanes with y > CLASS_MAX */
    uint64_t nbig;
} mle_ctx;

#define CLASS_MAX 255u

/* x = m 2^e with m in [1, 2), for a positive normal double: *x becomes m, e is returned. */
static inline int64_t split_exponent(double *x)
{
    uint64_t b;
    memcpy(&b, x, sizeof b);
    const int64_t e = (int64_t)((b >> 52) & 0x7ff) - 1023;
    b = (b & ~(UINT64_C(0x7ff) << 52)) | (UINT64_C(1023) << 52);
    memcpy(x, &b, sizeof b);
    return e;
}

/* pi[h] = P[report h] = alpha + (beta - alpha) (I f)_h for a frequency vector f[0..K) (zero past
 * k, summing to 1); returns the log-likelihood sum_h y_h log pi_h. Terms are grouped by count:
 * sum_c c log prod_{y_h = c} pi_h, each product kept in [1, 2) by moving its binary exponent to an
 * integer every m->run factors, so a call takes one log per count class instead of one per
 * hyperplane (counts above CLASS_MAX add y_h log pi_h). Each product's relative rounding error is
 * at most about 1e-16 per factor, so the result is within about 1e-16 n of the sum of logs. */
static int channel_probs(const mle_ctx *m, const double *f, double *pi, double *loglik)
{
    const pinhole_pgr *g = m->g;
    int rc = pinhole_pgr_incidence_ex(g, f, pi, g->K, m->ws, m->threads);
    if (rc != PINHOLE_OK)
        return rc;
    const double a = m->alpha, d = m->beta - m->alpha;
    for (uint64_t h = 0; h < g->K; h++)
        pi[h] = a + d * pi[h];
    double L = 0;
    for (uint32_t c = 1; c <= CLASS_MAX; c++) {
        uint64_t i = m->cls[c - 1];
        const uint64_t end = m->cls[c];
        if (i == end)
            continue;
        double P = 1;
        int64_t E = 0;
        while (i < end) {
            const uint64_t stop = end - i > m->run ? i + m->run : end;
            for (; i < stop; i++)
                P *= pi[m->byc[i]];
            E += split_exponent(&P);
        }
        L += (double)c * (log(P) + (double)E * 0.69314718055994530942 /* ln 2 */);
    }
    for (uint64_t i = 0; i < m->nbig; i++)
        L += (double)m->y[m->big[i]] * log(pi[m->big[i]]);
    *loglik = L;
    return PINHOLE_OK;
}

static void mle_ctx_free(mle_ctx *m)
{
    free(m->byc);
    free(m->cls);
    free(m->big);
}

/* The context, its hyperplanes grouped by count (a counting sort). Errors: PINHOLE_ENOMEM (then
 * nothing is held). */
static int mle_ctx_init(mle_ctx *m, const pinhole_pgr *g, const uint64_t *y,
                        pinhole_pgr_workspace *ws)
{
    memset(m, 0, sizeof *m);
    m->g = g;
    m->y = y;
    pinhole_pgr_channel(g, &m->alpha, &m->beta);
    /* every pi >= min(alpha, beta) (up to rounding): a run of factors stays above 2^-900 */
    const double lb = -log2(m->alpha < m->beta ? m->alpha / 2 : m->beta / 2);
    m->run = lb > 0 && 900 / lb < 1024 ? (uint32_t)(900 / lb) : 1024;
    if (m->run == 0)
        m->run = 1;
    m->ws = ws;
    m->threads = pinhole_pgr_incidence_threads(g);
    const uint64_t K = g->K;
    m->cls = calloc(CLASS_MAX + 1, sizeof *m->cls);
    if (!m->cls)
        return PINHOLE_ENOMEM;
    for (uint64_t h = 0; h < K; h++) {
        if (y[h] > CLASS_MAX)
            m->nbig++;
        else if (y[h] > 0)
            m->cls[y[h]]++;
    }
    for (uint32_t c = 1; c <= CLASS_MAX; c++)
        m->cls[c] += m->cls[c - 1]; /* cls[c] = number with count <= c: the end of class c */
    m->byc = malloc((m->cls[CLASS_MAX] ? m->cls[CLASS_MAX] : 1) * sizeof *m->byc);
    m->big = malloc((m->nbig ? m->nbig : 1) * sizeof *m->big);
    uint64_t *at = malloc((CLASS_MAX + 1) * sizeof *at);
    if (!m->byc || !m->big || !at) {
        free(at);
        mle_ctx_free(m);
        return PINHOLE_ENOMEM;
    }
    at[0] = 0;
    for (uint32_t c = 1; c <= CLASS_MAX; c++)
        at[c] = m->cls[c - 1];
    uint64_t nb = 0;
    for (uint64_t h = 0; h < K; h++) {
        if (y[h] > CLASS_MAX)
            m->big[nb++] = h;
        else if (y[h] > 0)
            m->byc[at[y[h]]++] = (uint32_t)h;
    }
    free(at);
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
        mle_ctx m;
        if ((rc = mle_ctx_init(&m, g, y, NULL)) == PINHOLE_OK) {
            rc = channel_probs(&m, f, pi, loglik);
            mle_ctx_free(&m);
        }
    }
    free(f);
    free(pi);
    return rc;
}

/* Default EM start: the unbiased estimate projected onto the simplex, mixed with 10% uniform so
 * that every item starts positive (EM cannot revive a zero coordinate). f receives frequencies. */
static int default_start(const mle_ctx *m, uint64_t n, double *f)
{
    const pinhole_pgr *g = m->g;
    const pinhole_pgr_reconstruct_options ro = {.workspace = m->ws};
    int rc = pinhole_pgr_reconstruct_estimate(g, m->y, f, &ro);
    if (rc == PINHOLE_OK)
        rc = pinhole_simplex_project(f, g->k, (double)n, f, NULL);
    if (rc != PINHOLE_OK)
        return rc;
    for (uint64_t v = 0; v < g->k; v++)
        f[v] = 0.9 * f[v] / (double)n + 0.1 / (double)g->k;
    return PINHOLE_OK;
}

/* fn[v] = f[v] w[v]^eta / sum_u f[u] w[u]^eta, eta a power of two <= 64, by repeated squaring
 * when no power can leave the range of doubles (w in [2^-15, 2^15]), else through logs. */
static void mirror_step(const double *f, const double *w, uint64_t k, double eta, double wmin,
                        double wmax, double *fn)
{
    double s = 0;
    if (wmin >= 0x1p-15 && wmax <= 0x1p15) {
        unsigned squarings = 0;
        for (double e = 1; e < eta; e *= 2)
            squarings++;
            /* one loop per exponent, the squarings unrolled */
#define MIRROR_LOOP(POWER)                                                                         \
    for (uint64_t v = 0; v < k; v++) {                                                             \
        double p = w[v];                                                                           \
        POWER;                                                                                     \
        s += fn[v] = f[v] * p;                                                                     \
    }
        switch (squarings) {
        case 0:
            MIRROR_LOOP((void)0);
            break;
        case 1:
            MIRROR_LOOP(p *= p);
            break;
        case 2:
            MIRROR_LOOP(p *= p; p *= p);
            break;
        case 3:
            MIRROR_LOOP(p *= p; p *= p; p *= p);
            break;
        case 4:
            MIRROR_LOOP(p *= p; p *= p; p *= p; p *= p);
            break;
        case 5:
            MIRROR_LOOP(p *= p; p *= p; p *= p; p *= p; p *= p);
            break;
        default: /* eta = 64 */
            MIRROR_LOOP(p *= p; p *= p; p *= p; p *= p; p *= p; p *= p);
            break;
        }
#undef MIRROR_LOOP
    } else {
        double top = -INFINITY;
        for (uint64_t v = 0; v < k; v++) {
            fn[v] = f[v] > 0 ? log(f[v]) + eta * log(w[v]) : -INFINITY;
            top = fn[v] > top ? fn[v] : top;
        }
        for (uint64_t v = 0; v < k; v++)
            s += fn[v] = exp(fn[v] - top);
    }
    const double inv = 1 / s;
    for (uint64_t v = 0; v < k; v++)
        fn[v] *= inv;
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
    const double nd = (double)n, inv_n = 1 / nd;
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

    pinhole_pgr_workspace *own = NULL, *ws = opt ? opt->workspace : NULL;
    if (!ws)
        ws = own = pinhole_pgr_workspace_new();
    double *f = calloc(K, sizeof *f), *fn = calloc(K, sizeof *fn), *pi = malloc(K * sizeof *pi),
           *w = malloc(K * sizeof *w), *yd = malloc(K * sizeof *yd);
    int rc = PINHOLE_ENOMEM;
    mle_ctx m = {0};
    if (!ws || !f || !fn || !pi || !w || !yd || (rc = mle_ctx_init(&m, g, y, ws)) != PINHOLE_OK)
        goto out;
    for (uint64_t h = 0; h < K; h++)
        yd[h] = (double)y[h];
    if (opt && opt->init) {
        for (uint64_t v = 0; v < k; v++)
            f[v] = opt->init[v] / init_sum;
    } else if ((rc = default_start(&m, n, f)) != PINHOLE_OK) {
        goto out;
    }

    const double eta_max = opt && opt->plain_em ? 1 : 64;
    double eta = 1;
    unsigned streak = 0; /* steps in a row taken at the first trial */
    pinhole_mle_result r = {0};
    if ((rc = channel_probs(&m, f, pi, &r.loglik)) != PINHOLE_OK)
        goto out;
    if (trace)
        trace[0] = r.loglik;
    for (uint32_t it = 0;; it++) {
        /* w_v = (M^T (y / pi))_v / n = (alpha U + (beta - alpha) (I u)_v) / n, u = y / pi: the
         * gradient of the log-likelihood over n; sum_v f_v w_v = 1 */
        double U = 0;
        for (uint64_t h = 0; h < K; h++) {
            pi[h] = yd[h] / pi[h]; /* pi > 0: 0 where y = 0 */
            U += pi[h];
        }
        if ((rc = pinhole_pgr_incidence_ex(g, pi, w, k, ws, m.threads)) != PINHOLE_OK)
            goto out;
        double wmax = 0, wmin = INFINITY;
        for (uint64_t v = 0; v < k; v++) {
            w[v] = (m.alpha * U + (m.beta - m.alpha) * w[v]) * inv_n;
            wmax = w[v] > wmax ? w[v] : wmax;
            wmin = w[v] < wmin ? w[v] : wmin;
        }
        r.gap = nd * (wmax - 1);
        r.converged = r.gap <= tol * nd;
        if (r.converged || it == max_it)
            break;
        /* f_v <- f_v w_v^eta / sum; keep the step only if L does not drop, else halve eta; eta = 1
         * is the EM step, which never lowers L (up to rounding) */
        double L;
        int halved = 0;
        for (;;) {
            mirror_step(f, w, k, eta, wmin, wmax, fn);
            if ((rc = channel_probs(&m, fn, pi, &L)) != PINHOLE_OK)
                goto out;
            if (L >= r.loglik || eta == 1)
                break;
            eta = eta / 2 > 1 ? eta / 2 : 1;
            halved = 1;
        }
        double *tmp = f;
        f = fn, fn = tmp;
        r.loglik = L;
        /* eta doubles after each step once three in a row were taken at their first trial: each
         * rejected trial costs an incidence product, and doubling after every step makes many
         * steps a rejection (measured on the demo collection: a third fewer products in 200 steps,
         * for a higher likelihood) */
        streak = halved ? 0 : streak + 1;
        if (streak >= 3)
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
    mle_ctx_free(&m);
    pinhole_pgr_workspace_free(own);
    free(f);
    free(fn);
    free(pi);
    free(w);
    free(yd);
    return rc;
}

int pinhole_mle(const pinhole_config *c, const uint64_t *counts, const pinhole_mle_options *opt,
                double *x, double *trace, pinhole_mle_result *res, const pinhole_progress *progress)
{
    if (c->mechanism != PINHOLE_MECH_PGR)
        return PINHOLE_EUNSUPPORTED;
    return pinhole_pgr_mle(&c->u.pgr, counts, opt, x, trace, res, progress);
}
