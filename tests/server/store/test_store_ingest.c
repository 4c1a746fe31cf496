/* The store suite (tests/server/store/test_store.c; fixture tests/support/store_suite.c), ingest:
 * the four outcomes of a report, counts and buckets against a direct recount, the consistency
 * check noticing tampering, the same batch through two handles at once, and the writer's flush
 * policy (every B reports or T ms, a full queue draining). */
#include "common/clock.h"
#include "common/error.h"
#include "common/rng.h"
#include "server/estimate/estimate.h"
#include "server/store/sqlite/idset.h"
#include "server/store/store.h"
#include "server/store/writer.h"
#include "tests/support/reports.h"
#include "tests/support/store_suite.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef PINHOLE_WITH_POSTGRESQL
#include <libpq-fe.h>
#endif

#define report test_ingest_report /* tests/support/reports.h */

/* ---- ingest, counts, the check ---- */

/* The four outcomes, in one transaction and across transactions and a reopen; counts and buckets
 * over ranges; report totals; upkeep. */
Test(store, replay_duplicate_invalid_and_counts)
{
    pinhole_store *s = open_store();
    pinhole_server_collection c;
    make_collection(s, &c);
    cr_assert_eq(c.cfg.payload_bytes, 1, "K = %llu", (unsigned long long)c.cfg.counts_len);
    cr_assert_eq(pinhole_store_ingest_prepare(s), PINHOLE_OK);
    const uint8_t p3 = 3, p5 = 5, bad = (uint8_t)c.cfg.counts_len; /* an index >= K */
    pinhole_ingest_report r[6];
    report(&r[0], &c, 1, 100, &p3);
    report(&r[1], &c, 2, 100, &p5);
    report(&r[2], &c, 3, 101, &p3);
    report(&r[3], &c, 1, 100, &p3);  /* same id, same content, in the same transaction */
    report(&r[4], &c, 4, 100, &bad); /* outside the report alphabet */
    report(&r[5], &c, 4, 100, &p5);  /* the id of an invalid report is still free */
    cr_assert_eq(pinhole_store_ingest(s, r, 6), PINHOLE_OK);
    cr_assert_eq(r[0].status, PINHOLE_REPORT_ACCEPTED);
    cr_assert_eq(r[1].status, PINHOLE_REPORT_ACCEPTED);
    cr_assert_eq(r[2].status, PINHOLE_REPORT_ACCEPTED);
    cr_assert_eq(r[3].status, PINHOLE_REPORT_DUPLICATE);
    cr_assert_eq(r[4].status, PINHOLE_REPORT_INVALID);
    cr_assert_eq(r[4].error, PINHOLE_ERANGE);
    cr_assert_eq(r[5].status, PINHOLE_REPORT_ACCEPTED);

    /* A retry is acknowledged; the same id with another payload, or another time (the next hour,
     * or 30 days later, another day), is a replay. */
    pinhole_ingest_report q[4];
    report(&q[0], &c, 2, 100, &p5);
    report(&q[1], &c, 2, 100, &p3);
    report(&q[2], &c, 3, 101 + 30 * 24, &p3);
    report(&q[3], &c, 3, 102, &p3);
    cr_assert_eq(pinhole_store_ingest(s, q, 4), PINHOLE_OK);
    cr_assert_eq(q[0].status, PINHOLE_REPORT_DUPLICATE);
    cr_assert_eq(q[1].status, PINHOLE_REPORT_REPLAY);
    cr_assert_eq(q[1].error, PINHOLE_EMISMATCH);
    cr_assert_eq(q[2].status, PINHOLE_REPORT_REPLAY);
    cr_assert_eq(q[3].status, PINHOLE_REPORT_REPLAY);

    uint64_t *counts = calloc(c.cfg.counts_len, sizeof *counts), n = 0;
    cr_assert_eq(pinhole_store_counts(s, &c, 100, 100, counts, &n), PINHOLE_OK);
    cr_assert_eq(n, 3);
    cr_assert_eq(counts[3], 1);
    cr_assert_eq(counts[5], 2);
    cr_assert_eq(pinhole_store_counts(s, &c, 0, 100000, counts, &n), PINHOLE_OK);
    cr_assert_eq(n, 4);
    cr_assert_eq(counts[3], 2);
    cr_assert_eq(pinhole_store_counts(s, &c, 102, 100000, counts, &n), PINHOLE_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(counts[3], 0); /* zeroed first */
    int64_t *bk;
    uint64_t *bn, total = 0;
    size_t nb;
    cr_assert_eq(pinhole_store_buckets(s, c.id, 0, 1000, &bk, &bn, &nb), PINHOLE_OK);
    cr_assert_eq(nb, 2);
    cr_assert(bk[0] == 100 && bn[0] == 3 && bk[1] == 101 && bn[1] == 1);
    free(bk);
    free(bn);
    cr_assert_eq(pinhole_store_buckets(s, c.id, INT64_MIN, INT64_MAX, &bk, &bn, &nb), PINHOLE_OK);
    cr_assert(nb == 2 && bk[0] == 100 && bk[1] == 101 && bn[0] == 3);
    free(bk);
    free(bn);
    cr_assert_eq(pinhole_store_buckets(s, c.id, 102, 1000, &bk, &bn, &nb), PINHOLE_OK);
    cr_assert(nb == 0 && bk == NULL && bn == NULL);
    cr_assert_eq(pinhole_store_report_total(s, c.id, &total), PINHOLE_OK);
    cr_assert_eq(total, 4);
    assert_consistent(s);
    int did = -1;
    cr_assert_eq(pinhole_store_maintain(s, PINHOLE_UPKEEP_PERIODIC, &did), PINHOLE_OK);
    cr_assert(did == 0 || did == 1);
    cr_assert_eq(pinhole_store_maintain(s, PINHOLE_UPKEEP_AFTER_COMMIT, NULL), PINHOLE_OK);
    if (!on_pg)
        cr_assert_gt(pinhole_store_disk_bytes(s), 0);
    pinhole_store_close(s);

    /* Reopened: a retry is still recognised (SQLite rebuilds its id index from the stored
     * reports), the collection loads with the same fingerprint. */
    s = open_store();
    report(&q[0], &c, 1, 100, &p3);
    report(&q[1], &c, 9, 100, &p5);
    cr_assert_eq(pinhole_store_ingest(s, q, 2), PINHOLE_OK);
    cr_assert_eq(q[0].status, PINHOLE_REPORT_DUPLICATE);
    cr_assert_eq(q[1].status, PINHOLE_REPORT_ACCEPTED);
    cr_assert_eq(pinhole_store_report_total(s, c.id, &total), PINHOLE_OK);
    cr_assert_eq(total, 5);
    pinhole_server_collection *all;
    size_t nc;
    cr_assert_eq(pinhole_store_load_collections(s, &all, &nc), PINHOLE_OK);
    cr_assert_eq(nc, 1);
    cr_assert_eq(memcmp(all[0].fingerprint, c.fingerprint, sizeof c.fingerprint), 0);
    cr_assert_eq(all[0].min_reports, 10);
    pinhole_server_collection_free(&all[0]);
    free(all);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
    free(counts);
}

/* Many random reports over 40 buckets: the stored vectors equal pinhole_accumulate over the
 * same payloads, bucket by bucket (K > 256: several chunks); the check then notices a count
 * changed behind the store's back and a report stored twice. */
Test(store, counts_equal_direct_accumulation_and_check_sees_tampering)
{
    pinhole_store *s;
    pinhole_server_collection c;
    s = open_store();
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 5000, .epsilon = 3};
    cr_assert_eq(pinhole_store_create_collection(s, &c, "big", &p, 60, 0, NULL), PINHOLE_OK);
    cr_assert_gt(c.cfg.counts_len, 3 * 256);
    const size_t N = 4000, pb = c.cfg.payload_bytes;
    uint8_t *payload = malloc(N * pb);
    pinhole_ingest_report *r = calloc(N, sizeof *r);
    enum { B = 40 };
    uint64_t *expect[B], *got = calloc(c.cfg.counts_len, sizeof *got);
    for (int b = 0; b < B; b++)
        expect[b] = calloc(c.cfg.counts_len, sizeof *expect[b]);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 7);
    for (size_t i = 0; i < N; i++) {
        const uint64_t h = pinhole_rng_uniform64(&rng, c.cfg.counts_len);
        for (size_t j = 0; j < pb; j++)
            payload[i * pb + j] = (uint8_t)(h >> (8 * j));
        r[i].coll = &c;
        pinhole_rng_bytes(&rng, r[i].id, 16);
        r[i].bucket = (int64_t)(i % B) * 1440; /* one bucket a day (60 s units) */
        r[i].payload = payload + i * pb;
        r[i].payload_len = (uint32_t)pb;
        cr_assert_eq(pinhole_accumulate(&c.cfg, payload + i * pb, pb, expect[i % B]), PINHOLE_OK);
    }
    for (size_t off = 0; off < N; off += 1000) /* four transactions */
        cr_assert_eq(pinhole_store_ingest(s, r + off, 1000), PINHOLE_OK);
    for (int b = 0; b < B; b++) {
        uint64_t n;
        cr_assert_eq(pinhole_store_counts(s, &c, b * 1440, b * 1440, got, &n), PINHOLE_OK);
        cr_assert_eq(n, N / B);
        cr_assert_eq(memcmp(got, expect[b], c.cfg.counts_len * sizeof *got), 0, "bucket %d", b);
    }
    assert_consistent(s);

    /* upkeep (PostgreSQL folds the count deltas into chunks), then the same again */
    cr_assert_eq(pinhole_store_maintain(s, PINHOLE_UPKEEP_PERIODIC, NULL), PINHOLE_OK);
    for (int b = 0; b < B; b++) {
        uint64_t n;
        cr_assert_eq(pinhole_store_counts(s, &c, b * 1440, b * 1440, got, &n), PINHOLE_OK);
        cr_assert_eq(memcmp(got, expect[b], c.cfg.counts_len * sizeof *got), 0, "bucket %d", b);
    }
    assert_consistent(s);

    uint64_t problems;
    char msg[256];
    tamper("UPDATE counts SET data = zeroblob(length(data)) WHERE bucket = 0 AND chunk ="
           " (SELECT min(chunk) FROM counts WHERE bucket = 0)",
           "UPDATE counts SET data = array_fill(0::bigint, ARRAY[array_length(data, 1)])"
           " WHERE bucket = 0 AND chunk = (SELECT min(chunk) FROM counts WHERE bucket = 0)");
    cr_assert_eq(pinhole_store_check(s, &problems, msg, sizeof msg), PINHOLE_OK);
    cr_assert_gt(problems, 0);
    cr_assert(strstr(msg, "bucket 0:") != NULL, "%s", msg);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
    for (int b = 0; b < B; b++)
        free(expect[b]);
    free(got);
    free(r);
    free(payload);
}

