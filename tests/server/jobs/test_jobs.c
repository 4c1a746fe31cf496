/* The job runner: results equal the estimator's, errors are reported, cancellation, time limits,
 * and jobs left running by a dead process are run again. */
#include "client/encode.h"
#include "common/error.h"
#include "server/analytics/consistency.h"
#include "server/analytics/two_layer.h"
#include "server/estimate/estimate.h"
#include "server/analytics/corr_repair.h"
#include "server/analytics/multi.h"
#include "server/jobs/jobs.h"

#include <criterion/criterion.h>
#include <math.h>
#include <time.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char db_path[64];

/* Collection 1: PGR with k = 13 (q = 3, t = 3), 2000 reports from a fixed seed; with buckets, the
 * first 1000 in a bucket at time 0 and the rest in one at time 86400. */
static int make_data(pinhole_job_data *out, int buckets)
{
    memset(out, 0, sizeof *out);
    pinhole_config_params par = {
        .mechanism = PINHOLE_MECH_PGR, .k = 13, .epsilon = 1.0, .q = 3, .t = 3};
    int rc = pinhole_config_init(&out->cfg, &par);
    if (rc != PINHOLE_OK)
        return rc;
    out->counts = calloc(out->cfg.counts_len, sizeof *out->counts);
    out->labels = calloc(13, sizeof *out->labels);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 77);
    uint8_t payload[8];
    if (buckets) {
        out->nbuckets = 2;
        out->buckets = calloc(2, sizeof *out->buckets);
        for (int b = 0; b < 2; b++) {
            out->buckets[b].time = 86400 * b;
            out->buckets[b].n = 1000;
            out->buckets[b].counts = calloc(out->cfg.counts_len, sizeof *out->counts);
        }
    }
    for (int i = 0; i < 2000; i++) {
        pinhole_encode(&out->cfg, (uint64_t)(i % 7), &rng, payload, sizeof payload);
        pinhole_accumulate(&out->cfg, payload, out->cfg.payload_bytes, out->counts);
        if (buckets)
            pinhole_accumulate(&out->cfg, payload, out->cfg.payload_bytes,
                               out->buckets[i / 1000].counts);
    }
    out->n = 2000;
    for (int v = 0; v < 13; v++) {
        char b[16];
        snprintf(b, sizeof b, "item%d", v);
        out->labels[v] = strdup(b);
    }
    return PINHOLE_OK;
}

/* Collections 101, 102, 103: the pairs (0,1), (0,2), (1,2) of a multi-attribute collection with
 * k = 2, 3, 4 at epsilon 1, 6000 simulated devices (seed 5), each with one latent factor. */
#define MULTI_BASE 101
static const uint32_t multi_k[3] = {2, 3, 4};

/* The multi-attribute collection into mc (pinhole_multi_clear it) and the counts of its three pairs
 * into counts[0..3) (malloc'd, free them) from the simulated devices. */
static void multi_counts(pinhole_multi *mc, uint64_t **counts)
{
    cr_assert_eq(pinhole_multi_init(mc, MULTI_BASE, 3, multi_k, PINHOLE_MECH_PGR, 1.0), PINHOLE_OK);
    for (int p = 0; p < 3; p++)
        counts[p] = calloc(mc->pairs[p].mech.counts_len, sizeof **counts);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 5);
    for (int u = 0; u < 6000; u++) {
        const double z = pinhole_rng_normal(&rng);
        uint32_t x[3];
        for (int j = 0; j < 3; j++) {
            const double v = 0.9 * z + 0.5 * pinhole_rng_normal(&rng) + multi_k[j] / 2.0;
            x[j] = v < 0 ? 0 : v >= multi_k[j] ? multi_k[j] - 1 : (uint32_t)v;
        }
        cr_assert_eq(pinhole_multi_simulate(mc, x, &rng, counts), PINHOLE_OK);
    }
}

