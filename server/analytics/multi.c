/* Multi-attribute estimation: pair tables, their variances, combined marginals, consistency and
 * the correlation matrix with delta-method standard errors. */
#include "server/analytics/multi.h"
#include "common/error.h"
#include "client/encode.h"
#include "server/estimate/estimate.h"
#include "server/estimate/pgr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void table_free(pinhole_multi_table *t)
{
    free(t->raw);
    free(t->var);
    free(t->joint);
    free(t->hcount);
    free(t->member);
    free(t->hsize);
    memset(t, 0, sizeof *t);
}

void pinhole_multi_est_free(pinhole_multi_est *e)
{
    for (uint32_t p = 0; e->t && p < e->npairs; p++)
        table_free(&e->t[p]);
    free(e->t);
    for (uint32_t j = 0; j < PINHOLE_MULTI_DMAX; j++) {
        free(e->marg[j]);
        free(e->marg_var[j]);
    }
    memset(e, 0, sizeof *e);
}

int pinhole_multi_simulate(const pinhole_multi *mc, const uint32_t *values, pinhole_rng *rng,
                           uint64_t *const *counts)
{
    for (uint32_t j = 0; j < mc->d; j++)
        if (values[j] >= mc->k[j])
            return PINHOLE_ERANGE;
    const uint32_t p = pinhole_rng_uniform(rng, mc->npairs);
    const pinhole_config *c = &mc->pairs[p].mech;
    uint64_t cell;
    uint8_t payload[PINHOLE_PAYLOAD_MAXBYTES];
    int rc = pinhole_multi_cell(mc, p, values, &cell);
    if (rc == PINHOLE_OK)
        rc = pinhole_encode(c, cell, rng, payload, c->payload_bytes);
    if (rc == PINHOLE_OK)
        rc = pinhole_accumulate(c, payload, c->payload_bytes, counts[p]);
    return rc;
}

void pinhole_multi_copula_draw(uint32_t d, const uint32_t *k, double rho, pinhole_rng *rng,
                               uint32_t *values)
{
    const double s = sqrt(1 - rho * rho);
    double z = pinhole_rng_normal(rng);
    for (uint32_t j = 0; j < d; j++) {
        if (j)
            z = rho * z + s * pinhole_rng_normal(rng);
        uint32_t c = 0;
        while (c + 1 < k[j] && z > -1.5 + 3.0 * (c + 1) / k[j])
            c++;
        values[j] = c;
    }
}

/* The pair's estimate (frequencies shifted to total 1) and its variance data. */
static int table_estimate(const pinhole_config *c, const uint64_t *y, pinhole_multi_table *t)
{
    if (c->mechanism != PINHOLE_MECH_PGR)
        return PINHOLE_EUNSUPPORTED;
    const pinhole_pgr *g = &c->u.pgr;
    const uint32_t C = t->rows * t->cols;
    uint64_t n = 0;
    uint32_t nh = 0;
    for (uint64_t h = 0; h < g->K; h++) {
        n += y[h];
        nh += y[h] != 0;
    }
    if (n == 0)
        return PINHOLE_ENOREPORTS;
    t->n = n;
    t->nh = nh;
    t->gap = g->gap;
    t->raw = malloc(C * sizeof *t->raw);
    t->var = malloc(C * sizeof *t->var);
    t->joint = malloc(C * sizeof *t->joint);
    t->hcount = malloc(nh * sizeof *t->hcount);
    t->hsize = calloc(nh, sizeof *t->hsize);
    t->member = malloc((size_t)nh * C);
    uint64_t *T = malloc(C * sizeof *T);
    uint32_t *pts = malloc((size_t)C * g->t * sizeof *pts);
    if (!t->raw || !t->var || !t->joint || !t->hcount || !t->hsize || !t->member || !T || !pts) {
        free(T);
        free(pts);
        return PINHOLE_ENOMEM;
    }
    int rc = pinhole_pgr_reconstruct(g, y, T, PINHOLE_PGR_AUTO);
    if (rc == PINHOLE_OK)
        rc = pinhole_pgr_estimate(g, T, n, t->raw);
    free(T);
    if (rc != PINHOLE_OK) {
        free(pts);
        return rc;
    }
    double total = 0;
    for (uint32_t v = 0; v < C; v++)
        total += t->raw[v] /= (double)n;
    for (uint32_t v = 0; v < C; v++)
        t->raw[v] += (1 - total) / C;
    /* which cells each reported hyperplane holds */
    for (uint32_t v = 0; v < C; v++)
        pinhole_pspace_vector(&g->S, v, pts + (size_t)v * g->t);
    uint32_t hv[PINHOLE_T_MAX];
    for (uint64_t h = 0, i = 0; h < g->K; h++) {
        if (!y[h])
            continue;
        t->hcount[i] = y[h];
        pinhole_pspace_vector(&g->S, h, hv);
        uint8_t *row = t->member + i * C;
        for (uint32_t v = 0; v < C; v++) {
            row[v] = pinhole_pspace_dot(&g->F, hv, pts + (size_t)v * g->t, g->t) == 0;
            t->hsize[i] += row[v];
        }
        i++;
    }
    free(pts);
    return PINHOLE_OK;
}

