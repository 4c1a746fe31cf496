/* The storage interface's behaviour (server/store/store.h), one suite run against each backend:
 * a fresh SQLite file per test by default (meson test `store`), a fresh PostgreSQL database per
 * test on the server PINHOLE_PG_URI names (`store_pg`: tests/pg/cluster.sh run sets it); the
 * fixture is tests/support/store_suite.c. The suite is one executable made of files by concept:
 * this one (opening, collections, labels, keys and their rotation, schema upgrades, SQLite's own
 * index and files), test_store_ingest.c (the four ingest outcomes, counts against a direct
 * recount, the check noticing tampering, two handles at once, the writer's flush policy),
 * test_store_jobs.c (the job queue, cancels reaching the job's holder, discovery state) and
 * test_store_retention.c (the report window, retention, closed buckets, collection deletion).
 * A test that holds for one backend only says why it skips the other.
 *
 * Key rotation: the sealing key is prepared (opens, not yet current), activated (current; the old
 * one opens as previous), retired (its reports no longer open; on SQLite its secret bytes are gone
 * from the database file and its WAL); the signing key goes through the same steps. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "common/clock.h"
#include "common/error.h"
#include "common/rng.h"
#include "proto/seal.h"
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

/* ---- opening, collections, keys ---- */

Test(store, urls_choose_the_backend)
{
    pinhole_store *s = open_store();
    cr_assert_str_eq(pinhole_store_backend_name(s), on_pg ? "postgresql" : "sqlite");
    pinhole_store_close(s);
    pinhole_store_close(NULL);
    cr_assert_eq(pinhole_store_open(&s, "nosuch://x", NULL), PINHOLE_EUNSUPPORTED);
    cr_assert_null(s);
    cr_assert_eq(pinhole_store_open(&s, NULL, NULL), PINHOLE_EINVAL);
}

/* Someone else's data where the store should be is refused and left as it is: on SQLite a file
 * that is not a database, on PostgreSQL a database holding another application's table of one of
 * the store's names (and no schema version). */
Test(store, foreign_data_is_refused_and_left_alone)
{
    static const char text[] =
        "not a database at all, just text that is long enough to look like a header....";
    if (!on_pg) {
        FILE *f = fopen(store_url, "w");
        cr_assert_not_null(f);
        fputs(text, f);
        fclose(f);
    } else {
        tamper(NULL,
               "CREATE TABLE collections(note text); INSERT INTO collections VALUES ('theirs')");
    }
    pinhole_store *s;
    cr_assert_eq(pinhole_store_open(&s, store_url, NULL), PINHOLE_EIO);
    cr_assert_null(s);
    if (!on_pg) {
        char back[sizeof text + 8] = "";
        FILE *f = fopen(store_url, "r");
        cr_assert_not_null(f);
        cr_assert_eq(fread(back, 1, sizeof back, f), sizeof text - 1);
        fclose(f);
        cr_assert_str_eq(back, text);
    } else {
        cr_assert_eq(rows_of("SELECT count(*) FROM collections WHERE note = 'theirs'"), 1);
        cr_assert_eq(rows_of("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), 1);
    }
}

/* Collections and the server's keys persist across a reopen; the keys are made once and shared by
 * every handle open at the same time (every replica serves the same keys). */
Test(store, collections_and_keys_persist)
{
    pinhole_store *s = open_store(), *t = open_store();
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
    pinhole_server_keys k1, k2, kt;
    cr_assert_eq(pinhole_store_server_keys(s, &k1), PINHOLE_OK);
    cr_assert_eq(pinhole_store_server_keys(t, &kt), PINHOLE_OK);
    cr_assert_eq(memcmp(&k1, &kt, sizeof k1), 0);
    pinhole_store_close(t);
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
Test(store, multi_attribute_parents_share_the_ids)
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
    s = open_store();
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

    s = open_store();
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_OK);
    cr_assert_eq(n, 1);
    cr_assert(all[0].wire.has_labels && memcmp(all[0].fingerprint, v2fp, sizeof v2fp) == 0);
    pinhole_server_collection_free(&all[0]);
    free(all);
    pinhole_store_close(s);

    /* as an older server stored it */
    char hex[2 * PINHOLE_FINGERPRINT_BYTES + 1], lite[160], pg[160];
    sodium_bin2hex(hex, sizeof hex, v1fp, sizeof v1fp);
    snprintf(lite, sizeof lite, "UPDATE collections SET fingerprint = X'%s'", hex);
    snprintf(pg, sizeof pg, "UPDATE collections SET fingerprint = '\\x%s'::bytea", hex);
    tamper(lite, pg);
    s = open_store();
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_OK);
    cr_assert(!all[0].wire.has_labels && all[0].labels_list == NULL);
    cr_assert(memcmp(all[0].fingerprint, v1fp, sizeof v1fp) == 0);
    cr_assert(all[0].label != NULL, "the labels themselves stay");
    pinhole_server_collection_free(&all[0]);
    free(all);
    pinhole_store_close(s);

    /* neither fingerprint: the parameters changed under it */
    tamper("UPDATE collections SET fingerprint = zeroblob(16)",
           "UPDATE collections SET fingerprint = decode(repeat('00', 16), 'hex')");
    s = open_store();
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_EDB);
    pinhole_store_close(s);
}

