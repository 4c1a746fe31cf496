/* The SQLite backend: transactional ingest of reports with their count vectors, and the in-memory
 * index of stored report ids that makes (collection, report id) unique (idset.h). */
#include "common/bytes.h"
#include "common/error.h"
#include "server/estimate/estimate.h"
#include "server/store/sqlite/idset.h"
#include "server/store/sqlite/sqlite.h"

#include <stdlib.h>
#include <string.h>

void pinhole_sqlite_ingest_free(sqlite_store *s)
{
    if (s->ids) {
        pinhole_idset_free(s->ids);
        free(s->ids);
        s->ids = NULL;
    }
    sqlite_ingest_scratch *sc = &s->scratch;
    pinhole_count_deltas_free(&sc->deltas);
    free(sc->hash);
    memset(sc, 0, sizeof *sc);
}

/* Add a delta's nonzero chunks to the stored ones and its total to the bucket; clears the delta. */
static int flush_delta(sqlite_store *s, pinhole_count_delta *d)
{
    const uint64_t len = d->coll->cfg.counts_len;
    uint8_t blob[PINHOLE_SQLITE_CHUNK * 8];
    int rc = PINHOLE_OK;
    for (uint64_t base = 0; base < len && rc == PINHOLE_OK; base += PINHOLE_SQLITE_CHUNK) {
        const uint64_t m = len - base < PINHOLE_SQLITE_CHUNK ? len - base : PINHOLE_SQLITE_CHUNK;
        uint64_t any = 0;
        for (uint64_t i = 0; i < m; i++)
            any |= d->v[base + i];
        if (!any)
            continue;
        const int64_t chunk = (int64_t)(base / PINHOLE_SQLITE_CHUNK);
        sqlite3_stmt *g = s->stmt[SQ_CHUNK_GET];
        sqlite3_bind_int64(g, 1, d->coll->id);
        sqlite3_bind_int64(g, 2, d->bucket);
        sqlite3_bind_int64(g, 3, chunk);
        int step = sqlite3_step(g);
        if (step == SQLITE_ROW && sqlite3_column_bytes(g, 0) == (int)(m * 8))
            memcpy(blob, sqlite3_column_blob(g, 0), m * 8);
        else if (step == SQLITE_DONE)
            memset(blob, 0, m * 8);
        else
            rc = PINHOLE_EDB;
        sqlite3_reset(g);
        if (rc != PINHOLE_OK)
            break;
        for (uint64_t i = 0; i < m; i++) {
            pinhole_store_le(blob + 8 * i, pinhole_load_le(blob + 8 * i, 8) + d->v[base + i], 8);
            d->v[base + i] = 0;
        }
        sqlite3_stmt *p = s->stmt[SQ_CHUNK_PUT];
        sqlite3_bind_int64(p, 1, d->coll->id);
        sqlite3_bind_int64(p, 2, d->bucket);
        sqlite3_bind_int64(p, 3, chunk);
        sqlite3_bind_blob(p, 4, blob, (int)(m * 8), SQLITE_STATIC);
        rc = pinhole_sqlite_step_done(p);
    }
    if (rc != PINHOLE_OK) { /* leave the scratch all zero for the next transaction */
        memset(d->v, 0, len * sizeof *d->v);
        return rc;
    }
    sqlite3_stmt *b = s->stmt[SQ_BUCKET_ADD];
    sqlite3_bind_int64(b, 1, d->coll->id);
    sqlite3_bind_int64(b, 2, d->bucket);
    sqlite3_bind_int64(b, 3, (sqlite3_int64)d->n);
    return pinhole_sqlite_step_done(b);
}

/* Flush every open delta of store (a sqlite_store) into the stored chunks (inside the open
 * transaction) and clear them all, even after an error: a pinhole_count_deltas_flush. */
static int flush_all(void *store)
{
    sqlite_store *s = store;
    pinhole_count_deltas *ds = &s->scratch.deltas;
    int rc = PINHOLE_OK;
    size_t i = 0;
    for (; i < ds->ndelta && rc == PINHOLE_OK; i++)
        rc = flush_delta(s, &ds->delta[i]);
    pinhole_count_deltas_clear(ds, i);
    return rc;
}

