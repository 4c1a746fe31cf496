/* PGR parameters: exact probabilities, the integer threshold and realized epsilon, variance, planner. */
#include "common/pgr.h"
#include "common/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int pinhole_epsilon_check(double epsilon)
{
    return (isfinite(epsilon) && epsilon > 0) ? PINHOLE_OK : PINHOLE_EINVAL;
}

double pinhole_variance_optimum(double epsilon)
{
    /* 4 e^eps / (e^eps - 1)^2 = 1 / sinh(eps/2)^2, which neither overflows nor cancels */
    double s = sinh(epsilon / 2);
    return 1.0 / (s * s);
}

/* Ideal probabilities for (q, t): s_in = P[h contains v | v], r = P[h contains v | w != v], and
 * their difference computed without cancellation. */
static void ideal_probs(double epsilon, double c, double ci, double K, long double *s_in,
                        long double *r, long double *gap)
{
    const long double em1 = expm1l((long double)fmin(epsilon, PINHOLE_EPSILON_CAP));
    const long double D = em1 * c + K;
    *s_in = (em1 + 1) * c / D;
    *r = (em1 * ci + c) / D;
    *gap = em1 * (c - ci) / D;
}

static double per_user_variance(double epsilon, const pinhole_pspace *S)
{
    long double s_in, r, gap;
    ideal_probs(epsilon, (double)pinhole_pspace_c_set(S), (double)pinhole_pspace_c_int(S),
                (double)S->K, &s_in, &r, &gap);
    return (double)(r * (1 - r) / (gap * gap));
}

static uint32_t bits_for(uint64_t K)
{
    uint32_t b = 0;
    while (b < 64 && (UINT64_C(1) << b) < K)
        b++;
    return b;
}

/* log of the likelihood ratio e^eps' realized by threshold T: (T/(2^64-T)) * ((K-c)/c). */
static long double realized_log_ratio(uint64_t T, long double c, long double K)
{
    const long double two64 = 18446744073709551616.0L;
    return logl((long double)T) - logl(two64 - (long double)T) + logl(K - c) - logl(c);
}

static void set_threshold(pinhole_pgr *g)
{
    const long double c = (long double)g->c_set, ci = (long double)g->c_int, K = (long double)g->K;
    long double s_in, r, gap;
    ideal_probs(g->epsilon, (double)c, (double)ci, (double)K, &s_in, &r, &gap);
    const long double two64 = 18446744073709551616.0L;
    long double x = floorl(s_in * two64);
    uint64_t T = x >= two64 ? UINT64_MAX : (uint64_t)x;
    if (T == 0)
        T = 1;
    /* never exceed the requested epsilon: step down until the realized ratio is within it */
    while (T > 1 && realized_log_ratio(T, c, K) > (long double)g->epsilon)
        T -= 1 + (T >> 52);
    g->threshold = T;
    g->epsilon_realized = (double)realized_log_ratio(T, c, K);
    const long double sr = (long double)T / two64;
    g->s_in = (double)sr;
    g->r = (double)(ci * (sr / c) + (c - ci) * ((1 - sr) / (K - c)));
}

int pinhole_pgr_init(pinhole_pgr *g, uint64_t k, double epsilon, uint32_t q, uint32_t t)
{
    memset(g, 0, sizeof *g);
    if (pinhole_epsilon_check(epsilon) != PINHOLE_OK || k < 2 || k > PINHOLE_K_MAX)
        return PINHOLE_EINVAL;
    int rc;
    if (q == 0) {
        pinhole_pgr_choice best;
        size_t n = 0;
        rc = pinhole_pgr_plan(k, epsilon, NULL, &best, 1, &n, NULL);
        if (rc != PINHOLE_OK)
            return rc;
        q = best.q;
        if (t == 0)
            t = best.t;
    }
    if (q > PINHOLE_GF_QMAX || !pinhole_gf_is_prime_power(q, NULL, NULL))
        return PINHOLE_EINVAL;
    if (t == 0 && (rc = pinhole_pspace_min_dim(q, k, &t)) != PINHOLE_OK)
        return rc;
    if ((rc = pinhole_pspace_init(&g->S, q, t)) != PINHOLE_OK)
        return rc;
    if (g->S.K < k)
        return PINHOLE_EINVAL;
    if ((rc = pinhole_gf_init(&g->F, q)) != PINHOLE_OK)
        return rc;
    pinhole_gf_ct_init(&g->Fct, &g->F);
    g->k = k;
    g->epsilon = epsilon;
    g->q = q;
    g->t = t;
    g->K = g->S.K;
    g->c_set = pinhole_pspace_c_set(&g->S);
    g->c_int = pinhole_pspace_c_int(&g->S);
    g->bits = bits_for(g->K);
    set_threshold(g);
    return PINHOLE_OK;
}

