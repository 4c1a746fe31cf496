/* The SQLite backend: the analytics job queue (table jobs). */
#include "common/error.h"
#include "server/store/sqlite/sqlite.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The error text of a running job whose cancellation was asked for. */
#define CANCEL_MARK "cancel requested"

/* Run one statement with bindings given by a format: 'i' int64, 'd' double (NaN binds NULL), 't'
 * text (NULL binds NULL). PINHOLE_OK or PINHOLE_EDB. */
static int exec_bind(sqlite3 *db, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    va_list ap;
    va_start(ap, fmt);
    for (int i = 0; fmt[i]; i++) {
        if (fmt[i] == 'i') {
            sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        } else if (fmt[i] == 'd') {
            const double d = va_arg(ap, double);
            if (isnan(d))
                sqlite3_bind_null(st, i + 1);
            else
                sqlite3_bind_double(st, i + 1, d);
        } else {
            const char *s = va_arg(ap, const char *);
            if (s)
                sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT);
            else
                sqlite3_bind_null(st, i + 1);
        }
    }
    va_end(ap);
    const int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? PINHOLE_OK : PINHOLE_EDB;
}

static int state_of(const char *text, pinhole_job_state *st)
{
    for (int i = PINHOLE_JOB_QUEUED; i <= PINHOLE_JOB_CANCELED; i++)
        if (text && strcmp(text, pinhole_job_state_name((pinhole_job_state)i)) == 0) {
            *st = (pinhole_job_state)i;
            return PINHOLE_OK;
        }
    return PINHOLE_EDB;
}

static double column_time(sqlite3_stmt *q, int col)
{
    return sqlite3_column_type(q, col) == SQLITE_NULL ? NAN : sqlite3_column_double(q, col);
}

static char *column_text(sqlite3_stmt *q, int col, int *oom)
{
    const char *t = (const char *)sqlite3_column_text(q, col);
    if (!t)
        return NULL;
    char *c = strdup(t);
    *oom |= c == NULL;
    return c;
}

#define JOB_COLUMNS                                                                                \
    "id, collection_id, type, t_from, t_to, params, status, progress, time_limit, created,"        \
    " started, finished, result, error"

/* Fill r from a row of JOB_COLUMNS. */
static int read_job(sqlite3_stmt *q, pinhole_job_record *r)
{
    memset(r, 0, sizeof *r);
    int oom = 0;
    r->id = sqlite3_column_int64(q, 0);
    r->collection_id = sqlite3_column_int64(q, 1);
    snprintf(r->type, sizeof r->type, "%s", (const char *)sqlite3_column_text(q, 2));
    r->from = sqlite3_column_int64(q, 3);
    r->to = sqlite3_column_int64(q, 4);
    r->params = column_text(q, 5, &oom);
    int rc = state_of((const char *)sqlite3_column_text(q, 6), &r->state);
    r->progress = sqlite3_column_double(q, 7);
    r->time_limit = sqlite3_column_double(q, 8);
    r->created = column_time(q, 9);
    r->started = column_time(q, 10);
    r->finished = column_time(q, 11);
    r->result = column_text(q, 12, &oom);
    r->error = column_text(q, 13, &oom);
    if (oom)
        rc = PINHOLE_ENOMEM;
    if (rc != PINHOLE_OK)
        pinhole_job_record_free(r);
    return rc;
}

int pinhole_sqlite_jobs_recover(pinhole_store *base, double now, int max_attempts)
{
    sqlite_store *s = sqlite_of(base);
    char err[96];
    snprintf(err, sizeof err, "the job was started %d times without finishing", max_attempts);
    /* a job whose cancellation was asked for is canceled; one started max_attempts times already
     * fails; the others run again */
    if (exec_bind(s->db,
                  "UPDATE jobs SET status = 'canceled', finished = ? WHERE status = 'running' AND"
                  " error = '" CANCEL_MARK "'",
                  "d", now) != PINHOLE_OK ||
        exec_bind(s->db,
                  "UPDATE jobs SET status = 'failed', finished = ?, error = ? WHERE status ="
                  " 'running' AND attempts >= ?",
                  "dti", now, err, (int64_t)max_attempts) != PINHOLE_OK ||
        exec_bind(s->db,
                  "UPDATE jobs SET status = 'queued', progress = 0, started = NULL WHERE status ="
                  " 'running'",
                  "") != PINHOLE_OK)
        return PINHOLE_EDB;
    return PINHOLE_OK;
}