static int multi_data(int64_t coll, pinhole_job_data *out)
{
    memset(out, 0, sizeof *out);
    pinhole_multi mc;
    uint64_t *counts[3];
    multi_counts(&mc, counts);
    const int p = (int)(coll - MULTI_BASE);
    pinhole_config_params par = mc.pairs[p].config.params;
    cr_assert_eq(pinhole_config_init(&out->cfg, &par), PINHOLE_OK);
    out->counts = counts[p];
    for (uint64_t h = 0; h < out->cfg.counts_len; h++)
        out->n += counts[p][h];
    for (int q = 0; q < 3; q++)
        if (q != p)
            free(counts[q]);
    pinhole_multi_clear(&mc);
    return PINHOLE_OK;
}

static int loader(void *ctx, int64_t coll, int64_t from, int64_t to, int buckets,
                  pinhole_job_data *out)
{
    (void)ctx;
    (void)from;
    (void)to;
    if (coll >= MULTI_BASE && coll < MULTI_BASE + 3)
        return multi_data(coll, out);
    if (coll != 1)
        return PINHOLE_ENOTFOUND;
    return make_data(out, buckets);
}

static pinhole_jobs *open_runner(void)
{
    pinhole_jobs *J;
    pinhole_jobs_options opt = {
        .store_url = db_path, .workers = 2, .time_limit_s = 60, .loader = loader};
    cr_assert_eq(pinhole_jobs_open(&J, &opt), PINHOLE_OK);
    return J;
}

static void setup(void)
{
    cr_assert_geq(sodium_init(), 0);
    snprintf(db_path, sizeof db_path, "/tmp/pinhole-jobs-%d.db", (int)getpid());
    unlink(db_path);
}

static void teardown(void)
{
    char p[80];
    unlink(db_path);
    snprintf(p, sizeof p, "%s-wal", db_path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db_path);
    unlink(p);
}

TestSuite(jobs, .init = setup, .fini = teardown, .timeout = 60);

static const char *status_of(pinhole_jobs *J, int64_t id, json_t **job)
{
    cr_assert_eq(pinhole_jobs_get(J, id, job), PINHOLE_OK);
    return json_string_value(json_object_get(*job, "status"));
}

/* Wait up to seconds for job id to end, check it ended with status want; returns the job (a new
 * reference). */
static json_t *ended(pinhole_jobs *J, int64_t id, int seconds, const char *want)
{
    cr_assert_eq(pinhole_jobs_wait(J, id, seconds), PINHOLE_OK);
    json_t *job;
    const char *st = status_of(J, id, &job);
    cr_assert_str_eq(st, want, "job %lld: %s", (long long)id,
                     json_string_value(json_object_get(job, "error")));
    return job;
}

/* Submit a job of type on collection coll (0 for the types that read no reports) for the times
 * [0, to) with params (taken, may be NULL), then as ended(). */
static json_t *job_ended(pinhole_jobs *J, int64_t coll, const char *type, int64_t to,
                         json_t *params, int seconds, const char *want)
{
    int64_t id;
    cr_assert_eq(pinhole_jobs_submit(J, coll, type, 0, to, params, &id), PINHOLE_OK, "%s", type);
    json_decref(params);
    return ended(J, id, seconds, want);
}

/* A sleep job with params left 'running' by a process that died, with attempts and error (NULL
 * for none), written into db behind the runner's back; returns its id. */
static int64_t left_running(sqlite3 *db, const char *params, int attempts, const char *error)
{
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db,
                                    "INSERT INTO jobs(collection_id, type, t_from, t_to, params,"
                                    " status, time_limit, created, attempts, error) VALUES (0,"
                                    " 'sleep', 0, 0, ?, 'running', 60, 0, ?, ?)",
                                    -1, &st, NULL),
                 SQLITE_OK);
    sqlite3_bind_text(st, 1, params, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, attempts);
    if (error)
        sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    return sqlite3_last_insert_rowid(db);
}

