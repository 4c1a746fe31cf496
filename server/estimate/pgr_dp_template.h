/* The typed half of the PGR dynamic program: a template, included by pgr_dp.c once per value type.
 * Before including, define CT (the type of the intermediate values: uint16_t, uint32_t, uint64_t or
 * double), WT (the type of the inputs y, the zero-prefix values Z and the outputs T: uint64_t for
 * the integer counts, double for real weights) and FN(name) (the name with the type's suffix). */

typedef CT FN(vec) __attribute__((vector_size(VEC_BYTES)));
typedef WT FN(wvec4) __attribute__((vector_size(4 * sizeof(WT)))); /* four inputs */
typedef CT FN(cvec4) __attribute__((vector_size(4 * sizeof(CT)))); /* four values */
#define VL ((uint32_t)(VEC_BYTES / sizeof(CT)))

/* acc += the VL counts at p (unaligned); through memcpy, which compilers turn into one load */
#define ADDU(acc, p)                                                                               \
    do {                                                                                           \
        FN(vec) ld_;                                                                               \
        memcpy(&ld_, (p), sizeof ld_);                                                             \
        (acc) += ld_;                                                                              \
    } while (0)

/* One pass of N vector accumulators over columns [c, c + N VL) of every row (EACH(X) expands X(i)
 * for i < N). Rc = R + c, opaque to the compiler so that each load stays one base + scaled index
 * address. Each accumulator adds
 * its rows in the order d = 0, 1, ..., q - 1. (The loop over d is not unrolled: compilers then
 * reassociate the integer sums into three instructions per two vectors.) */
#define ACC_DECL(i) FN(vec) a##i = zero;
#define ACC_ADD(i) ADDU(a##i, p0 + (i)*VL);
#define ACC_STORE(i) memcpy(out + c + (i)*VL, &a##i, sizeof a##i);
#define RADON_PASS(EACH)                                                                           \
    do {                                                                                           \
        EACH(ACC_DECL)                                                                             \
        const CT *Rc = R + c;                                                                      \
        DP_OPAQUE(Rc);                                                                             \
        for (uint32_t d = 0; d < q; d++) {                                                         \
            const CT *p0 = Rc + o[d];                                                              \
            EACH(ACC_ADD)                                                                          \
        }                                                                                          \
        EACH(ACC_STORE)                                                                            \
    } while (0)
#define EACH14(X) EACH12(X) X(12) X(13)
#define EACH12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define EACH8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define EACH4(X) X(0) X(1) X(2) X(3)
#define EACH2(X) X(0) X(1)
#define EACH1(X) X(0)

/* Prime q: row e of the output (O + e stride for e < q - 1, last for e = q - 1) gets, at u < QP,
 * sum_d R[off[e q + d] + u], where row d of R holds h_d repeated, so R[off[e q + d] + u] =
 * h_d[(u - d e) mod q]. Each row is written whole (QP values): with stride q the padding of row e
 * lands on row e + 1, which is written after it; only the last row needs room for QP. Passes of
 * twelve vector accumulators (eight and eight for sixteen), then eight, four, two, one (QP is a
 * multiple of VL). */
DP_CLONES static void FN(radon_rot)(const CT *restrict R, const uint32_t *restrict off, CT *O,
                                    size_t stride, CT *last, uint32_t q, uint32_t QP)
{
    const FN(vec) zero = {0};
    for (uint32_t e = 0; e < q; e++) {
        const uint32_t *o = off + (size_t)e * q;
        CT *out = e + 1 < q ? O + e * stride : last;
        uint32_t c = 0;
        for (; c + 12 * VL <= QP && QP - c != 16 * VL && QP - c != 14 * VL; c += 12 * VL)
            RADON_PASS(EACH12);
        if (QP - c == 14 * VL) { /* one pass, not 12 + 2 (a short pass waits on add latency) */
            RADON_PASS(EACH14);
            c += 14 * VL;
        }
        for (; c + 8 * VL <= QP; c += 8 * VL)
            RADON_PASS(EACH8);
        for (; c + 4 * VL <= QP; c += 4 * VL)
            RADON_PASS(EACH4);
        for (; c + 2 * VL <= QP; c += 2 * VL)
            RADON_PASS(EACH2);
        for (; c < QP; c += VL)
            RADON_PASS(EACH1);
    }
}
#undef ACC_DECL
#undef ACC_ADD
#undef ACC_STORE
#undef RADON_PASS
#undef EACH14
#undef EACH12
#undef EACH8
#undef EACH4
#undef EACH2
#undef EACH1

