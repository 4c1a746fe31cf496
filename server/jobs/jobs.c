/* The job runner: a SQLite job table, worker threads, progress, time limits, cancellation, restart.
 */
#include "server/jobs/jobs.h"
#include "common/error.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* The error text of a running job whose cancellation was asked for. */
#define CANCEL_MARK "cancel requested"

/* Starts of a job before a restart gives up on it. */
#define PINHOLE_JOB_ATTEMPTS_TEXT "3"

typedef struct worker {
    struct pinhole_jobs *J;
    pthread_t thread;
    int64_t job;               /* running job id, 0 when idle (guarded by J->mu) */
    int claiming;              /* between taking a job in the database and setting job (J->mu) */
    atomic_int cancel;         /* set by pinhole_jobs_cancel() for the running job */
    pinhole_pgr_workspace *ws; /* the worker thread's reconstruction workspace (its own) */
} worker;

struct pinhole_jobs {
    pinhole_jobs_options opt;
    char *db_path;
    sqlite3 *db; /* for the API calls; guarded by db_mu */
    pthread_mutex_t db_mu;
    pthread_mutex_t mu;  /* the workers' state (job ids, claims) and the condition variables;
                            taken before db_mu when both are needed */
    pthread_cond_t work; /* a job was queued, or stop */
    pthread_cond_t done; /* a job left the running state */
    atomic_int stop;
    unsigned nworkers;
    worker *workers;
};

struct pinhole_job_ctl {
    pinhole_jobs *J;
    worker *w;
    sqlite3 *db;
    int64_t id;
    double deadline;
    double last_write;
    int timed_out;
};

static double now_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec * 1e-6;
}

void pinhole_job_data_free(pinhole_job_data *d)
{
    if (d->labels)
        for (uint64_t i = 0; i < d->cfg.k; i++)
            free(d->labels[i]);
    free(d->labels);
    free(d->counts);
    for (uint64_t b = 0; b < d->nbuckets; b++)
        free(d->buckets[b].counts);
    free(d->buckets);
    pinhole_config_free(&d->cfg);
    memset(d, 0, sizeof *d);
}

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS jobs("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, collection_id INTEGER NOT NULL, type TEXT NOT NULL,"
    " t_from INTEGER NOT NULL, t_to INTEGER NOT NULL, params TEXT NOT NULL, status TEXT NOT NULL,"
    " progress REAL NOT NULL DEFAULT 0, time_limit REAL NOT NULL, created REAL NOT NULL,"
    " started REAL, finished REAL, result TEXT, error TEXT, attempts INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs(status, id);";

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 10000);
    if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, NULL) !=
        SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* Run one statement with bindings given by a format: 'i' int64, 'd' double, 't' text (NULL binds
 * NULL). Returns SQLITE_OK on success, else the SQLite error code. */
static int exec_bind(sqlite3 *db, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    for (int i = 0; fmt[i]; i++) {
        if (fmt[i] == 'i') {
            sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        } else if (fmt[i] == 'd') {
            sqlite3_bind_double(st, i + 1, va_arg(ap, double));
        } else {
            const char *s = va_arg(ap, const char *);
            if (s)
                sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT);
            else
                sqlite3_bind_null(st, i + 1);
        }
    }
    va_end(ap);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

int pinhole_job_progress_fn(void *ctl, double fraction)
{
    return pinhole_job_progress(ctl, fraction);
}

int pinhole_job_progress(pinhole_job_ctl *ctl, double fraction)
{
    const double t = now_s();
    if (t > ctl->deadline) {
        ctl->timed_out = 1;
        return 1;
    }
    if (atomic_load(&ctl->w->cancel) || atomic_load(&ctl->J->stop))
        return 1;
    if (t - ctl->last_write >= 0.5) {
        ctl->last_write = t;
        if (!(fraction >= 0))
            fraction = 0;
        exec_bind(ctl->db, "UPDATE jobs SET progress = ? WHERE id = ?", "di",
                  fraction > 1 ? 1.0 : fraction, ctl->id);
    }
    return 0;
}

