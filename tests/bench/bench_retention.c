/* Memory and garbage-collection cost of retention: `total` reports spread evenly over `days`
 * simulated days (the wall clock moved a day at a time with the test clock offset) into a
 * collection with a report window of `window` days (0: no window, for comparison), ingested in
 * transactions of `txn` reports as the server's writer does it.
 *
 * replicas = 0 (SQLite, one server): one handle ingests with its upkeep between transactions, a
 * second handle in the same process runs the periodic upkeep every `txn * 10` reports and at the
 * end of each day. Prints per day the process's RSS, the replay index's ids and bytes, and the time
 * the periodic upkeep (the garbage collector) took.
 *
 * replicas >= 1 (a PostgreSQL URL: a cluster): that many child processes ingest a share of each
 * day at once, each through its own handle, as a replica's writer does; the parent runs the
 * periodic upkeep every second meanwhile (a server's upkeep thread tries every checkpoint_interval,
 * 5 s, on each replica: more often than here only with 5 or more replicas). Prints per day each
 * child's RSS, the database's size, the rows the garbage collector removed, its time and the
 * longest pass.
 *
 * The load is cheap to make: the payloads of one transaction are drawn once and reused, each report
 * gets a fresh pseudo-random id (a counter mixed by splitmix64).
 *
 *   bench_retention [path|url] [total] [days] [window] [txn] [replicas] */
#include "common/clock.h"
#include "common/error.h"
#include "common/rng.h"
#include "server/store/store.h"

#ifdef PINHOLE_WITH_POSTGRESQL
#include <libpq-fe.h>
#endif
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

static uint64_t splitmix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* The reports of one transaction: payloads drawn once, ids made fresh per use. */
typedef struct load {
    pinhole_ingest_report *r;
    uint8_t *payload;
    uint64_t seed, counter;
} load;

static int load_init(load *l, const pinhole_server_collection *c, unsigned long txn, uint64_t seed)
{
    l->r = calloc(txn, sizeof *l->r);
    l->payload = malloc(txn * 3);
    l->seed = seed;
    l->counter = 0;
    if (!l->r || !l->payload)
        return PINHOLE_ENOMEM;
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    for (unsigned long i = 0; i < txn; i++) {
        const uint32_t h = pinhole_rng_uniform(&rng, (uint32_t)c->cfg.counts_len);
        l->payload[3 * i] = (uint8_t)h;
        l->payload[3 * i + 1] = (uint8_t)(h >> 8);
        l->payload[3 * i + 2] = (uint8_t)(h >> 16);
    }
    return PINHOLE_OK;
}

/* Ingest n reports of daily bucket `day` in transactions of at most txn. */
static int ingest(pinhole_store *s, load *l, const pinhole_server_collection *c, int64_t day,
                  unsigned long n, unsigned long txn)
{
    for (unsigned long k = 0; k < n; k += txn) {
        const unsigned long m = n - k < txn ? n - k : txn;
        for (unsigned long i = 0; i < m; i++) {
            l->r[i] = (pinhole_ingest_report){.coll = c, .bucket = day};
            const uint64_t a = splitmix64(l->seed ^ l->counter), b = splitmix64(a + l->counter++);
            memcpy(l->r[i].id, &a, 8);
            memcpy(l->r[i].id + 8, &b, 8);
            l->r[i].payload = l->payload + 3 * i;
            l->r[i].payload_len = 3;
        }
        if (pinhole_store_ingest(s, l->r, m) != PINHOLE_OK ||
            pinhole_store_maintain(s, PINHOLE_UPKEEP_AFTER_COMMIT, NULL) != PINHOLE_OK)
            return PINHOLE_EDB;
    }
    return PINHOLE_OK;
}

/* The database's parts in MiB: report partitions, counts (chunks and the deltas not folded yet),
 * and the deltas' rows; -1 each when not PostgreSQL. */
static void db_parts(const char *url, double *reports, double *counts, double *deltas)
{
    *reports = *counts = *deltas = -1;
#ifdef PINHOLE_WITH_POSTGRESQL
    if (strncmp(url, "postgres", 8) != 0)
        return;
    PGconn *c = PQconnectdb(url);
    PGresult *r =
        PQstatus(c) == CONNECTION_OK
            ? PQexec(c, "SELECT (SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0)"
                        " FROM pg_inherits WHERE inhparent = 'reports'::regclass),"
                        " pg_total_relation_size('counts') +"
                        " pg_total_relation_size('count_deltas'),"
                        " (SELECT count(*) FROM count_deltas)")
            : NULL;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK) {
        *reports = strtod(PQgetvalue(r, 0, 0), NULL) / 1048576;
        *counts = strtod(PQgetvalue(r, 0, 1), NULL) / 1048576;
        *deltas = strtod(PQgetvalue(r, 0, 2), NULL);
    }
    PQclear(r);
    PQfinish(c);
#else
    (void)url;
#endif
}

/* What a replica reports after a day. */
typedef struct day_done {
    int ok;
    double rss_mib, hwm_mib, cpu_s;
} day_done;