/* Wait (up to 3 s) until job id is running. */
static void await_running(pinhole_jobs *J, int64_t id)
{
    json_t *job;
    for (int i = 0; i < 300 && strcmp(status_of(J, id, &job), "running") != 0; i++) {
        json_decref(job);
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    json_decref(job);
}

Test(jobs, reconstruct_equals_estimator)
{
    pinhole_jobs *J = open_runner();
    json_t *job = job_ended(J, 1, "reconstruct", 100, json_pack("{s:i}", "top", 0), 30, "done");
    const json_t *res = json_object_get(job, "result");
    cr_assert_eq(json_integer_value(json_object_get(res, "n")), 2000);
    const json_t *items = json_object_get(res, "items");
    cr_assert_eq(json_array_size(items), 13);

    pinhole_job_data d;
    cr_assert_eq(make_data(&d, 0), PINHOLE_OK);
    double est[13], var[13];
    cr_assert_eq(pinhole_estimate(&d.cfg, d.counts, d.n, est, var), PINHOLE_OK);
    double prev = INFINITY;
    for (size_t i = 0; i < 13; i++) {
        const json_t *it = json_array_get(items, i);
        const json_int_t v = json_integer_value(json_object_get(it, "item"));
        const double e = json_real_value(json_object_get(it, "estimate"));
        cr_assert_eq(e, est[v], "item %d", (int)v);
        cr_assert_leq(e, prev);
        prev = e;
        cr_assert_float_eq(json_real_value(json_object_get(it, "stderr")), sqrt(var[v]), 1e-12);
        char want[16];
        snprintf(want, sizeof want, "item%d", (int)v);
        cr_assert_str_eq(json_string_value(json_object_get(it, "label")), want);
    }
    pinhole_job_data_free(&d);
    json_decref(job);
    pinhole_jobs_close(J);
}

/* Run one job on collection coll (0 for the types that read no reports), wait for it to finish,
 * and return its result (a new reference). */
static json_t *run_job_on(pinhole_jobs *J, int64_t coll, const char *type, json_t *params)
{
    json_t *job = job_ended(J, coll, type, 100, params, 120, "done");
    json_t *res = json_incref(json_object_get(job, "result"));
    json_decref(job);
    return res;
}

static json_t *run_job(pinhole_jobs *J, const char *type, json_t *params)
{
    return run_job_on(J, 1, type, params);
}

static json_t *run_free_job(pinhole_jobs *J, const char *type, json_t *params)
{
    return run_job_on(J, 0, type, params);
}

Test(jobs, analytics_job_types)
{
    pinhole_jobs *J = open_runner();
    pinhole_job_data d;
    cr_assert_eq(make_data(&d, 0), PINHOLE_OK);
    double est[13], var[13], proj[13];
    cr_assert_eq(pinhole_estimate(&d.cfg, d.counts, d.n, est, var), PINHOLE_OK);
    cr_assert_eq(pinhole_simplex_project(est, 13, 2000, proj, NULL), PINHOLE_OK);

    /* project: consistent counts are the projection, summing to n */
    json_t *res = run_job(J, "project", json_pack("{s:i}", "top", 0));
    double sum = 0;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(res, "items"), i, it)
    {
        const json_int_t v = json_integer_value(json_object_get(it, "item"));
        const double c = json_real_value(json_object_get(it, "consistent"));
        cr_assert_float_eq(c, proj[v], 1e-9);
        sum += c;
    }
    cr_assert_float_eq(sum, 2000, 1e-6);
    json_decref(res);

    /* topk_prob: probabilities of the top 3 over all 13 items sum to 3 (1024 samples: exact) */
    res = run_job(J, "topk_prob", json_pack("{s:i, s:i, s:i}", "top", 0, "k", 3, "samples", 1024));
    sum = 0;
    json_array_foreach(json_object_get(res, "items"), i, it)
    {
        const double p = json_real_value(json_object_get(it, "topk_probability"));
        cr_assert(p >= 0 && p <= 1);
        sum += p;
    }
    cr_assert_float_eq(sum, 3.0, 1e-12);
    json_decref(res);

    /* mle: a histogram (non-negative, sums to n) */
    res = run_job(J, "mle", json_pack("{s:i, s:i}", "top", 0, "max_iterations", 50));
    sum = 0;
    json_array_foreach(json_object_get(res, "items"), i, it)
    {
        const double c = json_real_value(json_object_get(it, "consistent"));
        cr_assert_geq(c, 0);
        sum += c;
    }
    cr_assert_float_eq(sum, 2000, 1e-6);
    /* and its run: the iterations, log-likelihood, certified gap and convergence of the same run
     * made directly */
    double xm[13];
    pinhole_mle_result mr;
    const pinhole_mle_options mo = {.max_iterations = 50};
    cr_assert_eq(pinhole_mle(&d.cfg, d.counts, &mo, xm, NULL, &mr, NULL), PINHOLE_OK);
    const json_t *run = json_object_get(res, "mle");
    cr_assert(json_is_object(run));
    cr_assert_eq(json_integer_value(json_object_get(run, "iterations")), (json_int_t)mr.iterations);
    cr_assert_eq(json_real_value(json_object_get(run, "loglik")), mr.loglik);
    cr_assert_eq(json_real_value(json_object_get(run, "gap")), mr.gap);
    cr_assert_eq(json_is_true(json_object_get(run, "converged")), mr.converged);
    cr_assert_eq(mr.converged, mr.gap <= 1e-6 * 2000);
    json_decref(res);

    /* stream with eta_t = 1/t over two equal buckets: the mean of the bucket estimates, which for
     * this affine estimator is half the pooled estimate */
    res = run_job(J, "stream", json_pack("{s:i}", "top", 0));
    cr_assert_eq(json_array_size(json_object_get(res, "buckets")), 2);
    json_array_foreach(json_object_get(res, "items"), i, it)
    {
        const json_int_t v = json_integer_value(json_object_get(it, "item"));
        cr_assert_float_eq(json_real_value(json_object_get(it, "estimate")), est[v] / 2,
                           1e-9 * 2000);
    }
    json_decref(res);
    pinhole_job_data_free(&d);
    pinhole_jobs_close(J);
}

