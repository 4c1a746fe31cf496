/* The store suite (tests/server/store/test_store.c; fixture tests/support/store_suite.c), jobs:
 * the job queue, claims made once, pages of the job list, a cancel reaching the replica that holds
 * the job, a job taken over by another replica given up by its old holder, and the state and rounds
 * of discovery sessions. */
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

/* s claims a job at time now (the test fails unless it gets one) and the job is want. */
static void claims(pinhole_store *s, double now, int64_t want)
{
    pinhole_job_record r;
    cr_assert_eq(pinhole_store_job_claim(s, now, &r), PINHOLE_OK);
    cr_assert_eq(r.id, want);
    pinhole_job_record_free(&r);
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
    claims(s, 1030, c);
    cr_assert_eq(pinhole_store_job_finish(s, c, PINHOLE_JOB_FAILED, 1031, NULL, "boom"),
                 PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_get(s, c, &r), PINHOLE_OK);
    cr_assert_eq(r.state, PINHOLE_JOB_FAILED);
    cr_assert_str_eq(r.error, "boom");
    pinhole_job_record_free(&r);
    claims(s, 1040, d);
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
    claims(holder, 1000, a);
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
    claims(holder, 1010, b);
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
    claims(now, 1002, a);
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
    s = open_store();
    cr_assert_eq(pinhole_store_open(&t, store_url, NULL), PINHOLE_OK);
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
