/* The PostgreSQL backend's ingest: one flush of decoded reports per transaction, safe with any
 * number of server processes flushing into the same database at once.
 *
 * A flush (pg_ingest) is one READ COMMITTED transaction:
 *   1. lock the batch's report ids: a transaction advisory lock on a 64-bit hash of each
 *      (collection, report id), taken in ascending order (so two flushes never deadlock on them);
 *      a flush on another replica holding one of the same ids waits for it to commit or roll back;
 *   2. read the stored reports with those ids (every day partition: an id may come back with
 *      another time) and the newest retired day, and share-lock the rows of the batch's
 *      collections (pg_fence: the reports of a collection being deleted are refused);
 *   3. decide each report in batch order exactly as the SQLite backend does: an id already stored
 *      (or accepted earlier in this batch) is a DUPLICATE when bucket and payload are identical,
 *      else a REPLAY; a report of a retired day is refused (its day's ids are gone); a payload the
 *      mechanism refuses is INVALID; the others are accepted and folded into dense count deltas;
 *   4. send the accepted reports with one binary COPY into reports (PostgreSQL routes them to
 *      their day partitions and writes them a page at a time; no text to parse, no speculative
 *      insertion): the locks of step 1 make a unique violation impossible; if one happened, or
 *      fewer rows were stored, the flush is retried;
 *   5. add the deltas to this handle's count shard (INSERT ... ON CONFLICT DO UPDATE with an
 *      element-wise sum) and to the bucket totals of the shard;
 *   6. COMMIT; the caller acknowledges the reports only after this returns PINHOLE_OK.
 * A serialization failure, a deadlock, a lock timeout or a day without its partition yet (made
 * then) rolls back and retries the whole flush, up to PG_ATTEMPTS times; a lost connection is
 * re-established once per attempt. A retry after a COMMIT whose outcome was lost finds the
 * reports stored: they come back DUPLICATE, still acknowledged, never counted twice. */
#include "common/error.h"
#include "server/estimate/estimate.h"
#include "server/store/delta.h"
#include "server/store/pg/pg.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PG_ATTEMPTS 8
#define PG_SHARD_LOCK_CLASS 0x5048 /* two-int advisory lock space of the count shards */

/* Who holds a (collection, report id) in a flush: a stored row or an earlier report of the batch.
 */
typedef struct pg_holder {
    int64_t coll;
    const uint8_t *id;
    int row;        /* row of the lookup result, or -1 */
    int64_t bucket; /* of the batch report when row < 0 */
    const uint8_t *payload;
    uint32_t payload_len;
} pg_holder;

typedef struct pg_ingest_scratch {
    pinhole_count_deltas deltas; /* dense per-(collection, bucket) count deltas */
    pg_holder *slot;             /* open addressing over (collection, id), 2^bits slots */
    size_t nslot;
    int64_t *keys;
    size_t kcap;
    uint8_t *was_pending; /* reports this flush may decide (not REJECTED on entry) */
    size_t pcap;
} pg_ingest_scratch;

/* The statements of every flush, prepared once per connection (pg_ingest_prepare, with the count
 * shard): parsed and planned once, not once per flush. */
enum { ST_LOCK, ST_LOOKUP, ST_DELTAS, ST_BUCKETS, ST_COUNT };
static const struct {
    const char *name, *sql;
    int nparams;
} stmt[ST_COUNT] = {
    /* step 1: the id locks in ascending order, and the newest retired day */
    {"pinhole_ingest_lock",
     "SELECT count(*), (SELECT coalesce(max(day), -2147483648) FROM retired_days)"
     " FROM (SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[])"
     " WITH ORDINALITY AS u(k, o) ORDER BY o) AS l",
     1},
    /* step 2: the stored reports with the batch's ids, on every day */
    {"pinhole_ingest_lookup",
     "SELECT r.collection, r.report_id, r.bucket, r.payload"
     " FROM (SELECT DISTINCT c, id FROM unnest($1::bigint[], $2::uuid[])"
     " AS u(c, id)) AS u JOIN reports r ON r.collection = u.c AND r.report_id = u.id",
     2},
    /* step 5: the sparse count deltas, and the bucket totals of the handle's shard */
    {"pinhole_ingest_deltas",
     "INSERT INTO count_deltas(collection, bucket, idx, n)"
     " SELECT u.c, u.b, u.i::integer[], u.n::bigint[]"
     " FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])"
     " AS u(c, b, i, n) WHERE u.i <> '{}'",
     4},
    {"pinhole_ingest_buckets",
     "INSERT INTO buckets(collection, bucket, shard, n)"
     " SELECT u.c, u.b, $3::integer, u.n"
     " FROM unnest($1::bigint[], $2::bigint[], $4::bigint[]) AS u(c, b, n)"
     " ON CONFLICT (collection, bucket, shard) DO UPDATE SET n = buckets.n + excluded.n",
     4},
};

