/* `pinhole analyze`: the analytics modules (consistency, topk, stream) on an estimates file or on a
 * simulation (users drawn from a count file, encoded with PGR, estimated per time bucket). */
#include "client/encode.h"
#include "common/error.h"
#include "common/mechanism.h"
#include "common/rng.h"
#include "server/analytics/consistency.h"
#include "server/analytics/stream.h"
#include "server/analytics/topk_prob.h"
#include "server/cli/cli.h"
#include "server/cli/cli_options.h"
#include "server/data/countfile.h"
#include "server/data/estfile.h"
#include "server/estimate/estimate.h"

#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void analyze_usage(FILE *f)
{
    fprintf(
        f,
        "usage: pinhole analyze MODULE [input] [module options] [--out FILE]\n"
        "modules:\n"
        "  consistency [--method project|mle] [--n N] [--iterations I]\n"
        "      a histogram (x >= 0, sum x = n) from the estimates: Euclidean projection onto the\n"
        "      simplex, or maximum likelihood from the report counts (mle: simulation only)\n"
        "  topk [--top K] [--samples M] [--noise gaussian|gumbel] [--sigma S] [--rows R]\n"
        "      each item's probability of being in the top K under the estimates' noise\n"
        "  stream [--eta E] [--project]\n"
        "      estimates over time buckets (one --in per bucket, in time order, or --buckets B)\n"
        "      by SGD steps with step E (default 0: the running mean, eta_t = 1/t)\n"
        "input (one of):\n"
        "  --in FILE       estimates: label<TAB>estimate[<TAB>variance] lines (counts, counts^2),\n"
        "                  an optional header; extra columns are ignored. Repeat for stream.\n"
        "  (no --in)       a simulation: [--counts FILE] [--users N] [--epsilon E] [--seed S]\n"
        "                  [--q Q] [--t T] [--buckets B]; defaults: SUBTLEX-US words, 1000000\n"
        "                  users, epsilon 4, a fresh seed (printed), 1 bucket (stream: 10)\n"
        "output: TSV on stdout or --out FILE (label, result, variance, then extra columns);\n"
        "        a summary on stderr. --seed also seeds topk's noise (default 1).\n"
        "optimization and learning modules: maxcut, nearest-correlation, single-location,\n"
        "  two-layer (run 'pinhole analyze maxcut --help' for their options).\n");
}

/* ---- input: estimates files ---- */

/* pinhole_estfile_read() with a message; 0 or -1. */
static int read_estimates(const char *path, pinhole_estfile *e)
{
    uint64_t line;
    const int rc = pinhole_estfile_read(path, e, &line);
    if (rc == PINHOLE_OK)
        return 0;
    if (rc == PINHOLE_EIO)
        fprintf(stderr, "pinhole analyze: cannot read %s\n", path);
    else if (rc == PINHOLE_EFORMAT)
        fprintf(stderr,
                "pinhole analyze: %s:%llu: expected label<TAB>estimate[<TAB>variance] with finite "
                "numbers, a variance >= 0 on every line or on none\n",
                path, (unsigned long long)line);
    else if (rc == PINHOLE_EINVAL)
        fprintf(stderr, "pinhole analyze: %s: no estimates\n", path);
    else
        fprintf(stderr, "pinhole analyze: %s: %s\n", path, pinhole_strerror(rc));
    return -1;
}

/* ---- input: a simulation ---- */

typedef struct simulation {
    pinhole_countfile cf;
    pinhole_config cfg;
    uint64_t buckets;
    uint64_t *n;       /* reports per bucket */
    uint64_t *y;       /* buckets x counts_len report counts */
    uint64_t *truth;   /* buckets x k true counts */
    double *est, *var; /* buckets x k unbiased estimates and their variance */
} simulation;

static void simulation_free(simulation *s)
{
    free(s->n);
    free(s->y);
    free(s->truth);
    free(s->est);
    free(s->var);
    pinhole_config_free(&s->cfg);
    pinhole_countfile_free(&s->cf);
    memset(s, 0, sizeof *s);
}

typedef struct sim_params {
    const char *counts;
    uint64_t users, seed, q, t, buckets;
    double epsilon;
} sim_params;

