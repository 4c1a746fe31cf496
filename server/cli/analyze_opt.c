/* `pinhole analyze maxcut|nearest-correlation|single-location|two-layer`: the optimization and
 * learning modules on a matrix or data set file, or on generated data (cli/analyze.c dispatches).
 */
#include "common/clock.h"
#include "common/error.h"
#include "common/rng.h"
#include "server/analytics/burer_monteiro.h"
#include "server/analytics/single_location.h"
#include "server/analytics/table.h"
#include "server/analytics/two_layer.h"
#include "server/cli/cli.h"
#include "server/cli/cli_options.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void analyze_usage(FILE *f)
{
    fprintf(
        f,
        "usage: pinhole analyze JOB [options]\n"
        "jobs:\n"
        "  nearest-correlation  (--matrix FILE | --generate N [--noise S])\n"
        "                       nearest correlation matrix (Burer-Monteiro, LAPACK certificate)\n"
        "  maxcut               (--matrix FILE | --generate cycle|complete|random --n N [--p P])\n"
        "                       [--rounds R]  SDP relaxation + Goemans-Williamson rounding\n"
        "  two-layer            (--data FILE | --generate N) [--width M] [--steps T] [--step ETA]\n"
        "                       [--output-only] [--directions K]  ReLU network margin vs LP max "
        "margin\n"
        "  single-location      (--data FILE --d D --L L | [--d D] [--L L] [--gamma G] [--noise "
        "S])\n"
        "                       [--steps T] [--batch B] [--step ETA] [--lambda0 L0] [--decay C]\n"
        "                       projected SGD of the attention predictor (online when no --data)\n"
        "  multi                [--categories K1,K2,...] [--devices N] [--epsilon E] [--rho R]\n"
        "                       [--unweighted] [--rank R]  a simulated multi-attribute collection\n"
        "                       (docs/multi-attribute.md)\n"
        "common: --seed S (default 1), --rank P, --max-iter I (SDP jobs), --quiet\n"
        "files: numbers separated by spaces/tabs/commas, one row per line, '#' comments.\n"
        "  --matrix: n rows of n numbers (symmetric). two-layer --data: rows x_1 .. x_d y (y = "
        "+-1).\n"
        "  single-location --data: rows of L*d token coordinates (token-major) then y.\n");
}

/* Parsed options (a job reads the ones it knows; the parser rejects the others). */
typedef struct opts {
    const char *matrix, *data, *generate;
    uint64_t n, seed, rank, max_iter, rounds, width, steps, directions, batch, d, L;
    double noise, p, step, lambda0, decay, gamma;
    int output_only, quiet, have_noise, have_d, have_L;
} opts;

/* Is `name` one of the space-separated words of `list`? */
static int has_word(const char *list, const char *name)
{
    const size_t len = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ' ');
        const size_t wl = e ? (size_t)(e - p) : strlen(p);
        if (wl == len && strncmp(p, name, len) == 0)
            return 1;
        p += wl + (e ? 1 : 0);
    }
    return 0;
}

/* Parse argv[1..] (argv[0] is the job) for a job that accepts the options named in `allowed` (space
 * separated): the rows of one table of every job's options, so that an option another job takes is
 * unknown here. 0, 1 after --help, -1 on a usage error. */