/* A replica: open its own handle, then ingest a day's share for each day number the parent sends
 * (-1 ends it), answering each with a day_done. */
static int replica(const char *url, int64_t coll, int in, int out, unsigned long txn, uint64_t seed)
{
    pinhole_store *s;
    pinhole_server_collection *cs = NULL, *c = NULL;
    size_t nc = 0;
    load l = {0};
    if (pinhole_store_open(&s, url, NULL) != PINHOLE_OK ||
        pinhole_store_load_collections(s, &cs, &nc) != PINHOLE_OK)
        return 1;
    for (size_t i = 0; i < nc; i++)
        if (cs[i].id == coll)
            c = &cs[i];
    if (!c || load_init(&l, c, txn, seed) != PINHOLE_OK ||
        pinhole_store_ingest_prepare(s) != PINHOLE_OK)
        return 1;
    int64_t msg[3]; /* day number, clock offset, reports */
    while (read(in, msg, sizeof msg) == (ssize_t)sizeof msg && msg[0] >= 0) {
        pinhole_clock_set_offset((double)msg[1]);
        day_done d = {.ok = ingest(s, &l, c, msg[0], (unsigned long)msg[2], txn) == PINHOLE_OK};
        d.rss_mib = status_mib("VmRSS:");
        d.hwm_mib = status_mib("VmHWM:");
        d.cpu_s = pinhole_clock_cpu();
        if (write(out, &d, sizeof d) != (ssize_t)sizeof d)
            return 1;
    }
    pinhole_store_close(s);
    for (size_t i = 0; i < nc; i++)
        pinhole_server_collection_free(&cs[i]);
    free(cs);
    free(l.r);
    free(l.payload);
    return 0;
}

