/* The store suite (tests/server/store/test_store.c; fixture tests/support/store_suite.c), a
 * collection's window and end of life: the report window stored and checked; retention, the
 * garbage collector retiring old days (thirty simulated days into a seven-day window, the clock
 * moved by pinhole_clock_set_offset, which the garbage collectors of both backends follow);
 * closed time buckets taking no new report; a deleted collection going at once and its rows
 * after it, and a batch that reaches the store after its collection was deleted leaving nothing
 * behind. */
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

#define report test_ingest_report /* tests/support/reports.h */

/* Rows of collection id in each table that holds reports or counts. */
static long long rows_under(int64_t id)
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
        n += rows_of(q);
    }
    if (on_pg) {
        char q[128];
        snprintf(q, sizeof q, "SELECT count(*) FROM count_deltas WHERE collection = %lld",
                 (long long)id);
        n += rows_of(q);
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

/* Collection "a", and "b" when b is not NULL: PGR, k = 40, epsilon = 2, one-hour buckets, no
 * minimum of reports. */
static void make_a_and_b(pinhole_store *s, pinhole_server_collection *a,
                         pinhole_server_collection *b)
{
    const pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 40, .epsilon = 2};
    cr_assert_eq(pinhole_store_create_collection(s, a, "a", &p, 3600, 0, NULL), PINHOLE_OK);
    if (b)
        cr_assert_eq(pinhole_store_create_collection(s, b, "b", &p, 3600, 0, NULL), PINHOLE_OK);
}

/* The payloads of the three reports a_b_and_three_reports stores. */
static const uint8_t pay3[3] = {1, 2, 3};

/* make_a_and_b, then three reports of a stored: ids all 1, 2, 3, payloads pay3[0..3), in buckets
 * bucket[0..3). */
static void a_b_and_three_reports(pinhole_store *s, pinhole_server_collection *a,
                                  pinhole_server_collection *b, const int64_t bucket[3])
{
    make_a_and_b(s, a, b);
    pinhole_ingest_report r[3];
    for (int i = 0; i < 3; i++)
        report(&r[i], a, (uint8_t)(1 + i), bucket[i], &pay3[i]);
    cr_assert_eq(pinhole_store_ingest(s, r, 3), PINHOLE_OK);
}

/* ---- the report window ---- */

/* A collection's window and retention are stored and come back on load; a new one has none. */
Test(store, window_is_stored_and_loaded)
{
    pinhole_store *s;
    pinhole_server_collection c;
    s = open_store();
    make_collection(s, &c);
    cr_assert(c.window.max_report_age == 0 && c.window.max_clock_skew == 0 &&
              !c.window.keep_reports);
    const pinhole_collection_window w = {
        .max_report_age = 7 * 86400, .max_clock_skew = 3600, .keep_reports = 1};
    cr_assert_eq(pinhole_store_set_window(s, c.id, &w), PINHOLE_OK);
    cr_assert_eq(pinhole_store_set_window(s, c.id + 1, &w), PINHOLE_ENOTFOUND);
    pinhole_store_close(s);
    s = open_store();
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
    s = open_store();
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
    cr_assert_eq(rows_of("SELECT count(*) FROM retired_days"), 2);
    cr_assert_eq(rows_of("SELECT count(*) FROM reports"), 4);
    cr_assert_eq(rows_of("SELECT count(*) FROM reports_kept"), 2);
    pinhole_store_gc_stats st; /* the reports of "drop" on the two retired days; kept ones moved */
    pinhole_store_gc_read(s, &st);
    cr_assert_eq(st.rows_removed, 2);
    cr_assert_gt(st.bytes_removed, 0);
    cr_assert_eq(st.passes, 1);
    cr_assert_eq(st.lag_seconds, 0);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_class WHERE relname = 'reports_d%lld'",
             (long long)(today - 10));
    cr_assert_eq(rows_of(sql), 0);
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