static int parse(int argc, char **argv, const char *job, const char *allowed, opts *o)
{
    const cli_opt all[] = {CLI_OPT("matrix", CLI_OPT_STRING, &o->matrix),
                           CLI_OPT("data", CLI_OPT_STRING, &o->data),
                           CLI_OPT("generate", CLI_OPT_STRING, &o->generate),
                           CLI_OPT("n", CLI_OPT_U64, &o->n),
                           CLI_OPT("seed", CLI_OPT_U64, &o->seed),
                           CLI_OPT("rank", CLI_OPT_U64, &o->rank),
                           CLI_OPT("max-iter", CLI_OPT_U64, &o->max_iter),
                           CLI_OPT("rounds", CLI_OPT_U64, &o->rounds),
                           CLI_OPT("width", CLI_OPT_U64, &o->width),
                           CLI_OPT("steps", CLI_OPT_U64, &o->steps),
                           CLI_OPT("directions", CLI_OPT_U64, &o->directions),
                           CLI_OPT("batch", CLI_OPT_U64, &o->batch),
                           CLI_OPT("d", CLI_OPT_U64, &o->d, .given = &o->have_d),
                           CLI_OPT("L", CLI_OPT_U64, &o->L, .given = &o->have_L),
                           CLI_OPT("noise", CLI_OPT_DOUBLE, &o->noise, .given = &o->have_noise),
                           CLI_OPT("p", CLI_OPT_DOUBLE, &o->p),
                           CLI_OPT("step", CLI_OPT_DOUBLE, &o->step),
                           CLI_OPT("lambda0", CLI_OPT_DOUBLE, &o->lambda0),
                           CLI_OPT("decay", CLI_OPT_DOUBLE, &o->decay),
                           CLI_OPT("gamma", CLI_OPT_DOUBLE, &o->gamma),
                           CLI_OPT("output-only", CLI_OPT_FLAG, &o->output_only),
                           CLI_OPT("quiet", CLI_OPT_FLAG, &o->quiet)};
    cli_opt mine[sizeof all / sizeof all[0] + 1];
    size_t n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (has_word(allowed, all[i].name))
            mine[n++] = all[i];
    mine[n] = (cli_opt){0};
    char name[64];
    snprintf(name, sizeof name, "analyze %s", job);
    const cli_command cmd = {.name = name, .opts = mine, .usage = analyze_usage};
    return cli_parse(&cmd, argc, argv);
}

/* Read a numeric table file, with a message on failure. */
static int read_table(const char *job, const char *path, uint32_t *rows, uint32_t *cols, double **t)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "pinhole analyze %s: cannot open %s\n", job, path);
        return -1;
    }
    uint64_t line = 0;
    int rc = pinhole_table_read(f, rows, cols, t, &line);
    fclose(f);
    if (rc) {
        fprintf(stderr, "pinhole analyze %s: %s:%llu: %s\n", job, path, (unsigned long long)line,
                pinhole_strerror(rc));
        return -1;
    }
    return 0;
}

static int progress_print(void *ctx, uint64_t done, uint64_t total, double value)
{
    const opts *o = ctx;
    if (!o->quiet)
        fprintf(stderr, "  %llu/%llu: %.9g\n", (unsigned long long)done, (unsigned long long)total,
                value);
    return 0;
}

/* A square matrix from --matrix, or NULL with a message. */
static double *square_matrix(const char *job, const opts *o, uint32_t *n)
{
    uint32_t rows, cols;
    double *a;
    if (read_table(job, o->matrix, &rows, &cols, &a))
        return NULL;
    if (rows != cols || rows > PINHOLE_BM_MAXN) {
        fprintf(stderr, "pinhole analyze %s: %s is %u x %u, need a square matrix (n <= %u)\n", job,
                o->matrix, rows, cols, PINHOLE_BM_MAXN);
        free(a);
        return NULL;
    }
    *n = rows;
    return a;
}

static void print_bm(const pinhole_bm_result *r, double seconds)
{
    printf("rank p = %u, %u iterations, %u rank escapes, %.3f s\n", r->rank, r->iterations,
           r->escapes, seconds);
    printf("Riemannian gradient norm %.3g; certificate lambda_min(S) = %.3g (%s); gap <= %.3g\n",
           r->grad_norm, r->lambda_min,
           r->lambda_min >= -1e-8 ? "globally optimal" : "NOT certified", r->gap_bound);
}