/* Claim the oldest queued job; 1 if one was claimed (fields filled), 0 if none, -1 on error. */
static int claim(sqlite3 *db, int64_t *id, int64_t *coll, char **type, int64_t *from, int64_t *to,
                 char **params, double *limit)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "UPDATE jobs SET status = 'running', started = ?, progress = 0,"
                           " attempts = attempts + 1 WHERE id = (SELECT id FROM jobs WHERE status ="
                           " 'queued' ORDER BY id LIMIT 1)"
                           " RETURNING id, collection_id, type, t_from, t_to, params, time_limit",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_double(st, 1, now_s());
    int rc = sqlite3_step(st), got = 0;
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        *coll = sqlite3_column_int64(st, 1);
        *type = strdup((const char *)sqlite3_column_text(st, 2));
        *from = sqlite3_column_int64(st, 3);
        *to = sqlite3_column_int64(st, 4);
        *params = strdup((const char *)sqlite3_column_text(st, 5));
        *limit = sqlite3_column_double(st, 6);
        got = 1;
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    return got;
}

static void run_one(pinhole_jobs *J, worker *w, sqlite3 *db, int64_t id, int64_t coll,
                    const char *type_name, int64_t from, int64_t to, const char *params_text,
                    double limit)
{
    char err[512] = "";
    json_t *result = NULL, *params = NULL;
    pinhole_job_data data;
    memset(&data, 0, sizeof data);
    pinhole_job_ctl ctl = {
        .J = J, .w = w, .db = db, .id = id, .deadline = now_s() + limit, .last_write = 0};
    int rc;
    const pinhole_job_type *type = pinhole_job_type_find(type_name);
    params = json_loads(params_text, 0, NULL);
    if (!type || !json_is_object(params)) {
        rc = PINHOLE_EINVAL;
        snprintf(err, sizeof err, "unknown job type or unreadable parameters");
    } else if (type->needs_data &&
               (rc = J->opt.loader(J->opt.loader_ctx, coll, from, to, type->needs_data == 2,
                                   &data)) != PINHOLE_OK) {
        snprintf(err, sizeof err, "cannot read the collection's counts: %s",
                 rc == PINHOLE_ETOOBIG ? "the range holds too many time buckets for this job "
                                         "(their count vectors would pass 512 MiB); narrow it"
                                       : pinhole_strerror(rc));
    } else {
        data.workspace = w->ws;
        rc = type->run(type->needs_data ? &data : NULL, params, &ctl, &result, err, sizeof err);
    }
    char *text = rc == PINHOLE_OK && result ? json_dumps(result, JSON_COMPACT) : NULL;
    if (rc == PINHOLE_OK && !text) {
        rc = PINHOLE_ENOMEM;
        snprintf(err, sizeof err, "cannot serialise the result");
    }
    const double t = now_s();
    if (rc == PINHOLE_OK) {
        exec_bind(
            db,
            "UPDATE jobs SET status = 'done', progress = 1, finished = ?, result = ?, error = NULL"
            " WHERE id = ?",
            "dti", t, text, id);
    } else if (atomic_load(&w->cancel)) {
        exec_bind(db,
                  "UPDATE jobs SET status = 'canceled', finished = ?, error = NULL WHERE id = ?",
                  "di", t, id);
    } else if (ctl.timed_out || (rc == PINHOLE_ECANCELED && t > ctl.deadline)) {
        char msg[128];
        snprintf(msg, sizeof msg, "time limit of %g s exceeded", limit);
        exec_bind(db, "UPDATE jobs SET status = 'failed', finished = ?, error = ? WHERE id = ?",
                  "dti", t, msg, id);
    } else if (atomic_load(&J->stop)) { /* shutting down: run it again at the next start */
        exec_bind(db,
                  "UPDATE jobs SET status = 'queued', progress = 0, started = NULL WHERE id = ?",
                  "i", id);
    } else {
        if (!err[0])
            snprintf(err, sizeof err, "%s", pinhole_strerror(rc));
        exec_bind(db, "UPDATE jobs SET status = 'failed', finished = ?, error = ? WHERE id = ?",
                  "dti", t, err, id);
    }
    pthread_mutex_lock(&J->mu);
    w->job = 0;
    atomic_store(&w->cancel, 0);
    pthread_cond_broadcast(&J->done);
    pthread_mutex_unlock(&J->mu);
    free(text);
    json_decref(result);
    json_decref(params);
    pinhole_job_data_free(&data);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    pinhole_jobs *J = w->J;
    sqlite3 *db = open_db(J->db_path);
    w->ws = pinhole_pgr_workspace_new(); /* NULL: each job takes a temporary one */
    pthread_mutex_lock(&J->mu);
    while (db && !atomic_load(&J->stop)) {
        int64_t id = 0, coll = 0, from = 0, to = 0;
        char *type = NULL, *params = NULL;
        double limit = 0;
        /* the claim is a database write that may wait for the store's writer: not under J->mu,
         * which the HTTP threads take; claiming tells pinhole_jobs_cancel() to wait for it */
        w->claiming = 1;
        pthread_mutex_unlock(&J->mu);
        const int got = claim(db, &id, &coll, &type, &from, &to, &params, &limit);
        pthread_mutex_lock(&J->mu);
        w->claiming = 0;
        if (got == 1)
            w->job = id;
        pthread_cond_broadcast(&J->done);
        if (got != 1) {
            /* nothing queued (or the database is busy): sleep until a submit or 1 s */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            if (!atomic_load(&J->stop))
                pthread_cond_timedwait(&J->work, &J->mu, &ts);
            continue;
        }
        pthread_mutex_unlock(&J->mu);
        if (type && params)
            run_one(J, w, db, id, coll, type, from, to, params, limit);
        free(type);
        free(params);
        pthread_mutex_lock(&J->mu);
    }
    pthread_mutex_unlock(&J->mu);
    sqlite3_close(db);
    pinhole_pgr_workspace_free(w->ws);
    w->ws = NULL;
    return NULL;
}

