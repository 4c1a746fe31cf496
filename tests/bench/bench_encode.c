/* Client encoding rate of the PGR randomizer on one core. Prints one JSON line.
 * usage: bench_encode [k] [epsilon] [reports] [batch]
 * batch 0 (default): pinhole_pgr_encode() per report; batch B > 0: pinhole_pgr_encode_batch() on
 * B values per call. Instructions per report: run under callgrind for two report counts and
 * divide the difference (set-up cancels).
 * The clock is clock_gettime, not common/clock.h: `make bench` builds this file against its
 * baseline tree too (tests/bench/bench_base.sh), which predates that module. */
#include "client/pgr.h"
#include "common/error.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    const uint64_t k = argc > 1 ? strtoull(argv[1], NULL, 10) : 74286;
    const double eps = argc > 2 ? strtod(argv[2], NULL) : 4.0;
    const uint64_t n = argc > 3 ? strtoull(argv[3], NULL, 10) : 20000000;
    const size_t batch = argc > 4 ? (size_t)strtoull(argv[4], NULL, 10) : 0;
    if (batch > 4096)
        return 2;
    if (sodium_init() < 0)
        return 1;
    pinhole_pgr g;
    int rc = pinhole_pgr_init(&g, k, eps, 0, 0);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "bench_encode: %s\n", pinhole_strerror(rc));
        return 1;
    }
    pinhole_rng rng;
    pinhole_rng_init_system(&rng);
    uint64_t sink = 0, rep, values[4096], reps[4096];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (batch == 0) {
        for (uint64_t i = 0; i < n; i++) {
            pinhole_pgr_encode(&g, i % k, &rng, &rep);
            sink += rep;
        }
    } else {
#ifdef PINHOLE_ENCODE_BATCH /* absent when built against a tree before the batch path */
        for (uint64_t i0 = 0; i0 < n; i0 += batch) {
            const size_t m = n - i0 < batch ? (size_t)(n - i0) : batch;
            for (size_t j = 0; j < m; j++)
                values[j] = (i0 + j) % k;
            pinhole_pgr_encode_batch(&g, values, m, &rng, reps);
            for (size_t j = 0; j < m; j++)
                sink += reps[j];
        }
#else
        (void)values;
        (void)reps;
        fprintf(stderr, "bench_encode: no batch path in this build\n");
        return 2;
#endif
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    const double s = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9;
    printf(
        "{\"bench\":\"encode\",\"mechanism\":\"pgr\",\"k\":%llu,\"epsilon\":%g,\"q\":%u,\"t\":%u,"
        "\"batch\":%zu,\"reports\":%llu,\"seconds\":%.4f,\"reports_per_second\":%.0f,"
        "\"checksum\":%llu}\n",
        (unsigned long long)k, eps, g.q, g.t, batch, (unsigned long long)n, s, (double)n / s,
        (unsigned long long)(sink & 0xffff));
    pinhole_pgr_free(&g);
    return 0;
}