/* Users drawn from the count file, split evenly over the buckets in draw order, each encoded with
 * the client library and folded into its bucket's counts; then per-bucket estimates. 0 or -1. */
static int simulate(const sim_params *p, simulation *s)
{
    memset(s, 0, sizeof *s);
    uint64_t bad_line;
    int rc = pinhole_countfile_read(p->counts, &s->cf, &bad_line);
    if (rc != PINHOLE_OK) {
        char why[320];
        pinhole_countfile_describe(rc, p->counts, bad_line, why, sizeof why);
        fprintf(stderr, "pinhole analyze: %s\n", why);
        return -1;
    }
    pinhole_config_params par = {.mechanism = PINHOLE_MECH_PGR,
                                 .k = s->cf.k,
                                 .epsilon = p->epsilon,
                                 .q = (uint32_t)p->q,
                                 .t = (uint32_t)p->t};
    if ((rc = pinhole_config_init(&s->cfg, &par)) != PINHOLE_OK) {
        fprintf(stderr, "pinhole analyze: cannot configure PGR for k = %llu: %s\n",
                (unsigned long long)s->cf.k, pinhole_strerror(rc));
        pinhole_countfile_free(&s->cf);
        return -1;
    }
    const uint64_t k = s->cf.k, B = s->buckets = p->buckets, L = s->cfg.counts_len;
    if (B > SIZE_MAX / sizeof(double) / (L > k ? L : k)) {
        fprintf(stderr, "pinhole analyze: --buckets %llu is too many for k = %llu\n",
                (unsigned long long)B, (unsigned long long)k);
        simulation_free(s);
        return -1;
    }
    s->n = calloc(B, sizeof *s->n);
    s->y = calloc(B * L, sizeof *s->y);
    s->truth = calloc(B * k, sizeof *s->truth);
    s->est = malloc(B * k * sizeof *s->est);
    s->var = malloc(B * k * sizeof *s->var);
    if (!s->n || !s->y || !s->truth || !s->est || !s->var) {
        fprintf(stderr, "pinhole analyze: out of memory\n");
        simulation_free(s);
        return -1;
    }
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, p->seed);
    uint8_t payload[16];
    for (uint64_t i = 0; i < p->users && rc == PINHOLE_OK; i++) {
        const uint64_t b = i * B / p->users;
        const uint64_t lo = pinhole_countfile_sample(&s->cf, &rng);
        s->truth[b * k + lo]++;
        s->n[b]++;
        rc = pinhole_encode(&s->cfg, lo, &rng, payload, sizeof payload);
        if (rc == PINHOLE_OK)
            rc = pinhole_accumulate(&s->cfg, payload, s->cfg.payload_bytes, s->y + b * L);
    }
    for (uint64_t b = 0; b < B && rc == PINHOLE_OK; b++)
        rc = pinhole_estimate(&s->cfg, s->y + b * L, s->n[b], s->est + b * k, s->var + b * k);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "pinhole analyze: simulation failed: %s%s\n", pinhole_strerror(rc),
                rc == PINHOLE_ENOREPORTS ? " (a bucket got no users: raise --users)" : "");
        simulation_free(s);
        return -1;
    }
    fprintf(stderr,
            "simulation: %s, k = %llu, %llu users in %llu bucket(s), seed %llu; PGR epsilon = %g, "
            "q = %u, t = %u, K = %llu\n",
            p->counts, (unsigned long long)k, (unsigned long long)p->users, (unsigned long long)B,
            (unsigned long long)p->seed, p->epsilon, s->cfg.u.pgr.q, s->cfg.u.pgr.t,
            (unsigned long long)s->cfg.u.pgr.K);
    return 0;
}

/* ---- the modules ---- */

typedef struct opts {
    const char *module, *out, *method, *noise;
    const char *in[256];
    unsigned nin; /* --in files given */
    sim_params sim;
    int have_seed, have_n, project, have_sigma;
    double n, eta, sigma;
    uint64_t iterations, top, samples, rows;
} opts;

