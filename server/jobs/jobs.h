/* The analytics job runner: jobs are kept in the store's job queue (server/store/store.h), run by
 * worker threads, with progress, a time limit and cancellation; a job running when the process
 * died is re-run at the next start.
 *
 * A job reads the report counts of one collection over a time range (through a loader the server
 * supplies, so this layer has no knowledge of how reports are stored) and runs one job type from
 * the registry (server/jobs/types.c). No HTTP here. All calls are thread-safe. */
#ifndef PINHOLE_SERVER_JOBS_H
#define PINHOLE_SERVER_JOBS_H

#include "common/mechanism.h"
#include "server/estimate/pgr.h"

#include <jansson.h>
#include <stdint.h>

/** One time bucket's counts (for jobs that follow estimates over time). */
typedef struct pinhole_job_bucket {
    int64_t time;     /* bucket start, Unix seconds */
    uint64_t n;       /* reports in the bucket */
    uint64_t *counts; /* cfg.counts_len report counts (malloc'd) */
} pinhole_job_bucket;

/** What a job reads: a collection's configuration and its counts over the job's time range. */
typedef struct pinhole_job_data {
    pinhole_config cfg; /* the collection's mechanism configuration (owned; freed with the data) */
    uint64_t *counts;   /* cfg.counts_len report counts over the whole range (malloc'd) */
    uint64_t n;         /* number of reports in the range */
    char **labels;      /* cfg.k item labels (malloc'd strings), or NULL */
    uint64_t nbuckets;  /* time buckets with reports, in time order (only when asked) */
    pinhole_job_bucket *buckets;
    pinhole_pgr_workspace *workspace; /* the running worker's reconstruction workspace, kept
                                       * across its jobs (set by the runner; not owned, not freed
                                       * with the data) */
} pinhole_job_data;

/** Free what a loader filled in; safe on a zeroed struct. */
void pinhole_job_data_free(pinhole_job_data *d);

/** Supplied by the server: fill *out with collection_id's configuration and counts of the reports
 * whose time lies in [from, to) (Unix seconds; from = INT64_MIN and to = INT64_MAX for
 * unbounded), and with buckets set, also the per-bucket counts. Returns PINHOLE_OK,
 * PINHOLE_ENOTFOUND for an unknown collection, or another PINHOLE_E* code. */
typedef int (*pinhole_job_loader)(void *ctx, int64_t collection_id, int64_t from, int64_t to,
                                  int buckets, pinhole_job_data *out);

/** Control handed to a running job. */
typedef struct pinhole_job_ctl pinhole_job_ctl;

/** The analytics modules' progress callback (server/analytics/progress.h) for a running job:
 * use as pinhole_progress{pinhole_job_progress_fn, ctl}. */
int pinhole_job_progress_fn(void *ctl, double fraction);

/** Report progress (fraction in [0, 1]). Returns nonzero when the job must stop now: it was
 * cancelled or it passed its time limit. Long jobs call it at least every ~0.1 s. */
int pinhole_job_progress(pinhole_job_ctl *ctl, double fraction);

/** A job type's body: read data (NULL when the type needs no collection data) and params (a JSON
 * object), write a JSON result into *result (a new reference). On failure return a PINHOLE_E*
 * code and put a message for the analyst into err. Return PINHOLE_ECANCELED when
 * pinhole_job_progress() asked to stop. */
typedef int (*pinhole_job_fn)(const pinhole_job_data *data, const json_t *params,
                              pinhole_job_ctl *ctl, json_t **result, char *err, size_t errlen);

/** Supplied by the server: the body of a job type whose run is NULL, one that changes the
 * server's own state (advancing a discovery collection's round), called as a pinhole_job_fn with
 * the job's type name and collection first. */
typedef int (*pinhole_job_host_fn)(void *ctx, const char *type, int64_t collection_id,
                                   const pinhole_job_data *data, const json_t *params,
                                   pinhole_job_ctl *ctl, json_t **result, char *err, size_t errlen);

