/* The storage interface's promises, checked on whichever backend the environment names: a fresh
 * SQLite file by default, a fresh PostgreSQL database on the server PINHOLE_PG_URI points to
 * (tests/pg/cluster.sh run sets it). The same suite runs against both: ingest outcomes
 * (accepted, duplicate, replay, invalid), counts against a direct recount, the consistency check
 * noticing tampering, two handles ingesting the same batch at once, the job queue. */
#include "common/error.h"
#include "common/rng.h"
#include "server/estimate/estimate.h"
#include "common/clock.h"
#include "server/store/store.h"
#include "server/store/writer.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef PINHOLE_WITH_POSTGRESQL
#include <libpq-fe.h>
#endif

static char dir[64], url[512], dbname[64];
static int on_pg;

#ifdef PINHOLE_WITH_POSTGRESQL
/* Run sql on the server of PINHOLE_PG_URI (database `pinhole` when admin, else the test's). */
static void pg_sql(int admin, const char *sql)
{
    PGconn *c = PQconnectdb(admin ? getenv("PINHOLE_PG_URI") : url);
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
              "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}
#endif

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    const char *pg = getenv("PINHOLE_PG_URI");
    on_pg = pg && *pg;
    if (!on_pg) {
        strcpy(dir, "/tmp/pinhole-store-test.XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
        snprintf(url, sizeof url, "%s/t.db", dir);
        return;
    }
#ifdef PINHOLE_WITH_POSTGRESQL
    /* a database of its own per test: postgresql:///pinhole?... becomes postgresql:///t_...? */
    snprintf(dbname, sizeof dbname, "t_%ld_%08" PRIx32, (long)getpid(), randombytes_random());
    const char *q = strchr(pg, '?');
    cr_assert_not_null(q, "PINHOLE_PG_URI without parameters: %s", pg);
    snprintf(url, sizeof url, "postgresql:///%s%s", dbname, q);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", dbname);
    pg_sql(1, sql);
#else
    cr_skip_test("PostgreSQL backend not built");
#endif
}

static void teardown(void)
{
    if (!on_pg) {
        char p[sizeof url + 8];
        const char *suffix[] = {"", "-wal", "-shm"};
        for (int i = 0; i < 3; i++) {
            snprintf(p, sizeof p, "%s%s", url, suffix[i]);
            unlink(p);
        }
        rmdir(dir);
        return;
    }
#ifdef PINHOLE_WITH_POSTGRESQL
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", dbname);
    pg_sql(1, sql);
#endif
}

/* Run one statement behind the store's back: sqlite_sql on SQLite, pg on PostgreSQL. */
static void tamper(const char *sqlite_sql, const char *pg)
{
    if (!on_pg) {
        sqlite3 *db;
        cr_assert_eq(sqlite3_open(url, &db), SQLITE_OK);
        cr_assert_eq(sqlite3_exec(db, sqlite_sql, NULL, NULL, NULL), SQLITE_OK, "%s",
                     sqlite3_errmsg(db));
        sqlite3_close(db);
        return;
    }
#ifdef PINHOLE_WITH_POSTGRESQL
    pg_sql(0, pg);
#else
    (void)pg;
#endif
}

TestSuite(backends, .init = setup, .fini = teardown, .timeout = 120);

/* A PGR collection with k = 40, epsilon = 2 (the planner's q and t: K < 256, one payload byte). */
static void make_collection(pinhole_store *s, pinhole_server_collection *c)
{
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 40, .epsilon = 2};
    cr_assert_eq(pinhole_store_create_collection(s, c, "t", &p, 3600, 10, NULL), PINHOLE_OK);
}

static void report(pinhole_ingest_report *r, const pinhole_server_collection *c, uint8_t idbyte,
                   int64_t bucket, const uint8_t *payload)
{
    memset(r, 0, sizeof *r);
    r->coll = c;
    memset(r->id, idbyte, sizeof r->id);
    r->bucket = bucket;
    r->payload = payload;
    r->payload_len = c->cfg.payload_bytes;
}

