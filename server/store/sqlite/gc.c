/* The SQLite backend's garbage collector: the days that left every collection's report window are
 * retired (the newest retired day is stored in gc_state first), the id index of the ingesting
 * handle drops their ids whole, and their raw reports are deleted in small transactions (counts
 * stay; collections with keep_reports keep their reports). */
#include "common/clock.h"
#include "common/error.h"
#include "server/store/sqlite/idset.h"
#include "server/store/sqlite/sqlite.h"

#include <math.h>
#include <stdio.h>
#include <stdatomic.h>

/* Rows a deletion transaction looks at, and transactions per periodic pass (about 64 ms of work
 * each on this machine: the writer waits at most that long for the lock). */
#define GC_BATCH_ROWS 4096
#define GC_BATCHES_PER_CALL 64
/* How often the ingesting handle looks at the windows again (also whenever the day changes). */
#define GC_RECHECK_SECONDS 10.0

int64_t pinhole_sqlite_day_of(uint32_t time_precision, int64_t bucket)
{
    const int64_t last = (bucket + 1) * (int64_t)time_precision - 1; /* the bucket's last second */
    return last >= 0 ? last / 86400 : -((-last + 86399) / 86400);
}

/* The SQL form of pinhole_sqlite_day_of for a report r of a collection c (buckets are >= 0). */
#define DAY_SQL "((r.bucket + 1) * c.time_precision - 1) / 86400"

/* The newest day no collection's window accepts any more: today - (widest window in whole days)
 * - 1 (a day of margin). 1 with *horizon set; 0 when there is none (no collection, or one without
 * a lower bound); PINHOLE_EDB. */
static int horizon_now(sqlite_store *s, int64_t *horizon)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT count(*), coalesce(min(max_report_age), 0),"
                           " coalesce(max(max_report_age), 0) FROM collections WHERE deleting = 0",
                           -1, &q, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    int rc = PINHOLE_EDB;
    if (sqlite3_step(q) == SQLITE_ROW) {
        const int64_t n = sqlite3_column_int64(q, 0), lo = sqlite3_column_int64(q, 1),
                      hi = sqlite3_column_int64(q, 2);
        rc = 0;
        if (n > 0 && lo > 0) {
            const int64_t today = (int64_t)floor(pinhole_clock_wall() / 86400);
            *horizon = today - (hi + 86399) / 86400 - 1;
            rc = 1;
        }
    }
    sqlite3_finalize(q);
    return rc;
}

int pinhole_sqlite_retired(sqlite_store *s, int64_t *day)
{
    sqlite3_stmt *q = s->stmt[SQ_RETIRED]; /* not prepared on read-only handles */
    *day = INT64_MIN;
    if (!q && sqlite3_prepare_v2(s->db, "SELECT retired_day FROM gc_state WHERE id = 1", -1, &q,
                                 NULL) != SQLITE_OK)
        return PINHOLE_OK; /* a file from before the garbage collector: nothing retired */
    const int step = sqlite3_step(q);
    if (step == SQLITE_ROW)
        *day = sqlite3_column_int64(q, 0);
    if (q == s->stmt[SQ_RETIRED])
        sqlite3_reset(q);
    else
        sqlite3_finalize(q);
    return step == SQLITE_ROW || step == SQLITE_DONE ? PINHOLE_OK : PINHOLE_EDB;
}

int pinhole_sqlite_gc_follow(sqlite_store *s)
{
    int64_t retired;
    if (pinhole_sqlite_retired(s, &retired) != PINHOLE_OK)
        return PINHOLE_EDB;
    if (retired <= s->ids_horizon)
        return PINHOLE_OK;
    if (pinhole_idset_drop_days(s->ids, retired) < 0)
        return PINHOLE_ENOMEM;
    s->ids_horizon = retired;
    return PINHOLE_OK;
}

int pinhole_sqlite_gc_index(sqlite_store *s)
{
    if (!s->ids)
        return PINHOLE_OK;
    const double mono = pinhole_clock_mono();
    const int64_t today = (int64_t)floor(pinhole_clock_wall() / 86400);
    if (today == s->gc.checked_day && mono < s->gc.next_check)
        return PINHOLE_OK;
    s->gc.checked_day = today;
    s->gc.next_check = mono + GC_RECHECK_SECONDS;
    int64_t horizon;
    const int bounded = horizon_now(s, &horizon);
    if (bounded < 0)
        return bounded;
    if (!bounded || horizon <= s->ids_horizon)
        return PINHOLE_OK;
    if (pinhole_idset_drop_days(s->ids, horizon) < 0)
        return PINHOLE_ENOMEM;
    s->ids_horizon = horizon;
    pinhole_sqlite_gc_index_size(s);
    return PINHOLE_OK;
}