static int job_ncm(int argc, char **argv)
{
    opts o = {.seed = 1};
    const int parsed = parse(argc, argv, "nearest-correlation",
                             "matrix generate noise seed rank max-iter quiet", &o);
    if (parsed != 0)
        return parsed > 0 ? CLI_OK : CLI_USAGE;
    uint32_t n = 0;
    double *a = NULL;
    if (o.matrix) {
        if (!(a = square_matrix("nearest-correlation", &o, &n)))
            return CLI_FAIL;
    } else if (o.generate) {
        /* a correlation matrix of rank 3 plus symmetric N(0, noise^2) off-diagonal noise */
        uint64_t nn;
        if (cli_parse_u64("--generate", o.generate, &nn) || nn < 2 || nn > PINHOLE_BM_MAXN) {
            fprintf(stderr,
                    "pinhole analyze nearest-correlation: --generate N needs 2 <= N <= %u\n",
                    PINHOLE_BM_MAXN);
            return CLI_USAGE;
        }
        n = (uint32_t)nn;
        const double noise = o.have_noise ? o.noise : 0.2;
        a = malloc(sizeof *a * n * n);
        double *f = malloc(sizeof *f * n * 3);
        if (!a || !f) {
            free(a), free(f);
            return CLI_FAIL;
        }
        pinhole_rng rng;
        pinhole_rng_init_seeded(&rng, o.seed);
        pinhole_rng_normals(&rng, f, (size_t)n * 3);
        for (uint32_t i = 0; i < n; i++) {
            const double s = sqrt(f[3 * i] * f[3 * i] + f[3 * i + 1] * f[3 * i + 1] +
                                  f[3 * i + 2] * f[3 * i + 2]);
            for (int c = 0; c < 3; c++)
                f[3 * i + c] /= s;
        }
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = i; j < n; j++) {
                double c =
                    f[3 * i] * f[3 * j] + f[3 * i + 1] * f[3 * j + 1] + f[3 * i + 2] * f[3 * j + 2];
                if (j > i)
                    c += noise * pinhole_rng_normal(&rng);
                a[i * n + j] = a[j * n + i] = c;
            }
        free(f);
        printf("generated: n = %u, rank-3 correlation matrix + N(0, %g^2) noise, seed %llu\n", n,
               noise, (unsigned long long)o.seed);
    } else {
        fprintf(stderr,
                "pinhole analyze nearest-correlation: give --matrix FILE or --generate N\n");
        return CLI_USAGE;
    }
    double *x = malloc(sizeof *x * n * n);
    if (!x) {
        free(a);
        return CLI_FAIL;
    }
    pinhole_bm_options bo = {
        .rank = (uint32_t)o.rank, .max_iter = (uint32_t)o.max_iter, .seed = o.seed};
    pinhole_bm_result r;
    const double t0 = pinhole_clock_mono();
    int rc = pinhole_nearest_correlation(n, a, &bo, x, &r);
    const double t1 = pinhole_clock_mono();
    if (rc) {
        fprintf(stderr, "pinhole analyze nearest-correlation: %s%s\n", pinhole_strerror(rc),
                rc == PINHOLE_EINVAL ? " (the matrix must be symmetric with finite entries)" : "");
        free(a), free(x);
        return rc == PINHOLE_EINVAL ? CLI_USAGE : CLI_FAIL;
    }
    printf("nearest correlation: n = %u, ||X - A||_F^2 (off-diagonal) = %.12g\n", n, r.value);
    print_bm(&r, t1 - t0);
    if (n <= 12) {
        printf("X =\n");
        for (uint32_t i = 0; i < n; i++) {
            for (uint32_t j = 0; j < n; j++)
                printf(" %15.12f", x[i * n + j]);
            printf("\n");
        }
    }
    free(a), free(x);
    return CLI_OK;
}

