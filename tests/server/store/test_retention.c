/* Retention and a collection's end of life, through the storage interface on whichever backend
 * PINHOLE_TEST_STORE_URL names (a fresh, empty store; default: a temporary SQLite file;
 * tests/pg/each_fresh.sh gives each test a fresh PostgreSQL database): a batch that reaches the
 * store after its collection was deleted leaves nothing behind, and thirty simulated days of
 * reports into a seven-day window keep only the window's days of raw reports (PostgreSQL: whole
 * day partitions) while every count stays, and closed time buckets take no new report. The
 * simulated days move the process's clock (pinhole_clock_set_offset), which the garbage
 * collectors of both backends follow. */
#include "common/clock.h"
#include "common/error.h"
#include "server/store/store.h"
#include "server/store/writer.h"
#include "tests/support/reports.h"
#include "tests/support/tmpdb.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef PINHOLE_WITH_POSTGRESQL
#include <libpq-fe.h>
#endif

static test_tmpdb db;
static const char *url;

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    url = getenv("PINHOLE_TEST_STORE_URL");
    if (!url || !*url) {
        test_tmpdb_make(&db);
        url = db.path;
    }
}

static void teardown(void)
{
    pinhole_clock_set_offset(0);
    if (url == db.path)
        test_tmpdb_remove(&db);
}

TestSuite(retention, .init = setup, .fini = teardown, .timeout = 120);

static int on_sqlite(void)
{
    return url == db.path;
}

/* The number one SQL query answers, on the store's database behind its back. */
static long long count_of(const char *sql)
{
    long long n = -1;
    if (on_sqlite()) {
        sqlite3 *h;
        sqlite3_stmt *q;
        cr_assert_eq(sqlite3_open(url, &h), SQLITE_OK);
        cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &q, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
        cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
        n = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        sqlite3_close(h);
        return n;
    }
#ifdef PINHOLE_WITH_POSTGRESQL
    PGconn *c = PQconnectdb(url);
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
    n = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
#else
    cr_skip_test("PostgreSQL backend not built");
#endif
    return n;
}

/* Rows of collection id in each table that holds reports or counts. */
static long long rows_of(int64_t id)
{
    static const char *const sql[] = {
        "SELECT count(*) FROM reports WHERE collection = %lld",
        "SELECT count(*) FROM buckets WHERE collection = %lld",
        "SELECT count(*) FROM counts WHERE collection = %lld",
    };
    long long n = 0;
    for (size_t i = 0; i < sizeof sql / sizeof *sql; i++) {
        char q[128];
        snprintf(q, sizeof q, sql[i], (long long)id);
        n += count_of(q);
    }
    if (!on_sqlite()) {
        char q[128];
        snprintf(q, sizeof q, "SELECT count(*) FROM count_deltas WHERE collection = %lld",
                 (long long)id);
        n += count_of(q);
    }
    return n;
}

/* Run the periodic upkeep a few times: enough for the little data of these tests (each run
 * deletes up to 64 small transactions' worth on SQLite, a whole pass on PostgreSQL). */
static void upkeep(pinhole_store *s)
{
    for (int i = 0; i < 3; i++)
        cr_assert_eq(pinhole_store_maintain(s, PINHOLE_UPKEEP_PERIODIC, NULL), PINHOLE_OK);
}

/* A batch decoded for a collection that is deleted before the batch reaches the store (a batch
 * queued for the writer while DELETE /v1/collections/{id} ran) is refused whole, report by report
 * (not found), whether it arrives while the garbage collector removes the collection or after it
 * finished; nothing of it is stored, so nothing is left behind under the deleted id; a batch of
 * another collection in the same transaction is stored. */