Test(jobs, optimization_job_types)
{
    pinhole_jobs *J = open_runner();
    /* MaxCut SDP of the 5-cycle: 5 (1 + cos(pi/5)) / 2 = 4.5225425; the best cut has 4 edges */
    json_t *w = json_array();
    for (int i = 0; i < 5; i++) {
        json_t *row = json_array();
        for (int j = 0; j < 5; j++)
            json_array_append_new(row, json_real((j == (i + 1) % 5 || i == (j + 1) % 5) ? 1 : 0));
        json_array_append_new(w, row);
    }
    json_t *res = run_free_job(J, "maxcut", json_pack("{s:o}", "weights", w));
    cr_assert_float_eq(json_real_value(json_object_get(res, "sdp_value")), 4.5225424859373686,
                       1e-6);
    cr_assert_float_eq(json_real_value(json_object_get(res, "cut_value")), 4.0, 1e-12);
    cr_assert_geq(
        json_real_value(json_object_get(json_object_get(res, "certificate"), "lambda_min")), -1e-8);
    json_decref(res);

    /* nearest correlation of tridiag(-1, 2, -1), n = 4: NAG g02aa's example */
    json_t *a = json_pack("[[i,i,i,i],[i,i,i,i],[i,i,i,i],[i,i,i,i]]", 2, -1, 0, 0, -1, 2, -1, 0, 0,
                          -1, 2, -1, 0, 0, -1, 2);
    res = run_free_job(J, "nearest_correlation", json_pack("{s:o, s:i}", "matrix", a, "seed", 7));
    const json_t *x = json_object_get(res, "matrix");
#define X(i, j) json_real_value(json_array_get(json_array_get(x, i), j))
    cr_assert_float_eq(X(0, 1), -0.808412498149, 1e-6);
    cr_assert_float_eq(X(0, 2), 0.191587501850, 1e-6);
    cr_assert_float_eq(X(0, 3), 0.106775049026, 1e-6);
    cr_assert_float_eq(X(1, 2), -0.656232694806, 1e-6);
#undef X
    cr_assert_str_eq(json_string_value(json_object_get(res, "method")), "newton");
    cr_assert(json_is_true(json_object_get(res, "certified")));
    json_decref(res);
    /* with weights: Burer-Monteiro; all-ones weights give the same matrix */
    a = json_pack("[[i,i,i,i],[i,i,i,i],[i,i,i,i],[i,i,i,i]]", 2, -1, 0, 0, -1, 2, -1, 0, 0, -1, 2,
                  -1, 0, 0, -1, 2);
    json_t *ones = json_pack("[[i,i,i,i],[i,i,i,i],[i,i,i,i],[i,i,i,i]]", 1, 1, 1, 1, 1, 1, 1, 1, 1,
                             1, 1, 1, 1, 1, 1, 1);
    res = run_free_job(J, "nearest_correlation",
                       json_pack("{s:o, s:o, s:i}", "matrix", a, "weights", ones, "seed", 7));
    cr_assert_str_eq(json_string_value(json_object_get(res, "method")), "burer_monteiro");
    cr_assert_float_eq(
        json_real_value(json_array_get(json_array_get(json_object_get(res, "matrix"), 0), 1)),
        -0.808412498149, 1e-6);
    json_decref(res);

    /* two_layer through the job equals the library call with the same data and options */
    const double xs[8][2] = {{0.1, 0.2}, {-0.2, 0.1}, {0.0, -0.3},  {0.25, 0.0},
                             {0.9, 0.1}, {-0.8, 0.5}, {0.1, -0.95}, {-0.6, -0.7}};
    double X2[16], Y[8];
    json_t *data = json_array();
    for (int i = 0; i < 8; i++) {
        X2[2 * i] = xs[i][0];
        X2[2 * i + 1] = xs[i][1];
        Y[i] = i < 4 ? 1 : -1;
        json_array_append_new(data, json_pack("[f,f,f]", xs[i][0], xs[i][1], Y[i]));
    }
    res = run_free_job(
        J, "two_layer",
        json_pack("{s:o, s:i, s:i, s:i}", "data", data, "width", 20, "steps", 3000, "seed", 3));
    pinhole_two_layer_options o = {
        .width = 20, .steps = 3000, .step = PINHOLE_TWO_LAYER_STEP, .seed = 3};
    pinhole_two_layer_result r;
    cr_assert_eq(pinhole_two_layer_train(8, 2, X2, Y, &o, NULL, NULL, NULL, &r), PINHOLE_OK);
    cr_assert_eq(json_real_value(json_object_get(res, "margin")), r.margin);
    cr_assert_gt(r.margin, 0, "separable data are separated");
    json_decref(res);

    /* bad parameters fail with a message, nothing crashes */
    json_t *job = job_ended(J, 0, "maxcut", 0, json_pack("{s:[[i,i],[i]]}", "weights", 0, 1, 1), 30,
                            "failed");
    cr_assert(strstr(json_string_value(json_object_get(job, "error")), "square"));
    json_decref(job);
    pinhole_jobs_close(J);
}

