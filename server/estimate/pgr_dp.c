/* PGR reconstruction by the coordinate dynamic program: scaled canonical suffixes, a per-block sum
 * along lines (a discrete Radon transform) done with contiguous vector adds, a thread pool, and
 * intermediate counts of the narrowest width that holds n. docs/reconstruction.md explains it.
 *
 * Level m (suffix length m, prefix length t - m) holds, for each canonical prefix a and each suffix
 * slot j, the row H[u] = f(a, b_j, s_j u), u in F_q, where f(a, b, z) sums y_u over canonical u
 * with prefix a and <u[t-m..t), b> = z, and s_j != 0 is the slot's scale. A parent slot is (child
 * slot j', direction e): e = 0 is b = (0, b'), e != 0 is b = (1, g b') with e = (g s')^-1, and then
 *   H_parent[e][u] = sum_d H_child(a d)[u - d e]
 * for every e at once: a sum along the lines of a q x q array. The zero prefix needs z = 0 only. */
#include "server/estimate/pgr_dp.h"
#include "common/error.h"
#include "server/estimate/pool.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { MODE_ROT, MODE_PERM, MODE_XOR, MODE_SPLIT };

#define VEC_BYTES 32
#define PERM_TABLE_QMAX 32u /* prime powers up to this q get the whole block's index table */

/* The kernel is cloned for AVX2 (chosen at load time by an ifunc resolver), except under
 * ThreadSanitizer, whose runtime is not ready when resolvers run. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DP_NO_CLONES 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define DP_NO_CLONES 1
#endif
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__)) &&      \
    !defined(DP_NO_CLONES)
#define DP_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DP_CLONES
#endif

typedef struct dp_ctx {
    const pinhole_gf *F;
    uint32_t q, t;
    const uint64_t *P; /* P[l] = (q^l - 1)/(q - 1) */
    int mode;          /* how u - s is computed in a block */
    uint32_t ql;       /* MODE_SPLIT: u = uh ql + ul, ql = p^ceil(m/2) (low digits) */
    uint16_t *subl;    /* MODE_SPLIT: subl[sl ql + ul] = ul - sl digit-wise (low digits) */
    uint16_t *subh;    /* MODE_SPLIT: subh[sh (q/ql) + uh] = uh - sh digit-wise (high digits) */
    uint16_t *neg;     /* neg[a] = -a */
    uint32_t *off;     /* MODE_ROT: off[e q + d] = d W + q - (d e mod q) */
    uint16_t *perm;    /* MODE_PERM: perm[(e q + u) q + d] = d q + (u - d e) */
    uint32_t W, QP;    /* scratch row widths (elements) */
    size_t scratch_bytes;
    unsigned char *scratch; /* one scratch area per thread */
    const uint64_t *y;
    /* the current step, level m -> m + 1 */
    uint32_t m;
    const void *src; /* level m rows (unused for m = 1: read from y) */
    const uint64_t *zsrc;
    void *dst;
    uint64_t *zdst;
    uint64_t items, chunk;
    atomic_uint_fast64_t next;
    /* the end: level t - 1 -> T */
    const uint32_t *slot;   /* canonical suffix of length t - 1 -> its slot */
    const uint16_t *sinv;   /* -> log of the inverse of the slot's scale */
    uint16_t *negexp;       /* negexp[i] = -generator^i, i < 2 (q - 1) */
    const uint32_t *nz_idx; /* nonzero r of length t - 2 -> canonical index of r / lead(r) */
    const uint16_t *nz_g;   /* -> lead(r) */
    uint64_t *T;
    uint64_t k;
} dp_ctx;

#define CT uint16_t
#define FN(x) x##_u16
#include "server/estimate/pgr_dp_impl.h"
#undef CT
#undef FN
#define CT uint32_t
#define FN(x) x##_u32
#include "server/estimate/pgr_dp_impl.h"
#undef CT
#undef FN
#define CT uint64_t
#define FN(x) x##_u64
#include "server/estimate/pgr_dp_impl.h"
#undef CT
#undef FN

/* Slot maps of canonical suffixes of length t - 1 and the (lead, canonical index) of nonzero
 * vectors of length t - 2, built level by level in O(K / q). */
