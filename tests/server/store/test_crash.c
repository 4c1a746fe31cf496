/* Power loss: the writer stores batches through a VFS that drops every write not yet fsynced when
 * the "power" goes (crashvfs.h), at many moments: right after the n-th acknowledgement, in
 * the middle of the load, idle after every acknowledgement (with WAL checkpoints running). After
 * the crash every acknowledged report must be stored with its id, time bucket and payload, nothing
 * never sent may be stored, the database must pass integrity_check and the recount, and a retry of
 * every batch must be acknowledged (duplicates, never replays). The same check run with
 * synchronous=OFF and synchronous=NORMAL loses acknowledged reports, which shows it can fail; so
 * does the same check against a writer that acknowledges a batch before its transaction commits
 * (this file compiled with that broken writer, PINHOLE_TEST_ACK_BEFORE_COMMIT, as its own test). */
#include "common/error.h"
#include "common/rng.h"
#include "server/store/store.h"
#include "server/store/writer.h"
#include "tests/server/store/crashvfs.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JOBS 24
#define PER_JOB 40
#define N (JOBS * PER_JOB)

static char dir[64], path[128];

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    cr_assert_eq(crashvfs_install(), 0);
    strcpy(dir, "/tmp/pinhole-crash-test.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/t.db", dir);
}

static void teardown(void)
{
    char p[160];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
}

TestSuite(crash, .init = setup, .fini = teardown, .timeout = 120);

enum { CRASH_IDLE = -1, CRASH_MIDFLIGHT = -2 };

typedef struct round {
    const char *synchronous; /* FULL, NORMAL or OFF */
    int crash_after;         /* crash in the n-th acknowledgement, or CRASH_IDLE / MIDFLIGHT */
    long crash_io;           /* or else at the n-th write, truncation or sync (crashvfs_crash_at) */
    double checkpoint_interval;
    /* filled by run() */
    pinhole_server_collection c;
    pinhole_ingest_report r[N];
    uint8_t payload[N];
    int acked[N];
    pinhole_ingest_batch job[JOBS];
    int done, nacks, nacks_before; /* acknowledged jobs; before the retry */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long dropped;
    uint64_t missing, changed, phantom, replays;
} round;

static void on_done(pinhole_ingest_batch *job, void *arg)
{
    round *rd = arg;
    pthread_mutex_lock(&rd->mu);
    const size_t first = (size_t)(job - rd->job) * PER_JOB;
    if (job->result == PINHOLE_OK) {
        for (size_t i = 0; i < job->n; i++) {
            const pinhole_report_status s = job->reports[i].status;
            rd->acked[first + i] = 1;
            rd->replays += s != PINHOLE_REPORT_ACCEPTED && s != PINHOLE_REPORT_DUPLICATE;
        }
        if (++rd->nacks == rd->crash_after)
            rd->dropped = crashvfs_crash(); /* right after this acknowledgement */
    }
    rd->done++;
    pthread_cond_broadcast(&rd->cv);
    pthread_mutex_unlock(&rd->mu);
}

static void submit_all(pinhole_writer *w, round *rd)
{
    for (size_t j = 0; j < JOBS; j++) {
        for (size_t i = j * PER_JOB; i < (j + 1) * PER_JOB; i++)
            rd->r[i].status = PINHOLE_REPORT_PENDING;
        rd->job[j] = (pinhole_ingest_batch){
            .reports = rd->r + j * PER_JOB, .n = PER_JOB, .done = on_done, .arg = rd};
        cr_assert_eq(pinhole_writer_submit(w, &rd->job[j]), PINHOLE_OK);
    }
}

static void wait_done(round *rd)
{
    pthread_mutex_lock(&rd->mu);
    while (rd->done < JOBS)
        pthread_cond_wait(&rd->cv, &rd->mu);
    pthread_mutex_unlock(&rd->mu);
}

