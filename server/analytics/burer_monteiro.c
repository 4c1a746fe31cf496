/* Burer-Monteiro Riemannian gradient descent on the oblique manifold, its LAPACK certificate, and
 * the nearest-correlation and MaxCut (Goemans-Williamson) jobs built on it. */
#include "server/analytics/burer_monteiro.h"
#include "common/error.h"
#include "common/rng.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK's symmetric eigensolver (relatively robust representations). Reference LAPACK ships no C
 * prototype for the Fortran symbol, so it is declared here; the three trailing size_t arguments are
 * the hidden lengths of the character arguments that gfortran passes by value. */
extern void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n, double *a,
                    const int *lda, const double *vl, const double *vu, const int *il,
                    const int *iu, const double *abstol, int *m, double *w, double *z,
                    const int *ldz, int *isuppz, double *work, const int *lwork, int *iwork,
                    const int *liwork, int *info, size_t jobz_len, size_t range_len,
                    size_t uplo_len);

/* The q smallest eigenvalues of the symmetric n x n matrix s (row-major, upper triangle read) into
 * w[0..q) ascending and, if z != NULL, unit eigenvectors into z (vector k at z + k n). */
static int eig_lowest(uint32_t n, const double *s, uint32_t q, double *w, double *z)
{
    const int N = (int)n, one = 1, Q = (int)q, query = -1;
    const double zero = 0, abstol = DBL_MIN; /* safe minimum: the most accurate eigenvalues */
    int m = 0, info = 0, iwq = 0;
    double wq = 0;
    double *a = malloc((size_t)n * n * sizeof *a), *wall = malloc((size_t)n * sizeof *wall);
    int *isuppz = malloc((size_t)2 * q * sizeof *isuppz);
    double zdummy = 0;
    if (!a || !wall || !isuppz) {
        free(a), free(wall), free(isuppz);
        return PINHOLE_ENOMEM;
    }
    /* Row-major upper triangle = column-major lower triangle ('L'). */
    memcpy(a, s, (size_t)n * n * sizeof *a);
    const char *jobz = z ? "V" : "N";
    double *zz = z ? z : &zdummy;
    dsyevr_(jobz, "I", "L", &N, a, &N, &zero, &zero, &one, &Q, &abstol, &m, wall, zz, &N, isuppz,
            &wq, &query, &iwq, &query, &info, 1, 1, 1);
    int rc = PINHOLE_EUNSUPPORTED;
    if (info == 0) {
        const int lwork = (int)wq + 1, liwork = iwq + 1;
        double *work = malloc((size_t)lwork * sizeof *work);
        int *iwork = malloc((size_t)liwork * sizeof *iwork);
        if (!work || !iwork) {
            rc = PINHOLE_ENOMEM;
        } else {
            dsyevr_(jobz, "I", "L", &N, a, &N, &zero, &zero, &one, &Q, &abstol, &m, wall, zz, &N,
                    isuppz, work, &lwork, iwork, &liwork, &info, 1, 1, 1);
            if (info == 0 && m == Q) {
                memcpy(w, wall, (size_t)q * sizeof *w);
                rc = PINHOLE_OK;
            }
        }
        free(work), free(iwork);
    }
    free(a), free(wall), free(isuppz);
    return rc;
}

int pinhole_eig_min(uint32_t n, const double *s, double *lambda, double *vec)
{
    if (n == 0 || n > PINHOLE_BM_MAXN || !s || !lambda)
        return PINHOLE_EINVAL;
    return eig_lowest(n, s, 1, lambda, vec);
}

/* Solver state: V is n x P row-major with P = the largest rank allowed; columns >= p are zero. */
typedef struct bm_state {
    uint32_t n, p, P;
    pinhole_bm_cost_fn cost;
    void *ctx;
    double *v, *vn, *vprev, *x, *g, *e, *r, *rprev, *u;
} bm_state;

/* x = V V^T */
static void gram(const bm_state *st, const double *v)
{
    const uint32_t n = st->n, P = st->P, p = st->p;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i; j < n; j++) {
            double s = 0;
            for (uint32_t k = 0; k < p; k++)
                s += v[(size_t)i * P + k] * v[(size_t)j * P + k];
            st->x[(size_t)i * n + j] = st->x[(size_t)j * n + i] = s;
        }
}

