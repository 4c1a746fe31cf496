/* The SQLite backend: count vectors, buckets and report totals over a time range. */
#include "common/bytes.h"
#include "common/error.h"
#include "server/store/sqlite/sqlite.h"

#include <stdlib.h>
#include <string.h>

/* Add a stored chunk blob into counts; PINHOLE_EFORMAT when it does not fit the vector. */
static int add_chunk(const pinhole_server_collection *c, int64_t chunk, const void *blob, int bytes,
                     uint64_t *counts)
{
    const uint64_t len = c->cfg.counts_len;
    if (chunk < 0 || (uint64_t)chunk * PINHOLE_SQLITE_CHUNK >= len)
        return PINHOLE_EFORMAT;
    const uint64_t base = (uint64_t)chunk * PINHOLE_SQLITE_CHUNK;
    const uint64_t m = len - base < PINHOLE_SQLITE_CHUNK ? len - base : PINHOLE_SQLITE_CHUNK;
    if (bytes != (int)(m * 8))
        return PINHOLE_EFORMAT;
    const uint8_t *p = blob;
    for (uint64_t i = 0; i < m; i++)
        counts[base + i] += pinhole_load_le(p + 8 * i, 8);
    return PINHOLE_OK;
}

int pinhole_sqlite_counts(pinhole_store *base, const pinhole_server_collection *c,
                          int64_t from_bucket, int64_t to_bucket, uint64_t *counts, uint64_t *n)
{
    sqlite_store *s = sqlite_of(base);
    memset(counts, 0, c->cfg.counts_len * sizeof *counts);
    *n = 0;
    /* One read transaction, so the vector and the total come from the same snapshot (unless the
     * caller holds one already). */
    const int own = sqlite3_get_autocommit(s->db);
    if (own && sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    int rc = PINHOLE_OK, step;
    sqlite3_stmt *q = s->stmt[SQ_RANGE];
    sqlite3_bind_int64(q, 1, c->id);
    sqlite3_bind_int64(q, 2, from_bucket);
    sqlite3_bind_int64(q, 3, to_bucket);
    while (rc == PINHOLE_OK && (step = sqlite3_step(q)) == SQLITE_ROW)
        rc = add_chunk(c, sqlite3_column_int64(q, 0), sqlite3_column_blob(q, 1),
                       sqlite3_column_bytes(q, 1), counts);
    if (rc == PINHOLE_OK && step != SQLITE_DONE)
        rc = PINHOLE_EDB;
    sqlite3_reset(q);
    q = s->stmt[SQ_RANGE_N];
    sqlite3_bind_int64(q, 1, c->id);
    sqlite3_bind_int64(q, 2, from_bucket);
    sqlite3_bind_int64(q, 3, to_bucket);
    if (rc == PINHOLE_OK && sqlite3_step(q) == SQLITE_ROW)
        *n = (uint64_t)sqlite3_column_int64(q, 0);
    else if (rc == PINHOLE_OK)
        rc = PINHOLE_EDB;
    sqlite3_reset(q);
    if (own)
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    return rc;
}

int pinhole_sqlite_buckets(pinhole_store *base, int64_t collection, int64_t from_bucket,
                           int64_t to_bucket, int64_t **bucket, uint64_t **n, size_t *count)
{
    sqlite_store *s = sqlite_of(base);
    *bucket = NULL;
    *n = NULL;
    *count = 0;
    size_t cap = 0;
    sqlite3_stmt *q = s->stmt[SQ_BUCKETS];
    sqlite3_bind_int64(q, 1, collection);
    sqlite3_bind_int64(q, 2, from_bucket);
    sqlite3_bind_int64(q, 3, to_bucket);
    int rc = PINHOLE_OK, step;
    while (rc == PINHOLE_OK && (step = sqlite3_step(q)) == SQLITE_ROW) {
        if (*count == cap) {
            cap = cap ? 2 * cap : 64;
            int64_t *b = realloc(*bucket, cap * sizeof *b);
            if (b)
                *bucket = b;
            uint64_t *m = realloc(*n, cap * sizeof *m);
            if (m)
                *n = m;
            if (!b || !m) {
                rc = PINHOLE_ENOMEM;
                break;
            }
        }
        (*bucket)[*count] = sqlite3_column_int64(q, 0);
        (*n)[*count] = (uint64_t)sqlite3_column_int64(q, 1);
        (*count)++;
    }
    if (rc == PINHOLE_OK && step != SQLITE_DONE)
        rc = PINHOLE_EDB;
    sqlite3_reset(q);
    if (rc != PINHOLE_OK) {
        free(*bucket);
        free(*n);
        *bucket = NULL;
        *n = NULL;
        *count = 0;
    }
    return rc;
}

int pinhole_sqlite_report_total(pinhole_store *base, int64_t collection, uint64_t *n)
{
    sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *q = s->stmt[SQ_TOTAL];
    sqlite3_bind_int64(q, 1, collection);
    int rc = PINHOLE_EDB;
    if (sqlite3_step(q) == SQLITE_ROW) {
        *n = (uint64_t)sqlite3_column_int64(q, 0);
        rc = PINHOLE_OK;
    }
    sqlite3_reset(q);
    return rc;
}
