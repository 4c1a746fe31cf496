/* Time and iterations of the optimization and learning jobs (nearest_correlation, maxcut,
 * single_location, two_layer) at the sizes of their tests and at 10x them. One JSON line per run.
 * usage: bench_optimize [--paper]   (--paper adds the 200,000-step d = 80 single_location run)
 */
#include "common/clock.h"
#include "common/error.h"
#include "common/rng.h"
#include "server/analytics/burer_monteiro.h"
#include "server/analytics/single_location.h"
#include "server/analytics/table.h"
#include "server/analytics/two_layer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int ncm(uint32_t n)
{
    double *a = calloc((size_t)n * n, sizeof *a), *x = malloc(sizeof *x * n * n);
    if (!a || !x)
        return 1;
    for (uint32_t i = 0; i < n; i++) { /* tridiag(-1, 2, -1): the NAG g02aa example's family */
        a[i * n + i] = 2;
        if (i + 1 < n)
            a[i * n + i + 1] = a[(i + 1) * n + i] = -1;
    }
    pinhole_bm_result r;
    const double t0 = pinhole_clock_mono();
    int rc = pinhole_nearest_correlation(n, a, NULL, x, &r);
    const double t1 = pinhole_clock_mono();
    printf("{\"bench\":\"nearest_correlation\",\"input\":\"tridiag(-1,2,-1)\",\"n\":%u,\"rc\":%d,"
           "\"rank\":%u,\"iterations\":%u,\"seconds\":%.4f,\"lambda_min\":%.3g,\"value\":%.10g}\n",
           n, rc, r.rank, r.iterations, t1 - t0, r.lambda_min, r.value);
    free(a), free(x);
    return rc != PINHOLE_OK;
}

static int maxcut(const char *kind, uint32_t n)
{
    double *w = calloc((size_t)n * n, sizeof *w);
    int8_t *side = malloc(n);
    if (!w || !side)
        return 1;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++)
            if (kind[0] == 'K' || j == i + 1 || (i == 0 && j == n - 1))
                w[i * n + j] = w[j * n + i] = 1;
    pinhole_maxcut_result r;
    const double t0 = pinhole_clock_mono();
    int rc = pinhole_maxcut(n, w, NULL, 100, side, NULL, &r);
    const double t1 = pinhole_clock_mono();
    printf(
        "{\"bench\":\"maxcut\",\"graph\":\"%s\",\"n\":%u,\"rc\":%d,\"rank\":%u,\"iterations\":%u,"
        "\"seconds\":%.4f,\"sdp\":%.9g,\"cut\":%.9g,\"lambda_min\":%.3g}\n",
        kind, n, rc, r.bm.rank, r.bm.iterations, t1 - t0, r.sdp_value, r.cut_value,
        r.bm.lambda_min);
    free(w), free(side);
    return rc != PINHOLE_OK;
}

static int single_location(uint32_t d, uint64_t steps, double decay)
{
    double *ks = malloc(sizeof(double) * d * 4);
    if (!ks)
        return 1;
    double *vs = ks + d, *k = ks + 2 * d, *v = ks + 3 * d;
    pinhole_sl_random_task(d, 21, ks, vs);
    const pinhole_sl_task task = {d, 10, sqrt(0.5), 0.1, ks, vs};
    const pinhole_sl_options o = {.steps = steps, .lambda_decay = decay, .seed = 1};
    pinhole_sl_result r;
    const double t0 = pinhole_clock_mono();
    int rc = pinhole_sl_train_online(&task, &o, k, v, &r);
    const double t1 = pinhole_clock_mono();
    double kk = 0, vv = 0;
    for (uint32_t i = 0; i < d; i++)
        kk += k[i] * ks[i], vv += v[i] * vs[i];
    printf(
        "{\"bench\":\"single_location\",\"d\":%u,\"L\":10,\"batch\":5,\"steps\":%llu,\"decay\":%g,"
        "\"rc\":%d,\"seconds\":%.3f,\"us_per_step\":%.2f,\"kk\":%.4f,\"vv\":%.4f}\n",
        d, (unsigned long long)steps, decay, rc, t1 - t0, (t1 - t0) / (double)steps * 1e6, fabs(kk),
        fabs(vv));
    free(ks);
    return rc != PINHOLE_OK;
}