/* The two_layer job at its defaults (width 100, 10,000 steps, step PINHOLE_TWO_LAYER_STEP) reaches
 * within 5% of the LP max margin over 4,000 directions (a lower bound of the exact F1 max margin,
 * 0.4% below the 40,000-direction value) on the committed fixture, for several seeds. */
Test(jobs, two_layer_defaults_reach_max_margin)
{
    pinhole_jobs *J = open_runner();
    FILE *f = fopen(PINHOLE_SOURCE_DIR "/tests/fixtures/two_layer_disc.txt", "r");
    cr_assert(f);
    json_t *data = json_array();
    double a, b, c;
    char line[256];
    while (fgets(line, sizeof line, f))
        if (line[0] != '#' && sscanf(line, "%lf %lf %lf", &a, &b, &c) == 3)
            json_array_append_new(data, json_pack("[f,f,f]", a, b, c));
    fclose(f);
    cr_assert_eq(json_array_size(data), 30);
    for (int seed = 0; seed < 3; seed++) {
        json_t *res = run_free_job(
            J, "two_layer",
            json_pack("{s:O, s:i, s:i}", "data", data, "seed", seed, "lp_directions", 4000));
        const double m = json_real_value(json_object_get(res, "margin")),
                     lp = json_real_value(json_object_get(res, "lp_margin"));
        cr_assert_float_eq(lp, 0.07685, 5e-5);
        cr_assert_geq(m, 0.95 * lp, "seed %d: margin %g, LP %g (%.1f%%)", seed, m, lp,
                      100 * m / lp);
        json_decref(res);
    }
    json_decref(data);
    pinhole_jobs_close(J);
}

