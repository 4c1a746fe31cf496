/* PGR reconstruction by the coordinate dynamic program: scaled canonical suffixes, a per-block sum
 * along lines (a discrete Radon transform) done with contiguous vector adds, a thread pool, and
 * intermediate counts of the narrowest width that holds n. docs/reconstruction.md explains it.
 *
 * Level m (suffix length m, prefix length t - m) holds, for each canonical prefix a and each suffix
 * slot j, the row H[u] = f(a, b_j, s_j u), u in F_q, where f(a, b, z) sums y_u over canonical u
 * with prefix a and <u[t-m..t), b> = z, and s_j != 0 is the slot's scale. A parent slot is (child
 * slot j', direction e): e = 0 is b = (0, b'), e != 0 is b = (1, g b') with e = (g s')^-1, and then
 *   H_parent[e][u] = sum_d H_child(a d)[u - d e]
 * for every e at once: a sum along the lines of a q x q array. The zero prefix needs z = 0 only.
 *
 * One template (pgr_dp_template.h) serves every value type: 16-, 32- and 64-bit counts for the
 * reconstruction, doubles for the likelihood methods (the channel product of analytics). Tables and
 * buffers live in a pinhole_pgr_workspace that callers may keep across calls. */
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
#if defined(__GNUC__) || defined(__clang__)
#define DP_INLINE __attribute__((always_inline))
#define DP_OPAQUE(p) __asm__("" : "+r"(p)) /* p's value hidden from the optimizer */
#else
#define DP_INLINE
#define DP_OPAQUE(p) ((void)0)
#endif

/* Everything a reconstruction allocates, kept between calls: the tables of one geometry (q, t),
 * the kernel's offsets, the level buffers, the per-thread scratch and the thread pool. */
struct pinhole_pgr_workspace {
    uint32_t q, t, p, mdeg; /* geometry the tables below describe (q = 0: none) */
    int mode;
    uint32_t ql;
    uint16_t *neg, *subl, *subh, *perm;
    uint32_t *pos; /* the gather table: T[v] = L[pos[v]], v < K (see gather_table) */
    uint32_t *off; /* MODE_ROT offsets for q = off_q and row width off_W */
    uint32_t off_q, off_W;
    void *scratch, *buf[2], *z[2];
    size_t scratch_cap, buf_cap[2], z_cap[2];
    pinhole_pool pool;
    unsigned pool_threads; /* threads asked of the pool (0: no pool yet) */
};

/* *p holds at least need bytes (old contents are not kept). */
static int ws_grow(void **p, size_t *cap, size_t need)
{
    if (*cap >= need && *p)
        return PINHOLE_OK;
    free(*p);
    *p = malloc(need ? need : 1);
    *cap = *p ? need : 0;
    return *p ? PINHOLE_OK : PINHOLE_ENOMEM;
}

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
    const void *y;          /* the K inputs (WT) */
    /* the current step, level m -> m + 1 */
    uint32_t m;
    const void *src;  /* level m rows (unused for m = 1: read from y) */
    const void *zsrc; /* zero-prefix values of level m (WT) */
    void *dst;
    void *zdst;
    uint64_t items, chunk;
    atomic_uint_fast64_t next;
    /* the end: level t - 1 (with Z folded in) -> T */
    const uint32_t *pos; /* T[v] = L[pos[v]] */
    void *T;             /* the k outputs (WT), unless est */
    double *est;         /* integer counts only: k estimates (T - rn) / gap in place of T */
    double rn, gap;
    uint64_t k; /* outputs: v in [0, k) */
} dp_ctx;

#define GATHER_AHEAD 16 /* items between the prefetch of a read of the end step and the read */

#define CT_TO_DOUBLE(x) ((double)(int64_t)(x)) /* counts stay below 2^63 on this path */
#define WT uint64_t
#define CT uint16_t
#define FN(x) x##_u16
#include "server/estimate/pgr_dp_template.h"
#undef CT
#undef FN
#define CT uint32_t
#define FN(x) x##_u32
#include "server/estimate/pgr_dp_template.h"
#undef CT
#undef FN
#define CT uint64_t
#define FN(x) x##_u64
#include "server/estimate/pgr_dp_template.h"
#undef CT
#undef FN
#undef WT
#undef CT_TO_DOUBLE
#undef CT_TO_DOUBLE
#define CT_TO_DOUBLE(x) (x)
#define WT double
#define CT double
#define FN(x) x##_f64
#include "server/estimate/pgr_dp_template.h"
#undef CT
#undef FN
#undef WT
#undef CT_TO_DOUBLE