Test(store, duplicate_rows_are_found_by_check)
{
    pinhole_store *s;
    pinhole_server_collection c;
    s = open_store();
    make_collection(s, &c);
    const uint8_t p = 1;
    pinhole_ingest_report r;
    report(&r, &c, 7, 5, &p);
    cr_assert_eq(pinhole_store_ingest(s, &r, 1), PINHOLE_OK);
    tamper("INSERT INTO reports(collection, report_id, bucket, payload)"
           " SELECT collection, report_id, bucket, payload FROM reports",
           "CREATE TABLE reports_d1 PARTITION OF reports FOR VALUES FROM (1) TO (2);"
           " INSERT INTO reports SELECT collection, 1, report_id, bucket, payload FROM reports");
    uint64_t problems;
    char msg[256];
    cr_assert_eq(pinhole_store_check(s, &problems, msg, sizeof msg), PINHOLE_OK);
    cr_assert_geq(problems, 1);
    cr_assert(strstr(msg, "stored 2 times") != NULL, "%s", msg);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
}

/* ---- two handles at once ---- */

typedef struct racer {
    const char *url;
    pinhole_ingest_report *r;
    size_t n;
    int rc;
} racer;

static void *race(void *arg)
{
    racer *x = arg;
    pinhole_store *s;
    x->rc = pinhole_store_open(&s, x->url, NULL);
    if (x->rc == PINHOLE_OK) {
        x->rc = pinhole_store_ingest(s, x->r, x->n);
        pinhole_store_close(s);
    }
    return NULL;
}