/* The seq ending the next batch after seq: the GC_BATCH_ROWS-th row on, or end. */
static int64_t next_end(sqlite_store *s, int64_t seq, int64_t end)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT seq FROM reports WHERE seq > ? ORDER BY seq LIMIT 1 OFFSET ?",
                           -1, &q, NULL) != SQLITE_OK)
        return end;
    sqlite3_bind_int64(q, 1, seq);
    sqlite3_bind_int64(q, 2, GC_BATCH_ROWS - 1);
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 0) < end)
        end = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return end;
}

/* Delete the retired reports with seq in (s->gc.seq, end], in one transaction; adds to the
 * counters. */
static int delete_batch(sqlite_store *s, int64_t end, int64_t retired)
{
    static const char *const sql[2] = {
        "SELECT count(*), coalesce(sum(length(r.payload) + length(r.report_id)), 0)"
        " FROM reports r JOIN collections c ON c.id = r.collection"
        " WHERE r.seq > ?1 AND r.seq <= ?2 AND c.keep_reports = 0 AND " DAY_SQL " <= ?3",
        "DELETE FROM reports WHERE seq IN (SELECT r.seq FROM reports r JOIN collections c"
        " ON c.id = r.collection"
        " WHERE r.seq > ?1 AND r.seq <= ?2 AND c.keep_reports = 0 AND " DAY_SQL " <= ?3)"};
    if (pinhole_sqlite_step_done(s->stmt[SQ_BEGIN]) != PINHOLE_OK)
        return PINHOLE_EDB;
    int rc = PINHOLE_OK;
    int64_t rows = 0, bytes = 0;
    for (int i = 0; i < 2 && rc == PINHOLE_OK; i++) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(s->db, sql[i], -1, &q, NULL) != SQLITE_OK) {
            rc = PINHOLE_EDB;
            break;
        }
        sqlite3_bind_int64(q, 1, s->gc.seq);
        sqlite3_bind_int64(q, 2, end);
        sqlite3_bind_int64(q, 3, retired);
        const int step = sqlite3_step(q);
        if (i == 0 && step == SQLITE_ROW) {
            rows = sqlite3_column_int64(q, 0);
            bytes = sqlite3_column_int64(q, 1);
        } else if (step != SQLITE_DONE)
            rc = PINHOLE_EDB;
        sqlite3_finalize(q);
        if (i == 0 && rows == 0)
            break; /* nothing to delete here */
    }
    if (rc == PINHOLE_OK && pinhole_sqlite_step_done(s->stmt[SQ_COMMIT]) != PINHOLE_OK)
        rc = PINHOLE_EDB;
    if (rc != PINHOLE_OK) {
        if (!sqlite3_get_autocommit(s->db))
            pinhole_sqlite_step_done(s->stmt[SQ_ROLLBACK]);
        return rc;
    }
    atomic_fetch_add_explicit(&s->gc.rows, (uint64_t)rows, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->gc.bytes, (uint64_t)bytes, memory_order_relaxed);
    s->gc.seq = end;
    return PINHOLE_OK;
}

/* Start a pass over the whole log: from its first row to its last one now. */
static int start_pass(sqlite_store *s)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT coalesce(min(seq), 1) - 1, coalesce(max(seq), 0) FROM reports",
                           -1, &q, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    const int ok = sqlite3_step(q) == SQLITE_ROW;
    if (ok) {
        s->gc.seq = sqlite3_column_int64(q, 0);
        s->gc.end = sqlite3_column_int64(q, 1);
        s->gc.active = 1;
        s->gc.started = 1;
        atomic_store_explicit(&s->gc.pass_since, pinhole_clock_wall(), memory_order_relaxed);
    }
    sqlite3_finalize(q);
    return ok ? PINHOLE_OK : PINHOLE_EDB;
}

