/* Test support: the store suite's fixture, a fresh SQLite file or PostgreSQL database per test. */
#include "tests/support/store_suite.h"

#include "common/clock.h"
#include "common/error.h"
#include "tests/support/tmpdb.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef PINHOLE_WITH_POSTGRESQL
#include <libpq-fe.h>
#endif

char store_url[512];
int on_pg;
static test_tmpdb tmpdb;

#ifdef PINHOLE_WITH_POSTGRESQL
static char dbname[64]; /* the test's database */

/* Run sql on the server of PINHOLE_PG_URI (database `pinhole` when admin, else the test's). */
static void pg_sql(int admin, const char *sql)
{
    PGconn *c = PQconnectdb(admin ? getenv("PINHOLE_PG_URI") : store_url);
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
              "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

/* The number one query gives, on the test's database. */
static long long pg_count(const char *sql)
{
    PGconn *c = PQconnectdb(store_url);
    cr_assert_eq(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
    const long long n = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return n;
}
#endif

void store_suite_setup(void)
{
    cr_assert(sodium_init() >= 0);
    const char *pg = getenv("PINHOLE_PG_URI");
    on_pg = pg && *pg;
    if (!on_pg) {
        test_tmpdb_make(&tmpdb);
        snprintf(store_url, sizeof store_url, "%s", tmpdb.path);
        return;
    }
#ifdef PINHOLE_WITH_POSTGRESQL
    /* a database of its own per test: postgresql:///pinhole?... becomes postgresql:///t_...? */
    snprintf(dbname, sizeof dbname, "t_%ld_%08" PRIx32, (long)getpid(), randombytes_random());
    const char *q = strchr(pg, '?');
    cr_assert_not_null(q, "PINHOLE_PG_URI without parameters: %s", pg);
    snprintf(store_url, sizeof store_url, "postgresql:///%s%s", dbname, q);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", dbname);
    pg_sql(1, sql);
#else
    cr_skip_test("PostgreSQL backend not built");
#endif
}

void store_suite_teardown(void)
{
    pinhole_clock_set_offset(0); /* the tests of simulated days move the clock */
    if (!on_pg) {
        test_tmpdb_remove(&tmpdb);
        return;
    }
#ifdef PINHOLE_WITH_POSTGRESQL
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", dbname);
    pg_sql(1, sql);
#endif
}

TestSuite(store, .init = store_suite_setup, .fini = store_suite_teardown, .timeout = 120);

void tamper(const char *sqlite_sql, const char *pg)
{
    if (!on_pg) {
        sqlite3 *d;
        cr_assert_eq(sqlite3_open(store_url, &d), SQLITE_OK);
        cr_assert_eq(sqlite3_exec(d, sqlite_sql, NULL, NULL, NULL), SQLITE_OK, "%s",
                     sqlite3_errmsg(d));
        sqlite3_close(d);
        return;
    }
#ifdef PINHOLE_WITH_POSTGRESQL
    pg_sql(0, pg);
#else
    (void)pg;
#endif
}

long long rows_of(const char *sql)
{
#ifdef PINHOLE_WITH_POSTGRESQL
    if (on_pg)
        return pg_count(sql);
#endif
    sqlite3 *d;
    sqlite3_stmt *q;
    cr_assert_eq(sqlite3_open(store_url, &d), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(d, sql, -1, &q, NULL), SQLITE_OK, "%s", sqlite3_errmsg(d));
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    const long long n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(d);
    return n;
}

void only_on(const char *backend, const char *why)
{
    if (strcmp(backend, on_pg ? "postgresql" : "sqlite") != 0)
        cr_skip_test("%s", why);
}

pinhole_store *open_store(void)
{
    pinhole_store *s = NULL;
    cr_assert_eq(pinhole_store_open(&s, store_url, NULL), PINHOLE_OK, "%s", store_url);
    cr_assert_not_null(s);
    return s;
}

void make_collection(pinhole_store *s, pinhole_server_collection *c)
{
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 40, .epsilon = 2};
    cr_assert_eq(pinhole_store_create_collection(s, c, "t", &p, 3600, 10, NULL), PINHOLE_OK);
}

void assert_consistent(pinhole_store *s)
{
    uint64_t problems = 1;
    char msg[256];
    cr_assert_eq(pinhole_store_check(s, &problems, msg, sizeof msg), PINHOLE_OK);
    cr_assert_eq(problems, 0, "%s", msg);
}

void on_flushed(pinhole_ingest_batch *b, void *arg)
{
    (void)b;
    flushed *f = arg;
    pthread_mutex_lock(&f->mu);
    f->done++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

void wait_flushed(flushed *f, int n)
{
    pthread_mutex_lock(&f->mu);
    while (f->done < n)
        pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
}