/* Prime powers: out[e q + u] = sum_d R[d q + (u - d e)], subtraction and product in GF(q):
 * a table of all q^3 indices for q <= 32, else XOR (p = 2) or digit-wise subtraction tables for
 * the low and the high half of the base-p digits (odd p). */
static void FN(radon_gen)(const dp_ctx *c, const CT *restrict R, CT *restrict out)
{
    const uint32_t q = c->q;
    if (c->mode == MODE_PERM) { /* small q: one table of q^3 indices, no field arithmetic */
        const uint16_t *p = c->perm;
        for (uint32_t i = 0; i < q * q; i++, p += q) {
            CT s = 0;
            for (uint32_t d = 0; d < q; d++)
                s += R[p[d]];
            out[i] = s;
        }
        return;
    }
    for (uint32_t e = 0; e < q; e++) {
        CT *o = out + (size_t)e * q;
        memcpy(o, R, q * sizeof *o); /* d = 0 */
        for (uint32_t d = 1; d < q; d++) {
            const uint32_t s = pinhole_gf_mul(c->F, d, e);
            const CT *h = R + (size_t)d * q;
            if (c->mode == MODE_XOR) {
                for (uint32_t u = 0; u < q; u++)
                    o[u] += h[u ^ s];
            } else { /* MODE_SPLIT: u - s = (uh - sh) ql + (ul - sl), digit-wise */
                const uint32_t ql = c->ql, qh = q / ql;
                const uint16_t *SL = c->subl + (size_t)(s % ql) * ql;
                const uint16_t *SH = c->subh + (size_t)(s / ql) * qh;
                for (uint32_t uh = 0; uh < qh; uh++) {
                    const CT *hb = h + (size_t)SH[uh] * ql;
                    CT *ob = o + (size_t)uh * ql;
                    for (uint32_t ul = 0; ul < ql; ul++)
                        ob[ul] += hb[SL[ul]];
                }
            }
        }
    }
}

/* Rows h_d = f(child q a2 + 1 + d, slot j, scaled z) of level m into R (row stride W, each row
 * repeated to fill W). Level 1 is read from the inputs y, and then tot[d] receives row d's total
 * (the child's zero-suffix value). */
DP_CLONES static void FN(load_rows)(const dp_ctx *c, uint64_t a2, uint64_t j, CT *R, uint32_t W,
                                    WT *tot)
{
    const uint32_t q = c->q;
    const uint64_t Bm = c->P[c->m] + 1;
    for (uint32_t d = 0; d < q; d++) {
        CT *r = R + (size_t)d * W;
        const uint64_t child = (uint64_t)q * a2 + 1 + d;
        if (c->m == 1) { /* four at a time through vector conversions */
            const WT *src = (const WT *)c->y + child * q + 1;
            FN(wvec4) a = {0};
            uint32_t u = 0;
            for (; u + 4 <= q; u += 4) {
                FN(wvec4) w;
                memcpy(&w, src + u, sizeof w);
                a += w;
                const FN(cvec4) n4 = __builtin_convertvector(w, FN(cvec4));
                memcpy(r + u, &n4, sizeof n4);
            }
            WT sum = (a[0] + a[1]) + (a[2] + a[3]);
            for (; u < q; u++) {
                r[u] = (CT)src[u];
                sum += src[u];
            }
            tot[d] = sum;
        } else {
            memcpy(r, (const CT *)c->src + (child * Bm + j) * q, q * sizeof *r);
        }
        for (uint32_t x = q; x < W; x += q)
            memcpy(r + x, r, (W - x < q ? W - x : q) * sizeof *r);
    }
}

/* s[0..n) summed four lanes at a time (for integers the same sum in any order). */
static WT FN(sum_inputs)(const WT *s, uint32_t n)
{
    FN(wvec4) a = {0};
    uint32_t u = 0;
    for (; u + 4 <= n; u += 4) {
        FN(wvec4) w;
        memcpy(&w, s + u, sizeof w);
        a += w;
    }
    WT r = (a[0] + a[1]) + (a[2] + a[3]);
    for (; u < n; u++)
        r += s[u];
    return r;
}

/* Y(child) = sum of y over the canonical completions of the child prefix: its zero-suffix value. */
static WT FN(zero_total)(const dp_ctx *c, uint64_t child)
{
    const uint32_t q = c->q;
    if (c->m == 1)
        return FN(sum_inputs)((const WT *)c->y + child * q + 1, q);
    const uint64_t Bm = c->P[c->m] + 1;
    return ((const CT *)c->src)[(child * Bm + Bm - 1) * q];
}