/* Reports spread over 30 simulated days (one-day buckets) into a collection with a 7-day window
 * and one with a 1-day window that keeps its reports, the clock moved a day at a time
 * (pinhole_clock_set_offset, which the garbage collectors of both backends follow) with the
 * upkeep run each day. Afterwards the raw reports of only today - 7 .. today are left (the window
 * and a day of margin; PostgreSQL: their partitions, every older one dropped whole and recorded as
 * retired), the kept collection's older reports are kept (PostgreSQL: moved to reports_kept), the
 * garbage collector counts exactly the dropped reports, every count stays (also of the retired
 * days), a retry of a live report is still a duplicate, a new report of a retired day is refused,
 * the check passes, and a restart gives the same answers. SQLite: the replay index holds at most
 * the window's days and a reopened handle loads only the live ids. */
Test(store, thirty_days_into_a_seven_day_window_keep_the_window_and_every_count)
{
    enum { DAYS = 30, PER_DAY = 300 };
    pinhole_store *s;
    pinhole_server_collection a, b;
    s = open_store();
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 40, .epsilon = 2};
    const pinhole_collection_window w = {.max_report_age = 7 * 86400, .max_clock_skew = 3600},
                                    wk = {.max_report_age = 86400, .keep_reports = 1};
    cr_assert_eq(pinhole_store_create_collection_window(s, &a, "drop", &p, 86400, 0, NULL, &w),
                 PINHOLE_OK);
    cr_assert_eq(pinhole_store_create_collection(s, &b, "keep", &p, 86400, 0, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_set_window(s, b.id, &wk), PINHOLE_OK);
    pinhole_server_collection_free(&a); /* reloaded below, with their windows */
    pinhole_server_collection_free(&b);
    pinhole_server_collection *cs;
    size_t nc;
    cr_assert_eq(pinhole_store_load_collections(s, &cs, &nc), PINHOLE_OK);
    cr_assert_eq(nc, 2);
    cr_assert_str_eq(cs[0].name, "drop");
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
        upkeep(s);
        pinhole_store_gc_read(s, &st);
        if (st.index_ids > max_ids)
            max_ids = st.index_ids;
    }
    char sql[400];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM reports WHERE collection = %lld",
             (long long)cs[0].id);
    cr_assert_eq(rows_of(sql), 8 * PER_DAY);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM reports WHERE collection = %lld",
             (long long)cs[1].id);
    if (!on_pg) {
        cr_assert_eq(rows_of(sql), DAYS);
        /* days today - 7 .. today live: 8 days of each collection's reports in the index */
        cr_assert_eq(st.index_ids, 8 * (PER_DAY + 1));
        cr_assert_leq(max_ids, 9 * (PER_DAY + 1)); /* a day's ingest before its retirement */
        cr_assert_eq(st.index_bytes, (size_t)(1u << 16) * 16); /* shrunk back to the least table */
        cr_assert_eq(st.bytes_removed, (DAYS - 8) * PER_DAY * (16 + 1));
    } else {
        cr_assert_eq(rows_of(sql), 8);
        cr_assert_eq(rows_of("SELECT count(*) FROM reports_kept"), DAYS - 8);
        /* the partitions of today - 7 .. today + 2 (made ahead) are left, every older one retired
         */
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM (SELECT CASE WHEN relname ~ '^reports_d-?[0-9]+$'"
                 " THEN substr(relname, 10)::bigint END AS day FROM pg_class"
                 " WHERE relkind = 'r') AS p WHERE day BETWEEN %lld AND %lld",
                 (long long)(today - 7), (long long)(today + 2));
        cr_assert_eq(rows_of(sql), 10);
        cr_assert_eq(rows_of("SELECT count(*) FROM pg_class WHERE relkind = 'r'"
                             " AND relname ~ '^reports_d-?[0-9]+$'"),
                     10);
        cr_assert_eq(rows_of("SELECT max(day) FROM retired_days"), today - 8);
        cr_assert_gt(st.bytes_removed, 0);
    }
    cr_assert_eq(st.rows_removed, (DAYS - 8) * PER_DAY);
    cr_assert_eq(st.lag_seconds, 0);
    uint64_t n, *counts = calloc(cs[0].cfg.counts_len, sizeof *counts);
    cr_assert_not_null(counts);
    cr_assert_eq(pinhole_store_report_total(s, cs[0].id, &n), PINHOLE_OK);
    cr_assert_eq(n, DAYS * PER_DAY); /* counts stay */
    cr_assert_eq(pinhole_store_counts(s, &cs[0], today - DAYS + 1, today - 8, counts, &n),
                 PINHOLE_OK);
    cr_assert_eq(n, (DAYS - 8) * PER_DAY); /* the counts of the retired days */
    uint64_t sum = 0;
    for (uint64_t i = 0; i < cs[0].cfg.counts_len; i++)
        sum += counts[i];
    cr_assert_gt(sum, 0);
    free(counts);
    cr_assert_eq(pinhole_store_report_total(s, cs[1].id, &n), PINHOLE_OK);
    cr_assert_eq(n, DAYS);
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
    /* a restart: the same answers; SQLite loads the live ids only */
    s = open_store();
    cr_assert_eq(pinhole_store_ingest_prepare(s), PINHOLE_OK);
    if (!on_pg) {
        pinhole_store_gc_read(s, &st);
        cr_assert_eq(st.index_ids, 8 * (PER_DAY + 1));
    }
    cr_assert_eq(pinhole_store_ingest(s, late, 2), PINHOLE_OK);
    cr_assert_eq(late[0].status, PINHOLE_REPORT_DUPLICATE);
    cr_assert_eq(late[1].status, PINHOLE_REPORT_REJECTED);
    cr_assert_eq(pinhole_store_report_total(s, cs[0].id, &n), PINHOLE_OK);
    cr_assert_eq(n, DAYS * PER_DAY);
    assert_consistent(s);
    pinhole_store_close(s);
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
    s = open_store();
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
    s = open_store();
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