/* ---- key rotation: two handles stand for two replicas, a step made through one is what the
 * other loads ---- */

/* Does any of the keys k loads open a report sealed to pk? */
static int opens(const pinhole_server_keys *k, const uint8_t pk[32])
{
    const uint8_t msg[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t sealed[sizeof msg + PINHOLE_SEALBYTES], out[sizeof msg];
    size_t n;
    cr_assert_eq(pinhole_report_seal(msg, sizeof msg, pk, sealed, sizeof sealed, &n), PINHOLE_OK);
    int ok = pinhole_report_open(sealed, sizeof sealed, k->seal_pk, k->seal_sk, out, sizeof out,
                                 &n) == PINHOLE_OK;
    for (int i = 0; i < k->seal_others; i++)
        ok |= pinhole_report_open(sealed, sizeof sealed, k->seal_other_pk[i], k->seal_other_sk[i],
                                  out, sizeof out, &n) == PINHOLE_OK;
    return ok;
}

/* Whether the bytes needle[0..32) occur in the file path (absent file: no). */
static int file_holds(const char *path, const uint8_t needle[32])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            buf = realloc(buf, cap *= 2);
            cr_assert_not_null(buf);
        }
    }
    fclose(f);
    const int found = memmem(buf, len, needle, 32) != NULL;
    free(buf);
    return found;
}