int pinhole_sqlite_job_enqueue(pinhole_store *base, const pinhole_job_record *r, int64_t *id)
{
    sqlite_store *s = sqlite_of(base);
    const int rc = exec_bind(
        s->db,
        "INSERT INTO jobs(collection_id, type, t_from, t_to, params, status, time_limit, created)"
        " VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)",
        "itiitdd", r->collection_id, r->type, r->from, r->to, r->params ? r->params : "{}",
        r->time_limit, r->created);
    if (rc == PINHOLE_OK)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int pinhole_sqlite_job_claim(pinhole_store *base, double now, pinhole_job_record *r)
{
    sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *q;
    memset(r, 0, sizeof *r);
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE jobs SET status = 'running', started = ?, progress = 0,"
                           " attempts = attempts + 1 WHERE id = (SELECT id FROM jobs WHERE status ="
                           " 'queued' ORDER BY id LIMIT 1) RETURNING " JOB_COLUMNS,
                           -1, &q, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    sqlite3_bind_double(q, 1, now);
    int step = sqlite3_step(q), rc = PINHOLE_ENOTFOUND;
    if (step == SQLITE_ROW) {
        rc = read_job(q, r);
        step = sqlite3_step(q);
    }
    sqlite3_finalize(q);
    if (step != SQLITE_DONE) {
        pinhole_job_record_free(r);
        return PINHOLE_EDB;
    }
    return rc;
}

int pinhole_sqlite_job_progress(pinhole_store *base, int64_t id, double fraction)
{
    /* the progress of a running job, and whether cancelling it was asked meanwhile */
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(sqlite_of(base)->db,
                           "UPDATE jobs SET progress = ? WHERE id = ? AND status = 'running'"
                           " RETURNING error IS '" CANCEL_MARK "'",
                           -1, &q, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    sqlite3_bind_double(q, 1, fraction);
    sqlite3_bind_int64(q, 2, id);
    int step = sqlite3_step(q), rc = PINHOLE_ENOTFOUND;
    if (step == SQLITE_ROW) {
        rc = sqlite3_column_int(q, 0) ? PINHOLE_ECANCELED : PINHOLE_OK;
        step = sqlite3_step(q);
    }
    sqlite3_finalize(q);
    return step == SQLITE_DONE ? rc : PINHOLE_EDB;
}

int pinhole_sqlite_job_finish(pinhole_store *base, int64_t id, pinhole_job_state st,
                              double finished, const char *result, const char *error)
{
    sqlite3 *db = sqlite_of(base)->db;
    switch (st) {
    case PINHOLE_JOB_DONE:
        return exec_bind(db,
                         "UPDATE jobs SET status = 'done', progress = 1, finished = ?, result = ?,"
                         " error = NULL WHERE id = ?",
                         "dti", finished, result, id);
    case PINHOLE_JOB_CANCELED:
        return exec_bind(
            db, "UPDATE jobs SET status = 'canceled', finished = ?, error = NULL WHERE id = ?",
            "di", finished, id);
    case PINHOLE_JOB_FAILED:
        return exec_bind(db,
                         "UPDATE jobs SET status = 'failed', finished = ?, error = ? WHERE id = ?",
                         "dti", finished, error, id);
    case PINHOLE_JOB_QUEUED:
        return exec_bind(
            db, "UPDATE jobs SET status = 'queued', progress = 0, started = NULL WHERE id = ?", "i",
            id);
    default:
        return PINHOLE_EINVAL;
    }
}

int pinhole_sqlite_job_cancel_queued(pinhole_store *base, int64_t id, double now)
{
    return exec_bind(sqlite_of(base)->db,
                     "UPDATE jobs SET status = 'canceled', finished = ? WHERE id = ? AND"
                     " status = 'queued'",
                     "di", now, id);
}

int pinhole_sqlite_job_request_cancel(pinhole_store *base, int64_t id)
{
    return exec_bind(
        sqlite_of(base)->db,
        "UPDATE jobs SET error = '" CANCEL_MARK "' WHERE id = ? AND status = 'running'", "i", id);
}

int pinhole_sqlite_job_state(pinhole_store *base, int64_t id, pinhole_job_state *st)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(sqlite_of(base)->db, "SELECT status FROM jobs WHERE id = ?", -1, &q,
                           NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    sqlite3_bind_int64(q, 1, id);
    const int step = sqlite3_step(q);
    int rc = step == SQLITE_DONE ? PINHOLE_ENOTFOUND : PINHOLE_EDB;
    if (step == SQLITE_ROW)
        rc = state_of((const char *)sqlite3_column_text(q, 0), st);
    sqlite3_finalize(q);
    return rc;
}

int pinhole_sqlite_job_get(pinhole_store *base, int64_t id, pinhole_job_record *r)
{
    sqlite3_stmt *q;
    memset(r, 0, sizeof *r);
    if (sqlite3_prepare_v2(sqlite_of(base)->db, "SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?", -1,
                           &q, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    sqlite3_bind_int64(q, 1, id);
    const int step = sqlite3_step(q);
    int rc = step == SQLITE_DONE ? PINHOLE_ENOTFOUND : PINHOLE_EDB;
    if (step == SQLITE_ROW)
        rc = read_job(q, r);
    sqlite3_finalize(q);
    return rc;
}

int pinhole_sqlite_job_list(pinhole_store *base, int64_t collection, uint64_t offset,
                            uint32_t limit, pinhole_job_record **out, size_t *n, uint64_t *total)
{
    sqlite3 *db = sqlite_of(base)->db;
    *out = NULL;
    *n = 0;
    *total = 0;
    /* the result column is left out of lists (NULL): results can be large */
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM jobs WHERE ?1 < 0 OR collection_id = ?1", -1,
                           &q, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    sqlite3_bind_int64(q, 1, collection);
    if (sqlite3_step(q) != SQLITE_ROW) {
        sqlite3_finalize(q);
        return PINHOLE_EDB;
    }
    *total = (uint64_t)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (limit == 0 || offset >= *total)
        return PINHOLE_OK;
    if (sqlite3_prepare_v2(
            db,
            "SELECT id, collection_id, type, t_from, t_to, params, status, progress,"
            " time_limit, created, started, finished, NULL, error FROM jobs"
            " WHERE ?1 < 0 OR collection_id = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3",
            -1, &q, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    sqlite3_bind_int64(q, 1, collection);
    sqlite3_bind_int64(q, 2, limit);
    sqlite3_bind_int64(q, 3, offset > INT64_MAX ? INT64_MAX : (int64_t)offset);
    pinhole_job_record *a = calloc(limit, sizeof *a);
    int rc = a ? PINHOLE_OK : PINHOLE_ENOMEM, step = SQLITE_DONE;
    size_t m = 0;
    while (rc == PINHOLE_OK && m < limit && (step = sqlite3_step(q)) == SQLITE_ROW)
        if ((rc = read_job(q, &a[m])) == PINHOLE_OK)
            m++;
    sqlite3_finalize(q);
    if (rc == PINHOLE_OK && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = PINHOLE_EDB;
    if (rc != PINHOLE_OK) {
        for (size_t i = 0; i < m; i++)
            pinhole_job_record_free(&a[i]);
        free(a);
        return rc;
    }
    if (m == 0) {
        free(a);
        a = NULL;
    }
    *out = a;
    *n = m;
    return PINHOLE_OK;
}