/* The cluster: replicas child processes ingest, this process runs the upkeep. */
static int cluster(const char *url, pinhole_store *up, const pinhole_server_collection *c,
                   unsigned long total, unsigned long days, unsigned long txn, int replicas)
{
    enum { MAX = 16 };
    int to[MAX], from[MAX];
    pid_t pid[MAX];
    if (replicas > MAX)
        return 1;
    for (int k = 0; k < replicas; k++) {
        int a[2], b[2];
        if (pipe(a) != 0 || pipe(b) != 0)
            return 1;
        fflush(stdout);
        pid[k] = fork();
        if (pid[k] < 0)
            return 1;
        if (pid[k] == 0) {
            close(a[1]);
            close(b[0]);
            _exit(replica(url, c->id, a[0], b[1], txn, (uint64_t)k * 0x1000193 + 7));
        }
        close(a[0]);
        close(b[1]);
        to[k] = a[1];
        from[k] = b[0];
    }
    const int64_t today = (int64_t)(pinhole_clock_wall() / 86400);
    const unsigned long per_day = total / days, share = per_day / (unsigned long)replicas;
    double gc_s = 0, gc_max = 0, t0 = pinhole_clock_mono(), cpu0 = pinhole_clock_cpu();
    unsigned long done = 0;
    int rc = 0;
    double cpu_of[MAX] = {0};
    printf("day  reports     RSS_MiB per replica (peak)      database_MiB (reports, counts)"
           "  deltas_unfolded  gc_rows  gc_s_total  gc_longest_pass_s\n");
    for (unsigned long d = 0; d < days && rc == 0; d++) {
        const double offset = ((double)d - (double)days + 1) * 86400;
        pinhole_clock_set_offset(offset);
        for (int k = 0; k < replicas; k++) {
            int64_t msg[3] = {today - (int64_t)days + 1 + (int64_t)d, (int64_t)offset,
                              (int64_t)share};
            if (write(to[k], msg, sizeof msg) != (ssize_t)sizeof msg)
                rc = 1;
        }
        day_done res[MAX];
        int pending = replicas;
        struct pollfd pf[MAX];
        for (int k = 0; k < replicas; k++)
            pf[k] = (struct pollfd){.fd = from[k], .events = POLLIN};
        double next_gc = pinhole_clock_mono();
        while (pending > 0 && rc == 0) {
            if (pinhole_clock_mono() >= next_gc) { /* the upkeep thread's periodic pass */
                const double g = pinhole_clock_mono();
                if (pinhole_store_maintain(up, PINHOLE_UPKEEP_PERIODIC, NULL) != PINHOLE_OK)
                    rc = 1;
                const double took = pinhole_clock_mono() - g;
                gc_s += took;
                gc_max = took > gc_max ? took : gc_max;
                next_gc = pinhole_clock_mono() + 1.0;
            }
            if (poll(pf, (nfds_t)replicas, 200) < 0)
                rc = 1;
            for (int k = 0; k < replicas; k++)
                if (pf[k].fd >= 0 && (pf[k].revents & (POLLIN | POLLHUP))) {
                    if (read(from[k], &res[k], sizeof res[k]) != (ssize_t)sizeof res[k] ||
                        !res[k].ok)
                        rc = 1;
                    pf[k].fd = -1;
                    pending--;
                }
        }
        done += share * (unsigned long)replicas;
        /* one more pass at the end of the day (the next day's first would do it) */
        const double g = pinhole_clock_mono();
        if (rc == 0 && pinhole_store_maintain(up, PINHOLE_UPKEEP_PERIODIC, NULL) != PINHOLE_OK)
            rc = 1;
        gc_s += pinhole_clock_mono() - g;
        pinhole_store_gc_stats gc;
        pinhole_store_gc_read(up, &gc);
        printf("%3lu  %10lu ", d, done);
        for (int k = 0; k < replicas && rc == 0; k++) {
            printf(" %5.1f (%5.1f)", res[k].rss_mib, res[k].hwm_mib);
            cpu_of[k] = res[k].cpu_s;
        }
        double rep, cnt, del;
        db_parts(url, &rep, &cnt, &del);
        printf("  %8.1f (%7.1f, %6.1f)  %7.0f  %9llu  %8.2f  %6.2f\n",
               (double)pinhole_store_disk_bytes(up) / 1048576, rep, cnt, del,
               (unsigned long long)gc.rows_removed, gc_s, gc_max);
        fflush(stdout);
    }
    for (int k = 0; k < replicas; k++) {
        int64_t stop[3] = {-1, 0, 0};
        if (write(to[k], stop, sizeof stop) != (ssize_t)sizeof stop)
            rc = 1;
        close(to[k]);
        close(from[k]);
    }
    double child_cpu = 0;
    for (int k = 0; k < replicas; k++) {
        int st;
        if (waitpid(pid[k], &st, 0) != pid[k] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            rc = 1;
    }
    for (int k = 0; k < replicas; k++)
        child_cpu += cpu_of[k];
    const double wall = pinhole_clock_mono() - t0;
    printf("total: %lu reports in %.1f s (%.0f reports/s); replicas' CPU %.2f us per report;"
           " upkeep: CPU %.1f s, wall %.2f s = %.2f us per report; database %.1f MiB\n",
           done, wall, (double)done / wall, child_cpu * 1e6 / (double)done,
           pinhole_clock_cpu() - cpu0, gc_s, gc_s * 1e6 / (double)done,
           (double)pinhole_store_disk_bytes(up) / 1048576);
    return rc;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "bench_retention.db";
    const unsigned long total = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000000;
    const unsigned long days = argc > 3 ? strtoul(argv[3], NULL, 10) : 30;
    const unsigned long window = argc > 4 ? strtoul(argv[4], NULL, 10) : 7;
    const unsigned long txn = argc > 5 ? strtoul(argv[5], NULL, 10) : 10000;
    const int replicas = argc > 6 ? atoi(argv[6]) : 0;
    if (sodium_init() < 0 || txn == 0 || days == 0 || replicas < 0)
        return 1;
    pinhole_store *s = NULL, *up;
    if (pinhole_store_open(&up, path, NULL) != PINHOLE_OK ||
        (replicas == 0 && pinhole_store_open(&s, path, NULL) != PINHOLE_OK))
        return 1;
    pinhole_server_collection c;
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 74286, .epsilon = 4};
    const pinhole_collection_window w = {.max_report_age = (uint32_t)(window * 86400),
                                         .max_clock_skew = 3600};
    if (pinhole_store_create_collection(up, &c, "bench", &p, 86400, 0, NULL) != PINHOLE_OK ||
        pinhole_store_set_window(up, c.id, &w) != PINHOLE_OK)
        return 1;
    c.window = w;
    if (replicas > 0) {
        const int rc = cluster(path, up, &c, total, days, txn, replicas);
        pinhole_clock_set_offset(0);
        pinhole_store_close(up);
        pinhole_server_collection_free(&c);
        return rc;
    }
    load l;
    if (pinhole_store_ingest_prepare(s) != PINHOLE_OK || load_init(&l, &c, txn, 1) != PINHOLE_OK)
        return 1;
    const int64_t today = (int64_t)(pinhole_clock_wall() / 86400);
    const unsigned long per_day = total / days;
    double gc_s = 0, t0 = pinhole_clock_mono(), cpu0 = pinhole_clock_cpu();
    unsigned long done = 0;
    printf("day  reports   RSS_MiB  HWM_MiB  index_ids  index_MiB  gc_rows  gc_s_total\n");
    for (unsigned long d = 0; d < days; d++) {
        pinhole_clock_set_offset(((double)d - (double)days + 1) * 86400);
        const int64_t day = today - (int64_t)days + 1 + (int64_t)d;
        for (unsigned long k = 0; k < per_day; k += 10 * txn) { /* upkeep every 10 transactions */
            const unsigned long n = per_day - k < 10 * txn ? per_day - k : 10 * txn;
            if (ingest(s, &l, &c, day, n, txn) != PINHOLE_OK) {
                fprintf(stderr, "ingest failed\n");
                return 1;
            }
            done += n;
            const double g = pinhole_clock_mono();
            if (pinhole_store_maintain(up, PINHOLE_UPKEEP_PERIODIC, NULL) != PINHOLE_OK) {
                fprintf(stderr, "upkeep failed\n");
                return 1;
            }
            gc_s += pinhole_clock_mono() - g;
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
    free(l.r);
    free(l.payload);
    return 0;
}
