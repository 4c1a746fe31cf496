/* PGR reconstruction + unbiased estimates: wall time, page faults and peak RSS, one JSON line.
 * usage: bench_reconstruct [--k K] [--epsilon E] [--threads N] [--reports N]
 *                          [--method dp|enum|auto] [--q Q] [--repeat R] [--calls fresh|kept]
 * Defaults: k = 3,307,948, epsilon = 5, threads = online cores, reports = 10^9 (counts drawn at
 * random so they sum to about that), R = 1 call. --calls fresh (default) does what a caller without
 * a workspace does: each call allocates the totals and the estimates and reconstructs with a
 * temporary workspace (pinhole_pgr_reconstruct_ex + pinhole_pgr_estimate); --calls kept keeps one
 * workspace and the estimates' array across calls and writes the estimates directly
 * (pinhole_pgr_reconstruct_estimate). Printed: the first call's wall time and minor page faults,
 * the median wall time, CPU time and minor faults of calls 2..R, the best wall time ("seconds"),
 * and peak RSS (the process's maximum: take it from R = 1). The scaling table in
 * docs/BENCHMARKS.md runs one process per (k, epsilon).
 * The clock is clock_gettime, not common/clock.h: `make bench` builds this file against its
 * baseline tree too (tests/bench/bench_base.sh), which predates that module. */
#include "common/error.h"
#include "common/rng.h"
#include "server/estimate/pgr.h"
#include "server/estimate/pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0; /* ru_maxrss is in KiB on Linux */
}

static long minflt_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

static int by_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median of v[0..n), n >= 1 (v is sorted) */
static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof *v, by_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int run(uint64_t k, double eps, uint32_t q, unsigned threads, uint64_t reports,
               pinhole_pgr_method method, unsigned repeat, int kept)
{
    pinhole_pgr g;
    int rc = pinhole_pgr_init(&g, k, eps, q, 0);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "bench_reconstruct: %s\n", pinhole_strerror(rc));
        return 1;
    }
    uint64_t *y = malloc(g.K * sizeof *y);
    if (!y) {
        pinhole_pgr_free(&g);
        return 1;
    }
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 2026);
    const uint64_t span = 2 * reports / g.K + 1; /* counts uniform in [0, span) */
    uint64_t n = 0;
    for (uint64_t h = 0; h < g.K; h++)
        n += y[h] = pinhole_rng_uniform64(&rng, span);
    if (n == 0)
        n += y[0] = 1;
    double best = 1e300, checksum = 0;
    double *wall = malloc(repeat * sizeof *wall), *cpu = malloc(repeat * sizeof *cpu);
    double *flt = malloc(repeat * sizeof *flt);
#ifdef PINHOLE_PGR_HAVE_WORKSPACE
    pinhole_pgr_workspace *ws = kept ? pinhole_pgr_workspace_new() : NULL;
#else /* a tree before the workspace: fresh calls only */
    if (kept) {
        fprintf(stderr, "bench_reconstruct: no workspace in this build\n");
        return 2;
    }
    void *ws = NULL;
