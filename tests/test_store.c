/* server/store: transactional ingest, replay and identical-retry handling, count vectors per time
 * bucket against a direct recount, the id index across reopen, the consistency check, the writer.
 */
#include "common/error.h"
#include "common/rng.h"
#include "server/estimate/estimate.h"
#include "server/store/sqlite/idset.h"
#include "server/store/sqlite/sqlite.h"
#include "server/store/store.h"
#include "server/store/writer.h"
#include "tests/support/reports.h"
#include "tests/support/tmpdb.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static test_tmpdb db;
static const char *path = db.path;

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    test_tmpdb_make(&db);
}

static void teardown(void)
{
    test_tmpdb_remove(&db);
}

TestSuite(store, .init = setup, .fini = teardown);

/* A PGR collection with k = 40, epsilon = 2 (the planner's q and t: K < 256, one payload byte). */
static void make_collection(pinhole_store *s, pinhole_server_collection *c)
{
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 40, .epsilon = 2};
    cr_assert_eq(pinhole_store_create_collection(s, c, "t", &p, 3600, 10, NULL), PINHOLE_OK);
}

#define report test_ingest_report /* tests/support/reports.h */

Test(store, replay_duplicate_invalid_and_counts)
{
    pinhole_store *s;
    pinhole_server_collection c;
    cr_assert_eq(pinhole_store_open(&s, path, NULL), PINHOLE_OK);
    make_collection(s, &c);
    cr_assert_eq(c.cfg.payload_bytes, 1, "K = %llu", (unsigned long long)c.cfg.counts_len);
    const uint8_t p3 = 3, p5 = 5, bad = (uint8_t)c.cfg.counts_len; /* an index >= K */
    pinhole_ingest_report r[5];
    report(&r[0], &c, 1, 100, &p3);
    report(&r[1], &c, 2, 100, &p5);
    report(&r[2], &c, 3, 101, &p3);
    report(&r[3], &c, 1, 100, &p3);  /* same id, same content, in the same transaction */
    report(&r[4], &c, 4, 100, &bad); /* outside the report alphabet */
    cr_assert_eq(pinhole_store_ingest(s, r, 5), PINHOLE_OK);
    cr_assert_eq(r[0].status, PINHOLE_REPORT_ACCEPTED);
    cr_assert_eq(r[1].status, PINHOLE_REPORT_ACCEPTED);
    cr_assert_eq(r[2].status, PINHOLE_REPORT_ACCEPTED);
    cr_assert_eq(r[3].status, PINHOLE_REPORT_DUPLICATE);
    cr_assert_eq(r[4].status, PINHOLE_REPORT_INVALID);
    cr_assert_eq(r[4].error, PINHOLE_ERANGE);

    /* A retry of report 2 is acknowledged; the same id with another payload or time is a replay. */
    pinhole_ingest_report q[3];
    report(&q[0], &c, 2, 100, &p5);
    report(&q[1], &c, 2, 100, &p3);
    report(&q[2], &c, 3, 102, &p3);
    cr_assert_eq(pinhole_store_ingest(s, q, 3), PINHOLE_OK);
    cr_assert_eq(q[0].status, PINHOLE_REPORT_DUPLICATE);
    cr_assert_eq(q[1].status, PINHOLE_REPORT_REPLAY);
    cr_assert_eq(q[1].error, PINHOLE_EMISMATCH);
    cr_assert_eq(q[2].status, PINHOLE_REPORT_REPLAY);

    uint64_t *counts = calloc(c.cfg.counts_len, sizeof *counts), n = 0;
    cr_assert_eq(pinhole_store_counts(s, &c, 100, 100, counts, &n), PINHOLE_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(counts[3], 1);
    cr_assert_eq(counts[5], 1);
    cr_assert_eq(pinhole_store_counts(s, &c, 0, 1000, counts, &n), PINHOLE_OK);
    cr_assert_eq(n, 3);
    cr_assert_eq(counts[3], 2);
    cr_assert_eq(pinhole_store_counts(s, &c, 102, 1000, counts, &n), PINHOLE_OK);
    cr_assert_eq(n, 0);
    uint64_t total = 0;
    cr_assert_eq(pinhole_store_report_total(s, c.id, &total), PINHOLE_OK);
    cr_assert_eq(total, 3);
    uint64_t problems = 1;
    char msg[256];
    cr_assert_eq(pinhole_store_check(s, &problems, msg, sizeof msg), PINHOLE_OK);
    cr_assert_eq(problems, 0, "%s", msg);
    pinhole_store_close(s);

    /* Reopened: the id index is rebuilt from the log, so the retry is still recognised. */
    cr_assert_eq(pinhole_store_open(&s, path, NULL), PINHOLE_OK);
    report(&q[0], &c, 1, 100, &p3);
    report(&q[1], &c, 9, 100, &p5);
    cr_assert_eq(pinhole_store_ingest(s, q, 2), PINHOLE_OK);
    cr_assert_eq(q[0].status, PINHOLE_REPORT_DUPLICATE);
    cr_assert_eq(q[1].status, PINHOLE_REPORT_ACCEPTED);
    cr_assert_eq(pinhole_store_report_total(s, c.id, &total), PINHOLE_OK);
    cr_assert_eq(total, 4);
    pinhole_server_collection *all;
    size_t nc;
    cr_assert_eq(pinhole_store_load_collections(s, &all, &nc), PINHOLE_OK);
    cr_assert_eq(nc, 1);
    cr_assert_eq(memcmp(all[0].fingerprint, c.fingerprint, sizeof c.fingerprint), 0);
    cr_assert_eq(all[0].min_reports, 10);
    pinhole_server_collection_free(&all[0]);
    free(all);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
    free(counts);
}

/* Many random reports over 40 buckets: the stored vectors equal pinhole_accumulate over the
 * same payloads, bucket by bucket (across chunk boundaries, K > 256, and with more buckets in a
 * transaction than the writer keeps open, so deltas are flushed inside it). */
Test(store, counts_equal_direct_accumulation)
{
    pinhole_store *s;
    pinhole_server_collection c;
    cr_assert_eq(pinhole_store_open(&s, path, NULL), PINHOLE_OK);
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 5000, .epsilon = 3};
    cr_assert_eq(pinhole_store_create_collection(s, &c, "big", &p, 60, 0, NULL), PINHOLE_OK);
    cr_assert_gt(c.cfg.counts_len, 3 * PINHOLE_SQLITE_CHUNK);
    const size_t N = 4000, pb = c.cfg.payload_bytes;
    uint8_t *payload = malloc(N * pb);
    pinhole_ingest_report *r = calloc(N, sizeof *r);
    enum { B = 40 };
    uint64_t *expect[B], *got = calloc(c.cfg.counts_len, sizeof *got);
    for (int b = 0; b < B; b++)
        expect[b] = calloc(c.cfg.counts_len, sizeof *expect[b]);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 7);
    for (size_t i = 0; i < N; i++) {
        const uint64_t h = pinhole_rng_uniform64(&rng, c.cfg.counts_len);
        for (size_t j = 0; j < pb; j++)
            payload[i * pb + j] = (uint8_t)(h >> (8 * j));
        r[i].coll = &c;
        pinhole_rng_bytes(&rng, r[i].id, 16);
        r[i].bucket = (int64_t)(i % B);
        r[i].payload = payload + i * pb;
        r[i].payload_len = (uint32_t)pb;
        cr_assert_eq(pinhole_accumulate(&c.cfg, payload + i * pb, pb, expect[i % B]), PINHOLE_OK);
    }
    for (size_t off = 0; off < N; off += 1000) /* four transactions */
        cr_assert_eq(pinhole_store_ingest(s, r + off, 1000), PINHOLE_OK);
    for (int b = 0; b < B; b++) {
        uint64_t n;
        cr_assert_eq(pinhole_store_counts(s, &c, b, b, got, &n), PINHOLE_OK);
        cr_assert_eq(n, N / B + (b < (int)(N % B)));
        cr_assert_eq(memcmp(got, expect[b], c.cfg.counts_len * sizeof *got), 0, "bucket %d", b);
    }
    uint64_t problems;
    char msg[256];
    cr_assert_eq(pinhole_store_check(s, &problems, msg, sizeof msg), PINHOLE_OK);
    cr_assert_eq(problems, 0, "%s", msg);

    /* The check notices a count changed behind the store's back, and a report stored twice. */
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "UPDATE counts SET data = zeroblob(length(data)) WHERE bucket = 0 "
                              "AND chunk = (SELECT min(chunk) FROM counts WHERE bucket = 0)",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    cr_assert_eq(pinhole_store_check(s, &problems, msg, sizeof msg), PINHOLE_OK);
    cr_assert_gt(problems, 0);
    sqlite3_close(db);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
    for (int b = 0; b < B; b++)
        free(expect[b]);
    free(got);
    free(r);
    free(payload);
}