static FILE *open_out(const opts *o)
{
    if (!o->out)
        return stdout;
    FILE *f = fopen(o->out, "w");
    if (!f)
        fprintf(stderr, "pinhole analyze: cannot write %s\n", o->out);
    return f;
}

static int close_out(const opts *o, FILE *f)
{
    if (f == stdout)
        return fflush(f) == 0 ? 0 : -1;
    if (fclose(f) != 0) {
        fprintf(stderr, "pinhole analyze: cannot write %s\n", o->out);
        return -1;
    }
    (void)o;
    return 0;
}

/* Sum of |a - b| and of (a - b)^2 over k items. */
static void errors(const double *a, const uint64_t *b, uint64_t k, double *l1, double *l2)
{
    *l1 = *l2 = 0;
    for (uint64_t v = 0; v < k; v++) {
        const double d = a[v] - (double)b[v];
        *l1 += fabs(d);
        *l2 += d * d;
    }
}

static int run_consistency(const opts *o, uint64_t k, char **labels, const double *est,
                           const double *var, const simulation *sim)
{
    const int mle = strcmp(o->method, "mle") == 0;
    if (!mle && strcmp(o->method, "project") != 0) {
        fprintf(stderr, "pinhole analyze consistency: --method must be project or mle\n");
        return CLI_USAGE;
    }
    if (mle && !sim) {
        fprintf(stderr, "pinhole analyze consistency: --method mle needs the report counts: run it "
                        "on a simulation (no --in)\n");
        return CLI_USAGE;
    }
    double n = o->n;
    if (!o->have_n) {
        n = 0;
        if (sim)
            n = (double)sim->n[0];
        else
            for (uint64_t v = 0; v < k; v++)
                n += est[v];
        n = n > 0 ? n : 0;
    }
    double *x = malloc(k * sizeof *x);
    if (!x) {
        fprintf(stderr, "pinhole analyze: out of memory\n");
        return CLI_FAIL;
    }
    int rc;
    pinhole_mle_result res = {0};
    if (mle) {
        pinhole_mle_options mo = {.max_iterations = (uint32_t)o->iterations};
        rc = pinhole_pgr_mle(&sim->cfg.u.pgr, sim->y, &mo, x, NULL, &res, NULL);
    } else {
        rc = pinhole_simplex_project(est, k, n, x, NULL);
    }
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "pinhole analyze consistency: %s\n", pinhole_strerror(rc));
        free(x);
        return CLI_FAIL;
    }
    uint64_t neg = 0, zero = 0;
    for (uint64_t v = 0; v < k; v++)
        neg += est[v] < 0, zero += x[v] == 0;
    fprintf(stderr,
            "consistency (%s): k = %llu, n = %.0f; %llu negative estimates; %llu items set to 0\n",
            o->method, (unsigned long long)k, n, (unsigned long long)neg, (unsigned long long)zero);
    if (mle)
        fprintf(stderr, "mle: %u iterations, log-likelihood %.6f, gap <= %.3g nats, %s\n",
                res.iterations, res.loglik, res.gap, res.converged ? "converged" : "not converged");
    if (sim) {
        double l1a, l2a, l1b, l2b;
        errors(est, sim->truth, k, &l1a, &l2a);
        errors(x, sim->truth, k, &l1b, &l2b);
        fprintf(stderr,
                "error against the true counts: L1 %.6g -> %.6g, MSE per item %.6g -> %.6g\n", l1a,
                l1b, l2a / (double)k, l2b / (double)k);
    }
    FILE *f = open_out(o);
    if (!f) {
        free(x);
        return CLI_FAIL;
    }
    fprintf(f, "item\t%s\tvariance\testimate%s\n", o->method, sim ? "\ttrue" : "");
    for (uint64_t v = 0; v < k; v++) {
        pinhole_estfile_write_row(f, labels[v], x[v], var ? &var[v] : NULL);
        fprintf(f, "\t%.17g", est[v]);
        if (sim)
            fprintf(f, "\t%llu", (unsigned long long)sim->truth[v]);
        fputc('\n', f);
    }
    free(x);
    return close_out(o, f) == 0 ? CLI_OK : CLI_FAIL;
}