/* The q totals in a thread's scratch, after the rows (and the kernel's output row), 8-aligned. */
static WT *FN(scratch_totals)(const dp_ctx *c, CT *scr)
{
    const size_t at = ((size_t)c->q * (c->W + c->QP) * sizeof(CT) + 7) / 8 * 8;
    return (WT *)(void *)((unsigned char *)scr + at);
}

/* The block of the zero child suffix: rows (1,0..0) then zero, from the children's totals Y. */
static void FN(zero_block)(const dp_ctx *c, CT *dst, const WT *Y)
{
    const uint32_t q = c->q;
    WT tot = 0;
    for (uint32_t d = 0; d < q; d++) {
        dst[d] = (CT)Y[d];
        tot += Y[d];
    }
    dst[q] = (CT)tot;
    memset(dst + q + 1, 0, (q - 1) * sizeof *dst);
}

/* One block of the step m -> m + 1: parent prefix a2 (canonical), child suffix slot j. Level 1
 * has two slots, (1) and zero: the block of slot (1) also writes that of the zero slot from the
 * row totals it reads anyway (step_run skips the other). */
static void FN(block)(const dp_ctx *c, uint64_t a2, uint64_t j, CT *scr)
{
    const uint32_t q = c->q;
    const uint64_t Bm = c->P[c->m] + 1, Bn = c->P[c->m + 1] + 1;
    CT *dst = (CT *)c->dst + (a2 * Bn + j * q) * q;
    if (j == Bm - 1) { /* zero child suffix */
        WT *Y = FN(scratch_totals)(c, scr);
        for (uint32_t d = 0; d < q; d++)
            Y[d] = FN(zero_total)(c, (uint64_t)q * a2 + 1 + d);
        FN(zero_block)(c, dst, Y);
        return;
    }
    WT *tot = FN(scratch_totals)(c, scr);
    if (c->mode == MODE_ROT) {
        CT *R = scr, *O = scr + (size_t)q * c->W;
        FN(load_rows)(c, a2, j, R, c->W, tot);
        if (c->QP <= 2 * q) { /* row q - 2's padding ends inside the block */
            FN(radon_rot)(R, c->off, dst, q, O, q, c->QP);
            memcpy(dst + (size_t)(q - 1) * q, O, q * sizeof *dst);
        } else {
            FN(radon_rot)(R, c->off, O, c->QP, O + (size_t)(q - 1) * c->QP, q, c->QP);
            for (uint32_t e = 0; e < q; e++)
                memcpy(dst + (size_t)e * q, O + (size_t)e * c->QP, q * sizeof *dst);
        }
    } else {
        FN(load_rows)(c, a2, j, scr, q, tot);
        FN(radon_gen)(c, scr, dst);
    }
    if (c->m == 1)
        FN(zero_block)(c, dst + (size_t)q * q, tot);
}

/* The zero prefix at level m + 1, child slot j: only z = 0 is ever needed. */
static void FN(zero_prefix)(const dp_ctx *c, uint64_t j)
{
    const uint32_t q = c->q;
    const uint64_t Bm = c->P[c->m] + 1;
    const WT z = ((const WT *)c->zsrc)[j];
    WT *zd = (WT *)c->zdst + j * q;
    if (j == Bm - 1) {
        zd[0] = z;                        /* (1, 0..0): <(0..0,1,w), b> = 1 != 0 */
        zd[1] = z + FN(zero_total)(c, 0); /* zero suffix: everything */
        return;
    }
    for (uint32_t e = 0; e < q; e++) {
        const uint32_t u = c->neg[e];
        zd[e] = z + (c->m == 1 ? ((const WT *)c->y)[1 + u] : (WT)((const CT *)c->src)[j * q + u]);
    }
}

static void FN(step_run)(void *arg, unsigned id, unsigned nthreads)
{
    dp_ctx *c = arg;
    (void)nthreads;
    CT *scr = (CT *)(void *)(c->scratch + id * c->scratch_bytes);
    const uint64_t Bm = c->P[c->m] + 1, An = c->P[c->t - c->m - 1];
    for (;;) {
        const uint64_t i0 = atomic_fetch_add(&c->next, c->chunk);
        if (i0 >= c->items)
            break;
        const uint64_t i1 = i0 + c->chunk < c->items ? i0 + c->chunk : c->items;
        uint64_t a2 = i0 / Bm, j = i0 % Bm;
        for (uint64_t i = i0; i < i1; i++) {
            if (a2 == An)
                FN(zero_prefix)(c, j);
            else if (c->m > 1 || j + 1 < Bm) /* level 1: the zero slot goes with slot (1) */
                FN(block)(c, a2, j, scr);
            if (++j == Bm) {
                j = 0;
                a2++;
            }
        }
    }
}