/* Run sql with ?1..?3 = a, b, c inside the open transaction: the rows it changed, or -1. */
static int64_t exec3(sqlite_store *s, const char *sql, int64_t a, int64_t b, int64_t c)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return -1;
    const int n = sqlite3_bind_parameter_count(q);
    const int64_t v[3] = {a, b, c};
    for (int i = 0; i < n && i < 3; i++)
        sqlite3_bind_int64(q, i + 1, v[i]);
    const int step = sqlite3_step(q);
    int64_t out = -1;
    if (step == SQLITE_ROW)
        out = sqlite3_column_int64(q, 0);
    else if (step == SQLITE_DONE)
        out = sqlite3_changes(s->db);
    sqlite3_finalize(q);
    return out;
}

/* One step of deleting the collections marked `deleting`, in one small transaction: its reports
 * GC_BATCH_ROWS rows of the log at a time, then the reports added since the pass began, its
 * counts and buckets 64 buckets at a time, then its jobs; its row stays as a tombstone (deleting =
 * 2), so that its id is never given again (ids are max + 1). 1 when a step ran, 0 when
 * no collection is being deleted, PINHOLE_EDB. */
static int drop_step(sqlite_store *s)
{
    if (!s->gc.dropping) {
        const int64_t id = exec3(s,
                                 "SELECT coalesce((SELECT id FROM collections WHERE deleting = 1"
                                 " ORDER BY id LIMIT 1), 0)",
                                 0, 0, 0);
        if (id <= 0)
            return id < 0 ? PINHOLE_EDB : 0;
        s->gc.dropping = id;
        s->gc.dseq = exec3(s, "SELECT coalesce(min(seq), 1) - 1 FROM reports", 0, 0, 0);
        s->gc.dend = exec3(s, "SELECT coalesce(max(seq), 0) FROM reports", 0, 0, 0);
        if (s->gc.dseq < 0 || s->gc.dend < 0) {
            s->gc.dropping = 0;
            return PINHOLE_EDB;
        }
    }
    const int64_t id = s->gc.dropping;
    if (pinhole_sqlite_step_done(s->stmt[SQ_BEGIN]) != PINHOLE_OK)
        return PINHOLE_EDB;
    int64_t rows = 0, bytes = 0, next = s->gc.dseq, n = 0;
    int done = 0, bad = 0;
    if (s->gc.dseq < s->gc.dend) {
        next = next_end(s, s->gc.dseq, s->gc.dend);
        static const char *const where =
            " FROM reports WHERE seq > ?1 AND seq <= ?2 AND collection = ?3";
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT coalesce(sum(length(payload) + length(report_id)), 0)%s",
                 where);
        bytes = exec3(s, sql, s->gc.dseq, next, id);
        snprintf(sql, sizeof sql, "DELETE%s", where);
        rows = exec3(s, sql, s->gc.dseq, next, id);
        bad = bytes < 0 || rows < 0;
    } else {
        /* the tail of the log (reports of it committed after the pass began: none since ingest
         * refuses a collection marked deleted, but a file of an older server may hold some),
         * then counts and buckets */
        bytes = exec3(s,
                      "SELECT coalesce(sum(length(payload) + length(report_id)), 0) FROM reports"
                      " WHERE seq > ?1 AND collection = ?2",
                      s->gc.dend, id, 0);
        rows =
            exec3(s, "DELETE FROM reports WHERE seq > ?1 AND collection = ?2", s->gc.dend, id, 0);
        n = exec3(s,
                  "DELETE FROM counts WHERE collection = ?1 AND bucket IN (SELECT bucket FROM"
                  " buckets WHERE collection = ?1 ORDER BY bucket LIMIT 64)",
                  id, 0, 0);
        const int64_t nb = exec3(s,
                                 "DELETE FROM buckets WHERE collection = ?1 AND bucket IN (SELECT"
                                 " bucket FROM buckets WHERE collection = ?1 ORDER BY bucket"
                                 " LIMIT 64)",
                                 id, 0, 0);
        bad = bytes < 0 || rows < 0 || n < 0 || nb < 0;
        if (!bad && nb == 0) { /* the last step: what is left of it */
            bad = exec3(s, "DELETE FROM counts WHERE collection = ?1", id, 0, 0) < 0 ||
                  exec3(s, "DELETE FROM jobs WHERE collection_id = ?1", id, 0, 0) < 0 ||
                  exec3(s, "UPDATE collections SET deleting = 2 WHERE id = ?1", id, 0, 0) < 0;
            done = 1;
        }
    }
    if (bad || pinhole_sqlite_step_done(s->stmt[SQ_COMMIT]) != PINHOLE_OK) {
        if (!sqlite3_get_autocommit(s->db))
            pinhole_sqlite_step_done(s->stmt[SQ_ROLLBACK]);
        s->gc.dropping = 0; /* start again from the stored state */
        return PINHOLE_EDB;
    }
    atomic_fetch_add_explicit(&s->gc.rows, (uint64_t)rows, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->gc.bytes, (uint64_t)bytes, memory_order_relaxed);
    s->gc.dseq = next;
    if (done)
        s->gc.dropping = 0;
    return 1;
}

