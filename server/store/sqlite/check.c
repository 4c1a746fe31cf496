/* The SQLite backend: the consistency check (integrity, unique ids, counts against a recount). */
#include "common/error.h"
#include "server/estimate/estimate.h"
#include "server/store/sqlite/sqlite.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Compare one bucket's recount with what is stored; returns the number of mismatches. */
static uint64_t check_bucket(sqlite_store *s, const pinhole_server_collection *c, int64_t bucket,
                             const uint64_t *recount, uint64_t nrecount, uint64_t *stored,
                             uint64_t *chunk_rows, char *msg, size_t msglen, uint64_t problems)
{
    uint64_t bad = 0, n = 0;
    uint64_t rows = 0;
    if (pinhole_sqlite_counts(&s->base, c, bucket, bucket, stored, &n) != PINHOLE_OK)
        bad++;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM counts WHERE collection = ? AND bucket = ?",
                           -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, c->id);
        sqlite3_bind_int64(q, 2, bucket);
        if (sqlite3_step(q) == SQLITE_ROW)
            rows = (uint64_t)sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    }
    *chunk_rows += rows;
    if (n != nrecount)
        bad++;
    for (uint64_t i = 0; i < c->cfg.counts_len; i++)
        if (stored[i] != recount[i])
            bad++;
    if (bad && problems == 0)
        snprintf(msg, msglen,
                 "collection %" PRId64 " bucket %" PRId64 ": %" PRIu64
                 " stored reports, total %" PRIu64 " in buckets, %" PRIu64 " mismatching values",
                 c->id, bucket, nrecount, n, bad);
    return bad;
}

/* Bind the filter "the bucket is compared" (?2 .. ?4 of LIVE_SQL): every bucket of a collection
 * that keeps its reports, else those of days the garbage collector has not retired. */
#define LIVE_SQL "(?2 OR ((bucket + 1) * ?3 - 1) / 86400 > ?4)"
static void bind_live(sqlite3_stmt *q, const pinhole_server_collection *c, int64_t retired)
{
    sqlite3_bind_int64(q, 1, c->id);
    sqlite3_bind_int(q, 2, c->window.keep_reports != 0);
    sqlite3_bind_int64(q, 3, c->time_precision);
    sqlite3_bind_int64(q, 4, retired);
}

static int check_collection(sqlite_store *s, const pinhole_server_collection *c, int64_t retired,
                            uint64_t *problems, char *msg, size_t msglen)
{
    const uint64_t len = c->cfg.counts_len;
    uint64_t *recount = calloc(len, sizeof *recount), *stored = malloc(len * sizeof *stored);
    sqlite3_stmt *q = NULL;
    int rc = PINHOLE_OK, step;
    uint64_t buckets_seen = 0, chunk_rows = 0, nre = 0;
    int64_t bucket = 0;
    int have = 0;
    if (!recount || !stored) {
        rc = PINHOLE_ENOMEM;
        goto out;
    }
    if (sqlite3_prepare_v2(s->db,
                           "SELECT bucket, payload FROM reports WHERE collection = ?1 AND " LIVE_SQL
                           " ORDER BY bucket",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = PINHOLE_EDB;
        goto out;
    }
    bind_live(q, c, retired);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        const int64_t b = sqlite3_column_int64(q, 0);
        if (have && b != bucket) {
            *problems += check_bucket(s, c, bucket, recount, nre, stored, &chunk_rows, msg, msglen,
                                      *problems);
            memset(recount, 0, len * sizeof *recount);
            nre = 0;
            buckets_seen++;
        }
        bucket = b;
        have = 1;
        if (pinhole_accumulate(&c->cfg, sqlite3_column_blob(q, 1),
                               (size_t)sqlite3_column_bytes(q, 1), recount) != PINHOLE_OK) {
            if (*problems == 0)
                snprintf(msg, msglen, "collection %" PRId64 ": a stored payload is invalid", c->id);
            ++*problems;
        } else {
            nre++;
        }
    }
    if (step != SQLITE_DONE)
        rc = PINHOLE_EDB;
    if (have) {
        *problems +=
            check_bucket(s, c, bucket, recount, nre, stored, &chunk_rows, msg, msglen, *problems);
        buckets_seen++;
    }
    sqlite3_finalize(q);
    q = NULL;
    /* Rows for buckets that hold no report at all would have escaped the loop above. */
    int64_t brows = -1, crows = -1;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT (SELECT count(*) FROM buckets WHERE collection = ?1"
                           " AND " LIVE_SQL "), (SELECT count(*) FROM counts WHERE"
                           " collection = ?1 AND " LIVE_SQL ")",
                           -1, &q, NULL) == SQLITE_OK) {
        bind_live(q, c, retired);
        if (sqlite3_step(q) == SQLITE_ROW) {
            brows = sqlite3_column_int64(q, 0);
            crows = sqlite3_column_int64(q, 1);
        }
    }
    if (brows != (int64_t)buckets_seen || crows != (int64_t)chunk_rows) {
        if (*problems == 0)
            snprintf(msg, msglen,
                     "collection %" PRId64 ": %" PRId64 " bucket rows and %" PRId64
                     " count chunks stored, %" PRIu64 " and %" PRIu64 " expected",
                     c->id, brows, crows, buckets_seen, chunk_rows);
        ++*problems;
    }
out:
    sqlite3_finalize(q);
    free(recount);
    free(stored);
    return rc;
}

int pinhole_sqlite_check(pinhole_store *base, uint64_t *problems, char *msg, size_t msglen)
{
    sqlite_store *s = sqlite_of(base);
    *problems = 0;
    if (msglen)
        msg[0] = '\0';
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &q, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(q, 0);
        if (line && strcmp(line, "ok") != 0) {
            if (*problems == 0)
                snprintf(msg, msglen, "integrity_check: %s", line);
            ++*problems;
        }
    }
    sqlite3_finalize(q);
    pinhole_server_collection *cs;
    size_t nc;
    int rc = pinhole_sqlite_load_collections(&s->base, &cs, &nc);
    if (rc != PINHOLE_OK)
        return rc;
    if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        rc = PINHOLE_EDB;
    if (rc == PINHOLE_OK &&
        sqlite3_prepare_v2(s->db,
                           "SELECT collection, hex(report_id), count(*) FROM reports GROUP BY "
                           "collection, report_id HAVING count(*) > 1",
                           -1, &q, NULL) == SQLITE_OK) {
        while (sqlite3_step(q) == SQLITE_ROW) {
            if (*problems == 0)
                snprintf(msg, msglen, "collection %lld: report id %s stored %lld times",
                         (long long)sqlite3_column_int64(q, 0), sqlite3_column_text(q, 1),
                         (long long)sqlite3_column_int64(q, 2));
            ++*problems;
        }
        sqlite3_finalize(q);
    }
    int64_t retired = INT64_MIN; /* the reports of retired days are gone (gc.c), counts stay */
    if (rc == PINHOLE_OK)
        rc = pinhole_sqlite_retired(s, &retired);
    for (size_t i = 0; i < nc && rc == PINHOLE_OK; i++)
        rc = check_collection(s, &cs[i], retired, problems, msg, msglen);
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    for (size_t i = 0; i < nc; i++)
        pinhole_server_collection_free(&cs[i]);
    free(cs);
    return rc;
}
