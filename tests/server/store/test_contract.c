/* The storage interface's contract (server/store/store.h), through the interface only, so that
 * every backend can be held to it: PINHOLE_TEST_STORE_URL names the store to test (a fresh,
 * empty one; default: a temporary SQLite file). Collections and labels, keys, the four ingest
 * outcomes, counts and buckets over ranges, the check, the job queue, upkeep, URL dispatch,
 * multi-attribute parents. */
#include "common/error.h"
#include "server/store/store.h"
#include "tests/support/reports.h"
#include "tests/support/tmpdb.h"

#include <criterion/criterion.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

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
    if (url == db.path)
        test_tmpdb_remove(&db);
}

TestSuite(contract, .init = setup, .fini = teardown);

static pinhole_store *open_store(void)
{
    pinhole_store *s = NULL;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK, "%s", url);
    cr_assert_not_null(s);
    return s;
}

Test(contract, urls_choose_the_backend)
{
    pinhole_store *s = open_store();
    if (url == db.path)
        cr_assert_str_eq(pinhole_store_backend_name(s), "sqlite");
    pinhole_store_close(s);
    pinhole_store_close(NULL);
    cr_assert_eq(pinhole_store_open(&s, "nosuch://x", NULL), PINHOLE_EUNSUPPORTED);
    cr_assert_null(s);
    cr_assert_eq(pinhole_store_open(&s, NULL, NULL), PINHOLE_EINVAL);
}

Test(contract, collections_and_keys_persist)
{
    pinhole_store *s = open_store();
    const pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 3, .epsilon = 1};
    const char *const labels[] = {"a", "bb", ""};
    pinhole_server_collection c1, c2;
    cr_assert_eq(pinhole_store_create_collection(s, &c1, "one", &p, 60, 5, labels), PINHOLE_OK);
    cr_assert_eq(pinhole_store_create_collection(s, &c2, "two", &p, 3600, 0, NULL), PINHOLE_OK);
    cr_assert_gt(c2.id, c1.id);
    pinhole_server_collection bad;
    const pinhole_config_params zero = {.mechanism = PINHOLE_MECH_PGR, .k = 3, .epsilon = 0};
    cr_assert_eq(pinhole_store_create_collection(s, &bad, "bad", &zero, 60, 0, NULL),
                 PINHOLE_EINVAL);
    pinhole_server_keys k1, k2;
    cr_assert_eq(pinhole_store_server_keys(s, &k1), PINHOLE_OK);
    pinhole_store_close(s);

    s = open_store();
    cr_assert_eq(pinhole_store_server_keys(s, &k2), PINHOLE_OK);
    cr_assert_eq(memcmp(&k1, &k2, sizeof k1), 0); /* made once, then loaded */
    pinhole_server_collection *all;
    size_t n;
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(all[0].id, c1.id);
    cr_assert_str_eq(all[0].name, "one");
    cr_assert_eq(all[0].min_reports, 5);
    cr_assert_eq(all[0].time_precision, 60);
    cr_assert_eq(memcmp(all[0].fingerprint, c1.fingerprint, sizeof c1.fingerprint), 0);
    cr_assert_str_eq(all[0].label[1], "bb");
    cr_assert_str_eq(all[0].label[2], "");
    cr_assert_null(all[1].label);
    for (size_t i = 0; i < n; i++)
        pinhole_server_collection_free(&all[i]);
    free(all);
    pinhole_server_collection_free(&c1);
    pinhole_server_collection_free(&c2);
    pinhole_store_close(s);
}

/* Multi-attribute parents persist, and share one id space with the collections: a parent's id is
 * above every collection's so far, and the next collection's above it. */
Test(contract, multi_attribute_parents_share_the_ids)
{
    pinhole_store *s = open_store();
    const pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 6, .epsilon = 1};
    pinhole_server_collection c1, c2;
    cr_assert_eq(pinhole_store_create_collection(s, &c1, "pair", &p, 60, 0, NULL), PINHOLE_OK);
    int64_t m1, m2;
    cr_assert_eq(pinhole_store_create_multi(s, "survey", "{\"collections\": [1]}", 1234, &m1),
                 PINHOLE_OK);
    cr_assert_gt(m1, c1.id);
    cr_assert_eq(pinhole_store_create_collection(s, &c2, "next", &p, 60, 0, NULL), PINHOLE_OK);
    cr_assert_gt(c2.id, m1);
    cr_assert_eq(pinhole_store_create_multi(s, "other", "{}", 99, &m2), PINHOLE_OK);
    cr_assert_gt(m2, c2.id);
    pinhole_store_close(s);

    s = open_store();
    pinhole_multi_record *all;
    size_t n;
    cr_assert_eq(pinhole_store_load_multis(s, &all, &n), PINHOLE_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(all[0].id, m1);
    cr_assert_str_eq(all[0].name, "survey");
    cr_assert_str_eq(all[0].spec, "{\"collections\": [1]}");
    cr_assert_eq(all[0].created, 1234);
    cr_assert_eq(all[1].id, m2);
    for (size_t i = 0; i < n; i++)
        pinhole_multi_record_free(&all[i]);
    free(all);
    pinhole_server_collection *cs;
    cr_assert_eq(pinhole_store_load_collections(s, &cs, &n), PINHOLE_OK);
    cr_assert_eq(n, 2, "the parents are no collections");
    for (size_t i = 0; i < n; i++)
        pinhole_server_collection_free(&cs[i]);
    free(cs);
    pinhole_server_collection_free(&c1);
    pinhole_server_collection_free(&c2);
    pinhole_store_close(s);
}