static PGresult *run(pg_store *s, int st, const char *const *v, ExecStatusType want)
{
    return pg_result(s, PQexecPrepared(s->conn, stmt[st].name, stmt[st].nparams, v, NULL, NULL, 0),
                     want);
}

void pg_ingest_free(pg_store *s)
{
    pg_ingest_scratch *sc = s->scratch;
    if (!sc)
        return;
    pinhole_count_deltas_free(&sc->deltas);
    free(sc->slot);
    free(sc->keys);
    free(sc->was_pending);
    free(sc);
    s->scratch = NULL;
}

static uint64_t id_hash(int64_t coll, const uint8_t *id)
{
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h |= (uint64_t)id[i] << (8 * i);
    for (unsigned i = 8; i < PINHOLE_REPORT_ID_BYTES; i++)
        h = (h ^ id[i]) * UINT64_C(0x100000001b3);
    h ^= (uint64_t)coll * UINT64_C(0x9e3779b97f4a7c15);
    h ^= h >> 31;
    return h * UINT64_C(0xbf58476d1ce4e5b9);
}

static int cmp_i64(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The holder slot of (coll, id): the one holding it, or the empty slot where it would go. */
static pg_holder *holder(pg_ingest_scratch *sc, int64_t coll, const uint8_t *id)
{
    size_t i = (size_t)id_hash(coll, id) & (sc->nslot - 1);
    while (sc->slot[i].id &&
           (sc->slot[i].coll != coll || memcmp(sc->slot[i].id, id, PINHOLE_REPORT_ID_BYTES) != 0))
        i = (i + 1) & (sc->nslot - 1);
    return &sc->slot[i];
}

int pg_ingest_prepare(pinhole_store *base)
{
    pg_store *s = pg_of(base);
    if (!s->scratch && !(s->scratch = calloc(1, sizeof *s->scratch)))
        return PINHOLE_ENOMEM;
    if (s->shard >= 0)
        return PINHOLE_OK;
    /* a session lock on a free shard number: held until this connection ends */
    for (int shard = 0; shard < PINHOLE_PG_SHARDS; shard++) {
        char cls[16], num[16];
        snprintf(cls, sizeof cls, "%d", PG_SHARD_LOCK_CLASS);
        snprintf(num, sizeof num, "%d", shard);
        const char *v[2] = {cls, num};
        PGresult *res = pg_run(s, "SELECT pg_try_advisory_lock($1::integer, $2::integer)", 2, v,
                               PGRES_TUPLES_OK);
        if (!res)
            return PINHOLE_EDB;
        const int got = PQgetvalue(res, 0, 0)[0] == 't';
        PQclear(res);
        if (!got)
            continue;
        for (int i = 0; i < ST_COUNT; i++) { /* a new connection: its statements */
            PGresult *p =
                pg_result(s, PQprepare(s->conn, stmt[i].name, stmt[i].sql, stmt[i].nparams, NULL),
                          PGRES_COMMAND_OK);
            if (!p && strcmp(s->sqlstate, "42P05") != 0) /* prepared already */
                return PINHOLE_EDB;
            PQclear(p);
        }
        s->shard = shard; /* only now: a failure above prepares them again next time */
        return PINHOLE_OK;
    }
    return PINHOLE_EDB; /* PINHOLE_PG_SHARDS handles ingest already */
}

/* ---- count deltas ---- */

/* Append the open deltas as sparse rows of count_deltas (one per (collection, bucket): the
 * indices holding a nonzero count and their counts; the garbage collector folds them into the
 * chunks of counts later) and add their totals to the bucket rows of the handle's shard; clear
 * them, even after an error. Two statements, whatever the number of deltas. */
static int flush_deltas(void *store)
{
    pg_store *s = store;
    pinhole_count_deltas *ds = &s->scratch->deltas;
    pg_buf bc = {0}, bb = {0}, bi = {0}, bn = {0}, tn = {0};
    pg_buf_str(&bc, "{");
    pg_buf_str(&bb, "{");
    pg_buf_str(&bi, "{");
    pg_buf_str(&bn, "{");
    pg_buf_str(&tn, "{");
    for (size_t i = 0; i < ds->ndelta; i++) {
        pinhole_count_delta *d = &ds->delta[i];
        const char *sep = i ? "," : "";
        pg_buf_fmt(&bc, "%s%" PRId64, sep, d->coll->id);
        pg_buf_fmt(&bb, "%s%" PRId64, sep, d->bucket);
        pg_buf_fmt(&tn, "%s%" PRIu64, sep, d->n);
        pg_buf_fmt(&bi, "%s\"{", sep);
        pg_buf_fmt(&bn, "%s\"{", sep);
        int first = 1;
        for (uint64_t j = 0; j < d->coll->cfg.counts_len; j++) {
            if (!d->v[j])
                continue;
            pg_buf_fmt(&bi, first ? "%" PRIu64 : ",%" PRIu64, j);
            pg_buf_fmt(&bn, first ? "%" PRIu64 : ",%" PRIu64, d->v[j]);
            d->v[j] = 0;
            first = 0;
        }
        pg_buf_str(&bi, "}\"");
        pg_buf_str(&bn, "}\"");
    }
    pg_buf_str(&bc, "}");
    pg_buf_str(&bb, "}");
    pg_buf_str(&bi, "}");
    pg_buf_str(&bn, "}");
    pg_buf_str(&tn, "}");
    const size_t nd = ds->ndelta;
    char shard[16];
    snprintf(shard, sizeof shard, "%d", s->shard);
    int rc =
        bc.failed || bb.failed || bi.failed || bn.failed || tn.failed ? PINHOLE_ENOMEM : PINHOLE_OK;
    const char *vd[4] = {pg_buf_text(&bc), pg_buf_text(&bb), pg_buf_text(&bi), pg_buf_text(&bn)};
    for (int st = ST_DELTAS; st <= ST_BUCKETS && rc == PINHOLE_OK && nd; st++) {
        const char *vb[4] = {pg_buf_text(&bc), pg_buf_text(&bb), shard, pg_buf_text(&tn)};
        PGresult *res = run(s, st, st == ST_DELTAS ? vd : vb, PGRES_COMMAND_OK);
        rc = res ? PINHOLE_OK : PINHOLE_EDB;
        PQclear(res);
    }
    pinhole_count_deltas_clear(ds, 0); /* every vector zero for the next flush */
    pg_buf_free(&bc);
    pg_buf_free(&bb);
    pg_buf_free(&bi);
    pg_buf_free(&bn);
    pg_buf_free(&tn);
    return rc;
}

/* ---- one flush ---- */

/* Grow the scratch for a batch of n reports. */
static int reserve(pg_ingest_scratch *sc, size_t n)
{
    size_t want = 16;
    while (want < 2 * n)
        want *= 2;
    if (want != sc->nslot) {
        free(sc->slot);
        sc->slot = malloc(want * sizeof *sc->slot);
        sc->nslot = sc->slot ? want : 0;
        if (!sc->slot)
            return PINHOLE_ENOMEM;
    }
    if (n > sc->kcap) {
        int64_t *k = realloc(sc->keys, n * sizeof *k);
        if (!k)
            return PINHOLE_ENOMEM;
        sc->keys = k;
        sc->kcap = n;
    }
    if (n > sc->pcap) {
        uint8_t *p = realloc(sc->was_pending, n);
        if (!p)
            return PINHOLE_ENOMEM;
        sc->was_pending = p;
        sc->pcap = n;
    }
    return PINHOLE_OK;
}

/* Take the id locks (step 1) and read the stored reports with those ids (step 2) into *found;
 * *retired receives the newest retired day. */
static int lock_and_read(pg_store *s, pg_ingest_scratch *sc, const pinhole_ingest_report *r,
                         size_t n, PGresult **found, int64_t *retired)
{
    pg_buf keys = {0}, colls = {0}, ids = {0};
    size_t nk = 0;
    for (size_t i = 0; i < n; i++)
        if (sc->was_pending[i])
            sc->keys[nk++] = (int64_t)id_hash(r[i].coll->id, r[i].id);
    qsort(sc->keys, nk, sizeof *sc->keys, cmp_i64);
    pg_buf_str(&keys, "{");
    for (size_t i = 0; i < nk; i++)
        if (i == 0 || sc->keys[i] != sc->keys[i - 1])
            pg_buf_fmt(&keys, i ? ",%" PRId64 : "%" PRId64, sc->keys[i]);
    pg_buf_str(&keys, "}");
    pg_buf_str(&colls, "{");
    pg_buf_str(&ids, "{");
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if (!sc->was_pending[i])
            continue;
        pg_buf_fmt(&colls, first ? "%" PRId64 : ",%" PRId64, r[i].coll->id);
        if (!first)
            pg_buf_str(&ids, ",");
        pg_buf_hex(&ids, r[i].id, PINHOLE_REPORT_ID_BYTES); /* a uuid's 32 hex digits */
        first = 0;
    }
    pg_buf_str(&colls, "}");
    pg_buf_str(&ids, "}");
    int rc = keys.failed || colls.failed || ids.failed ? PINHOLE_ENOMEM : PINHOLE_OK;
    PGresult *res = NULL;
    if (rc == PINHOLE_OK) {
        const char *v[1] = {pg_buf_text(&keys)};
        res = run(s, ST_LOCK, v, PGRES_TUPLES_OK);
        rc = res ? PINHOLE_OK : PINHOLE_EDB;
        if (res)
            *retired = pg_int(res, 0, 1);
        PQclear(res);
    }
    if (rc == PINHOLE_OK) {
        const char *v[2] = {pg_buf_text(&colls), pg_buf_text(&ids)};
        *found = run(s, ST_LOOKUP, v, PGRES_TUPLES_OK);
        rc = *found ? PINHOLE_OK : PINHOLE_EDB;
    }
    pg_buf_free(&keys);
    pg_buf_free(&colls);
    pg_buf_free(&ids);
    return rc;
}