int pinhole_jobs_open(pinhole_jobs **out, const pinhole_jobs_options *opt)
{
    *out = NULL;
    if (!opt || !opt->db_path || !opt->loader)
        return PINHOLE_EINVAL;
    pinhole_jobs *J = calloc(1, sizeof *J);
    if (!J)
        return PINHOLE_ENOMEM;
    J->opt = *opt;
    J->nworkers = opt->workers ? opt->workers : 1;
    if (!(J->opt.time_limit_s > 0))
        J->opt.time_limit_s = 600;
    J->db_path = strdup(opt->db_path);
    J->workers = calloc(J->nworkers, sizeof *J->workers);
    if (!J->db_path || !J->workers) {
        free(J->db_path);
        free(J->workers);
        free(J);
        return PINHOLE_ENOMEM;
    }
    J->db = open_db(J->db_path);
    if (!J->db || sqlite3_exec(J->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
        /* a job left running by a process that died is run again, but one whose cancellation
         * was asked for is canceled, and one that was started PINHOLE_JOB_ATTEMPTS times already
         * (it may be what kills the process) fails */
        sqlite3_exec(
            J->db,
            "UPDATE jobs SET status = 'canceled', finished = CAST(strftime('%s', 'now') AS "
            "REAL) WHERE status = 'running' AND error = '" CANCEL_MARK "';"
            "UPDATE jobs SET status = 'failed', finished = CAST(strftime('%s', 'now') AS "
            "REAL), error ="
            " 'the job was started " PINHOLE_JOB_ATTEMPTS_TEXT " times without finishing'"
            " WHERE status = 'running' AND attempts >= " PINHOLE_JOB_ATTEMPTS_TEXT ";"
            "UPDATE jobs SET status = 'queued', progress = 0, started = NULL"
            " WHERE status = 'running'",
            NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(J->db);
        free(J->db_path);
        free(J->workers);
        free(J);
        return PINHOLE_EDB;
    }
    pthread_mutex_init(&J->mu, NULL);
    pthread_mutex_init(&J->db_mu, NULL);
    pthread_cond_init(&J->work, NULL);
    pthread_cond_init(&J->done, NULL);
    for (unsigned i = 0; i < J->nworkers; i++) {
        J->workers[i].J = J;
        pthread_create(&J->workers[i].thread, NULL, worker_main, &J->workers[i]);
    }
    *out = J;
    return PINHOLE_OK;
}

void pinhole_jobs_close(pinhole_jobs *J)
{
    if (!J)
        return;
    pthread_mutex_lock(&J->mu);
    atomic_store(&J->stop, 1);
    pthread_cond_broadcast(&J->work);
    pthread_mutex_unlock(&J->mu);
    for (unsigned i = 0; i < J->nworkers; i++)
        pthread_join(J->workers[i].thread, NULL);
    sqlite3_close(J->db);
    pthread_mutex_destroy(&J->mu);
    pthread_mutex_destroy(&J->db_mu);
    pthread_cond_destroy(&J->work);
    pthread_cond_destroy(&J->done);
    free(J->db_path);
    free(J->workers);
    free(J);
}

int pinhole_jobs_submit(pinhole_jobs *J, int64_t collection_id, const char *type, int64_t from,
                        int64_t to, const json_t *params, int64_t *id)
{
    if (!type || !pinhole_job_type_find(type) || (params && !json_is_object(params)) || from > to)
        return PINHOLE_EINVAL;
    double limit = J->opt.time_limit_s;
    const json_t *tl = params ? json_object_get(params, "time_limit") : NULL;
    if (tl) {
        if (!json_is_number(tl) || !(json_number_value(tl) > 0) || !isfinite(json_number_value(tl)))
            return PINHOLE_EINVAL;
        if (json_number_value(tl) < limit)
            limit = json_number_value(tl);
    }
    json_t *empty = params ? NULL : json_object();
    char *text = json_dumps(params ? params : empty, JSON_COMPACT);
    json_decref(empty);
    if (!text)
        return PINHOLE_ENOMEM;
    pthread_mutex_lock(&J->db_mu);
    int rc = exec_bind(
        J->db,
        "INSERT INTO jobs(collection_id, type, t_from, t_to, params, status, time_limit, created)"
        " VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)",
        "itiitdd", collection_id, type, from, to, text, limit, now_s());
    if (rc == SQLITE_OK)
        *id = sqlite3_last_insert_rowid(J->db);
    pthread_mutex_unlock(&J->db_mu);
    if (rc == SQLITE_OK) /* without J->mu: a wake-up missed here is caught by the 1 s timed wait */
        pthread_cond_signal(&J->work);
    free(text);
    return rc == SQLITE_OK ? PINHOLE_OK : PINHOLE_EDB;
}

static json_t *column_json(sqlite3_stmt *st, int col)
{
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL:
        return json_null();
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(st, col));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, col));
    default:
        return json_string((const char *)sqlite3_column_text(st, col));
    }
}