Test(store, duplicate_rows_are_found_by_check)
{
    pinhole_store *s;
    pinhole_server_collection c;
    cr_assert_eq(pinhole_store_open(&s, path, NULL), PINHOLE_OK);
    make_collection(s, &c);
    const uint8_t p = 1;
    pinhole_ingest_report r;
    report(&r, &c, 7, 5, &p);
    cr_assert_eq(pinhole_store_ingest(s, &r, 1), PINHOLE_OK);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "INSERT INTO reports(collection, report_id, bucket, payload) "
                              "SELECT collection, report_id, bucket, payload FROM reports",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    uint64_t problems;
    char msg[256];
    cr_assert_eq(pinhole_store_check(s, &problems, msg, sizeof msg), PINHOLE_OK);
    cr_assert_geq(problems, 1);
    cr_assert(strstr(msg, "stored 2 times") != NULL, "%s", msg);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
}

Test(store, foreign_file_is_refused)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("not a database at all, just text that is long enough to look like a header....", f);
    fclose(f);
    pinhole_store *s;
    cr_assert_eq(pinhole_store_open(&s, path, NULL), PINHOLE_EIO);
}

Test(store, idset_finds_every_added_id)
{
    pinhole_idset set;
    cr_assert_eq(pinhole_idset_init(&set), PINHOLE_OK);
    uint8_t id[16] = {0};
    for (int64_t i = 0; i < 200000; i++) { /* grows through several doublings */
        memcpy(id, &i, sizeof i);
        cr_assert_eq(pinhole_idset_add(&set, pinhole_idset_hash(&set, 1, id), i, 20000 + i % 10),
                     0);
    }
    for (int64_t i = 0; i < 200000; i += 997) {
        memcpy(id, &i, sizeof i);
        size_t pos = 0;
        int64_t row, found = -1;
        while (pinhole_idset_next(&set, pinhole_idset_hash(&set, 1, id), &pos, &row))
            if (row == i)
                found = row;
        cr_assert_eq(found, i);
        pos = 0; /* the same id in another collection is another key */
        while (pinhole_idset_next(&set, pinhole_idset_hash(&set, 2, id), &pos, &row))
            cr_assert_neq(row, i);
    }
    /* dropping days 20000..20007 leaves the ids of days 20008 and 20009 (a fifth), in a table
     * shrunk to fit them: 40,000 / 0.7 -> 65,536 slots */
    const size_t before = pinhole_idset_bytes(&set);
    cr_assert_eq(pinhole_idset_drop_days(&set, 20007), 160000);
    cr_assert_eq(set.used, 40000);
    cr_assert_eq(pinhole_idset_bytes(&set), 65536 * sizeof(pinhole_idset_slot));
    cr_assert_lt(pinhole_idset_bytes(&set), before);
    cr_assert_eq(pinhole_idset_drop_days(&set, 20007), 0);
    for (int64_t i = 0; i < 200000; i += 7) {
        memcpy(id, &i, sizeof i);
        size_t pos = 0;
        int64_t row, found = -1;
        while (pinhole_idset_next(&set, pinhole_idset_hash(&set, 1, id), &pos, &row))
            if (row == i)
                found = row;
        cr_assert_eq(found, i % 10 >= 8 ? i : -1, "id %lld", (long long)i);
    }
    pinhole_idset_free(&set);
}