/* Run one round: load, crash at the round's moment, power on, check, retry everything. */
static void run(round *rd, uint64_t seed)
{
    pthread_mutex_init(&rd->mu, NULL);
    pthread_cond_init(&rd->cv, NULL);
    pinhole_store *s;
    cr_assert_eq(pinhole_store_open(&s, path, NULL), PINHOLE_OK);
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 40, .epsilon = 2};
    cr_assert_eq(pinhole_store_create_collection(s, &rd->c, "crash", &p, 3600, 0, NULL),
                 PINHOLE_OK);
    pinhole_store_close(s);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    for (size_t i = 0; i < N; i++) {
        pinhole_ingest_report *r = &rd->r[i];
        memset(r, 0, sizeof *r);
        r->coll = &rd->c;
        pinhole_rng_bytes(&rng, r->id, sizeof r->id);
        r->bucket = 1000 + (int64_t)pinhole_rng_uniform64(&rng, 50);
        rd->payload[i] = (uint8_t)pinhole_rng_uniform64(&rng, rd->c.cfg.counts_len);
        r->payload = &rd->payload[i];
        r->payload_len = 1;
    }
    cr_assert_eq(rd->c.cfg.payload_bytes, 1);

    pinhole_writer w;
    pinhole_writer_options o = {.max_txn_reports = 2 * PER_JOB, /* many commits, many moments */
                                .checkpoint_interval = rd->checkpoint_interval,
                                .store.synchronous_normal = strcmp(rd->synchronous, "NORMAL") == 0};
    cr_assert_eq(pinhole_writer_start(&w, path, &o), PINHOLE_OK);
    if (strcmp(rd->synchronous, "OFF") == 0) /* the broken build: no fsync at all */
        crashvfs_fake_sync(1);
    crashvfs_crash_at(rd->crash_io);
    submit_all(&w, rd);
    if (rd->crash_after == CRASH_MIDFLIGHT) { /* from this thread, once the load is under way */
        pthread_mutex_lock(&rd->mu);
        while (rd->nacks < 1 && rd->done < JOBS)
            pthread_cond_wait(&rd->cv, &rd->mu);
        pthread_mutex_unlock(&rd->mu);
        nanosleep(&(struct timespec){0, 1000000}, NULL);
        pthread_mutex_lock(&rd->mu);
        rd->dropped = crashvfs_crash();
        pthread_mutex_unlock(&rd->mu);
    }
    wait_done(rd);
    if (rd->crash_after == CRASH_IDLE || rd->crash_io > 0) {
        nanosleep(&(struct timespec){0, 60000000}, NULL); /* checkpoints run meanwhile */
        rd->dropped = crashvfs_crash();
    }
    rd->nacks_before = rd->nacks;
    if (rd->crash_io == 0)
        cr_assert_gt(rd->nacks, 0, "nothing was acknowledged before the crash");
    pinhole_writer_stop(&w); /* every write fails now, as on a machine without power */
    pinhole_writer_release(&w);
    crashvfs_reset();

    /* Power on: every acknowledged report is stored as sent, nothing else is. */
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    cr_assert_eq(sqlite3_prepare_v2(
                     db, "SELECT report_id, bucket, payload FROM reports WHERE collection = ?", -1,
                     &q, NULL),
                 SQLITE_OK);
    sqlite3_bind_int64(q, 1, rd->c.id);
    int found[N] = {0};
    while (sqlite3_step(q) == SQLITE_ROW) {
        const void *id = sqlite3_column_blob(q, 0);
        size_t i = 0;
        while (i < N && memcmp(rd->r[i].id, id, sizeof rd->r[i].id) != 0)
            i++;
        if (i == N || found[i]) {
            rd->phantom++;
            continue;
        }
        found[i] = 1;
        if (sqlite3_column_int64(q, 1) != rd->r[i].bucket || sqlite3_column_bytes(q, 2) != 1 ||
            *(const uint8_t *)sqlite3_column_blob(q, 2) != rd->payload[i])
            rd->changed++;
    }
    sqlite3_finalize(q);
    for (size_t i = 0; i < N; i++)
        rd->missing += rd->acked[i] && !found[i];
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    sqlite3_close(db);
    uint64_t problems = 1;
    char msg[256];
    cr_assert_eq(pinhole_store_open(&s, path, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_store_check(s, &problems, msg, sizeof msg), PINHOLE_OK);
    cr_assert_eq(problems, 0, "%s", msg);
    pinhole_store_close(s);

    /* The clients retry everything: all acknowledged, none a replay, each stored once. */
    rd->done = 0;
    cr_assert_eq(pinhole_writer_start(&w, path, &o), PINHOLE_OK);
    rd->crash_after = 0;
    submit_all(&w, rd);
    wait_done(rd);
    pinhole_writer_stop(&w);
    pinhole_writer_release(&w);
    for (size_t j = 0; j < JOBS; j++)
        cr_assert_eq(rd->job[j].result, PINHOLE_OK);
    cr_assert_eq(rd->replays, 0, "a retry or a report was not acknowledged as stored");
    cr_assert_eq(pinhole_store_open(&s, path, NULL), PINHOLE_OK);
    uint64_t total = 0;
    cr_assert_eq(pinhole_store_report_total(s, rd->c.id, &total), PINHOLE_OK);
    cr_assert_eq(total, N);
    pinhole_store_close(s);
    pinhole_server_collection_free(&rd->c);
    pthread_mutex_destroy(&rd->mu);
    pthread_cond_destroy(&rd->cv);
}