/* qsort has no context argument in C11: the primary and (may be NULL) secondary sort keys */
static const double *g_sort_key, *g_sort_key2;

static int by_key_desc(const void *a, const void *b)
{
    const uint64_t i = *(const uint64_t *)a, j = *(const uint64_t *)b;
    if (g_sort_key[i] != g_sort_key[j])
        return g_sort_key[i] > g_sort_key[j] ? -1 : 1;
    if (g_sort_key2 && g_sort_key2[i] != g_sort_key2[j])
        return g_sort_key2[i] > g_sort_key2[j] ? -1 : 1;
    return i < j ? -1 : 1;
}

static int run_topk(const opts *o, uint64_t k, char **labels, const double *est, const double *var,
                    const simulation *sim)
{
    pinhole_topk_options to = {
        .top = o->top, .samples = o->samples, .seed = o->have_seed ? o->sim.seed : 1};
    if (strcmp(o->noise, "gaussian") == 0)
        to.noise = PINHOLE_NOISE_GAUSSIAN;
    else if (strcmp(o->noise, "gumbel") == 0)
        to.noise = PINHOLE_NOISE_GUMBEL;
    else {
        fprintf(stderr, "pinhole analyze topk: --noise must be gaussian or gumbel\n");
        return CLI_USAGE;
    }
    if (o->top == 0 || o->top > k) {
        fprintf(stderr, "pinhole analyze topk: --top must be between 1 and k = %llu\n",
                (unsigned long long)k);
        return CLI_USAGE;
    }
    if (!var && !o->have_sigma) {
        fprintf(stderr,
                "pinhole analyze topk: the estimates have no variance column; give --sigma\n");
        return CLI_USAGE;
    }
    double *sigma = malloc(k * sizeof *sigma), *prob = malloc(k * sizeof *prob);
    uint64_t *order = malloc(k * sizeof *order), *rank = malloc(k * sizeof *rank);
    int ret = CLI_FAIL;
    if (!sigma || !prob || !order || !rank) {
        fprintf(stderr, "pinhole analyze: out of memory\n");
        goto out;
    }
    for (uint64_t v = 0; v < k; v++)
        sigma[v] = o->have_sigma ? o->sigma : sqrt(var[v]);
    pinhole_topk_result res;
    const int rc = pinhole_topk_prob(est, sigma, k, &to, prob, NULL, NULL, &res, NULL);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "pinhole analyze topk: %s\n", pinhole_strerror(rc));
        goto out;
    }
    /* true ranks (simulation) to show which of the listed items are truly in the top k */
    if (sim) {
        double *t = malloc(k * sizeof *t);
        if (!t) {
            fprintf(stderr, "pinhole analyze: out of memory\n");
            goto out;
        }
        for (uint64_t v = 0; v < k; v++)
            t[v] = (double)sim->truth[v], order[v] = v;
        g_sort_key = t, g_sort_key2 = NULL;
        qsort(order, k, sizeof *order, by_key_desc);
        for (uint64_t i = 0; i < k; i++)
            rank[order[i]] = i + 1;
        free(t);
    }
    for (uint64_t v = 0; v < k; v++)
        order[v] = v;
    g_sort_key = prob, g_sort_key2 = est;
    qsort(order, k, sizeof *order, by_key_desc);
    double expected = 0, sure = 0;
    for (uint64_t v = 0; v < k; v++)
        sure += prob[v] >= 0.95;
    if (sim)
        for (uint64_t v = 0; v < k; v++)
            expected += rank[v] <= o->top ? prob[v] : 0;
    fprintf(
        stderr,
        "topk: top %llu of %llu items, %llu samples of %s noise; smoothed max %.6g +- %.2g (se);"
        " %.0f items in the top %llu with probability >= 0.95\n",
        (unsigned long long)o->top, (unsigned long long)k, (unsigned long long)res.samples,
        o->noise, res.max_mean, res.max_se, sure, (unsigned long long)o->top);
    if (sim)
        fprintf(stderr, "expected number of true top-%llu items in the perturbed top %llu: %.3f\n",
                (unsigned long long)o->top, (unsigned long long)o->top, expected);
    FILE *f = open_out(o);
    if (!f)
        goto out;
    fprintf(f, "item\testimate\tvariance\tp_top%llu%s\n", (unsigned long long)o->top,
            sim ? "\ttrue_rank" : "");
    const uint64_t rows = o->rows ? (o->rows < k ? o->rows : k) : (2 * o->top < k ? 2 * o->top : k);
    for (uint64_t i = 0; i < rows; i++) {
        const uint64_t v = order[i];
        const double v2 = sigma[v] * sigma[v];
        pinhole_estfile_write_row(f, labels[v], est[v], &v2);
        fprintf(f, "\t%.6f", prob[v]);
        if (sim)
            fprintf(f, "\t%llu", (unsigned long long)rank[v]);
        fputc('\n', f);
    }
    ret = close_out(o, f) == 0 ? CLI_OK : CLI_FAIL;