/* The same batch sent through two handles at once (two replicas receiving one retried request),
 * in transactions that overlap: every report is accepted by exactly one and acknowledged as a
 * duplicate by the other; the counts hold each report once. PostgreSQL only: there any number
 * of handles (replicas) ingest at once; SQLite allows one ingesting handle per store. */
Test(store, same_batch_through_two_handles_counts_once)
{
    if (!on_pg) /* promised by PostgreSQL only: SQLite has one ingesting handle per store */
        cr_skip_test("one ingesting handle at a time on SQLite");
    pinhole_store *s;
    pinhole_server_collection c;
    s = open_store();
    make_collection(s, &c);
    enum { N = 2000, ROUNDS = 4 };
    static uint8_t payload[N];
    static pinhole_ingest_report a[N], b[N];
    uint64_t expect[256] = {0};
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 11);
    for (int round = 0; round < ROUNDS; round++) {
        for (size_t i = 0; i < N; i++) {
            payload[i] = (uint8_t)pinhole_rng_uniform64(&rng, c.cfg.counts_len);
            report(&a[i], &c, 0, 24 * round + (int64_t)(i % 3), &payload[i]);
            pinhole_rng_bytes(&rng, a[i].id, sizeof a[i].id);
            if (round == 0)
                expect[payload[i]]++;
        }
        memcpy(b, a, sizeof a);
        racer x = {store_url, a, N, -1}, y = {store_url, b, N, -1};
        pthread_t tx, ty;
        pthread_create(&tx, NULL, race, &x);
        pthread_create(&ty, NULL, race, &y);
        pthread_join(tx, NULL);
        pthread_join(ty, NULL);
        cr_assert_eq(x.rc, PINHOLE_OK);
        cr_assert_eq(y.rc, PINHOLE_OK);
        for (size_t i = 0; i < N; i++) {
            const int acc =
                (a[i].status == PINHOLE_REPORT_ACCEPTED) + (b[i].status == PINHOLE_REPORT_ACCEPTED);
            const int dup = (a[i].status == PINHOLE_REPORT_DUPLICATE) +
                            (b[i].status == PINHOLE_REPORT_DUPLICATE);
            cr_assert(acc == 1 && dup == 1, "report %zu: %d and %d", i, a[i].status, b[i].status);
        }
        if (round == 0) {
            uint64_t got[256], n;
            cr_assert_eq(pinhole_store_counts(s, &c, 0, 2, got, &n), PINHOLE_OK);
            cr_assert_eq(n, N);
            cr_assert_eq(memcmp(got, expect, c.cfg.counts_len * sizeof *got), 0);
        }
    }
    uint64_t total;
    cr_assert_eq(pinhole_store_report_total(s, c.id, &total), PINHOLE_OK);
    cr_assert_eq(total, (uint64_t)N * ROUNDS);
    assert_consistent(s);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
}

