/* PGR parameters: exact probabilities, the integer threshold and realized epsilon, variance,
 * planner. */
#include "common/pgr.h"
#include "common/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int pinhole_epsilon_check(double epsilon)
{
    /* the cast rounds the constant to double: on x87 (i386, FLT_EVAL_METHOD 2) the literal is
     * otherwise compared in long double, which refused epsilon = 1e-6 itself */
    return (isfinite(epsilon) && epsilon >= (double)PINHOLE_EPSILON_MIN) ? PINHOLE_OK
                                                                         : PINHOLE_EINVAL;
}

double pinhole_variance_optimum(double epsilon)
{
    /* 4 e^eps / (e^eps - 1)^2 = 1 / sinh(eps/2)^2, which neither overflows nor cancels; at the
     * cap, as the variances it is compared with (no 64-bit threshold realizes more) */
    double s = sinh(fmin(epsilon, PINHOLE_EPSILON_CAP) / 2);
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

/* log of the likelihood ratio realized by threshold T = 2^64 - C (C >= 1, so T is exact in 64
 * bits): e^eps' = (T / C) * ((K - c) / c). Both T and C are converted exactly on platforms with a
 * 64-bit long double mantissa, and to within 2^-53 relative elsewhere (never by subtracting from
 * 2^64 in floating point, which loses C entirely near saturation). */
static long double log_ratio(uint64_t C, long double c, long double K)
{
    const uint64_t T = (uint64_t)0 - C;
    return logl((long double)T) - logl((long double)C) + logl(K - c) - logl(c);
}

/* The largest threshold T (smallest complement C = 2^64 - T) whose realized epsilon is at most the
 * requested one, by binary search on C (the ratio decreases in C). PINHOLE_EINVAL when even that
 * threshold gives no privacy-preserving separation (realized epsilon <= 0: epsilon too small to be
 * represented at this K with a 64-bit threshold). */
static int set_threshold(pinhole_pgr *g)
{
    const long double c = (long double)g->c_set, ci = (long double)g->c_int, K = (long double)g->K;
    const long double eps = (long double)g->epsilon;
    uint64_t lo = 1, hi = UINT64_MAX; /* answer in [lo, hi]; log_ratio(UINT64_MAX) < 0 < eps */
    while (lo < hi) {
        const uint64_t mid = lo + (hi - lo) / 2;
        if (log_ratio(mid, c, K) <= eps)
            hi = mid;
        else
            lo = mid + 1;
    }
    const long double realized = log_ratio(lo, c, K);
    if (!(realized > 0))
        return PINHOLE_EINVAL;
    g->threshold = (uint64_t)0 - lo;
    g->epsilon_realized = (double)realized;
    const long double two64 = 18446744073709551616.0L;
    const long double sr = (long double)g->threshold / two64,
                      sc = (long double)lo / two64; /* sr + sc = 1 */
    g->s_in = (double)sr;
    g->r = (double)(ci * (sr / c) + (c - ci) * (sc / (K - c)));
    /* s_in - r = (c - ci) (sr / c - sc / (K - c)), without subtracting two rounded doubles */
    g->gap = (double)((c - ci) * (sr / c - sc / (K - c)));
    return PINHOLE_OK;
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
    /* K must hold the k items; more than q k points means a t above the smallest, pure padding */
    if (g->S.K < k || g->S.K / q > k)
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
    if ((rc = set_threshold(g)) != PINHOLE_OK) {
        pinhole_gf_free(&g->F);
        return rc;
    }
    return PINHOLE_OK;
}

void pinhole_pgr_free(pinhole_pgr *g)
{
    pinhole_gf_free(&g->F);
}

double pinhole_pgr_variance(const pinhole_pgr *g, double n, double f)
{
    return (f * g->s_in * (1 - g->s_in) + (n - f) * g->r * (1 - g->r)) / (g->gap * g->gap);
}

/* Cost-model constants in CPU seconds on one core of the project machine, fitted (relative least
 * squares) to `bench_reconstruct --table --threads 1` (docs/BENCHMARKS.md, "PGR reconstruction"):
 * per DP block; per 8-wide vector add of the sum along lines (prime q); per gathered element
 * (prime powers); per byte of level tables written and read (page faults included); per item of
 * the final gather and estimate (first touch of T included), plus more when the last level (about
 * 4 K bytes) exceeds the cache, less while T and the estimates (16 k bytes) fit the L2 cache; per
 * q^2 entry of the kernel's tables; fixed start-up; per hyperplane test of enumeration. A block
 * whose q x 2q working array (8 q^2 bytes) exceeds the per-core L2 cache (4 MB here, so q > ~700,
 * only ever at t = 3) runs from memory: COST_DP_VEC_MEM per vector add, growing in proportion to q
 * beyond COST_DP_VEC_ROWS rows, where the q row streams a block reads at once exceed the TLB
 * (measured at t = 3: 1.45 ns at q = 1021 and 1499, 1.7 at 2039, 2.1 at 2503, 2.5-4.0 at 2971;
 * docs/BENCHMARKS.md, "Cost model: predicted and measured"). Blocks are the unit of parallel work,
 * so fewer blocks than threads leave threads idle. Enumeration reads y at random: 5.5 ns per test
 * while y (8 K bytes) fits the L2 cache, 25-40 ns beyond (measured at t = 3, q = 127 ... 2971). */
#define COST_DP_BLOCK 1.2e-8
#define COST_DP_VEC 4.6e-10
#define COST_DP_VEC_MEM 1.45e-9
#define COST_L2_BYTES 4e6
#define COST_DP_VEC_ROWS 1800.0
#define COST_DP_GATHER 4.0e-10
#define COST_DP_LEVEL_BYTE 4.5e-10
#define COST_DP_ITEM 1.1e-8
#define COST_DP_ITEM_CACHED 4.0e-9
#define COST_DP_ITEM_MISS 1.8e-8
#define COST_DP_CACHE_BYTES 16e6
#define COST_DP_TABLE 1.0e-9
#define COST_DP_FIXED 2.0e-6
#define COST_ENUM_TEST 5.5e-9
#define COST_ENUM_TEST_MISS 3.0e-8

void pinhole_pgr_cost_model(uint32_t q, uint32_t t, uint64_t K, uint64_t k, unsigned threads,
                            pinhole_pgr_cost_estimate *out)
{
    const double th = threads ? threads : 1;
    const double dq = q;
    uint32_t p = 0, m = 0; /* m == 1: prime q, contiguous vector adds */
    pinhole_gf_is_prime_power(q, &p, &m);
    /* P[l] = (q^l - 1)/(q - 1) as doubles */
    double P[PINHOLE_T_MAX + 2];
    P[0] = 0;
    for (uint32_t l = 1; l <= t && l <= PINHOLE_T_MAX; l++)
        P[l] = P[l - 1] * dq + 1;
    /* steps s -> s + 1 for s = 1..t-2: P[t-s-1] P[s] blocks, level s + 1 of
     * P[t-s-1] (P[s+1] + 1) q counts; levels alternate between two buffers of the largest size */
    double rounds = 0, maxlev = 0, prev = 0, total = 0;
    for (uint32_t s = 1; s + 2 <= t; s++) {
        /* a step's blocks go to the threads whole: ceil(blocks / threads) rounds of them */
        rounds += ceil(P[t - s - 1] * P[s] / th);
        const double level = P[t - s - 1] * (P[s + 1] + 1) * dq * 4; /* 32-bit counts */
        total += level;
        if (level > maxlev)
            maxlev = level;
        prev = level;
    }
    const double peak = (t >= 4 ? 2 : 1) * maxlev;
    const double vec = 8 * dq * dq <= COST_L2_BYTES
                           ? COST_DP_VEC
                           : COST_DP_VEC_MEM * fmax(1.0, dq / COST_DP_VEC_ROWS);
    const double per_block = m == 1 ? dq * dq * ceil(dq / 8) * vec : dq * dq * dq * COST_DP_GATHER;
    const double item = 16.0 * (double)k <= COST_L2_BYTES /* T and the estimates stay cached */
                            ? COST_DP_ITEM_CACHED
                            : COST_DP_ITEM + (prev > COST_DP_CACHE_BYTES ? COST_DP_ITEM_MISS : 0);
    const double work = total * COST_DP_LEVEL_BYTE + (double)k * item;
    out->dp_seconds = COST_DP_FIXED + (t > 2 ? dq * dq * COST_DP_TABLE : 0) +
                      rounds * (COST_DP_BLOCK + per_block) + work / th;
    out->dp_bytes = peak + (t >= 2 ? P[t - 1] * 12 : 0) + th * dq * dq * 3 * 4;
    const double c_set = ((double)K - 1) / dq; /* (q^{t-1} - 1)/(q - 1) = (K - 1)/q */
    const double enum_ops = (double)k * c_set * t;
    out->enum_seconds =
        enum_ops * (8.0 * (double)K <= COST_L2_BYTES ? COST_ENUM_TEST : COST_ENUM_TEST_MISS);
    out->enum_bytes = 0;
    if (out->dp_seconds <= out->enum_seconds) {
        out->algorithm = PINHOLE_PGR_ALGO_DP;
        out->seconds = out->dp_seconds;
        out->bytes = out->dp_bytes;
        out->ops = (double)K * dq * t;
    } else {
        out->algorithm = PINHOLE_PGR_ALGO_ENUM;
        out->seconds = out->enum_seconds;
        out->bytes = out->enum_bytes;
        out->ops = enum_ops;
    }
}

void pinhole_pgr_cost(uint32_t q, uint32_t t, uint64_t K, uint64_t k, double *ops, double *bytes)
{
    pinhole_pgr_cost_estimate c;
    pinhole_pgr_cost_model(q, t, K, k, 1, &c);
    *ops = c.ops;
    *bytes = c.bytes + 8.0 * (double)K + 8.0 * (double)k;
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

/* The cost order of the default pick: the faster reconstruction by the cost model (which grows
 * with the count vector, K), then fewer bits per report, then fewer counts K, then the smaller q. */
static int cheaper(const pinhole_pgr_choice *x, const pinhole_pgr_choice *y)
{
    if (x->seconds != y->seconds)
        return x->seconds < y->seconds;
    if (x->bits != y->bits)
        return x->bits < y->bits;
    if (x->K != y->K)
        return x->K < y->K;
    return x->q < y->q;
}

int pinhole_pgr_plan(uint64_t k, double epsilon, const pinhole_pgr_plan_options *opt,
                     pinhole_pgr_choice *out, size_t max, size_t *n, int *capped)
{
    *n = 0;
    if (pinhole_epsilon_check(epsilon) != PINHOLE_OK || k < 2 || k > PINHOLE_K_MAX || max == 0)
        return PINHOLE_EINVAL;
    const double max_ops = opt && opt->max_cost_ops > 0 ? opt->max_cost_ops : INFINITY;
    const double max_mem = opt && opt->max_memory_bytes > 0 ? opt->max_memory_bytes : 0x1p30;
    const double max_s = opt && opt->max_seconds > 0 ? opt->max_seconds : 5.0;
    const double tol = !opt || opt->variance_tolerance == 0 ? PINHOLE_PLAN_TOLERANCE
                       : opt->variance_tolerance > 0        ? opt->variance_tolerance
                                                            : 0;
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
        if (pinhole_pspace_min_dim(q, k, &t) != PINHOLE_OK ||
            pinhole_pspace_init(&S, q, t) != PINHOLE_OK)
            continue;
        pinhole_pgr_choice *c = &all[m++];
        c->q = q;
        c->t = t;
        c->K = S.K;
        c->bits = bits_for(S.K);
        c->variance = per_user_variance(epsilon, &S);
        c->ratio = c->variance / pinhole_variance_optimum(epsilon);
        pinhole_pgr_cost_estimate model;
        pinhole_pgr_cost_model(q, t, S.K, k, opt ? opt->threads : 1, &model);
        c->cost_ops = model.ops;
        c->memory_bytes = model.bytes + 8.0 * (double)S.K + 8.0 * (double)k; /* + y and T */
        c->seconds = model.seconds;
        c->algorithm = model.algorithm;
        c->within_budget =
            c->cost_ops <= max_ops && c->memory_bytes <= max_mem && c->seconds <= max_s;
        if (c->variance < best_any)
            best_any = c->variance;
    }
    if (m == 0) {
        free(all);
        return PINHOLE_EOVERFLOW;
    }
    qsort(all, m, sizeof *all, cmp_choice);
    /* the default: the cheapest choice whose variance is within tol of the best within budget
     * (all[0] when nothing is within budget); moved to the front, the rest keep their order */
    size_t pick = 0;
    for (size_t i = 1; i < m && all[i].within_budget; i++)
        if (all[i].variance <= all[0].variance * (1 + tol) && cheaper(&all[i], &all[pick]))
            pick = i;
    if (capped) {
        /* capped: the budget excluded a better q, or (t >= 3, where the variance keeps falling in q
         * up to about e^eps + 1) that q lies beyond the largest field, 2^16 */
        *capped = !all[0].within_budget || all[0].variance > best_any ||
                  (all[pick].t >= 3 && epsilon > log((double)PINHOLE_GF_QMAX - 1));
    }
    const pinhole_pgr_choice chosen = all[pick];
    memmove(all + 1, all, pick * sizeof *all);
    all[0] = chosen;
    *n = m < max ? m : max;
    memcpy(out, all, *n * sizeof *all);
    free(all);
    return PINHOLE_OK;
}