/* Is a stored row (or an earlier report of the batch) identical to r? */
static int same_content(const PGresult *found, const pg_holder *h, const pinhole_ingest_report *r)
{
    if (h->row < 0)
        return h->bucket == r->bucket && h->payload_len == r->payload_len &&
               memcmp(h->payload, r->payload, r->payload_len) == 0;
    if (pg_int(found, h->row, 2) != r->bucket)
        return 0;
    /* the stored payload in hex output form: "\x" then 2 digits per byte */
    const char *v = PQgetvalue(found, h->row, 3);
    if ((size_t)PQgetlength(found, h->row, 3) != 2 + 2 * (size_t)r->payload_len)
        return 0;
    char hex[3];
    for (uint32_t i = 0; i < r->payload_len; i++) {
        snprintf(hex, sizeof hex, "%02x", r->payload[i]);
        if (v[2 + 2 * i] != hex[0] || v[3 + 2 * i] != hex[1])
            return 0;
    }
    return 1;
}

/* ---- the insert: one binary COPY ---- */

/* The binary COPY header: signature, flags 0, no header extension (19 bytes). */
static const char copy_header[] = "PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

static void put_be(pg_buf *b, uint64_t v, int bytes)
{
    char t[8];
    for (int i = 0; i < bytes; i++)
        t[i] = (char)(v >> (8 * (bytes - 1 - i)));
    pg_buf_add(b, t, (size_t)bytes);
}

