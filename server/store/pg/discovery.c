/* The PostgreSQL backend: discovery collections, their state and the collections of their rounds.
 */
#include "common/error.h"
#include "server/store/pg/pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Append the next round of discovery id (numbered by the rounds recorded so far) collecting into
 * collection, inside the caller's transaction. */
static int add_round(pg_store *s, const char *id, int64_t collection)
{
    char coll[24];
    snprintf(coll, sizeof coll, "%" PRId64, collection);
    const char *v[2] = {id, coll};
    return pg_exec(s,
                   "INSERT INTO discovery_rounds(discovery, round, collection)"
                   " SELECT $1::bigint, count(*), $2::bigint FROM discovery_rounds"
                   " WHERE discovery = $1::bigint",
                   2, v);
}

/* "\x<hex>": the text form of state as a bytea parameter. */
static void state_param(pg_buf *b, const uint8_t *state, size_t len)
{
    pg_buf_str(b, "\\x");
    pg_buf_hex(b, state, len);
}

/* The discovery's id comes from the discoveries' own identity column (as a collection's comes from
 * the collections'), so ids number 1, 2, ... as on SQLite. */
int pg_discovery_create(pinhole_store *base, const char *name, const uint8_t *state, size_t len,
                        int64_t first, int64_t created, int64_t *id)
{
    pg_store *s = pg_of(base);
    pg_buf hex = {0};
    state_param(&hex, state, len);
    if (hex.failed) {
        pg_buf_free(&hex);
        return PINHOLE_ENOMEM;
    }
    char when[24], idtext[24];
    snprintf(when, sizeof when, "%" PRId64, created);
    const char *v[3] = {name, pg_buf_text(&hex), when};
    PGresult *res = NULL;
    if (pg_exec(s, "BEGIN", 0, NULL) != PINHOLE_OK)
        goto fail;
    res = pg_run(s,
                 "INSERT INTO discoveries(name, state, created) VALUES ($1, $2::bytea, $3)"
                 " RETURNING id",
                 3, v, PGRES_TUPLES_OK);
    if (!res || PQntuples(res) != 1)
        goto rollback;
    const int64_t new_id = pg_int(res, 0, 0);
    snprintf(idtext, sizeof idtext, "%" PRId64, new_id);
    if (add_round(s, idtext, first) != PINHOLE_OK || pg_exec(s, "COMMIT", 0, NULL) != PINHOLE_OK)
        goto rollback;
    PQclear(res);
    pg_buf_free(&hex);
    *id = new_id;
    return PINHOLE_OK;
rollback:
    PQclear(PQexec(s->conn, "ROLLBACK"));
fail:
    PQclear(res);
    pg_buf_free(&hex);
    return PINHOLE_EDB;
}

int pg_discovery_save(pinhole_store *base, int64_t id, const uint8_t *state, size_t len,
                      int64_t next)
{
    pg_store *s = pg_of(base);
    pg_buf hex = {0};
    state_param(&hex, state, len);
    if (hex.failed) {
        pg_buf_free(&hex);
        return PINHOLE_ENOMEM;
    }
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%" PRId64, id);
    const char *v[2] = {pg_buf_text(&hex), idtext};
    int rc = PINHOLE_EDB;
    if (pg_exec(s, "BEGIN", 0, NULL) != PINHOLE_OK) {
        pg_buf_free(&hex);
        return PINHOLE_EDB;
    }
    rc = pg_one_row(s, "UPDATE discoveries SET state = $1::bytea WHERE id = $2 RETURNING id", 2, v,
                    NULL);
    if (rc != PINHOLE_OK)
        goto rollback;
    rc = PINHOLE_EDB;
    if ((next > 0 && add_round(s, idtext, next) != PINHOLE_OK) ||
        pg_exec(s, "COMMIT", 0, NULL) != PINHOLE_OK)
        goto rollback;
    pg_buf_free(&hex);
    return PINHOLE_OK;
rollback:
    PQclear(PQexec(s->conn, "ROLLBACK"));
    pg_buf_free(&hex);
    return rc;
}

/* The rounds of d, in order, from discovery_rounds. */
static int load_rounds(pg_store *s, pinhole_store_discovery *d)
{
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%" PRId64, d->id);
    const char *v[1] = {idtext};
    PGresult *res = pg_run(s,
                           "SELECT round, collection FROM discovery_rounds WHERE discovery = $1"
                           " ORDER BY round",
                           1, v, PGRES_TUPLES_OK);
    if (!res)
        return PINHOLE_EDB;
    const int rows = PQntuples(res);
    int rc = PINHOLE_OK;
    if (rows > 0) {
        d->round_collection = malloc((size_t)rows * sizeof *d->round_collection);
        if (!d->round_collection)
            rc = PINHOLE_ENOMEM;
    }
    for (int i = 0; i < rows && rc == PINHOLE_OK; i++) {
        if (pg_int(res, i, 0) != (int64_t)i) { /* rounds are appended 0, 1, ...: a gap is damage */
            rc = PINHOLE_EDB;
            break;
        }
        d->round_collection[d->nrounds++] = pg_int(res, i, 1);
    }
    PQclear(res);
    return rc;
}

int pg_discovery_load(pinhole_store *base, pinhole_store_discovery **out, size_t *n)
{
    pg_store *s = pg_of(base);
    *out = NULL;
    *n = 0;
    PGresult *res = pg_run(s, "SELECT id, name, state, created FROM discoveries ORDER BY id", 0,
                           NULL, PGRES_TUPLES_OK);
    if (!res)
        return PINHOLE_EDB;
    const int rows = PQntuples(res);
    pinhole_store_discovery *arr = calloc(rows ? (size_t)rows : 1, sizeof *arr);
    int rc = arr ? PINHOLE_OK : PINHOLE_ENOMEM;
    for (int i = 0; i < rows && rc == PINHOLE_OK; i++) {
        pinhole_store_discovery *d = &arr[i];
        const char *name = PQgetvalue(res, i, 1);
        const int hexlen = PQgetlength(res, i, 2);
        if (strlen(name) > PINHOLE_COLLECTION_NAME_MAX || hexlen <= 2) {
            rc = PINHOLE_EDB;
            break;
        }
        d->id = pg_int(res, i, 0);
        memcpy(d->name, name, strlen(name) + 1);
        d->created = pg_int(res, i, 3);
        const size_t max = (size_t)(hexlen - 2) / 2;
        d->state = malloc(max);
        if (!d->state) {
            rc = PINHOLE_ENOMEM;
            break;
        }
        const long got = pg_bytea(res, i, 2, d->state, max);
        if (got <= 0) {
            rc = PINHOLE_EDB;
            break;
        }
        d->state_len = (size_t)got;
        rc = load_rounds(s, d);
    }
    PQclear(res);
    if (rc != PINHOLE_OK) {
        for (int i = 0; arr && i < rows; i++)
            pinhole_store_discovery_free(&arr[i]);
        free(arr);
        return rc;
    }
    if (rows == 0) {
        free(arr);
        arr = NULL;
    }
    *out = arr;
    *n = (size_t)rows;
    return PINHOLE_OK;
}
