/* two_layer (Chizat & Bach 2020): on the committed fixture the normalized margin of training both
 * layers reaches the LP max margin over a fine grid of ReLU directions to 5%, and is at least the
 * margin of training the output layer only; plus the LP on a case with a closed-form margin. */
#include "common/error.h"
#include "server/analytics/table.h"
#include "server/analytics/two_layer.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    uint32_t n;
    double x[2 * 64], y[64];
} fixture;

static void load(fixture *fx)
{
    FILE *f = fopen(PINHOLE_SOURCE_DIR "/tests/fixtures/two_layer_disc.txt", "r");
    cr_assert_not_null(f);
    uint32_t rows, cols;
    double *t;
    cr_assert_eq(pinhole_table_read(f, &rows, &cols, &t, NULL), PINHOLE_OK);
    fclose(f);
    cr_assert_eq(cols, 3);
    cr_assert_eq(rows, 30);
    fx->n = rows;
    for (uint32_t i = 0; i < rows; i++)
        fx->x[2 * i] = t[3 * i], fx->x[2 * i + 1] = t[3 * i + 1], fx->y[i] = t[3 * i + 2];
    free(t);
}

Test(two_layer, margin_reaches_lp_max_margin)
{
    fixture fx;
    load(&fx);
    double lp;
    cr_assert_eq(pinhole_two_layer_lp_margin(fx.n, 2, fx.x, fx.y, 4000, 0, &lp, NULL), PINHOLE_OK);
    cr_assert_gt(lp, 0);

    pinhole_two_layer_options both = {.width = 100, .steps = 10000, .step = 0.01, .seed = 5};
    pinhole_two_layer_result rb;
    cr_assert_eq(pinhole_two_layer_train(fx.n, 2, fx.x, fx.y, &both, NULL, NULL, NULL, &rb),
                 PINHOLE_OK);
    cr_expect(fabs(rb.margin - lp) <= 0.05 * lp, "both layers %.6f vs LP %.6f", rb.margin, lp);

    /* the output layer alone, with its own (larger, convex-problem) step, run to the same loss
     * regime: its limit is the random-feature max margin, below the F1 one */
    pinhole_two_layer_options out = both;
    out.output_only = 1, out.step = 10;
    pinhole_two_layer_result ro;
    cr_assert_eq(pinhole_two_layer_train(fx.n, 2, fx.x, fx.y, &out, NULL, NULL, NULL, &ro),
                 PINHOLE_OK);
    cr_expect_gt(ro.margin, 0, "output layer only: %.6f", ro.margin);
    cr_expect_geq(rb.margin, ro.margin, "both %.6f < output-only %.6f", rb.margin, ro.margin);
    cr_expect_leq(ro.margin, lp * 1.0001); /* no network beats the max margin (up to the grid) */
}

/* The margin trace records the normalized margin and the returned network reproduces it. */
Test(two_layer, trace_and_outputs_agree)
{
    fixture fx;
    load(&fx);
    enum { M = 20, STEPS = 1000, EVERY = 100 };
    double w[M * 3], a[M], trace[STEPS / EVERY], mg, f1;
    pinhole_two_layer_options o = {.width = M, .steps = STEPS, .step = 0.01, .record_every = EVERY};
    pinhole_two_layer_result r;
    cr_assert_eq(pinhole_two_layer_train(fx.n, 2, fx.x, fx.y, &o, w, a, trace, &r), PINHOLE_OK);
    cr_assert_eq(pinhole_two_layer_margin(fx.n, 2, fx.x, fx.y, M, w, a, &mg, &f1), PINHOLE_OK);
    cr_expect_float_eq(mg, r.margin, 1e-12);
    cr_expect_float_eq(trace[STEPS / EVERY - 1], r.margin, 1e-12);
    cr_expect_float_eq(f1, r.f1_norm, 1e-12);
    cr_expect_lt(r.loss, log(2.0)); /* below the loss of the zero network */
}