/** Load another collection's counts over [from, to) through the runner's loader, from inside a
 * job (PINHOLE_JOB_NAMED types). Errors: the loader's (PINHOLE_ENOTFOUND, ...). Free *out with
 * pinhole_job_data_free(). */
int pinhole_job_load(pinhole_job_ctl *ctl, int64_t collection_id, int64_t from, int64_t to,
                     pinhole_job_data *out);

/* What a job type reads (pinhole_job_type.needs_data). */
enum {
    PINHOLE_JOB_NO_DATA = 0,  /* an offline solver: its inputs are all in its parameters */
    PINHOLE_JOB_COUNTS = 1,   /* the counts of the collection it is posted under */
    PINHOLE_JOB_BUCKETS = 2,  /* the same, per time bucket */
    PINHOLE_JOB_NAMED = 3,    /* the collections its parameters name, through pinhole_job_load() */
    PINHOLE_JOB_ANYWHERE = 4, /* nothing, and posted either way (sleep, for checking the runner) */
};

/** Whether jobs of this type are posted under one collection (else to /v1/jobs). */
static inline int pinhole_job_type_per_collection(int needs_data)
{
    return needs_data == PINHOLE_JOB_COUNTS || needs_data == PINHOLE_JOB_BUCKETS;
}

typedef struct pinhole_job_type {
    const char *name;    /* as in the API: "reconstruct", "project", ... */
    int needs_data;      /* PINHOLE_JOB_NO_DATA, _COUNTS, _BUCKETS or _NAMED */
    pinhole_job_fn run;  /* NULL: the host's job (pinhole_jobs_options.host) */
    const char *summary; /* one line for listings */
    const char *params;  /* the members params may have, space-separated ("time_limit" is
                          * every type's) */
} pinhole_job_type;

/** Check that every member of params (a JSON object, or NULL) is one type accepts. Errors:
 * PINHOLE_EINVAL (an unknown member: err names it and the known ones). */
int pinhole_job_params_check(const pinhole_job_type *type, const json_t *params, char *err,
                             size_t errlen);

/** The job type called name, or NULL. */
const pinhole_job_type *pinhole_job_type_find(const char *name);

/** Run a job type on this thread, without a runner or database: the job stops (PINHOLE_ECANCELED)
 * at its first progress check after seconds (0: at the first check, so only the parameters are
 * read and checked). data is used when the type needs it. As pinhole_job_fn otherwise; a type
 * the host runs (run NULL, e.g. a discovery round) gives PINHOLE_EINVAL with err set. */
int pinhole_job_run_inline(const pinhole_job_type *type, const pinhole_job_data *data,
                           const json_t *params, double seconds, json_t **result, char *err,
                           size_t errlen);

/** All job types; *n receives their number. */
const pinhole_job_type *pinhole_job_types(size_t *n);

typedef struct pinhole_jobs pinhole_jobs;

typedef struct pinhole_jobs_options {
    const char *store_url;     /* the store holding the job queue (server/store/store.h) */
    unsigned workers;          /* worker threads; 0 = 1 */
    double time_limit_s;       /* default and maximum time limit per job, seconds; 0 = 600 */
    pinhole_job_loader loader; /* how to read a collection's counts */
    void *loader_ctx;
    pinhole_job_host_fn host; /* the job types with no run of their own; NULL: they fail */
    void *host_ctx;
    int readonly; /* the store cannot be written (its disk is full): jobs are listed and read,
                     none runs, submit and cancel fail, until pinhole_jobs_writable() */
} pinhole_jobs_options;

/** Open the store's job queue (a handle for the API calls and one per worker), settle the jobs a
 * previous process left running (pinhole_store_jobs_recover: queued again, canceled, or failed
 * after 3 starts), and start the workers; with opt->readonly, only the handle for the API calls,
 * opened writing nothing (pinhole_store_options.write_nothing). Errors: PINHOLE_EINVAL (no
 * store_url or loader), PINHOLE_ENOSPACE (the disk is full: settling the jobs could not be
 * written), PINHOLE_EDB (the store cannot be opened or read), PINHOLE_ENOMEM. */