static int eval(bm_state *st, const double *v, double *f)
{
    gram(st, v);
    int rc = st->cost(st->ctx, st->n, st->x, f, st->g);
    if (rc == 0 && !isfinite(*f))
        rc = PINHOLE_EINVAL;
    return rc;
}

/* e = 2 G V (Euclidean gradient of f(V V^T)), r = its projection on the tangent space at V;
 * returns ||r||_F. */
static double gradients(bm_state *st)
{
    const uint32_t n = st->n, P = st->P, p = st->p;
    memset(st->e, 0, (size_t)n * P * sizeof *st->e);
    for (uint32_t i = 0; i < n; i++) {
        double *ei = st->e + (size_t)i * P;
        for (uint32_t j = 0; j < n; j++) {
            const double gij = 2 * st->g[(size_t)i * n + j];
            const double *vj = st->v + (size_t)j * P;
            for (uint32_t k = 0; k < p; k++)
                ei[k] += gij * vj[k];
        }
    }
    double nn = 0;
    for (uint32_t i = 0; i < n; i++) {
        const double *ei = st->e + (size_t)i * P, *vi = st->v + (size_t)i * P;
        double *ri = st->r + (size_t)i * P;
        double d = 0;
        for (uint32_t k = 0; k < p; k++)
            d += ei[k] * vi[k];
        for (uint32_t k = 0; k < P; k++) {
            ri[k] = k < p ? ei[k] - d * vi[k] : 0;
            nn += ri[k] * ri[k];
        }
    }
    return sqrt(nn);
}

/* Normalise every row of v (the retraction onto the oblique manifold). A zero row (possible only
 * after a degenerate step) becomes e_1. */
static void normalize_rows(const bm_state *st, double *v)
{
    for (uint32_t i = 0; i < st->n; i++) {
        double *vi = v + (size_t)i * st->P, s = 0;
        for (uint32_t k = 0; k < st->p; k++)
            s += vi[k] * vi[k];
        if (s > 0) {
            s = 1 / sqrt(s);
            for (uint32_t k = 0; k < st->p; k++)
                vi[k] *= s;
        } else {
            vi[0] = 1;
        }
    }
}

static double inner(const double *a, const double *b, size_t len)
{
    double s = 0;
    for (size_t i = 0; i < len; i++)
        s += a[i] * b[i];
    return s;
}

/* The certificate at the current point (G evaluated at V, e = 2GV): S = G - Diag(lambda) with
 * lambda_i = <(GV)_i, V_i>; writes the q smallest eigenvalues of S into w (lambda_min = w[0]) and
 * their eigenvectors into st->u (vector k at u + k n). */
static int certificate(bm_state *st, uint32_t q, double *w)
{
    const uint32_t n = st->n, P = st->P;
    double *S = malloc((size_t)n * n * sizeof *S);
    if (!S)
        return PINHOLE_ENOMEM;
    memcpy(S, st->g, (size_t)n * n * sizeof *S);
    for (uint32_t i = 0; i < n; i++)
        S[(size_t)i * n + i] -= 0.5 * inner(st->e + (size_t)i * P, st->v + (size_t)i * P, st->p);
    int rc = eig_lowest(n, S, q, w, st->u);
    free(S);
    return rc;
}

/* Raise the rank by `count` columns, column c + k along the eigenvector u_k of a negative
 * eigenvalue of S: V <- [V, alpha u_0, .., alpha u_{count-1}], rows renormalised, alpha halved
 * until f decreases (along such directions f decreases to second order, by alpha^2 u^T S u). Leaves
 * G evaluated at the new V. */
static int escape(bm_state *st, uint32_t count, double *f)
{
    const uint32_t n = st->n, P = st->P, c = st->p;
    st->p += count;
    double fn = *f;
    for (double alpha = 1; alpha > 1e-8; alpha *= 0.5) {
        memcpy(st->vn, st->v, (size_t)n * P * sizeof *st->vn);
        for (uint32_t k = 0; k < count; k++)
            for (uint32_t i = 0; i < n; i++)
                st->vn[(size_t)i * P + c + k] = alpha * st->u[(size_t)k * n + i];
        normalize_rows(st, st->vn);
        int rc = eval(st, st->vn, &fn);
        if (rc)
            return rc;
        if (fn < *f) {
            double *t = st->v;
            st->v = st->vn, st->vn = t;
            *f = fn;
            return PINHOLE_OK;
        }
    }
    /* no decrease found: keep the old point (the new columns stay zero) */
    return eval(st, st->v, f);
}

