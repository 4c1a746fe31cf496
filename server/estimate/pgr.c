/* PGR reconstruction: the coordinate dynamic program and per-item enumeration, and the estimate.
 *
 * The dynamic program (DESIGN.md §2): for l = t-1 down to 0,
 *   f_l(a, b, z) = sum { y_u : u canonical, u[0..l) = a, <u[l..t), b> = z },
 * a a length-l prefix (zero or canonical), b a length-(t-l) suffix stored only when canonical or
 * zero, using f(a, g b', z) = f(a, b', z / g). Prefixes and suffixes use the canonical index of
 * their length with the zero vector last. A prefix a extended by d has index q*a + 1 + d. */
#include "server/estimate/pgr.h"
#include "common/error.h"

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

/* Index of a canonical-or-zero vector w[0..L), zero -> npts[L]. */
static uint64_t index_or_zero(const uint32_t *w, uint32_t L, uint32_t q, const uint64_t *npts)
{
    uint32_t j = 0;
    while (j < L && w[j] == 0)
        j++;
    if (j == L)
        return npts[L];
    uint64_t rest = 0;
    for (uint32_t i = j + 1; i < L; i++)
        rest = rest * q + w[i];
    return npts[L - 1 - j] + rest;
}

static int reconstruct_dp(const pinhole_pgr *g, const uint64_t *y, uint64_t *T)
{
    const pinhole_gf *F = &g->F;
    const uint32_t q = g->q, t = g->t;
    const uint64_t *P = g->S.npts;
    const uint64_t K = g->K;

    /* level t-1: suffix length 1, b in {(1) -> 0, zero -> 1}; prefix a of length t-1 */
    uint64_t A = P[t - 1] + 1, B = 2;
    uint64_t *cur = calloc(A * B * q, sizeof *cur);
    if (!cur)
        return PINHOLE_ENOMEM;
    for (uint64_t a = 0; a < A; a++) {
        uint64_t *f1 = cur + (a * B + 0) * q, *f0 = cur + (a * B + 1) * q;
        if (a < P[t - 1]) {
            for (uint32_t d = 0; d < q; d++) {
                const uint64_t c = y[q * a + 1 + d];
                f1[d] = c;
                f0[0] += c;
            }
        } else { /* zero prefix: only d = 1 gives a canonical vector, index 0 */
            f1[1] = y[0];
            f0[0] = y[0];
        }
    }
    (void)K;

    uint32_t w[PINHOLE_T_MAX];
    for (uint32_t l = t - 1; l-- > 0;) {
        const uint32_t m = t - l; /* suffix length at level l */
        const uint64_t An = P[l] + 1, Bn = P[m] + 1, Bc = P[m - 1] + 1;
        /* suffix maps: for b with b0 = 1 the rest r = g * b' */
        const uint64_t nr = P[m] - P[m - 1]; /* q^(m-1) */
        uint64_t *bidx = malloc(nr * sizeof *bidx);
        uint32_t *ginv = malloc(nr * sizeof *ginv);
        const uint64_t zs = (l == 0) ? 1 : q; /* level 0 keeps z = 0 only */
        uint64_t *nxt = calloc(An * Bn * zs, sizeof *nxt);
        if (!bidx || !ginv || !nxt) {
            free(bidx);
            free(ginv);
            free(nxt);
            free(cur);
            return PINHOLE_ENOMEM;
        }
        for (uint64_t r = 0; r < nr; r++) {
            uint64_t x = r;
            for (uint32_t i = m - 1; i-- > 0;) {
                w[i] = (uint32_t)(x % q);
                x /= q;
            }
            const uint32_t lead = pinhole_pspace_canonicalize(F, w, m - 1);
            bidx[r] = index_or_zero(w, m - 1, q, P);
            ginv[r] = lead ? pinhole_gf_inv(F, lead) : 1;
        }
        for (uint64_t a = 0; a < An; a++) {
            const int zero_a = a == P[l];
            const uint32_t nd = zero_a ? 2 : q;
            for (uint64_t b = 0; b < Bn; b++) {
                uint64_t bc; /* b' index in the child level */
                uint32_t gi, b0;
                if (b == P[m]) {
                    bc = Bc - 1, gi = 1, b0 = 0;
                } else if (b < P[m - 1]) {
                    bc = b, gi = 1, b0 = 0;
                } else {
                    const uint64_t r = b - P[m - 1];
                    bc = bidx[r], gi = ginv[r], b0 = 1;
                }
                uint64_t *out = nxt + (a * Bn + b) * zs;
                for (uint32_t d = 0; d < nd; d++) {
                    uint64_t child;
                    if (zero_a)
                        child = d == 0 ? P[l + 1] : 0;
                    else
                        child = q * a + 1 + d;
                    const uint64_t *in = cur + (child * Bc + bc) * q;
                    for (uint32_t z = 0; z < zs; z++) {
                        const uint32_t zz = b0 ? pinhole_gf_sub(F, z, d) : z;
                        out[z] += in[pinhole_gf_mul(F, zz, gi)];
                    }
                }
            }
        }
        free(bidx);
        free(ginv);
        free(cur);
        cur = nxt;
        A = An;
        B = Bn;
    }
    /* level 0: one (empty) prefix, suffix b = v, z = 0 */
    for (uint64_t v = 0; v < g->k; v++)
        T[v] = cur[v];
    free(cur);
    return PINHOLE_OK;
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

int pinhole_pgr_reconstruct(const pinhole_pgr *g, const uint64_t *y, uint64_t *T,
                            pinhole_pgr_method method)
{
    if (method == PINHOLE_PGR_AUTO) {
        const double dp = (double)g->K * g->q * g->t;
        const double en = (double)g->k * (double)g->c_set * g->t;
        method = dp <= en ? PINHOLE_PGR_DP : PINHOLE_PGR_ENUM;
    }
    switch (method) {
    case PINHOLE_PGR_DP:
        return reconstruct_dp(g, y, T);
    case PINHOLE_PGR_ENUM:
        return reconstruct_enum(g, y, T);
    default:
        return PINHOLE_EINVAL;
    }
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
