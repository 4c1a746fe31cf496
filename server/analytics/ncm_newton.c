/* Qi-Sun semismooth Newton method for the nearest correlation matrix, with its duality gap. */
#include "server/analytics/ncm_newton.h"
#include "common/error.h"
#include "server/analytics/burer_monteiro.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK's divide-and-conquer symmetric eigensolver and BLAS's matrix product; reference LAPACK and
 * BLAS ship no C prototypes, so they are declared here (trailing size_t: gfortran's hidden
 * character lengths). */
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
                    double *w, double *work, const int *lwork, int *iwork, const int *liwork,
                    int *info, size_t jobz_len, size_t uplo_len);
extern void dgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
                   const double *alpha, const double *a, const int *lda, const double *b,
                   const int *ldb, const double *beta, double *c, const int *ldc, size_t ta_len,
                   size_t tb_len);

typedef struct ncm {
    int n;
    const double *g; /* A with unit diagonal (symmetric, so row- and column-major alike) */
    double *p;       /* eigenvectors of A + Diag y, column-major: vector k at p + k n */
    double *w;       /* eigenvalues, ascending */
    double *work;
    int *iwork;
    int lwork, liwork;
    double *omega, *t1, *t2; /* n x n */
} ncm;

static void gemm(const ncm *s, const char *ta, const double *a, const double *b, double *c)
{
    const double one = 1, zero = 0;
    dgemm_(ta, "N", &s->n, &s->n, &s->n, &one, a, &s->n, b, &s->n, &zero, c, &s->n, 1, 1);
}

/* Eigendecomposition of A + Diag y into s->p, s->w; *theta = 1/2 sum lambda_+^2 - sum y and
 * F = diag((A + Diag y)_+) - 1. */
static int decompose(ncm *s, const double *y, double *theta, double *F)
{
    const int n = s->n;
    memcpy(s->p, s->g, (size_t)n * n * sizeof *s->p);
    for (int i = 0; i < n; i++)
        s->p[(size_t)i * n + i] += y[i];
    int info = 0;
    dsyevd_("V", "L", &n, s->p, &n, s->w, s->work, &s->lwork, s->iwork, &s->liwork, &info, 1, 1);
    if (info != 0)
        return PINHOLE_EUNSUPPORTED;
    double th = 0;
    for (int i = 0; i < n; i++) {
        F[i] = -1;
        th -= y[i];
    }
    for (int k = 0; k < n; k++) {
        const double lk = s->w[k];
        if (lk <= 0)
            continue;
        th += 0.5 * lk * lk;
        const double *pk = s->p + (size_t)k * n;
        for (int i = 0; i < n; i++)
            F[i] += lk * pk[i] * pk[i];
    }
    *theta = th;
    return PINHOLE_OK;
}

/* Omega of the generalized Jacobian (Qi and Sun, §3): 1 where both eigenvalues are positive, 0
 * where neither is, lambda_k / (lambda_k - lambda_l) where only lambda_k is. */
static void make_omega(ncm *s)
{
    const int n = s->n;
    for (int k = 0; k < n; k++)
        for (int l = 0; l < n; l++) {
            const double a = s->w[k], b = s->w[l];
            double o = 0;
            if (a > 0 && b > 0)
                o = 1;
            else if (a > 0)
                o = a / (a - b);
            else if (b > 0)
                o = b / (b - a);
            s->omega[(size_t)l * n + k] = o;
        }
}

/* out = V h + 1e-10 h, V h = diag(P (Omega o (P^T Diag(h) P)) P^T). */
static void jacobian_times(const ncm *s, const double *h, double *out)
{
    const int n = s->n;
    const size_t nn = (size_t)n * n;
    for (int k = 0; k < n; k++)
        for (int i = 0; i < n; i++)
            s->t1[(size_t)k * n + i] = h[i] * s->p[(size_t)k * n + i];
    gemm(s, "T", s->p, s->t1, s->t2); /* t2 = P^T Diag(h) P */
    for (size_t i = 0; i < nn; i++)
        s->t2[i] *= s->omega[i];
    gemm(s, "N", s->p, s->t2, s->t1); /* t1 = P (Omega o ...) */
    for (int i = 0; i < n; i++)
        out[i] = 1e-10 * h[i];
    for (int l = 0; l < n; l++)
        for (int i = 0; i < n; i++)
            out[i] += s->t1[(size_t)l * n + i] * s->p[(size_t)l * n + i];
}