/* Append report x of day `day` as a tuple of reports(collection, day, report_id, bucket, payload)
 * in COPY's binary format: a field count, then each field's length and its bytes in network
 * order (uuid: its 16 bytes; bytea: its bytes). */
static void copy_row(pg_buf *b, const pinhole_ingest_report *x, int64_t day)
{
    put_be(b, 5, 2);
    put_be(b, 8, 4);
    put_be(b, (uint64_t)x->coll->id, 8);
    put_be(b, 4, 4);
    put_be(b, (uint64_t)(uint32_t)(int32_t)day, 4);
    put_be(b, PINHOLE_REPORT_ID_BYTES, 4);
    pg_buf_add(b, (const char *)x->id, PINHOLE_REPORT_ID_BYTES);
    put_be(b, 8, 4);
    put_be(b, (uint64_t)x->bucket, 8);
    put_be(b, x->payload_len, 4);
    pg_buf_add(b, (const char *)x->payload, x->payload_len);
}

/* Store the n accepted reports (a binary COPY stream) with one COPY into reports: PostgreSQL
 * routes them to their day partitions and writes them a page at a time. No ON CONFLICT: under the
 * id locks an id stored since the lookup is impossible; a unique violation (or a row count other
 * than n) fails the flush as a serialization failure, and the retry sees the stored row. */