/* Two points on a line, x = +1 (y = +1) and x = -1 (y = -1), d = 1, so the features are
 * relu(u0 x + u1) for unit u. Any measure has f(1) - f(-1) <= max_u |relu(u0 + u1) - relu(u1 - u0)|
 * = sqrt 2 per unit mass (at u = (1, 1)/sqrt 2), so the margin is at most sqrt(2)/2, and mass 1/2
 * with sign + at 45 degrees and 1/2 with sign - at 135 degrees attains it. The 1-degree grid holds
 * both directions, so the LP must return sqrt(2)/2 exactly. */
Test(two_layer, lp_closed_form)
{
    const double x[2] = {1, -1}, y[2] = {1, -1};
    double g, c[360];
    cr_assert_eq(pinhole_two_layer_lp_margin(2, 1, x, y, 360, 0, &g, c), PINHOLE_OK);
    cr_expect_float_eq(g, sqrt(0.5), 1e-9, "margin %.12f", g);
    double l1 = 0;
    for (int k = 0; k < 360; k++)
        l1 += fabs(c[k]);
    cr_expect_leq(l1, 1 + 1e-9);
}

Test(two_layer, rejects_bad_input)
{
    const double x[2] = {1, -1}, y[2] = {1, 0}, ybad[2] = {1, 2};
    pinhole_two_layer_result r;
    double g;
    cr_expect_eq(pinhole_two_layer_train(2, 1, x, ybad, NULL, NULL, NULL, NULL, &r),
                 PINHOLE_EINVAL);
    cr_expect_eq(pinhole_two_layer_train(2, 1, x, y, NULL, NULL, NULL, NULL, &r), PINHOLE_EINVAL);
    cr_expect_eq(pinhole_two_layer_lp_margin(0, 1, x, y, 10, 0, &g, NULL), PINHOLE_EINVAL);
    const double xn[2] = {NAN, 1}, yy[2] = {1, -1};
    cr_expect_eq(pinhole_two_layer_lp_margin(2, 1, xn, yy, 10, 0, &g, NULL), PINHOLE_EINVAL);
}

static int stop_at(void *ctx, uint64_t done, uint64_t total, double loss)
{
    (void)total, (void)loss;
    return done >= *(uint64_t *)ctx;
}

Test(two_layer, progress_cancels)
{
    fixture fx;
    load(&fx);
    uint64_t stop = 300;
    pinhole_two_layer_options o = {
        .width = 10, .steps = 5000, .step = 0.01, .progress = stop_at, .progress_ctx = &stop};
    pinhole_two_layer_result r;
    double a[10];
    cr_expect_eq(pinhole_two_layer_train(fx.n, 2, fx.x, fx.y, &o, NULL, a, NULL, &r),
                 PINHOLE_ECANCELED);
    cr_expect_eq(r.steps, 300);
    cr_expect(isfinite(r.margin) && isfinite(a[0]));
}

/* The table reader: comments, blank lines, commas and tabs; ragged rows and bad tokens refused with
 * their line. */
Test(table, parse_and_errors)
{
    const char good[] = "# header\n\n1, 2\t3\n  -4e-1 5 6.5\n";
    FILE *f = fmemopen((void *)good, sizeof good - 1, "r");
    uint32_t rows, cols;
    double *t;
    uint64_t line = 0;
    cr_assert_eq(pinhole_table_read(f, &rows, &cols, &t, &line), PINHOLE_OK);
    fclose(f);
    cr_expect_eq(rows, 2);
    cr_expect_eq(cols, 3);
    cr_expect_eq(t[3], -0.4);
    cr_expect_eq(t[5], 6.5);
    free(t);
    const char *bad[] = {"1 2\n3\n", "1 2\n3 x\n", "1 nan\n", "# only a comment\n", "1 1e999\n"};
    const uint64_t bad_line[] = {2, 2, 1, 1, 1};
    for (int i = 0; i < 5; i++) {
        f = fmemopen((void *)bad[i], strlen(bad[i]), "r");
        line = 0;
        cr_expect_eq(pinhole_table_read(f, &rows, &cols, &t, &line), PINHOLE_EFORMAT, "case %d", i);
        cr_expect_eq(line, bad_line[i], "case %d: line %llu", i, (unsigned long long)line);
        fclose(f);
    }
}