/* Diagonal of V, the conjugate gradients' preconditioner: ((P o P) Omega (P o P)^T)_ii. */
static void jacobian_diagonal(const ncm *s, double *c)
{
    const int n = s->n;
    const size_t nn = (size_t)n * n;
    for (size_t i = 0; i < nn; i++)
        s->t1[i] = s->p[i] * s->p[i];
    gemm(s, "N", s->t1, s->omega, s->t2);
    for (int i = 0; i < n; i++) {
        double v = 0;
        for (int l = 0; l < n; l++)
            v += s->t2[(size_t)l * n + i] * s->t1[(size_t)l * n + i];
        c[i] = v > 1e-8 ? v : 1e-8;
    }
}

/* Solve (V + 1e-10 I) d = -F by preconditioned conjugate gradients to relative residual eta. */
static uint32_t solve_newton(const ncm *s, const double *F, double eta, double *d, double *buf)
{
    const int n = s->n;
    double *r = buf, *z = buf + n, *q = buf + 2 * n, *pd = buf + 3 * n, *c = buf + 4 * n;
    jacobian_diagonal(s, c);
    double rz = 0, f2 = 0;
    for (int i = 0; i < n; i++) {
        d[i] = 0;
        r[i] = -F[i];
        z[i] = r[i] / c[i];
        pd[i] = z[i];
        rz += r[i] * z[i];
        f2 += F[i] * F[i];
    }
    const double stop = eta * eta * f2;
    uint32_t it = 0;
    for (; it < 200; it++) {
        double r2 = 0;
        for (int i = 0; i < n; i++)
            r2 += r[i] * r[i];
        if (r2 <= stop)
            break;
        jacobian_times(s, pd, q);
        double pq = 0;
        for (int i = 0; i < n; i++)
            pq += pd[i] * q[i];
        if (!(pq > 0))
            break;
        const double alpha = rz / pq;
        double rz2 = 0;
        for (int i = 0; i < n; i++) {
            d[i] += alpha * pd[i];
            r[i] -= alpha * q[i];
            z[i] = r[i] / c[i];
            rz2 += r[i] * z[i];
        }
        for (int i = 0; i < n; i++)
            pd[i] = z[i] + rz2 / rz * pd[i];
        rz = rz2;
    }
    return it;
}

static double norm2(const double *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += v[i] * v[i];
    return sqrt(s);
}

/* X = D^{-1/2} (A + Diag y)_+ D^{-1/2} from the current decomposition, row-major, into x. */
static void primal(const ncm *s, double *x, uint32_t *rank)
{
    const int n = s->n;
    double big = 0;
    for (int k = 0; k < n; k++)
        big = fmax(big, fabs(s->w[k]));
    *rank = 0;
    for (int k = 0; k < n; k++) {
        const double lk = s->w[k] > 0 ? s->w[k] : 0;
        *rank += s->w[k] > 1e-12 * n * big;
        for (int i = 0; i < n; i++)
            s->t1[(size_t)k * n + i] = sqrt(lk) * s->p[(size_t)k * n + i];
    }
    const double one = 1, zero = 0;
    dgemm_("N", "T", &s->n, &s->n, &s->n, &one, s->t1, &s->n, s->t1, &s->n, &zero, x, &s->n, 1, 1);
    for (int i = 0; i < n; i++)
        s->t2[i] = sqrt(fmax(x[(size_t)i * n + i], 1e-300));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            x[(size_t)i * n + j] = i == j ? 1 : x[(size_t)i * n + j] / (s->t2[i] * s->t2[j]);
}