static int job_maxcut(int argc, char **argv)
{
    opts o = {.seed = 1, .p = 0.5};
    const int parsed =
        parse(argc, argv, "maxcut", "matrix generate n p rounds seed rank max-iter quiet", &o);
    if (parsed != 0)
        return parsed > 0 ? CLI_OK : CLI_USAGE;
    uint32_t n = 0;
    double *w = NULL;
    if (o.matrix) {
        if (!(w = square_matrix("maxcut", &o, &n)))
            return CLI_FAIL;
    } else if (o.generate) {
        const int cyc = !strcmp(o.generate, "cycle"), comp = !strcmp(o.generate, "complete"),
                  rnd = !strcmp(o.generate, "random");
        if ((!cyc && !comp && !rnd) || o.n < 3 || o.n > PINHOLE_BM_MAXN || !(o.p >= 0) || o.p > 1) {
            fprintf(stderr,
                    "pinhole analyze maxcut: --generate cycle|complete|random needs --n N "
                    "(3 <= N <= %u) and 0 <= --p <= 1\n",
                    PINHOLE_BM_MAXN);
            return CLI_USAGE;
        }
        n = (uint32_t)o.n;
        w = calloc((size_t)n * n, sizeof *w);
        if (!w)
            return CLI_FAIL;
        pinhole_rng rng;
        pinhole_rng_init_seeded(&rng, o.seed);
        const uint64_t thr = o.p >= 1 ? UINT64_MAX : (uint64_t)(o.p * 18446744073709551616.0);
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = i + 1; j < n; j++) {
                const int e = cyc    ? (j == i + 1 || (i == 0 && j == n - 1))
                              : comp ? 1
                                     : pinhole_rng_bernoulli(&rng, thr);
                w[i * n + j] = w[j * n + i] = e;
            }
        printf("generated: %s graph, n = %u%s, seed %llu\n", o.generate, n, rnd ? " (G(n, p))" : "",
               (unsigned long long)o.seed);
    } else {
        fprintf(stderr, "pinhole analyze maxcut: give --matrix FILE or --generate KIND --n N\n");
        return CLI_USAGE;
    }
    int8_t *side = malloc(n);
    if (!side) {
        free(w);
        return CLI_FAIL;
    }
    pinhole_bm_options bo = {
        .rank = (uint32_t)o.rank, .max_iter = (uint32_t)o.max_iter, .seed = o.seed};
    pinhole_maxcut_result r;
    const double t0 = pinhole_clock_mono();
    int rc = pinhole_maxcut(n, w, &bo, (uint32_t)o.rounds, side, NULL, &r);
    const double t1 = pinhole_clock_mono();
    if (rc) {
        fprintf(stderr, "pinhole analyze maxcut: %s%s\n", pinhole_strerror(rc),
                rc == PINHOLE_EINVAL ? " (the matrix must be symmetric with finite entries)" : "");
        free(w), free(side);
        return rc == PINHOLE_EINVAL ? CLI_USAGE : CLI_FAIL;
    }
    printf("maxcut: n = %u, SDP value %.9f (certified bound %.9f), best of %u hyperplanes: cut "
           "%.9g",
           n, r.sdp_value, r.sdp_bound, r.rounds, r.cut_value);
    if (r.sdp_value > 0)
        printf(" (%.4f of the SDP)", r.cut_value / r.sdp_value);
    printf("\n");
    print_bm(&r.bm, t1 - t0);
    if (n <= 64) {
        printf("side:");
        for (uint32_t i = 0; i < n; i++)
            printf(" %c", side[i] > 0 ? '+' : '-');
        printf("\n");
    }
    free(w), free(side);
    return CLI_OK;
}

