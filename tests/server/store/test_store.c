/* The storage interface's behaviour (server/store/store.h), one suite run against each backend:
 * a fresh SQLite file per test by default (meson test `store`), a fresh PostgreSQL database per
 * test on the server PINHOLE_PG_URI names (`store_pg`: tests/pg/cluster.sh run sets it).
 * Collections, labels and keys; the four ingest outcomes, counts and buckets against a direct
 * recount; the consistency check noticing tampering; the job queue and cancels reaching the
 * job's holder; the report window, retention and collection deletion; schema upgrades; the
 * writer's flush policy. A test that holds for one backend only says why it skips the other. */
#include "common/clock.h"
#include "common/error.h"
#include "common/rng.h"
#include "server/estimate/estimate.h"
#include "server/store/sqlite/idset.h"
#include "server/store/store.h"
#include "server/store/writer.h"
#include "tests/support/reports.h"
#include "tests/support/tmpdb.h"

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

static test_tmpdb tmpdb;
static char url[512], dbname[64];
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

/* The number one query gives, on the test's database. */
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

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    const char *pg = getenv("PINHOLE_PG_URI");
    on_pg = pg && *pg;
    if (!on_pg) {
        test_tmpdb_make(&tmpdb);
        snprintf(url, sizeof url, "%s", tmpdb.path);
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
        test_tmpdb_remove(&tmpdb);
        return;
    }
#ifdef PINHOLE_WITH_POSTGRESQL
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", dbname);
    pg_sql(1, sql);
#endif
}

TestSuite(store, .init = setup, .fini = teardown, .timeout = 120);

/* Run statements behind the store's back: sqlite_sql on SQLite, pg on PostgreSQL. */
static void tamper(const char *sqlite_sql, const char *pg)
{
    if (!on_pg) {
        sqlite3 *d;
        cr_assert_eq(sqlite3_open(url, &d), SQLITE_OK);
        cr_assert_eq(sqlite3_exec(d, sqlite_sql, NULL, NULL, NULL), SQLITE_OK, "%s",
                     sqlite3_errmsg(d));
        sqlite3_close(d);
        return;
    }
#ifdef PINHOLE_WITH_POSTGRESQL
    pg_sql(0, pg);
#else
    (void)pg;
#endif
}

/* The number one query gives, behind the store's back (the same SQL on either backend). */
static long long rows_of(const char *sql)
{
#ifdef PINHOLE_WITH_POSTGRESQL
    if (on_pg)
        return pg_count(sql);
#endif
    sqlite3 *d;
    sqlite3_stmt *q;
    cr_assert_eq(sqlite3_open(url, &d), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(d, sql, -1, &q, NULL), SQLITE_OK, "%s", sqlite3_errmsg(d));
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    const long long n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(d);
    return n;
}

/* Skip the test unless it runs on the backend named (why: what only that backend promises). */
static void only_on(const char *backend, const char *why)
{
    if (strcmp(backend, on_pg ? "postgresql" : "sqlite") != 0)
        cr_skip_test("%s", why);
}

static pinhole_store *open_store(void)
{
    pinhole_store *s = NULL;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK, "%s", url);
    cr_assert_not_null(s);
    return s;
}

/* A PGR collection with k = 40, epsilon = 2 (the planner's q and t: K < 256, one payload byte). */
static void make_collection(pinhole_store *s, pinhole_server_collection *c)
{
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 40, .epsilon = 2};
    cr_assert_eq(pinhole_store_create_collection(s, c, "t", &p, 3600, 10, NULL), PINHOLE_OK);
}

#define report test_ingest_report /* tests/support/reports.h */

static void assert_consistent(pinhole_store *s)
{
    uint64_t problems = 1;
    char msg[256];
    cr_assert_eq(pinhole_store_check(s, &problems, msg, sizeof msg), PINHOLE_OK);
    cr_assert_eq(problems, 0, "%s", msg);
}

/* ---- opening, collections, keys ---- */

Test(store, urls_choose_the_backend)
{
    pinhole_store *s = open_store();
    cr_assert_str_eq(pinhole_store_backend_name(s), on_pg ? "postgresql" : "sqlite");
    pinhole_store_close(s);
    pinhole_store_close(NULL);
    cr_assert_eq(pinhole_store_open(&s, "nosuch://x", NULL), PINHOLE_EUNSUPPORTED);
    cr_assert_null(s);
    cr_assert_eq(pinhole_store_open(&s, NULL, NULL), PINHOLE_EINVAL);
}

/* Someone else's data where the store should be is refused and left as it is: on SQLite a file
 * that is not a database, on PostgreSQL a database holding another application's table of one of
 * the store's names (and no schema version). */