static int build_maps(dp_ctx *c, uint32_t **slot_out, uint16_t **sinv_out, uint32_t **nzi_out,
                      uint16_t **nzg_out)
{
    const pinhole_gf *F = c->F;
    const uint32_t q = c->q, t = c->t;
    const uint64_t *P = c->P;
    uint32_t *slot = malloc(sizeof *slot), *nzi = NULL;
    uint16_t *sinv = malloc(sizeof *sinv), *nzg = NULL;
    if (!slot || !sinv)
        goto nomem;
    slot[0] = 0; /* level 1: the suffix (1) */
    sinv[0] = 1;
    uint64_t qm = 1; /* q^m */
    for (uint32_t m = 1; m + 1 <= t - 1; m++) {
        qm *= q;
        /* nz for length m from nz for length m - 1 */
        uint32_t *nzi2 = malloc(qm * sizeof *nzi2);
        uint16_t *nzg2 = malloc(qm * sizeof *nzg2);
        if (!nzi2 || !nzg2) {
            free(nzi2);
            free(nzg2);
            goto nomem;
        }
        for (uint64_t r = 1; r < qm; r++) {
            const uint64_t Pn = r / q;
            const uint32_t x = (uint32_t)(r % q);
            if (Pn == 0) {
                nzg2[r] = (uint16_t)x;
                nzi2[r] = 0;
            } else {
                nzg2[r] = nzg[Pn];
                nzi2[r] = (uint32_t)((uint64_t)q * nzi[Pn] + 1 +
                                     pinhole_gf_mul(F, x, pinhole_gf_inv(F, nzg[Pn])));
            }
        }
        free(nzi);
        free(nzg);
        nzi = nzi2;
        nzg = nzg2;
        /* slots of length m + 1 */
        uint32_t *slot2 = malloc(P[m + 1] * sizeof *slot2);
        uint16_t *sinv2 = malloc(P[m + 1] * sizeof *sinv2);
        if (!slot2 || !sinv2) {
            free(slot2);
            free(sinv2);
            goto nomem;
        }
        for (uint64_t i = 0; i < P[m]; i++) { /* (0, b') */
            slot2[i] = slot[i] * q;
            sinv2[i] = sinv[i];
        }
        slot2[P[m]] = (uint32_t)(P[m] * q); /* (1, 0..0) */
        sinv2[P[m]] = 1;
        for (uint64_t r = 1; r < qm; r++) { /* (1, g b'), e = (g s')^-1 */
            const uint32_t i1 = nzi[r];
            const uint32_t e = pinhole_gf_mul(F, pinhole_gf_inv(F, nzg[r]), sinv[i1]);
            slot2[P[m] + r] = slot[i1] * q + e;
            sinv2[P[m] + r] = (uint16_t)e;
        }
        free(slot);
        free(sinv);
        slot = slot2;
        sinv = sinv2;
    }
    /* the end step needs nz of length t - 2: nz is now of length t - 2 (or none for t = 2) */
    *slot_out = slot;
    *sinv_out = sinv;
    *nzi_out = nzi;
    *nzg_out = nzg;
    return PINHOLE_OK;
nomem:
    free(slot);
    free(sinv);
    free(nzi);
    free(nzg);
    return PINHOLE_ENOMEM;
}

