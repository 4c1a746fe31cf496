/* The job runner: worker threads over the store's job queue, progress, time limits (on the
 * monotonic clock), cancellation, restart. */
#include "server/jobs/jobs.h"
#include "common/clock.h"
#include "common/error.h"
#include "server/log/log.h"
#include "server/store/store.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Starts of a job before a restart gives up on it. */
#define PINHOLE_JOB_ATTEMPTS 3

typedef struct worker {
    struct pinhole_jobs *J;
    pthread_t thread;
    pinhole_store *store;      /* the worker's own handle: claims, progress, results */
    int64_t job;               /* running job id, 0 when idle (guarded by J->mu) */
    int claiming;              /* between taking a job in the store and setting job (J->mu) */
    atomic_int cancel;         /* set by pinhole_jobs_cancel() for the running job */
    pinhole_pgr_workspace *ws; /* the worker thread's reconstruction workspace (its own) */
} worker;

struct pinhole_jobs {
    pinhole_jobs_options opt;
    char *store_url;
    pinhole_store *store; /* for the API calls; guarded by db_mu */
    pthread_mutex_t db_mu;
    pthread_mutex_t mu;  /* the workers' state (job ids, claims) and the condition variables;
                            taken before db_mu when both are needed */
    pthread_cond_t work; /* a job was queued, or stop */
    pthread_cond_t done; /* a job left the running state */
    atomic_int stop;
    unsigned nworkers;
    worker *workers;
    int running; /* the worker threads were started (under mu); 0 while read-only */
    int paused;  /* between pinhole_jobs_pause() and the resume (db_mu held meanwhile; both are
                    called by one thread) */
};

struct pinhole_job_ctl {
    pinhole_jobs *J;
    worker *w;
    int64_t id;
    double deadline;   /* monotonic seconds */
    double last_write; /* monotonic seconds */
    int timed_out;
    int lost; /* the store no longer has the job running under our hand: leave it alone */
};

/* Job stores: SQLite waits up to 10 s for the writer's transactions. */
static const pinhole_store_options store_options = {.busy_ms = 10000};
/* The read-only runner's handle: it writes nothing (not even SQLite's shared WAL index). */
static const pinhole_store_options readonly_options = {
    .readonly = 1, .write_nothing = 1, .busy_ms = 10000};

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

int pinhole_job_progress_fn(void *ctl, double fraction)
{
    return pinhole_job_progress(ctl, fraction);
}

int pinhole_job_progress(pinhole_job_ctl *ctl, double fraction)
{
    const double t = pinhole_clock_mono();
    if (t > ctl->deadline) {
        ctl->timed_out = 1;
        return 1;
    }
    if (!ctl->J) /* run inline (pinhole_job_run_inline): no runner, no queue */
        return 0;
    if (atomic_load(&ctl->w->cancel) || atomic_load(&ctl->J->stop))
        return 1;
    if (t - ctl->last_write >= 0.5) {
        ctl->last_write = t;
        if (!(fraction >= 0))
            fraction = 0;
        /* the store answers whether to go on: a cancel asked through another replica (or another
         * handle) reaches the job here, and a job taken over elsewhere is given up */
        const int rc =
            pinhole_store_job_progress(ctl->w->store, ctl->id, fraction > 1 ? 1.0 : fraction);
        if (rc == PINHOLE_ECANCELED) {
            atomic_store(&ctl->w->cancel, 1);
            return 1;
        }
        if (rc == PINHOLE_ENOTFOUND) {
            ctl->lost = 1;
            return 1;
        }
    }
    return 0;
}

int pinhole_job_run_inline(const pinhole_job_type *type, const pinhole_job_data *data,
                           const json_t *params, double seconds, json_t **result, char *err,
                           size_t errlen)
{
    pinhole_job_ctl ctl = {.deadline = pinhole_clock_mono() + seconds};
    *result = NULL;
    if (!type->run) { /* the host's job: it needs the host (its store, its collections) */
        snprintf(err, errlen, "job type %s runs only in the server's job runner", type->name);
        return PINHOLE_EINVAL;
    }
    return type->run(type->needs_data ? data : NULL, params, &ctl, result, err, errlen);
}