Test(store, foreign_data_is_refused_and_left_alone)
{
    static const char text[] =
        "not a database at all, just text that is long enough to look like a header....";
    if (!on_pg) {
        FILE *f = fopen(url, "w");
        cr_assert_not_null(f);
        fputs(text, f);
        fclose(f);
    } else {
        tamper(NULL,
               "CREATE TABLE collections(note text); INSERT INTO collections VALUES ('theirs')");
    }
    pinhole_store *s;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_EIO);
    cr_assert_null(s);
    if (!on_pg) {
        char back[sizeof text + 8] = "";
        FILE *f = fopen(url, "r");
        cr_assert_not_null(f);
        cr_assert_eq(fread(back, 1, sizeof back, f), sizeof text - 1);
        fclose(f);
        cr_assert_str_eq(back, text);
    } else {
        cr_assert_eq(rows_of("SELECT count(*) FROM collections WHERE note = 'theirs'"), 1);
        cr_assert_eq(rows_of("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), 1);
    }
}

/* Collections and the server's keys persist across a reopen; the keys are made once and shared by
 * every handle open at the same time (every replica serves the same keys). */
Test(store, collections_and_keys_persist)
{
    pinhole_store *s = open_store(), *t = open_store();
    const pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 3, .epsilon = 1};
    const char *const labels[] = {"a", "bb", ""};
    pinhole_server_collection c1, c2;
    cr_assert_eq(pinhole_store_create_collection(s, &c1, "one", &p, 60, 5, labels), PINHOLE_OK);
    cr_assert_eq(pinhole_store_create_collection(s, &c2, "two", &p, 3600, 0, NULL), PINHOLE_OK);
    cr_assert_gt(c2.id, c1.id);
    pinhole_server_collection bad;
    const pinhole_config_params zero = {.mechanism = PINHOLE_MECH_PGR, .k = 3, .epsilon = 0};
    cr_assert_eq(pinhole_store_create_collection(s, &bad, "bad", &zero, 60, 0, NULL),
                 PINHOLE_EINVAL);
    pinhole_server_keys k1, k2, kt;
    cr_assert_eq(pinhole_store_server_keys(s, &k1), PINHOLE_OK);
    cr_assert_eq(pinhole_store_server_keys(t, &kt), PINHOLE_OK);
    cr_assert_eq(memcmp(&k1, &kt, sizeof k1), 0);
    pinhole_store_close(t);
    pinhole_store_close(s);

    s = open_store();
    cr_assert_eq(pinhole_store_server_keys(s, &k2), PINHOLE_OK);
    cr_assert_eq(memcmp(&k1, &k2, sizeof k1), 0); /* made once, then loaded */
    pinhole_server_collection *all;
    size_t n;
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(all[0].id, c1.id);
    cr_assert_str_eq(all[0].name, "one");
    cr_assert_eq(all[0].min_reports, 5);
    cr_assert_eq(all[0].time_precision, 60);
    cr_assert_eq(memcmp(all[0].fingerprint, c1.fingerprint, sizeof c1.fingerprint), 0);
    cr_assert_str_eq(all[0].label[1], "bb");
    cr_assert_str_eq(all[0].label[2], "");
    cr_assert_null(all[1].label);
    for (size_t i = 0; i < n; i++)
        pinhole_server_collection_free(&all[i]);
    free(all);
    pinhole_server_collection_free(&c1);
    pinhole_server_collection_free(&c2);
    pinhole_store_close(s);
}

/* Multi-attribute parents persist, and share one id space with the collections: a parent's id is
 * above every collection's so far, and the next collection's above it. */
Test(store, multi_attribute_parents_share_the_ids)
{
    pinhole_store *s = open_store();
    const pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 6, .epsilon = 1};
    pinhole_server_collection c1, c2;
    cr_assert_eq(pinhole_store_create_collection(s, &c1, "pair", &p, 60, 0, NULL), PINHOLE_OK);
    int64_t m1, m2;
    cr_assert_eq(pinhole_store_create_multi(s, "survey", "{\"collections\": [1]}", 1234, &m1),
                 PINHOLE_OK);
    cr_assert_gt(m1, c1.id);
    cr_assert_eq(pinhole_store_create_collection(s, &c2, "next", &p, 60, 0, NULL), PINHOLE_OK);
    cr_assert_gt(c2.id, m1);
    cr_assert_eq(pinhole_store_create_multi(s, "other", "{}", 99, &m2), PINHOLE_OK);
    cr_assert_gt(m2, c2.id);
    pinhole_store_close(s);

    s = open_store();
    pinhole_multi_record *all;
    size_t n;
    cr_assert_eq(pinhole_store_load_multis(s, &all, &n), PINHOLE_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(all[0].id, m1);
    cr_assert_str_eq(all[0].name, "survey");
    cr_assert_str_eq(all[0].spec, "{\"collections\": [1]}");
    cr_assert_eq(all[0].created, 1234);
    cr_assert_eq(all[1].id, m2);
    for (size_t i = 0; i < n; i++)
        pinhole_multi_record_free(&all[i]);
    free(all);
    pinhole_server_collection *cs;
    cr_assert_eq(pinhole_store_load_collections(s, &cs, &n), PINHOLE_OK);
    cr_assert_eq(n, 2, "the parents are no collections");
    for (size_t i = 0; i < n; i++)
        pinhole_server_collection_free(&cs[i]);
    free(cs);
    pinhole_server_collection_free(&c1);
    pinhole_server_collection_free(&c2);
    pinhole_store_close(s);
}