Test(jobs, stopped_before_it_starts_and_budgets)
{
    pinhole_jobs *J = open_runner();
    /* a time limit already spent when the module starts: failed, not a crash */
    json_t *job =
        job_ended(J, 1, "reconstruct", 100, json_pack("{s:f}", "time_limit", 1e-9), 30, "failed");
    cr_assert(strstr(json_string_value(json_object_get(job, "error")), "time limit"));
    json_decref(job);
    /* work the time limit could not stop is refused before it starts */
    job = job_ended(
        J, 0, "single_location", 0,
        json_pack("{s:i, s:i, s:i, s:i}", "d", 2000, "L", 2000, "steps", 1, "risk_samples", 10000),
        30, "failed");
    cr_assert(strstr(json_string_value(json_object_get(job, "error")), "2e10"));
    json_decref(job);
    pinhole_jobs_close(J);

    /* a job that was started three times without finishing (it may be what kills the process)
     * fails at the next start instead of running again */
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    const int64_t doomed = left_running(db, "{}", 3, NULL);
    /* ... and one whose cancellation was asked for before the process died is not run again */
    const int64_t canceled = left_running(db, "{\"seconds\": 30}", 1, "cancel requested");
    sqlite3_close(db);
    J = open_runner();
    cr_assert_str_eq(status_of(J, doomed, &job), "failed");
    cr_assert(strstr(json_string_value(json_object_get(job, "error")), "3 times"));
    json_decref(job);
    cr_assert_str_eq(status_of(J, canceled, &job), "canceled");
    json_decref(job);
    pinhole_jobs_close(J);
}

Test(jobs, errors)
{
    pinhole_jobs *J = open_runner();
    int64_t id;
    cr_assert_eq(pinhole_jobs_submit(J, 1, "no-such-type", 0, 1, NULL, &id), PINHOLE_EINVAL);
    json_t *arr = json_array();
    cr_assert_eq(pinhole_jobs_submit(J, 1, "reconstruct", 0, 1, arr, &id), PINHOLE_EINVAL);
    json_decref(arr);
    cr_assert_eq(pinhole_jobs_submit(J, 1, "reconstruct", 5, 1, NULL, &id), PINHOLE_EINVAL);
    json_t *bad = json_pack("{s:s}", "time_limit", "soon");
    cr_assert_eq(pinhole_jobs_submit(J, 1, "sleep", 0, 1, bad, &id), PINHOLE_EINVAL);
    json_decref(bad);
    /* a parameter the type does not have (a typo would run with the default) */
    const char *typos[][2] = {{"reconstruct", "topp"},
                              {"reconstruct", "to"},
                              {"mle", "max_iteration"},
                              {"maxcut", "ma"},
                              {"sleep", "second"}};
    for (size_t i = 0; i < sizeof typos / sizeof typos[0]; i++) {
        json_t *t = json_pack("{s:i}", typos[i][1], 1);
        cr_assert_eq(pinhole_jobs_submit(J, 1, typos[i][0], 0, 1, t, &id), PINHOLE_EINVAL, "%s %s",
                     typos[i][0], typos[i][1]);
        json_decref(t);
    }
    char err[256];
    json_t *t = json_pack("{s:i}", "topp", 1);
    cr_assert_eq(pinhole_job_params_check(pinhole_job_type_find("reconstruct"), t, err, sizeof err),
                 PINHOLE_EINVAL);
    cr_assert(strstr(err, "'topp'") && strstr(err, "known: top, time_limit"), "%s", err);
    json_decref(t);
    /* and every parameter a type lists is accepted, with time_limit */
    size_t nt;
    const pinhole_job_type *all = pinhole_job_types(&nt);
    for (size_t i = 0; i < nt; i++) {
        json_t *o = json_pack("{s:i}", "time_limit", 5);
        char names[256];
        snprintf(names, sizeof names, "%s", all[i].params);
        for (char *save, *w = strtok_r(names, " ", &save); w; w = strtok_r(NULL, " ", &save))
            json_object_set_new(o, w, json_integer(1));
        cr_assert_eq(pinhole_job_params_check(&all[i], o, err, sizeof err), PINHOLE_OK, "%s: %s",
                     all[i].name, err);
        json_decref(o);
    }
    json_t *job;
    cr_assert_eq(pinhole_jobs_get(J, 12345, &job), PINHOLE_ENOTFOUND);
    cr_assert_eq(pinhole_jobs_cancel(J, 12345), PINHOLE_ENOTFOUND);

    /* unknown collection: the job fails with a message */
    job = job_ended(J, 2, "reconstruct", 1, NULL, 30, "failed");
    cr_assert(strstr(json_string_value(json_object_get(job, "error")), "not found"), "error: %s",
              json_string_value(json_object_get(job, "error")));
    json_decref(job);
    /* invalid parameter of the type */
    job = job_ended(J, 1, "reconstruct", 1, json_pack("{s:i}", "top", -3), 30, "failed");
    cr_assert(strstr(json_string_value(json_object_get(job, "error")), "top"));
    json_decref(job);
    pinhole_jobs_close(J);
}