int pinhole_job_load(pinhole_job_ctl *ctl, int64_t collection_id, int64_t from, int64_t to,
                     pinhole_job_data *out)
{
    memset(out, 0, sizeof *out);
    if (!ctl->J) /* run inline (pinhole_job_run_inline): no loader */
        return PINHOLE_ENOTFOUND;
    return ctl->J->opt.loader(ctl->J->opt.loader_ctx, collection_id, from, to, 0, out);
}

static void run_one(pinhole_jobs *J, worker *w, const pinhole_job_record *job)
{
    char err[512] = "";
    json_t *result = NULL, *params = NULL;
    pinhole_job_data data;
    memset(&data, 0, sizeof data);
    pinhole_job_ctl ctl = {.J = J,
                           .w = w,
                           .id = job->id,
                           .deadline = pinhole_clock_mono() + job->time_limit,
                           .last_write = -INFINITY};
    int rc;
    const double started = pinhole_clock_mono();
    pinhole_job_state state = PINHOLE_JOB_FAILED;
    pinhole_log(PINHOLE_LOG_INFO, "job", "ijob", (long long)job->id, "icollection",
                (long long)job->collection_id, "stype", job->type, "sstate", "running", NULL);
    const pinhole_job_type *type = pinhole_job_type_find(job->type);
    params = job->params ? json_loads(job->params, 0, NULL) : NULL;
    if (!type || !json_is_object(params)) {
        rc = PINHOLE_EINVAL;
        snprintf(err, sizeof err, "unknown job type or unreadable parameters");
    } else if (pinhole_job_type_per_collection(type->needs_data) &&
               (rc = J->opt.loader(J->opt.loader_ctx, job->collection_id, job->from, job->to,
                                   type->needs_data == 2, &data)) != PINHOLE_OK) {
        snprintf(err, sizeof err, "cannot read the collection's counts: %s",
                 rc == PINHOLE_ETOOBIG ? "the range holds too many time buckets for this job "
                                         "(their count vectors would pass 512 MiB); narrow it"
                                       : pinhole_strerror(rc));
    } else if (type->run) {
        data.workspace = w->ws;
        rc = type->run(pinhole_job_type_per_collection(type->needs_data) ? &data : NULL, params,
                       &ctl, &result, err, sizeof err);
    } else if (J->opt.host) {
        data.workspace = w->ws;
        rc = J->opt.host(J->opt.host_ctx, type->name, job->collection_id,
                         pinhole_job_type_per_collection(type->needs_data) ? &data : NULL, params,
                         &ctl, &result, err, sizeof err);
    } else {
        rc = PINHOLE_EUNSUPPORTED;
        snprintf(err, sizeof err, "this job type needs the server");
    }
    char *text = rc == PINHOLE_OK && result ? json_dumps(result, JSON_COMPACT) : NULL;
    if (rc == PINHOLE_OK && !text) {
        rc = PINHOLE_ENOMEM;
        snprintf(err, sizeof err, "cannot serialise the result");
    }
    const double wall = pinhole_clock_wall();
    if (ctl.lost) { /* settled or run by another replica: its state is theirs to write */
        snprintf(err, sizeof err, "the job was taken over or settled elsewhere; stopped here");
    } else if (rc == PINHOLE_OK) {
        state = PINHOLE_JOB_DONE;
        pinhole_store_job_finish(w->store, job->id, PINHOLE_JOB_DONE, wall, text, NULL);
    } else if (atomic_load(&w->cancel)) {
        state = PINHOLE_JOB_CANCELED;
        pinhole_store_job_finish(w->store, job->id, PINHOLE_JOB_CANCELED, wall, NULL, NULL);
    } else if (ctl.timed_out || (rc == PINHOLE_ECANCELED && pinhole_clock_mono() > ctl.deadline)) {
        char msg[128];
        snprintf(msg, sizeof msg, "time limit of %g s exceeded", job->time_limit);
        snprintf(err, sizeof err, "%s", msg);
        pinhole_store_job_finish(w->store, job->id, PINHOLE_JOB_FAILED, wall, NULL, msg);
    } else if (atomic_load(&J->stop)) { /* shutting down: run it again at the next start */
        state = PINHOLE_JOB_QUEUED;
        pinhole_store_job_finish(w->store, job->id, PINHOLE_JOB_QUEUED, wall, NULL, NULL);
    } else {
        if (!err[0])
            snprintf(err, sizeof err, "%s", pinhole_strerror(rc));
        pinhole_store_job_finish(w->store, job->id, PINHOLE_JOB_FAILED, wall, NULL, err);
    }
    const int failed = state == PINHOLE_JOB_FAILED; /* or lost */
    pinhole_log(failed ? PINHOLE_LOG_WARN : PINHOLE_LOG_INFO, "job", "ijob", (long long)job->id,
                "icollection", (long long)job->collection_id, "stype", job->type, "sstate",
                ctl.lost ? "lost" : pinhole_job_state_name(state), "fseconds",
                pinhole_clock_mono() - started, "serror", failed ? err : NULL, NULL);
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
    w->ws = pinhole_pgr_workspace_new(); /* NULL: each job takes a temporary one */
    pthread_mutex_lock(&J->mu);
    while (w->store && !atomic_load(&J->stop)) {
        pinhole_job_record job;
        /* the claim is a store write that may wait for the store's writer: not under J->mu,
         * which the HTTP threads take; claiming tells pinhole_jobs_cancel() to wait for it */
        w->claiming = 1;
        pthread_mutex_unlock(&J->mu);
        const int got = pinhole_store_job_claim(w->store, pinhole_clock_wall(), &job);
        pthread_mutex_lock(&J->mu);
        w->claiming = 0;
        if (got == PINHOLE_OK)
            w->job = job.id;
        pthread_cond_broadcast(&J->done);
        if (got != PINHOLE_OK) {
            /* nothing queued (or the store is busy): sleep until a submit or 1 s */
            const struct timespec ts = pinhole_clock_after(1.0);
            if (!atomic_load(&J->stop))
                pthread_cond_timedwait(&J->work, &J->mu, &ts);
            continue;
        }
        pthread_mutex_unlock(&J->mu);
        run_one(J, w, &job);
        pinhole_job_record_free(&job);
        pthread_mutex_lock(&J->mu);
    }
    pthread_mutex_unlock(&J->mu);
    pinhole_pgr_workspace_free(w->ws);
    w->ws = NULL;
    return NULL;
}