/* ---- the writer ---- */

typedef struct done_flag {
    int done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} done_flag;

static void on_done(pinhole_ingest_batch *job, void *arg)
{
    (void)job;
    done_flag *d = arg;
    pthread_mutex_lock(&d->mu);
    d->done++;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* A full queue refuses with PINHOLE_EOVERFLOW while the database is locked by someone else, and
 * every accepted job completes, committed, once the lock goes. */
Test(store, writer_queue_full_then_drains)
{
    pinhole_store *s;
    pinhole_server_collection c;
    cr_assert_eq(pinhole_store_open(&s, path, NULL), PINHOLE_OK);
    make_collection(s, &c);
    pinhole_writer w;
    pinhole_writer_options o = {.max_queue_reports = 1};
    cr_assert_eq(pinhole_writer_start(&w, path, &o), PINHOLE_OK);
    sqlite3 *db; /* another connection, holding the write lock */
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    const uint8_t p = 2;
    pinhole_ingest_report r[3];
    pinhole_ingest_batch job[3];
    done_flag d = {0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    for (int i = 0; i < 3; i++) {
        report(&r[i], &c, (uint8_t)(10 + i), 1, &p);
        job[i] = (pinhole_ingest_batch){.reports = &r[i], .n = 1, .done = on_done, .arg = &d};
    }
    cr_assert_eq(pinhole_writer_submit(&w, &job[0]), PINHOLE_OK);
    /* wait until the writer has taken job 0 (it then blocks on the lock) */
    for (int i = 0; i < 500 && atomic_load(&w.stats.queued_batches) > 0; i++)
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    cr_assert_eq(pinhole_writer_submit(&w, &job[1]), PINHOLE_OK);
    cr_assert_eq(pinhole_writer_submit(&w, &job[2]), PINHOLE_EOVERFLOW);
    cr_assert_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    pthread_mutex_lock(&d.mu);
    while (d.done < 2)
        pthread_cond_wait(&d.cv, &d.mu);
    pthread_mutex_unlock(&d.mu);
    cr_assert_eq(job[0].result, PINHOLE_OK);
    cr_assert_eq(job[1].result, PINHOLE_OK);
    cr_assert_eq(r[0].status, PINHOLE_REPORT_ACCEPTED);
    cr_assert_eq(r[1].status, PINHOLE_REPORT_ACCEPTED);
    pinhole_writer_stop(&w);
    uint64_t total;
    cr_assert_eq(pinhole_store_report_total(s, c.id, &total), PINHOLE_OK);
    cr_assert_eq(total, 2);
    cr_assert_eq(atomic_load(&w.stats.accepted), 2);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
}

/* The database holds the server's secret keys: it is created 0600 whatever the umask, and so are
 * its -wal and -shm files. */
Test(store, files_are_created_private)
{
    const mode_t old = umask(022);
    pinhole_store *s;
    pinhole_server_collection c;
    cr_assert_eq(pinhole_store_open(&s, path, NULL), PINHOLE_OK);
    make_collection(s, &c);
    pinhole_server_keys k;
    cr_assert_eq(pinhole_store_server_keys(s, &k), PINHOLE_OK);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[160];
        struct stat sb;
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        cr_assert_eq(stat(p, &sb), 0, "%s", p);
        cr_assert_eq(sb.st_mode & 0777, 0600, "%s is mode %o", p, (unsigned)(sb.st_mode & 0777));
    }
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
    umask(old);
}

/* A labelled collection's config commits to its labels, across a reopen; one stored before
 * configs could commit to labels (its stored fingerprint that of the version 1 config) keeps its
 * version 1 config and fingerprint, so its devices' reports stay valid; any other fingerprint is
 * refused. */
Test(store, labels_commitment_and_stores_from_before_it)
{
    pinhole_store *s;
    pinhole_server_collection c, *all = NULL;
    size_t n = 0;
    static const char *const labels[] = {"north", "south", "east", "west"};
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_GRR, .k = 4, .epsilon = 1};
    cr_assert_eq(pinhole_store_open(&s, path, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_create_collection(s, &c, "dirs", &p, 60, 0, labels), PINHOLE_OK);
    cr_assert(c.wire.has_labels && c.labels_list != NULL);
    uint8_t v2fp[PINHOLE_FINGERPRINT_BYTES], v1fp[PINHOLE_FINGERPRINT_BYTES];
    memcpy(v2fp, c.fingerprint, sizeof v2fp);
    pinhole_collection_config v1 = c.wire;
    v1.has_labels = 0;
    cr_assert_eq(pinhole_collection_config_fingerprint(&v1, v1fp), PINHOLE_OK);
    cr_assert(memcmp(v1fp, v2fp, sizeof v1fp) != 0);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);

    cr_assert_eq(pinhole_store_open(&s, path, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_OK);
    cr_assert_eq(n, 1);
    cr_assert(all[0].wire.has_labels && memcmp(all[0].fingerprint, v2fp, sizeof v2fp) == 0);
    pinhole_server_collection_free(&all[0]);
    free(all);
    pinhole_store_close(s);

    /* as an older server stored it */
    sqlite3 *db;
    sqlite3_stmt *q;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "UPDATE collections SET fingerprint = ?", -1, &q, NULL),
                 SQLITE_OK);
    sqlite3_bind_blob(q, 1, v1fp, sizeof v1fp, SQLITE_STATIC);
    cr_assert_eq(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    cr_assert_eq(pinhole_store_open(&s, path, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_OK);
    cr_assert(!all[0].wire.has_labels && all[0].labels_list == NULL);
    cr_assert(memcmp(all[0].fingerprint, v1fp, sizeof v1fp) == 0);
    cr_assert(all[0].label != NULL, "the labels themselves stay");
    pinhole_server_collection_free(&all[0]);
    free(all);
    pinhole_store_close(s);

    /* neither fingerprint: the parameters changed under it */
    cr_assert_eq(
        sqlite3_exec(db, "UPDATE collections SET fingerprint = zeroblob(16)", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    cr_assert_eq(pinhole_store_open(&s, path, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_EDB);
    pinhole_store_close(s);
}