Test(store, sealing_key_rotates_with_an_overlap_seen_by_another_handle)
{
    pinhole_store *a = open_store(), *b = open_store();
    pinhole_server_keys k;
    cr_assert_eq(pinhole_store_server_keys(a, &k), PINHOLE_OK);
    cr_assert_eq(k.seal_others, 0);
    uint8_t old_pk[32], old_sk[32], pk[3][PINHOLE_KEY_PUBLICBYTES];
    memcpy(old_pk, k.seal_pk, 32);
    memcpy(old_sk, k.seal_sk, 32);
    int have[3];

    /* prepare on a: b opens reports sealed to the next key, still publishes the old one */
    cr_assert_eq(pinhole_store_rotate_key(a, PINHOLE_KEY_SEALING, PINHOLE_KEY_PREPARE, pk, have),
                 PINHOLE_OK);
    cr_assert(have[0] && have[1] && !have[2]);
    cr_assert_eq(memcmp(pk[0], old_pk, 32), 0);
    uint8_t next_pk[32];
    memcpy(next_pk, pk[1], 32);
    cr_assert_eq(pinhole_store_server_keys(b, &k), PINHOLE_OK);
    cr_assert_eq(memcmp(k.seal_pk, old_pk, 32), 0);
    cr_assert_eq(k.seal_others, 1);
    cr_assert(opens(&k, next_pk) && opens(&k, old_pk));

    /* activate on b: a loads the new key as current and the old one as previous */
    cr_assert_eq(pinhole_store_rotate_key(b, PINHOLE_KEY_SEALING, PINHOLE_KEY_ACTIVATE, pk, have),
                 PINHOLE_OK);
    cr_assert(have[0] && !have[1] && have[2]);
    cr_assert_eq(memcmp(pk[0], next_pk, 32), 0);
    cr_assert_eq(memcmp(pk[2], old_pk, 32), 0);
    cr_assert_eq(pinhole_store_server_keys(a, &k), PINHOLE_OK);
    cr_assert_eq(memcmp(k.seal_pk, next_pk, 32), 0);
    cr_assert_eq(k.seal_others, 1);
    cr_assert_eq(memcmp(k.seal_other_pk[0], old_pk, 32), 0);
    cr_assert_eq(memcmp(k.seal_other_sk[0], old_sk, 32), 0);
    cr_assert(opens(&k, old_pk) && opens(&k, next_pk));

    /* no second activation while the previous key is kept; without a prepared key neither */
    cr_assert_eq(pinhole_store_rotate_key(a, PINHOLE_KEY_SEALING, PINHOLE_KEY_ACTIVATE, pk, have),
                 PINHOLE_ENOTFOUND);
    cr_assert_eq(pinhole_store_rotate_key(a, PINHOLE_KEY_SEALING, PINHOLE_KEY_PREPARE, pk, have),
                 PINHOLE_OK);
    uint8_t third_pk[32];
    memcpy(third_pk, pk[1], 32);
    cr_assert_eq(pinhole_store_rotate_key(a, PINHOLE_KEY_SEALING, PINHOLE_KEY_ACTIVATE, pk, have),
                 PINHOLE_EPOLICY);

    /* retire on a: b no longer opens reports sealed to the old key; the others still open */
    cr_assert_eq(pinhole_store_rotate_key(a, PINHOLE_KEY_SEALING, PINHOLE_KEY_RETIRE, pk, have),
                 PINHOLE_OK);
    cr_assert(have[0] && have[1] && !have[2]);
    cr_assert_eq(pinhole_store_server_keys(b, &k), PINHOLE_OK);
    cr_assert_eq(memcmp(k.seal_pk, next_pk, 32), 0);
    cr_assert_eq(k.seal_others, 1);
    cr_assert(!opens(&k, old_pk));
    cr_assert(opens(&k, next_pk) && opens(&k, third_pk));
    cr_assert_eq(pinhole_store_rotate_key(b, PINHOLE_KEY_SEALING, PINHOLE_KEY_RETIRE, pk, have),
                 PINHOLE_OK); /* nothing to retire: no change */
    cr_assert(have[0] && have[1] && !have[2]);

    /* SQLite: the retired secret key's bytes are in neither the database file nor its WAL, while
     * the handles stay open (as a running server's do, so the WAL is not removed at close) */
    if (!on_pg) {
        char wal[sizeof store_url + 8];
        snprintf(wal, sizeof wal, "%s-wal", store_url);
        cr_assert(!file_holds(store_url, old_sk), "the retired secret key is still in the file");
        cr_assert(!file_holds(wal, old_sk), "the retired secret key is still in the WAL");
        cr_assert(file_holds(store_url, k.seal_sk) || file_holds(wal, k.seal_sk),
                  "the search cannot find a live key either");
    }
    pinhole_store_close(a);
    pinhole_store_close(b);
    sodium_memzero(old_sk, sizeof old_sk);
    sodium_memzero(&k, sizeof k);
}

Test(store, signing_key_rotates_through_the_same_steps)
{
    pinhole_store *a = open_store(), *b = open_store();
    pinhole_server_keys k;
    cr_assert_eq(pinhole_store_server_keys(a, &k), PINHOLE_OK);
    uint8_t old_pk[32], seal_pk[32], pk[3][PINHOLE_KEY_PUBLICBYTES];
    memcpy(old_pk, k.sign_pk, 32);
    memcpy(seal_pk, k.seal_pk, 32);
    int have[3];
    cr_assert_eq(pinhole_store_rotate_key(a, PINHOLE_KEY_SIGNING, PINHOLE_KEY_SHOW, pk, have),
                 PINHOLE_OK);
    cr_assert(have[0] && !have[1] && !have[2]);
    cr_assert_eq(memcmp(pk[0], old_pk, 32), 0);
    cr_assert_eq(pinhole_store_rotate_key(a, PINHOLE_KEY_SIGNING, PINHOLE_KEY_PREPARE, pk, have),
                 PINHOLE_OK);
    uint8_t next_pk[32];
    memcpy(next_pk, pk[1], 32);
    cr_assert_eq(pinhole_store_rotate_key(b, PINHOLE_KEY_SIGNING, PINHOLE_KEY_ACTIVATE, pk, have),
                 PINHOLE_OK);
    cr_assert_eq(pinhole_store_server_keys(a, &k), PINHOLE_OK);
    cr_assert_eq(memcmp(k.sign_pk, next_pk, 32), 0);
    cr_assert_eq(memcmp(k.seal_pk, seal_pk, 32), 0, "the sealing key moved with the signing key");
    cr_assert_eq(k.seal_others, 0);
    cr_assert_eq(pinhole_store_rotate_key(a, PINHOLE_KEY_SIGNING, PINHOLE_KEY_RETIRE, pk, have),
                 PINHOLE_OK);
    cr_assert(have[0] && !have[1] && !have[2]);
    cr_assert_eq(memcmp(pk[0], next_pk, 32), 0);
    sodium_memzero(&k, sizeof k);
    pinhole_store_close(a);
    pinhole_store_close(b);
}

