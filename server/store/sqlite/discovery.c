/* The SQLite backend: discovery collections, their state and the collections of their rounds. */
#include "common/error.h"
#include "server/store/sqlite/sqlite.h"

#include <stdlib.h>
#include <string.h>

/* Append round `round` of discovery id collecting into collection, inside the caller's
 * transaction. */
static int add_round(sqlite_store *s, int64_t id, int64_t round, int64_t collection)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO discovery_rounds(discovery, round, collection) "
                           "VALUES(?,?,?)",
                           -1, &q, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, round);
    sqlite3_bind_int64(q, 3, collection);
    const int rc = sqlite3_step(q) == SQLITE_DONE ? PINHOLE_OK : PINHOLE_EDB;
    sqlite3_finalize(q);
    return rc;
}

/* Replace discovery id's state, inside the caller's transaction; *changed receives the rows
 * changed (0: no such discovery). */
static int put_state(sqlite_store *s, int64_t id, const uint8_t *state, size_t len, int *changed)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "UPDATE discoveries SET state = ? WHERE id = ?", -1, &q, NULL) !=
        SQLITE_OK)
        return PINHOLE_EDB;
    sqlite3_bind_blob64(q, 1, state, len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, id);
    const int rc = sqlite3_step(q) == SQLITE_DONE ? PINHOLE_OK : PINHOLE_EDB;
    sqlite3_finalize(q);
    *changed = sqlite3_changes(s->db);
    return rc;
}

int pinhole_sqlite_discovery_create(pinhole_store *base, const char *name, const uint8_t *state,
                                    size_t len, int64_t first, int64_t created, int64_t *id)
{
    sqlite_store *s = sqlite_of(base);
    if (pinhole_sqlite_step_done(s->stmt[SQ_BEGIN]) != PINHOLE_OK)
        return PINHOLE_EDB;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO discoveries(name, state, created) VALUES(?,?,?)", -1,
                           &q, NULL) != SQLITE_OK)
        goto rollback;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob64(q, 2, state, len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, created);
    const int ok = sqlite3_step(q) == SQLITE_DONE;
    sqlite3_finalize(q);
    if (!ok)
        goto rollback;
    const int64_t new_id = sqlite3_last_insert_rowid(s->db);
    if (add_round(s, new_id, 0, first) != PINHOLE_OK ||
        pinhole_sqlite_step_done(s->stmt[SQ_COMMIT]) != PINHOLE_OK)
        goto rollback;
    *id = new_id;
    return PINHOLE_OK;
rollback:
    pinhole_sqlite_step_done(s->stmt[SQ_ROLLBACK]);
    return PINHOLE_EDB;
}

int pinhole_sqlite_discovery_save(pinhole_store *base, int64_t id, const uint8_t *state, size_t len,
                                  int64_t next)
{
    sqlite_store *s = sqlite_of(base);
    if (pinhole_sqlite_step_done(s->stmt[SQ_BEGIN]) != PINHOLE_OK)
        return PINHOLE_EDB;
    int changed = 0, rc;
    if ((rc = put_state(s, id, state, len, &changed)) != PINHOLE_OK)
        goto rollback;
    if (changed == 0) {
        rc = PINHOLE_ENOTFOUND;
        goto rollback;
    }
    if (next > 0) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM discovery_rounds WHERE discovery = ?",
                               -1, &q, NULL) != SQLITE_OK) {
            rc = PINHOLE_EDB;
            goto rollback;
        }
        sqlite3_bind_int64(q, 1, id);
        const int64_t rounds = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
        sqlite3_finalize(q);
        if (rounds < 0 || (rc = add_round(s, id, rounds, next)) != PINHOLE_OK) {
            rc = PINHOLE_EDB;
            goto rollback;
        }
    }
    if (pinhole_sqlite_step_done(s->stmt[SQ_COMMIT]) != PINHOLE_OK) {
        rc = PINHOLE_EDB;
        goto rollback;
    }
    return PINHOLE_OK;
rollback:
    pinhole_sqlite_step_done(s->stmt[SQ_ROLLBACK]);
    return rc;
}

/* The rounds of d, in order, from discovery_rounds. */
static int load_rounds(sqlite_store *s, pinhole_store_discovery *d)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT round, collection FROM discovery_rounds WHERE discovery = ? "
                           "ORDER BY round",
                           -1, &q, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    sqlite3_bind_int64(q, 1, d->id);
    int rc = PINHOLE_OK, step;
    size_t cap = 0;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        if (sqlite3_column_int64(q, 0) != (int64_t)d->nrounds) {
            rc = PINHOLE_EDB; /* rounds are appended 0, 1, ...: a gap is a damaged store */
            break;
        }
        void *grown =
            sqlite_reserve(d->round_collection, &cap, d->nrounds, sizeof *d->round_collection);
        if (!grown) {
            rc = PINHOLE_ENOMEM;
            break;
        }
        d->round_collection = grown;
        d->round_collection[d->nrounds++] = sqlite3_column_int64(q, 1);
    }
    if (rc == PINHOLE_OK && step != SQLITE_DONE)
        rc = PINHOLE_EDB;
    sqlite3_finalize(q);
    return rc;
}

/* A row of discoveries (id, name, state, created) with its rounds into a
 * pinhole_store_discovery; ctx is the sqlite_store. */
static int read_discovery(sqlite3_stmt *q, void *elem, void *ctx)
{
    pinhole_store_discovery *d = elem;
    const char *name = (const char *)sqlite3_column_text(q, 1);
    const int sl = sqlite3_column_bytes(q, 2);
    if (!name || strlen(name) > PINHOLE_COLLECTION_NAME_MAX || sl <= 0)
        return PINHOLE_EDB;
    d->id = sqlite3_column_int64(q, 0);
    memcpy(d->name, name, strlen(name) + 1);
    d->created = sqlite3_column_int64(q, 3);
    d->state = malloc((size_t)sl);
    if (!d->state)
        return PINHOLE_ENOMEM;
    memcpy(d->state, sqlite3_column_blob(q, 2), (size_t)sl);
    d->state_len = (size_t)sl;
    const int rc = load_rounds(ctx, d);
    if (rc != PINHOLE_OK)
        pinhole_store_discovery_free(d);
    return rc;
}

static void release_discovery(void *elem)
{
    pinhole_store_discovery_free(elem);
}

int pinhole_sqlite_discovery_load(pinhole_store *base, pinhole_store_discovery **out, size_t *n)
{
    sqlite_store *s = sqlite_of(base);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT id, name, state, created FROM discoveries ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    void *arr;
    const int rc =
        pinhole_sqlite_load_rows(q, sizeof **out, read_discovery, release_discovery, s, &arr, n);
    *out = arr;
    return rc;
}