/* ---- deleted collections, closed buckets ---- */

/* A batch decoded for a collection that is deleted before the batch reaches the store (a batch
 * queued for the writer while DELETE /v1/collections/{id} ran) is refused whole, report by report
 * (not found), whether it arrives while the garbage collector removes the collection or after it
 * finished; nothing of it is stored, so nothing is left behind under the deleted id; a batch of
 * another collection in the same transaction is stored. */
Test(store, late_batch_of_a_deleted_collection_leaves_nothing)
{
    pinhole_store *s = open_store();
    pinhole_server_collection a, b;
    a_b_and_three_reports(s, &a, &b, (const int64_t[3]){100, 100, 100});
    pinhole_ingest_report r[4];
    cr_assert_eq(pinhole_store_delete_collection(s, a.id), PINHOLE_OK);
    /* two rounds: while a is being deleted (nothing removed yet), and once the collector is done */
    for (int round = 0; round < 2; round++) {
        report(&r[0], &a, 7, 101, &pay3[0]); /* new */
        report(&r[1], &a, 1, 100, &pay3[0]); /* a retry of a stored one */
        report(&r[2], &b, (uint8_t)(20 + round), 101, &pay3[1]);
        report(&r[3], &a, (uint8_t)(8 + round), 102, &pay3[2]);
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
    cr_assert_eq(rows_under(a.id), 0, "rows left under the deleted collection");
    uint64_t n;
    cr_assert_eq(pinhole_store_report_total(s, a.id, &n), PINHOLE_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(pinhole_store_report_total(s, b.id, &n), PINHOLE_OK);
    cr_assert_eq(n, 2);
    assert_consistent(s);
    pinhole_store_close(s);
    pinhole_server_collection_free(&a);
    pinhole_server_collection_free(&b);
}

/* The same through the writer: a batch waits in its queue (flush_ms) while the collection is
 * deleted on another handle; when its transaction comes, it stores nothing. */
Test(store, batch_queued_while_its_collection_is_deleted_stores_nothing)
{
    pinhole_store *s = open_store();
    pinhole_server_collection a;
    make_a_and_b(s, &a, NULL);
    pinhole_writer w;
    const pinhole_writer_options o = {.flush_reports = 1000, .flush_ms = 500};
    cr_assert_eq(pinhole_writer_start(&w, store_url, &o), PINHOLE_OK);
    const uint8_t pay = 2;
    pinhole_ingest_report r[8];
    for (int i = 0; i < 8; i++)
        report(&r[i], &a, (uint8_t)(1 + i), 100 + i % 2, &pay);
    flushed f = {0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    pinhole_ingest_batch b = {.reports = r, .n = 8, .done = on_flushed, .arg = &f};
    cr_assert_eq(pinhole_writer_submit(&w, &b), PINHOLE_OK);
    cr_assert_eq(pinhole_store_delete_collection(s, a.id), PINHOLE_OK); /* while it waits */
    wait_flushed(&f, 1);
    cr_assert_eq(b.result, PINHOLE_OK);
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(r[i].status, PINHOLE_REPORT_REJECTED, "report %d", i);
        cr_assert_eq(r[i].error, PINHOLE_ENOTFOUND);
    }
    pinhole_writer_stop(&w);
    pinhole_writer_release(&w);
    upkeep(s);
    cr_assert_eq(rows_under(a.id), 0, "rows left under the deleted collection");
    pinhole_store_close(s);
    pinhole_server_collection_free(&a);
}

/* Closing time buckets: from the close on, a new report of a closed bucket is refused (closed),
 * an identical retry of a stored one is still a duplicate, a report of an open bucket is stored;
 * the counts of the closed buckets stay as they were; closing never moves back; the mark
 * survives a restart; an unknown or deleted collection has nothing to close. */
Test(store, closed_buckets_take_no_new_report)
{
    pinhole_store *s = open_store();
    pinhole_server_collection a, b;
    a_b_and_three_reports(s, &a, &b, (const int64_t[3]){10, 11, 12});
    pinhole_ingest_report r[4];
    int64_t closed = -1;
    cr_assert_eq(pinhole_store_closed_before(s, a.id, &closed), PINHOLE_OK);
    cr_assert_eq(closed, 0);
    cr_assert_eq(pinhole_store_close_buckets(s, a.id, 12, &closed), PINHOLE_OK);
    cr_assert_eq(closed, 12);
    cr_assert_eq(pinhole_store_close_buckets(s, a.id, 5, &closed), PINHOLE_OK); /* never back */
    cr_assert_eq(closed, 12);
    cr_assert_eq(pinhole_store_close_buckets(s, a.id, -1, NULL), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_store_close_buckets(s, b.id + 100, 1, NULL), PINHOLE_ENOTFOUND);
    report(&r[0], &a, 7, 11, &pay3[0]); /* new, in a closed bucket */
    report(&r[1], &a, 1, 10, &pay3[0]); /* a retry of a stored one */
    report(&r[2], &a, 8, 12, &pay3[1]); /* new, in the first open bucket */
    report(&r[3], &b, 9, 11, &pay3[2]); /* another collection: nothing closed */
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
    s = open_store();
    cr_assert_eq(pinhole_store_closed_before(s, a.id, &closed), PINHOLE_OK);
    cr_assert_eq(closed, 12);
    cr_assert_eq(pinhole_store_ingest(s, r, 1), PINHOLE_OK);
    cr_assert_eq(r[0].status, PINHOLE_REPORT_REJECTED);
    cr_assert_eq(pinhole_store_delete_collection(s, a.id), PINHOLE_OK);
    cr_assert_eq(pinhole_store_close_buckets(s, a.id, 20, NULL), PINHOLE_ENOTFOUND);
    cr_assert_eq(pinhole_store_closed_before(s, a.id, &closed), PINHOLE_ENOTFOUND);
    assert_consistent(s);
    pinhole_store_close(s);
    pinhole_server_collection_free(&a);
    pinhole_server_collection_free(&b);
}
