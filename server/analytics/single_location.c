/* single_location: data generation, projected SGD on the spheres through the autodiff tape, Monte
 * Carlo excess risk and the oracle's closed-form excess risk. */
#include "server/analytics/single_location.h"
#include "common/error.h"
#include "common/rng.h"
#include "server/analytics/autodiff.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int check_task(const pinhole_sl_task *t)
{
    if (!t || t->d == 0 || t->d > PINHOLE_SL_MAXD || t->L == 0 || t->L > PINHOLE_SL_MAXL ||
        (uint64_t)t->d * t->L > 1u << 26 || !(t->gamma >= 0) || !isfinite(t->gamma) ||
        !(t->noise >= 0) || !isfinite(t->noise) || !t->k_star || !t->v_star)
        return PINHOLE_EINVAL;
    return PINHOLE_OK;
}

static double dot(const double *a, const double *b, uint32_t d)
{
    double s = 0;
    for (uint32_t i = 0; i < d; i++)
        s += a[i] * b[i];
    return s;
}

/* Scale a to unit norm; 0 if it was zero. */
static int normalize(double *a, uint32_t d)
{
    const double s = sqrt(dot(a, a, d));
    if (!(s > 0) || !isfinite(s))
        return 0;
    for (uint32_t i = 0; i < d; i++)
        a[i] /= s;
    return 1;
}

static void random_unit(pinhole_rng *rng, double *a, uint32_t d)
{
    do
        for (uint32_t i = 0; i < d; i++)
            a[i] = pinhole_rng_normal(rng);
    while (!normalize(a, d));
}

int pinhole_sl_random_task(uint32_t d, uint64_t seed, double *k_star, double *v_star)
{
    if (d < 2 || d > PINHOLE_SL_MAXD || !k_star || !v_star)
        return PINHOLE_EINVAL;
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    random_unit(&rng, k_star, d);
    do { /* v = Gaussian minus its k-component, normalised */
        for (uint32_t i = 0; i < d; i++)
            v_star[i] = pinhole_rng_normal(&rng);
        const double c = dot(v_star, k_star, d);
        for (uint32_t i = 0; i < d; i++)
            v_star[i] -= c * k_star[i];
    } while (!normalize(v_star, d));
    pinhole_rng_wipe(&rng);
    return PINHOLE_OK;
}

/* One sample: x (L x d), its clean target <x_J, v*> in *clean and label in *y. */
static uint32_t draw(const pinhole_sl_task *t, pinhole_rng *rng, double *x, double *clean,
                     double *y)
{
    const uint32_t d = t->d, J = pinhole_rng_uniform(rng, t->L);
    const double mu = sqrt(d / 2.0);
    for (uint32_t l = 0; l < t->L; l++) {
        double *xl = x + (size_t)l * d;
        pinhole_rng_normals(rng, xl, d);
        if (l == J)
            for (uint32_t i = 0; i < d; i++)
                xl[i] = mu * t->k_star[i] + t->gamma * xl[i];
    }
    *clean = dot(x + (size_t)J * d, t->v_star, d);
    *y = *clean + t->noise * pinhole_rng_normal(rng);
    return J;
}

int pinhole_sl_generate(const pinhole_sl_task *task, uint64_t n, uint64_t seed, double *x,
                        double *y, uint32_t *pos)
{
    if (check_task(task) || !x || !y)
        return PINHOLE_EINVAL;
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    const size_t per = (size_t)task->L * task->d;
    for (uint64_t s = 0; s < n; s++) {
        double clean;
        const uint32_t J = draw(task, &rng, x + s * per, &clean, y + s);
        if (pos)
            pos[s] = J;
    }
    pinhole_rng_wipe(&rng);
    return PINHOLE_OK;
}

/* Where batches come from: the task (online) or a data set. */
typedef struct source {
    const pinhole_sl_task *task;
    uint64_t n;
    const double *x, *y;
} source;