/* Open the writable handles: *api for the API calls, one per worker into J->workers[i].store
 * (NULL then), after settling the jobs a previous process left running. On error nothing is
 * left open. PINHOLE_ENOSPACE, PINHOLE_EDB. */
static int open_writable(pinhole_jobs *J, pinhole_store **api)
{
    int rc = pinhole_store_open(api, J->store_url, &store_options);
    if (rc == PINHOLE_OK)
        rc = pinhole_store_jobs_recover(*api, pinhole_clock_wall(), PINHOLE_JOB_ATTEMPTS);
    /* every worker has its own handle; opened here, so that a failure is reported */
    for (unsigned i = 0; i < J->nworkers && rc == PINHOLE_OK; i++)
        rc = pinhole_store_open(&J->workers[i].store, J->store_url, &store_options);
    if (rc == PINHOLE_OK)
        return PINHOLE_OK;
    for (unsigned i = 0; i < J->nworkers; i++) {
        pinhole_store_close(J->workers[i].store);
        J->workers[i].store = NULL;
    }
    pinhole_store_close(*api);
    *api = NULL;
    return rc == PINHOLE_ENOSPACE || rc == PINHOLE_ENOMEM ? rc : PINHOLE_EDB;
}

/* Start the worker threads (J->mu held). */
static void start_workers(pinhole_jobs *J)
{
    for (unsigned i = 0; i < J->nworkers; i++) {
        J->workers[i].J = J;
        pthread_create(&J->workers[i].thread, NULL, worker_main, &J->workers[i]);
    }
    J->running = 1;
}