/* The end, first pass: every row s of level t - 1 (the slots of prefix (1), the zero slot last)
 * gets its zero-prefix value Z[s] added, so that T[v] = L[pos[v]] (the sums stay below n, which
 * the value type holds). Rows in chunks from an atomic counter. */
DP_CLONES static void FN(fold_run)(void *arg, unsigned id, unsigned nthreads)
{
    dp_ctx *c = arg;
    (void)id;
    (void)nthreads;
    const uint32_t q = c->q;
    CT *L = c->dst;
    const WT *Z = c->zsrc;
    for (;;) {
        const uint64_t lo = atomic_fetch_add(&c->next, c->chunk);
        if (lo >= c->items)
            break;
        const uint64_t hi = lo + c->chunk < c->items ? lo + c->chunk : c->items;
        for (uint64_t r = lo; r < hi; r++) {
            CT *row = L + r * q;
            const CT z = (CT)Z[r];
            FN(vec) zz;
            for (uint32_t i = 0; i < VL; i++)
                zz[i] = z;
            uint32_t u = 0;
            for (; u + VL <= q; u += VL) {
                FN(vec) w;
                memcpy(&w, row + u, sizeof w);
                w += zz;
                memcpy(row + u, &w, sizeof w);
            }
            for (; u < q; u++)
                row[u] += z;
        }
    }
}

/* The end, second pass: T[v] = L[pos[v]] for v in [0, k), pos the gather table of the geometry;
 * or (to_est) the unbiased estimate (T[v] - r n) / gap, computed exactly as pinhole_pgr_estimate()
 * does. Each read of L goes to a row the previous one rarely shares, so the reads are prefetched
 * a fixed distance ahead. */
static inline DP_INLINE void FN(gather)(const dp_ctx *c, uint64_t lo, uint64_t hi, const int to_est)
{
    const CT *L = c->src;
    const uint32_t *pos = c->pos;
    WT *T = c->T;
    double *est = c->est;
    const double rn = c->rn, gap = c->gap;
    const uint64_t ahead = hi > GATHER_AHEAD ? hi - GATHER_AHEAD : 0;
    uint64_t v = lo;
    for (; v < ahead; v++) {
        __builtin_prefetch(L + pos[v + GATHER_AHEAD]);
        const CT x = L[pos[v]];
        if (to_est)
            est[v] = (CT_TO_DOUBLE(x) - rn) / gap;
        else
            T[v] = (WT)x;
    }
    for (; v < hi; v++) {
        const CT x = L[pos[v]];
        if (to_est)
            est[v] = (CT_TO_DOUBLE(x) - rn) / gap;
        else
            T[v] = (WT)x;
    }
}

static void FN(gather_run)(void *arg, unsigned id, unsigned nthreads)
{
    dp_ctx *c = arg;
    (void)id;
    (void)nthreads;
    for (;;) {
        const uint64_t lo = atomic_fetch_add(&c->next, c->chunk);
        if (lo >= c->k)
            break;
        const uint64_t hi = lo + c->chunk < c->k ? lo + c->chunk : c->k;
        if (c->est)
            FN(gather)(c, lo, hi, 1);
        else
            FN(gather)(c, lo, hi, 0);
    }
}

/* The vector kernel's row widths and offset table (MODE_ROT), kept in the workspace while the
 * vector width stays the same. */
static int FN(setup_rot)(dp_ctx *c, pinhole_pgr_workspace *ws)
{
    const uint32_t q = c->q;
    /* whole vectors; whole groups of four when that costs at most one vector more */
    c->QP = (q + VL - 1) / VL * VL;
    if (c->QP > 4 * VL && c->QP % (4 * VL) == 3 * VL)
        c->QP += VL;
    c->W = q + c->QP;
    if (!ws->off || ws->off_q != q || ws->off_W != c->W) {
        free(ws->off);
        ws->off_q = 0;
        ws->off = malloc((size_t)q * q * sizeof *ws->off);
        if (!ws->off)
            return PINHOLE_ENOMEM;
        for (uint32_t e = 0; e < q; e++) {
            uint32_t s = 0;
            for (uint32_t d = 0; d < q; d++) {
                ws->off[(size_t)e * q + d] = d * c->W + q - s;
                s += e;
                if (s >= q)
                    s -= q;
            }
        }
        ws->off_q = q;
        ws->off_W = c->W;
    }
    c->off = ws->off;
    c->scratch_bytes =
        ((size_t)q * (c->W + c->QP) * sizeof(CT) + 8 + (size_t)q * sizeof(WT) + 63) / 64 * 64;
    return PINHOLE_OK;
}