out:
    free(sigma);
    free(prob);
    free(order);
    free(rank);
    return ret;
}

/* stream over B buckets of k estimates (est[b * k + v]); var may be NULL; n[b] per bucket. */
static int run_stream(const opts *o, uint64_t k, uint64_t B, char **labels, const double *est,
                      const double *var, const double *n, const simulation *sim)
{
    double *x = malloc(k * sizeof *x), *xv = var ? malloc(k * sizeof *xv) : NULL;
    if (!x || (var && !xv)) {
        free(x);
        free(xv);
        fprintf(stderr, "pinhole analyze: out of memory\n");
        return CLI_FAIL;
    }
    pinhole_stream s;
    int rc = pinhole_stream_init(&s, k, o->eta, o->project, x, xv);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "pinhole analyze stream: --eta must be 0 (1/t) or in (0, 1]\n");
        free(x);
        free(xv);
        return CLI_USAGE;
    }
    for (uint64_t b = 0; b < B && rc == PINHOLE_OK; b++) {
        rc = pinhole_stream_update(&s, est + b * k, var ? var + b * k : NULL, n[b]);
        if (rc == PINHOLE_OK) {
            double mv = 0;
            if (xv)
                for (uint64_t v = 0; v < k; v++)
                    mv += xv[v];
            fprintf(stderr, "bucket %llu: %.0f reports", (unsigned long long)(b + 1), n[b]);
            if (xv)
                fprintf(stderr, "; mean variance per item %.6g", mv / (double)k);
            if (sim) {
                double l1, l2;
                errors(x, sim->truth + b * k, k, &l1, &l2);
                fprintf(stderr, "; MSE per item against this bucket's truth %.6g", l2 / (double)k);
            }
            fputc('\n', stderr);
        }
    }
    int ret = CLI_FAIL;
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "pinhole analyze stream: %s\n", pinhole_strerror(rc));
    } else {
        FILE *f = open_out(o);
        if (f) {
            fprintf(f, "item\tstream\tvariance\n");
            for (uint64_t v = 0; v < k; v++) {
                pinhole_estfile_write_row(f, labels[v], x[v], xv ? &xv[v] : NULL);
                fputc('\n', f);
            }
            ret = close_out(o, f) == 0 ? CLI_OK : CLI_FAIL;
        }
    }
    free(x);
    free(xv);
    return ret;
}

