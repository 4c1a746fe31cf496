/* Autodiff tape: the conservative derivative of relu(x) - relu(-x) (2s at 0), its path integral,
 * agreement with central differences, and error propagation. */
#include "common/error.h"
#include "common/rng.h"
#include "server/analytics/autodiff.h"

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

/* Backprop of g(x) = relu(x) - relu(-x) at x; returns the derivative it reports. */
static double odd_relu_grad(pinhole_tape *t, double x)
{
    pinhole_tape_reset(t);
    const int v = pinhole_tape_var(t, 1, &x);
    const int out = pinhole_tape_sub(t, pinhole_tape_relu(t, v),
                                     pinhole_tape_relu(t, pinhole_tape_scale(t, v, -1)));
    cr_assert_geq(out, 0);
    cr_assert_float_eq(pinhole_tape_value(t, out, NULL)[0], x, 1e-15); /* g is the identity */
    cr_assert_eq(pinhole_tape_backward(t, out), PINHOLE_OK);
    return pinhole_tape_grad(t, v, NULL)[0];
}

static const double conventions[] = {0, 0.25, 0.5, 1, -3, 7.5};

Test(autodiff, relu_difference_at_zero_is_2s)
{
    for (size_t c = 0; c < sizeof conventions / sizeof *conventions; c++) {
        const double s = conventions[c];
        pinhole_tape *t;
        cr_assert_eq(pinhole_tape_new(s, &t), PINHOLE_OK);
        cr_expect_eq(odd_relu_grad(t, 0.0), 2 * s, "s = %g", s); /* the true derivative is 1 */
        cr_expect_eq(odd_relu_grad(t, 1e-300), 1.0);
        cr_expect_eq(odd_relu_grad(t, -0.7), 1.0);
        pinhole_tape_free(t);
    }
}

/* A conservative field integrates like a gradient: along [-1, 1] the Riemann sums of the returned
 * derivative on grids that hit the kink 0 tend to g(1) - g(-1) = 2 for every s, and differ from 2
 * by exactly h (2s - 1) (one grid cell carries the wrong value). */
Test(autodiff, relu_difference_integral_is_2)
{
    for (size_t c = 0; c < sizeof conventions / sizeof *conventions; c++) {
        const double s = conventions[c];
        pinhole_tape *t;
        cr_assert_eq(pinhole_tape_new(s, &t), PINHOLE_OK);
        for (int n = 10; n <= 10000; n *= 10) { /* left-endpoint sums, nodes -1 + 2i/n, i < n */
            const double h = 2.0 / n;
            double sum = 0;
            for (int i = 0; i < n; i++)
                sum += h * odd_relu_grad(t, -1 + 2.0 * i / n);
            cr_expect_float_eq(sum, 2 + h * (2 * s - 1), 1e-9, "s=%g n=%d sum=%.12f", s, n, sum);
        }
        pinhole_tape_free(t);
    }
}

/* A function with kinks from every nonsmooth op, f(x) = max(x, x/2) + abs(x - 1/4) + relu(-x - 1/2)
 * on [-1, 1]: the path integral of the returned field equals f(1) - f(-1) as the grid refines. */
Test(autodiff, piecewise_path_integral)
{
    pinhole_tape *t;
    cr_assert_eq(pinhole_tape_new(0.8, &t), PINHOLE_OK);
    double fv[2];
    const int n = 100000;
    double sum = 0;
    for (int i = 0; i <= n; i++) {
        const double x = -1 + 2.0 * i / n;
        pinhole_tape_reset(t);
        const int v = pinhole_tape_var(t, 1, &x);
        const int a = pinhole_tape_max(t, v, pinhole_tape_scale(t, v, 0.5));
        const int b = pinhole_tape_abs(t, pinhole_tape_sub(t, v, pinhole_tape_fill(t, 1, 0.25)));
        const int c = pinhole_tape_relu(
            t, pinhole_tape_sub(t, pinhole_tape_scale(t, v, -1), pinhole_tape_fill(t, 1, 0.5)));
        const int out = pinhole_tape_add(t, pinhole_tape_add(t, a, b), c);
        cr_assert_eq(pinhole_tape_backward(t, out), PINHOLE_OK);
        if (i == 0 || i == n)
            fv[i == n] = pinhole_tape_value(t, out, NULL)[0];
        if (i < n)
            sum += 2.0 / n * pinhole_tape_grad(t, v, NULL)[0];
    }
    cr_expect_float_eq(sum, fv[1] - fv[0], 1e-4, "sum %.8f vs %.8f", sum, fv[1] - fv[0]);
    pinhole_tape_free(t);
}

/* Every smooth-almost-everywhere op in one scalar function of x (length 4) and a 3 x 4 matrix M;
 * at random points (off the kinks with probability 1) backprop must match central differences. */