/* Slot maps of canonical suffixes of length t - 1 and the (lead, canonical index) of nonzero
 * vectors of length t - 2, built level by level in O(K / q). */
static int build_maps(const dp_ctx *c, uint32_t **slot_out, uint16_t **sinv_out, uint32_t **nzi_out,
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

/* The end step's gather table of the geometry: T[v] = f(zero, v, 0) = Z[s] + L[s q + w] is read
 * at pos[v] = s q + w once Z is folded into the rows of level t - 1, for every point v < K. For
 * v = (0, b''): s = the slot of b'', w = 0. For v = (1, r), r = Pn q + x of length t - 1, r = g b''
 * with b'' canonical of slot s and inverse scale si: w = -x g^-1 si; r = 0 is the zero slot, whose
 * row holds 0 past its first entry. Field products through the log tables (lsinv holds log si,
 * negexp[i] = -generator^i). NULL when out of memory. */
static uint32_t *gather_table(const dp_ctx *c)
{
    const pinhole_gf *F = c->F;
    const uint32_t q = c->q;
    const uint64_t Pt1 = c->P[c->t - 1], K = c->P[c->t];
    uint32_t *slot = NULL, *nzi = NULL;
    uint16_t *lsinv = NULL, *nzg = NULL;
    uint32_t *pos = malloc(K * sizeof *pos);
    uint16_t *negexp = malloc(2 * (size_t)(q - 1) * sizeof *negexp);
    if (!pos || !negexp || build_maps(c, &slot, &lsinv, &nzi, &nzg) != PINHOLE_OK) {
        free(pos);
        free(negexp);
        return NULL;
    }
    for (uint32_t i = 0; i < 2 * (q - 1); i++)
        negexp[i] = (uint16_t)pinhole_gf_neg(F, F->exp[i]);
    for (uint64_t i = 0; i < Pt1; i++)
        lsinv[i] = F->log[lsinv[i]];
    const uint16_t *lg = F->log, *ex = F->exp;
    uint64_t v = 0;
    for (; v < Pt1; v++) /* v = (0, b'') */
        pos[v] = (uint32_t)((uint64_t)slot[v] * q);
    pos[v++] = (uint32_t)(Pt1 * q + 1);     /* v = (1, 0..0): the zero slot */
    for (uint32_t x = 1; x < q; x++, v++) { /* r = (0..0, x): g = x, b'' = (0..0, 1), slot 0 */
        const uint32_t lgi = (q - 1 - lg[x]) % (q - 1);
        pos[v] = (uint32_t)((uint64_t)slot[0] * q + negexp[lgi + lsinv[0]]);
    }
    for (uint64_t Pn = 1; v < K; Pn++) {
        const uint32_t lgi = (q - 1 - lg[nzg[Pn]]) % (q - 1);
        const uint64_t base = (uint64_t)q * nzi[Pn] + 1;
        for (uint32_t x = 0; x < q; x++, v++) {
            const uint64_t i2 = base + (x ? ex[lg[x] + lgi] : 0);
            pos[v] = (uint32_t)((uint64_t)slot[i2] * q + negexp[lgi + lsinv[i2]]);
        }
    }
    free(slot);
    free(lsinv);
    free(nzi);
    free(nzg);
    free(negexp);
    return pos;
}

typedef uint64_t u64x4 __attribute__((vector_size(32)));

/* The sum and the OR of all counts four lanes at a time (cloned for AVX2): when every count is
 * below 2^(63 - log2 K) no partial sum can have overflowed; else a checked sum. */
DP_CLONES static int sum_counts(const uint64_t *y, uint64_t K, uint64_t *n)
{
    u64x4 all4 = {0}, s4 = {0};
    uint64_t h = 0;
    for (; h + 4 <= K; h += 4) {
        u64x4 w;
        memcpy(&w, y + h, sizeof w);
        all4 |= w;
        s4 += w;
    }
    uint64_t all = all4[0] | all4[1] | all4[2] | all4[3], s = s4[0] + s4[1] + s4[2] + s4[3];
    for (; h < K; h++) {
        all |= y[h];
        s += y[h];
    }
    unsigned kb = 1;
    while (kb < 64 && (K >> kb) != 0)
        kb++;
    if (kb < 63 && (all >> (63 - kb)) == 0) {
        *n = s;
        return PINHOLE_OK;
    }
    s = 0;
    for (h = 0; h < K; h++) {
        if (y[h] > UINT64_MAX - s)
            return PINHOLE_EOVERFLOW;
        s += y[h];
    }
    *n = s;
    return PINHOLE_OK;
}

int pinhole_pgr_sum_counts(const uint64_t *y, uint64_t K, uint64_t *n)
{
    return sum_counts(y, K, n); /* cloned functions stay static: clang emits no external clone */
}

pinhole_pgr_workspace *pinhole_pgr_workspace_new(void)
{
    return calloc(1, sizeof(pinhole_pgr_workspace));
}

static void ws_free_geometry(pinhole_pgr_workspace *ws)
{
    free(ws->neg);
    free(ws->subl);
    free(ws->subh);
    free(ws->perm);
    free(ws->pos);
    ws->neg = ws->subl = ws->subh = ws->perm = NULL;
    ws->pos = NULL;
    ws->q = 0;
}

void pinhole_pgr_workspace_free(pinhole_pgr_workspace *ws)
{
    if (!ws)
        return;
    ws_free_geometry(ws);
    free(ws->off);
    free(ws->scratch);
    free(ws->buf[0]);
    free(ws->buf[1]);
    free(ws->z[0]);
    free(ws->z[1]);
    if (ws->pool_threads)
        pinhole_pool_free(&ws->pool);
    free(ws);
}

/* The tables of g's geometry in ws (built unless ws already holds them). */
static int ws_geometry(pinhole_pgr_workspace *ws, const pinhole_pgr *g)
{
    const uint32_t q = g->q, t = g->t;
    if (ws->q == q && ws->t == t && ws->p == g->F.p && ws->mdeg == g->F.m)
        return PINHOLE_OK;
    ws_free_geometry(ws);
    dp_ctx c;
    memset(&c, 0, sizeof c);
    c.F = &g->F;
    c.q = q;
    c.t = t;
    c.P = g->S.npts;
    if (g->F.m == 1)
        ws->mode = MODE_ROT;
    else if (q <= PERM_TABLE_QMAX)
        ws->mode = MODE_PERM;
    else if (g->F.p == 2)
        ws->mode = MODE_XOR;
    else
        ws->mode = MODE_SPLIT;
    ws->neg = malloc(q * sizeof *ws->neg);
    if (!ws->neg)
        goto nomem;
    for (uint32_t a = 0; a < q; a++)
        ws->neg[a] = (uint16_t)pinhole_gf_neg(c.F, a);
    if (ws->mode == MODE_SPLIT) { /* digit-wise subtraction in two halves of the digits */
        ws->ql = g->F.pw[(g->F.m + 1) / 2];
        const uint32_t ql = ws->ql, qh = q / ql;
        ws->subl = malloc((size_t)ql * ql * sizeof *ws->subl);
        ws->subh = malloc((size_t)qh * qh * sizeof *ws->subh);
        if (!ws->subl || !ws->subh)
            goto nomem;
        for (uint32_t a = 0; a < ql; a++)
            for (uint32_t b = 0; b < ql; b++)
                ws->subl[(size_t)a * ql + b] = (uint16_t)pinhole_gf_sub(c.F, b, a);
        for (uint32_t a = 0; a < qh; a++)
            for (uint32_t b = 0; b < qh; b++)
                ws->subh[(size_t)a * qh + b] = (uint16_t)(pinhole_gf_sub(c.F, b * ql, a * ql) / ql);
    }
    if (ws->mode == MODE_PERM) {
        ws->perm = malloc((size_t)q * q * q * sizeof *ws->perm);
        if (!ws->perm)
            goto nomem;
        for (uint32_t e = 0; e < q; e++)
            for (uint32_t u = 0; u < q; u++)
                for (uint32_t d = 0; d < q; d++)
                    ws->perm[((size_t)e * q + u) * q + d] =
                        (uint16_t)(d * q + pinhole_gf_sub(c.F, u, pinhole_gf_mul(c.F, d, e)));
    }
    if (!(ws->pos = gather_table(&c)))
        goto nomem;
    ws->q = q;
    ws->t = t;
    ws->p = g->F.p;
    ws->mdeg = g->F.m;
    return PINHOLE_OK;
nomem:
    ws_free_geometry(ws);
    return PINHOLE_ENOMEM;
}

/* A context for g on the workspace's tables and a pool of the given size. */
static int dp_setup(dp_ctx *c, const pinhole_pgr *g, pinhole_pgr_workspace *ws, unsigned threads)
{
    /* positions in level t - 1 (about K) must be 32-bit; a level holds less than 8 K values */
    if ((g->S.npts[g->t - 1] + 1) * g->q >= UINT32_MAX || (double)g->K * 64 > (double)SIZE_MAX)
        return PINHOLE_EOVERFLOW;
    int rc = ws_geometry(ws, g);
    if (rc != PINHOLE_OK)
        return rc;
    if (threads == 0)
        threads = 1;
    if (ws->pool_threads != threads) {
        if (ws->pool_threads)
            pinhole_pool_free(&ws->pool);
        ws->pool_threads = 0;
        if ((rc = pinhole_pool_init(&ws->pool, threads)) != PINHOLE_OK)
            return rc;
        ws->pool_threads = threads;
    }
    memset(c, 0, sizeof *c);
    c->F = &g->F;
    c->q = g->q;
    c->t = g->t;
    c->P = g->S.npts;
    c->mode = ws->mode;
    c->ql = ws->ql;
    c->subl = ws->subl;
    c->subh = ws->subh;
    c->neg = ws->neg;
    c->perm = ws->perm;
    c->pos = ws->pos;
    atomic_init(&c->next, 0);
    return PINHOLE_OK;
}

int pinhole_pgr_dp(const pinhole_pgr *g, const uint64_t *y, uint64_t n, uint64_t *T, double *est,
                   unsigned threads, unsigned count_bits, pinhole_pgr_workspace *ws)
{
    if (count_bits != 16 && count_bits != 32 && count_bits != 64)
        return PINHOLE_EINVAL;
    if (count_bits < 64 && n >> count_bits)
        return PINHOLE_EINVAL;
    pinhole_pgr_workspace *own = NULL;
    if (!ws && !(ws = own = pinhole_pgr_workspace_new()))
        return PINHOLE_ENOMEM;
    dp_ctx c;
    int rc = dp_setup(&c, g, ws, threads);
    if (rc == PINHOLE_OK) {
        c.y = y;
        c.T = T;
        c.est = est;
        c.rn = g->r * (double)n;
        c.gap = g->gap;
        c.k = g->k;
        rc = count_bits == 16   ? run_u16(&c, ws)
             : count_bits == 32 ? run_u32(&c, ws)
                                : run_u64(&c, ws);
    }
    pinhole_pgr_workspace_free(own);
    return rc;
}

int pinhole_pgr_dp_f64(const pinhole_pgr *g, const double *in, double *out, uint64_t nout,
                       unsigned threads, pinhole_pgr_workspace *ws)
{
    if (nout > g->K)
        return PINHOLE_EINVAL;
    pinhole_pgr_workspace *own = NULL;
    if (!ws && !(ws = own = pinhole_pgr_workspace_new()))
        return PINHOLE_ENOMEM;
    dp_ctx c;
    int rc = dp_setup(&c, g, ws, threads);
    if (rc == PINHOLE_OK) {
        c.y = in;
        c.T = out;
        c.k = nout;
        rc = run_f64(&c, ws);
    }
    pinhole_pgr_workspace_free(own);
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
    pinhole_pgr_workspace ws;
    memset(&ws, 0, sizeof ws);
    if (setup_rot_u32(&c, &ws) != PINHOLE_OK)
        return PINHOLE_ENOMEM;
    uint32_t *R = malloc((size_t)q * (c.W + c.QP) * sizeof *R);
    if (!R) {
        free(ws.off);
        return PINHOLE_ENOMEM;
    }
    uint32_t *O = R + (size_t)q * c.W;
    for (uint32_t d = 0; d < q; d++)
        for (uint32_t x = 0; x < c.W; x++)
            R[(size_t)d * c.W + x] = h[(size_t)d * q + x % q];
    radon_rot_u32(R, c.off, O, c.QP, O + (size_t)(q - 1) * c.QP, q, c.QP);
    for (uint32_t e = 0; e < q; e++)
        memcpy(out + (size_t)e * q, O + (size_t)e * c.QP, q * sizeof *out);
    free(R);
    free(ws.off);
    return PINHOLE_OK;
}