static int insert_rows(pg_store *s, const pg_buf *rows, size_t n)
{
    PGresult *res = PQexec(s->conn, "COPY reports(collection, day, report_id, bucket, payload)"
                                    " FROM STDIN (FORMAT binary)");
    if (!res || PQresultStatus(res) != PGRES_COPY_IN) {
        const char *e = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        snprintf(s->sqlstate, sizeof s->sqlstate, "%s", e ? e : "08000");
        PQclear(res);
        return PINHOLE_EDB;
    }
    PQclear(res);
    int ok = 1;
    for (size_t off = 0; ok && off < rows->len;) { /* pieces of at most 1 MiB */
        const size_t piece =
            rows->len - off < ((size_t)1 << 20) ? rows->len - off : (size_t)1 << 20;
        ok = PQputCopyData(s->conn, rows->p + off, (int)piece) == 1;
        off += piece;
    }
    if (PQputCopyEnd(s->conn, ok ? NULL : "pinhole: sending the reports failed") != 1)
        ok = 0;
    uint64_t stored = 0;
    char state[6] = "";
    if (!ok)
        snprintf(state, sizeof state, "08000");
    while ((res = PQgetResult(s->conn))) {
        if (PQresultStatus(res) == PGRES_COMMAND_OK)
            stored += strtoull(PQcmdTuples(res), NULL, 10);
        else if (!state[0]) {
            const char *e = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            snprintf(state, sizeof state, "%s", e && strcmp(e, "23505") != 0 ? e : "40001");
            if (getenv("PINHOLE_PG_DEBUG"))
                fprintf(stderr, "pinhole postgresql: COPY: %.300s\n", PQerrorMessage(s->conn));
        }
        PQclear(res);
    }
    if (!state[0] && stored != n)
        snprintf(state, sizeof state, "40001");
    memcpy(s->sqlstate, state, sizeof state);
    return state[0] ? PINHOLE_EDB : PINHOLE_OK;
}

static int flush_once(pg_store *s, pinhole_ingest_report *r, size_t n)
{
    pg_ingest_scratch *sc = s->scratch;
    PGresult *found = NULL;
    int64_t retired = INT64_MIN;
    pg_buf copy = {0}; /* the accepted reports, a binary COPY stream */
    size_t accepted = 0;
    sc->deltas.ndelta = 0;
    memset(sc->slot, 0, sc->nslot * sizeof *sc->slot); /* nothing held from an earlier attempt */
    int rc = pg_exec(s, "BEGIN", 0, NULL);
    if (rc == PINHOLE_OK)
        rc = lock_and_read(s, sc, r, n, &found, &retired);
    if (rc == PINHOLE_OK)
        rc = pg_fence(s, r, n, sc->was_pending);
    /* index the stored rows by (collection, id) */
    uint8_t(*stored_id)[PINHOLE_REPORT_ID_BYTES] = NULL;
    const int rows = found ? PQntuples(found) : 0;
    if (rc == PINHOLE_OK && rows > 0 && !(stored_id = malloc((size_t)rows * sizeof *stored_id)))
        rc = PINHOLE_ENOMEM;
    for (int i = 0; i < rows && rc == PINHOLE_OK; i++) {
        if (pg_uuid(found, i, 1, stored_id[i]) != PINHOLE_OK) {
            rc = PINHOLE_EDB;
            break;
        }
        pg_holder *h = holder(sc, pg_int(found, i, 0), stored_id[i]);
        if (!h->id)
            *h = (pg_holder){.coll = pg_int(found, i, 0), .id = stored_id[i], .row = i};
    }
    pg_buf_add(&copy, copy_header, sizeof copy_header - 1);
    for (size_t i = 0; i < n && rc == PINHOLE_OK; i++) {
        pinhole_ingest_report *x = &r[i];
        if (!sc->was_pending[i])
            continue;
        if (!pg_live(s, x->coll->id)) { /* deleted since the batch was queued */
            x->status = PINHOLE_REPORT_REJECTED;
            x->error = PINHOLE_ENOTFOUND;
            continue;
        }
        pg_holder *h = holder(sc, x->coll->id, x->id);
        if (h->id) { /* the id is taken: identical retry or replay */
            const int same = same_content(found, h, x);
            x->status = same ? PINHOLE_REPORT_DUPLICATE : PINHOLE_REPORT_REPLAY;
            x->error = same ? PINHOLE_OK : PINHOLE_EMISMATCH;
            continue;
        }
        if (pg_closed(s, x->coll->id, x->bucket)) { /* its counts are final */
            x->status = PINHOLE_REPORT_REJECTED;
            x->error = PINHOLE_ECLOSED;
            continue;
        }
        const int64_t day = pg_day_of(x->coll, x->bucket);
        if (day <= retired) { /* its day's ids are gone: it cannot be checked for replay */
            x->status = PINHOLE_REPORT_REJECTED;
            x->error = PINHOLE_ERANGE;
            continue;
        }
        pinhole_count_delta *d =
            pinhole_count_deltas_for(&sc->deltas, x->coll, x->bucket, flush_deltas, s, &rc);
        if (!d)
            break;
        const int acc = pinhole_accumulate(&x->coll->cfg, x->payload, x->payload_len, d->v);
        if (acc != PINHOLE_OK) { /* the mechanism refuses the payload; nothing was added */
            x->status = PINHOLE_REPORT_INVALID;
            x->error = acc;
            continue;
        }
        d->n++;
        x->status = PINHOLE_REPORT_ACCEPTED;
        *h = (pg_holder){.coll = x->coll->id,
                         .id = x->id,
                         .row = -1,
                         .bucket = x->bucket,
                         .payload = x->payload,
                         .payload_len = x->payload_len};
        accepted++;
        copy_row(&copy, x, day);
    }
    pg_buf_add(&copy, "\xff\xff", 2); /* the trailer: a tuple of -1 fields */
    if (rc == PINHOLE_OK && copy.failed)
        rc = PINHOLE_ENOMEM;
    if (rc == PINHOLE_OK && accepted)
        rc = insert_rows(s, &copy, accepted);
    if (rc == PINHOLE_OK)
        rc = flush_deltas(s);
    else
        pinhole_count_deltas_clear(&sc->deltas, 0);
    if (rc == PINHOLE_OK)
        rc = pg_exec(s, "COMMIT", 0, NULL);
    PQclear(found);
    free(stored_id);
    pg_buf_free(&copy);
    return rc;
}