/* (Re)build the index of stored report ids from the reports table: one scan, 23-46 bytes of
 * memory per report of a day not retired (the others are refused, their ids are not needed). */
static int load_ids(sqlite_store *s)
{
    if (s->ids) {
        pinhole_idset_free(s->ids);
        free(s->ids);
    }
    s->phantom_ids = 0;
    s->ids = malloc(sizeof *s->ids);
    if (!s->ids || pinhole_idset_init(s->ids) != PINHOLE_OK) {
        free(s->ids);
        s->ids = NULL;
        return PINHOLE_ENOMEM;
    }
    sqlite3_stmt *q = NULL;
    int rc = pinhole_sqlite_retired(s, &s->ids_horizon), step = SQLITE_DONE;
    if (rc != PINHOLE_OK)
        goto out;
    /* Size the table once: the span of seq bounds the row count (the log only appends, the garbage
     * collector deletes mostly from its start). */
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(seq) - min(seq) + 1, 0) FROM reports", -1,
                           &q, NULL) != SQLITE_OK) {
        rc = PINHOLE_EDB;
        goto out;
    }
    const int64_t rows = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    q = NULL;
    if (rows > 0 && pinhole_idset_reserve(s->ids, (size_t)rows) != 0) {
        rc = PINHOLE_ENOMEM;
        goto out;
    }
    if (sqlite3_prepare_v2(s->db,
                           "SELECT r.seq, r.collection, r.report_id, r.bucket, c.time_precision"
                           " FROM reports r JOIN collections c ON c.id = r.collection",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = PINHOLE_EDB;
        goto out;
    }
    /* Inserts go to random slots of a table larger than the caches: hash a block of rows first and
     * prefetch their home slots, so the cache misses overlap instead of queueing. */
    enum { BLOCK = 64 };
    uint64_t hash[BLOCK];
    int64_t row[BLOCK], day[BLOCK];
    size_t nb = 0;
    for (;;) {
        step = sqlite3_step(q);
        if (step == SQLITE_ROW) {
            if (sqlite3_column_bytes(q, 2) != PINHOLE_REPORT_ID_BYTES) {
                rc = PINHOLE_EDB;
                break;
            }
            day[nb] = pinhole_sqlite_day_of((uint32_t)sqlite3_column_int64(q, 4),
                                            sqlite3_column_int64(q, 3));
            if (day[nb] <= s->ids_horizon)
                continue;
            hash[nb] =
                pinhole_idset_hash(s->ids, sqlite3_column_int64(q, 1), sqlite3_column_blob(q, 2));
            row[nb] = sqlite3_column_int64(q, 0);
            pinhole_idset_prefetch(s->ids, hash[nb]);
            if (++nb < BLOCK)
                continue;
        }
        for (size_t i = 0; i < nb && rc == PINHOLE_OK; i++)
            if (pinhole_idset_add(s->ids, hash[i], row[i], day[i]) < 0)
                rc = PINHOLE_ENOMEM;
        nb = 0;
        if (step != SQLITE_ROW || rc != PINHOLE_OK)
            break;
    }
    if (rc == PINHOLE_OK && step != SQLITE_DONE)
        rc = PINHOLE_EDB;
out:
    sqlite3_finalize(q);
    if (rc != PINHOLE_OK) {
        pinhole_idset_free(s->ids);
        free(s->ids);
        s->ids = NULL;
    }
    return rc;
}

/* Is there a stored report with r's collection and id? 1 with *same telling whether its bucket and
 * payload equal r's, 0 when none, PINHOLE_EDB on error. A candidate whose row the garbage
 * collector deleted is no match (its day is retired: the index drops it soon). */
static int find_stored(sqlite_store *s, const pinhole_ingest_report *r, uint64_t hash, int *same)
{
    size_t pos = 0;
    int64_t rowid;
    while (pinhole_idset_next(s->ids, hash, &pos, &rowid)) {
        sqlite3_stmt *sel = s->stmt[SQ_SELECT];
        sqlite3_bind_int64(sel, 1, rowid);
        const int step = sqlite3_step(sel);
        if (step == SQLITE_DONE) {
            sqlite3_reset(sel);
            continue;
        }
        if (step != SQLITE_ROW) {
            sqlite3_reset(sel);
            return PINHOLE_EDB;
        }
        const int match = sqlite3_column_int64(sel, 0) == r->coll->id &&
                          sqlite3_column_bytes(sel, 1) == PINHOLE_REPORT_ID_BYTES &&
                          memcmp(sqlite3_column_blob(sel, 1), r->id, PINHOLE_REPORT_ID_BYTES) == 0;
        if (match)
            *same = sqlite3_column_int64(sel, 2) == r->bucket &&
                    sqlite3_column_bytes(sel, 3) == (int)r->payload_len &&
                    memcmp(sqlite3_column_blob(sel, 3), r->payload, r->payload_len) == 0;
        sqlite3_reset(sel);
        if (match)
            return 1;
    }
    return 0;
}