/* Parse the module's options (argv[0] is the module); 0, 1 after --help, -1 on a usage error. */
static int parse(int argc, char **argv, opts *o)
{
    const uint64_t u32 = UINT32_MAX;
    int nin = 0;
    const cli_opt table[] = {
        CLI_OPT("project", CLI_OPT_FLAG, &o->project),
        CLI_OPT("in", CLI_OPT_LIST, o->in, .given = &nin, .max = sizeof o->in / sizeof o->in[0]),
        CLI_OPT("out", CLI_OPT_STRING, &o->out),
        CLI_OPT("method", CLI_OPT_STRING, &o->method),
        CLI_OPT("noise", CLI_OPT_STRING, &o->noise),
        CLI_OPT("counts", CLI_OPT_STRING, &o->sim.counts),
        CLI_OPT("users", CLI_OPT_U64, &o->sim.users, .min = 1),
        CLI_OPT("epsilon", CLI_OPT_EPSILON, &o->sim.epsilon),
        CLI_OPT("seed", CLI_OPT_U64, &o->sim.seed, .given = &o->have_seed),
        CLI_OPT("q", CLI_OPT_U64, &o->sim.q, .max = u32),
        CLI_OPT("t", CLI_OPT_U64, &o->sim.t, .max = u32),
        CLI_OPT("buckets", CLI_OPT_U64, &o->sim.buckets, .min = 1),
        CLI_OPT("n", CLI_OPT_DOUBLE, &o->n, .given = &o->have_n),
        CLI_OPT("iterations", CLI_OPT_U64, &o->iterations, .max = u32),
        CLI_OPT("top", CLI_OPT_U64, &o->top),
        CLI_OPT("samples", CLI_OPT_U64, &o->samples),
        CLI_OPT("rows", CLI_OPT_U64, &o->rows),
        CLI_OPT("sigma", CLI_OPT_DOUBLE, &o->sigma, .given = &o->have_sigma),
        CLI_OPT("eta", CLI_OPT_DOUBLE, &o->eta),
        {0}};
    char name[64];
    snprintf(name, sizeof name, "analyze %s", o->module);
    const cli_command cmd = {.name = name, .opts = table, .usage = analyze_usage};
    const int p = cli_parse(&cmd, argc, argv);
    o->nin = (unsigned)nin;
    if (p != 0)
        return p;
    const char *why = o->sim.buckets > o->sim.users       ? "--buckets must be at most --users"
                      : o->have_n && !(o->n >= 0)         ? "--n must be >= 0"
                      : o->have_sigma && !(o->sigma >= 0) ? "--sigma must be >= 0"
                      : !(o->eta >= 0 && o->eta <= 1)     ? "--eta must be in [0, 1]"
                                                          : NULL;
    if (why) {
        fprintf(stderr, "pinhole analyze %s: %s\n", o->module, why);
        return -1;
    }
    return 0;
}

/* Run `pinhole-optimize JOB ARGS...` in place of this process: the optimization modules live in a
 * program of their own so that `pinhole` itself does not link LAPACK and GLPK. It is looked for
 * next to this executable (the build tree), then in the install's libexec directory. Returns only
 * when neither can be run (CLI_FAIL, with a message). */
static int run_optimize(int argc, char **argv)
{
    static const char name[] = "pinhole-optimize";
    char self[4096], beside[4096 + sizeof name];
    const char *paths[2] = {NULL, PINHOLE_LIBEXECDIR "/pinhole-optimize"};
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            slash[1] = '\0';
            snprintf(beside, sizeof beside, "%s%s", self, name);
            paths[0] = beside;
        }
    }
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args) {
        fprintf(stderr, "pinhole analyze: out of memory\n");
        return CLI_FAIL;
    }
    for (int i = 1; i < argc; i++)
        args[i] = argv[i];
    for (size_t i = 0; i < 2; i++) {
        if (!paths[i] || access(paths[i], X_OK) != 0)
            continue;
        args[0] = (char *)paths[i];
        execv(paths[i], args);
        fprintf(stderr, "pinhole analyze: cannot run %s: %s\n", paths[i], strerror(errno));
        free(args);
        return CLI_FAIL;
    }
    fprintf(stderr, "pinhole analyze %s: %s not found (looked beside this program and in %s)\n",
            argv[1], name, PINHOLE_LIBEXECDIR);
    free(args);
    return CLI_FAIL;
}