/* A labelled collection's config commits to its labels, across a reopen; one stored before
 * configs could commit to labels (its stored fingerprint that of the version 1 config) keeps its
 * version 1 config and fingerprint, so its devices' reports stay valid; any other fingerprint is
 * refused. */
Test(store, labels_commitment_and_stores_from_before_it)
{
    pinhole_store *s;
    pinhole_server_collection c, *all = NULL;
    size_t n = 0;
    static const char *const labels[] = {"north", "south", "east", "west"};
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_GRR, .k = 4, .epsilon = 1};
    s = open_store();
    cr_assert_eq(pinhole_store_create_collection(s, &c, "dirs", &p, 60, 0, labels), PINHOLE_OK);
    cr_assert(c.wire.has_labels && c.labels_list != NULL);
    uint8_t v2fp[PINHOLE_FINGERPRINT_BYTES], v1fp[PINHOLE_FINGERPRINT_BYTES];
    memcpy(v2fp, c.fingerprint, sizeof v2fp);
    pinhole_collection_config v1 = c.wire;
    v1.has_labels = 0;
    cr_assert_eq(pinhole_collection_config_fingerprint(&v1, v1fp), PINHOLE_OK);
    cr_assert(memcmp(v1fp, v2fp, sizeof v1fp) != 0);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);

    s = open_store();
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_OK);
    cr_assert_eq(n, 1);
    cr_assert(all[0].wire.has_labels && memcmp(all[0].fingerprint, v2fp, sizeof v2fp) == 0);
    pinhole_server_collection_free(&all[0]);
    free(all);
    pinhole_store_close(s);

    /* as an older server stored it */
    char hex[2 * PINHOLE_FINGERPRINT_BYTES + 1], lite[160], pg[160];
    sodium_bin2hex(hex, sizeof hex, v1fp, sizeof v1fp);
    snprintf(lite, sizeof lite, "UPDATE collections SET fingerprint = X'%s'", hex);
    snprintf(pg, sizeof pg, "UPDATE collections SET fingerprint = '\\x%s'::bytea", hex);
    tamper(lite, pg);
    s = open_store();
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_OK);
    cr_assert(!all[0].wire.has_labels && all[0].labels_list == NULL);
    cr_assert(memcmp(all[0].fingerprint, v1fp, sizeof v1fp) == 0);
    cr_assert(all[0].label != NULL, "the labels themselves stay");
    pinhole_server_collection_free(&all[0]);
    free(all);
    pinhole_store_close(s);

    /* neither fingerprint: the parameters changed under it */
    tamper("UPDATE collections SET fingerprint = zeroblob(16)",
           "UPDATE collections SET fingerprint = decode(repeat('00', 16), 'hex')");
    s = open_store();
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_EDB);
    pinhole_store_close(s);
}

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

Test(store, duplicate_rows_are_found_by_check)
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
Test(store, same_batch_through_two_handles_counts_once)
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

/* ---- the job queue ---- */

static int64_t enqueue(pinhole_store *s, const char *type, double created)
{
    pinhole_job_record r = {.collection_id = 3,
                            .from = 10,
                            .to = 100,
                            .params = "{\"a\":1}",
                            .time_limit = 30,
                            .created = created};
    strcpy(r.type, type);
    int64_t id = 0;
    cr_assert_eq(pinhole_store_job_enqueue(s, &r, &id), PINHOLE_OK);
    return id;
}

static pinhole_job_state state(pinhole_store *s, int64_t id)
{
    pinhole_job_state st;
    cr_assert_eq(pinhole_store_job_state(s, id, &st), PINHOLE_OK);
    return st;
}