double pinhole_multi_functional_var(const pinhole_multi_est *e, uint32_t p, const double *c)
{
    if (p >= e->npairs)
        return NAN;
    const pinhole_multi_table *t = &e->t[p];
    const uint32_t C = t->rows * t->cols;
    double cbar = 0, mean = 0, s2 = 0;
    for (uint32_t v = 0; v < C; v++)
        cbar += c[v];
    cbar /= C;
    for (uint32_t v = 0; v < C; v++)
        mean += (c[v] - cbar) * t->raw[v];
    for (uint32_t i = 0; i < t->nh; i++) {
        const uint8_t *row = t->member + (size_t)i * C;
        double z = -cbar * t->hsize[i];
        for (uint32_t v = 0; v < C; v++)
            z += row[v] ? c[v] : 0;
        z /= t->gap;
        s2 += (double)t->hcount[i] * z * z;
    }
    const double n = (double)t->n, var = (s2 / n - mean * mean) / n;
    return var > 0 ? var : 0;
}

uint32_t pinhole_multi_table_of(const pinhole_multi_est *e, uint32_t a, uint32_t b, int *a_is_row)
{
    if (a == b || a >= e->d || b >= e->d)
        return UINT32_MAX;
    const uint32_t j = a < b ? a : b, l = a < b ? b : a;
    *a_is_row = a == j;
    /* pairs of rows 0..j-1 come first: sum_{i<j} (d - 1 - i) */
    return j * (e->d - 1) - j * (j - 1) / 2 + (l - j - 1);
}

/* Add w f(a) to c (rows x cols) along attribute `attr` of table t: f indexed by that attribute's
 * value. */
static void add_along(const pinhole_multi_table *t, int along_rows, const double *f, double w,
                      double *c)
{
    for (uint32_t a = 0; a < t->rows; a++)
        for (uint32_t b = 0; b < t->cols; b++)
            c[a * t->cols + b] += w * f[along_rows ? a : b];
}

/* The table's marginal of its row (rows = 1) or column attribute, and each value's variance. */
static void table_marginal(const pinhole_multi_est *e, uint32_t p, int rows, double *m, double *mv,
                           double *work)
{
    const pinhole_multi_table *t = &e->t[p];
    const uint32_t kk = rows ? t->rows : t->cols;
    double unit[PINHOLE_MULTI_KMAX];
    for (uint32_t a = 0; a < kk; a++) {
        memset(unit, 0, kk * sizeof *unit);
        unit[a] = 1;
        memset(work, 0, (size_t)t->rows * t->cols * sizeof *work);
        add_along(t, rows, unit, 1, work);
        m[a] = 0;
        for (uint32_t v = 0; v < t->rows * t->cols; v++)
            m[a] += work[v] * t->raw[v];
        mv[a] = pinhole_multi_functional_var(e, p, work);
    }
}

static int combine_marginals(pinhole_multi_est *e)
{
    double *work = malloc(PINHOLE_MULTI_CELLMAX * sizeof *work);
    double *m = malloc(2 * PINHOLE_MULTI_KMAX * sizeof *m);
    if (!work || !m) {
        free(work);
        free(m);
        return PINHOLE_ENOMEM;
    }
    double *mv = m + PINHOLE_MULTI_KMAX;
    for (uint32_t j = 0; j < e->d; j++) {
        e->marg[j] = calloc(e->k[j], sizeof *e->marg[j]);
        e->marg_var[j] = calloc(e->k[j], sizeof *e->marg_var[j]);
        if (!e->marg[j] || !e->marg_var[j]) {
            free(work);
            free(m);
            return PINHOLE_ENOMEM;
        }
    }
    /* weights: 1 / (sum of the marginal's variances), normalised over the attribute's tables */
    double wsum[PINHOLE_MULTI_DMAX] = {0};
    for (uint32_t p = 0; p < e->npairs; p++) {
        pinhole_multi_table *t = &e->t[p];
        for (int side = 1; side >= (e->d == 1 ? 1 : 0); side--) {
            table_marginal(e, p, side, m, mv, work);
            const uint32_t kk = side ? t->rows : t->cols;
            double vs = 0;
            for (uint32_t a = 0; a < kk; a++)
                vs += mv[a];
            const double w = vs > 0 ? 1 / vs : 1;
            *(side ? &t->wj : &t->wl) = w;
            wsum[side ? t->j : t->l] += w;
        }
    }
    for (uint32_t p = 0; p < e->npairs; p++) {
        pinhole_multi_table *t = &e->t[p];
        t->wj /= wsum[t->j];
        if (e->d > 1)
            t->wl /= wsum[t->l];
        for (int side = 1; side >= (e->d == 1 ? 1 : 0); side--) {
            table_marginal(e, p, side, m, mv, work);
            const uint32_t attr = side ? t->j : t->l, kk = e->k[attr];
            const double w = side ? t->wj : t->wl;
            for (uint32_t a = 0; a < kk; a++) {
                e->marg[attr][a] += w * m[a];
                e->marg_var[attr][a] += w * w * mv[a];
            }
        }
    }
    free(work);
    free(m);
    return PINHOLE_OK;
}