static void assert_consistent(pinhole_store *s)
{
    uint64_t problems = 1;
    char msg[256];
    cr_assert_eq(pinhole_store_check(s, &problems, msg, sizeof msg), PINHOLE_OK);
    cr_assert_eq(problems, 0, "%s", msg);
}

Test(backends, backend_is_the_one_named)
{
    pinhole_store *s;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    cr_assert_str_eq(pinhole_store_backend_name(s), on_pg ? "postgresql" : "sqlite");
    pinhole_store_close(s);
}

Test(backends, replay_duplicate_invalid_and_counts)
{
    pinhole_store *s;
    pinhole_server_collection c;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    make_collection(s, &c);
    cr_assert_eq(c.cfg.payload_bytes, 1);
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

    /* A retry is acknowledged; the same id with another payload, or another time (here a time
     * 30 days later, another day), is a replay. */
    pinhole_ingest_report q[3];
    report(&q[0], &c, 2, 100, &p5);
    report(&q[1], &c, 2, 100, &p3);
    report(&q[2], &c, 3, 101 + 30 * 24, &p3);
    cr_assert_eq(pinhole_store_ingest(s, q, 3), PINHOLE_OK);
    cr_assert_eq(q[0].status, PINHOLE_REPORT_DUPLICATE);
    cr_assert_eq(q[1].status, PINHOLE_REPORT_REPLAY);
    cr_assert_eq(q[1].error, PINHOLE_EMISMATCH);
    cr_assert_eq(q[2].status, PINHOLE_REPORT_REPLAY);

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
    int64_t *bk;
    uint64_t *bn, total = 0;
    size_t nb;
    cr_assert_eq(pinhole_store_buckets(s, c.id, 0, 1000, &bk, &bn, &nb), PINHOLE_OK);
    cr_assert_eq(nb, 2);
    cr_assert(bk[0] == 100 && bn[0] == 3 && bk[1] == 101 && bn[1] == 1);
    free(bk);
    free(bn);
    cr_assert_eq(pinhole_store_report_total(s, c.id, &total), PINHOLE_OK);
    cr_assert_eq(total, 4);
    assert_consistent(s);
    pinhole_store_close(s);

    /* Reopened: a retry is still recognised, the collection loads with the same fingerprint. */
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
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
Test(backends, counts_equal_direct_accumulation_and_check_sees_tampering)
{
    pinhole_store *s;
    pinhole_server_collection c;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
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

Test(backends, duplicate_rows_are_found_by_check)
{
    pinhole_store *s;
    pinhole_server_collection c;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
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
Test(backends, same_batch_through_two_handles_counts_once)
{
    if (!on_pg) /* promised by PostgreSQL only: SQLite has one ingesting handle per store */
        cr_skip_test("one ingesting handle at a time on SQLite");
    pinhole_store *s;
    pinhole_server_collection c;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
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
        racer x = {url, a, N, -1}, y = {url, b, N, -1};
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

/* ---- keys ---- */

Test(backends, server_keys_are_made_once_and_shared)
{
    pinhole_store *s, *t;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_open(&t, url, NULL), PINHOLE_OK);
    pinhole_server_keys k1, k2;
    cr_assert_eq(pinhole_store_server_keys(s, &k1), PINHOLE_OK);
    cr_assert_eq(pinhole_store_server_keys(t, &k2), PINHOLE_OK);
    cr_assert_eq(memcmp(&k1, &k2, sizeof k1), 0);
    pinhole_store_close(s);
    pinhole_store_close(t);
}

/* ---- the job queue ---- */

Test(backends, jobs_enqueue_claim_progress_finish)
{
    pinhole_store *s;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    pinhole_job_record r = {
        .collection_id = 3, .from = 10, .to = 20, .time_limit = 60, .created = 1000.5};
    strcpy(r.type, "histogram");
    r.params = "{\"a\":1}";
    int64_t id1, id2;
    cr_assert_eq(pinhole_store_job_enqueue(s, &r, &id1), PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_enqueue(s, &r, &id2), PINHOLE_OK);
    cr_assert_gt(id2, id1);
    pinhole_job_record got;
    cr_assert_eq(pinhole_store_job_claim(s, 2000, &got), PINHOLE_OK);
    cr_assert_eq(got.id, id1); /* the oldest first */
    cr_assert_eq(got.state, PINHOLE_JOB_RUNNING);
    cr_assert_eq(got.collection_id, 3);
    cr_assert_str_eq(got.type, "histogram");
    cr_assert_str_eq(got.params, "{\"a\":1}");
    cr_assert(got.from == 10 && got.to == 20 && got.time_limit == 60 && got.created == 1000.5);
    cr_assert_eq(got.started, 2000);
    cr_assert(isnan(got.finished));
    pinhole_job_record_free(&got);
    cr_assert_eq(pinhole_store_job_progress(s, id1, 0.25), PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_get(s, id1, &got), PINHOLE_OK);
    cr_assert_eq(got.progress, 0.25);
    pinhole_job_record_free(&got);
    cr_assert_eq(pinhole_store_job_finish(s, id1, PINHOLE_JOB_DONE, 2100, "{\"r\":2}", NULL),
                 PINHOLE_OK);
    pinhole_job_state st;
    cr_assert_eq(pinhole_store_job_state(s, id1, &st), PINHOLE_OK);
    cr_assert_eq(st, PINHOLE_JOB_DONE);
    cr_assert_eq(pinhole_store_job_get(s, id1, &got), PINHOLE_OK);
    cr_assert_str_eq(got.result, "{\"r\":2}");
    cr_assert(got.progress == 1 && got.finished == 2100);
    pinhole_job_record_free(&got);
    cr_assert_eq(pinhole_store_job_cancel_queued(s, id2, 2200), PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_state(s, id2, &st), PINHOLE_OK);
    cr_assert_eq(st, PINHOLE_JOB_CANCELED);
    cr_assert_eq(pinhole_store_job_claim(s, 2300, &got), PINHOLE_ENOTFOUND);
    cr_assert_eq(pinhole_store_job_state(s, id2 + 100, &st), PINHOLE_ENOTFOUND);
    pinhole_store_close(s);
}

/* Two handles claiming at once never get the same job. */
Test(backends, jobs_are_claimed_once)
{
    pinhole_store *s, *t;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_open(&t, url, NULL), PINHOLE_OK);
    pinhole_job_record r = {.collection_id = 1, .time_limit = 60, .created = 1};
    strcpy(r.type, "histogram");
    enum { J = 20 };
    int64_t id;
    for (int i = 0; i < J; i++)
        cr_assert_eq(pinhole_store_job_enqueue(s, &r, &id), PINHOLE_OK);
    int seen[J + 1] = {0}, claimed = 0;
    for (int i = 0; i < J; i++) {
        pinhole_job_record got;
        cr_assert_eq(pinhole_store_job_claim(i % 2 ? s : t, 5, &got), PINHOLE_OK);
        cr_assert(got.id >= id - J + 1 && got.id <= id);
        seen[got.id - (id - J + 1)]++;
        claimed++;
        pinhole_job_record_free(&got);
    }
    for (int i = 0; i < J; i++)
        cr_assert_eq(seen[i], 1);
    pinhole_job_record got;
    cr_assert_eq(pinhole_store_job_claim(s, 6, &got), PINHOLE_ENOTFOUND);
    cr_assert_eq(claimed, J);
    pinhole_store_close(s);
    pinhole_store_close(t);
}

/* ---- the report window ---- */

/* A collection's window and retention are stored and come back on load; a new one has none. */
Test(backends, window_is_stored_and_loaded)
{
    pinhole_store *s;
    pinhole_server_collection c;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    make_collection(s, &c);
    cr_assert(c.window.max_report_age == 0 && c.window.max_clock_skew == 0 &&
              !c.window.keep_reports);
    const pinhole_collection_window w = {
        .max_report_age = 7 * 86400, .max_clock_skew = 3600, .keep_reports = 1};
    cr_assert_eq(pinhole_store_set_window(s, c.id, &w), PINHOLE_OK);
    cr_assert_eq(pinhole_store_set_window(s, c.id + 1, &w), PINHOLE_ENOTFOUND);
    pinhole_store_close(s);
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    pinhole_server_collection *all;
    size_t n;
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_OK);
    cr_assert_eq(n, 1);
    cr_assert(all[0].window.max_report_age == 7 * 86400 && all[0].window.max_clock_skew == 3600 &&
              all[0].window.keep_reports);
    pinhole_server_collection_free(&all[0]);
    free(all);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
}

/* The window's edges, in a collection of hourly buckets: a bucket is in while any second of it
 * is in [now - age, now + skew]; 0 means no bound on that side. */
Test(backends, window_check_edges)
{
    pinhole_server_collection c;
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 40, .epsilon = 2};
    cr_assert_eq(pinhole_server_collection_init(&c, 1, "w", &p, 3600, 0, NULL, 0), PINHOLE_OK);
    const int64_t now = 1800000000; /* a multiple of 3600 */
    const uint64_t h = (uint64_t)now / 3600;
    cr_assert_eq(pinhole_collection_window_check(&c, 0, now), PINHOLE_OK); /* no window */
    cr_assert_eq(pinhole_collection_window_check(&c, h + 1000000, now), PINHOLE_OK);
    c.window = (pinhole_collection_window){.max_report_age = 86400, .max_clock_skew = 3600};
    cr_assert_eq(pinhole_collection_window_check(&c, h, now), PINHOLE_OK);
    cr_assert_eq(pinhole_collection_window_check(&c, h - 24, now),
                 PINHOLE_OK); /* ends at edge+1h */
    cr_assert_eq(pinhole_collection_window_check(&c, h - 25, now),
                 PINHOLE_EWINDOW); /* ends at now-age */
    cr_assert_eq(pinhole_collection_window_check(&c, h + 1, now),
                 PINHOLE_OK); /* starts at now+skew */
    cr_assert_eq(pinhole_collection_window_check(&c, h + 2, now), PINHOLE_EWINDOW);
    c.window.max_report_age = 0; /* no lower bound, the upper one stays */
    cr_assert_eq(pinhole_collection_window_check(&c, 0, now), PINHOLE_OK);
    cr_assert_eq(pinhole_collection_window_check(&c, h + 2, now), PINHOLE_EWINDOW);
    pinhole_server_collection_free(&c);
}