static int job_two_layer(int argc, char **argv)
{
    opts o = {.seed = 1, .width = 100, .steps = 10000, .step = 0.01, .directions = 4000};
    const int parsed =
        parse(argc, argv, "two-layer",
              "data generate width steps step output-only directions seed quiet", &o);
    if (parsed != 0)
        return parsed > 0 ? CLI_OK : CLI_USAGE;
    uint32_t n, d;
    double *x, *y;
    if (o.data) {
        uint32_t cols;
        double *t;
        if (read_table("two-layer", o.data, &n, &cols, &t))
            return CLI_FAIL;
        if (cols < 2) {
            fprintf(stderr, "pinhole analyze two-layer: rows need x_1 .. x_d and a label\n");
            free(t);
            return CLI_FAIL;
        }
        d = cols - 1;
        x = malloc(sizeof *x * n * d), y = malloc(sizeof *y * n);
        if (!x || !y) {
            free(t), free(x), free(y);
            return CLI_FAIL;
        }
        for (uint32_t i = 0; i < n; i++) {
            memcpy(x + (size_t)i * d, t + (size_t)i * cols, sizeof *x * d);
            y[i] = t[(size_t)i * cols + d];
        }
        free(t);
    } else if (o.generate) {
        /* points of [-1, 1]^2: +1 inside radius 0.45, -1 in the ring 0.8 .. 1.1 (the fixture's
         * law) */
        uint64_t nn;
        if (cli_parse_u64("--generate", o.generate, &nn) || nn < 2 || nn > 100000) {
            fprintf(stderr, "pinhole analyze two-layer: --generate N needs 2 <= N <= 100000\n");
            return CLI_USAGE;
        }
        n = (uint32_t)nn, d = 2;
        x = malloc(sizeof *x * n * 2), y = malloc(sizeof *y * n);
        if (!x || !y) {
            free(x), free(y);
            return CLI_FAIL;
        }
        pinhole_rng rng;
        pinhole_rng_init_seeded(&rng, o.seed);
        for (uint32_t i = 0; i < n;) {
            const double u = 2 * pinhole_rng_unit(&rng) - 1, v = 2 * pinhole_rng_unit(&rng) - 1;
            const double r = sqrt(u * u + v * v);
            if (r < 0.45 || (r > 0.8 && r < 1.1))
                x[2 * i] = u, x[2 * i + 1] = v, y[i] = r < 0.45 ? 1 : -1, i++;
        }
        printf("generated: %u points of R^2 (disc vs ring), seed %llu\n", n,
               (unsigned long long)o.seed);
    } else {
        fprintf(stderr, "pinhole analyze two-layer: give --data FILE or --generate N\n");
        return CLI_USAGE;
    }
    pinhole_two_layer_options to = {.width = (uint32_t)o.width,
                                    .steps = (uint32_t)o.steps,
                                    .step = o.step,
                                    .output_only = o.output_only,
                                    .seed = o.seed,
                                    .record_every = (uint32_t)(o.steps / 10)};
    double *trace = malloc(sizeof *trace * 10);
    pinhole_two_layer_result r;
    double lp = NAN, t0 = pinhole_clock_mono();
    int rc =
        trace ? pinhole_two_layer_train(n, d, x, y, &to, NULL, NULL, trace, &r) : PINHOLE_ENOMEM;
    double t1 = pinhole_clock_mono();
    if (rc == PINHOLE_OK && o.directions)
        rc = pinhole_two_layer_lp_margin(n, d, x, y, (uint32_t)o.directions, o.seed, &lp, NULL);
    double t2 = pinhole_clock_mono();
    if (rc) {
        fprintf(stderr, "pinhole analyze two-layer: %s\n", pinhole_strerror(rc));
        free(x), free(y), free(trace);
        return rc == PINHOLE_EINVAL ? CLI_USAGE : CLI_FAIL;
    }
    printf("two-layer: n = %u, d = %u, m = %llu, %s, %u steps in %.3f s, loss %.3g\n", n, d,
           (unsigned long long)o.width, o.output_only ? "output layer only" : "both layers",
           r.steps, t1 - t0, r.loss);
    if (to.record_every) {
        printf("normalized margin every %u steps:", to.record_every);
        for (int i = 0; i < 10; i++)
            printf(" %.5f", trace[i]);
        printf("\n");
    }
    printf("normalized margin %.6f", r.margin);
    if (o.directions)
        printf("; LP max margin over %llu directions %.6f (%.3f s): ratio %.4f",
               (unsigned long long)o.directions, lp, t2 - t1, r.margin / lp);
    printf("\n");
    free(x), free(y), free(trace);
    return CLI_OK;
}

static double absdot(const double *a, const double *b, uint32_t d)
{
    double s = 0;
    for (uint32_t i = 0; i < d; i++)
        s += a[i] * b[i];
    return fabs(s);
}

