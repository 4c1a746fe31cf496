/* Key rotation in the store (server/store/store.h, pinhole_store_rotate_key), through the interface
 * only, on the store PINHOLE_TEST_STORE_URL names (default: a temporary SQLite file; tests/pg/
 * each_fresh.sh gives each test a fresh PostgreSQL database). Two handles stand for two replicas:
 * a step made through one is what the other loads. The sealing key: prepared (opens, not yet
 * current), activated (current; the old one opens as previous), retired (its reports no longer
 * open; on SQLite its secret bytes are gone from the database file and its WAL). The signing key
 * goes through the same steps. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "common/error.h"
#include "proto/seal.h"
#include "server/store/store.h"
#include "tests/support/tmpdb.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
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

TestSuite(keys, .init = setup, .fini = teardown);

static pinhole_store *open_store(void)
{
    pinhole_store *s = NULL;
    cr_assert_eq(pinhole_store_open(&s, url, NULL), PINHOLE_OK, "%s", url);
    return s;
}

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

Test(keys, sealing_key_rotates_with_an_overlap_seen_by_another_handle)
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
    if (url == db.path) {
        char wal[sizeof db.path + 8];
        snprintf(wal, sizeof wal, "%s-wal", db.path);
        cr_assert(!file_holds(db.path, old_sk), "the retired secret key is still in the file");
        cr_assert(!file_holds(wal, old_sk), "the retired secret key is still in the WAL");
        cr_assert(file_holds(db.path, k.seal_sk) || file_holds(wal, k.seal_sk),
                  "the search cannot find a live key either");
    }
    pinhole_store_close(a);
    pinhole_store_close(b);
    sodium_memzero(old_sk, sizeof old_sk);
    sodium_memzero(&k, sizeof k);
}

Test(keys, signing_key_rotates_through_the_same_steps)
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