/* A file made by a server before schema versions (no window columns, user_version 0) is
 * upgraded on open: its collections and reports stay, with no window. SQLite only (PostgreSQL
 * has had versions from its first schema). */
Test(backends, sqlite_file_of_the_first_schema_is_upgraded)
{
    if (on_pg)
        cr_skip_test("SQLite's upgrade");
    pinhole_store *s;
    pinhole_server_collection c;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    make_collection(s, &c);
    const uint8_t p3 = 3;
    pinhole_ingest_report r;
    report(&r, &c, 1, 100, &p3);
    cr_assert_eq(pinhole_store_ingest(s, &r, 1), PINHOLE_OK);
    pinhole_store_close(s);
    /* back to the first schema: what every earlier server made */
    tamper("ALTER TABLE collections DROP COLUMN max_report_age;"
           " ALTER TABLE collections DROP COLUMN max_clock_skew;"
           " ALTER TABLE collections DROP COLUMN keep_reports;"
           " ALTER TABLE collections DROP COLUMN deleting; DROP TABLE gc_state;"
           " ALTER TABLE collections DROP COLUMN closed_before;"
           " PRAGMA user_version = 0;",
           NULL);
    pinhole_store_options ro = {.readonly = 1}; /* read-only: loads it as it is */
    cr_assert_eq(pinhole_store_open(&s, url, &ro), PINHOLE_OK);
    pinhole_server_collection *all;
    size_t n;
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_OK);
    cr_assert(n == 1 && all[0].window.max_report_age == 0);
    pinhole_server_collection_free(&all[0]);
    free(all);
    pinhole_store_close(s);
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK); /* upgrades */
    const pinhole_collection_window w = {.max_report_age = 60};
    cr_assert_eq(pinhole_store_set_window(s, c.id, &w), PINHOLE_OK);
    uint64_t total;
    cr_assert_eq(pinhole_store_report_total(s, c.id, &total), PINHOLE_OK);
    cr_assert_eq(total, 1);
    assert_consistent(s);
    pinhole_store_close(s);
    sqlite3 *db;
    sqlite3_stmt *q;
    cr_assert_eq(sqlite3_open(url, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(q, 0), 3);
    sqlite3_finalize(q);
    sqlite3_close(db);
    pinhole_server_collection_free(&c);
}