static int FN(run)(dp_ctx *c, pinhole_pgr_workspace *ws)
{
    const uint32_t q = c->q, t = c->t;
    if (c->mode == MODE_ROT && t >= 3) { /* t = 2 has no blocks */
        if (FN(setup_rot)(c, ws) != PINHOLE_OK)
            return PINHOLE_ENOMEM;
    } else {
        c->W = q;
        c->QP = 0;
        c->scratch_bytes = ((size_t)q * q * sizeof(CT) + 8 + (size_t)q * sizeof(WT) + 63) / 64 * 64;
    }
    const unsigned nth = pinhole_pool_size(&ws->pool);
    uint64_t maxlev = 2 * (uint64_t)q, maxz = 2;
    for (uint32_t m = 1; m + 2 <= t; m++) {
        const uint64_t n = c->P[t - m - 1] * (c->P[m + 1] + 1) * q;
        maxlev = n > maxlev ? n : maxlev;
        maxz = (c->P[m + 1] + 1) > maxz ? c->P[m + 1] + 1 : maxz;
    }
    /* levels 2..t-1 alternate between two buffers of the largest level's size (level m + 1 goes to
     * buf[m & 1]), and so do their zero-prefix values; all of it stays in the workspace, so a
     * repeated call touches no new page */
    if (ws_grow(&ws->scratch, &ws->scratch_cap, c->scratch_bytes * nth) != PINHOLE_OK ||
        ws_grow(&ws->buf[0], &ws->buf_cap[0], maxlev * sizeof(CT)) != PINHOLE_OK ||
        ws_grow(&ws->buf[1], &ws->buf_cap[1], maxlev * sizeof(CT)) != PINHOLE_OK ||
        ws_grow(&ws->z[0], &ws->z_cap[0], maxz * sizeof(WT)) != PINHOLE_OK ||
        ws_grow(&ws->z[1], &ws->z_cap[1], maxz * sizeof(WT)) != PINHOLE_OK)
        return PINHOLE_ENOMEM;
    c->scratch = ws->scratch;
    WT *Zp = ws->z[0];
    Zp[0] = 0;                     /* f(0_{t-1}, (1), 0): <(0..0,1), (..,1)> = 1 */
    Zp[1] = ((const WT *)c->y)[0]; /* f(0_{t-1}, zero, 0) */
    CT *Lp = NULL;
    for (uint32_t m = 1; m + 2 <= t; m++) {
        const uint64_t An = c->P[t - m - 1], Bm = c->P[m] + 1;
        CT *Ln = ws->buf[m & 1];
        WT *Zn = ws->z[m & 1];
        c->m = m;
        c->src = Lp;
        c->zsrc = Zp;
        c->dst = Ln;
        c->zdst = Zn;
        c->items = (An + 1) * Bm;
        c->chunk = c->items / (64u * nth);
        if (c->chunk == 0)
            c->chunk = 1;
        atomic_store(&c->next, 0);
        pinhole_pool_run(&ws->pool, FN(step_run), c);
        Lp = Ln;
        Zp = Zn;
    }
    if (t == 2) { /* level 1 is read from y elsewhere; make it for the end */
        Lp = ws->buf[0];
        memset(Lp, 0, 2 * (size_t)q * sizeof *Lp);
        WT tot = 0;
        for (uint32_t u = 0; u < q; u++) {
            Lp[u] = (CT)((const WT *)c->y)[1 + u];
            tot += ((const WT *)c->y)[1 + u];
        }
        Lp[q] = (CT)tot;
    }
    c->dst = Lp;
    c->zsrc = Zp;
    c->items = c->P[t - 1] + 1;
    c->chunk = c->items / (16u * nth);
    if (c->chunk < 64)
        c->chunk = 64;
    atomic_store(&c->next, 0);
    pinhole_pool_run(&ws->pool, FN(fold_run), c);
    c->src = Lp;
    c->chunk = c->k / (16u * nth);
    if (c->chunk < 4096)
        c->chunk = 4096;
    atomic_store(&c->next, 0);
    pinhole_pool_run(&ws->pool, FN(gather_run), c);
    return PINHOLE_OK;
}

#undef VL
#undef ADDU