void pinhole_pgr_free(pinhole_pgr *g)
{
    pinhole_gf_free(&g->F);
}

double pinhole_pgr_variance(const pinhole_pgr *g, double n, double f)
{
    const double gap = g->s_in - g->r;
    return (f * g->s_in * (1 - g->s_in) + (n - f) * g->r * (1 - g->r)) / (gap * gap);
}

void pinhole_pgr_cost(uint32_t q, uint32_t t, uint64_t K, uint64_t k, double *ops, double *bytes)
{
    const double c_set = ((double)K - 1) / q; /* (q^{t-1} - 1)/(q - 1) = (K - 1)/q */
    const double dp_ops = (double)K * q * t;
    const double enum_ops = (double)k * c_set * t;
    if (dp_ops <= enum_ops) {
        *ops = dp_ops;
        *bytes = 8.0 * K + 2 * 8.0 * 2 * K; /* counts, and two level tables of about 2K entries */
    } else {
        *ops = enum_ops;
        *bytes = 8.0 * K + 8.0 * k;
    }
}

static int cmp_choice(const void *a, const void *b)
{
    const pinhole_pgr_choice *x = a, *y = b;
    if (x->within_budget != y->within_budget)
        return y->within_budget - x->within_budget;
    if (x->within_budget) {
        if (x->variance != y->variance)
            return x->variance < y->variance ? -1 : 1;
    } else if (x->cost_ops != y->cost_ops) {
        return x->cost_ops < y->cost_ops ? -1 : 1;
    }
    return x->q < y->q ? -1 : (x->q > y->q);
}

int pinhole_pgr_plan(uint64_t k, double epsilon, const pinhole_pgr_plan_options *opt,
                     pinhole_pgr_choice *out, size_t max, size_t *n, int *capped)
{
    *n = 0;
    if (pinhole_epsilon_check(epsilon) != PINHOLE_OK || k < 2 || k > PINHOLE_K_MAX || max == 0)
        return PINHOLE_EINVAL;
    const double max_ops = opt && opt->max_cost_ops > 0 ? opt->max_cost_ops : 0x1p33;
    const double max_mem = opt && opt->max_memory_bytes > 0 ? opt->max_memory_bytes : 0x1p31;
    pinhole_pgr_choice *all = malloc(PINHOLE_GF_QMAX * sizeof *all);
    if (!all)
        return PINHOLE_ENOMEM;
    size_t m = 0;
    double best_any = INFINITY;
    for (uint32_t q = 2; q <= PINHOLE_GF_QMAX; q++) {
        if (!pinhole_gf_is_prime_power(q, NULL, NULL))
            continue;
        uint32_t t;
        pinhole_pspace S;
        if (pinhole_pspace_min_dim(q, k, &t) != PINHOLE_OK || pinhole_pspace_init(&S, q, t) != PINHOLE_OK)
            continue;
        pinhole_pgr_choice *c = &all[m++];
        c->q = q;
        c->t = t;
        c->K = S.K;
        c->bits = bits_for(S.K);
        c->variance = per_user_variance(epsilon, &S);
        c->ratio = c->variance / pinhole_variance_optimum(epsilon);
        pinhole_pgr_cost(q, t, S.K, k, &c->cost_ops, &c->memory_bytes);
        c->within_budget = c->cost_ops <= max_ops && c->memory_bytes <= max_mem;
        if (c->variance < best_any)
            best_any = c->variance;
    }
    if (m == 0) {
        free(all);
        return PINHOLE_EOVERFLOW;
    }
    qsort(all, m, sizeof *all, cmp_choice);
    if (capped) {
        /* capped: the budget excluded a better q, or (t >= 3, where the variance keeps falling in q
         * up to about e^eps + 1) that q lies beyond the largest field, 2^16 */
        *capped = !all[0].within_budget || all[0].variance > best_any ||
                  (all[0].t >= 3 && epsilon > log((double)PINHOLE_GF_QMAX - 1));
    }
    *n = m < max ? m : max;
    memcpy(out, all, *n * sizeof *all);
    free(all);
    return PINHOLE_OK;
}
