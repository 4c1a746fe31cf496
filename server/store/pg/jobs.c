/* The PostgreSQL backend: the analytics job queue, shared by every replica. A claimed job is
 * leased to the claiming handle until PINHOLE_PG_LEASE_S seconds after its latest progress report
 * (times from the database's clock, so replicas' clocks do not matter); a job whose lease ran out
 * (its replica stalled) or whose holder's database session ended (its replica died) is settled
 * like a job left running by a dead process and, if it may run again, claimed by another replica.
 * Claims take rows with FOR UPDATE SKIP LOCKED, so replicas never wait on each other's claims. */
#include "common/error.h"
#include "server/store/pg/pg.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The error text of a running job whose cancellation was asked for. */
#define CANCEL_MARK "cancel requested"
/* Starts after which a job whose lease ran out fails instead of running again (the runner's). */
#define PG_JOB_ATTEMPTS 3

#define JOB_COLUMNS                                                                                \
    "id, collection_id, type, t_from, t_to, params, status, progress, time_limit, created,"        \
    " started, finished, result, error"

/* The database's clock, Unix seconds. */
#define DB_NOW "extract(epoch FROM clock_timestamp())::double precision"

static int state_of(const char *text, pinhole_job_state *st)
{
    for (int i = PINHOLE_JOB_QUEUED; i <= PINHOLE_JOB_CANCELED; i++)
        if (strcmp(text, pinhole_job_state_name((pinhole_job_state)i)) == 0) {
            *st = (pinhole_job_state)i;
            return PINHOLE_OK;
        }
    return PINHOLE_EDB;
}

static char *text_of(const PGresult *res, int row, int c, int *oom)
{
    if (PQgetisnull(res, row, c))
        return NULL;
    char *t = strdup(PQgetvalue(res, row, c));
    *oom |= t == NULL;
    return t;
}

/* Fill r from row `row` of a JOB_COLUMNS result. */
static int read_job_row(const PGresult *res, int row, pinhole_job_record *r)
{
    memset(r, 0, sizeof *r);
    int oom = 0;
    r->id = pg_int(res, row, 0);
    r->collection_id = pg_int(res, row, 1);
    snprintf(r->type, sizeof r->type, "%s", PQgetvalue(res, row, 2));
    r->from = pg_int(res, row, 3);
    r->to = pg_int(res, row, 4);
    r->params = text_of(res, row, 5, &oom);
    int rc = state_of(PQgetvalue(res, row, 6), &r->state);
    r->progress = pg_double(res, row, 7);
    r->time_limit = pg_double(res, row, 8);
    r->created = pg_double(res, row, 9);
    r->started = pg_double(res, row, 10);
    r->finished = pg_double(res, row, 11);
    r->result = text_of(res, row, 12, &oom);
    r->error = text_of(res, row, 13, &oom);
    if (oom)
        rc = PINHOLE_ENOMEM;
    if (rc != PINHOLE_OK)
        pinhole_job_record_free(r);
    return rc;
}

static int read_job(const PGresult *res, pinhole_job_record *r)
{
    return read_job_row(res, 0, r);
}

static void num(char *buf, size_t len, double d)
{
    if (isnan(d))
        buf[0] = '\0';
    else
        snprintf(buf, len, "%.17g", d);
}

/* Settle the running jobs whose holder is gone: its lease ran out, or its database session ended
 * (the replica died), or (mine) it is this handle (a process settling what it left before a
 * restart): canceled when cancelling was asked, failed after max_attempts starts, else queued
 * again. One statement per outcome, each atomic. */