static uint32_t default_rank(uint32_t n)
{
    uint32_t p = 1;
    while ((uint64_t)p * (p + 1) / 2 <= n)
        p++;
    return p < n ? p : n;
}

/* The solver; if v_out != NULL, *v_out receives the final V (n x *stride, row-major, columns >=
 * rank zero; the caller frees it). */
static int bm_run(uint32_t n, pinhole_bm_cost_fn cost, void *ctx, const pinhole_bm_options *opt,
                  double *x_out, pinhole_bm_result *res, double **v_out, uint32_t *stride)
{
    static const pinhole_bm_options defaults = {0};
    if (!opt)
        opt = &defaults;
    if (n == 0 || n > PINHOLE_BM_MAXN || !cost || !x_out || !res || opt->rank > n ||
        !(opt->grad_tol >= 0) || !isfinite(opt->grad_tol))
        return PINHOLE_EINVAL;
    const uint32_t p0 = opt->rank ? opt->rank : default_rank(n);
    const uint32_t max_escapes = opt->keep_rank ? 0 : opt->escapes ? opt->escapes : n;
    const uint32_t max_iter = opt->max_iter ? opt->max_iter : 20000;
    const double tol = opt->grad_tol > 0 ? opt->grad_tol : 1e-10;
    const uint32_t P = p0 + max_escapes < n ? p0 + max_escapes : n;
    bm_state st = {.n = n, .p = p0, .P = P, .cost = cost, .ctx = ctx};
    const size_t nv = (size_t)n * P, nn = (size_t)n * n;
    st.v = calloc(nv, sizeof *st.v), st.vn = calloc(nv, sizeof *st.vn);
    st.vprev = calloc(nv, sizeof *st.vprev), st.e = calloc(nv, sizeof *st.e);
    st.r = calloc(nv, sizeof *st.r), st.rprev = calloc(nv, sizeof *st.rprev);
    st.x = calloc(nn, sizeof *st.x), st.g = calloc(nn, sizeof *st.g);
    st.u = calloc(nv, sizeof *st.u);
    double *eigw = calloc(P, sizeof *eigw);
    int rc = PINHOLE_ENOMEM;
    if (!st.v || !st.vn || !st.vprev || !st.e || !st.r || !st.rprev || !st.x || !st.g || !st.u ||
        !eigw)
        goto out;

    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, opt->seed);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < p0; k++)
            st.v[(size_t)i * P + k] = pinhole_rng_normal(&rng);
    pinhole_rng_wipe(&rng);
    normalize_rows(&st, st.v);

    enum { HISTORY = 10 };
    double f, hist[HISTORY], gnorm = 0, lmin = NAN;
    uint32_t iter = 0, escapes = 0, since_reset = 0;
    if ((rc = eval(&st, st.v, &f)))
        goto out;
    for (int h = 0; h < HISTORY; h++)
        hist[h] = f;
    for (;;) {
        gnorm = gradients(&st);
        if (!isfinite(gnorm)) {
            rc = PINHOLE_EINVAL;
            goto out;
        }
        if (gnorm > tol && iter < max_iter) {
            /* Barzilai-Borwein step, alternating the two formulas; 1/||r|| when unavailable. */
            double t = 1 / gnorm;
            if (since_reset > 0) {
                double ss = 0, sy = 0, yy = 0;
                for (size_t i = 0; i < nv; i++) {
                    const double s = st.v[i] - st.vprev[i], y = st.r[i] - st.rprev[i];
                    ss += s * s, sy += s * y, yy += y * y;
                }
                if (sy > 0)
                    t = (iter & 1) ? ss / sy : sy / yy;
                t = fmin(fmax(t, 1e-12), 1e12);
            }
            double fref = hist[0];
            for (int h = 1; h < HISTORY; h++)
                fref = fmax(fref, hist[h]);
            memcpy(st.vprev, st.v, nv * sizeof *st.v);
            memcpy(st.rprev, st.r, nv * sizeof *st.r);
            double fn = f;
            int accepted = 0;
            for (int bt = 0; bt < 60 && !accepted; bt++, t *= 0.5) {
                for (size_t i = 0; i < nv; i++)
                    st.vn[i] = st.v[i] - t * st.r[i];
                normalize_rows(&st, st.vn);
                if ((rc = eval(&st, st.vn, &fn)))
                    goto out;
                accepted = fn <= fref - 1e-4 * t * gnorm * gnorm;
            }
            if (accepted) {
                double *tmp = st.v;
                st.v = st.vn, st.vn = tmp;
                f = fn;
                hist[iter % HISTORY] = f;
                iter++, since_reset++;
                if (opt->progress && iter % 10 == 0 &&
                    opt->progress(opt->progress_ctx, iter, max_iter, f)) {
                    gnorm = gradients(&st);
                    rc = PINHOLE_ECANCELED;
                    goto finish;
                }
                continue;
            }
            /* no step decreases f numerically: G holds a rejected trial, evaluate V again */
            if ((rc = eval(&st, st.v, &f)))
                goto out;
            gnorm = gradients(&st);
        }
        /* with room to climb, ask for up to max(1, p/2) eigenpairs: a quadratic cost's optimum can
         * be far above the current rank, and one column per round would be slow to get there */
        const int can_escape = escapes < max_escapes && st.p < P && iter < max_iter;
        uint32_t q = can_escape ? (st.p / 2 > 1 ? st.p / 2 : 1) : 1;
        if (q > P - st.p && can_escape)
            q = P - st.p;
        if ((rc = certificate(&st, q, eigw)))
            goto out;
        lmin = eigw[0];
        double gmax = 0;
        for (size_t i = 0; i < nn; i++)
            gmax = fmax(gmax, fabs(st.g[i]));
        const double thr = -1e-9 * (1 + gmax);
        if (lmin < thr && can_escape) {
            uint32_t count = 0;
            while (count < q && eigw[count] < thr)
                count++;
            if ((rc = escape(&st, count, &f)))
                goto out;
            escapes++;
            since_reset = 0;
            for (int h = 0; h < HISTORY; h++)
                hist[h] = f;
            continue;
        }
        break;
    }
    rc = PINHOLE_OK;
