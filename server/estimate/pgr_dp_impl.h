/* The typed half of the PGR dynamic program, included by pgr_dp.c once per count type.
 * Before including, define CT (the count type: uint16_t, uint32_t or uint64_t) and FN(name)
 * (the name with the type's suffix). */

typedef CT FN(vec) __attribute__((vector_size(VEC_BYTES)));
#define VL ((uint32_t)(VEC_BYTES / sizeof(CT)))

/* acc += the VL counts at p (unaligned); through memcpy, which compilers turn into one load */
#define ADDU(acc, p)                                                                               \
    do {                                                                                           \
        FN(vec) ld_;                                                                               \
        memcpy(&ld_, (p), sizeof ld_);                                                             \
        (acc) += ld_;                                                                              \
    } while (0)

/* Prime q: O[e QP + u] = sum_d R[off[e q + d] + u] for e < q, u < QP, where row d of R holds h_d
 * repeated, so R[off[e q + d] + u] = h_d[(u - d e) mod q]. Passes of eight vector accumulators,
 * then of four, then of one (QP is a multiple of VL). */
DP_CLONES static void FN(radon_rot)(const CT *restrict R, const uint32_t *restrict off,
                                    CT *restrict O, uint32_t q, uint32_t QP)
{
    const FN(vec) zero = {0};
    for (uint32_t e = 0; e < q; e++) {
        const uint32_t *o = off + (size_t)e * q;
        CT *out = O + (size_t)e * QP;
        uint32_t c = 0;
        for (; c + 8 * VL <= QP; c += 8 * VL) {
            FN(vec) a0 = zero, a1 = zero, a2 = zero, a3 = zero;
            FN(vec) a4 = zero, a5 = zero, a6 = zero, a7 = zero;
            for (uint32_t d = 0; d < q; d++) {
                const CT *p = R + o[d] + c;
                ADDU(a0, p);
                ADDU(a1, p + VL);
                ADDU(a2, p + 2 * VL);
                ADDU(a3, p + 3 * VL);
                ADDU(a4, p + 4 * VL);
                ADDU(a5, p + 5 * VL);
                ADDU(a6, p + 6 * VL);
                ADDU(a7, p + 7 * VL);
            }
            memcpy(out + c, &a0, sizeof a0);
            memcpy(out + c + VL, &a1, sizeof a1);
            memcpy(out + c + 2 * VL, &a2, sizeof a2);
            memcpy(out + c + 3 * VL, &a3, sizeof a3);
            memcpy(out + c + 4 * VL, &a4, sizeof a4);
            memcpy(out + c + 5 * VL, &a5, sizeof a5);
            memcpy(out + c + 6 * VL, &a6, sizeof a6);
            memcpy(out + c + 7 * VL, &a7, sizeof a7);
        }
        for (; c + 4 * VL <= QP; c += 4 * VL) {
            FN(vec) a0 = zero, a1 = zero, a2 = zero, a3 = zero;
            for (uint32_t d = 0; d < q; d++) {
                const CT *p = R + o[d] + c;
                ADDU(a0, p);
                ADDU(a1, p + VL);
                ADDU(a2, p + 2 * VL);
                ADDU(a3, p + 3 * VL);
            }
            memcpy(out + c, &a0, sizeof a0);
            memcpy(out + c + VL, &a1, sizeof a1);
            memcpy(out + c + 2 * VL, &a2, sizeof a2);
            memcpy(out + c + 3 * VL, &a3, sizeof a3);
        }
        for (; c < QP; c += VL) {
            FN(vec) a0 = zero;
            for (uint32_t d = 0; d < q; d++)
                ADDU(a0, R + o[d] + c);
            memcpy(out + c, &a0, sizeof a0);
        }
    }
}

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
 * repeated to fill W). Level 1 is read from the counts y. */
static void FN(load_rows)(const dp_ctx *c, uint64_t a2, uint64_t j, CT *R, uint32_t W)
{
    const uint32_t q = c->q;
    const uint64_t Bm = c->P[c->m] + 1;
    for (uint32_t d = 0; d < q; d++) {
        CT *r = R + (size_t)d * W;
        const uint64_t child = (uint64_t)q * a2 + 1 + d;
        if (c->m == 1) {
            const uint64_t *src = c->y + child * q + 1;
            for (uint32_t u = 0; u < q; u++)
                r[u] = (CT)src[u];
        } else {
            memcpy(r, (const CT *)c->src + (child * Bm + j) * q, q * sizeof *r);
        }
        for (uint32_t x = q; x < W; x += q)
            memcpy(r + x, r, (W - x < q ? W - x : q) * sizeof *r);
    }
}

/* Y(child) = sum of y over the canonical completions of the child prefix: its zero-suffix value. */
static uint64_t FN(zero_total)(const dp_ctx *c, uint64_t child)
{
    const uint32_t q = c->q;
    if (c->m == 1) {
        uint64_t s = 0;
        for (uint32_t u = 0; u < q; u++)
            s += c->y[child * q + 1 + u];
        return s;
    }
    const uint64_t Bm = c->P[c->m] + 1;
    return ((const CT *)c->src)[(child * Bm + Bm - 1) * q];
}

