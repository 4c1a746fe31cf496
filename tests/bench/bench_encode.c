/* Client encoding rate of the PGR randomizer on one core. Prints one JSON line.
 * usage: bench_encode [k] [epsilon] [reports] */
#include "client/pgr.h"
#include "common/clock.h"
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
    uint64_t sink = 0, rep;
    const double a = pinhole_clock_mono();
    for (uint64_t i = 0; i < n; i++) {
        pinhole_pgr_encode(&g, i % k, &rng, &rep);
        sink += rep;
    }
    const double s = pinhole_clock_mono() - a;
    printf(
        "{\"bench\":\"encode\",\"mechanism\":\"pgr\",\"k\":%llu,\"epsilon\":%g,\"q\":%u,\"t\":%u,"
        "\"reports\":%llu,\"seconds\":%.4f,\"reports_per_second\":%.0f,\"checksum\":%llu}\n",
        (unsigned long long)k, eps, g.q, g.t, (unsigned long long)n, s, (double)n / s,
        (unsigned long long)(sink & 0xffff));
    pinhole_pgr_free(&g);
    return 0;
}