int pinhole_sqlite_gc_collect(sqlite_store *s, int *did)
{
    for (int i = 0; i < GC_BATCHES_PER_CALL; i++) {
        const int step = drop_step(s);
        if (step < 0)
            return step;
        if (step == 0)
            break;
        *did = 1;
    }
    int64_t horizon, retired;
    const int bounded = horizon_now(s, &horizon);
    if (bounded < 0)
        return bounded;
    int rc = pinhole_sqlite_retired(s, &retired);
    if (rc != PINHOLE_OK)
        return rc;
    if (bounded && horizon > retired) { /* retire first: from now on those days are refused */
        sqlite3_stmt *q;
        if (pinhole_sqlite_step_done(s->stmt[SQ_BEGIN]) != PINHOLE_OK)
            return PINHOLE_EDB;
        rc = PINHOLE_EDB;
        if (sqlite3_prepare_v2(s->db,
                               "INSERT OR REPLACE INTO gc_state(id, retired_day) VALUES(1, ?)", -1,
                               &q, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(q, 1, horizon);
            rc = pinhole_sqlite_step_done(q);
            sqlite3_finalize(q);
        }
        if (rc == PINHOLE_OK && pinhole_sqlite_step_done(s->stmt[SQ_COMMIT]) != PINHOLE_OK)
            rc = PINHOLE_EDB;
        if (rc != PINHOLE_OK) {
            if (!sqlite3_get_autocommit(s->db))
                pinhole_sqlite_step_done(s->stmt[SQ_ROLLBACK]);
            return rc;
        }
        retired = horizon;
        if ((rc = start_pass(s)) != PINHOLE_OK)
            return rc;
    } else if (!s->gc.started && retired != INT64_MIN) { /* resume what a previous process left */
        if ((rc = start_pass(s)) != PINHOLE_OK)
            return rc;
    }
    for (int i = 0; i < GC_BATCHES_PER_CALL && s->gc.active; i++) {
        const uint64_t before = atomic_load_explicit(&s->gc.rows, memory_order_relaxed);
        if ((rc = delete_batch(s, next_end(s, s->gc.seq, s->gc.end), retired)) != PINHOLE_OK)
            return rc;
        if (atomic_load_explicit(&s->gc.rows, memory_order_relaxed) != before)
            *did = 1;
        if (s->gc.seq >= s->gc.end) {
            s->gc.active = 0;
            atomic_store_explicit(&s->gc.pass_since, 0.0, memory_order_relaxed);
            atomic_fetch_add_explicit(&s->gc.passes, 1, memory_order_relaxed);
        }
    }
    return PINHOLE_OK;
}

void pinhole_sqlite_gc_stats(pinhole_store *base, pinhole_store_gc_stats *st)
{
    sqlite_store *s = sqlite_of(base);
    const double since = atomic_load_explicit(&s->gc.pass_since, memory_order_relaxed);
    st->rows_removed = atomic_load_explicit(&s->gc.rows, memory_order_relaxed);
    st->bytes_removed = atomic_load_explicit(&s->gc.bytes, memory_order_relaxed);
    st->passes = atomic_load_explicit(&s->gc.passes, memory_order_relaxed);
    st->lag_seconds = since > 0 ? pinhole_clock_wall() - since : 0;
    st->index_ids = atomic_load_explicit(&s->gc.index_ids, memory_order_relaxed);
    st->index_bytes = atomic_load_explicit(&s->gc.index_bytes, memory_order_relaxed);
}

void pinhole_sqlite_gc_index_size(sqlite_store *s)
{
    atomic_store_explicit(&s->gc.index_ids, s->ids ? s->ids->used : 0, memory_order_relaxed);
    atomic_store_explicit(&s->gc.index_bytes, s->ids ? pinhole_idset_bytes(s->ids) : 0,
                          memory_order_relaxed);
}
