/* The reconstruction cost model against measured time: for each row of the scaling table in
 * docs/BENCHMARKS.md plus t = 3 rows with large q, the model's predicted seconds and the measured
 * wall and CPU seconds of reconstruction + estimates (best of R runs), and their ratio.
 * usage: bench_cost_model [--threads N] [--repeat R] [--quick]
 * Defaults: 1 thread, compared by CPU time (the stable figure on a shared machine; with more
 * threads, wall time), R = 3. --quick skips the rows
 * over a second. Exit status 1 when a row's measured/predicted ratio lies outside [1/2, 2]. */
#include "common/clock.h"
#include "common/error.h"
#include "common/rng.h"
#include "server/estimate/pgr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct row {
    uint64_t k;
    double epsilon;
    uint32_t q; /* 0: the planner's default */
} row;

/* docs/BENCHMARKS.md, "Scaling: k x epsilon" (the q the planner chose when it was taken), then
 * t = 3 with large q (one block, run from memory), then the planner's current defaults */
static const row rows[] = {
    {1000, 1, 4},      {1000, 2, 8},       {1000, 3, 23},     {1000, 4, 53},     {1000, 5, 149},
    {10000, 1, 4},     {10000, 2, 8},      {10000, 3, 23},    {10000, 4, 53},    {10000, 5, 149},
    {100000, 1, 4},    {100000, 2, 8},     {100000, 3, 23},   {100000, 4, 53},   {100000, 5, 149},
    {1000000, 1, 4},   {1000000, 2, 8},    {1000000, 3, 23},  {1000000, 4, 53},  {1000000, 5, 149},
    {10000000, 1, 4},  {10000000, 2, 8},   {10000000, 3, 19}, {10000000, 4, 59}, {10000000, 5, 67},
    {259000, 8, 509},  {1042441, 8, 1021}, {165321, 8, 1499}, {165321, 8, 2039}, {165321, 8, 2503},
    {165321, 8, 2971}, {165321, 8, 0},     {165321, 4, 0},    {74286, 4, 0},     {74286, 8, 0},
    {3307948, 5, 0},
};

int main(int argc, char **argv)
{
    unsigned threads = 1, repeat = 3;
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = (unsigned)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: bench_cost_model [--threads N] [--repeat R] [--quick]\n");
            return 2;
        }
    }
    if (threads == 0 || repeat == 0)
        return 2;
    printf("%9s %3s %5s %2s %9s %5s %10s %10s %10s %8s\n", "k", "eps", "q", "t", "K", "algo",
           "model s", "wall s", "cpu s", "meas/mod");
    int outside = 0;
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        pinhole_pgr g;
        if (pinhole_pgr_init(&g, rows[r].k, rows[r].epsilon, rows[r].q, 0) != PINHOLE_OK) {
            fprintf(stderr, "bench_cost_model: cannot configure row %zu\n", r);
            return 2;
        }
        pinhole_pgr_cost_estimate c;
        pinhole_pgr_cost_model(g.q, g.t, g.K, g.k, threads, &c);
        if (quick && c.seconds > 1.0) {
            pinhole_pgr_free(&g);
            continue;
        }
        uint64_t *y = malloc(g.K * sizeof *y), *T = malloc(g.k * sizeof *T);
        double *est = malloc(g.k * sizeof *est);
        if (!y || !T || !est)
            return 2;
        pinhole_rng rng;
        pinhole_rng_init_seeded(&rng, 2026);
        const uint64_t span = 2000000000ull / g.K + 1; /* about 10^9 reports: 32-bit counts */
        uint64_t n = 0;
        for (uint64_t h = 0; h < g.K; h++)
            n += y[h] = pinhole_rng_uniform64(&rng, span);
        double wall = 1e300, cpu = 1e300;
        const unsigned reps = c.seconds > 1.0 ? 1 : repeat;
        for (unsigned i = 0; i < reps; i++) {
            const double w0 = pinhole_clock_mono(), c0 = pinhole_clock_cpu();
            const pinhole_pgr_reconstruct_options opt = {.method = PINHOLE_PGR_AUTO,
                                                         .threads = threads};
            if (pinhole_pgr_reconstruct_ex(&g, y, T, &opt) != PINHOLE_OK ||
                pinhole_pgr_estimate(&g, T, n ? n : 1, est) != PINHOLE_OK)
                return 2;
            const double w = pinhole_clock_mono() - w0, cs = pinhole_clock_cpu() - c0;
            wall = w < wall ? w : wall;
            cpu = cs < cpu ? cs : cpu;
        }
        /* one thread: CPU time, which the machine's other load inflates less than wall time */
        const double ratio = (threads == 1 ? cpu : wall) / c.seconds;
        const int bad = ratio > 2 || ratio < 0.5;
        outside += bad;
        printf("%9llu %3g %5u %2u %9llu %5s %10.6f %10.6f %10.6f %8.2f%s\n",
               (unsigned long long)g.k, rows[r].epsilon, g.q, g.t, (unsigned long long)g.K,
               c.algorithm == PINHOLE_PGR_ALGO_DP ? "dp" : "enum", c.seconds, wall, cpu, ratio,
               bad ? "  outside 2x" : "");
        fflush(stdout);
        free(y);
        free(T);
        free(est);
        pinhole_pgr_free(&g);
    }
    printf("rows outside [1/2, 2] x the model: %d\n", outside);
    return outside ? 1 : 0;
}