/* Project each table onto the combined marginals (rows, then columns); totals are kept. */
static void make_consistent(pinhole_multi_est *e)
{
    for (uint32_t p = 0; p < e->npairs; p++) {
        pinhole_multi_table *t = &e->t[p];
        const uint32_t R = t->rows, C = t->cols;
        memcpy(t->joint, t->raw, (size_t)R * C * sizeof *t->joint);
        if (e->d == 1) {
            memcpy(t->joint, e->marg[0], R * sizeof *t->joint);
            continue;
        }
        for (uint32_t a = 0; a < R; a++) {
            double s = 0;
            for (uint32_t b = 0; b < C; b++)
                s += t->joint[a * C + b];
            for (uint32_t b = 0; b < C; b++)
                t->joint[a * C + b] += (e->marg[t->j][a] - s) / C;
        }
        for (uint32_t b = 0; b < C; b++) {
            double s = 0;
            for (uint32_t a = 0; a < R; a++)
                s += t->joint[a * C + b];
            for (uint32_t a = 0; a < R; a++)
                t->joint[a * C + b] += (e->marg[t->l][b] - s) / R;
        }
    }
}

int pinhole_multi_estimate(const pinhole_multi *mc, const uint64_t *const *counts,
                           pinhole_multi_est *e)
{
    memset(e, 0, sizeof *e);
    e->t = calloc(mc->npairs, sizeof *e->t);
    if (!e->t)
        return PINHOLE_ENOMEM;
    e->d = mc->d;
    e->npairs = mc->npairs;
    memcpy(e->k, mc->k, mc->d * sizeof *mc->k);
    int rc = PINHOLE_OK;
    for (uint32_t p = 0; rc == PINHOLE_OK && p < mc->npairs; p++) {
        pinhole_multi_table *t = &e->t[p];
        pinhole_multi_pair(mc, p, &t->j, &t->l);
        t->rows = mc->k[t->j];
        t->cols = mc->d == 1 ? 1 : mc->k[t->l];
        rc = table_estimate(&mc->pairs[p].mech, counts[p], t);
        if (rc == PINHOLE_OK) {
            double *unit = calloc((size_t)t->rows * t->cols, sizeof *unit);
            if (!unit) {
                rc = PINHOLE_ENOMEM;
                break;
            }
            for (uint32_t v = 0; v < t->rows * t->cols; v++) {
                unit[v] = 1;
                t->var[v] = pinhole_multi_functional_var(e, p, unit);
                unit[v] = 0;
            }
            free(unit);
        }
    }
    if (rc == PINHOLE_OK)
        rc = combine_marginals(e);
    if (rc != PINHOLE_OK) {
        pinhole_multi_est_free(e);
        return rc;
    }
    make_consistent(e);
    return PINHOLE_OK;
}

/* ---- correlation ---- */

void pinhole_multi_corr_free(pinhole_multi_corr *c)
{
    free(c->attr);
    free(c->r);
    free(c->se);
    free(c->cross);
    memset(c, 0, sizeof *c);
}

typedef struct moments {
    double s[PINHOLE_MULTI_KMAX], s2[PINHOLE_MULTI_KMAX]; /* scores and their squares */
    double mu, nu, sd;
} moments;