int pinhole_pgr_dp(const pinhole_pgr *g, const uint64_t *y, uint64_t n, uint64_t *T,
                   unsigned threads, unsigned count_bits)
{
    if (count_bits != 16 && count_bits != 32 && count_bits != 64)
        return PINHOLE_EINVAL;
    if (count_bits < 64 && n >> count_bits)
        return PINHOLE_EINVAL;
    const uint32_t q = g->q, t = g->t;
    /* slots of level t - 1 and the largest level must be addressable */
    /* a level holds less than 8 K counts; slots of level t - 1 are 32-bit */
    if (g->S.npts[t - 1] + 1 > UINT32_MAX || (double)g->K * 64 > (double)SIZE_MAX)
        return PINHOLE_EOVERFLOW;
    dp_ctx c;
    memset(&c, 0, sizeof c);
    c.F = &g->F;
    c.q = q;
    c.t = t;
    c.P = g->S.npts;
    c.y = y;
    c.T = T;
    c.k = g->k;
    if (g->F.m == 1)
        c.mode = MODE_ROT;
    else if (q <= PERM_TABLE_QMAX)
        c.mode = MODE_PERM;
    else if (g->F.p == 2)
        c.mode = MODE_XOR;
    else
        c.mode = MODE_SPLIT;
    int rc = PINHOLE_ENOMEM;
    uint32_t *slot = NULL, *nzi = NULL;
    uint16_t *sinv = NULL, *nzg = NULL;
    c.neg = malloc(q * sizeof *c.neg);
    if (!c.neg)
        goto out;
    for (uint32_t a = 0; a < q; a++)
        c.neg[a] = (uint16_t)pinhole_gf_neg(c.F, a);
    if (c.mode == MODE_SPLIT) { /* digit-wise subtraction in two halves of the digits */
        c.ql = g->F.pw[(g->F.m + 1) / 2];
        const uint32_t ql = c.ql, qh = q / ql;
        c.subl = malloc((size_t)ql * ql * sizeof *c.subl);
        c.subh = malloc((size_t)qh * qh * sizeof *c.subh);
        if (!c.subl || !c.subh)
            goto out;
        for (uint32_t a = 0; a < ql; a++)
            for (uint32_t b = 0; b < ql; b++)
                c.subl[(size_t)a * ql + b] = (uint16_t)pinhole_gf_sub(c.F, b, a);
        for (uint32_t a = 0; a < qh; a++)
            for (uint32_t b = 0; b < qh; b++)
                c.subh[(size_t)a * qh + b] = (uint16_t)(pinhole_gf_sub(c.F, b * ql, a * ql) / ql);
    }
    if (c.mode == MODE_PERM) {
        c.perm = malloc((size_t)q * q * q * sizeof *c.perm);
        if (!c.perm)
            goto out;
        for (uint32_t e = 0; e < q; e++)
            for (uint32_t u = 0; u < q; u++)
                for (uint32_t d = 0; d < q; d++)
                    c.perm[((size_t)e * q + u) * q + d] =
                        (uint16_t)(d * q + pinhole_gf_sub(c.F, u, pinhole_gf_mul(c.F, d, e)));
    }
    if ((rc = build_maps(&c, &slot, &sinv, &nzi, &nzg)) != PINHOLE_OK)
        goto out;
    for (uint64_t i = 0; i < c.P[t - 1]; i++)
        sinv[i] = c.F->log[sinv[i]];
    c.negexp = malloc(2 * (size_t)(q - 1) * sizeof *c.negexp);
    if (!c.negexp) {
        rc = PINHOLE_ENOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < 2 * (q - 1); i++)
        c.negexp[i] = c.neg[c.F->exp[i]];
    c.slot = slot;
    c.sinv = sinv;
    c.nz_idx = nzi;
    c.nz_g = nzg;
    pinhole_pool pool;
    if ((rc = pinhole_pool_init(&pool, threads)) != PINHOLE_OK)
        goto out;
    atomic_init(&c.next, 0);
    rc = count_bits == 16   ? run_u16(&c, &pool)
         : count_bits == 32 ? run_u32(&c, &pool)
                            : run_u64(&c, &pool);
    pinhole_pool_free(&pool);
out:
    free(c.neg);
    free(c.negexp);
    free(c.subl);
    free(c.subh);
    free(c.perm);
    free(c.off);
    free(c.scratch);
    free(slot);
    free(sinv);
    free(nzi);
    free(nzg);
    return rc;
}

int pinhole_pgr_sum_lines(uint32_t q, const uint32_t *h, uint32_t *out)
{
    uint32_t p, m;
    if (q > PINHOLE_GF_QMAX || !pinhole_gf_is_prime_power(q, &p, &m) || m != 1)
        return PINHOLE_EINVAL;
    dp_ctx c;
    memset(&c, 0, sizeof c);
    c.q = q;
    c.mode = MODE_ROT;
    if (setup_rot_u32(&c) != PINHOLE_OK)
        return PINHOLE_ENOMEM;
    uint32_t *R = malloc((size_t)q * (c.W + c.QP) * sizeof *R);
    if (!R) {
        free(c.off);
        return PINHOLE_ENOMEM;
    }
    uint32_t *O = R + (size_t)q * c.W;
    for (uint32_t d = 0; d < q; d++)
        for (uint32_t x = 0; x < c.W; x++)
            R[(size_t)d * c.W + x] = h[(size_t)d * q + x % q];
    radon_rot_u32(R, c.off, O, q, c.QP);
    for (uint32_t e = 0; e < q; e++)
        memcpy(out + (size_t)e * q, O + (size_t)e * c.QP, q * sizeof *out);
    free(R);
    free(c.off);
    return PINHOLE_OK;
}