Test(store, job_queue)
{
    pinhole_store *s = open_store();
    pinhole_job_record r;
    cr_assert_eq(pinhole_store_job_claim(s, 1000, &r), PINHOLE_ENOTFOUND);
    const int64_t a = enqueue(s, "reconstruct", 900.5), b = enqueue(s, "project", 901);
    cr_assert_gt(b, a);
    cr_assert_eq(state(s, a), PINHOLE_JOB_QUEUED);
    pinhole_job_state st;
    cr_assert_eq(pinhole_store_job_state(s, b + 100, &st), PINHOLE_ENOTFOUND);
    cr_assert_eq(pinhole_store_job_get(s, b + 100, &r), PINHOLE_ENOTFOUND);

    /* the oldest is claimed first, with every field */
    cr_assert_eq(pinhole_store_job_claim(s, 1000, &r), PINHOLE_OK);
    cr_assert_eq(r.id, a);
    cr_assert_str_eq(r.type, "reconstruct");
    cr_assert_str_eq(r.params, "{\"a\":1}");
    cr_assert_eq(r.collection_id, 3);
    cr_assert(r.from == 10 && r.to == 100);
    cr_assert_eq(r.state, PINHOLE_JOB_RUNNING);
    cr_assert(r.time_limit == 30 && r.created == 900.5 && r.started == 1000);
    cr_assert(isnan(r.finished));
    pinhole_job_record_free(&r);
    cr_assert_eq(pinhole_store_job_progress(s, a, 0.25), PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_get(s, a, &r), PINHOLE_OK);
    cr_assert(r.progress == 0.25);
    pinhole_job_record_free(&r);
    cr_assert_eq(pinhole_store_job_finish(s, a, PINHOLE_JOB_DONE, 1010, "{\"x\":2}", NULL),
                 PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_get(s, a, &r), PINHOLE_OK);
    cr_assert_eq(r.state, PINHOLE_JOB_DONE);
    cr_assert(r.progress == 1 && r.finished == 1010);
    cr_assert_str_eq(r.result, "{\"x\":2}");
    cr_assert_null(r.error);
    pinhole_job_record_free(&r);
    cr_assert_eq(pinhole_store_job_finish(s, a, PINHOLE_JOB_RUNNING, 0, NULL, NULL),
                 PINHOLE_EINVAL);

    /* cancelling a queued job; a finished one is left alone */
    cr_assert_eq(pinhole_store_job_cancel_queued(s, b, 1020), PINHOLE_OK);
    cr_assert_eq(state(s, b), PINHOLE_JOB_CANCELED);
    cr_assert_eq(pinhole_store_job_cancel_queued(s, a, 1020), PINHOLE_OK);
    cr_assert_eq(state(s, a), PINHOLE_JOB_DONE);
    cr_assert_eq(pinhole_store_job_claim(s, 1025, &r), PINHOLE_ENOTFOUND); /* nothing queued */

    /* a failure keeps its message; a job put back is queued again */
    const int64_t c = enqueue(s, "sleep", 902), d = enqueue(s, "sleep", 903);
    cr_assert_eq(pinhole_store_job_claim(s, 1030, &r), PINHOLE_OK);
    cr_assert_eq(r.id, c);
    pinhole_job_record_free(&r);
    cr_assert_eq(pinhole_store_job_finish(s, c, PINHOLE_JOB_FAILED, 1031, NULL, "boom"),
                 PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_get(s, c, &r), PINHOLE_OK);
    cr_assert_eq(r.state, PINHOLE_JOB_FAILED);
    cr_assert_str_eq(r.error, "boom");
    pinhole_job_record_free(&r);
    cr_assert_eq(pinhole_store_job_claim(s, 1040, &r), PINHOLE_OK);
    cr_assert_eq(r.id, d);
    pinhole_job_record_free(&r);
    cr_assert_eq(pinhole_store_job_finish(s, d, PINHOLE_JOB_QUEUED, 1041, NULL, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_get(s, d, &r), PINHOLE_OK);
    cr_assert_eq(r.state, PINHOLE_JOB_QUEUED);
    cr_assert(isnan(r.started));
    pinhole_job_record_free(&r);

    /* recovery after a crash: d running (claimed a 2nd time), e running with a cancel asked, f
     * claimed twice before and once now (3 attempts, the maximum) */
    const int64_t e = enqueue(s, "sleep", 904), f = enqueue(s, "sleep", 905);
    for (int i = 0; i < 2; i++) { /* f's first two attempts */
        while (pinhole_store_job_claim(s, 1050, &r) == PINHOLE_OK) {
            const int64_t id = r.id;
            pinhole_job_record_free(&r);
            if (id == f)
                break;
        }
        cr_assert_eq(pinhole_store_job_finish(s, f, PINHOLE_JOB_QUEUED, 0, NULL, NULL), PINHOLE_OK);
    }
    while (pinhole_store_job_claim(s, 1060, &r) == PINHOLE_OK)
        pinhole_job_record_free(&r);
    cr_assert_eq(state(s, d), PINHOLE_JOB_RUNNING);
    cr_assert_eq(state(s, e), PINHOLE_JOB_RUNNING);
    cr_assert_eq(state(s, f), PINHOLE_JOB_RUNNING);
    cr_assert_eq(pinhole_store_job_request_cancel(s, e), PINHOLE_OK);
    cr_assert_eq(pinhole_store_jobs_recover(s, 1100, 3), PINHOLE_OK);
    cr_assert_eq(state(s, e), PINHOLE_JOB_CANCELED);
    cr_assert_eq(state(s, f), PINHOLE_JOB_FAILED);
    cr_assert_eq(pinhole_store_job_get(s, f, &r), PINHOLE_OK);
    cr_assert(strstr(r.error, "3 times") != NULL, "%s", r.error);
    pinhole_job_record_free(&r);
    cr_assert_eq(state(s, d), PINHOLE_JOB_QUEUED);
    pinhole_store_close(s);
}

/* A cancel asked through one handle reaches the job's holder through another (two replicas, or
 * the API's handle and a worker's in one process): the holder's next progress report answers
 * PINHOLE_ECANCELED until it ends the job canceled, lease released; a job no longer running
 * answers PINHOLE_ENOTFOUND; a cancel asked of a job that is not running is not remembered. On
 * PostgreSQL the lease is the holder's: another handle's progress on the job is refused, and so is
 * its ending of the job while the lease lasts. */
Test(store, job_cancel_reaches_the_holder)
{
    pinhole_store *holder = open_store(), *api = open_store();
    const int64_t a = enqueue(api, "sleep", 900), b = enqueue(api, "sleep", 901);
    pinhole_job_record r;
    cr_assert_eq(pinhole_store_job_claim(holder, 1000, &r), PINHOLE_OK);
    cr_assert_eq(r.id, a);
    pinhole_job_record_free(&r);
    cr_assert_eq(pinhole_store_job_progress(holder, a, 0.1), PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_request_cancel(api, a), PINHOLE_OK);
    cr_assert_eq(state(api, a), PINHOLE_JOB_RUNNING); /* until its holder stops it */
    if (on_pg) {
        cr_assert_eq(pinhole_store_job_progress(api, a, 0.5), PINHOLE_ENOTFOUND);
        cr_assert_eq(pinhole_store_job_finish(api, a, PINHOLE_JOB_CANCELED, 1001, NULL, NULL),
                     PINHOLE_OK);
        cr_assert_eq(state(api, a), PINHOLE_JOB_RUNNING, "not over the holder's lease");
    }
    cr_assert_eq(pinhole_store_job_progress(holder, a, 0.2), PINHOLE_ECANCELED);
    cr_assert_eq(pinhole_store_job_progress(holder, a, 0.3), PINHOLE_ECANCELED);
    cr_assert_eq(pinhole_store_job_finish(holder, a, PINHOLE_JOB_CANCELED, 1002, NULL, NULL),
                 PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_get(api, a, &r), PINHOLE_OK);
    cr_assert_eq(r.state, PINHOLE_JOB_CANCELED);
    cr_assert(r.finished == 1002 && r.progress == 0.3);
    cr_assert_null(r.error);
    pinhole_job_record_free(&r);
    cr_assert_eq(pinhole_store_job_progress(holder, a, 0.4), PINHOLE_ENOTFOUND);
    if (on_pg)
        cr_assert_eq(rows_of("SELECT count(*) FROM jobs WHERE lease_owner IS NOT NULL"), 0);

    /* asked while b is queued, and again once it is done: b runs to its end, untouched */
    cr_assert_eq(pinhole_store_job_request_cancel(api, b), PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_claim(holder, 1010, &r), PINHOLE_OK);
    cr_assert_eq(r.id, b);
    pinhole_job_record_free(&r);
    cr_assert_eq(pinhole_store_job_progress(holder, b, 0.5), PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_finish(holder, b, PINHOLE_JOB_DONE, 1011, "{}", NULL),
                 PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_request_cancel(api, b), PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_get(api, b, &r), PINHOLE_OK);
    cr_assert_eq(r.state, PINHOLE_JOB_DONE);
    cr_assert_null(r.error);
    pinhole_job_record_free(&r);
    pinhole_store_close(api);
    pinhole_store_close(holder);
}

/* A holder whose lease ran out while another replica took the job over is told so at its next
 * progress report (PINHOLE_ENOTFOUND: stop, write nothing), and its ending of the job is refused;
 * the new holder runs it to its end. PostgreSQL only: SQLite's jobs have no leases. */
Test(store, job_taken_over_is_given_up_by_its_old_holder)
{
    only_on("postgresql", "leases are PostgreSQL's");
    setenv("PINHOLE_PG_JOB_LEASE", "1", 1); /* the shortest lease, for the handles opened now */
    pinhole_store *old = open_store(), *now = open_store();
    unsetenv("PINHOLE_PG_JOB_LEASE");
    const int64_t a = enqueue(old, "sleep", 900);
    pinhole_job_record r;
    cr_assert_eq(pinhole_store_job_claim(old, 1000, &r), PINHOLE_OK);
    pinhole_job_record_free(&r);
    cr_assert_eq(pinhole_store_job_claim(now, 1001, &r), PINHOLE_ENOTFOUND); /* leased */
    nanosleep(&(struct timespec){1, 200000000}, NULL);                       /* ran out */
    cr_assert_eq(pinhole_store_job_claim(now, 1002, &r), PINHOLE_OK);
    cr_assert_eq(r.id, a);
    pinhole_job_record_free(&r);
    cr_assert_eq(pinhole_store_job_progress(old, a, 0.9), PINHOLE_ENOTFOUND);
    cr_assert_eq(pinhole_store_job_finish(old, a, PINHOLE_JOB_DONE, 1003, "{\"old\":1}", NULL),
                 PINHOLE_OK);
    cr_assert_eq(state(now, a), PINHOLE_JOB_RUNNING);
    cr_assert_eq(pinhole_store_job_progress(now, a, 0.5), PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_finish(now, a, PINHOLE_JOB_DONE, 1004, "{}", NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_get(now, a, &r), PINHOLE_OK);
    cr_assert_eq(r.state, PINHOLE_JOB_DONE);
    cr_assert_str_eq(r.result, "{}");
    cr_assert(r.finished == 1004);
    pinhole_job_record_free(&r);
    cr_assert_eq(rows_of("SELECT attempts FROM jobs"), 2);
    pinhole_store_close(now);
    pinhole_store_close(old);
}

/* Two handles claiming at once never get the same job. */
Test(store, jobs_are_claimed_once)
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

/* Job lists: newest first, by collection or all, a page at a time, without results, with the
 * total that matches. */
Test(store, job_list_pages)
{
    pinhole_store *s = open_store();
    pinhole_job_record *a;
    size_t n;
    uint64_t total;
    /* collections 901 and 902 hold no jobs of other tests (a store URL may be shared) */
    cr_assert_eq(pinhole_store_job_list(s, 901, 0, 10, &a, &n, &total), PINHOLE_OK);
    cr_assert(n == 0 && total == 0 && a == NULL);
    int64_t id[5];
    for (int i = 0; i < 5; i++) {
        pinhole_job_record r = {.collection_id = i % 2 ? 902 : 901,
                                .from = 0,
                                .to = 100,
                                .params = "{}",
                                .time_limit = 30,
                                .created = 900 + i};
        strcpy(r.type, "project");
        cr_assert_eq(pinhole_store_job_enqueue(s, &r, &id[i]), PINHOLE_OK);
    }
    /* id[0] finishes with a result, which lists leave out */
    cr_assert_eq(pinhole_store_job_finish(s, id[0], PINHOLE_JOB_DONE, 1001, "{\"x\":1}", NULL),
                 PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_list(s, -1, 0, 100, &a, &n, &total), PINHOLE_OK);
    cr_assert_geq(total, 5);
    cr_assert_geq(n, 5);
    for (size_t i = 1; i < n; i++)
        cr_assert_gt(a[i - 1].id, a[i].id, "newest first");
    for (size_t i = 0; i < n; i++)
        pinhole_job_record_free(&a[i]);
    free(a);
    cr_assert_eq(pinhole_store_job_list(s, 902, 1, 2, &a, &n, &total), PINHOLE_OK);
    cr_assert_eq(total, 2);
    cr_assert_eq(n, 1);
    cr_assert(a[0].id == id[1], "newest first, after skipping one");
    for (size_t i = 0; i < n; i++)
        pinhole_job_record_free(&a[i]);
    free(a);
    cr_assert_eq(pinhole_store_job_list(s, 901, 0, 10, &a, &n, &total), PINHOLE_OK);
    cr_assert(total == 3 && n == 3);
    cr_assert(a[0].id == id[4] && a[1].id == id[2] && a[2].id == id[0]);
    cr_assert_eq(a[2].state, PINHOLE_JOB_DONE);
    cr_assert_null(a[2].result);
    cr_assert(a[2].finished == 1001 && a[0].created == 904);
    for (size_t i = 0; i < n; i++)
        pinhole_job_record_free(&a[i]);
    free(a);
    cr_assert_eq(pinhole_store_job_list(s, 902, 5, 10, &a, &n, &total), PINHOLE_OK);
    cr_assert(total == 2 && n == 0 && a == NULL);
    cr_assert_eq(pinhole_store_job_list(s, 907, 0, 10, &a, &n, &total), PINHOLE_OK);
    cr_assert(total == 0 && n == 0);
    pinhole_store_close(s);
}

/* Discovery collections: created with round 0's collection, each save replaces the state and
 * appends a round (or none), and both survive a reopen; a save of an unknown id changes nothing. */
Test(store, discovery_state_and_rounds_persist)
{
    pinhole_store *s = open_store();
    pinhole_store_discovery *all = (pinhole_store_discovery *)&all;
    size_t n = 7;
    cr_assert_eq(pinhole_store_discovery_load(s, &all, &n), PINHOLE_OK);
    cr_assert_eq(n, 0);
    cr_assert_null(all);
    const uint8_t st0[] = "PHDS state 0", st1[] = "PHDS state 1, longer", st2[] = "PHDS done";
    int64_t a, b;
    cr_assert_eq(pinhole_store_discovery_create(s, "words", st0, sizeof st0, 11, 1000, &a),
                 PINHOLE_OK);
    cr_assert_eq(pinhole_store_discovery_create(s, "names", st0, 5, 12, 1001, &b), PINHOLE_OK);
    cr_assert_gt(b, a);
    cr_assert_eq(pinhole_store_discovery_create(s, "x", st0, 0, 11, 0, &b), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_store_discovery_create(s, "x", st0, 5, 0, 0, &b), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_store_discovery_save(s, a, st1, sizeof st1, 13), PINHOLE_OK);
    cr_assert_eq(pinhole_store_discovery_save(s, a, st2, sizeof st2, 0), PINHOLE_OK);
    cr_assert_eq(pinhole_store_discovery_save(s, a + b + 100, st1, sizeof st1, 14),
                 PINHOLE_ENOTFOUND);
    pinhole_store_close(s);

    s = open_store();
    cr_assert_eq(pinhole_store_discovery_load(s, &all, &n), PINHOLE_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(all[0].id, a);
    cr_assert_str_eq(all[0].name, "words");
    cr_assert_eq(all[0].created, 1000);
    cr_assert_eq(all[0].state_len, sizeof st2);
    cr_assert_eq(memcmp(all[0].state, st2, sizeof st2), 0);
    cr_assert_eq(all[0].nrounds, 2);
    cr_assert_eq(all[0].round_collection[0], 11);
    cr_assert_eq(all[0].round_collection[1], 13);
    cr_assert_str_eq(all[1].name, "names");
    cr_assert_eq(all[1].state_len, 5);
    cr_assert_eq(memcmp(all[1].state, st0, 5), 0);
    cr_assert_eq(all[1].nrounds, 1);
    cr_assert_eq(all[1].round_collection[0], 12);
    for (size_t i = 0; i < n; i++)
        pinhole_store_discovery_free(&all[i]);
    free(all);
    pinhole_store_close(s);
}

/* ---- the report window ---- */

/* A collection's window and retention are stored and come back on load; a new one has none. */
Test(store, window_is_stored_and_loaded)
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
Test(store, window_check_edges)
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
Test(store, sqlite_file_of_the_first_schema_is_upgraded)
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

/* The schema version a store records (SQLite: PRAGMA user_version; PostgreSQL: schema_version). */
static long long schema_version_of(void)
{
    return rows_of(on_pg ? "SELECT max(version) FROM schema_version"
                         : "SELECT user_version FROM pragma_user_version");
}

/* A store of an older schema is upgraded on open: its window stays, and a collection can then be
 * deleted and collected. SQLite from version 1 (report windows, before the garbage collector's
 * state, deleted collections and closed time buckets); PostgreSQL from version 1 (before closed
 * time buckets). */
Test(store, store_of_schema_1_is_upgraded)
{
    pinhole_store *s = open_store();
    pinhole_server_collection c;
    make_collection(s, &c);
    const pinhole_collection_window w = {.max_report_age = 7 * 86400, .keep_reports = 1};
    cr_assert_eq(pinhole_store_set_window(s, c.id, &w), PINHOLE_OK);
    const uint8_t p3 = 3;
    pinhole_ingest_report r;
    report(&r, &c, 1, 100, &p3);
    cr_assert_eq(pinhole_store_ingest(s, &r, 1), PINHOLE_OK);
    pinhole_store_close(s);
    const long long current = on_pg ? 2 : 3;
    cr_assert_eq(schema_version_of(), current);
    tamper("ALTER TABLE collections DROP COLUMN deleting; DROP TABLE gc_state;"
           " ALTER TABLE collections DROP COLUMN closed_before; PRAGMA user_version = 1;",
           "ALTER TABLE collections DROP COLUMN closed_before;"
           " DELETE FROM schema_version WHERE version > 1;");
    cr_assert_eq(schema_version_of(), 1);
    s = open_store(); /* upgrades */
    cr_assert_eq(schema_version_of(), current);
    pinhole_server_collection *all;
    size_t n;
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_OK);
    cr_assert(n == 1 && all[0].window.max_report_age == 7 * 86400 && all[0].window.keep_reports);
    pinhole_server_collection_free(&all[0]);
    free(all);
    assert_consistent(s);
    cr_assert_eq(pinhole_store_delete_collection(s, c.id), PINHOLE_OK);
    cr_assert_eq(pinhole_store_maintain(s, PINHOLE_UPKEEP_PERIODIC, NULL), PINHOLE_OK);
    cr_assert_eq(rows_of("SELECT count(*) FROM reports"), 0);
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_OK);
    cr_assert_eq(n, 0);
    free(all);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
}

/* A store whose schema a newer server made (its version above this server's) is refused, and left
 * as it is, on both backends. */
Test(store, schema_of_a_newer_server_is_refused)
{
    pinhole_store *s = open_store();
    pinhole_server_collection c;
    make_collection(s, &c);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
    const long long v = schema_version_of();
    cr_assert_geq(v, 1);
    char lite[64], pg[96];
    snprintf(lite, sizeof lite, "PRAGMA user_version = %lld", v + 1);
    snprintf(pg, sizeof pg, "INSERT INTO schema_version(version) VALUES (%lld)", v + 1);
    tamper(lite, pg);
    s = (pinhole_store *)&s;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_EIO);
    cr_assert_null(s);
    cr_assert_eq(schema_version_of(), v + 1);
    cr_assert_eq(rows_of("SELECT count(*) FROM collections"), 1);
}