int cli_analyze(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        const int help =
            argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
        analyze_usage(help ? stdout : stderr);
        return help ? CLI_OK : CLI_USAGE;
    }
    if (!strcmp(argv[1], "nearest-correlation") || !strcmp(argv[1], "maxcut") ||
        !strcmp(argv[1], "two-layer") || !strcmp(argv[1], "single-location") ||
        !strcmp(argv[1], "multi"))
        return run_optimize(argc, argv);
    opts o = {
        .module = argv[1],
        .method = "project",
        .noise = "gaussian",
        .top = 10,
        .sim = {.counts = cli_default_counts(), .users = 1000000, .epsilon = 4, .buckets = 0}};
    const int is_stream = strcmp(o.module, "stream") == 0;
    if (!is_stream && strcmp(o.module, "consistency") != 0 && strcmp(o.module, "topk") != 0) {
        fprintf(stderr, "pinhole analyze: unknown module '%s'\n", o.module);
        analyze_usage(stderr);
        return CLI_USAGE;
    }
    o.sim.buckets = is_stream ? 10 : 1;
    const int p = parse(argc - 1, argv + 1, &o);
    if (p != 0)
        return p > 0 ? CLI_OK : CLI_USAGE;
    if (o.nin > 1 && !is_stream) {
        fprintf(stderr, "pinhole analyze %s: one --in file (several are buckets for stream)\n",
                o.module);
        return CLI_USAGE;
    }
    if (!o.have_seed && o.nin == 0)
        randombytes_buf(&o.sim.seed, sizeof o.sim.seed);

    int ret = CLI_FAIL;
    if (o.nin == 0) {
        simulation sim;
        if (simulate(&o.sim, &sim) != 0)
            return CLI_FAIL;
        const uint64_t k = sim.cf.k;
        if (is_stream) {
            double *n = malloc(sim.buckets * sizeof *n);
            if (n) {
                for (uint64_t b = 0; b < sim.buckets; b++)
                    n[b] = (double)sim.n[b];
                ret = run_stream(&o, k, sim.buckets, sim.cf.labels, sim.est, sim.var, n, &sim);
            }
            free(n);
        } else if (sim.buckets != 1) {
            fprintf(stderr, "pinhole analyze %s: --buckets is for stream\n", o.module);
            ret = CLI_USAGE;
        } else if (strcmp(o.module, "consistency") == 0) {
            ret = run_consistency(&o, k, sim.cf.labels, sim.est, sim.var, &sim);
        } else {
            ret = run_topk(&o, k, sim.cf.labels, sim.est, sim.var, &sim);
        }
        simulation_free(&sim);
        return ret;
    }

    pinhole_estfile e[256];
    memset(e, 0, sizeof e);
    unsigned loaded = 0;
    for (; loaded < o.nin; loaded++)
        if (read_estimates(o.in[loaded], &e[loaded]) != 0)
            goto done;
    const uint64_t k = e[0].k;
    for (unsigned i = 1; i < o.nin; i++)
        if (e[i].k != k || (e[i].variance == NULL) != (e[0].variance == NULL)) {
            fprintf(stderr, "pinhole analyze stream: %s has %llu items%s, %s has %llu\n", o.in[i],
                    (unsigned long long)e[i].k, e[i].variance ? "" : " (no variance)", o.in[0],
                    (unsigned long long)k);
            ret = CLI_USAGE;
            goto done;
        }
    if (is_stream) {
        const uint64_t B = o.nin;
        double *est = malloc(B * k * sizeof *est), *n = calloc(B, sizeof *n);
        double *var = e[0].variance ? malloc(B * k * sizeof *var) : NULL;
        if (est && n && (var || !e[0].variance)) {
            for (uint64_t b = 0; b < B; b++) {
                memcpy(est + b * k, e[b].estimate, k * sizeof *est);
                if (var)
                    memcpy(var + b * k, e[b].variance, k * sizeof *var);
                for (uint64_t v = 0; v < k; v++)
                    n[b] += e[b].estimate[v]; /* unbiased for the bucket's number of reports */
                n[b] = n[b] > 0 ? n[b] : 0;
            }
            ret = run_stream(&o, k, B, e[0].labels, est, var, n, NULL);
        } else {
            fprintf(stderr, "pinhole analyze: out of memory\n");
        }
        free(est);
        free(n);
        free(var);
    } else if (strcmp(o.module, "consistency") == 0) {
        ret = run_consistency(&o, k, e[0].labels, e[0].estimate, e[0].variance, NULL);
    } else {
        ret = run_topk(&o, k, e[0].labels, e[0].estimate, e[0].variance, NULL);
    }
done:
    for (unsigned i = 0; i < loaded; i++)
        pinhole_estfile_free(&e[i]);
    return ret;
}