Test(retention, late_batch_of_a_deleted_collection_leaves_nothing)
{
    pinhole_store *s;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    const pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 40, .epsilon = 2};
    pinhole_server_collection a, b;
    cr_assert_eq(pinhole_store_create_collection(s, &a, "a", &p, 3600, 0, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_create_collection(s, &b, "b", &p, 3600, 0, NULL), PINHOLE_OK);
    const uint8_t pay[3] = {1, 2, 3};
    pinhole_ingest_report r[4];
    for (int i = 0; i < 3; i++)
        test_ingest_report(&r[i], &a, (uint8_t)(1 + i), 100, &pay[i]);
    cr_assert_eq(pinhole_store_ingest(s, r, 3), PINHOLE_OK);
    cr_assert_eq(pinhole_store_delete_collection(s, a.id), PINHOLE_OK);
    /* two rounds: while a is being deleted (nothing removed yet), and once the collector is done */
    for (int round = 0; round < 2; round++) {
        test_ingest_report(&r[0], &a, 7, 101, &pay[0]); /* new */
        test_ingest_report(&r[1], &a, 1, 100, &pay[0]); /* a retry of a stored one */
        test_ingest_report(&r[2], &b, (uint8_t)(20 + round), 101, &pay[1]);
        test_ingest_report(&r[3], &a, (uint8_t)(8 + round), 102, &pay[2]);
        cr_assert_eq(pinhole_store_ingest(s, r, 4), PINHOLE_OK);
        for (int i = 0; i < 4; i++) {
            if (i == 2) {
                cr_assert_eq(r[i].status, PINHOLE_REPORT_ACCEPTED);
                continue;
            }
            cr_assert_eq(r[i].status, PINHOLE_REPORT_REJECTED, "round %d report %d", round, i);
            cr_assert_eq(r[i].error, PINHOLE_ENOTFOUND);
        }
        upkeep(s);
    }
    cr_assert_eq(rows_of(a.id), 0, "rows left under the deleted collection");
    uint64_t n;
    cr_assert_eq(pinhole_store_report_total(s, a.id, &n), PINHOLE_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(pinhole_store_report_total(s, b.id, &n), PINHOLE_OK);
    cr_assert_eq(n, 2);
    uint64_t problems = 1;
    char msg[256];
    cr_assert_eq(pinhole_store_check(s, &problems, msg, sizeof msg), PINHOLE_OK);
    cr_assert_eq(problems, 0, "%s", msg);
    pinhole_store_close(s);
    pinhole_server_collection_free(&a);
    pinhole_server_collection_free(&b);
}

/* The same through the writer: a batch waits in its queue (flush_ms) while the collection is
 * deleted on another handle; when its transaction comes, it stores nothing. */
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
    f->done = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

Test(retention, batch_queued_while_its_collection_is_deleted_stores_nothing)
{
    pinhole_store *s;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    const pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 40, .epsilon = 2};
    pinhole_server_collection a;
    cr_assert_eq(pinhole_store_create_collection(s, &a, "a", &p, 3600, 0, NULL), PINHOLE_OK);
    pinhole_writer w;
    const pinhole_writer_options o = {.flush_reports = 1000, .flush_ms = 500};
    cr_assert_eq(pinhole_writer_start(&w, url, &o), PINHOLE_OK);
    const uint8_t pay = 2;
    pinhole_ingest_report r[8];
    for (int i = 0; i < 8; i++)
        test_ingest_report(&r[i], &a, (uint8_t)(1 + i), 100 + i % 2, &pay);
    flushed f = {0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    pinhole_ingest_batch b = {.reports = r, .n = 8, .done = on_flushed, .arg = &f};
    cr_assert_eq(pinhole_writer_submit(&w, &b), PINHOLE_OK);
    cr_assert_eq(pinhole_store_delete_collection(s, a.id), PINHOLE_OK); /* while it waits */
    pthread_mutex_lock(&f.mu);
    while (!f.done)
        pthread_cond_wait(&f.cv, &f.mu);
    pthread_mutex_unlock(&f.mu);
    cr_assert_eq(b.result, PINHOLE_OK);
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(r[i].status, PINHOLE_REPORT_REJECTED, "report %d", i);
        cr_assert_eq(r[i].error, PINHOLE_ENOTFOUND);
    }
    pinhole_writer_stop(&w);
    pinhole_writer_release(&w);
    upkeep(s);
    cr_assert_eq(rows_of(a.id), 0, "rows left under the deleted collection");
    pinhole_store_close(s);
    pinhole_server_collection_free(&a);
}

/* Thirty simulated days of reports (one-day buckets) into a collection with a 7-day window and
 * one with a 1-day window that keeps its reports, the clock moved a day at a time with the upkeep
 * run each day: afterwards the raw reports of only today - 7 .. today are left (the window and a
 * day of margin; PostgreSQL: their partitions, the older ones dropped whole and recorded as
 * retired), the kept collection's older reports are kept (PostgreSQL: moved to reports_kept), the
 * garbage collector counts exactly the dropped reports, every count stays, a retry of a live
 * report is still a duplicate, a new report of a retired day is refused, and the check passes,
 * also after a restart. */