static round *new_round(const char *sync, int crash_after, long crash_io,
                        double checkpoint_interval)
{
    round *rd = calloc(1, sizeof *rd);
    cr_assert_not_null(rd);
    rd->synchronous = sync;
    rd->crash_after = crash_after;
    rd->crash_io = crash_io;
    rd->checkpoint_interval = checkpoint_interval;
    return rd;
}

#ifdef PINHOLE_TEST_ACK_BEFORE_COMMIT
/* The broken writer acknowledges each group before committing it: a crash right after the first
 * acknowledgement (a moment the real writer survives, moments[0] below) loses what was
 * acknowledged, and every later group, acknowledged too, fails to commit on the dead disk. */
Test(crash, ack_before_commit_loses_acknowledged_reports)
{
    round *rd = new_round("FULL", 1, 0, 0.01);
    run(rd, 100);
    cr_assert_gt(rd->missing, 0, "a writer acknowledging before its commit lost nothing");
    cr_log_info("ack before commit: %llu of %d acknowledged reports lost",
                (unsigned long long)rd->missing, rd->nacks_before * PER_JOB);
    cr_assert_eq(rd->changed, 0);
    cr_assert_eq(rd->phantom, 0);
    free(rd);
}
#else
/* Remove the database so that the next round starts afresh. */
static void wipe(void)
{
    teardown();
    cr_assert_eq(mkdir(dir, 0700), 0);
}

/* Moments: right after the n-th acknowledgement, at the n-th write/sync (inside a transaction,
 * between its WAL writes and their fsync, inside a checkpoint), mid-load, idle after all acks. */
static const struct {
    int after;
    long io;
} moments[] = {
    {1, 0},         {3, 0},  {8, 0},  {0, 1},  {0, 2},  {0, 3},   {0, 5},   {0, 8},
    {0, 13},        {0, 21}, {0, 34}, {0, 55}, {0, 89}, {0, 144}, {0, 233}, {CRASH_MIDFLIGHT, 0},
    {CRASH_IDLE, 0}};

Test(crash, full_sync_keeps_every_acknowledged_report)
{
    int lossy = 0; /* rounds where the crash dropped unsynced writes */
    for (size_t m = 0; m < sizeof moments / sizeof moments[0]; m++) {
        round *rd = new_round("FULL", moments[m].after, moments[m].io, 0.01);
        run(rd, 100 + m);
        lossy += rd->dropped > 0;
        cr_assert_eq(rd->missing, 0, "moment %zu: %llu of %d acknowledged reports lost", m,
                     (unsigned long long)rd->missing, rd->nacks_before * PER_JOB);
        cr_assert_eq(rd->changed, 0);
        cr_assert_eq(rd->phantom, 0);
        free(rd);
        wipe();
    }
    cr_assert_geq(lossy, 5, "too few crashes caught writes in flight (%d)", lossy);
}

/* The check fails against a server without fsync (every sync a no-op, as with synchronous=OFF):
 * it is able to catch lost acknowledgements. */
Test(crash, synchronous_off_loses_acknowledged_reports)
{
    round *rd = new_round("OFF", CRASH_IDLE, 0, 0.01);
    run(rd, 7);
    cr_assert_gt(rd->dropped, 0);
    cr_assert_gt(rd->missing, 0, "synchronous=OFF lost nothing: the simulation is too kind");
    cr_assert_eq(rd->changed, 0);
    cr_assert_eq(rd->phantom, 0);
    free(rd);
}

/* synchronous=normal (a documented option) survives process crashes but not power loss: the WAL
 * is not fsynced at commit, so what was acknowledged since the last checkpoint can go. */
Test(crash, synchronous_normal_is_not_power_safe)
{
    round *rd = new_round("NORMAL", 6, 0, 3600);
    run(rd, 8);
    cr_assert_gt(rd->missing, 0, "synchronous=NORMAL lost nothing on power loss");
    free(rd);
}
#endif