finish:
    gram(&st, st.v);
    memcpy(x_out, st.x, nn * sizeof *x_out);
    res->value = f;
    res->grad_norm = gnorm;
    res->lambda_min = rc == PINHOLE_OK ? lmin : NAN;
    res->gap_bound = rc == PINHOLE_OK ? n * fmax(0, -lmin) : NAN;
    res->rank = st.p;
    res->iterations = iter;
    res->escapes = escapes;
    if (v_out) {
        *v_out = st.v, *stride = P;
        st.v = NULL;
    }
out:
    free(st.v), free(st.vn), free(st.vprev), free(st.e), free(st.r), free(st.rprev);
    free(st.x), free(st.g), free(st.u), free(eigw);
    return rc;
}

int pinhole_bm_solve(uint32_t n, pinhole_bm_cost_fn cost, void *ctx, const pinhole_bm_options *opt,
                     double *x_out, pinhole_bm_result *res)
{
    return bm_run(n, cost, ctx, opt, x_out, res, NULL, NULL);
}

int pinhole_check_symmetric(uint32_t n, const double *a)
{
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i; j < n; j++) {
            const double x = a[(size_t)i * n + j], y = a[(size_t)j * n + i];
            if (!isfinite(x) || !isfinite(y) || fabs(x - y) > 1e-12 * fmax(1, fabs(x) + fabs(y)))
                return PINHOLE_EINVAL;
        }
    return PINHOLE_OK;
}