/* One block of the step m -> m + 1: parent prefix a2 (canonical), child suffix slot j. */
static void FN(block)(const dp_ctx *c, uint64_t a2, uint64_t j, CT *scr)
{
    const uint32_t q = c->q;
    const uint64_t Bm = c->P[c->m] + 1, Bn = c->P[c->m + 1] + 1;
    CT *dst = (CT *)c->dst + (a2 * Bn + j * q) * q;
    if (j == Bm - 1) { /* zero child suffix: rows (1,0..0) then zero */
        uint64_t tot = 0;
        for (uint32_t d = 0; d < q; d++) {
            const uint64_t Y = FN(zero_total)(c, (uint64_t)q * a2 + 1 + d);
            dst[d] = (CT)Y;
            tot += Y;
        }
        dst[q] = (CT)tot;
        memset(dst + q + 1, 0, (q - 1) * sizeof *dst);
        return;
    }
    if (c->mode == MODE_ROT) {
        CT *R = scr, *O = scr + (size_t)q * c->W;
        FN(load_rows)(c, a2, j, R, c->W);
        FN(radon_rot)(R, c->off, O, q, c->QP);
        for (uint32_t e = 0; e < q; e++)
            memcpy(dst + (size_t)e * q, O + (size_t)e * c->QP, q * sizeof *dst);
    } else {
        FN(load_rows)(c, a2, j, scr, q);
        FN(radon_gen)(c, scr, dst);
    }
}

/* The zero prefix at level m + 1, child slot j: only z = 0 is ever needed. */
static void FN(zero_prefix)(const dp_ctx *c, uint64_t j)
{
    const uint32_t q = c->q;
    const uint64_t Bm = c->P[c->m] + 1, z = c->zsrc[j];
    uint64_t *zd = c->zdst + j * q;
    if (j == Bm - 1) {
        zd[0] = z;                        /* (1, 0..0): <(0..0,1,w), b> = 1 != 0 */
        zd[1] = z + FN(zero_total)(c, 0); /* zero suffix: everything */
        return;
    }
    for (uint32_t e = 0; e < q; e++) {
        const uint32_t u = c->neg[e];
        zd[e] = z + (c->m == 1 ? c->y[1 + u] : ((const CT *)c->src)[j * q + u]);
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
            else
                FN(block)(c, a2, j, scr);
            if (++j == Bm) {
                j = 0;
                a2++;
            }
        }
    }
}

/* T[v] = f(zero, v, 0) from level t - 1 (prefixes (0) and (1)): for v = (v0, g b'') with b''
 * canonical of slot s and inverse scale si, T = Z[s] + L[s q - v0 g^-1 si]. Field products go
 * through the log tables: lsinv holds log si, negexp[i] = -generator^i. */
static void FN(final_range)(const dp_ctx *c, uint64_t lo, uint64_t hi)
{
    const uint16_t *lg = c->F->log, *ex = c->F->exp, *negexp = c->negexp, *lsinv = c->sinv;
    const uint32_t *slot = c->slot;
    const uint32_t q = c->q;
    const CT *L = c->src;
    const uint64_t *Z = c->zsrc;
    uint64_t *T = c->T;
    const uint64_t Pt1 = c->P[c->t - 1], zs = Pt1; /* slots 0..Pt1, zero last */
    uint64_t v = lo;
    for (; v < hi && v < Pt1; v++) { /* v = (0, b'') */
        const uint64_t s = slot[v];
        T[v] = Z[s] + L[s * q];
    }
    if (v >= hi)
        return;
    /* v = (1, r), r = Pn q + x of length t - 1 */
    const uint64_t r = v - Pt1;
    uint64_t Pn = r / q;
    uint32_t x = (uint32_t)(r % q);
    if (Pn == 0) { /* r = (0..0, x): g = x, b'' = (0..0, 1), slot index 0 */
        for (; v < hi && x < q; v++, x++) {
            if (x == 0) {
                T[v] = Z[zs]; /* v = (1, 0..0) */
                continue;
            }
            const uint32_t lgi = (q - 1 - lg[x]) % (q - 1); /* log of x^-1 */
            const uint64_t s = slot[0];
            T[v] = Z[s] + L[s * q + negexp[lgi + lsinv[0]]];
        }
        x = 0;
        Pn = 1;
    }
    while (v < hi) {
        const uint32_t g = c->nz_g[Pn], lgi = (q - 1 - lg[g]) % (q - 1);
        const uint64_t base = (uint64_t)q * c->nz_idx[Pn] + 1;
        for (; v < hi && x < q; v++, x++) {
            const uint64_t i2 = base + (x ? ex[lg[x] + lgi] : 0);
            const uint64_t s = slot[i2];
            T[v] = Z[s] + L[s * q + negexp[lgi + lsinv[i2]]];
        }
        x = 0;
        Pn++;
    }
}