int pg_ingest(pinhole_store *base, pinhole_ingest_report *r, size_t n)
{
    pg_store *s = pg_of(base);
    int rc = pg_ingest_prepare(base);
    if (rc == PINHOLE_OK)
        rc = reserve(s->scratch, n);
    if (rc != PINHOLE_OK)
        return rc;
    pg_ingest_scratch *sc = s->scratch;
    for (size_t i = 0; i < n; i++)
        sc->was_pending[i] = r[i].status != PINHOLE_REPORT_REJECTED;
    for (int attempt = 0;; attempt++) {
        rc = flush_once(s, r, n);
        if (rc == PINHOLE_OK)
            return PINHOLE_OK;
        /* undo: nothing of this attempt is stored */
        PQclear(PQexec(s->conn, "ROLLBACK"));
        for (size_t i = 0; i < n; i++)
            if (sc->was_pending[i]) {
                r[i].status = PINHOLE_REPORT_PENDING;
                r[i].error = PINHOLE_OK;
            }
        if (rc == PINHOLE_EDB && pg_error(s) == PINHOLE_ENOSPACE)
            return PINHOLE_ENOSPACE; /* PostgreSQL's disk is full: a retry now would fail too */
        if (rc == PINHOLE_ENOMEM || attempt + 1 >= PG_ATTEMPTS)
            return rc;
        if (PQstatus(s->conn) != CONNECTION_OK) { /* reconnect: the shard lock went with it */
            PQreset(s->conn);
            s->shard = -1;
            if (PQstatus(s->conn) != CONNECTION_OK || pg_ingest_prepare(base) != PINHOLE_OK)
                continue;
        } else if (strcmp(s->sqlstate, "23514") == 0) { /* a day without its partition yet */
            size_t nd = 0;                              /* the batch's distinct days (few) */
            for (size_t i = 0; i < n; i++)
                if (sc->was_pending[i])
                    sc->keys[nd++] = pg_day_of(r[i].coll, r[i].bucket);
            qsort(sc->keys, nd, sizeof *sc->keys, cmp_i64);
            for (size_t i = 0; i < nd; i++)
                if ((i == 0 || sc->keys[i] != sc->keys[i - 1]) &&
                    pg_make_partitions(s, sc->keys[i], sc->keys[i]) != PINHOLE_OK)
                    return PINHOLE_EDB;
            continue;
        } else if (!pg_retryable(s)) {
            return rc;
        }
        /* back off a little, with jitter, before trying again */
        const long ms = (1L << (attempt < 6 ? attempt : 6)) + (long)randombytes_uniform(4);
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}
