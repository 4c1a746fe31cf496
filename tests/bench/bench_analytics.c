/* Time of each analytics module at one domain size k: the simplex projection, one EM
 * iteration of the PGR maximum likelihood, topk_prob per sample, and one stream update. Prints
 * one JSON line per measurement with wall and CPU seconds (the CPU time is steadier on a shared
 * machine). usage: bench_analytics [k] [epsilon] [users] [topk_samples] [em_iterations] */
#include "client/pgr.h"
#include "common/error.h"
#include "server/analytics/consistency.h"
#include "server/analytics/noise.h"
#include "server/analytics/stream.h"
#include "server/analytics/topk_prob.h"
#include "server/estimate/pgr.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct stamp {
    struct timespec wall, cpu;
} stamp;

static stamp now(void)
{
    stamp s;
    clock_gettime(CLOCK_MONOTONIC, &s.wall);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &s.cpu);
    return s;
}

static double secs(struct timespec a, struct timespec b)
{
    return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
}

/* One JSON line: reps units took w wall and c CPU seconds. */
static void report_secs(const char *module, uint64_t k, const char *unit, uint64_t reps, double w,
                        double c, const char *extra)
{
    printf(
        "{\"bench\":\"analytics\",\"module\":\"%s\",\"k\":%llu,\"%s\":%llu,\"wall_seconds\":%.4f,"
        "\"cpu_seconds\":%.4f,\"cpu_seconds_per_%s\":%.6f%s}\n",
        module, (unsigned long long)k, unit, (unsigned long long)reps, w, c, unit, c / (double)reps,
        extra);
    fflush(stdout);
}

static void report(const char *module, uint64_t k, const char *unit, uint64_t reps, stamp a,
                   stamp b, const char *extra)
{
    report_secs(module, k, unit, reps, secs(a.wall, b.wall), secs(a.cpu, b.cpu), extra);
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_analytics: %s: %s\n", what, pinhole_strerror(rc));
    exit(1);
}

int main(int argc, char **argv)
{
    const uint64_t k = argc > 1 ? strtoull(argv[1], NULL, 10) : 74286;
    const double eps = argc > 2 ? strtod(argv[2], NULL) : 4.0;
    const uint64_t users = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000000;
    const uint64_t samples = argc > 4 ? strtoull(argv[4], NULL, 10) : 100;
    const uint32_t em_it = argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 10) : 5;
    if (sodium_init() < 0 || k < 2 || users == 0)
        return 1;
    pinhole_pgr g;
    int rc = pinhole_pgr_init(&g, k, eps, 0, 0);
    if (rc != PINHOLE_OK)
        die("pinhole_pgr_init", rc);

    /* users from a Zipf-like law over the items, encoded: report counts, then unbiased estimates */
    uint64_t *y = calloc(g.K, sizeof *y), *T = malloc(k * sizeof *T);
    double *est = malloc(k * sizeof *est), *var = malloc(k * sizeof *var);
    double *x = malloc(k * sizeof *x), *sd = malloc(k * sizeof *sd);
    if (!y || !T || !est || !var || !x || !sd)
        die("setup", PINHOLE_ENOMEM);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 2026);
    /* v = floor(k^u) - 1 for u uniform on [0, 1): P[v] = log((v + 2)/(v + 1)) / log k, Zipf-like */
    for (uint64_t i = 0; i < users; i++) {
        uint64_t v = (uint64_t)exp(pinhole_rng_unit(&rng) * log((double)k)) - 1;
        v = v < k ? v : k - 1;
        uint64_t rep;
        pinhole_pgr_encode(&g, v, &rng, &rep);
        y[rep]++;
    }
    if ((rc = pinhole_pgr_reconstruct(&g, y, T, PINHOLE_PGR_AUTO)) != PINHOLE_OK ||
        (rc = pinhole_pgr_estimate(&g, T, users, est)) != PINHOLE_OK)
        die("estimate", rc);
    for (uint64_t v = 0; v < k; v++) {
        var[v] = pinhole_pgr_variance(&g, (double)users, est[v] > 0 ? est[v] : 0);
        sd[v] = sqrt(var[v]);
    }
    char extra[160];
    snprintf(extra, sizeof extra, ",\"epsilon\":%g,\"q\":%u,\"t\":%u,\"K\":%llu,\"users\":%llu",
             eps, g.q, g.t, (unsigned long long)g.K, (unsigned long long)users);

    enum { PROJ_REPS = 5 };
    stamp a = now();
    for (int r = 0; r < PROJ_REPS; r++)
        if ((rc = pinhole_simplex_project(est, k, (double)users, x, NULL)) != PINHOLE_OK)
            die("project", rc);
    stamp b = now();
    report("consistency_project", k, "call", PROJ_REPS, a, b, extra);

    /* two runs, 1 and 1 + em_it iterations: the difference is em_it iterations, the rest is the
     * start (reconstruction, projection, first log-likelihood) and the final gap */
    stamp m[4];
    pinhole_mle_result mr;
    for (int run = 0; run < 2; run++) {
        pinhole_mle_options mo = {.max_iterations = run ? 1 + em_it : 1, .tolerance = 1e-300};
        m[2 * run] = now();
        if ((rc = pinhole_pgr_mle(&g, y, &mo, x, NULL, &mr, NULL)) != PINHOLE_OK)
            die("mle", rc);
        m[2 * run + 1] = now();
    }
    report_secs("consistency_mle_iteration", k, "iteration", em_it,
                secs(m[2].wall, m[3].wall) - secs(m[0].wall, m[1].wall),
                secs(m[2].cpu, m[3].cpu) - secs(m[0].cpu, m[1].cpu), extra);
    report("consistency_mle_one_iteration_run", k, "run", 1, m[0], m[1], extra);

    double *p = malloc(k * sizeof *p);
    pinhole_topk_options to = {.top = 10, .samples = samples, .seed = 1};
    pinhole_topk_result tr;
    a = now();
    if (!p || (rc = pinhole_topk_prob(est, sd, k, &to, p, NULL, NULL, &tr, NULL)) != PINHOLE_OK)
        die("topk", rc ? rc : PINHOLE_ENOMEM);
    b = now();
    report("topk_prob_gaussian_top10", k, "sample", samples, a, b, extra);
    to.noise = PINHOLE_NOISE_GUMBEL;
    to.top = k / 10;
    a = now();
    if ((rc = pinhole_topk_prob(est, sd, k, &to, p, NULL, NULL, &tr, NULL)) != PINHOLE_OK)
        die("topk", rc);
    b = now();
    report("topk_prob_gumbel_top_k/10", k, "sample", samples, a, b, extra);
    free(p);

    enum { STEPS = 50 };
    double *h = malloc(k * sizeof *h), *sv = malloc(k * sizeof *sv);
    if (!h || !sv)
        die("stream", PINHOLE_ENOMEM);
    for (int proj = 0; proj < 2; proj++) {
        pinhole_stream s;
        pinhole_stream_init(&s, k, 0.1, proj, x, sv);
        a = now();
        for (int t = 0; t < STEPS; t++) {
            for (uint64_t v = 0; v < k; v++)
                h[v] = est[v] + (double)(t % 7);
            if ((rc = pinhole_stream_update(&s, h, var, (double)users)) != PINHOLE_OK)
                die("stream", rc);
        }
        b = now();
        report(proj ? "stream_projected" : "stream", k, "update", STEPS, a, b, extra);
    }
    free(h), free(sv), free(y), free(T), free(est), free(var), free(x), free(sd);
    pinhole_pgr_free(&g);
    return 0;
}