static int train(uint32_t d, uint32_t L, const source *src, const pinhole_sl_options *opt,
                 double *k_out, double *v_out, pinhole_sl_result *res)
{
    static const pinhole_sl_options defaults = {0};
    if (!opt)
        opt = &defaults;
    const uint64_t steps = opt->steps ? opt->steps : 200000;
    const uint32_t B = opt->batch ? opt->batch : 5;
    const double eta = opt->step != 0 ? opt->step : 1e-3;
    const double lambda0 = opt->lambda0 != 0 ? opt->lambda0 : 2;
    const double decay = opt->lambda_decay == 0  ? 1e-4
                         : opt->lambda_decay < 0 ? 0
                                                 : opt->lambda_decay;
    if (!k_out || !v_out || !res || !(eta > 0) || !isfinite(eta) || !(lambda0 > 0) ||
        !isfinite(lambda0) || !isfinite(decay) || B > 1u << 16 || (uint64_t)B * L * d > 1u << 26 ||
        (uint64_t)B * B * L > 1u << 26)
        return PINHOLE_EINVAL;
    const uint32_t BL = B * L;
    double *xb = malloc((size_t)BL * d * sizeof *xb), *yb = malloc((size_t)B * sizeof *yb);
    double *sum = calloc((size_t)B * BL, sizeof *sum), *k = malloc((size_t)d * sizeof *k);
    double *v = malloc((size_t)d * sizeof *v);
    pinhole_tape *tp = NULL;
    int rc = PINHOLE_ENOMEM;
    if (!xb || !yb || !sum || !k || !v || pinhole_tape_new(0.5, &tp))
        goto out;
    for (uint32_t b = 0; b < B; b++) /* row b sums the L token terms of sample b */
        for (uint32_t l = 0; l < L; l++)
            sum[(size_t)b * BL + (size_t)b * L + l] = 1;
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, opt->seed);
    random_unit(&rng, k, d);
    random_unit(&rng, v, d);
    double lambda = lambda0, window = 0;
    uint64_t t = 0, in_window = 0;
    /* The progress callback also decides whether to stop: call it about every 10^6 multiply-adds
     * of the step (B L d each), so that a stop takes effect promptly even for large d L. */
    const uint64_t check_every =
        (uint64_t)B * L * d >= 1000000 ? 1 : 1000000 / ((uint64_t)B * L * d);
    rc = PINHOLE_OK;
    for (; t < steps; t++) {
        lambda = lambda0 / (1 + decay * (double)t);
        for (uint32_t b = 0; b < B; b++) {
            double clean;
            if (src->task) {
                draw(src->task, &rng, xb + (size_t)b * L * d, &clean, yb + b);
            } else {
                const uint64_t s = pinhole_rng_uniform64(&rng, src->n);
                memcpy(xb + (size_t)b * L * d, src->x + s * L * d, (size_t)L * d * sizeof *xb);
                yb[b] = src->y[s];
            }
        }
        pinhole_tape_reset(tp);
        const int X = pinhole_tape_var(tp, BL * d, xb), K = pinhole_tape_var(tp, d, k);
        const int V = pinhole_tape_var(tp, d, v), Y = pinhole_tape_var(tp, B, yb);
        const int S = pinhole_tape_var(tp, B * BL, sum);
        const int xk = pinhole_tape_matmul(tp, X, K, BL, d, 1);
        const int xv = pinhole_tape_matmul(tp, X, V, BL, d, 1);
        const int p =
            pinhole_tape_mul(tp, pinhole_tape_erf(tp, pinhole_tape_scale(tp, xk, lambda)), xv);
        const int r = pinhole_tape_sub(tp, pinhole_tape_matmul(tp, S, p, B, BL, 1), Y);
        const int loss = pinhole_tape_scale(tp, pinhole_tape_dot(tp, r, r), 1.0 / B);
        if ((rc = pinhole_tape_backward(tp, loss)))
            goto done;
        const double lv = pinhole_tape_value(tp, loss, NULL)[0];
        if (t % 1000 == 0)
            window = 0, in_window = 0;
        window += lv, in_window++;
        /* projected Riemannian step on each sphere */
        const double *gk = pinhole_tape_grad(tp, K, NULL), *gv = pinhole_tape_grad(tp, V, NULL);
        const double ck = dot(gk, k, d), cv = dot(gv, v, d);
        for (uint32_t i = 0; i < d; i++) {
            k[i] -= eta * (gk[i] - ck * k[i]);
            v[i] -= eta * (gv[i] - cv * v[i]);
        }
        if (!normalize(k, d) || !normalize(v, d)) {
            rc = PINHOLE_EINVAL; /* the data drove the iterate to NaN/inf */
            goto done;
        }
        if (opt->progress && ((t + 1) % 1000 == 0 || (t + 1) % check_every == 0) &&
            opt->progress(opt->progress_ctx, t + 1, steps, window / in_window)) {
            t++;
            rc = PINHOLE_ECANCELED;
            goto done;
        }
    }