int pinhole_jobs_open(pinhole_jobs **out, const pinhole_jobs_options *opt)
{
    *out = NULL;
    if (!opt || !opt->store_url || !opt->loader)
        return PINHOLE_EINVAL;
    pinhole_jobs *J = calloc(1, sizeof *J);
    if (!J)
        return PINHOLE_ENOMEM;
    J->opt = *opt;
    J->nworkers = opt->workers ? opt->workers : 1;
    if (!(J->opt.time_limit_s > 0))
        J->opt.time_limit_s = 600;
    J->store_url = strdup(opt->store_url);
    J->opt.store_url = J->store_url;
    J->workers = calloc(J->nworkers, sizeof *J->workers);
    int rc = J->store_url && J->workers ? PINHOLE_OK : PINHOLE_ENOMEM;
    if (rc == PINHOLE_OK && opt->readonly) {
        rc = pinhole_store_open(&J->store, J->store_url, &readonly_options);
        rc = rc == PINHOLE_OK || rc == PINHOLE_ENOMEM ? rc : PINHOLE_EDB;
    } else if (rc == PINHOLE_OK) {
        rc = open_writable(J, &J->store);
    }
    if (rc != PINHOLE_OK) {
        free(J->store_url);
        free(J->workers);
        free(J);
        return rc;
    }
    pthread_mutex_init(&J->mu, NULL);
    pthread_mutex_init(&J->db_mu, NULL);
    pthread_cond_init(&J->work, NULL);
    pthread_cond_init(&J->done, NULL);
    if (!opt->readonly)
        start_workers(J);
    *out = J;
    return PINHOLE_OK;
}

void pinhole_jobs_pause(pinhole_jobs *J)
{
    pthread_mutex_lock(&J->mu);
    const int running = J->running;
    pthread_mutex_unlock(&J->mu);
    if (running || J->paused)
        return;
    pthread_mutex_lock(&J->db_mu); /* held until the resume: the API calls wait */
    pinhole_store_close(J->store);
    J->store = NULL;
    J->paused = 1;
}

int pinhole_jobs_resume(pinhole_jobs *J, int writable)
{
    if (!J->paused)
        return PINHOLE_OK;
    int rc;
    if (writable) {
        rc = open_writable(J, &J->store);
        if (rc != PINHOLE_OK)
            return rc; /* still paused */
        J->opt.readonly = 0;
    } else {
        rc = pinhole_store_open(&J->store, J->store_url, &readonly_options);
        rc = rc == PINHOLE_OK ? rc : PINHOLE_EDB;
    }
    J->paused = 0;
    pthread_mutex_unlock(&J->db_mu);
    if (writable) { /* J->mu after db_mu is released: the order elsewhere is mu, then db_mu */
        pthread_mutex_lock(&J->mu);
        if (!atomic_load(&J->stop))
            start_workers(J);
        pthread_mutex_unlock(&J->mu);
    }
    return rc;
}

void pinhole_jobs_close(pinhole_jobs *J)
{
    if (!J)
        return;
    pthread_mutex_lock(&J->mu);
    atomic_store(&J->stop, 1);
    pthread_cond_broadcast(&J->work);
    const int running = J->running;
    pthread_mutex_unlock(&J->mu);
    for (unsigned i = 0; i < J->nworkers; i++) {
        if (running)
            pthread_join(J->workers[i].thread, NULL);
        pinhole_store_close(J->workers[i].store);
    }
    pinhole_store_close(J->store);
    pthread_mutex_destroy(&J->mu);
    pthread_mutex_destroy(&J->db_mu);
    pthread_cond_destroy(&J->work);
    pthread_cond_destroy(&J->done);
    free(J->store_url);
    free(J->workers);
    free(J);
}