Test(retention, thirty_days_into_a_seven_day_window_keep_the_window_and_every_count)
{
    enum { DAYS = 30, PER_DAY = 100 };
    pinhole_store *s;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    const pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 40, .epsilon = 2};
    const pinhole_collection_window w = {.max_report_age = 7 * 86400, .max_clock_skew = 3600},
                                    wk = {.max_report_age = 86400, .keep_reports = 1};
    pinhole_server_collection a, b;
    cr_assert_eq(pinhole_store_create_collection_window(s, &a, "drop", &p, 86400, 0, NULL, &w),
                 PINHOLE_OK);
    cr_assert_eq(pinhole_store_create_collection_window(s, &b, "keep", &p, 86400, 0, NULL, &wk),
                 PINHOLE_OK);
    const int64_t today = (int64_t)(pinhole_clock_wall() / 86400);
    const uint8_t pay = 3;
    pinhole_ingest_report r[PER_DAY + 1];
    for (int d = 0; d < DAYS; d++) {
        pinhole_clock_set_offset((double)(d - DAYS + 1) * 86400); /* today - 29 .. today */
        const int64_t day = today - DAYS + 1 + d;
        for (int i = 0; i < PER_DAY; i++) {
            test_ingest_report(&r[i], &a, 0, day, &pay);
            memcpy(r[i].id, &(uint32_t){(uint32_t)(d * PER_DAY + i)}, 4);
        }
        test_ingest_report(&r[PER_DAY], &b, 0, day, &pay);
        memcpy(r[PER_DAY].id, &(uint32_t){(uint32_t)d}, 4);
        cr_assert_eq(pinhole_store_ingest(s, r, PER_DAY + 1), PINHOLE_OK);
        for (int i = 0; i <= PER_DAY; i++)
            cr_assert_eq(r[i].status, PINHOLE_REPORT_ACCEPTED, "day %d report %d", d, i);
        cr_assert_eq(pinhole_store_maintain(s, PINHOLE_UPKEEP_AFTER_COMMIT, NULL), PINHOLE_OK);
        upkeep(s);
    }
    char sql[400];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM reports WHERE collection = %lld",
             (long long)a.id);
    cr_assert_eq(count_of(sql), 8 * PER_DAY);
    if (on_sqlite()) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM reports WHERE collection = %lld",
                 (long long)b.id);
        cr_assert_eq(count_of(sql), DAYS);
    } else {
        /* the partitions of today - 7 .. today + 2 (made ahead) are left, every older one retired
         */
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM (SELECT CASE WHEN relname ~ '^reports_d-?[0-9]+$'"
                 " THEN substr(relname, 10)::bigint END AS day FROM pg_class"
                 " WHERE relkind = 'r') AS p WHERE day BETWEEN %lld AND %lld",
                 (long long)(today - 7), (long long)(today + 2));
        cr_assert_eq(count_of(sql), 10);
        cr_assert_eq(count_of("SELECT count(*) FROM pg_class WHERE relkind = 'r'"
                              " AND relname ~ '^reports_d-?[0-9]+$'"),
                     10);
        cr_assert_eq(count_of("SELECT max(day) FROM retired_days"), today - 8);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM reports WHERE collection = %lld",
                 (long long)b.id);
        cr_assert_eq(count_of(sql), 8);
        cr_assert_eq(count_of("SELECT count(*) FROM reports_kept"), DAYS - 8);
    }
    pinhole_store_gc_stats st;
    pinhole_store_gc_read(s, &st);
    cr_assert_eq(st.rows_removed, (DAYS - 8) * PER_DAY);
    cr_assert_gt(st.bytes_removed, 0);
    cr_assert_eq(st.lag_seconds, 0);
    uint64_t n, *counts = calloc(a.cfg.counts_len, sizeof *counts);
    cr_assert_not_null(counts);
    cr_assert_eq(pinhole_store_report_total(s, a.id, &n), PINHOLE_OK);
    cr_assert_eq(n, DAYS * PER_DAY);
    cr_assert_eq(pinhole_store_counts(s, &a, today - DAYS + 1, today - 8, counts, &n), PINHOLE_OK);
    cr_assert_eq(n, (DAYS - 8) * PER_DAY); /* the counts of the retired days */
    uint64_t sum = 0;
    for (uint64_t i = 0; i < a.cfg.counts_len; i++)
        sum += counts[i];
    cr_assert_gt(sum, 0);
    free(counts);
    cr_assert_eq(pinhole_store_report_total(s, b.id, &n), PINHOLE_OK);
    cr_assert_eq(n, DAYS);
    /* a retry of a live report: duplicate; a new one of a retired day: refused */
    pinhole_ingest_report late[2];
    test_ingest_report(&late[0], &a, 0, today, &pay);
    memcpy(late[0].id, &(uint32_t){(uint32_t)((DAYS - 1) * PER_DAY)}, 4);
    test_ingest_report(&late[1], &a, 0xee, today - 8, &pay);
    cr_assert_eq(pinhole_store_ingest(s, late, 2), PINHOLE_OK);
    cr_assert_eq(late[0].status, PINHOLE_REPORT_DUPLICATE);
    cr_assert_eq(late[1].status, PINHOLE_REPORT_REJECTED);
    cr_assert_eq(late[1].error, PINHOLE_ERANGE);
    uint64_t problems = 1;
    char msg[256];
    cr_assert_eq(pinhole_store_check(s, &problems, msg, sizeof msg), PINHOLE_OK);
    cr_assert_eq(problems, 0, "%s", msg);
    pinhole_store_close(s);
    /* a restart: the same answers */
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_ingest(s, late, 2), PINHOLE_OK);
    cr_assert_eq(late[0].status, PINHOLE_REPORT_DUPLICATE);
    cr_assert_eq(late[1].status, PINHOLE_REPORT_REJECTED);
    cr_assert_eq(pinhole_store_report_total(s, a.id, &n), PINHOLE_OK);
    cr_assert_eq(n, DAYS * PER_DAY);
    pinhole_store_close(s);
    pinhole_server_collection_free(&a);
    pinhole_server_collection_free(&b);
}

