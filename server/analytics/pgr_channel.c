/* The PGR incidence product on doubles (coordinate dynamic program) and the channel probabilities.
 *
 * f_l(a, b, z) = sum { w_u : u canonical, u[0..l) = a, <u[l..t), b> = z } for a length-l prefix a
 * (canonical or zero) and a length-(t-l) suffix b stored only when canonical or zero, using
 * f(a, g b', z) = f(a, b', z / g) (docs/design.md, "PGR"). Prefix and suffix indices are the
 * canonical indices of their length with the zero vector last; prefix a extended by d has index q a
 * + 1 + d.
 */
#include "server/analytics/pgr_channel.h"
#include "common/error.h"

#include <stdint.h>
#include <stdlib.h>

void pinhole_pgr_channel(const pinhole_pgr *g, double *alpha, double *beta)
{
    *beta = g->s_in / (double)g->c_set;
    *alpha = (1.0 - g->s_in) / (double)(g->K - g->c_set);
}

/* Index of a canonical-or-zero vector w[0..L) among length-L vectors, the zero vector -> P[L]. */
static uint64_t suffix_index(const uint32_t *w, uint32_t L, uint32_t q, const uint64_t *P)
{
    uint32_t j = 0;
    while (j < L && w[j] == 0)
        j++;
    if (j == L)
        return P[L];
    uint64_t rest = 0;
    for (uint32_t i = j + 1; i < L; i++)
        rest = rest * q + w[i];
    return P[L - 1 - j] + rest;
}

/* Index of prefix a extended by d (level l + 1); the zero prefix has index zero_next there. */
static inline uint64_t child_index(uint64_t a, uint32_t d, int zero_a, uint32_t q,
                                   uint64_t zero_next)
{
    return zero_a ? (d == 0 ? zero_next : 0) : q * a + 1 + d;
}

int pinhole_pgr_incidence(const pinhole_pgr *g, const double *in, double *out)
{
    const pinhole_gf *F = &g->F;
    const uint32_t q = g->q, t = g->t;
    const uint64_t *P = g->S.npts;

    /* level t-1 straight from the weights: suffix (1) -> 0, zero suffix -> 1 */
    uint64_t A = P[t - 1] + 1;
    double *cur = calloc(A * 2 * q, sizeof *cur);
    if (!cur)
        return PINHOLE_ENOMEM;
    for (uint64_t a = 0; a < A; a++) {
        double *f1 = cur + (a * 2 + 0) * q, *f0 = cur + (a * 2 + 1) * q;
        if (a < P[t - 1]) {
            for (uint32_t d = 0; d < q; d++) {
                f1[d] = in[q * a + 1 + d];
                f0[0] += f1[d];
            }
        } else { /* zero prefix: only d = 1 keeps u canonical, u = (0, ..., 0, 1), index 0 */
            f1[1] = in[0];
            f0[0] = in[0];
        }
    }

    const int prime = F->m == 1, binary = F->p == 2;
    uint32_t w[PINHOLE_T_MAX];
    for (uint32_t l = t - 1; l-- > 0;) {
        const uint32_t m = t - l; /* suffix length at level l */
        const uint64_t An = P[l] + 1, Bn = P[m] + 1, Bc = P[m - 1] + 1;
        const uint64_t nr = P[m] - P[m - 1]; /* suffixes with b0 = 1: q^(m-1) */
        const uint32_t zs = l == 0 ? 1 : q;  /* the answer needs z = 0 only */
        if (An > SIZE_MAX / sizeof(double) / zs / Bn) {
            free(cur);
            return PINHOLE_ENOMEM;
        }
        uint64_t *child_b = malloc(nr * sizeof *child_b);
        uint32_t *ginv = malloc(nr * sizeof *ginv), *mg = malloc(2 * (size_t)q * sizeof *mg);
        double *nxt = calloc(An * Bn * zs, sizeof *nxt);
        if (!child_b || !ginv || !mg || !nxt) {
            free(mg);
            free(child_b);
            free(ginv);
            free(nxt);
            free(cur);
            return PINHOLE_ENOMEM;
        }
        /* b = (1, rest), rest = g b': the child suffix b' and 1/g (g = 1 when rest = 0) */
        for (uint64_t r = 0; r < nr; r++) {
            uint64_t x = r;
            for (uint32_t i = m - 1; i-- > 0;) {
                w[i] = (uint32_t)(x % q);
                x /= q;
            }
            const uint32_t lead = pinhole_pspace_canonicalize(F, w, m - 1);
            child_b[r] = suffix_index(w, m - 1, q, P);
            ginv[r] = lead ? pinhole_gf_inv(F, lead) : 1;
        }
        for (uint64_t a = 0; a < An; a++) {
            const int zero_a = a == P[l];
            const uint32_t nd = zero_a ? 2 : q;
            for (uint64_t b = 0; b < Bn; b++) {
                uint64_t bc;
                uint32_t gi = 1, b0 = 0;
                if (b == P[m])
                    bc = Bc - 1; /* zero suffix */
                else if (b < P[m - 1])
                    bc = b; /* b = (0, b'), b' canonical with the same index */
                else
                    bc = child_b[b - P[m - 1]], gi = ginv[b - P[m - 1]], b0 = 1;
                double *o = nxt + (a * Bn + b) * zs;
                if (!b0) { /* g = 1 and no shift: plain sums */
                    for (uint32_t d = 0; d < nd; d++) {
                        const double *i =
                            cur + (child_index(a, d, zero_a, q, P[l + 1]) * Bc + bc) * q;
                        for (uint32_t z = 0; z < zs; z++)
                            o[z] += i[z];
                    }
                } else if (zs == q && (prime || binary)) {
                    /* o[z] += i_d[(z - d) / g]: with mg[j] = (j mod q) / g, the index is
                     * mg[z + q - d] for prime q and mg[z ^ d] in characteristic 2 */
                    for (uint32_t j = 0; j < q; j++)
                        mg[j] = mg[j + q] = pinhole_gf_mul(F, j, gi);
                    for (uint32_t d = 0; d < nd; d++) {
                        const double *i =
                            cur + (child_index(a, d, zero_a, q, P[l + 1]) * Bc + bc) * q;
                        const uint32_t *mp = mg + q - d;
                        if (prime)
                            for (uint32_t z = 0; z < q; z++)
                                o[z] += i[mp[z]];
                        else
                            for (uint32_t z = 0; z < q; z++)
                                o[z] += i[mg[z ^ d]];
                    }
                } else {
                    for (uint32_t d = 0; d < nd; d++) {
                        const double *i =
                            cur + (child_index(a, d, zero_a, q, P[l + 1]) * Bc + bc) * q;
                        for (uint32_t z = 0; z < zs; z++)
                            o[z] += i[pinhole_gf_mul(F, pinhole_gf_sub(F, z, d), gi)];
                    }
                }
            }
        }
        free(mg);
        free(child_b);
        free(ginv);
        free(cur);
        cur = nxt;
    }
    for (uint64_t v = 0; v < g->K; v++)
        out[v] = cur[v];
    free(cur);
    return PINHOLE_OK;
}