static int settle_orphans(pg_store *s, double now, int max_attempts, int mine)
{
    char t[40], max[16], err[96];
    num(t, sizeof t, now);
    snprintf(max, sizeof max, "%d", max_attempts);
    snprintf(err, sizeof err, "the job was started %d times without finishing", max_attempts);
    const char *v[3] = {t, err, max};
    char *owner = PQescapeLiteral(s->conn, s->owner, strlen(s->owner));
    if (!owner)
        return PINHOLE_EDB;
    char orphan[600];
    snprintf(orphan, sizeof orphan,
             " status = 'running' AND (lease_owner IS NULL OR lease_expires < " DB_NOW
             " OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = jobs.lease_backend)"
             "%s%s)",
             mine ? " OR lease_owner = " : "", mine ? owner : "");
    PQfreemem(owner);
    char sql[3][1000];
    snprintf(sql[0], sizeof sql[0],
             "UPDATE jobs SET status = 'canceled', finished = $1::double precision,"
             " lease_owner = NULL WHERE%s AND error = '" CANCEL_MARK "'",
             orphan);
    snprintf(sql[1], sizeof sql[1],
             "UPDATE jobs SET status = 'failed', finished = $1::double precision, error = $2,"
             " lease_owner = NULL WHERE%s AND attempts >= $3::integer",
             orphan);
    snprintf(sql[2], sizeof sql[2],
             "UPDATE jobs SET status = 'queued', progress = 0, started = NULL, lease_owner = NULL"
             " WHERE%s",
             orphan);
    if (pg_exec(s, sql[0], 1, v) != PINHOLE_OK || pg_exec(s, sql[1], 3, v) != PINHOLE_OK ||
        pg_exec(s, sql[2], 0, NULL) != PINHOLE_OK)
        return PINHOLE_EDB;
    return PINHOLE_OK;
}

int pg_jobs_recover(pinhole_store *base, double now, int max_attempts)
{
    /* not the jobs that run on live replicas */
    return settle_orphans(pg_of(base), now, max_attempts, 1);
}

int pg_job_enqueue(pinhole_store *base, const pinhole_job_record *r, int64_t *id)
{
    pg_store *s = pg_of(base);
    char coll[24], from[24], to[24], limit[40], created[40];
    snprintf(coll, sizeof coll, "%" PRId64, r->collection_id);
    snprintf(from, sizeof from, "%" PRId64, r->from);
    snprintf(to, sizeof to, "%" PRId64, r->to);
    num(limit, sizeof limit, r->time_limit);
    num(created, sizeof created, r->created);
    const char *v[7] = {coll, r->type, from, to, r->params ? r->params : "{}", limit, created};
    PGresult *res = pg_run(s,
                           "INSERT INTO jobs(collection_id, type, t_from, t_to, params, status,"
                           " time_limit, created) VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7)"
                           " RETURNING id",
                           7, v, PGRES_TUPLES_OK);
    if (!res)
        return PINHOLE_EDB;
    *id = pg_int(res, 0, 0);
    PQclear(res);
    return PINHOLE_OK;
}

int pg_job_claim(pinhole_store *base, double now, pinhole_job_record *r)
{
    pg_store *s = pg_of(base);
    memset(r, 0, sizeof *r);
    if (settle_orphans(s, now, PG_JOB_ATTEMPTS, 0) != PINHOLE_OK)
        return PINHOLE_EDB;
    char t[40], lease[40];
    num(t, sizeof t, now);
    num(lease, sizeof lease, s->lease_s);
    const char *v[3] = {t, s->owner, lease};
    PGresult *res = pg_run(s,
                           "UPDATE jobs SET status = 'running', started = $1::double precision,"
                           " progress = 0, attempts = attempts + 1, lease_owner = $2,"
                           " lease_backend = pg_backend_pid(),"
                           " lease_expires = " DB_NOW " + $3::double precision"
                           " WHERE id = (SELECT id FROM jobs WHERE status = 'queued' ORDER BY id"
                           " LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING " JOB_COLUMNS,
                           3, v, PGRES_TUPLES_OK);
    if (!res)
        return PINHOLE_EDB;
    const int rc = PQntuples(res) == 1 ? read_job(res, r) : PINHOLE_ENOTFOUND;
    PQclear(res);
    return rc;
}