/* A file made by a server before schema versions (no window columns, user_version 0) is
 * upgraded on open: its collections and reports stay, with no window. SQLite only (PostgreSQL
 * has had versions from its first schema). */
Test(store, sqlite_file_of_the_first_schema_is_upgraded)
{
    if (on_pg)
        cr_skip_test("SQLite's upgrade");
    pinhole_store *s;
    pinhole_server_collection c;
    s = open_store();
    make_collection(s, &c);
    const uint8_t p3 = 3;
    pinhole_ingest_report r;
    report(&r, &c, 1, 100, &p3);
    cr_assert_eq(pinhole_store_ingest(s, &r, 1), PINHOLE_OK);
    pinhole_store_close(s);
    /* back to the first schema: what every earlier server made */
    tamper("ALTER TABLE collections DROP COLUMN max_report_age;"
           " ALTER TABLE collections DROP COLUMN max_clock_skew;"
           " ALTER TABLE collections DROP COLUMN keep_reports;"
           " ALTER TABLE collections DROP COLUMN deleting; DROP TABLE gc_state;"
           " ALTER TABLE collections DROP COLUMN closed_before;"
           " PRAGMA user_version = 0;",
           NULL);
    pinhole_store_options ro = {.readonly = 1}; /* read-only: loads it as it is */
    cr_assert_eq(pinhole_store_open(&s, store_url, &ro), PINHOLE_OK);
    pinhole_server_collection *all;
    size_t n;
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_OK);
    cr_assert(n == 1 && all[0].window.max_report_age == 0);
    pinhole_server_collection_free(&all[0]);
    free(all);
    pinhole_store_close(s);
    s = open_store(); /* upgrades */
    const pinhole_collection_window w = {.max_report_age = 60};
    cr_assert_eq(pinhole_store_set_window(s, c.id, &w), PINHOLE_OK);
    uint64_t total;
    cr_assert_eq(pinhole_store_report_total(s, c.id, &total), PINHOLE_OK);
    cr_assert_eq(total, 1);
    assert_consistent(s);
    pinhole_store_close(s);
    sqlite3 *db;
    sqlite3_stmt *q;
    cr_assert_eq(sqlite3_open(store_url, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(q, 0), 3);
    sqlite3_finalize(q);
    sqlite3_close(db);
    pinhole_server_collection_free(&c);
}

/* The schema version a store records (SQLite: PRAGMA user_version; PostgreSQL: schema_version). */
static long long schema_version_of(void)
{
    return rows_of(on_pg ? "SELECT max(version) FROM schema_version"
                         : "SELECT user_version FROM pragma_user_version");
}

/* A store of an older schema is upgraded on open: its window stays, and a collection can then be
 * deleted and collected. SQLite from version 1 (report windows, before the garbage collector's
 * state, deleted collections and closed time buckets); PostgreSQL from version 1 (before closed
 * time buckets). */
Test(store, store_of_schema_1_is_upgraded)
{
    pinhole_store *s = open_store();
    pinhole_server_collection c;
    make_collection(s, &c);
    const pinhole_collection_window w = {.max_report_age = 7 * 86400, .keep_reports = 1};
    cr_assert_eq(pinhole_store_set_window(s, c.id, &w), PINHOLE_OK);
    const uint8_t p3 = 3;
    pinhole_ingest_report r;
    report(&r, &c, 1, 100, &p3);
    cr_assert_eq(pinhole_store_ingest(s, &r, 1), PINHOLE_OK);
    pinhole_store_close(s);
    const long long current = on_pg ? 2 : 3;
    cr_assert_eq(schema_version_of(), current);
    tamper("ALTER TABLE collections DROP COLUMN deleting; DROP TABLE gc_state;"
           " ALTER TABLE collections DROP COLUMN closed_before; PRAGMA user_version = 1;",
           "ALTER TABLE collections DROP COLUMN closed_before;"
           " DELETE FROM schema_version WHERE version > 1;");
    cr_assert_eq(schema_version_of(), 1);
    s = open_store(); /* upgrades */
    cr_assert_eq(schema_version_of(), current);
    pinhole_server_collection *all;
    size_t n;
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_OK);
    cr_assert(n == 1 && all[0].window.max_report_age == 7 * 86400 && all[0].window.keep_reports);
    pinhole_server_collection_free(&all[0]);
    free(all);
    assert_consistent(s);
    cr_assert_eq(pinhole_store_delete_collection(s, c.id), PINHOLE_OK);
    cr_assert_eq(pinhole_store_maintain(s, PINHOLE_UPKEEP_PERIODIC, NULL), PINHOLE_OK);
    cr_assert_eq(rows_of("SELECT count(*) FROM reports"), 0);
    cr_assert_eq(pinhole_store_load_collections(s, &all, &n), PINHOLE_OK);
    cr_assert_eq(n, 0);
    free(all);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
}