/* Items in chunks from an atomic counter, so a thread the system delays holds back little. */
static void FN(final_run)(void *arg, unsigned id, unsigned nthreads)
{
    dp_ctx *c = arg;
    (void)id;
    (void)nthreads;
    for (;;) {
        const uint64_t lo = atomic_fetch_add(&c->next, c->chunk);
        if (lo >= c->k)
            break;
        FN(final_range)(c, lo, lo + c->chunk < c->k ? lo + c->chunk : c->k);
    }
}

/* The vector kernel's row widths and offset table (MODE_ROT). */
static int FN(setup_rot)(dp_ctx *c)
{
    const uint32_t q = c->q;
    /* whole vectors; whole groups of four when that costs at most one vector more */
    c->QP = (q + VL - 1) / VL * VL;
    if (c->QP > 4 * VL && c->QP % (4 * VL) == 3 * VL)
        c->QP += VL;
    c->W = q + c->QP;
    c->off = malloc((size_t)q * q * sizeof *c->off);
    if (!c->off)
        return PINHOLE_ENOMEM;
    for (uint32_t e = 0; e < q; e++) {
        uint32_t s = 0;
        for (uint32_t d = 0; d < q; d++) {
            c->off[(size_t)e * q + d] = d * c->W + q - s;
            s += e;
            if (s >= q)
                s -= q;
        }
    }
    c->scratch_bytes = ((size_t)q * (c->W + c->QP) * sizeof(CT) + 63) / 64 * 64;
    return PINHOLE_OK;
}

static int FN(run)(dp_ctx *c, pinhole_pool *pool)
{
    const uint32_t q = c->q, t = c->t;
    const unsigned nth = pinhole_pool_size(pool);
    int rc = PINHOLE_OK;
    if (c->mode == MODE_ROT && t >= 3) { /* t = 2 has no blocks */
        if (FN(setup_rot)(c) != PINHOLE_OK)
            return PINHOLE_ENOMEM;
    } else {
        c->W = q;
        c->scratch_bytes = ((size_t)q * q * sizeof(CT) + 63) / 64 * 64;
    }
    c->scratch = malloc(c->scratch_bytes * nth);
    uint64_t *Zp = malloc(2 * sizeof *Zp);
    if (!c->scratch || !Zp) {
        free(Zp);
        return PINHOLE_ENOMEM;
    }
    Zp[0] = 0;       /* f(0_{t-1}, (1), 0): <(0..0,1), (..,1)> = 1 */
    Zp[1] = c->y[0]; /* f(0_{t-1}, zero, 0) */
    /* levels 2..t-1 alternate between two buffers of the largest level's size, so each page is
     * faulted in once (level m + 1 goes to buf[m & 1]) */
    uint64_t maxlev = 0;
    for (uint32_t m = 1; m + 2 <= t; m++) {
        const uint64_t n = c->P[t - m - 1] * (c->P[m + 1] + 1) * q;
        maxlev = n > maxlev ? n : maxlev;
    }
    CT *buf[2] = {NULL, NULL}, *Lp = NULL;
    for (uint32_t m = 1; m + 2 <= t; m++) {
        const uint64_t An = c->P[t - m - 1], Bm = c->P[m] + 1, Bn = c->P[m + 1] + 1;
        if (!buf[m & 1])
            buf[m & 1] = malloc(maxlev * sizeof(CT));
        CT *Ln = buf[m & 1];
        uint64_t *Zn = malloc(Bn * sizeof *Zn);
        if (!Ln || !Zn) {
            free(Zn);
            rc = PINHOLE_ENOMEM;
            break;
        }
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
        pinhole_pool_run(pool, FN(step_run), c);
        free(Zp);
        Lp = Ln;
        Zp = Zn;
    }
    if (rc == PINHOLE_OK && t == 2) { /* level 1 is read from y elsewhere; make it for the end */
        Lp = buf[0] = calloc(2 * (size_t)q, sizeof *Lp);
        if (!Lp) {
            rc = PINHOLE_ENOMEM;
        } else {
            uint64_t tot = 0;
            for (uint32_t u = 0; u < q; u++) {
                Lp[u] = (CT)c->y[1 + u];
                tot += c->y[1 + u];
            }
            Lp[q] = (CT)tot;
        }
    }
    if (rc == PINHOLE_OK) {
        c->src = Lp;
        c->zsrc = Zp;
        c->chunk = c->k / (64u * nth);
        if (c->chunk < 4096)
            c->chunk = 4096;
        atomic_store(&c->next, 0);
        pinhole_pool_run(pool, FN(final_run), c);
    }
    free(buf[0]);
    free(buf[1]);
    free(Zp);
    return rc;
}

#undef VL
#undef ADDU