/* ---- retention ---- */

/* The garbage collector retires the days before every collection's window (plus a day): their
 * partitions are dropped, the reports of a keep_reports collection move to reports_kept, counts
 * stay, a report of a retired day is refused, and the check still passes. */
Test(store, old_days_are_retired_whole)
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

/* Reports spread over 30 simulated days into a 7-day window (the wall clock moved a day at a
 * time): the replay index and the reports table hold at most the window's days (today - 7 ..
 * today: 8 days, the day of margin retired), counts of every day stay, a retry of a live report
 * is still a duplicate, a report of a retired day is refused, the check passes, and a reopened
 * handle (a restart) loads only the live ids. SQLite: PostgreSQL retires by the database's own
 * clock (old_days_are_retired_whole). */
Test(store, thirty_days_into_a_seven_day_window_stay_bounded)
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
    cr_assert_eq(rows_of("SELECT count(*) FROM reports WHERE collection = 1"), 8 * PER_DAY);
    cr_assert_eq(rows_of("SELECT count(*) FROM reports WHERE collection = 2"), DAYS);
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

/* DELETE of a collection: it disappears at once (no longer loaded, a second delete finds
 * nothing), even when the process dies right after marking it; the garbage collector of the next
 * process removes its reports, counts, buckets and jobs and the collection itself, and leaves the
 * other collection whole. */
