/* Memory and garbage-collection cost of SQLite retention: `total` reports spread evenly over
 * `days` simulated days (the wall clock moved a day at a time with the test clock offset) into a
 * collection with a report window of `window` days, ingested as the server's writer does it (one
 * handle ingesting transactions of `txn` reports with its upkeep between them, a second handle
 * running the periodic upkeep every `txn * 10` reports and at the end of each day). Prints per day
 * the process's RSS, the replay index's ids and bytes, and the time the periodic upkeep (the
 * garbage collector) took. window 0: no window (the index then grows with history), for comparison.
 *
 *   bench_retention [path] [total] [days] [window] [txn] */
#include "common/clock.h"
#include "common/error.h"
#include "common/rng.h"
#include "server/store/store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A line of /proc/self/status in MiB ("VmRSS:", "VmHWM:"), or -1. */
static double status_mib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double v = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, strlen(key)) == 0)
            v = strtod(line + strlen(key), NULL) / 1024;
    if (f)
        fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "bench_retention.db";
    const unsigned long total = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000000;
    const unsigned long days = argc > 3 ? strtoul(argv[3], NULL, 10) : 30;
    const unsigned long window = argc > 4 ? strtoul(argv[4], NULL, 10) : 7;
    const unsigned long txn = argc > 5 ? strtoul(argv[5], NULL, 10) : 10000;
    if (sodium_init() < 0 || txn == 0 || days == 0)
        return 1;
    pinhole_store *s, *up;
    if (pinhole_store_open(&s, path, NULL) != PINHOLE_OK ||
        pinhole_store_open(&up, path, NULL) != PINHOLE_OK)
        return 1;
    pinhole_server_collection c;
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 74286, .epsilon = 4};
    const pinhole_collection_window w = {.max_report_age = (uint32_t)(window * 86400),
                                         .max_clock_skew = 3600};
    if (pinhole_store_create_collection(s, &c, "bench", &p, 86400, 0, NULL) != PINHOLE_OK ||
        pinhole_store_set_window(s, c.id, &w) != PINHOLE_OK ||
        pinhole_store_ingest_prepare(s) != PINHOLE_OK)
        return 1;
    c.window = w;
    pinhole_ingest_report *r = calloc(txn, sizeof *r);
    uint8_t *payload = malloc(txn * 3);
    if (!r || !payload)
        return 1;
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 1);
    const int64_t today = (int64_t)(pinhole_clock_wall() / 86400);
    const unsigned long per_day = total / days;
    double gc_s = 0, t0 = pinhole_clock_mono(), cpu0 = pinhole_clock_cpu();
    unsigned long done = 0, since_gc = 0;
    printf("day  reports   RSS_MiB  HWM_MiB  index_ids  index_MiB  gc_rows  gc_s_total\n");
    for (unsigned long d = 0; d < days; d++) {
        pinhole_clock_set_offset(((double)d - (double)days + 1) * 86400);
        const int64_t day = today - (int64_t)days + 1 + (int64_t)d;
        for (unsigned long k = 0; k < per_day; k += txn) {
            const unsigned long n = per_day - k < txn ? per_day - k : txn;
            for (unsigned long i = 0; i < n; i++) {
                /* daily buckets, as bench_store */
                r[i] = (pinhole_ingest_report){.coll = &c, .bucket = day};
                pinhole_rng_bytes(&rng, r[i].id, 16);
                const uint32_t h = pinhole_rng_uniform(&rng, (uint32_t)c.cfg.counts_len);
                payload[3 * i] = (uint8_t)h;
                payload[3 * i + 1] = (uint8_t)(h >> 8);
                payload[3 * i + 2] = (uint8_t)(h >> 16);
                r[i].payload = payload + 3 * i;
                r[i].payload_len = 3;
            }
            if (pinhole_store_ingest(s, r, n) != PINHOLE_OK ||
                pinhole_store_maintain(s, PINHOLE_UPKEEP_AFTER_COMMIT, NULL) != PINHOLE_OK) {
                fprintf(stderr, "ingest failed\n");
                return 1;
            }
            done += n;
            since_gc += n;
            if (since_gc >= 10 * txn || k + n >= per_day) { /* and at the end of each day */
                const double g = pinhole_clock_mono();
                if (pinhole_store_maintain(up, PINHOLE_UPKEEP_PERIODIC, NULL) != PINHOLE_OK) {
                    fprintf(stderr, "upkeep failed\n");
                    return 1;
                }
                gc_s += pinhole_clock_mono() - g;
                since_gc = 0;
            }
        }
        pinhole_store_gc_stats ix, gc;
        pinhole_store_gc_read(s, &ix);
        pinhole_store_gc_read(up, &gc);
        printf("%3lu  %9lu  %7.1f  %7.1f  %9llu  %9.1f  %8llu  %9.2f\n", d, done,
               status_mib("VmRSS:"), status_mib("VmHWM:"), (unsigned long long)ix.index_ids,
               (double)ix.index_bytes / 1048576, (unsigned long long)gc.rows_removed, gc_s);
        fflush(stdout);
    }
    const double wall = pinhole_clock_mono() - t0, cpu = pinhole_clock_cpu() - cpu0;
    printf("total: %lu reports in %.1f s (%.0f reports/s), CPU %.1f s; upkeep (GC + WAL) %.2f s"
           " = %.2f us per report; disk %.1f MiB\n",
           done, wall, (double)done / wall, cpu, gc_s, gc_s * 1e6 / (double)done,
           (double)pinhole_store_disk_bytes(s) / 1048576);
    pinhole_clock_set_offset(0);
    pinhole_store_close(up);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
    free(r);
    free(payload);
    return 0;
}