Test(contract, ingest_outcomes_counts_and_check)
{
    pinhole_store *s = open_store();
    const pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 40, .epsilon = 2};
    pinhole_server_collection c;
    cr_assert_eq(pinhole_store_create_collection(s, &c, "t", &p, 60, 0, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_ingest_prepare(s), PINHOLE_OK);
    const uint8_t p3 = 3, p5 = 5, bad = (uint8_t)c.cfg.counts_len;
    pinhole_ingest_report r[5];
    test_ingest_report(&r[0], &c, 1, 10, &p3);
    test_ingest_report(&r[1], &c, 2, 12, &p5);
    test_ingest_report(&r[2], &c, 1, 10, &p3);  /* identical retry */
    test_ingest_report(&r[3], &c, 2, 12, &p3);  /* same id, other payload */
    test_ingest_report(&r[4], &c, 3, 10, &bad); /* outside the alphabet */
    cr_assert_eq(pinhole_store_ingest(s, r, 5), PINHOLE_OK);
    const pinhole_report_status want[5] = {PINHOLE_REPORT_ACCEPTED, PINHOLE_REPORT_ACCEPTED,
                                           PINHOLE_REPORT_DUPLICATE, PINHOLE_REPORT_REPLAY,
                                           PINHOLE_REPORT_INVALID};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(r[i].status, want[i], "report %d", i);
    uint64_t *counts = calloc(c.cfg.counts_len, sizeof *counts), n = 0;
    cr_assert_eq(pinhole_store_counts(s, &c, 10, 12, counts, &n), PINHOLE_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(counts[3], 1);
    cr_assert_eq(counts[5], 1);
    cr_assert_eq(pinhole_store_counts(s, &c, 11, 11, counts, &n), PINHOLE_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(counts[3], 0);
    int64_t *bucket;
    uint64_t *bn;
    size_t nb;
    cr_assert_eq(pinhole_store_buckets(s, c.id, INT64_MIN, INT64_MAX, &bucket, &bn, &nb),
                 PINHOLE_OK);
    cr_assert_eq(nb, 2);
    cr_assert_eq(bucket[0], 10);
    cr_assert_eq(bucket[1], 12);
    cr_assert_eq(bn[0], 1);
    free(bucket);
    free(bn);
    uint64_t total;
    cr_assert_eq(pinhole_store_report_total(s, c.id, &total), PINHOLE_OK);
    cr_assert_eq(total, 2);
    uint64_t problems = 1;
    char msg[256];
    cr_assert_eq(pinhole_store_check(s, &problems, msg, sizeof msg), PINHOLE_OK);
    cr_assert_eq(problems, 0, "%s", msg);
    int did = -1;
    cr_assert_eq(pinhole_store_maintain(s, PINHOLE_UPKEEP_PERIODIC, &did), PINHOLE_OK);
    cr_assert(did == 0 || did == 1);
    cr_assert_eq(pinhole_store_maintain(s, PINHOLE_UPKEEP_AFTER_COMMIT, NULL), PINHOLE_OK);
    if (url == db.path)
        cr_assert_gt(pinhole_store_disk_bytes(s), 0);
    free(counts);
    pinhole_server_collection_free(&c);
    pinhole_store_close(s);
}

static int64_t enqueue(pinhole_store *s, const char *type, double created)
{
    pinhole_job_record r = {.collection_id = 1,
                            .from = 0,
                            .to = 100,
                            .params = "{\"a\":1}",
                            .time_limit = 30,
                            .created = created};
    strcpy(r.type, type);
    int64_t id = 0;
    cr_assert_eq(pinhole_store_job_enqueue(s, &r, &id), PINHOLE_OK);
    return id;
}

static pinhole_job_state state(pinhole_store *s, int64_t id)
{
    pinhole_job_state st;
    cr_assert_eq(pinhole_store_job_state(s, id, &st), PINHOLE_OK);
    return st;
}

Test(contract, job_queue)
{
    pinhole_store *s = open_store();
    pinhole_job_record r;
    cr_assert_eq(pinhole_store_job_claim(s, 1000, &r), PINHOLE_ENOTFOUND);
    const int64_t a = enqueue(s, "reconstruct", 900), b = enqueue(s, "project", 901);
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
    cr_assert_eq(r.to, 100);
    cr_assert_eq(r.state, PINHOLE_JOB_RUNNING);
    cr_assert(r.time_limit == 30 && r.created == 900 && r.started == 1000);
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

    /* a failure keeps its message; a job put back is queued again */
    const int64_t c = enqueue(s, "sleep", 902), d = enqueue(s, "sleep", 903);
    cr_assert_eq(pinhole_store_job_claim(s, 1030, &r), PINHOLE_OK);
    cr_assert_eq(r.id, c);
    pinhole_job_record_free(&r);
    cr_assert_eq(pinhole_store_job_finish(s, c, PINHOLE_JOB_FAILED, 1031, NULL, "boom"),
                 PINHOLE_OK);
    cr_assert_eq(pinhole_store_job_get(s, c, &r), PINHOLE_OK);
    cr_assert_eq(r.state, PINHOLE_JOB_FAILED);
    cr_assert_str_eq(r.error, "boom");
    pinhole_job_record_free(&r);
    cr_assert_eq(pinhole_store_job_claim(s, 1040, &r), PINHOLE_OK);
    cr_assert_eq(r.id, d);
    pinhole_job_record_free(&r);
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

/* Job lists: newest first, by collection or all, a page at a time, without results, with the
 * total that matches. */
Test(contract, job_list_pages)
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
Test(contract, discovery_state_and_rounds_persist)
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