Test(store, deleted_collection_goes_at_once_and_its_rows_after_a_restart)
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
Test(store, writer_flushes_every_b_reports_or_t_ms)
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
        cr_assert_eq(sqlite3_open(url, &lk->lite), SQLITE_OK);
        cr_assert_eq(sqlite3_exec(lk->lite, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
        return;
    }
#ifdef PINHOLE_WITH_POSTGRESQL
    lk->pg = PQconnectdb(url);
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
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    make_collection(s, &c);
    pinhole_writer w;
    pinhole_writer_options o = {.max_queue_reports = 1};
    cr_assert_eq(pinhole_writer_start(&w, url, &o), PINHOLE_OK);
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

/* ---- SQLite's own ---- */

Test(store, idset_finds_every_added_id)
{
    only_on("sqlite", "SQLite's in-memory index of report ids");
    pinhole_idset set;
    cr_assert_eq(pinhole_idset_init(&set), PINHOLE_OK);
    uint8_t id[16] = {0};
    for (int64_t i = 0; i < 200000; i++) { /* grows through several doublings */
        memcpy(id, &i, sizeof i);
        cr_assert_eq(pinhole_idset_add(&set, pinhole_idset_hash(&set, 1, id), i, 20000 + i % 10),
                     0);
    }
    for (int64_t i = 0; i < 200000; i += 997) {
        memcpy(id, &i, sizeof i);
        size_t pos = 0;
        int64_t row, found = -1;
        while (pinhole_idset_next(&set, pinhole_idset_hash(&set, 1, id), &pos, &row))
            if (row == i)
                found = row;
        cr_assert_eq(found, i);
        pos = 0; /* the same id in another collection is another key */
        while (pinhole_idset_next(&set, pinhole_idset_hash(&set, 2, id), &pos, &row))
            cr_assert_neq(row, i);
    }
    /* dropping days 20000..20007 leaves the ids of days 20008 and 20009 (a fifth), in a table
     * shrunk to fit them: 40,000 / 0.7 -> 65,536 slots */
    const size_t before = pinhole_idset_bytes(&set);
    cr_assert_eq(pinhole_idset_drop_days(&set, 20007), 160000);
    cr_assert_eq(set.used, 40000);
    cr_assert_eq(pinhole_idset_bytes(&set), 65536 * sizeof(pinhole_idset_slot));
    cr_assert_lt(pinhole_idset_bytes(&set), before);
    cr_assert_eq(pinhole_idset_drop_days(&set, 20007), 0);
    for (int64_t i = 0; i < 200000; i += 7) {
        memcpy(id, &i, sizeof i);
        size_t pos = 0;
        int64_t row, found = -1;
        while (pinhole_idset_next(&set, pinhole_idset_hash(&set, 1, id), &pos, &row))
            if (row == i)
                found = row;
        cr_assert_eq(found, i % 10 >= 8 ? i : -1, "id %lld", (long long)i);
    }
    pinhole_idset_free(&set);
}

/* The database holds the server's secret keys: it is created 0600 whatever the umask, and so are
 * its -wal and -shm files. */
Test(store, files_are_created_private)
{
    only_on("sqlite", "SQLite's database files");
    const mode_t old = umask(022);
    pinhole_store *s;
    pinhole_server_collection c;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    make_collection(s, &c);
    pinhole_server_keys k;
    cr_assert_eq(pinhole_store_server_keys(s, &k), PINHOLE_OK);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[sizeof url + 8];
        struct stat sb;
        snprintf(p, sizeof p, "%s%s", url, suffix[i]);
        cr_assert_eq(stat(p, &sb), 0, "%s", p);
        cr_assert_eq(sb.st_mode & 0777, 0600, "%s is mode %o", p, (unsigned)(sb.st_mode & 0777));
    }
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
    umask(old);
}