Test(jobs, cancel_and_time_limit)
{
    pinhole_jobs *J = open_runner();
    int64_t a, b, c;
    json_t *long_p = json_pack("{s:f}", "seconds", 30.0);
    cr_assert_eq(pinhole_jobs_submit(J, 0, "sleep", 0, 0, long_p, &a), PINHOLE_OK);
    json_t *tl = json_pack("{s:f, s:f}", "seconds", 30.0, "time_limit", 0.3);
    cr_assert_eq(pinhole_jobs_submit(J, 0, "sleep", 0, 0, tl, &b), PINHOLE_OK);
    json_decref(tl);
    /* wait until a is running, then cancel it */
    await_running(J, a);
    cr_assert_eq(pinhole_jobs_cancel(J, a), PINHOLE_OK);
    json_decref(ended(J, a, 5, "canceled"));
    json_t *job = ended(J, b, 10, "failed");
    cr_assert(strstr(json_string_value(json_object_get(job, "error")), "time limit of 0.3 s"));
    json_decref(job);
    /* a queued job is cancelled at once: keep both workers busy first */
    int64_t busy1, busy2;
    pinhole_jobs_submit(J, 0, "sleep", 0, 0, long_p, &busy1);
    pinhole_jobs_submit(J, 0, "sleep", 0, 0, long_p, &busy2);
    cr_assert_eq(pinhole_jobs_submit(J, 0, "sleep", 0, 0, long_p, &c), PINHOLE_OK);
    cr_assert_eq(pinhole_jobs_cancel(J, c), PINHOLE_OK);
    cr_assert_str_eq(status_of(J, c, &job), "canceled");
    json_decref(job);
    pinhole_jobs_cancel(J, busy1);
    pinhole_jobs_cancel(J, busy2);
    json_decref(long_p);
    pinhole_jobs_close(J);
}

Test(jobs, rerun_after_crash_and_shutdown)
{
    pinhole_jobs *J = open_runner();
    int64_t id;
    json_t *p = json_pack("{s:f}", "seconds", 30.0);
    cr_assert_eq(pinhole_jobs_submit(J, 0, "sleep", 0, 0, p, &id), PINHOLE_OK);
    json_decref(p);
    await_running(J, id);
    pinhole_jobs_close(J); /* graceful stop: the running job goes back to the queue */

    sqlite3 *db;
    cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT status FROM jobs WHERE id = ?", -1, &st, NULL);
    sqlite3_bind_int64(st, 1, id);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "queued");
    sqlite3_finalize(st);
    /* as if a process died mid-run: a short job marked running with no worker behind it */
    cr_assert_eq(sqlite3_exec(db, "UPDATE jobs SET status = 'canceled'", NULL, NULL, NULL),
                 SQLITE_OK);
    const int64_t crashed = left_running(db, "{\"seconds\":0.05}", 0, NULL);
    sqlite3_close(db);

    J = open_runner();
    json_t *job = ended(J, crashed, 10, "done");
    cr_assert_float_eq(json_real_value(json_object_get(json_object_get(job, "result"), "slept")),
                       0.05, 1e-12);
    json_decref(job);
    pinhole_jobs_close(J);
}

static double jm(const json_t *m, uint32_t i, uint32_t j)
{
    return json_real_value(json_array_get(json_array_get(m, i), j));
}