static int job_single_location(int argc, char **argv)
{
    opts o = {.seed = 1, .d = 80, .L = 10, .gamma = sqrt(0.5), .noise = 0.1};
    const int parsed = parse(argc, argv, "single-location",
                             "data d L gamma noise steps batch step lambda0 decay seed quiet", &o);
    if (parsed != 0)
        return parsed > 0 ? CLI_OK : CLI_USAGE;
    if (o.d < 2 || o.d > PINHOLE_SL_MAXD || o.L < 1 || o.L > PINHOLE_SL_MAXL) {
        fprintf(stderr, "pinhole analyze single-location: need 2 <= --d <= %u, 1 <= --L <= %u\n",
                PINHOLE_SL_MAXD, PINHOLE_SL_MAXL);
        return CLI_USAGE;
    }
    const uint32_t d = (uint32_t)o.d, L = (uint32_t)o.L;
    pinhole_sl_options so = {.steps = o.steps,
                             .batch = (uint32_t)o.batch,
                             .step = o.step,
                             .lambda0 = o.lambda0,
                             .lambda_decay = o.decay,
                             .seed = o.seed,
                             .progress = progress_print,
                             .progress_ctx = &o};
    pinhole_sl_result r;
    double *k = malloc(sizeof *k * d), *v = malloc(sizeof *v * d);
    double *ks = malloc(sizeof *ks * d), *vs = malloc(sizeof *vs * d);
    int rc = PINHOLE_ENOMEM;
    if (!k || !v || !ks || !vs)
        goto out;
    double t0 = pinhole_clock_mono(), t1;
    if (o.data) {
        if (!o.have_d || !o.have_L) {
            fprintf(stderr, "pinhole analyze single-location: --data needs --d and --L\n");
            rc = PINHOLE_EINVAL;
            goto out;
        }
        uint32_t rows, cols;
        double *t;
        if (read_table("single-location", o.data, &rows, &cols, &t)) {
            free(k), free(v), free(ks), free(vs);
            return CLI_FAIL;
        }
        if ((uint64_t)cols != (uint64_t)L * d + 1) {
            fprintf(stderr,
                    "pinhole analyze single-location: rows have %u numbers, need L*d+1 = "
                    "%llu\n",
                    cols, (unsigned long long)L * d + 1);
            free(t);
            rc = PINHOLE_EFORMAT;
            goto out;
        }
        double *x = malloc(sizeof *x * rows * L * d), *y = malloc(sizeof *y * rows);
        if (x && y) {
            for (uint32_t i = 0; i < rows; i++) {
                memcpy(x + (size_t)i * L * d, t + (size_t)i * cols, sizeof *x * L * d);
                y[i] = t[(size_t)i * cols + L * d];
            }
            t0 = pinhole_clock_mono();
            rc = pinhole_sl_train_data(d, L, rows, x, y, &so, k, v, &r);
        }
        t1 = pinhole_clock_mono();
        free(t), free(x), free(y);
        if (rc)
            goto out;
        printf("single-location: %u samples, d = %u, L = %u, %llu steps in %.2f s, lambda %.5f, "
               "loss %.5f\n",
               rows, d, L, (unsigned long long)r.steps, t1 - t0, r.lambda, r.loss);
        printf("k =");
        for (uint32_t i = 0; i < d; i++)
            printf(" %.6f", k[i]);
        printf("\nv =");
        for (uint32_t i = 0; i < d; i++)
            printf(" %.6f", v[i]);
        printf("\n");
    } else {
        if ((rc = pinhole_sl_random_task(d, o.seed + 1000, ks, vs)))
            goto out;
        const pinhole_sl_task task = {d, L, o.gamma, o.noise, ks, vs};
        printf("online: d = %u, L = %u, gamma = %g, noise = %g, seed %llu\n", d, L, o.gamma,
               o.noise, (unsigned long long)o.seed);
        if ((rc = pinhole_sl_train_online(&task, &so, k, v, &r)))
            goto out;
        t1 = pinhole_clock_mono();
        double risk, se;
        if ((rc = pinhole_sl_excess_risk(&task, k, v, r.lambda, 100000, o.seed + 2, &risk, &se)))
            goto out;
        const double oracle = pinhole_sl_oracle_risk(d, L, o.gamma, r.lambda);
        printf("%llu steps in %.2f s; |<k,k*>| = %.5f, |<v,v*>| = %.5f\n",
               (unsigned long long)r.steps, t1 - t0, absdot(k, ks, d), absdot(v, vs, d));
        printf("excess risk at lambda = %.5f: %.5f +- %.5f (100000 test samples); oracle (k*, v*) "
               "closed form %.5f; ratio %.4f\n",
               r.lambda, risk, se, oracle, risk / oracle);
    }
    rc = PINHOLE_OK;
out:
    if (rc)
        fprintf(stderr, "pinhole analyze single-location: %s\n", pinhole_strerror(rc));
    free(k), free(v), free(ks), free(vs);
    return rc == PINHOLE_OK ? CLI_OK : rc == PINHOLE_EINVAL ? CLI_USAGE : CLI_FAIL;
}

int cli_analyze_opt(int argc, char **argv)
{
    static const cli_subcommand jobs[] = {{"nearest-correlation", job_ncm},
                                          {"maxcut", job_maxcut},
                                          {"two-layer", job_two_layer},
                                          {"single-location", job_single_location},
                                          {"multi", cli_analyze_multi}};
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        analyze_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    const int rc = cli_run_subcommand(jobs, sizeof jobs / sizeof jobs[0], argc - 1, argv + 1);
    if (rc >= 0)
        return rc;
    fprintf(stderr, "pinhole analyze: unknown job '%s'\n", argv[1]);
    analyze_usage(stderr);
    return CLI_USAGE;
}