/* Read the state of collection c inside the ingest transaction (the write lock is held: a deletion
 * cannot commit until it ends), once per run of reports of one collection. PINHOLE_EDB. */
static int read_state(sqlite_store *s, sqlite_ingest_scratch *sc,
                      const pinhole_server_collection *c)
{
    if (sc->state_of == c->id)
        return PINHOLE_OK;
    sqlite3_stmt *q = s->stmt[SQ_STATE];
    sqlite3_bind_int64(q, 1, c->id);
    const int step = sqlite3_step(q);
    sc->live = step == SQLITE_ROW && sqlite3_column_int64(q, 0) == 0;
    sc->closed_before = step == SQLITE_ROW ? sqlite3_column_int64(q, 1) : 0;
    sqlite3_reset(q);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return PINHOLE_EDB;
    sc->state_of = c->id;
    return PINHOLE_OK;
}

/* Insert one report; sets its status. PINHOLE_EDB on an SQLite error, PINHOLE_ENOMEM. */
static int ingest_one(sqlite_store *s, sqlite_ingest_scratch *sc, pinhole_ingest_report *r,
                      uint64_t hash)
{
    const pinhole_server_collection *c = r->coll;
    if (read_state(s, sc, c) != PINHOLE_OK)
        return PINHOLE_EDB;
    if (!sc->live) { /* deleted since the batch was queued: nothing of it may be stored */
        r->status = PINHOLE_REPORT_REJECTED;
        r->error = PINHOLE_ENOTFOUND;
        return PINHOLE_OK;
    }
    int same = 0;
    const int found = find_stored(s, r, hash, &same);
    if (found < 0)
        return found;
    if (found) { /* the id is taken: identical retry or replay */
        r->status = same ? PINHOLE_REPORT_DUPLICATE : PINHOLE_REPORT_REPLAY;
        r->error = same ? PINHOLE_OK : PINHOLE_EMISMATCH;
        return PINHOLE_OK;
    }
    if (r->bucket < sc->closed_before) { /* its bucket is closed: its counts are final */
        r->status = PINHOLE_REPORT_REJECTED;
        r->error = PINHOLE_ECLOSED;
        return PINHOLE_OK;
    }
    const int64_t day = pinhole_sqlite_day_of(c->time_precision, r->bucket);
    if (day <= s->ids_horizon) { /* its day's ids are gone: it cannot be checked for replay */
        r->status = PINHOLE_REPORT_REJECTED;
        r->error = PINHOLE_ERANGE;
        return PINHOLE_OK;
    }
    int rc;
    pinhole_count_delta *d = pinhole_count_deltas_for(&sc->deltas, c, r->bucket, flush_all, s, &rc);
    if (!d)
        return rc;
    rc = pinhole_accumulate(&c->cfg, r->payload, r->payload_len, d->v);
    if (rc != PINHOLE_OK) { /* the mechanism refuses the payload; nothing was added */
        r->status = PINHOLE_REPORT_INVALID;
        r->error = rc;
        return PINHOLE_OK;
    }
    sqlite3_stmt *ins = s->stmt[SQ_INSERT];
    sqlite3_bind_int64(ins, 1, c->id);
    sqlite3_bind_blob(ins, 2, r->id, PINHOLE_REPORT_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 3, r->bucket);
    sqlite3_bind_blob(ins, 4, r->payload, (int)r->payload_len, SQLITE_STATIC);
    if (pinhole_sqlite_step_done(ins) != PINHOLE_OK)
        return PINHOLE_EDB; /* the transaction is rolled back, the delta cleared */
    if (pinhole_idset_add(s->ids, hash, sqlite3_last_insert_rowid(s->db), day) < 0)
        return PINHOLE_ENOMEM;
    d->n++;
    r->status = PINHOLE_REPORT_ACCEPTED;
    return PINHOLE_OK;
}