int pinhole_ncm_newton(uint32_t un, const double *a, const pinhole_ncm_options *opt, double *x_out,
                       pinhole_ncm_result *res)
{
    static const pinhole_ncm_options defaults = {0};
    if (!opt)
        opt = &defaults;
    if (un == 0 || un > PINHOLE_NCM_MAXN || !a || !x_out || !res || !(opt->tol >= 0) ||
        !isfinite(opt->tol) || pinhole_check_symmetric(un, a) != PINHOLE_OK)
        return PINHOLE_EINVAL;
    const int n = (int)un;
    const size_t nn = (size_t)n * n;
    const uint32_t max_iter = opt->max_iter ? opt->max_iter : 200;
    const double tol = opt->tol > 0 ? opt->tol : 1e-10;
    ncm s = {.n = n};
    double *g = malloc(nn * sizeof *g);
    s.p = malloc(nn * sizeof *s.p);
    s.omega = malloc(nn * sizeof *s.omega);
    s.t1 = malloc(nn * sizeof *s.t1);
    s.t2 = malloc(nn * sizeof *s.t2);
    double *vec = malloc(10 * (size_t)n * sizeof *vec);
    s.w = malloc((size_t)n * sizeof *s.w);
    double wq = 0;
    int iwq = 0, info = 0, query = -1;
    int rc = PINHOLE_ENOMEM;
    if (!g || !s.p || !s.omega || !s.t1 || !s.t2 || !vec || !s.w)
        goto out;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            g[(size_t)i * n + j] = i == j ? 1 : 0.5 * (a[(size_t)i * n + j] + a[(size_t)j * n + i]);
    s.g = g;
    dsyevd_("V", "L", &n, s.p, &n, s.w, &wq, &query, &iwq, &query, &info, 1, 1);
    rc = PINHOLE_EUNSUPPORTED;
    if (info != 0)
        goto out;
    s.lwork = (int)wq + 1;
    s.liwork = iwq + 1;
    s.work = malloc((size_t)s.lwork * sizeof *s.work);
    s.iwork = malloc((size_t)s.liwork * sizeof *s.iwork);
    rc = PINHOLE_ENOMEM;
    if (!s.work || !s.iwork)
        goto out;

    double *y = vec, *F = vec + n, *d = vec + 2 * n, *ytry = vec + 3 * n, *Ftry = vec + 4 * n;
    double *buf = vec + 5 * n; /* 5 n for the conjugate gradients */
    for (int i = 0; i < n; i++)
        y[i] = 0; /* A has unit diagonal: y = b - diag(A) = 0 */
    double theta;
    if ((rc = decompose(&s, y, &theta, F)))
        goto out;
    uint32_t iter = 0, cg = 0;
    double fn = norm2(F, n);
    while (fn > tol && iter < max_iter) {
        make_omega(&s);
        cg += solve_newton(&s, F, fmin(1e-2, fn), d, buf);
        double slope = 0;
        for (int i = 0; i < n; i++)
            slope += F[i] * d[i];
        if (!(slope < 0)) { /* not a descent direction (numerically): steepest descent */
            for (int i = 0; i < n; i++)
                d[i] = -F[i];
            slope = -fn * fn;
        }
        /* Armijo on theta; near the solution theta's decrease (about ||F||^2) drops below its
         * rounding, so a step that reduces ||F|| by 10% is accepted too, and a search that finds
         * neither ends the iteration */
        double step = 1, th_try = theta;
        int found = 0;
        for (int ls = 0; ls < 30 && !found; ls++, step *= 0.5) {
            for (int i = 0; i < n; i++)
                ytry[i] = y[i] + step * d[i];
            if ((rc = decompose(&s, ytry, &th_try, Ftry)))
                goto out;
            found = th_try <= theta + 1e-4 * step * slope || norm2(Ftry, n) <= 0.9 * fn;
        }
        if (!found) { /* restore the decomposition of y */
            if ((rc = decompose(&s, y, &theta, F)))
                goto out;
            break;
        }
        memcpy(y, ytry, (size_t)n * sizeof *y);
        memcpy(F, Ftry, (size_t)n * sizeof *F);
        theta = th_try;
        fn = norm2(F, n);
        iter++;
        if (opt->progress && opt->progress(opt->progress_ctx, iter, max_iter, theta)) {
            primal(&s, x_out, &res->rank);
            rc = PINHOLE_ECANCELED;
            goto out;
        }
    }
    /* the decomposition held is that of the last accepted y */
    double gnorm2 = 0;
    for (size_t i = 0; i < nn; i++)
        gnorm2 += g[i] * g[i];
    primal(&s, x_out, &res->rank);
    double value = 0;
    for (size_t i = 0; i < nn; i++)
        value += (x_out[i] - g[i]) * (x_out[i] - g[i]);
    /* 2 g(y) = ||A||^2 + 2 sum y - ||(A + Diag y)_+||^2 = ||A||^2 - 2 theta */
    res->value = value;
    res->dual = gnorm2 - 2 * theta;
    res->gap_bound = fmax(0, value - res->dual);
    res->residual = fn;
    res->iterations = iter;
    res->cg_iterations = cg;
    rc = pinhole_eig_min(un, x_out, &res->lambda_min, NULL);
out:
    free(g), free(s.p), free(s.omega), free(s.t1), free(s.t2), free(vec), free(s.w);
    free(s.work), free(s.iwork);
    return rc;
}