/* ---- the writer's flush policy ---- */

/* With flush_reports = 3 and flush_ms = 400, a lone report waits 400 ms for company and is then
 * committed alone; three reports arriving together go at once, in one transaction. */
Test(store, writer_flushes_every_b_reports_or_t_ms)
{
    pinhole_store *s;
    pinhole_server_collection c;
    s = open_store();
    make_collection(s, &c);
    pinhole_writer w;
    pinhole_writer_options o = {.flush_reports = 3, .flush_ms = 400};
    cr_assert_eq(pinhole_writer_start(&w, store_url, &o), PINHOLE_OK);
    const uint8_t p = 2;
    pinhole_ingest_report r[4];
    pinhole_ingest_batch b[4];
    flushed f = {0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    for (int i = 0; i < 4; i++) {
        report(&r[i], &c, (uint8_t)(40 + i), 1, &p);
        b[i] = (pinhole_ingest_batch){.reports = &r[i], .n = 1, .done = on_flushed, .arg = &f};
    }
    double t0 = pinhole_clock_mono();
    cr_assert_eq(pinhole_writer_submit(&w, &b[0]), PINHOLE_OK);
    wait_flushed(&f, 1);
    const double alone = pinhole_clock_mono() - t0;
    cr_assert_geq(alone, 0.39, "committed after %.3f s", alone);
    const uint64_t txn = atomic_load(&w.stats.transactions);
    t0 = pinhole_clock_mono();
    for (int i = 1; i < 4; i++)
        cr_assert_eq(pinhole_writer_submit(&w, &b[i]), PINHOLE_OK);
    wait_flushed(&f, 4);
    const double together = pinhole_clock_mono() - t0;
    cr_assert_lt(together, 0.39, "committed after %.3f s", together);
    cr_assert_leq(atomic_load(&w.stats.transactions) - txn, 2); /* 1, or 2 if it woke between */
    for (int i = 0; i < 4; i++)
        cr_assert_eq(r[i].status, PINHOLE_REPORT_ACCEPTED);
    pinhole_writer_stop(&w);
    pinhole_writer_release(&w);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
}

/* Another connection holding off the store's writes until unlock_writes(): SQLite's write lock
 * (BEGIN IMMEDIATE), or on PostgreSQL a lock on the reports table that conflicts with inserts
 * (for less than the store's 5-second lock_timeout). */
typedef struct locker {
    sqlite3 *lite;
#ifdef PINHOLE_WITH_POSTGRESQL
    PGconn *pg;
#endif
} locker;

static void lock_writes(locker *lk)
{
    memset(lk, 0, sizeof *lk);
    if (!on_pg) {
        cr_assert_eq(sqlite3_open(store_url, &lk->lite), SQLITE_OK);
        cr_assert_eq(sqlite3_exec(lk->lite, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
        return;
    }
#ifdef PINHOLE_WITH_POSTGRESQL
    lk->pg = PQconnectdb(store_url);
    cr_assert_eq(PQstatus(lk->pg), CONNECTION_OK);
    PGresult *r = PQexec(lk->pg, "BEGIN; LOCK TABLE reports IN EXCLUSIVE MODE");
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQerrorMessage(lk->pg));
    PQclear(r);
#endif
}

static void unlock_writes(locker *lk)
{
    if (lk->lite) {
        cr_assert_eq(sqlite3_exec(lk->lite, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(lk->lite);
    }
#ifdef PINHOLE_WITH_POSTGRESQL
    if (lk->pg) {
        PGresult *r = PQexec(lk->pg, "COMMIT");
        cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQerrorMessage(lk->pg));
        PQclear(r);
        PQfinish(lk->pg);
    }
#endif
}

/* A full queue refuses with PINHOLE_EOVERFLOW while the database is locked by someone else, and
 * every accepted batch completes, committed, once the lock goes. */
Test(store, writer_queue_full_then_drains)
{
    pinhole_store *s;
    pinhole_server_collection c;
    s = open_store();
    make_collection(s, &c);
    pinhole_writer w;
    pinhole_writer_options o = {.max_queue_reports = 1};
    cr_assert_eq(pinhole_writer_start(&w, store_url, &o), PINHOLE_OK);
    locker lk;
    lock_writes(&lk);
    const uint8_t p = 2;
    pinhole_ingest_report r[3];
    pinhole_ingest_batch job[3];
    flushed d = {0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    for (int i = 0; i < 3; i++) {
        report(&r[i], &c, (uint8_t)(10 + i), 1, &p);
        job[i] = (pinhole_ingest_batch){.reports = &r[i], .n = 1, .done = on_flushed, .arg = &d};
    }
    cr_assert_eq(pinhole_writer_submit(&w, &job[0]), PINHOLE_OK);
    /* wait until the writer has taken job 0 (it then blocks on the lock) */
    for (int i = 0; i < 500 && atomic_load(&w.stats.queued_batches) > 0; i++)
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    cr_assert_eq(pinhole_writer_submit(&w, &job[1]), PINHOLE_OK);
    cr_assert_eq(pinhole_writer_submit(&w, &job[2]), PINHOLE_EOVERFLOW);
    nanosleep(&(struct timespec){0, 100000000}, NULL);
    pthread_mutex_lock(&d.mu);
    cr_assert_eq(d.done, 0, "a batch committed while another connection held the lock");
    pthread_mutex_unlock(&d.mu);
    unlock_writes(&lk);
    wait_flushed(&d, 2);
    cr_assert_eq(job[0].result, PINHOLE_OK);
    cr_assert_eq(job[1].result, PINHOLE_OK);
    cr_assert_eq(r[0].status, PINHOLE_REPORT_ACCEPTED);
    cr_assert_eq(r[1].status, PINHOLE_REPORT_ACCEPTED);
    pinhole_writer_stop(&w);
    uint64_t total;
    cr_assert_eq(pinhole_store_report_total(s, c.id, &total), PINHOLE_OK);
    cr_assert_eq(total, 2);
    cr_assert_eq(atomic_load(&w.stats.accepted), 2);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
}