/* Closing time buckets: from the close on, a new report of a closed bucket is refused (closed),
 * an identical retry of a stored one is still a duplicate, a report of an open bucket is stored;
 * the counts of the closed buckets stay as they were; closing never moves back; the mark
 * survives a restart; an unknown or deleted collection has nothing to close. */
Test(retention, closed_buckets_take_no_new_report)
{
    pinhole_store *s;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    const pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 40, .epsilon = 2};
    pinhole_server_collection a, b;
    cr_assert_eq(pinhole_store_create_collection(s, &a, "a", &p, 3600, 0, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_create_collection(s, &b, "b", &p, 3600, 0, NULL), PINHOLE_OK);
    const uint8_t pay[3] = {1, 2, 3};
    pinhole_ingest_report r[4];
    for (int i = 0; i < 3; i++)
        test_ingest_report(&r[i], &a, (uint8_t)(1 + i), 10 + i, &pay[i]); /* buckets 10, 11, 12 */
    cr_assert_eq(pinhole_store_ingest(s, r, 3), PINHOLE_OK);
    int64_t closed = -1;
    cr_assert_eq(pinhole_store_closed_before(s, a.id, &closed), PINHOLE_OK);
    cr_assert_eq(closed, 0);
    cr_assert_eq(pinhole_store_close_buckets(s, a.id, 12, &closed), PINHOLE_OK);
    cr_assert_eq(closed, 12);
    cr_assert_eq(pinhole_store_close_buckets(s, a.id, 5, &closed), PINHOLE_OK); /* never back */
    cr_assert_eq(closed, 12);
    cr_assert_eq(pinhole_store_close_buckets(s, a.id, -1, NULL), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_store_close_buckets(s, b.id + 100, 1, NULL), PINHOLE_ENOTFOUND);
    test_ingest_report(&r[0], &a, 7, 11, &pay[0]); /* new, in a closed bucket */
    test_ingest_report(&r[1], &a, 1, 10, &pay[0]); /* a retry of a stored one */
    test_ingest_report(&r[2], &a, 8, 12, &pay[1]); /* new, in the first open bucket */
    test_ingest_report(&r[3], &b, 9, 11, &pay[2]); /* another collection: nothing closed */
    cr_assert_eq(pinhole_store_ingest(s, r, 4), PINHOLE_OK);
    cr_assert_eq(r[0].status, PINHOLE_REPORT_REJECTED);
    cr_assert_eq(r[0].error, PINHOLE_ECLOSED);
    cr_assert_eq(r[1].status, PINHOLE_REPORT_DUPLICATE);
    cr_assert_eq(r[2].status, PINHOLE_REPORT_ACCEPTED);
    cr_assert_eq(r[3].status, PINHOLE_REPORT_ACCEPTED);
    uint64_t n, *counts = calloc(a.cfg.counts_len, sizeof *counts);
    cr_assert_not_null(counts);
    cr_assert_eq(pinhole_store_counts(s, &a, 0, 11, counts, &n), PINHOLE_OK);
    cr_assert_eq(n, 2); /* the closed buckets: as before the close */
    cr_assert_eq(pinhole_store_counts(s, &a, 12, 12, counts, &n), PINHOLE_OK);
    cr_assert_eq(n, 2);
    free(counts);
    pinhole_store_close(s);
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_closed_before(s, a.id, &closed), PINHOLE_OK);
    cr_assert_eq(closed, 12);
    cr_assert_eq(pinhole_store_ingest(s, r, 1), PINHOLE_OK);
    cr_assert_eq(r[0].status, PINHOLE_REPORT_REJECTED);
    cr_assert_eq(pinhole_store_delete_collection(s, a.id), PINHOLE_OK);
    cr_assert_eq(pinhole_store_close_buckets(s, a.id, 20, NULL), PINHOLE_ENOTFOUND);
    cr_assert_eq(pinhole_store_closed_before(s, a.id, &closed), PINHOLE_ENOTFOUND);
    uint64_t problems = 1;
    char msg[256];
    cr_assert_eq(pinhole_store_check(s, &problems, msg, sizeof msg), PINHOLE_OK);
    cr_assert_eq(problems, 0, "%s", msg);
    pinhole_store_close(s);
    pinhole_server_collection_free(&a);
    pinhole_server_collection_free(&b);
}