static int build(pinhole_tape *t, const double *x, const double *m, int *vx, int *vm)
{
    *vx = pinhole_tape_var(t, 4, x);
    *vm = pinhole_tape_var(t, 12, m);
    const int one = pinhole_tape_fill(t, 1, 1.0);
    const int mx = pinhole_tape_matmul(t, *vm, *vx, 3, 4, 1);    /* 3 */
    const int r = pinhole_tape_sum(t, pinhole_tape_relu(t, mx)); /* scalar */
    const int e = pinhole_tape_dot(t, pinhole_tape_exp(t, pinhole_tape_scale(t, *vx, 0.3)),
                                   pinhole_tape_erf(t, *vx)); /* scalar */
    const int l = pinhole_tape_sum(
        t, pinhole_tape_log(t, pinhole_tape_add(t, one, pinhole_tape_mul(t, *vx, *vx))));
    const int a = pinhole_tape_sum(t, pinhole_tape_abs(t, pinhole_tape_sub(t, mx, one)));
    const int mm = pinhole_tape_sum(t, pinhole_tape_max(t, mx, pinhole_tape_scale(t, mx, -2)));
    return pinhole_tape_add(
        t, pinhole_tape_add(t, pinhole_tape_add(t, r, pinhole_tape_mul(t, e, l)), a), mm);
}

static double eval(pinhole_tape *t, const double *x, const double *m)
{
    int vx, vm;
    pinhole_tape_reset(t);
    const int out = build(t, x, m, &vx, &vm);
    cr_assert_geq(out, 0);
    return pinhole_tape_value(t, out, NULL)[0];
}

Test(autodiff, central_differences)
{
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 8);
    pinhole_tape *t;
    cr_assert_eq(pinhole_tape_new(0.5, &t), PINHOLE_OK);
    for (int trial = 0; trial < 50; trial++) {
        double p[16], g[16];
        for (int i = 0; i < 16; i++)
            p[i] = pinhole_rng_normal(&rng);
        int vx, vm;
        pinhole_tape_reset(t);
        const int out = build(t, p, p + 4, &vx, &vm);
        cr_assert_geq(out, 0);
        cr_assert_eq(pinhole_tape_backward(t, out), PINHOLE_OK);
        memcpy(g, pinhole_tape_grad(t, vx, NULL), 4 * sizeof(double));
        memcpy(g + 4, pinhole_tape_grad(t, vm, NULL), 12 * sizeof(double));
        for (int i = 0; i < 16; i++) {
            const double h = 1e-6, keep = p[i];
            p[i] = keep + h;
            const double fp = eval(t, p, p + 4);
            p[i] = keep - h;
            const double fm = eval(t, p, p + 4);
            p[i] = keep;
            const double fd = (fp - fm) / (2 * h);
            cr_expect(fabs(fd - g[i]) <= 1e-6 * (1 + fabs(fd)), "trial %d coord %d: %.9g vs %.9g",
                      trial, i, g[i], fd);
        }
    }
    pinhole_tape_free(t);
}

Test(autodiff, errors_propagate)
{
    pinhole_tape *t;
    cr_assert_eq(pinhole_tape_new(NAN, &t), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_tape_new(0, &t), PINHOLE_OK);
    const double x[3] = {1, 2, 3};
    const int v3 = pinhole_tape_var(t, 3, x), v2 = pinhole_tape_var(t, 2, x);
    cr_expect_eq(pinhole_tape_add(t, v3, v2), PINHOLE_EINVAL); /* lengths 3 and 2 */
    cr_expect_eq(pinhole_tape_exp(t, PINHOLE_ENOMEM), PINHOLE_ENOMEM);
    cr_expect_eq(pinhole_tape_dot(t, v3, pinhole_tape_add(t, v3, v2)), PINHOLE_EINVAL);
    cr_expect_eq(pinhole_tape_relu(t, 999), PINHOLE_EINVAL);
    cr_expect_eq(pinhole_tape_backward(t, v3), PINHOLE_EINVAL); /* not a scalar */
    cr_expect_eq(pinhole_tape_var(t, 0, x), PINHOLE_EINVAL);
    cr_expect_eq(pinhole_tape_matmul(t, v3, v2, 2, 2, 1), PINHOLE_EINVAL);
    cr_expect_null(pinhole_tape_value(t, 99, NULL));
    /* broadcasting a scalar: d/dc sum(c * x) = sum(x) */
    const double c = 2;
    const int vc = pinhole_tape_var(t, 1, &c);
    const int out = pinhole_tape_sum(t, pinhole_tape_mul(t, vc, v3));
    cr_assert_eq(pinhole_tape_backward(t, out), PINHOLE_OK);
    cr_expect_eq(pinhole_tape_value(t, out, NULL)[0], 12);
    cr_expect_eq(pinhole_tape_grad(t, vc, NULL)[0], 6);
    cr_expect_eq(pinhole_tape_grad(t, v3, NULL)[1], 2);
    pinhole_tape_free(t);
}