done:
    pinhole_rng_wipe(&rng);
    memcpy(k_out, k, (size_t)d * sizeof *k);
    memcpy(v_out, v, (size_t)d * sizeof *v);
    res->steps = t;
    res->lambda = lambda0 / (1 + decay * (double)t);
    res->loss = in_window ? window / in_window : NAN;
out:
    pinhole_tape_free(tp);
    free(xb), free(yb), free(sum), free(k), free(v);
    return rc;
}

int pinhole_sl_train_online(const pinhole_sl_task *task, const pinhole_sl_options *opt,
                            double *k_out, double *v_out, pinhole_sl_result *res)
{
    if (check_task(task))
        return PINHOLE_EINVAL;
    const source src = {.task = task};
    return train(task->d, task->L, &src, opt, k_out, v_out, res);
}

int pinhole_sl_train_data(uint32_t d, uint32_t L, uint64_t n, const double *x, const double *y,
                          const pinhole_sl_options *opt, double *k_out, double *v_out,
                          pinhole_sl_result *res)
{
    if (d == 0 || d > PINHOLE_SL_MAXD || L == 0 || L > PINHOLE_SL_MAXL || n == 0 || !x || !y ||
        n > (UINT64_C(1) << 40) / ((uint64_t)d * L))
        return PINHOLE_EINVAL;
    for (uint64_t i = 0; i < n * L * d; i++)
        if (!isfinite(x[i]))
            return PINHOLE_EINVAL;
    for (uint64_t i = 0; i < n; i++)
        if (!isfinite(y[i]))
            return PINHOLE_EINVAL;
    const source src = {.n = n, .x = x, .y = y};
    return train(d, L, &src, opt, k_out, v_out, res);
}

int pinhole_sl_excess_risk(const pinhole_sl_task *task, const double *k, const double *v,
                           double lambda, uint64_t samples, uint64_t seed, double *risk,
                           double *stderr_out)
{
    if (check_task(task) || !k || !v || !risk || samples < 2 || !isfinite(lambda))
        return PINHOLE_EINVAL;
    const uint32_t d = task->d, L = task->L;
    double *x = malloc((size_t)L * d * sizeof *x);
    if (!x)
        return PINHOLE_ENOMEM;
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    double mean = 0, m2 = 0; /* Welford */
    for (uint64_t s = 0; s < samples; s++) {
        double clean, y, T = 0;
        draw(task, &rng, x, &clean, &y);
        for (uint32_t l = 0; l < L; l++)
            T += erf(lambda * dot(x + (size_t)l * d, k, d)) * dot(x + (size_t)l * d, v, d);
        const double e = (T - clean) * (T - clean), delta = e - mean;
        mean += delta / (double)(s + 1);
        m2 += delta * (e - mean);
    }
    pinhole_rng_wipe(&rng);
    free(x);
    *risk = mean;
    if (stderr_out)
        *stderr_out = sqrt(m2 / (double)(samples - 1) / (double)samples);
    return PINHOLE_OK;
}

double pinhole_sl_oracle_risk(uint32_t d, uint32_t L, double gamma, double lambda)
{
    if (d == 0 || L == 0 || !(gamma >= 0) || !isfinite(gamma) || !isfinite(lambda))
        return NAN;
    const double mu = sqrt(d / 2.0), l2 = 2 * lambda * lambda;
    const double others = (L - 1) * (2 / 3.14159265358979323846) * asin(l2 / (1 + l2));
    double first;
    if (gamma == 0) {
        first = 0;
    } else { /* Simpson's rule for E[(1 - erf(lambda a))^2], a ~ N(mu, gamma^2), over +-12 gamma */
        const int N = 4000;
        const double lo = mu - 12 * gamma, h = 24 * gamma / N;
        double s = 0;
        for (int i = 0; i <= N; i++) {
            const double a = lo + i * h, z = (a - mu) / gamma;
            const double g = (1 - erf(lambda * a)) * (1 - erf(lambda * a)) * exp(-0.5 * z * z);
            s += (i == 0 || i == N ? 1 : i % 2 ? 4 : 2) * g;
        }
        first = gamma * gamma * s * h / 3 / (gamma * 2.5066282746310002); /* sqrt(2 pi) */
    }
    return first + others;
}
