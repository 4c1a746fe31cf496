/* PGR reconstruction: dispatch (cost model), per-item enumeration, and the unbiased estimate.
 * The dynamic program lives in pgr_dp.c. */
#include "server/estimate/pgr.h"
#include "common/error.h"
#include "server/estimate/pgr_dp.h"
#include "server/estimate/pool.h"

#include <stdlib.h>
#include <string.h>

/* Decode canonical index idx of length L (using npts of the space) into digits w[0..L). */
static void decode_canonical(uint64_t idx, uint32_t L, uint32_t q, const uint64_t *npts,
                             uint32_t *w)
{
    uint32_t l = 0;
    while (l + 1 < L && npts[l + 1] <= idx)
        l++;
    uint64_t rest = idx - npts[l];
    const uint32_t j = L - 1 - l;
    for (uint32_t i = 0; i < j; i++)
        w[i] = 0;
    w[j] = 1;
    for (uint32_t i = L; i-- > j + 1;) {
        w[i] = (uint32_t)(rest % q);
        rest /= q;
    }
}

static int reconstruct_enum(const pinhole_pgr *g, const uint64_t *y, uint64_t *T)
{
    const pinhole_gf *F = &g->F;
    const uint32_t q = g->q, t = g->t;
    const uint64_t *P = g->S.npts;
    uint32_t v[PINHOLE_T_MAX], w[PINHOLE_T_MAX], h[PINHOLE_T_MAX];
    for (uint64_t x = 0; x < g->k; x++) {
        pinhole_pspace_vector(&g->S, x, v);
        uint32_t j = 0;
        while (v[j] == 0)
            j++;
        uint64_t sum = 0;
        /* hyperplanes through v: h with h_j = -sum_{i != j} h_i v_i, the other t-1 coordinates a
         * canonical vector w of length t-1 (one per projective class) */
        for (uint64_t wi = 0; wi < P[t - 1]; wi++) {
            decode_canonical(wi, t - 1, q, P, w);
            uint32_t acc = 0;
            for (uint32_t i = 0, c = 0; i < t; i++) {
                if (i == j)
                    continue;
                h[i] = w[c++];
                acc = pinhole_gf_add(F, acc, pinhole_gf_mul(F, h[i], v[i]));
            }
            h[j] = pinhole_gf_neg(F, acc);
            pinhole_pspace_canonicalize(F, h, t);
            sum += y[pinhole_pspace_index(&g->S, h)];
        }
        T[x] = sum;
    }
    return PINHOLE_OK;
}

/* T (or, when est is not NULL, the estimates) by the method and threads the options ask for. */
static int reconstruct(const pinhole_pgr *g, const uint64_t *y, uint64_t *T, double *est,
                       const pinhole_pgr_reconstruct_options *opt)
{
    const pinhole_pgr_reconstruct_options def = {0};
    if (!opt)
        opt = &def;
    uint64_t n = 0;
    int rc = pinhole_pgr_sum_counts(y, g->K, &n);
    if (rc != PINHOLE_OK)
        return rc;
    if (est && n == 0)
        return PINHOLE_ENOREPORTS;
    unsigned bits = opt->count_bits;
    if (bits == 0)
        bits = n <= UINT16_MAX ? 16 : n <= UINT32_MAX ? 32 : 64;
    unsigned threads = opt->threads ? opt->threads : pinhole_online_cores();
    if (threads > PINHOLE_PGR_THREADS_MAX)
        threads = PINHOLE_PGR_THREADS_MAX;
    pinhole_pgr_cost_estimate c;
    pinhole_pgr_cost_model(g->q, g->t, g->K, g->k, 1, &c);
    if (!opt->threads && c.dp_seconds < 1e-3)
        threads =
            1; /* by default, below about a millisecond of work, starting threads costs more */
    pinhole_pgr_method method = opt->method;
    if (method == PINHOLE_PGR_AUTO) {
        pinhole_pgr_cost_model(g->q, g->t, g->K, g->k, threads, &c);
        method = c.algorithm == PINHOLE_PGR_ALGO_ENUM ? PINHOLE_PGR_ENUM : PINHOLE_PGR_DP;
    }
    switch (method) {
    case PINHOLE_PGR_DP:
        return pinhole_pgr_dp(g, y, n, T, est, threads, bits, opt->workspace);
    case PINHOLE_PGR_ENUM:
        if (!est)
            return reconstruct_enum(g, y, T);
        if (!(T = malloc(g->k * sizeof *T)))
            return PINHOLE_ENOMEM;
        rc = reconstruct_enum(g, y, T);
        if (rc == PINHOLE_OK)
            rc = pinhole_pgr_estimate(g, T, n, est);
        free(T);
        return rc;
    default:
        return PINHOLE_EINVAL;
    }
}

int pinhole_pgr_reconstruct_ex(const pinhole_pgr *g, const uint64_t *y, uint64_t *T,
                               const pinhole_pgr_reconstruct_options *opt)
{
    return reconstruct(g, y, T, NULL, opt);
}

int pinhole_pgr_reconstruct_estimate(const pinhole_pgr *g, const uint64_t *y, double *est,
                                     const pinhole_pgr_reconstruct_options *opt)
{
    return reconstruct(g, y, NULL, est, opt);
}

int pinhole_pgr_reconstruct(const pinhole_pgr *g, const uint64_t *y, uint64_t *T,
                            pinhole_pgr_method method)
{
    const pinhole_pgr_reconstruct_options opt = {.method = method};
    return pinhole_pgr_reconstruct_ex(g, y, T, &opt);
}

int pinhole_pgr_estimate(const pinhole_pgr *g, const uint64_t *T, uint64_t n, double *est)
{
    if (n == 0)
        return PINHOLE_ENOREPORTS;
    const double gap = g->gap, rn = g->r * (double)n;
    for (uint64_t v = 0; v < g->k; v++)
        est[v] = ((double)T[v] - rn) / gap;
    return PINHOLE_OK;
}