int pinhole_jobs_submit(pinhole_jobs *J, int64_t collection_id, const char *type, int64_t from,
                        int64_t to, const json_t *params, int64_t *id)
{
    char why[256];
    if (!type || !pinhole_job_type_find(type) || (params && !json_is_object(params)) || from > to ||
        pinhole_job_params_check(pinhole_job_type_find(type), params, why, sizeof why) !=
            PINHOLE_OK)
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
    pinhole_job_record r = {.collection_id = collection_id,
                            .from = from,
                            .to = to,
                            .params = text,
                            .time_limit = limit,
                            .created = pinhole_clock_wall()};
    snprintf(r.type, sizeof r.type, "%s", type);
    pthread_mutex_lock(&J->db_mu);
    int rc = J->opt.readonly ? PINHOLE_ENOSPACE
             : J->store      ? pinhole_store_job_enqueue(J->store, &r, id)
                             : PINHOLE_EDB;
    pthread_mutex_unlock(&J->db_mu);
    if (rc == PINHOLE_OK)
        pinhole_log(PINHOLE_LOG_INFO, "job", "ijob", (long long)*id, "icollection",
                    (long long)collection_id, "stype", type, "sstate", "queued", NULL);
    if (rc == PINHOLE_OK) /* without J->mu: a wake-up missed here is caught by the 1 s timed wait */
        pthread_cond_signal(&J->work);
    free(text);
    return rc == PINHOLE_OK || rc == PINHOLE_ENOSPACE ? rc : PINHOLE_EDB;
}

/* State of job id (PINHOLE_OK, PINHOLE_ENOTFOUND or PINHOLE_EDB). Takes db_mu. */
static int job_state(pinhole_jobs *J, int64_t id, pinhole_job_state *st)
{
    pthread_mutex_lock(&J->db_mu);
    const int rc = J->store ? pinhole_store_job_state(J->store, id, st) : PINHOLE_EDB;
    pthread_mutex_unlock(&J->db_mu);
    return rc == PINHOLE_OK || rc == PINHOLE_ENOTFOUND ? rc : PINHOLE_EDB;
}

static json_t *time_json(double t)
{
    return isnan(t) ? json_null() : json_real(t);
}

/* A stored job as the API shows it; the result when the record holds one. */
static json_t *record_json(const pinhole_job_record *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(r->id));
    /* collection 0: an offline solver's job (collection ids start at 1) */
    json_object_set_new(o, "collection_id",
                        r->collection_id ? json_integer(r->collection_id) : json_null());
    json_object_set_new(o, "type", json_string(r->type));
    json_object_set_new(o, "from", json_integer(r->from));
    json_object_set_new(o, "to", json_integer(r->to));
    json_t *params = r->params ? json_loads(r->params, 0, NULL) : NULL;
    json_object_set_new(o, "params", params ? params : json_object());
    json_object_set_new(o, "status", json_string(pinhole_job_state_name(r->state)));
    json_object_set_new(o, "progress", json_real(r->progress));
    json_object_set_new(o, "created", time_json(r->created));
    json_object_set_new(o, "started", time_json(r->started));
    json_object_set_new(o, "finished", time_json(r->finished));
    if (r->result) {
        json_t *res = json_loads(r->result, 0, NULL);
        json_object_set_new(o, "result", res ? res : json_null());
    }
    if (r->error)
        json_object_set_new(o, "error", json_string(r->error));
    return o;
}

int pinhole_jobs_get(pinhole_jobs *J, int64_t id, json_t **out)
{
    *out = NULL;
    pinhole_job_record r;
    pthread_mutex_lock(&J->db_mu);
    int rc = J->store ? pinhole_store_job_get(J->store, id, &r) : PINHOLE_EDB;
    pthread_mutex_unlock(&J->db_mu);
    if (rc != PINHOLE_OK)
        return rc == PINHOLE_ENOTFOUND || rc == PINHOLE_ENOMEM ? rc : PINHOLE_EDB;
    *out = record_json(&r);
    pinhole_job_record_free(&r);
    return *out ? PINHOLE_OK : PINHOLE_ENOMEM;
}