/* ---- retention (PostgreSQL: day partitions) ---- */

#ifdef PINHOLE_WITH_POSTGRESQL
/* Rows of `sql` (one number) on the test's database. */
static long long pg_count(const char *sql)
{
    PGconn *c = PQconnectdb(url);
    cr_assert_eq(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
    const long long n = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return n;
}
#endif

/* The garbage collector retires the days before every collection's window (plus a day): their
 * partitions are dropped, the reports of a keep_reports collection move to reports_kept, counts
 * stay, a report of a retired day is refused, and the check still passes. */
Test(backends, old_days_are_retired_whole)
{
    if (!on_pg)
        cr_skip_test("day partitions are PostgreSQL's");
#ifdef PINHOLE_WITH_POSTGRESQL
    pinhole_store *s;
    pinhole_server_collection a, b;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 40, .epsilon = 2};
    cr_assert_eq(pinhole_store_create_collection(s, &a, "drop", &p, 86400, 0, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_create_collection(s, &b, "keep", &p, 86400, 0, NULL), PINHOLE_OK);
    const pinhole_collection_window wa = {.max_report_age = 2 * 86400, .max_clock_skew = 3600},
                                    wb = {.max_report_age = 86400, .keep_reports = 1};
    cr_assert_eq(pinhole_store_set_window(s, a.id, &wa), PINHOLE_OK);
    cr_assert_eq(pinhole_store_set_window(s, b.id, &wb), PINHOLE_OK);
    const int64_t today = (int64_t)time(NULL) / 86400;
    const uint8_t pay[4] = {1, 2, 3, 4};
    pinhole_ingest_report r[8];
    for (int i = 0; i < 4; i++) { /* days today - 10, - 5, - 1, today in each collection */
        const int64_t day = today - (int64_t[]){10, 5, 1, 0}[i];
        report(&r[i], &a, (uint8_t)(10 + i), day, &pay[i]);
        report(&r[4 + i], &b, (uint8_t)(20 + i), day, &pay[i]);
    }
    cr_assert_eq(pinhole_store_ingest(s, r, 8), PINHOLE_OK);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(r[i].status, PINHOLE_REPORT_ACCEPTED);
    int did = 0;
    cr_assert_eq(pinhole_store_maintain(s, PINHOLE_UPKEEP_PERIODIC, &did), PINHOLE_OK);
    cr_assert_eq(did, 1);
    /* widest window 2 days: days before today - 3 are gone, whole */
    cr_assert_eq(pg_count("SELECT count(*) FROM retired_days"), 2);
    cr_assert_eq(pg_count("SELECT count(*) FROM reports"), 4);
    cr_assert_eq(pg_count("SELECT count(*) FROM reports_kept"), 2);
    pinhole_store_gc_stats st; /* the reports of "drop" on the two retired days; kept ones moved */
    pinhole_store_gc_read(s, &st);
    cr_assert_eq(st.rows_removed, 2);
    cr_assert_gt(st.bytes_removed, 0);
    cr_assert_eq(st.passes, 1);
    cr_assert_eq(st.lag_seconds, 0);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_class WHERE relname = 'reports_d%lld'",
             (long long)(today - 10));
    cr_assert_eq(pg_count(sql), 0);
    /* counts stay */
    uint64_t counts[64], n;
    cr_assert_eq(pinhole_store_counts(s, &a, today - 10, today - 10, counts, &n), PINHOLE_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(pinhole_store_report_total(s, a.id, &n), PINHOLE_OK);
    cr_assert_eq(n, 4);
    /* a report of a retired day is refused: its day's ids are gone; a retry of a kept one, too */
    pinhole_ingest_report late[2];
    report(&late[0], &a, 99, today - 10, &pay[0]);
    report(&late[1], &a, 13, today, &pay[3]); /* a retry of a live report: a duplicate */
    cr_assert_eq(pinhole_store_ingest(s, late, 2), PINHOLE_OK);
    cr_assert_eq(late[0].status, PINHOLE_REPORT_REJECTED);
    cr_assert_eq(late[0].error, PINHOLE_ERANGE);
    cr_assert_eq(late[1].status, PINHOLE_REPORT_DUPLICATE);
    assert_consistent(s);
    /* a second pass has nothing left to do */
    did = 0;
    cr_assert_eq(pinhole_store_maintain(s, PINHOLE_UPKEEP_PERIODIC, &did), PINHOLE_OK);
    cr_assert_eq(did, 0);
    pinhole_store_close(s);
    pinhole_server_collection_free(&a);
    pinhole_server_collection_free(&b);
#endif
}

/* The count of one SQL query on the SQLite file behind the store's back. */
static int64_t sqlite_count(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    cr_assert_eq(sqlite3_open(url, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    const int64_t n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

/* Reports spread over 30 simulated days into a 7-day window (the wall clock moved a day at a
 * time): the replay index and the reports table hold at most the window's days (today - 7 ..
 * today: 8 days, the day of margin retired), counts of every day stay, a retry of a live report
 * is still a duplicate, a report of a retired day is refused, the check passes, and a reopened
 * handle (a restart) loads only the live ids. SQLite: PostgreSQL retires by the database's own
 * clock (old_days_are_retired_whole). */
Test(backends, thirty_days_into_a_seven_day_window_stay_bounded)
{
    if (on_pg)
        cr_skip_test("PostgreSQL's clock is the database's");
    enum { DAYS = 30, PER_DAY = 300 };
    pinhole_store *s;
    pinhole_server_collection a, b;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 40, .epsilon = 2};
    cr_assert_eq(pinhole_store_create_collection(s, &a, "drop", &p, 86400, 0, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_create_collection(s, &b, "keep", &p, 86400, 0, NULL), PINHOLE_OK);
    const pinhole_collection_window w = {.max_report_age = 7 * 86400, .max_clock_skew = 3600},
                                    wk = {.max_report_age = 86400, .keep_reports = 1};
    cr_assert_eq(pinhole_store_set_window(s, a.id, &w), PINHOLE_OK);
    cr_assert_eq(pinhole_store_set_window(s, b.id, &wk), PINHOLE_OK);
    pinhole_server_collection_free(&a); /* reloaded below, with their windows */
    pinhole_server_collection_free(&b);
    pinhole_server_collection *cs;
    size_t nc;
    cr_assert_eq(pinhole_store_load_collections(s, &cs, &nc), PINHOLE_OK);
    cr_assert_eq(nc, 2);
    const int64_t today = (int64_t)(pinhole_clock_wall() / 86400);
    const uint8_t pay = 3;
    pinhole_ingest_report *r = calloc(PER_DAY + 1, sizeof *r);
    cr_assert_not_null(r);
    pinhole_store_gc_stats st;
    uint64_t max_ids = 0;
    for (int d = 0; d < DAYS; d++) {
        pinhole_clock_set_offset((double)(d - DAYS + 1) * 86400); /* day today - 29 .. today */
        const int64_t day = today - DAYS + 1 + d;
        for (int i = 0; i < PER_DAY; i++) {
            report(&r[i], &cs[0], 0, day, &pay);
            memcpy(r[i].id, &(uint32_t[]){(uint32_t)(d * PER_DAY + i)}, 4);
        }
        report(&r[PER_DAY], &cs[1], 0, day, &pay);
        memcpy(r[PER_DAY].id, &(uint32_t[]){(uint32_t)d}, 4);
        cr_assert_eq(pinhole_store_ingest(s, r, PER_DAY + 1), PINHOLE_OK);
        for (int i = 0; i <= PER_DAY; i++)
            cr_assert_eq(r[i].status, PINHOLE_REPORT_ACCEPTED, "day %d report %d", d, i);
        cr_assert_eq(pinhole_store_maintain(s, PINHOLE_UPKEEP_AFTER_COMMIT, NULL), PINHOLE_OK);
        cr_assert_eq(pinhole_store_maintain(s, PINHOLE_UPKEEP_PERIODIC, NULL), PINHOLE_OK);
        pinhole_store_gc_read(s, &st);
        if (st.index_ids > max_ids)
            max_ids = st.index_ids;
    }
    /* days today - 7 .. today live: 8 days of each collection's reports in the index */
    cr_assert_eq(st.index_ids, 8 * (PER_DAY + 1));
    cr_assert_leq(max_ids, 9 * (PER_DAY + 1)); /* a day's ingest before its retirement */
    cr_assert_eq(st.index_bytes, (size_t)(1u << 16) * 16); /* shrunk back to the least table */
    cr_assert_eq(sqlite_count("SELECT count(*) FROM reports WHERE collection = 1"), 8 * PER_DAY);
    cr_assert_eq(sqlite_count("SELECT count(*) FROM reports WHERE collection = 2"), DAYS);
    cr_assert_eq(st.rows_removed, (DAYS - 8) * PER_DAY);
    cr_assert_eq(st.bytes_removed, (DAYS - 8) * PER_DAY * (16 + 1));
    cr_assert_eq(st.lag_seconds, 0);
    uint64_t n;
    cr_assert_eq(pinhole_store_report_total(s, cs[0].id, &n), PINHOLE_OK);
    cr_assert_eq(n, DAYS * PER_DAY); /* counts stay */
    assert_consistent(s);
    /* a retry of a live report: duplicate; a new one of a retired day: refused */
    pinhole_ingest_report late[2];
    report(&late[0], &cs[0], 0, today, &pay);
    memcpy(late[0].id, &(uint32_t[]){(uint32_t)((DAYS - 1) * PER_DAY)}, 4);
    report(&late[1], &cs[0], 0xee, today - 8, &pay);
    cr_assert_eq(pinhole_store_ingest(s, late, 2), PINHOLE_OK);
    cr_assert_eq(late[0].status, PINHOLE_REPORT_DUPLICATE);
    cr_assert_eq(late[1].status, PINHOLE_REPORT_REJECTED);
    cr_assert_eq(late[1].error, PINHOLE_ERANGE);
    pinhole_store_close(s);
    /* a restart loads the live ids only */
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_ingest_prepare(s), PINHOLE_OK);
    pinhole_store_gc_read(s, &st);
    cr_assert_eq(st.index_ids, 8 * (PER_DAY + 1));
    cr_assert_eq(pinhole_store_ingest(s, late, 1), PINHOLE_OK);
    cr_assert_eq(late[0].status, PINHOLE_REPORT_DUPLICATE);
    pinhole_store_close(s);
    pinhole_clock_set_offset(0);
    for (size_t i = 0; i < nc; i++)
        pinhole_server_collection_free(&cs[i]);
    free(cs);
    free(r);
}

/* Rows of one counting query on either backend (the same SQL serves both here). */
static long long rows_of(const char *sql)
{
#ifdef PINHOLE_WITH_POSTGRESQL
    if (on_pg)
        return pg_count(sql);
#endif
    return (long long)sqlite_count(sql);
}

/* DELETE of a collection: it disappears at once (no longer loaded, a second delete finds
 * nothing), even when the process dies right after marking it; the garbage collector of the next
 * process removes its reports, counts, buckets and jobs and the collection itself, and leaves the
 * other collection whole. */
Test(backends, deleted_collection_goes_at_once_and_its_rows_after_a_restart)
{
    pinhole_store *s;
    pinhole_server_collection a, b;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    make_collection(s, &b);
    make_collection(s, &a); /* the newest: its id must not come back */
    const uint8_t pay = 5;
    pinhole_ingest_report r[20];
    for (int i = 0; i < 20; i++)
        report(&r[i], i < 10 ? &a : &b, (uint8_t)i, 100 + i % 3, &pay);
    cr_assert_eq(pinhole_store_ingest(s, r, 20), PINHOLE_OK);
    pinhole_job_record job = {.collection_id = a.id, .time_limit = 10, .created = 1};
    strcpy(job.type, "histogram");
    job.params = "{}";
    int64_t jid;
    cr_assert_eq(pinhole_store_job_enqueue(s, &job, &jid), PINHOLE_OK);
    cr_assert_eq(pinhole_store_delete_collection(s, a.id), PINHOLE_OK);
    cr_assert_eq(pinhole_store_delete_collection(s, a.id), PINHOLE_ENOTFOUND);
    cr_assert_eq(pinhole_store_delete_collection(s, a.id + 100), PINHOLE_ENOTFOUND);
    pinhole_store_close(s); /* as if the process died now: nothing removed yet but the mark */
    char sql[4][160];
    snprintf(sql[0], sizeof sql[0], "SELECT count(*) FROM reports WHERE collection = %lld",
             (long long)a.id);
    snprintf(sql[1], sizeof sql[1], "SELECT count(*) FROM buckets WHERE collection = %lld",
             (long long)a.id);
    snprintf(sql[2], sizeof sql[2], "SELECT count(*) FROM counts WHERE collection = %lld",
             (long long)a.id);
    snprintf(sql[3], sizeof sql[3], "SELECT count(*) FROM jobs WHERE collection_id = %lld",
             (long long)a.id);
    cr_assert_eq(rows_of(sql[0]), 10);
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    pinhole_server_collection *cs;
    size_t nc;
    cr_assert_eq(pinhole_store_load_collections(s, &cs, &nc), PINHOLE_OK);
    cr_assert_eq(nc, 1);
    cr_assert_eq(cs[0].id, b.id);
    pinhole_server_collection_free(&cs[0]);
    free(cs);
    cr_assert_eq(pinhole_store_maintain(s, PINHOLE_UPKEEP_PERIODIC, NULL), PINHOLE_OK);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(rows_of(sql[i]), 0, "%s", sql[i]);
    /* the collection itself: gone (PostgreSQL's identity never gives an id twice), or a tombstone
     * keeping its id from being given again (SQLite gives max + 1) */
    snprintf(sql[0], sizeof sql[0], "SELECT count(*) FROM collections WHERE id = %lld%s",
             (long long)a.id, on_pg ? "" : " AND deleting = 2");
    cr_assert_eq(rows_of(sql[0]), on_pg ? 0 : 1);
    pinhole_server_collection c;
    make_collection(s, &c);
    cr_assert_gt(c.id, a.id);
    pinhole_server_collection_free(&c);
    pinhole_store_gc_stats st;
    pinhole_store_gc_read(s, &st);
    cr_assert_eq(st.rows_removed, 10);
    uint64_t n;
    cr_assert_eq(pinhole_store_report_total(s, b.id, &n), PINHOLE_OK);
    cr_assert_eq(n, 10);
    assert_consistent(s);
    pinhole_store_close(s);
    pinhole_server_collection_free(&a);
    pinhole_server_collection_free(&b);
}

/* ---- the writer's flush policy ---- */

typedef struct flushed {
    int done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} flushed;

static void on_flushed(pinhole_ingest_batch *b, void *arg)
{
    (void)b;
    flushed *f = arg;
    pthread_mutex_lock(&f->mu);
    f->done++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void wait_flushed(flushed *f, int n)
{
    pthread_mutex_lock(&f->mu);
    while (f->done < n)
        pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
}

/* With flush_reports = 3 and flush_ms = 400, a lone report waits 400 ms for company and is then
 * committed alone; three reports arriving together go at once, in one transaction. */
Test(backends, writer_flushes_every_b_reports_or_t_ms)
{
    pinhole_store *s;
    pinhole_server_collection c;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    make_collection(s, &c);
    pinhole_writer w;
    pinhole_writer_options o = {.flush_reports = 3, .flush_ms = 400};
    cr_assert_eq(pinhole_writer_start(&w, url, &o), PINHOLE_OK);
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