/* Status of job id: 1 if found (status copied), 0 if not, -1 on error. Takes db_mu. */
static int job_status(pinhole_jobs *J, int64_t id, char *status, size_t len)
{
    sqlite3_stmt *st;
    pthread_mutex_lock(&J->db_mu);
    if (sqlite3_prepare_v2(J->db, "SELECT status FROM jobs WHERE id = ?", -1, &st, NULL) !=
        SQLITE_OK) {
        pthread_mutex_unlock(&J->db_mu);
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        snprintf(status, len, "%s", (const char *)sqlite3_column_text(st, 0));
        found = 1;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&J->db_mu);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : -1;
}

int pinhole_jobs_get(pinhole_jobs *J, int64_t id, json_t **out)
{
    *out = NULL;
    pthread_mutex_lock(&J->db_mu);
    sqlite3_stmt *st;
    int rc = PINHOLE_EDB;
    if (sqlite3_prepare_v2(
            J->db,
            "SELECT id, collection_id, type, t_from, t_to, params, status, progress, created,"
            " started, finished, result, error FROM jobs WHERE id = ?",
            -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW) {
            json_t *o = json_object();
            static const char *names[] = {"id", "collection_id", "type", "from", "to"};
            for (int i = 0; i < 5; i++)
                json_object_set_new(o, names[i], column_json(st, i));
            json_t *params = json_loads((const char *)sqlite3_column_text(st, 5), 0, NULL);
            json_object_set_new(o, "params", params ? params : json_object());
            json_object_set_new(o, "status", column_json(st, 6));
            json_object_set_new(o, "progress", json_real(sqlite3_column_double(st, 7)));
            json_object_set_new(o, "created", column_json(st, 8));
            json_object_set_new(o, "started", column_json(st, 9));
            json_object_set_new(o, "finished", column_json(st, 10));
            if (sqlite3_column_type(st, 11) != SQLITE_NULL) {
                json_t *res = json_loads((const char *)sqlite3_column_text(st, 11), 0, NULL);
                json_object_set_new(o, "result", res ? res : json_null());
            }
            if (sqlite3_column_type(st, 12) != SQLITE_NULL)
                json_object_set_new(o, "error", column_json(st, 12));
            *out = o;
            rc = PINHOLE_OK;
        } else if (s == SQLITE_DONE) {
            rc = PINHOLE_ENOTFOUND;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&J->db_mu);
    return rc;
}

int pinhole_jobs_cancel(pinhole_jobs *J, int64_t id)
{
    char status[16];
    int rc = PINHOLE_OK;
    pthread_mutex_lock(&J->mu);
    for (;;) {
        const int found = job_status(J, id, status, sizeof status);
        if (found < 0) {
            rc = PINHOLE_EDB;
        } else if (!found) {
            rc = PINHOLE_ENOTFOUND;
        } else if (strcmp(status, "queued") == 0) {
            pthread_mutex_lock(&J->db_mu);
            if (exec_bind(J->db,
                          "UPDATE jobs SET status = 'canceled', finished = ? WHERE id = ? AND"
                          " status = 'queued'",
                          "di", now_s(), id) != SQLITE_OK)
                rc = PINHOLE_EDB;
            pthread_mutex_unlock(&J->db_mu);
            pthread_cond_broadcast(&J->done);
        } else if (strcmp(status, "running") == 0) {
            int mine = 0, claiming = 0;
            for (unsigned i = 0; i < J->nworkers; i++) {
                claiming |= J->workers[i].claiming;
                if (J->workers[i].job == id) {
                    atomic_store(&J->workers[i].cancel, 1);
                    mine = 1;
                }
            }
            if (!mine && claiming) { /* a worker may be taking this very job: wait for it */
                pthread_cond_wait(&J->done, &J->mu);
                continue;
            }
            pthread_mutex_lock(&J->db_mu);
            if (mine) /* remembered, so a restart before the job stops does not run it again */
                exec_bind(J->db, "UPDATE jobs SET error = '" CANCEL_MARK "' WHERE id = ?", "i", id);
            else /* running in no worker of ours (a stale row): settle it here */
                exec_bind(J->db, "UPDATE jobs SET status = 'canceled', finished = ? WHERE id = ?",
                          "di", now_s(), id);
            pthread_mutex_unlock(&J->db_mu);
        }
        break;
    }
    pthread_mutex_unlock(&J->mu);
    return rc;
}

int pinhole_jobs_wait(pinhole_jobs *J, int64_t id, double timeout_s)
{
    const double end = now_s() + timeout_s;
    int rc = PINHOLE_ETIMEOUT;
    pthread_mutex_lock(&J->mu);
    for (;;) {
        char status[16];
        int found = job_status(J, id, status, sizeof status);
        if (found <= 0) {
            rc = found < 0 ? PINHOLE_EDB : PINHOLE_ENOTFOUND;
            break;
        }
        if (strcmp(status, "queued") != 0 && strcmp(status, "running") != 0) {
            rc = PINHOLE_OK;
            break;
        }
        const double t = now_s();
        if (t >= end)
            break;
        const double until = fmin(end, t + 0.2);
        struct timespec ts;
        ts.tv_sec = (time_t)until;
        ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
        pthread_cond_timedwait(&J->done, &J->mu, &ts);
    }
    pthread_mutex_unlock(&J->mu);
    return rc;
}