int pg_job_progress(pinhole_store *base, int64_t id, double fraction)
{
    pg_store *s = pg_of(base);
    char f[40], i[24], lease[40];
    num(f, sizeof f, fraction);
    snprintf(i, sizeof i, "%" PRId64, id);
    num(lease, sizeof lease, s->lease_s);
    const char *v[4] = {f, i, s->owner, lease};
    PGresult *res = pg_run(s,
                           "UPDATE jobs SET progress = $1::double precision,"
                           " lease_expires = " DB_NOW " + $4::double precision"
                           " WHERE id = $2 AND status = 'running' AND lease_owner = $3"
                           " RETURNING error IS NOT DISTINCT FROM '" CANCEL_MARK "'",
                           4, v, PGRES_TUPLES_OK);
    if (!res)
        return PINHOLE_EDB;
    int rc = PINHOLE_ENOTFOUND; /* no longer ours: settled, or the lease went to another replica */
    if (PQntuples(res) == 1)    /* cancelling asked through any replica: the holder stops */
        rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? PINHOLE_ECANCELED : PINHOLE_OK;
    PQclear(res);
    return rc;
}

int pg_job_finish(pinhole_store *base, int64_t id, pinhole_job_state st, double finished,
                  const char *result, const char *error)
{
    pg_store *s = pg_of(base);
    char t[40], i[24];
    num(t, sizeof t, finished);
    snprintf(i, sizeof i, "%" PRId64, id);
    const char *sql;
    const char *v[5] = {i, s->owner, t, NULL, NULL};
    int n = 3;
    switch (st) {
    case PINHOLE_JOB_DONE:
        sql = "UPDATE jobs SET status = 'done', progress = 1, finished = $3::double precision,"
              " result = $4, error = NULL, lease_owner = NULL WHERE id = $1 AND %s RETURNING id";
        v[3] = result;
        n = 4;
        break;
    case PINHOLE_JOB_CANCELED:
        sql = "UPDATE jobs SET status = 'canceled', finished = $3::double precision, error = NULL,"
              " lease_owner = NULL WHERE id = $1 AND %s RETURNING id";
        break;
    case PINHOLE_JOB_FAILED:
        sql = "UPDATE jobs SET status = 'failed', finished = $3::double precision, error = $4,"
              " lease_owner = NULL WHERE id = $1 AND %s RETURNING id";
        v[3] = error;
        n = 4;
        break;
    case PINHOLE_JOB_QUEUED:
        sql = "UPDATE jobs SET status = 'queued', progress = 0, started = NULL, lease_owner = NULL"
              " WHERE id = $1 AND %s AND $3::text IS NOT NULL RETURNING id";
        break;
    default:
        return PINHOLE_EINVAL;
    }
    /* Not over a lease another replica holds (it took the job over after ours ran out). */
    char full[600];
    snprintf(full, sizeof full, sql,
             "(status <> 'running' OR lease_owner IS NULL OR lease_owner = $2"
             " OR lease_expires < " DB_NOW ")");
    if (isnan(finished))
        v[2] = "0";
    PGresult *res = pg_run(s, full, n, v, PGRES_TUPLES_OK);
    if (!res)
        return PINHOLE_EDB;
    PQclear(res);
    return PINHOLE_OK;
}

int pg_job_cancel_queued(pinhole_store *base, int64_t id, double now)
{
    char t[40], i[24];
    num(t, sizeof t, now);
    snprintf(i, sizeof i, "%" PRId64, id);
    const char *v[2] = {t, i};
    return pg_exec(pg_of(base),
                   "UPDATE jobs SET status = 'canceled', finished = $1::double precision"
                   " WHERE id = $2 AND status = 'queued'",
                   2, v);
}

int pg_job_request_cancel(pinhole_store *base, int64_t id)
{
    char i[24];
    snprintf(i, sizeof i, "%" PRId64, id);
    const char *v[1] = {i};
    return pg_exec(pg_of(base),
                   "UPDATE jobs SET error = '" CANCEL_MARK "' WHERE id = $1 AND status = 'running'",
                   1, v);
}

