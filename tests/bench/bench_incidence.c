/* One PGR incidence product on doubles (server/analytics/pgr_channel.h), for instruction counts
 * under callgrind (--toggle-collect=pinhole_pgr_incidence*: one thread) and for timing. Prints one
 * JSON line with a checksum of the result. Builds against trees before the shared program too.
 * usage: bench_incidence [k] [epsilon] [q]
 * The clock is clock_gettime, not common/clock.h: `make bench` builds this file against its
 * baseline tree too (tests/bench/bench_base.sh), which predates that module. */
#include "common/error.h"
#include "server/analytics/pgr_channel.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    const uint64_t k = argc > 1 ? strtoull(argv[1], NULL, 10) : 74286;
    const double eps = argc > 2 ? strtod(argv[2], NULL) : 4.0;
    const uint32_t q = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 0;
    pinhole_pgr g;
    int rc = sodium_init() < 0 ? PINHOLE_EINVAL : pinhole_pgr_init(&g, k, eps, q, 0);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "bench_incidence: %s\n", pinhole_strerror(rc));
        return 1;
    }
    double *in = malloc(g.K * sizeof *in), *out = malloc(g.K * sizeof *out);
    if (!in || !out)
        return 1;
    for (uint64_t h = 0; h < g.K; h++)
        in[h] = (double)(h % 17);
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
#ifdef PINHOLE_PGR_HAVE_WORKSPACE /* one thread, so callgrind's toggle sees all the work */
    rc = pinhole_pgr_incidence_ex(&g, in, out, g.K, NULL, 1);
#else
    rc = pinhole_pgr_incidence(&g, in, out);
#endif
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "bench_incidence: %s\n", pinhole_strerror(rc));
        return 1;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    double sum = 0;
    for (uint64_t v = 0; v < g.K; v++)
        sum += out[v] * (double)(v % 5);
    printf("{\"bench\":\"incidence\",\"k\":%llu,\"epsilon\":%g,\"q\":%u,\"t\":%u,\"K\":%llu,"
           "\"cpu_seconds\":%.4f,\"checksum\":%.17g}\n",
           (unsigned long long)k, eps, g.q, g.t, (unsigned long long)g.K,
           (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9, sum);
    free(in);
    free(out);
    pinhole_pgr_free(&g);
    return 0;
}