int pinhole_jobs_open(pinhole_jobs **out, const pinhole_jobs_options *opt);

/** Pause a read-only runner (opened with opt->readonly): its store handle is closed and every
 * other call on J waits until pinhole_jobs_resume(). For reopening the store writable: SQLite
 * shares one shared-memory WAL index per file within a process, so a handle opened for writing
 * while a write_nothing one is open would share its read-only index. A no-op on a writable
 * runner. */
void pinhole_jobs_pause(pinhole_jobs *J);

/** End a pause. With writable, open the writable handles, settle the jobs a previous process left
 * running and start the workers: PINHOLE_OK, or PINHOLE_ENOSPACE (the disk is still full),
 * PINHOLE_EDB, PINHOLE_ENOMEM, after which J stays paused (call again with writable 0). Without,
 * reopen the read-only handle and return PINHOLE_OK (PINHOLE_EDB when it cannot be opened: then
 * the read calls fail with PINHOLE_EDB until the next pause and resume). A no-op when J is not
 * paused. */
int pinhole_jobs_resume(pinhole_jobs *J, int writable);

/** Stop the workers (running jobs are asked to stop and left queued, so they re-run at the next
 * open) and close the store handles. Safe on NULL. */
void pinhole_jobs_close(pinhole_jobs *J);

/** Queue a job. collection_id is 0 for an offline solver (a type with needs_data 0), whose job
 * JSON then has "collection_id": null. params may be NULL (= {}); it may hold "time_limit"
 * (seconds, capped at the runner's maximum). Errors: PINHOLE_EINVAL (unknown type, params not an
 * object or with a member the type does not have (pinhole_job_params_check), bad time limit,
 * from > to), PINHOLE_ENOSPACE (a read-only runner), PINHOLE_EDB. *id receives the job id. */
int pinhole_jobs_submit(pinhole_jobs *J, int64_t collection_id, const char *type, int64_t from,
                        int64_t to, const json_t *params, int64_t *id);

/** The job's state as a JSON object {id, collection_id, type, from, to, params, status
 * ("queued" | "running" | "done" | "failed" | "canceled"), progress, created, started, finished
 * (Unix seconds or null), result (when done), error (when failed)}; *out is a new reference.
 * Errors: PINHOLE_ENOTFOUND, PINHOLE_EDB, PINHOLE_ENOMEM. */
int pinhole_jobs_get(pinhole_jobs *J, int64_t id, json_t **out);

/** A page of jobs, newest first, as {"jobs": [job as pinhole_jobs_get() gives it, without
 * "result"], "total", "offset", "limit"}: the jobs of collection (all when collection < 0) after
 * skipping offset, at most limit. Errors: PINHOLE_EDB, PINHOLE_ENOMEM. */
int pinhole_jobs_list(pinhole_jobs *J, int64_t collection, uint64_t offset, uint32_t limit,
                      json_t **out);

/** Cancel a job: a queued job becomes "canceled" at once, a running one is asked to stop and
 * becomes "canceled" when it does, wherever it runs: the request is kept in the store, and the
 * runner holding the job (this one, or another replica's on a shared PostgreSQL) stops it at its
 * next progress report (at most 0.5 s of the job's progress checks apart). A finished job is left
 * as it is. Errors: PINHOLE_ENOTFOUND, PINHOLE_EDB. */
int pinhole_jobs_cancel(pinhole_jobs *J, int64_t id);

/** Wait until the job is no longer queued or running, at most timeout_s seconds. Returns
 * PINHOLE_OK, PINHOLE_ETIMEOUT, PINHOLE_ENOTFOUND or PINHOLE_EDB. */
int pinhole_jobs_wait(pinhole_jobs *J, int64_t id, double timeout_s);

#endif