/* A store whose schema a newer server made (its version above this server's) is refused, and left
 * as it is, on both backends. */
Test(store, schema_of_a_newer_server_is_refused)
{
    pinhole_store *s = open_store();
    pinhole_server_collection c;
    make_collection(s, &c);
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
    const long long v = schema_version_of();
    cr_assert_geq(v, 1);
    char lite[64], pg[96];
    snprintf(lite, sizeof lite, "PRAGMA user_version = %lld", v + 1);
    snprintf(pg, sizeof pg, "INSERT INTO schema_version(version) VALUES (%lld)", v + 1);
    tamper(lite, pg);
    s = (pinhole_store *)&s;
    cr_assert_eq(pinhole_store_open(&s, store_url, NULL), PINHOLE_EIO);
    cr_assert_null(s);
    cr_assert_eq(schema_version_of(), v + 1);
    cr_assert_eq(rows_of("SELECT count(*) FROM collections"), 1);
}

/* ---- SQLite's own ---- */

/* The row set holds for report id i (its first 8 bytes i, the rest zero) of collection coll, -1
 * when none of the rows its hash leads to is i. */
static int64_t row_of(const pinhole_idset *set, int64_t coll, int64_t i)
{
    uint8_t id[16] = {0};
    memcpy(id, &i, sizeof i);
    size_t pos = 0;
    int64_t row, found = -1;
    while (pinhole_idset_next(set, pinhole_idset_hash(set, coll, id), &pos, &row))
        if (row == i)
            found = row;
    return found;
}

Test(store, idset_finds_every_added_id)
{
    only_on("sqlite", "SQLite's in-memory index of report ids");
    pinhole_idset set;
    cr_assert_eq(pinhole_idset_init(&set), PINHOLE_OK);
    uint8_t id[16] = {0};
    for (int64_t i = 0; i < 200000; i++) { /* grows through several doublings */
        memcpy(id, &i, sizeof i);
        cr_assert_eq(pinhole_idset_add(&set, pinhole_idset_hash(&set, 1, id), i, 20000 + i % 10),
                     0);
    }
    for (int64_t i = 0; i < 200000; i += 997) {
        cr_assert_eq(row_of(&set, 1, i), i);
        cr_assert_eq(row_of(&set, 2, i), -1); /* the same id in another collection: another key */
    }
    /* dropping days 20000..20007 leaves the ids of days 20008 and 20009 (a fifth), in a table
     * shrunk to fit them: 40,000 / 0.7 -> 65,536 slots */
    const size_t before = pinhole_idset_bytes(&set);
    cr_assert_eq(pinhole_idset_drop_days(&set, 20007), 160000);
    cr_assert_eq(set.used, 40000);
    cr_assert_eq(pinhole_idset_bytes(&set), 65536 * sizeof(pinhole_idset_slot));
    cr_assert_lt(pinhole_idset_bytes(&set), before);
    cr_assert_eq(pinhole_idset_drop_days(&set, 20007), 0);
    for (int64_t i = 0; i < 200000; i += 7)
        cr_assert_eq(row_of(&set, 1, i), i % 10 >= 8 ? i : -1, "id %lld", (long long)i);
    pinhole_idset_free(&set);
}

/* The database holds the server's secret keys: it is created 0600 whatever the umask, and so are
 * its -wal and -shm files. */
Test(store, files_are_created_private)
{
    only_on("sqlite", "SQLite's database files");
    const mode_t old = umask(022);
    pinhole_store *s;
    pinhole_server_collection c;
    s = open_store();
    make_collection(s, &c);
    pinhole_server_keys k;
    cr_assert_eq(pinhole_store_server_keys(s, &k), PINHOLE_OK);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[sizeof store_url + 8];
        struct stat sb;
        snprintf(p, sizeof p, "%s%s", store_url, suffix[i]);
        cr_assert_eq(stat(p, &sb), 0, "%s", p);
        cr_assert_eq(sb.st_mode & 0777, 0600, "%s is mode %o", p, (unsigned)(sb.st_mode & 0777));
    }
    pinhole_store_close(s);
    pinhole_server_collection_free(&c);
    umask(old);
}