int pinhole_sqlite_ingest_prepare(pinhole_store *base)
{
    const int rc = load_ids(sqlite_of(base));
    pinhole_sqlite_gc_index_size(sqlite_of(base));
    return rc;
}

/* Ids of transactions that failed on a full disk kept in the index before it is rebuilt (about
 * 12 MiB). */
#define PHANTOM_IDS_MAX 262144u

int pinhole_sqlite_ingest(pinhole_store *base, pinhole_ingest_report *r, size_t n)
{
    sqlite_store *s = sqlite_of(base);
    sqlite_ingest_scratch *sc = &s->scratch;
    sc->deltas.ndelta = 0;
    sc->state_of = 0;
    int rc = s->ids ? PINHOLE_OK : load_ids(s);
    if (rc != PINHOLE_OK)
        return rc;
    if (pinhole_sqlite_step_done(s->stmt[SQ_BEGIN]) != PINHOLE_OK)
        return pinhole_sqlite_error(s->db);
    rc = pinhole_sqlite_gc_follow(s); /* under the write lock: the deletions follow a retirement */
    /* Hash every id first, then look each up while the slot of one a few reports ahead is being
     * fetched: the index is larger than the caches, so its lookups are cache misses. */
    if (n > sc->hcap) {
        uint64_t *h = realloc(sc->hash, n * sizeof *h);
        if (!h)
            rc = PINHOLE_ENOMEM;
        else {
            sc->hash = h;
            sc->hcap = n;
        }
    }
    for (size_t i = 0; i < n && rc == PINHOLE_OK; i++)
        sc->hash[i] = pinhole_idset_hash(s->ids, r[i].coll ? r[i].coll->id : 0, r[i].id);
    enum { AHEAD = 8 };
    for (size_t i = 0; i < AHEAD && i < n && rc == PINHOLE_OK; i++)
        pinhole_idset_prefetch(s->ids, sc->hash[i]);
    for (size_t i = 0; i < n && rc == PINHOLE_OK; i++) {
        if (i + AHEAD < n)
            pinhole_idset_prefetch(s->ids, sc->hash[i + AHEAD]);
        if (r[i].status != PINHOLE_REPORT_REJECTED)
            rc = ingest_one(s, sc, &r[i], sc->hash[i]);
    }
    if (rc == PINHOLE_OK)
        rc = flush_all(s);
    else /* clear only: the transaction is rolled back */
        pinhole_count_deltas_clear(&sc->deltas, 0);
    if (rc == PINHOLE_OK && pinhole_sqlite_step_done(s->stmt[SQ_COMMIT]) != PINHOLE_OK)
        rc = PINHOLE_EDB;
    pinhole_sqlite_gc_index_size(s);
    if (rc != PINHOLE_OK) {
        if (rc == PINHOLE_EDB) /* disk full or another error: before the rollback clears it */
            rc = pinhole_sqlite_error(s->db);
        if (!sqlite3_get_autocommit(s->db))
            pinhole_sqlite_step_done(s->stmt[SQ_ROLLBACK]);
        uint64_t added = 0;
        for (size_t j = 0; j < n; j++)
            if (r[j].status != PINHOLE_REPORT_REJECTED) {
                added += r[j].status == PINHOLE_REPORT_ACCEPTED;
                r[j].status = PINHOLE_REPORT_PENDING;
                r[j].error = PINHOLE_OK;
            }
        /* The index must follow the database: drop it, the next ingest reloads it from the
         * committed rows. On a full disk, where every batch fails until space is freed, a reload
         * (a scan of every report) per batch would stall the writer: the ids of the rolled-back
         * transaction stay instead, up to PHANTOM_IDS_MAX of them (find_stored checks every
         * candidate's row, so they match nothing; they only take memory). */
        if (rc == PINHOLE_ENOSPACE && s->ids && s->phantom_ids + added <= PHANTOM_IDS_MAX) {
            s->phantom_ids += added;
        } else {
            pinhole_idset_free(s->ids);
            free(s->ids);
            s->ids = NULL;
        }
    }
    return rc;
}