/* Delta-method variance of rho_jl: the gradient pulled back onto every table feeding it. */
static double rho_variance(const pinhole_multi_est *e, uint32_t j, uint32_t l, const moments *mj,
                           const moments *ml, double rho, double *c)
{
    const double gm = 1 / (mj->sd * ml->sd);
    const double gmu_j = -ml->mu * gm + rho * mj->mu / (mj->sd * mj->sd);
    const double gnu_j = -rho / (2 * mj->sd * mj->sd);
    const double gmu_l = -mj->mu * gm + rho * ml->mu / (ml->sd * ml->sd);
    const double gnu_l = -rho / (2 * ml->sd * ml->sd);
    double fj[PINHOLE_MULTI_KMAX], fl[PINHOLE_MULTI_KMAX];
    for (uint32_t a = 0; a < e->k[j]; a++)
        fj[a] = gmu_j * mj->s[a] + gnu_j * mj->s2[a];
    for (uint32_t b = 0; b < e->k[l]; b++)
        fl[b] = gmu_l * ml->s[b] + gnu_l * ml->s2[b];
    double var = 0;
    for (uint32_t q = 0; q < e->npairs; q++) {
        const pinhole_multi_table *t = &e->t[q];
        const int hj = t->j == j || t->l == j, hl = t->j == l || t->l == l;
        if (!hj && !hl)
            continue;
        memset(c, 0, (size_t)t->rows * t->cols * sizeof *c);
        if (hj)
            add_along(t, t->j == j, fj, t->j == j ? t->wj : t->wl, c);
        if (hl)
            add_along(t, t->j == l, fl, t->j == l ? t->wj : t->wl, c);
        if (hj && hl) { /* the pair's own table: the cross moment */
            const moments *mr = t->j == j ? mj : ml, *mcol = t->j == j ? ml : mj;
            for (uint32_t a = 0; a < t->rows; a++)
                for (uint32_t b = 0; b < t->cols; b++)
                    c[a * t->cols + b] += gm * mr->s[a] * mcol->s[b];
        }
        var += pinhole_multi_functional_var(e, q, c);
    }
    return var;
}

int pinhole_multi_correlation(const pinhole_multi_est *e, const double *const *scores,
                              const uint8_t *nominal, pinhole_multi_corr *c)
{
    memset(c, 0, sizeof *c);
    if (e->d < 2)
        return PINHOLE_EINVAL;
    moments *mo = calloc(e->d, sizeof *mo);
    double *work = malloc(PINHOLE_MULTI_CELLMAX * sizeof *work);
    c->attr = malloc(e->d * sizeof *c->attr);
    if (!mo || !work || !c->attr) {
        free(mo);
        free(work);
        pinhole_multi_corr_free(c);
        return PINHOLE_ENOMEM;
    }
    int rc = PINHOLE_OK;
    for (uint32_t j = 0; j < e->d; j++) {
        if (nominal && nominal[j] && e->k[j] > 2)
            continue;
        moments *m = &mo[j];
        for (uint32_t a = 0; a < e->k[j]; a++) {
            m->s[a] = scores && scores[j] ? scores[j][a] : a;
            if (!isfinite(m->s[a]))
                rc = PINHOLE_EINVAL;
            m->s2[a] = m->s[a] * m->s[a];
            m->mu += m->s[a] * e->marg[j][a];
            m->nu += m->s2[a] * e->marg[j][a];
        }
        const double v = m->nu - m->mu * m->mu;
        if (!(v > 0))
            rc = PINHOLE_EINVAL;
        m->sd = sqrt(v);
        c->attr[c->n++] = j;
    }
    const uint32_t n = c->n;
    if (rc == PINHOLE_OK && n < 2)
        rc = PINHOLE_EINVAL;
    if (rc == PINHOLE_OK) {
        c->r = calloc((size_t)n * n, sizeof *c->r);
        c->se = calloc((size_t)n * n, sizeof *c->se);
        c->cross = calloc((size_t)n * n, sizeof *c->cross);
        if (!c->r || !c->se || !c->cross)
            rc = PINHOLE_ENOMEM;
    }
    for (uint32_t x = 0; rc == PINHOLE_OK && x < n; x++) {
        c->r[x * n + x] = 1;
        for (uint32_t y = x + 1; y < n; y++) {
            const uint32_t j = c->attr[x], l = c->attr[y];
            int jrow;
            const pinhole_multi_table *t = &e->t[pinhole_multi_table_of(e, j, l, &jrow)];
            const moments *mr = jrow ? &mo[j] : &mo[l], *mcol = jrow ? &mo[l] : &mo[j];
            double cross = 0;
            for (uint32_t a = 0; a < t->rows; a++)
                for (uint32_t b = 0; b < t->cols; b++)
                    cross += mr->s[a] * mcol->s[b] * t->raw[a * t->cols + b];
            const double rho = (cross - mo[j].mu * mo[l].mu) / (mo[j].sd * mo[l].sd);
            const double se = sqrt(rho_variance(e, j, l, &mo[j], &mo[l], rho, work));
            c->r[x * n + y] = c->r[y * n + x] = rho;
            c->se[x * n + y] = c->se[y * n + x] = se;
            c->cross[x * n + y] = c->cross[y * n + x] = cross;
        }
    }
    free(mo);
    free(work);
    if (rc != PINHOLE_OK)
        pinhole_multi_corr_free(c);
    return rc;
}
