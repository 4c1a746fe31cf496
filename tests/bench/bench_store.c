/* Store ingest rate without HTTP: transactions of a fixed number of random-id reports into a
 * PGR collection (k = 74,286, epsilon = 4), synchronous=FULL unless --normal; prints the rate per
 * million reports as the database grows. */
#include "common/clock.h"
#include "common/error.h"
#include "common/rng.h"
#include "server/store/store.h"
#include "server/store/writer.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "bench_store.db";
    const unsigned long total = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000000;
    const unsigned long txn = argc > 3 ? strtoul(argv[3], NULL, 10) : 10000;
    const int normal = argc > 4 && strcmp(argv[4], "--normal") == 0;
    if (sodium_init() < 0 || txn == 0)
        return 1;
    pinhole_store *s;
    pinhole_store_options o = {.synchronous_normal = normal, .cache_mib = 512};
    if (pinhole_store_open(&s, path, &o) != PINHOLE_OK)
        return 1;
    pinhole_server_collection c;
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 74286, .epsilon = 4};
    if (pinhole_store_create_collection(s, &c, "bench", &p, 86400, 0, NULL) != PINHOLE_OK)
        return 1;
    pinhole_ingest_report *r = calloc(txn, sizeof *r);
    uint8_t *payload = malloc(txn * 3);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 1);
    double t0 = pinhole_clock_mono(), tm = t0, cpu0 = pinhole_clock_cpu();
    for (unsigned long done = 0; done < total; done += txn) {
        for (unsigned long i = 0; i < txn; i++) {
            r[i] = (pinhole_ingest_report){.coll = &c, .bucket = 20000};
            pinhole_rng_bytes(&rng, r[i].id, 16);
            const uint32_t h = pinhole_rng_uniform(&rng, (uint32_t)c.cfg.counts_len);
            payload[3 * i] = (uint8_t)h;
            payload[3 * i + 1] = (uint8_t)(h >> 8);
            payload[3 * i + 2] = (uint8_t)(h >> 16);
            r[i].payload = payload + 3 * i;
            r[i].payload_len = 3;
        }
        if (pinhole_store_ingest(s, r, txn) != PINHOLE_OK) {
            fprintf(stderr, "ingest failed\n");
            return 1;
        }
        if ((done + txn) % 1000000 == 0) {
            const double t = pinhole_clock_mono();
            printf("%lu reports: last million at %.0f reports/s\n", done + txn, 1e6 / (t - tm));
            fflush(stdout);
            tm = t;
            pinhole_store_maintain(s, PINHOLE_UPKEEP_PERIODIC, NULL);
        }
    }
    printf("total: %.0f reports/s, CPU %.2f us per report (this process)\n",
           (double)total / (pinhole_clock_mono() - t0),
           (pinhole_clock_cpu() - cpu0) * 1e6 / (double)total);
    pinhole_server_collection_free(&c);
    pinhole_store_close(s);
    free(r);
    free(payload);
    return 0;
}
