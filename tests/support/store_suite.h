/* Test support: the fixture of the store suite (tests/server/store/test_store*.c, one executable
 * run as meson tests `store` and `store_pg`): each test gets a fresh, empty store, a temporary
 * SQLite file by default or, when PINHOLE_PG_URI names a PostgreSQL server (tests/pg/cluster.sh
 * run sets it), a database of its own on that server, created before the test and dropped after
 * it; helpers to look at and change the store's tables behind its back. */
#ifndef PINHOLE_TESTS_SUPPORT_STORE_SUITE_H
#define PINHOLE_TESTS_SUPPORT_STORE_SUITE_H

#include "server/store/store.h"
#include "server/store/writer.h"

#include <pthread.h>

/* The store's URL for this test: the SQLite file's path or a postgresql:// URI. */
extern char store_url[512];
/* 1 when the test runs on PostgreSQL, 0 on SQLite. */
extern int on_pg;

/* The suite's .init and .fini (TestSuite(store, ...) in tests/support/store_suite.c). */
void store_suite_setup(void);
void store_suite_teardown(void);

/** Run statements behind the store's back: sqlite_sql on SQLite, pg on PostgreSQL. */
void tamper(const char *sqlite_sql, const char *pg);

/** The number one query gives, behind the store's back (the same SQL on either backend). */
long long rows_of(const char *sql);

/** Skip the test unless it runs on backend, "sqlite" or "postgresql" (why: what only that
 * backend promises). */
void only_on(const char *backend, const char *why);

/** A handle on the test's store (the test fails if it does not open). */
pinhole_store *open_store(void);

/** A PGR collection with k = 40, epsilon = 2, one-hour buckets (the planner's q and t: K < 256,
 * one payload byte). */
void make_collection(pinhole_store *s, pinhole_server_collection *c);

/** The consistency check finds no problem. */
void assert_consistent(pinhole_store *s);

/* Batches handed to a writer that it has finished (its done callback ran); wait_flushed waits for
 * the count to reach n. Initialise with {0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER}.
 */
typedef struct flushed {
    int done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} flushed;

/** A batch's done callback (pinhole_ingest_batch.done) counting into the flushed arg. */
void on_flushed(pinhole_ingest_batch *b, void *arg);

/** Wait until f has counted n finished batches. */
void wait_flushed(flushed *f, int n);

#endif