int pinhole_jobs_list(pinhole_jobs *J, int64_t collection, uint64_t offset, uint32_t limit,
                      json_t **out)
{
    *out = NULL;
    pinhole_job_record *a;
    size_t n;
    uint64_t total;
    pthread_mutex_lock(&J->db_mu);
    int rc = J->store ? pinhole_store_job_list(J->store, collection, offset, limit, &a, &n, &total)
                      : PINHOLE_EDB;
    pthread_mutex_unlock(&J->db_mu);
    if (rc != PINHOLE_OK)
        return rc == PINHOLE_ENOMEM ? rc : PINHOLE_EDB;
    json_t *jobs = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(jobs, record_json(&a[i]));
        pinhole_job_record_free(&a[i]);
    }
    free(a);
    *out = json_pack("{s:o, s:I, s:I, s:I}", "jobs", jobs, "total", (json_int_t)total, "offset",
                     (json_int_t)offset, "limit", (json_int_t)limit);
    return *out ? PINHOLE_OK : PINHOLE_ENOMEM;
}

int pinhole_jobs_cancel(pinhole_jobs *J, int64_t id)
{
    pinhole_job_state st;
    int rc = PINHOLE_OK;
    pthread_mutex_lock(&J->mu);
    for (;;) {
        rc = job_state(J, id, &st);
        if (rc != PINHOLE_OK)
            break;
        if (st == PINHOLE_JOB_QUEUED) {
            pthread_mutex_lock(&J->db_mu);
            if (pinhole_store_job_cancel_queued(J->store, id, pinhole_clock_wall()) != PINHOLE_OK)
                rc = PINHOLE_EDB;
            pthread_mutex_unlock(&J->db_mu);
            if (rc == PINHOLE_OK)
                pinhole_log(PINHOLE_LOG_INFO, "job", "ijob", (long long)id, "sstate", "canceled",
                            NULL);
            pthread_cond_broadcast(&J->done);
        } else if (st == PINHOLE_JOB_RUNNING) {
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
            /* remembered in the store: the holder, ours or another replica's, stops at its next
             * progress report, and a restart before the job stops does not run it again */
            pthread_mutex_lock(&J->db_mu);
            if (pinhole_store_job_request_cancel(J->store, id) != PINHOLE_OK)
                rc = PINHOLE_EDB;
            else if (!mine) /* running in no worker of ours: settled here when nobody holds it
                             * (a stale row); the store refuses while another replica's lease on
                             * it lasts, and that replica stops it */
                pinhole_store_job_finish(J->store, id, PINHOLE_JOB_CANCELED, pinhole_clock_wall(),
                                         NULL, NULL);
            pthread_mutex_unlock(&J->db_mu);
        }
        break;
    }
    pthread_mutex_unlock(&J->mu);
    return rc;
}

int pinhole_jobs_wait(pinhole_jobs *J, int64_t id, double timeout_s)
{
    const double end = pinhole_clock_mono() + timeout_s;
    int rc = PINHOLE_ETIMEOUT;
    pthread_mutex_lock(&J->mu);
    for (;;) {
        pinhole_job_state st;
        const int found = job_state(J, id, &st);
        if (found != PINHOLE_OK) {
            rc = found;
            break;
        }
        if (st != PINHOLE_JOB_QUEUED && st != PINHOLE_JOB_RUNNING) {
            rc = PINHOLE_OK;
            break;
        }
        const double t = pinhole_clock_mono();
        if (t >= end)
            break;
        const struct timespec ts = pinhole_clock_after(fmin(end - t, 0.2));
        pthread_cond_timedwait(&J->done, &J->mu, &ts);
    }
    pthread_mutex_unlock(&J->mu);
    return rc;
}
