/* The store's write_nothing handles (what a server started on a full disk reads through): they
 * read a database a killed process left with its WAL and shared-memory index, as last committed,
 * beside one another; a writable handle opened beside them in the same process cannot write (so
 * the service closes them first); once they are closed, it can, and they see its commits. */
#include "common/error.h"
#include "server/store/store.h"
#include "tests/support/reports.h"
#include "tests/support/tmpdb.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static test_tmpdb db;

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    test_tmpdb_make(&db);
    /* characters a URI would read otherwise: the handle must name this very file */
    snprintf(db.path, sizeof db.path, "%s/t?#%%20.db", db.dir);
}

static void teardown(void)
{
    test_tmpdb_remove(&db);
}

TestSuite(write_nothing, .init = setup, .fini = teardown);

enum { KILLED_REPORTS = 300 };

/* In a child process: a collection (id 1, PGR k = 40, epsilon 2) and KILLED_REPORTS reports, report
 * i with payload i % 7 in bucket 100 + i % 3; then the child exits without closing anything, as
 * SIGKILL would leave it (its commits only in the WAL: no checkpoint ran). */
static void killed_writer(void)
{
    const pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        pinhole_store *s;
        pinhole_server_collection c;
        const pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 40, .epsilon = 2};
        if (pinhole_store_open(&s, db.path, NULL) != PINHOLE_OK ||
            pinhole_store_create_collection(s, &c, "t", &p, 3600, 0, NULL) != PINHOLE_OK)
            _exit(2);
        pinhole_ingest_report r[KILLED_REPORTS];
        uint8_t payload[KILLED_REPORTS];
        for (int i = 0; i < KILLED_REPORTS; i++) {
            payload[i] = (uint8_t)(i % 7);
            test_ingest_report(&r[i], &c, 0, 100 + i % 3, &payload[i]);
            r[i].id[0] = (uint8_t)i;
            r[i].id[1] = (uint8_t)(i >> 8);
        }
        _exit(pinhole_store_ingest(s, r, KILLED_REPORTS) == PINHOLE_OK ? 0 : 3);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    char wal[sizeof db.path + 8];
    struct stat sb;
    snprintf(wal, sizeof wal, "%s-wal", db.path);
    cr_assert(stat(wal, &sb) == 0 && sb.st_size > 0, "no WAL left: the test would test nothing");
}

/* The collection's total and its count vector over every bucket, through handle s. */
static void read_back(pinhole_store *s, uint64_t *total, uint64_t counts[256])
{
    pinhole_server_collection *c;
    size_t n;
    cr_assert_eq(pinhole_store_load_collections(s, &c, &n), PINHOLE_OK);
    cr_assert_eq(n, 1);
    cr_assert_leq(c[0].cfg.counts_len, 256);
    uint64_t nc;
    cr_assert_eq(pinhole_store_report_total(s, 1, total), PINHOLE_OK);
    cr_assert_eq(pinhole_store_counts(s, &c[0], INT64_MIN, INT64_MAX, counts, &nc), PINHOLE_OK);
    cr_assert_eq(nc, *total);
    pinhole_server_collection_free(&c[0]);
    free(c);
}

Test(write_nothing, reads_what_a_killed_process_committed_then_a_writer_takes_over)
{
    killed_writer();
    const pinhole_store_options ro = {.readonly = 1, .write_nothing = 1};
    pinhole_store *a, *b;
    cr_assert_eq(pinhole_store_open(&a, db.path, &ro), PINHOLE_OK);
    cr_assert_eq(pinhole_store_open(&b, db.path, &ro), PINHOLE_OK);
    uint64_t total, counts[256] = {0}, again[256] = {0}; /* beyond counts_len: zeros */
    read_back(a, &total, counts);
    cr_assert_eq(total, KILLED_REPORTS);
    uint64_t sum = 0;
    for (int i = 0; i < 256; i++)
        sum += counts[i];
    cr_assert_gt(sum, 0);
    read_back(b, &total, again);
    cr_assert_eq(total, KILLED_REPORTS);
    cr_assert_arr_eq(counts, again, sizeof counts);

    /* beside them, in this process, a writable handle cannot write (SQLite shares the read-only
     * shared-memory index they opened) */
    pinhole_store *w = NULL;
    cr_assert_neq(pinhole_store_open(&w, db.path, NULL), PINHOLE_OK);
    cr_assert_null(w);
    pinhole_store_close(a);
    pinhole_store_close(b);

    /* once they are closed it can; a write_nothing handle opened now sees its commits */
    cr_assert_eq(pinhole_store_open(&w, db.path, NULL), PINHOLE_OK);
    pinhole_server_collection *c;
    size_t n;
    cr_assert_eq(pinhole_store_load_collections(w, &c, &n), PINHOLE_OK);
    pinhole_ingest_report r[2];
    const uint8_t p = 6;
    test_ingest_report(&r[0], &c[0], 0, 100, &p); /* id 0: stored by the killed process */
    test_ingest_report(&r[1], &c[0], 0xee, 100, &p);
    cr_assert_eq(pinhole_store_ingest(w, r, 2), PINHOLE_OK);
    cr_assert_eq(r[0].status, PINHOLE_REPORT_REPLAY); /* its payload was 0, not 6 */
    cr_assert_eq(r[1].status, PINHOLE_REPORT_ACCEPTED);
    cr_assert_eq(pinhole_store_open(&a, db.path, &ro), PINHOLE_OK);
    read_back(a, &total, again);
    cr_assert_eq(total, KILLED_REPORTS + 1);
    counts[6]++;
    cr_assert_arr_eq(counts, again, sizeof counts);
    pinhole_store_close(a);
    pinhole_server_collection_free(&c[0]);
    free(c);
    pinhole_store_close(w);
}

Test(write_nothing, a_missing_database_is_not_created)
{
    const pinhole_store_options ro = {.readonly = 1, .write_nothing = 1};
    pinhole_store *a = NULL;
    cr_assert_neq(pinhole_store_open(&a, db.path, &ro), PINHOLE_OK);
    cr_assert_null(a);
    struct stat sb;
    cr_assert_neq(stat(db.path, &sb), 0);
}

Test(write_nothing, reads_a_database_stopped_cleanly)
{
    killed_writer();
    pinhole_store *w; /* the last handle to close checkpoints the WAL and removes -wal and -shm */
    cr_assert_eq(pinhole_store_open(&w, db.path, NULL), PINHOLE_OK);
    pinhole_store_close(w);
    char side[sizeof db.path + 8];
    struct stat sb;
    snprintf(side, sizeof side, "%s-shm", db.path);
    cr_assert_neq(stat(side, &sb), 0, "the -shm file is still there: the test would test nothing");
    const pinhole_store_options ro = {.readonly = 1, .write_nothing = 1};
    pinhole_store *a;
    cr_assert_eq(pinhole_store_open(&a, db.path, &ro), PINHOLE_OK);
    uint64_t total, counts[256] = {0};
    read_back(a, &total, counts);
    cr_assert_eq(total, KILLED_REPORTS);
    pinhole_store_close(a);
}