/* f(X) = ||X - A||_F^2 over the off-diagonal (the diagonal of X is fixed at 1), grad = 2(X - A). */
static int ncm_cost(void *ctx, uint32_t n, const double *x, double *f, double *g)
{
    const double *a = ctx;
    double s = 0;
    for (size_t i = 0; i < (size_t)n * n; i++) {
        const double d = x[i] - a[i];
        g[i] = 2 * d;
        s += d * d;
    }
    for (uint32_t i = 0; i < n; i++) { /* the diagonal is constant: leave it out of f */
        const double d = x[(size_t)i * n + i] - a[(size_t)i * n + i];
        s -= d * d;
    }
    *f = s;
    return 0;
}

int pinhole_nearest_correlation(uint32_t n, const double *a, const pinhole_bm_options *opt,
                                double *x_out, pinhole_bm_result *res)
{
    if (n == 0 || n > PINHOLE_BM_MAXN || !a || !x_out || !res)
        return PINHOLE_EINVAL;
    int rc = pinhole_check_symmetric(n, a);
    if (rc)
        return rc;
    return pinhole_bm_solve(n, ncm_cost, (void *)a, opt, x_out, res);
}

/* f(X) = <W, X>/4 over the off-diagonal, grad = W/4 with a zero diagonal. */
static int maxcut_cost(void *ctx, uint32_t n, const double *x, double *f, double *g)
{
    const double *w = ctx;
    double s = 0;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n; j++) {
            const double c = i == j ? 0 : 0.25 * w[(size_t)i * n + j];
            g[(size_t)i * n + j] = c;
            s += c * x[(size_t)i * n + j];
        }
    *f = s;
    return 0;
}

/* Weight of the cut given by side[] (edges i < j with side_i != side_j). */
static double cut_weight(uint32_t n, const double *w, const int8_t *side)
{
    double s = 0;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++)
            if (side[i] != side[j])
                s += w[(size_t)i * n + j];
    return s;
}

int pinhole_maxcut(uint32_t n, const double *w, const pinhole_bm_options *opt, uint32_t rounds,
                   int8_t *side_out, double *x_out, pinhole_maxcut_result *res)
{
    static const pinhole_bm_options defaults = {0};
    if (!opt)
        opt = &defaults;
    if (n == 0 || n > PINHOLE_BM_MAXN || !w || !side_out || !res)
        return PINHOLE_EINVAL;
    int rc = pinhole_check_symmetric(n, w);
    if (rc)
        return rc;
    if (rounds == 0)
        rounds = 100;
    double *x = malloc((size_t)n * n * sizeof *x);
    int8_t *side = malloc(n);
    if (!x || !side) {
        free(x), free(side);
        return PINHOLE_ENOMEM;
    }
    memset(res, 0, sizeof *res);
    double *v = NULL;
    uint32_t P = 0;
    rc = bm_run(n, maxcut_cost, (void *)w, opt, x, &res->bm, &v, &P);
    if (rc && rc != PINHOLE_ECANCELED)
        goto out;
    double total = 0;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++)
            total += w[(size_t)i * n + j];
    res->sdp_value = 0.5 * total - res->bm.value; /* (1/4) sum_{i!=j} w_ij - <W, X>/4 */
    res->sdp_bound = res->sdp_value + res->bm.gap_bound;
    if (rc == PINHOLE_OK) {
        /* Goemans-Williamson: a uniformly random hyperplane through the origin of R^p. */
        pinhole_rng rng;
        pinhole_rng_init_seeded(&rng, opt->seed + 1);
        double *r = malloc((size_t)P * sizeof *r);
        if (!r) {
            rc = PINHOLE_ENOMEM;
            goto out;
        }
        res->cut_value = -INFINITY;
        for (uint32_t t = 0; t < rounds; t++) {
            for (uint32_t k = 0; k < P; k++)
                r[k] = pinhole_rng_normal(&rng);
            for (uint32_t i = 0; i < n; i++)
                side[i] = inner(v + (size_t)i * P, r, P) >= 0 ? 1 : -1;
            const double c = cut_weight(n, w, side);
            if (c > res->cut_value) {
                res->cut_value = c;
                memcpy(side_out, side, n);
            }
        }
        res->rounds = rounds;
        free(r);
        pinhole_rng_wipe(&rng);
    }
    if (x_out)
        memcpy(x_out, x, (size_t)n * n * sizeof *x);
out:
    free(x), free(side), free(v);
    return rc;
}