#endif
    double *kept_est = kept ? malloc(k * sizeof *kept_est) : NULL;
    if (!wall || !cpu || !flt || (kept && (!ws || !kept_est)))
        rc = PINHOLE_ENOMEM;
    unsigned done = 0;
    for (unsigned r = 0; r < repeat && rc == PINHOLE_OK; r++) {
        const long f0 = minflt_now();
        const double t0 = now(), c0 = cpu_now();
        uint64_t *T = NULL;
        double *est = kept_est;
#ifdef PINHOLE_PGR_HAVE_WORKSPACE
        const pinhole_pgr_reconstruct_options opt = {
            .method = method, .threads = threads, .workspace = ws};
        if (kept) {
            rc = pinhole_pgr_reconstruct_estimate(&g, y, est, &opt);
        } else {
#else
        const pinhole_pgr_reconstruct_options opt = {.method = method, .threads = threads};
        {
#endif
            T = malloc(k * sizeof *T);
            est = malloc(k * sizeof *est);
            if (!T || !est) {
                rc = PINHOLE_ENOMEM;
            } else {
                rc = pinhole_pgr_reconstruct_ex(&g, y, T, &opt);
                if (rc == PINHOLE_OK)
                    rc = pinhole_pgr_estimate(&g, T, n, est);
            }
        }
        const double s = now() - t0, cs = cpu_now() - c0;
        flt[r] = (double)(minflt_now() - f0);
        if (rc == PINHOLE_OK) {
            checksum = 0;
            for (uint64_t v = 0; v < k; v += 1 + k / 1000)
                checksum += est[v];
        }
        free(T);
        if (!kept)
            free(est);
        wall[r] = s;
        cpu[r] = cs;
        done++;
        if (s < best)
            best = s;
    }
#ifdef PINHOLE_PGR_HAVE_WORKSPACE
    pinhole_pgr_workspace_free(ws);
#endif
    free(kept_est);
    double first = 0, first_flt = 0, med = 0, med_cpu = 0, med_flt = 0;
    if (done > 0) {
        first = wall[0];
        first_flt = flt[0];
        med = done > 1 ? median(wall + 1, done - 1) : wall[0];
        med_cpu = done > 1 ? median(cpu + 1, done - 1) : cpu[0];
        med_flt = done > 1 ? median(flt + 1, done - 1) : flt[0];
    }
    free(wall);
    free(cpu);
    free(flt);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "bench_reconstruct: %s\n", pinhole_strerror(rc));
    } else {
        pinhole_pgr_cost_estimate c;
        pinhole_pgr_cost_model(g.q, g.t, g.K, g.k, threads, &c);
        const char *name = method == PINHOLE_PGR_DP             ? "dp"
                           : method == PINHOLE_PGR_ENUM         ? "enum"
                           : c.algorithm == PINHOLE_PGR_ALGO_DP ? "auto:dp"
                                                                : "auto:enum";
        printf("{\"bench\":\"reconstruct\",\"k\":%llu,\"epsilon\":%g,\"q\":%u,\"t\":%u,\"K\":%llu,"
               "\"Kqt\":%.4g,\"threads\":%u,\"method\":\"%s\",\"calls\":\"%s\",\"repeat\":%u,"
               "\"reports\":%llu,\"count_bits\":%u,\"seconds\":%.4f,\"first_seconds\":%.4f,"
               "\"median_seconds\":%.4f,\"cpu_seconds\":%.4f,\"minflt_first\":%.0f,"
               "\"minflt_repeat\":%.0f,\"model_seconds\":%.4f,\"peak_rss_mb\":%.1f,"
               "\"checksum\":%.6g}\n",
               (unsigned long long)k, eps, g.q, g.t, (unsigned long long)g.K,
               (double)g.K * g.q * g.t, threads, name, kept ? "kept" : "fresh", repeat,
               (unsigned long long)n,
               n <= UINT16_MAX   ? 16u
               : n <= UINT32_MAX ? 32u
                                 : 64u,
               best, first, med, med_cpu, first_flt, med_flt,
               method == PINHOLE_PGR_ENUM ? c.enum_seconds : c.dp_seconds, peak_rss_mb(), checksum);
        fflush(stdout);
    }
    free(y);
    pinhole_pgr_free(&g);
    return rc == PINHOLE_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    uint64_t k = 3307948, reports = 1000000000;
    double eps = 5;
    unsigned threads = pinhole_online_cores(), repeat = 1;
    int kept = 0;
    uint32_t q = 0;
    pinhole_pgr_method method = PINHOLE_PGR_DP;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "bench_reconstruct: missing value for %s\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--k") == 0)
            k = strtoull(v, NULL, 10);
        else if (strcmp(a, "--epsilon") == 0)
            eps = strtod(v, NULL);
        else if (strcmp(a, "--threads") == 0)
            threads = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--reports") == 0)
            reports = strtoull(v, NULL, 10);
        else if (strcmp(a, "--q") == 0)
            q = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--repeat") == 0)
            repeat = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--calls") == 0)
            kept = strcmp(v, "kept") == 0;
        else if (strcmp(a, "--method") == 0)
            method = strcmp(v, "enum") == 0   ? PINHOLE_PGR_ENUM
                     : strcmp(v, "auto") == 0 ? PINHOLE_PGR_AUTO
                                              : PINHOLE_PGR_DP;
        else {
            fprintf(stderr, "bench_reconstruct: unknown option %s\n", a);
            return 2;
        }
    }
    if (threads == 0 || repeat == 0)
        return 2;
    return run(k, eps, q, threads, reports, method, repeat, kept);
}