/* The fixture's law: points of [-1, 1]^2, +1 inside radius 0.45, -1 in the ring 0.8 .. 1.1. */
static void disc_data(uint32_t n, uint64_t seed, double *x, double *y)
{
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    for (uint32_t i = 0; i < n;) {
        const double u = 2 * pinhole_rng_unit(&rng) - 1, v = 2 * pinhole_rng_unit(&rng) - 1;
        const double r = sqrt(u * u + v * v);
        if (r < 0.45 || (r > 0.8 && r < 1.1))
            x[2 * i] = u, x[2 * i + 1] = v, y[i] = r < 0.45 ? 1 : -1, i++;
    }
}

static int two_layer(const char *data, uint32_t n, const double *x, const double *y, uint32_t m,
                     uint32_t directions)
{
    pinhole_two_layer_options o = {.width = m, .steps = 10000, .step = 0.01, .seed = 5};
    pinhole_two_layer_result r;
    double lp = NAN;
    const double t0 = pinhole_clock_mono();
    int rc = pinhole_two_layer_train(n, 2, x, y, &o, NULL, NULL, NULL, &r);
    const double t1 = pinhole_clock_mono();
    if (rc == PINHOLE_OK)
        rc = pinhole_two_layer_lp_margin(n, 2, x, y, directions, 0, &lp, NULL);
    const double t2 = pinhole_clock_mono();
    printf("{\"bench\":\"two_layer\",\"data\":\"%s\",\"n\":%u,\"m\":%u,\"rc\":%d,\"steps\":%u,"
           "\"train_seconds\":%.3f,\"margin\":%.6f,\"lp_directions\":%u,\"lp_seconds\":%.3f,"
           "\"lp_margin\":%.6f,\"ratio\":%.4f}\n",
           data, n, m, rc, r.steps, t1 - t0, r.margin, directions, t2 - t1, lp, r.margin / lp);
    return rc != PINHOLE_OK;
}

int main(int argc, char **argv)
{
    const int paper = argc > 1 && strcmp(argv[1], "--paper") == 0;
    int bad = 0;
    bad |= ncm(4);
    bad |= ncm(40);
    bad |= maxcut("C", 5);
    bad |= maxcut("C", 50);
    bad |= maxcut("K", 12);
    bad |= maxcut("K", 120);

    FILE *f = fopen(PINHOLE_SOURCE_DIR "/tests/fixtures/two_layer_disc.txt", "r");
    uint32_t rows = 0, cols = 0;
    double *t = NULL;
    if (!f || pinhole_table_read(f, &rows, &cols, &t, NULL) || cols != 3) {
        fprintf(stderr, "bench_optimize: cannot read the two_layer fixture\n");
        return 1;
    }
    fclose(f);
    double *x = malloc(sizeof *x * 2 * 300), *y = malloc(sizeof *y * 300);
    if (!x || !y)
        return 1;
    for (uint32_t i = 0; i < rows; i++)
        x[2 * i] = t[3 * i], x[2 * i + 1] = t[3 * i + 1], y[i] = t[3 * i + 2];
    free(t);
    bad |= two_layer("fixture", rows, x, y, 100, 4000);
    bad |= two_layer("fixture", rows, x, y, 1000, 40000);
    disc_data(300, 7, x, y);
    bad |= two_layer("disc-300", 300, x, y, 100, 4000);
    free(x), free(y);

    bad |= single_location(20, 20000, 1e-3);
    bad |= single_location(20, 200000, 1e-4);
    if (paper)
        bad |= single_location(80, 200000, 1e-4);
    return bad;
}