int pg_job_state(pinhole_store *base, int64_t id, pinhole_job_state *st)
{
    char i[24];
    snprintf(i, sizeof i, "%" PRId64, id);
    const char *v[1] = {i};
    PGresult *res =
        pg_run(pg_of(base), "SELECT status FROM jobs WHERE id = $1", 1, v, PGRES_TUPLES_OK);
    if (!res)
        return PINHOLE_EDB;
    const int rc = PQntuples(res) == 1 ? state_of(PQgetvalue(res, 0, 0), st) : PINHOLE_ENOTFOUND;
    PQclear(res);
    return rc;
}

int pg_job_get(pinhole_store *base, int64_t id, pinhole_job_record *r)
{
    memset(r, 0, sizeof *r);
    char i[24];
    snprintf(i, sizeof i, "%" PRId64, id);
    const char *v[1] = {i};
    PGresult *res = pg_run(pg_of(base), "SELECT " JOB_COLUMNS " FROM jobs WHERE id = $1", 1, v,
                           PGRES_TUPLES_OK);
    if (!res)
        return PINHOLE_EDB;
    const int rc = PQntuples(res) == 1 ? read_job(res, r) : PINHOLE_ENOTFOUND;
    PQclear(res);
    return rc;
}

int pg_job_list(pinhole_store *base, int64_t collection, uint64_t offset, uint32_t limit,
                pinhole_job_record **out, size_t *n, uint64_t *total)
{
    pg_store *s = pg_of(base);
    *out = NULL;
    *n = 0;
    *total = 0;
    char c[24], l[16], o[24];
    snprintf(c, sizeof c, "%" PRId64, collection);
    snprintf(l, sizeof l, "%" PRIu32, limit);
    snprintf(o, sizeof o, "%" PRIu64, offset > INT64_MAX ? (uint64_t)INT64_MAX : offset);
    const char *v[3] = {c, l, o};
    /* one snapshot for the total and the page */
    if (pg_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL) != PINHOLE_OK)
        return PINHOLE_EDB;
    PGresult *res =
        pg_run(s, "SELECT count(*) FROM jobs WHERE $1::bigint < 0 OR collection_id = $1", 1, v,
               PGRES_TUPLES_OK);
    int rc = res ? PINHOLE_OK : PINHOLE_EDB;
    if (res)
        *total = (uint64_t)pg_int(res, 0, 0);
    PQclear(res);
    res = NULL;
    /* the result column is left out of lists (NULL): results can be large */
    if (rc == PINHOLE_OK && limit > 0 && offset < *total &&
        !(res = pg_run(s,
                       "SELECT id, collection_id, type, t_from, t_to, params, status, progress,"
                       " time_limit, created, started, finished, NULL, error FROM jobs"
                       " WHERE $1::bigint < 0 OR collection_id = $1 ORDER BY id DESC"
                       " LIMIT $2 OFFSET $3",
                       3, v, PGRES_TUPLES_OK)))
        rc = PINHOLE_EDB;
    PQclear(PQexec(s->conn, "COMMIT"));
    const int rows = res ? PQntuples(res) : 0;
    pinhole_job_record *a = rows ? calloc((size_t)rows, sizeof *a) : NULL;
    if (rows && !a)
        rc = PINHOLE_ENOMEM;
    int m = 0;
    for (; rc == PINHOLE_OK && m < rows; m++)
        if ((rc = read_job_row(res, m, &a[m])) != PINHOLE_OK)
            break;
    PQclear(res);
    if (rc != PINHOLE_OK) {
        for (int i = 0; i < m; i++)
            pinhole_job_record_free(&a[i]);
        free(a);
        *total = 0;
        return rc;
    }
    *out = a;
    *n = (size_t)m;
    return PINHOLE_OK;
}