/* The multi_attribute job equals the library on the same counts, and its repair reproduces a
 * direct nearest_correlation job on the matrix it reports. */
Test(jobs, multi_attribute)
{
    pinhole_jobs *J = open_runner();
    pinhole_multi mc;
    uint64_t *counts[3];
    multi_counts(&mc, counts);
    pinhole_multi_est e;
    pinhole_multi_corr c;
    cr_assert_eq(pinhole_multi_estimate(&mc, (const uint64_t *const *)counts, &e), PINHOLE_OK);
    cr_assert_eq(pinhole_multi_correlation(&e, NULL, NULL, &c), PINHOLE_OK);
    double x[9];
    pinhole_repair_result rr;
    cr_assert_eq(pinhole_multi_repair(&c, 1, NULL, x, &rr), PINHOLE_OK);

    json_t *attrs = json_pack("[{s:i, s:s}, {s:i}, {s:i, s:s}]", "k", 2, "name", "smoker", "k", 3,
                              "k", 4, "kind", "ordinal");
    json_t *res = run_free_job(
        J, "multi_attribute",
        json_pack("{s:O, s:[i,i,i]}", "attributes", attrs, "collections", 101, 102, 103));
    cr_assert_eq(json_integer_value(json_object_get(res, "reports")), 6000);
    const json_t *m2 = json_array_get(json_object_get(res, "marginals"), 2);
    for (uint32_t a = 0; a < 4; a++)
        cr_assert_eq(json_real_value(json_array_get(json_object_get(m2, "estimate"), a)),
                     e.marg[2][a]);
    const json_t *j01 = json_array_get(json_object_get(res, "joints"), 0);
    cr_assert_eq(jm(json_object_get(j01, "consistent"), 1, 2), e.t[0].joint[1 * 3 + 2]);
    const json_t *corr = json_object_get(res, "correlation");
    cr_assert_eq(jm(json_object_get(corr, "estimate"), 0, 2), c.r[2]);
    cr_assert_eq(jm(json_object_get(corr, "stderr"), 1, 2), c.se[5]);
    const json_t *rep = json_object_get(res, "repaired");
    cr_assert_str_eq(json_string_value(json_object_get(rep, "method")), "burer_monteiro");
    for (uint32_t i = 0; i < 9; i++)
        cr_assert_eq(jm(json_object_get(rep, "matrix"), i / 3, i % 3), x[i]);

    /* unweighted: the repair equals a nearest_correlation job on the reported matrix */
    json_t *un = run_free_job(J, "multi_attribute",
                              json_pack("{s:O, s:[i,i,i], s:{s:b}}", "attributes", attrs,
                                        "collections", 101, 102, 103, "repair", "weighted", 0));
    const json_t *est = json_object_get(json_object_get(un, "correlation"), "estimate");
    json_t *direct = run_free_job(J, "nearest_correlation", json_pack("{s:O}", "matrix", est));
    const json_t *ru = json_object_get(un, "repaired");
    cr_assert_str_eq(json_string_value(json_object_get(ru, "method")), "newton");
    cr_assert(json_is_true(json_object_get(ru, "certified")));
    for (uint32_t i = 0; i < 9; i++)
        cr_assert_eq(jm(json_object_get(ru, "matrix"), i / 3, i % 3),
                     jm(json_object_get(direct, "matrix"), i / 3, i % 3));
    json_decref(direct);
    json_decref(un);
    json_decref(res);

    /* collections out of order fail with a message naming the pair */
    json_t *job =
        job_ended(J, 0, "multi_attribute", 100,
                  json_pack("{s:O, s:[i,i,i]}", "attributes", attrs, "collections", 101, 103, 102),
                  60, "failed");
    cr_assert(strstr(json_string_value(json_object_get(job, "error")), "pair 1"), "%s",
              json_string_value(json_object_get(job, "error")));
    json_decref(job);
    json_decref(attrs);
    pinhole_multi_corr_free(&c);
    pinhole_multi_est_free(&e);
    for (int p = 0; p < 3; p++)
        free(counts[p]);
    pinhole_multi_clear(&mc);
    pinhole_jobs_close(J);
}
