/* The SQLite store: schema, collections, transactional ingest of reports with their count vectors,
 * range queries over count vectors, and the recount check. */
#include "server/store/store.h"
#include "common/bytes.h"
#include "common/error.h"
#include "proto/seal.h"
#include "server/estimate/estimate.h"
#include "server/store/idset.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Application id in the database header, so the server refuses to write into a foreign file. */
#define PINHOLE_APPLICATION_ID 0x50484e31 /* "PHN1" */

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS collections("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL, mechanism TEXT NOT NULL, epsilon REAL NOT NULL,"
    " k INTEGER NOT NULL, q INTEGER NOT NULL, t INTEGER NOT NULL, time_precision INTEGER NOT NULL,"
    " min_reports INTEGER NOT NULL, fingerprint BLOB NOT NULL, labels BLOB, created INTEGER NOT "
    "NULL);"
    "CREATE TABLE IF NOT EXISTS reports(seq INTEGER PRIMARY KEY, collection INTEGER NOT NULL,"
    " report_id BLOB NOT NULL, bucket INTEGER NOT NULL, payload BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS buckets(collection INTEGER NOT NULL, bucket INTEGER NOT NULL,"
    " n INTEGER NOT NULL, PRIMARY KEY(collection, bucket)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS counts(collection INTEGER NOT NULL, bucket INTEGER NOT NULL,"
    " chunk INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(collection, bucket, chunk))"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS server_keys(name TEXT PRIMARY KEY, pk BLOB NOT NULL,"
    " sk BLOB NOT NULL);";

enum {
    ST_INSERT,
    ST_SELECT,
    ST_DELETE,
    ST_CHUNK_GET,
    ST_CHUNK_PUT,
    ST_BUCKET_ADD,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_RANGE,
    ST_RANGE_N,
    ST_TOTAL,
    ST_BUCKETS,
    ST_COUNT
};
_Static_assert(ST_COUNT <= sizeof(((pinhole_store *)0)->stmt) / sizeof(void *),
               "pinhole_store.stmt holds every prepared statement");

static const char *const stmt_sql[ST_COUNT] = {
    [ST_INSERT] = "INSERT INTO reports(collection, report_id, bucket, payload) VALUES(?,?,?,?)",
    [ST_SELECT] = "SELECT collection, report_id, bucket, payload FROM reports WHERE seq = ?",
    [ST_DELETE] = "DELETE FROM reports WHERE seq = ?",
    [ST_CHUNK_GET] = "SELECT data FROM counts WHERE collection = ? AND bucket = ? AND chunk = ?",
    [ST_CHUNK_PUT] =
        "INSERT OR REPLACE INTO counts(collection, bucket, chunk, data) VALUES(?,?,?,?)",
    [ST_BUCKET_ADD] = "INSERT INTO buckets(collection, bucket, n) VALUES(?,?,?)"
                      " ON CONFLICT(collection, bucket) DO UPDATE SET n = n + excluded.n",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_RANGE] = "SELECT chunk, data FROM counts WHERE collection = ? AND bucket BETWEEN ? AND ?",
    [ST_RANGE_N] =
        "SELECT coalesce(sum(n), 0) FROM buckets WHERE collection = ? AND bucket BETWEEN "
        "? AND ?",
    [ST_TOTAL] = "SELECT coalesce(sum(n), 0) FROM buckets WHERE collection = ?",
    [ST_BUCKETS] = "SELECT bucket, n FROM buckets WHERE collection = ? AND bucket BETWEEN ? AND ?"
                   " AND n > 0 ORDER BY bucket",
};

static sqlite3_stmt *st(pinhole_store *s, int i)
{
    return (sqlite3_stmt *)s->stmt[i];
}

/* Step a statement that returns no row, then reset it. */
static int step_done(sqlite3_stmt *q)
{
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? PINHOLE_OK : PINHOLE_EDB;
}

int pinhole_store_open(pinhole_store *s, const char *path, const pinhole_store_options *opt)
{
    static const pinhole_store_options defaults = {0};
    if (!opt)
        opt = &defaults;
    memset(s, 0, sizeof *s);
    if (strlen(path) >= sizeof s->path)
        return PINHOLE_EINVAL;
    strcpy(s->path, path);
    int flags = SQLITE_OPEN_NOMUTEX |
                (opt->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    /* The file holds the server's secret keys: a new one is made 0600 (whatever the umask), and
     * SQLite gives its -wal and -shm files the database file's mode. */
    const int fd = opt->readonly ? -1 : open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_extended_result_codes(s->db, 1);
    char sql[512];
    snprintf(sql, sizeof sql,
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA cache_size=-%d;"
             " PRAGMA wal_autocheckpoint=0; PRAGMA temp_store=MEMORY;",
             opt->synchronous_normal ? "NORMAL" : "FULL",
             (opt->cache_mib > 0 ? opt->cache_mib : 64) * 1024);
    if (opt->readonly) /* journal_mode cannot change on a read-only connection */
        snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d; PRAGMA query_only=1;",
                 (opt->cache_mib > 0 ? opt->cache_mib : 64) * 1024);
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    if (!opt->readonly) {
        /* A file another program owns (nonzero application_id of its own) is refused. */
        sqlite3_stmt *q;
        int64_t app = -1;
        if (sqlite3_prepare_v2(s->db, "PRAGMA application_id", -1, &q, NULL) != SQLITE_OK)
            goto fail;
        if (sqlite3_step(q) == SQLITE_ROW)
            app = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        if (app != 0 && app != PINHOLE_APPLICATION_ID)
            goto fail;
        snprintf(sql, sizeof sql, "PRAGMA application_id=%d;", PINHOLE_APPLICATION_ID);
        if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK)
            goto fail;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        if (opt->readonly && i <= ST_ROLLBACK && i != ST_CHUNK_GET && i != ST_SELECT)
            continue; /* writing statements are not prepared on read-only connections */
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               (sqlite3_stmt **)&s->stmt[i], NULL) != SQLITE_OK)
            goto fail;
    }
    return PINHOLE_OK;
fail:
    pinhole_store_close(s);
    return PINHOLE_EIO;
}

void pinhole_store_close(pinhole_store *s)
{
    for (size_t i = 0; i < sizeof s->stmt / sizeof s->stmt[0]; i++) {
        sqlite3_finalize((sqlite3_stmt *)s->stmt[i]);
        s->stmt[i] = NULL;
    }
    if (s->db)
        sqlite3_close(s->db);
    s->db = NULL;
    if (s->ids) {
        pinhole_idset_free(s->ids);
        free(s->ids);
        s->ids = NULL;
    }
}

int pinhole_store_checkpoint(pinhole_store *s, int truncate, int *wal_frames)
{
    int log = 0, ckpt = 0;
    int rc = sqlite3_wal_checkpoint_v2(
        s->db, NULL, truncate ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE, &log,
        &ckpt);
    if (wal_frames)
        *wal_frames = log;
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? PINHOLE_OK : PINHOLE_EDB;
}

uint64_t pinhole_store_disk_bytes(const pinhole_store *s)
{
    struct stat sb;
    uint64_t total = 0;
    char wal[sizeof s->path + 8];
    if (stat(s->path, &sb) == 0)
        total += (uint64_t)sb.st_size;
    snprintf(wal, sizeof wal, "%s-wal", s->path);
    if (stat(wal, &sb) == 0)
        total += (uint64_t)sb.st_size;
    return total;
}

/* ---- collections ---- */

void pinhole_collection_free(pinhole_collection *c)
{
    pinhole_config_free(&c->cfg);
    free(c->labels_blob);
    free(c->label);
    memset(c, 0, sizeof *c);
}

/* Point label[v] at the k NUL-terminated strings of blob[0..len); PINHOLE_EFORMAT unless there are
 * exactly k of them. */
static int index_labels(pinhole_collection *c, size_t len)
{
    const uint64_t k = c->params.k;
    c->label = malloc(k * sizeof *c->label);
    if (!c->label)
        return PINHOLE_ENOMEM;
    size_t pos = 0;
    for (uint64_t v = 0; v < k; v++) {
        if (pos >= len)
            return PINHOLE_EFORMAT;
        c->label[v] = c->labels_blob + pos;
        const char *nul = memchr(c->labels_blob + pos, '\0', len - pos);
        if (!nul)
            return PINHOLE_EFORMAT;
        pos = (size_t)(nul - c->labels_blob) + 1;
    }
    return pos == len ? PINHOLE_OK : PINHOLE_EFORMAT;
}

int pinhole_collection_init(pinhole_collection *c, int64_t id, const char *name,
                            const pinhole_config_params *p, uint32_t time_precision,
                            uint32_t min_reports, const char *const *labels, int64_t created)
{
    memset(c, 0, sizeof *c);
    if (!name || strlen(name) > PINHOLE_COLLECTION_NAME_MAX || time_precision == 0 ||
        time_precision > (1u << 31))
        return PINHOLE_EINVAL;
    if (id < 0)
        return PINHOLE_EINVAL;
    int rc = pinhole_config_make(&c->wire, (uint64_t)id, p, time_precision, min_reports);
    if (rc != PINHOLE_OK)
        return rc;
    if ((rc = pinhole_config_init(&c->cfg, &c->wire.params)) != PINHOLE_OK)
        return rc;
    /* every query sums a count vector of counts_len entries in memory: keep it to 1 GiB */
    if (c->cfg.counts_len > PINHOLE_COUNTS_LEN_MAX || c->cfg.k > PINHOLE_K_SERVER_MAX) {
        pinhole_config_free(&c->cfg);
        return PINHOLE_ETOOBIG;
    }
    c->id = id;
    strcpy(c->name, name);
    c->params = c->wire.params; /* q and t resolved to the planner's choice */
    c->time_precision = time_precision;
    c->min_reports = min_reports;
    c->created = created;
    if (labels) {
        size_t len = 0;
        for (uint64_t v = 0; v < p->k; v++)
            len += strlen(labels[v]) + 1;
        c->labels_blob = malloc(len ? len : 1);
        if (!c->labels_blob) {
            pinhole_collection_free(c);
            return PINHOLE_ENOMEM;
        }
        size_t pos = 0;
        for (uint64_t v = 0; v < p->k; v++) {
            const size_t l = strlen(labels[v]) + 1;
            memcpy(c->labels_blob + pos, labels[v], l);
            pos += l;
        }
        if ((rc = index_labels(c, len)) != PINHOLE_OK) {
            pinhole_collection_free(c);
            return rc;
        }
    }
    if ((rc = pinhole_config_fingerprint(&c->wire, c->fingerprint)) != PINHOLE_OK) {
        pinhole_collection_free(c);
        return rc;
    }
    return PINHOLE_OK;
}

static size_t labels_len(const pinhole_collection *c)
{
    if (!c->label)
        return 0;
    const char *last = c->label[c->params.k - 1];
    return (size_t)(last - c->labels_blob) + strlen(last) + 1;
}

int pinhole_store_create_collection(pinhole_store *s, pinhole_collection *c, const char *name,
                                    const pinhole_config_params *p, uint32_t time_precision,
                                    uint32_t min_reports, const char *const *labels)
{
    int rc = pinhole_collection_init(c, 0, name, p, time_precision, min_reports, labels,
                                     (int64_t)time(NULL));
    if (rc != PINHOLE_OK)
        return rc;
    const pinhole_mechanism_ops *ops = pinhole_mechanism_find(p->mechanism);
    sqlite3_stmt *q = NULL;
    if (step_done(st(s, ST_BEGIN)) != PINHOLE_OK)
        goto fail;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO collections(name, mechanism, epsilon, k, q, t, "
                           "time_precision, min_reports, fingerprint, labels, created) "
                           "VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &q, NULL) != SQLITE_OK)
        goto rollback;
    sqlite3_bind_text(q, 1, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, ops->name, -1, SQLITE_STATIC);
    sqlite3_bind_double(q, 3, c->params.epsilon);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)c->params.k);
    sqlite3_bind_int64(q, 5, c->params.q);
    sqlite3_bind_int64(q, 6, c->params.t);
    sqlite3_bind_int64(q, 7, c->time_precision);
    sqlite3_bind_int64(q, 8, (sqlite3_int64)c->min_reports);
    sqlite3_bind_zeroblob(q, 9, PINHOLE_FINGERPRINT_BYTES);
    if (c->labels_blob)
        sqlite3_bind_blob64(q, 10, c->labels_blob, labels_len(c), SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 10);
    sqlite3_bind_int64(q, 11, c->created);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto rollback;
    sqlite3_finalize(q);
    q = NULL;
    c->id = sqlite3_last_insert_rowid(s->db);
    c->wire.collection_id = (uint64_t)c->id;
    if (pinhole_config_fingerprint(&c->wire, c->fingerprint) != PINHOLE_OK)
        goto rollback;
    if (sqlite3_prepare_v2(s->db, "UPDATE collections SET fingerprint = ? WHERE id = ?", -1, &q,
                           NULL) != SQLITE_OK)
        goto rollback;
    sqlite3_bind_blob(q, 1, c->fingerprint, PINHOLE_FINGERPRINT_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, c->id);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto rollback;
    sqlite3_finalize(q);
    q = NULL;
    if (step_done(st(s, ST_COMMIT)) != PINHOLE_OK)
        goto rollback;
    return PINHOLE_OK;
rollback:
    sqlite3_finalize(q);
    step_done(st(s, ST_ROLLBACK));
fail:
    pinhole_collection_free(c);
    return PINHOLE_EDB;
}

int pinhole_store_load_collections(pinhole_store *s, pinhole_collection **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, name, mechanism, epsilon, k, q, t, time_precision, "
                           "min_reports, fingerprint, labels, created FROM collections ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    pinhole_collection *arr = NULL;
    size_t len = 0, cap = 0;
    int rc = PINHOLE_OK, step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? 2 * cap : 8;
            pinhole_collection *bigger = realloc(arr, cap * sizeof *arr);
            if (!bigger) {
                rc = PINHOLE_ENOMEM;
                break;
            }
            arr = bigger;
        }
        const pinhole_mechanism_ops *ops =
            pinhole_mechanism_by_name((const char *)sqlite3_column_text(q, 2));
        const char *name = (const char *)sqlite3_column_text(q, 1);
        if (!ops || !name) {
            rc = PINHOLE_EDB;
            break;
        }
        pinhole_config_params p = {.mechanism = ops->id,
                                   .k = (uint64_t)sqlite3_column_int64(q, 4),
                                   .epsilon = sqlite3_column_double(q, 3),
                                   .q = (uint32_t)sqlite3_column_int64(q, 5),
                                   .t = (uint32_t)sqlite3_column_int64(q, 6)};
        pinhole_collection *c = &arr[len];
        rc = pinhole_collection_init(
            c, sqlite3_column_int64(q, 0), name, &p, (uint32_t)sqlite3_column_int64(q, 7),
            (uint64_t)sqlite3_column_int64(q, 8), NULL, sqlite3_column_int64(q, 11));
        if (rc != PINHOLE_OK) {
            rc = PINHOLE_EDB;
            break;
        }
        len++;
        const void *fp = sqlite3_column_blob(q, 9);
        if (sqlite3_column_bytes(q, 9) != PINHOLE_FINGERPRINT_BYTES ||
            sodium_memcmp(fp, c->fingerprint, PINHOLE_FINGERPRINT_BYTES) != 0) {
            rc = PINHOLE_EDB; /* parameters changed under the stored fingerprint */
            break;
        }
        const int lb = sqlite3_column_bytes(q, 10);
        if (sqlite3_column_type(q, 10) == SQLITE_BLOB && lb > 0) {
            c->labels_blob = malloc((size_t)lb);
            if (!c->labels_blob) {
                rc = PINHOLE_ENOMEM;
                break;
            }
            memcpy(c->labels_blob, sqlite3_column_blob(q, 10), (size_t)lb);
            if ((rc = index_labels(c, (size_t)lb)) != PINHOLE_OK) {
                rc = rc == PINHOLE_ENOMEM ? rc : PINHOLE_EDB;
                break;
            }
        }
    }
    if (rc == PINHOLE_OK && step != SQLITE_DONE)
        rc = PINHOLE_EDB;
    sqlite3_finalize(q);
    if (rc != PINHOLE_OK) {
        for (size_t i = 0; i < len; i++)
            pinhole_collection_free(&arr[i]);
        free(arr);
        return rc;
    }
    *out = arr;
    *n = len;
    return PINHOLE_OK;
}

/* ---- ingest ---- */

/* The count delta of one (collection, bucket) within a transaction: a dense vector of counts_len.
 */
struct pinhole_delta {
    const pinhole_collection *coll;
    int64_t bucket;
    uint64_t n;
    uint64_t *v;
    uint64_t len; /* allocated length of v */
};

void pinhole_ingest_scratch_free(pinhole_ingest_scratch *sc)
{
    for (size_t i = 0; i < sc->cap; i++)
        free(sc->delta[i].v);
    free(sc->delta);
    free(sc->hash);
    memset(sc, 0, sizeof *sc);
}

/* Add a delta's nonzero chunks to the stored ones and its total to the bucket; clears the delta. */
static int flush_delta(pinhole_store *s, struct pinhole_delta *d)
{
    const uint64_t len = d->coll->cfg.counts_len;
    uint8_t blob[PINHOLE_STORE_CHUNK * 8];
    int rc = PINHOLE_OK;
    for (uint64_t base = 0; base < len && rc == PINHOLE_OK; base += PINHOLE_STORE_CHUNK) {
        const uint64_t m = len - base < PINHOLE_STORE_CHUNK ? len - base : PINHOLE_STORE_CHUNK;
        uint64_t any = 0;
        for (uint64_t i = 0; i < m; i++)
            any |= d->v[base + i];
        if (!any)
            continue;
        const int64_t chunk = (int64_t)(base / PINHOLE_STORE_CHUNK);
        sqlite3_stmt *g = st(s, ST_CHUNK_GET);
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
        sqlite3_stmt *p = st(s, ST_CHUNK_PUT);
        sqlite3_bind_int64(p, 1, d->coll->id);
        sqlite3_bind_int64(p, 2, d->bucket);
        sqlite3_bind_int64(p, 3, chunk);
        sqlite3_bind_blob(p, 4, blob, (int)(m * 8), SQLITE_STATIC);
        rc = step_done(p);
    }
    if (rc != PINHOLE_OK) { /* leave the scratch all zero for the next transaction */
        memset(d->v, 0, len * sizeof *d->v);
        return rc;
    }
    sqlite3_stmt *b = st(s, ST_BUCKET_ADD);
    sqlite3_bind_int64(b, 1, d->coll->id);
    sqlite3_bind_int64(b, 2, d->bucket);
    sqlite3_bind_int64(b, 3, (sqlite3_int64)d->n);
    return step_done(b);
}

/* Flush every open delta into the stored chunks (inside the open transaction) and clear them all,
 * even after an error. */
static int flush_all(pinhole_store *s, pinhole_ingest_scratch *sc)
{
    int rc = PINHOLE_OK;
    size_t i = 0;
    for (; i < sc->ndelta && rc == PINHOLE_OK; i++)
        rc = flush_delta(s, &sc->delta[i]);
    for (; i < sc->ndelta; i++)
        memset(sc->delta[i].v, 0, sc->delta[i].coll->cfg.counts_len * sizeof *sc->delta[i].v);
    sc->ndelta = 0;
    return rc;
}

/* Dense delta vectors open at once: at most 16 and at most 64 MiB of them. A transaction touching
 * more (collection, bucket) pairs flushes them early, within the same transaction, so memory stays
 * bounded whatever times the reports carry. */
static size_t delta_limit(const pinhole_collection *c)
{
    const uint64_t per = c->cfg.counts_len * sizeof(uint64_t), fit = (UINT64_C(64) << 20) / per;
    return fit < 1 ? 1 : fit > 16 ? 16 : (size_t)fit;
}

/* The delta of (c, bucket), opening one (after flushing the others when at the limit). NULL with
 * *rc set on error. */
static struct pinhole_delta *delta_for(pinhole_store *s, pinhole_ingest_scratch *sc,
                                       const pinhole_collection *c, int64_t bucket, int *rc)
{
    *rc = PINHOLE_ENOMEM;
    for (size_t i = sc->ndelta; i-- > 0;)
        if (sc->delta[i].coll == c && sc->delta[i].bucket == bucket)
            return &sc->delta[i];
    if (sc->ndelta >= delta_limit(c) && (*rc = flush_all(s, sc)) != PINHOLE_OK)
        return NULL;
    *rc = PINHOLE_ENOMEM;
    if (sc->ndelta == sc->cap) {
        const size_t cap = sc->cap ? 2 * sc->cap : 4;
        struct pinhole_delta *d = realloc(sc->delta, cap * sizeof *d);
        if (!d)
            return NULL;
        memset(d + sc->cap, 0, (cap - sc->cap) * sizeof *d);
        sc->delta = d;
        sc->cap = cap;
    }
    struct pinhole_delta *d = &sc->delta[sc->ndelta];
    const uint64_t len = c->cfg.counts_len;
    if (d->len < len) { /* vectors stay zero between uses: flush_delta clears them */
        free(d->v);
        d->v = calloc(len, sizeof *d->v);
        d->len = d->v ? len : 0;
        if (!d->v)
            return NULL;
    }
    d->coll = c;
    d->bucket = bucket;
    d->n = 0;
    sc->ndelta++;
    *rc = PINHOLE_OK;
    return d;
}

int pinhole_store_load_ids(pinhole_store *s)
{
    if (s->ids) {
        pinhole_idset_free(s->ids);
        free(s->ids);
    }
    s->ids = malloc(sizeof *s->ids);
    if (!s->ids || pinhole_idset_init(s->ids) != PINHOLE_OK) {
        free(s->ids);
        s->ids = NULL;
        return PINHOLE_ENOMEM;
    }
    sqlite3_stmt *q = NULL;
    int rc = PINHOLE_OK, step = SQLITE_DONE;
    /* Size the table once: the largest seq bounds the row count (the log only appends). */
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(seq), 0) FROM reports", -1, &q, NULL) !=
        SQLITE_OK) {
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
    if (sqlite3_prepare_v2(s->db, "SELECT seq, collection, report_id FROM reports", -1, &q, NULL) !=
        SQLITE_OK) {
        rc = PINHOLE_EDB;
        goto out;
    }
    /* Inserts go to random slots of a table larger than the caches: hash a block of rows first and
     * prefetch their home slots, so the cache misses overlap instead of queueing. */
    enum { BLOCK = 64 };
    uint64_t hash[BLOCK];
    int64_t row[BLOCK];
    size_t nb = 0;
    for (;;) {
        step = sqlite3_step(q);
        if (step == SQLITE_ROW) {
            if (sqlite3_column_bytes(q, 2) != PINHOLE_REPORT_ID_BYTES) {
                rc = PINHOLE_EDB;
                break;
            }
            hash[nb] =
                pinhole_idset_hash(s->ids, sqlite3_column_int64(q, 1), sqlite3_column_blob(q, 2));
            row[nb] = sqlite3_column_int64(q, 0);
            pinhole_idset_prefetch(s->ids, hash[nb]);
            if (++nb < BLOCK)
                continue;
        }
        for (size_t i = 0; i < nb && rc == PINHOLE_OK; i++)
            if (pinhole_idset_add(s->ids, hash[i], row[i]) < 0)
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
 * payload equal r's, 0 when none, PINHOLE_EDB on error. */
static int find_stored(pinhole_store *s, const pinhole_ingest_report *r, uint64_t hash, int *same)
{
    size_t pos = 0;
    int64_t rowid;
    while (pinhole_idset_next(s->ids, hash, &pos, &rowid)) {
        sqlite3_stmt *sel = st(s, ST_SELECT);
        sqlite3_bind_int64(sel, 1, rowid);
        if (sqlite3_step(sel) != SQLITE_ROW) {
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

/* Insert one report; sets its status. PINHOLE_EDB on an SQLite error, PINHOLE_ENOMEM. */
static int ingest_one(pinhole_store *s, pinhole_ingest_scratch *sc, pinhole_ingest_report *r,
                      uint64_t hash)
{
    const pinhole_collection *c = r->coll;
    int same = 0;
    const int found = find_stored(s, r, hash, &same);
    if (found < 0)
        return found;
    if (found) { /* the id is taken: identical retry or replay */
        r->status = same ? PINHOLE_REPORT_DUPLICATE : PINHOLE_REPORT_REPLAY;
        r->error = same ? PINHOLE_OK : PINHOLE_EMISMATCH;
        return PINHOLE_OK;
    }
    int rc;
    struct pinhole_delta *d = delta_for(s, sc, c, r->bucket, &rc);
    if (!d)
        return rc;
    rc = pinhole_accumulate(&c->cfg, r->payload, r->payload_len, d->v);
    if (rc != PINHOLE_OK) { /* the mechanism refuses the payload; nothing was added */
        r->status = PINHOLE_REPORT_INVALID;
        r->error = rc;
        return PINHOLE_OK;
    }
    sqlite3_stmt *ins = st(s, ST_INSERT);
    sqlite3_bind_int64(ins, 1, c->id);
    sqlite3_bind_blob(ins, 2, r->id, PINHOLE_REPORT_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 3, r->bucket);
    sqlite3_bind_blob(ins, 4, r->payload, (int)r->payload_len, SQLITE_STATIC);
    if (step_done(ins) != PINHOLE_OK)
        return PINHOLE_EDB; /* the transaction is rolled back, the delta cleared */
    if (pinhole_idset_add(s->ids, hash, sqlite3_last_insert_rowid(s->db)) < 0)
        return PINHOLE_ENOMEM;
    d->n++;
    r->status = PINHOLE_REPORT_ACCEPTED;
    return PINHOLE_OK;
}

int pinhole_store_ingest(pinhole_store *s, pinhole_ingest_scratch *sc, pinhole_ingest_report *r,
                         size_t n)
{
    sc->ndelta = 0;
    int rc = s->ids ? PINHOLE_OK : pinhole_store_load_ids(s);
    if (rc != PINHOLE_OK)
        return rc;
    if (step_done(st(s, ST_BEGIN)) != PINHOLE_OK)
        return PINHOLE_EDB;
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
        rc = flush_all(s, sc);
    else {
        for (size_t k = 0; k < sc->ndelta; k++) /* clear only: the transaction is rolled back */
            memset(sc->delta[k].v, 0, sc->delta[k].coll->cfg.counts_len * sizeof *sc->delta[k].v);
        sc->ndelta = 0;
    }
    if (rc == PINHOLE_OK && step_done(st(s, ST_COMMIT)) != PINHOLE_OK)
        rc = PINHOLE_EDB;
    if (rc != PINHOLE_OK) {
        if (!sqlite3_get_autocommit(s->db))
            step_done(st(s, ST_ROLLBACK));
        /* The index must follow the database: drop it, the next ingest reloads it from the
         * committed rows (rare: only after an SQLite error). */
        pinhole_idset_free(s->ids);
        free(s->ids);
        s->ids = NULL;
        for (size_t j = 0; j < n; j++)
            if (r[j].status != PINHOLE_REPORT_REJECTED) {
                r[j].status = PINHOLE_REPORT_PENDING;
                r[j].error = PINHOLE_OK;
            }
    }
    return rc;
}

/* ---- queries ---- */

/* Add a stored chunk blob into counts; PINHOLE_EFORMAT when it does not fit the vector. */
static int add_chunk(const pinhole_collection *c, int64_t chunk, const void *blob, int bytes,
                     uint64_t *counts)
{
    const uint64_t len = c->cfg.counts_len;
    if (chunk < 0 || (uint64_t)chunk * PINHOLE_STORE_CHUNK >= len)
        return PINHOLE_EFORMAT;
    const uint64_t base = (uint64_t)chunk * PINHOLE_STORE_CHUNK;
    const uint64_t m = len - base < PINHOLE_STORE_CHUNK ? len - base : PINHOLE_STORE_CHUNK;
    if (bytes != (int)(m * 8))
        return PINHOLE_EFORMAT;
    const uint8_t *p = blob;
    for (uint64_t i = 0; i < m; i++)
        counts[base + i] += pinhole_load_le(p + 8 * i, 8);
    return PINHOLE_OK;
}

int pinhole_store_counts(pinhole_store *s, const pinhole_collection *c, int64_t from_bucket,
                         int64_t to_bucket, uint64_t *counts, uint64_t *n)
{
    memset(counts, 0, c->cfg.counts_len * sizeof *counts);
    *n = 0;
    /* One read transaction, so the vector and the total come from the same snapshot (unless the
     * caller holds one already). */
    const int own = sqlite3_get_autocommit(s->db);
    if (own && sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    int rc = PINHOLE_OK, step;
    sqlite3_stmt *q = st(s, ST_RANGE);
    sqlite3_bind_int64(q, 1, c->id);
    sqlite3_bind_int64(q, 2, from_bucket);
    sqlite3_bind_int64(q, 3, to_bucket);
    while (rc == PINHOLE_OK && (step = sqlite3_step(q)) == SQLITE_ROW)
        rc = add_chunk(c, sqlite3_column_int64(q, 0), sqlite3_column_blob(q, 1),
                       sqlite3_column_bytes(q, 1), counts);
    if (rc == PINHOLE_OK && step != SQLITE_DONE)
        rc = PINHOLE_EDB;
    sqlite3_reset(q);
    q = st(s, ST_RANGE_N);
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

int pinhole_store_buckets(pinhole_store *s, int64_t collection, int64_t from_bucket,
                          int64_t to_bucket, int64_t **bucket, uint64_t **n, size_t *count)
{
    *bucket = NULL;
    *n = NULL;
    *count = 0;
    size_t cap = 0;
    sqlite3_stmt *q = st(s, ST_BUCKETS);
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

int pinhole_store_report_total(pinhole_store *s, int64_t collection, uint64_t *n)
{
    sqlite3_stmt *q = st(s, ST_TOTAL);
    sqlite3_bind_int64(q, 1, collection);
    int rc = PINHOLE_EDB;
    if (sqlite3_step(q) == SQLITE_ROW) {
        *n = (uint64_t)sqlite3_column_int64(q, 0);
        rc = PINHOLE_OK;
    }
    sqlite3_reset(q);
    return rc;
}

/* Compare one bucket's recount with what is stored; returns the number of mismatches. */
static uint64_t check_bucket(pinhole_store *s, const pinhole_collection *c, int64_t bucket,
                             const uint64_t *recount, uint64_t nrecount, uint64_t *stored,
                             uint64_t *chunk_rows, char *msg, size_t msglen, uint64_t problems)
{
    uint64_t bad = 0, n = 0;
    uint64_t rows = 0;
    if (pinhole_store_counts(s, c, bucket, bucket, stored, &n) != PINHOLE_OK)
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

static int check_collection(pinhole_store *s, const pinhole_collection *c, uint64_t *problems,
                            char *msg, size_t msglen)
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
    if (sqlite3_prepare_v2(
            s->db, "SELECT bucket, payload FROM reports WHERE collection = ? ORDER BY bucket", -1,
            &q, NULL) != SQLITE_OK) {
        rc = PINHOLE_EDB;
        goto out;
    }
    sqlite3_bind_int64(q, 1, c->id);
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
                           "SELECT (SELECT count(*) FROM buckets WHERE collection = ?1),"
                           " (SELECT count(*) FROM counts WHERE collection = ?1)",
                           -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, c->id);
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

int pinhole_store_check(pinhole_store *s, uint64_t *problems, char *msg, size_t msglen)
{
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
    pinhole_collection *cs;
    size_t nc;
    int rc = pinhole_store_load_collections(s, &cs, &nc);
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
    for (size_t i = 0; i < nc && rc == PINHOLE_OK; i++)
        rc = check_collection(s, &cs[i], problems, msg, msglen);
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    for (size_t i = 0; i < nc; i++)
        pinhole_collection_free(&cs[i]);
    free(cs);
    return rc;
}

/* Load key pair `name`, or make one with keypair() and store it. */
static int key_pair(pinhole_store *s, const char *name, uint8_t *pk, size_t pklen, uint8_t *sk,
                    size_t sklen, void (*keypair)(uint8_t *, uint8_t *))
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT pk, sk FROM server_keys WHERE name = ?", -1, &q, NULL) !=
        SQLITE_OK)
        return PINHOLE_EDB;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int rc = PINHOLE_EDB;
    const int step = sqlite3_step(q);
    if (step == SQLITE_ROW && sqlite3_column_bytes(q, 0) == (int)pklen &&
        sqlite3_column_bytes(q, 1) == (int)sklen) {
        memcpy(pk, sqlite3_column_blob(q, 0), pklen);
        memcpy(sk, sqlite3_column_blob(q, 1), sklen);
        rc = PINHOLE_OK;
    }
    sqlite3_finalize(q);
    if (step != SQLITE_DONE)
        return rc;
    keypair(pk, sk);
    if (sqlite3_prepare_v2(s->db, "INSERT INTO server_keys(name, pk, sk) VALUES(?,?,?)", -1, &q,
                           NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, pk, (int)pklen, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, sk, (int)sklen, SQLITE_STATIC);
    rc = sqlite3_step(q) == SQLITE_DONE ? PINHOLE_OK : PINHOLE_EDB;
    sqlite3_finalize(q);
    return rc;
}

int pinhole_store_server_keys(pinhole_store *s, pinhole_server_keys *k)
{
    int rc = key_pair(s, "config-ed25519", k->sign_pk, sizeof k->sign_pk, k->sign_sk,
                      sizeof k->sign_sk, pinhole_config_keypair);
    if (rc == PINHOLE_OK)
        rc = key_pair(s, "seal-x25519", k->seal_pk, sizeof k->seal_pk, k->seal_sk,
                      sizeof k->seal_sk, pinhole_seal_keypair);
    return rc;
}

int pinhole_store_signing_key(pinhole_store *s, pinhole_signing_key_op op,
                              uint8_t pk[3][PINHOLE_CONFIG_PUBLICKEYBYTES], int have[3])
{
    static const char *const name[3] = {"config-ed25519", "config-ed25519-next",
                                        "config-ed25519-previous"};
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    pinhole_server_keys k;
    int rc = PINHOLE_OK;
    if (op == PINHOLE_SIGNING_KEY_PREPARE) /* the current key first, so there is one to follow */
        rc = key_pair(s, name[0], k.sign_pk, sizeof k.sign_pk, k.sign_sk, sizeof k.sign_sk,
                      pinhole_config_keypair);
    if (rc == PINHOLE_OK && op == PINHOLE_SIGNING_KEY_PREPARE)
        rc = key_pair(s, name[1], k.sign_pk, sizeof k.sign_pk, k.sign_sk, sizeof k.sign_sk,
                      pinhole_config_keypair);
    sodium_memzero(&k, sizeof k);
    const char *sql = op == PINHOLE_SIGNING_KEY_ACTIVATE
                          ? "DELETE FROM server_keys WHERE name = 'config-ed25519-previous';"
                            "UPDATE server_keys SET name = 'config-ed25519-previous'"
                            " WHERE name = 'config-ed25519';"
                            "UPDATE server_keys SET name = 'config-ed25519'"
                            " WHERE name = 'config-ed25519-next';"
                      : op == PINHOLE_SIGNING_KEY_RETIRE
                          ? "DELETE FROM server_keys WHERE name = 'config-ed25519-previous';"
                          : NULL;
    sqlite3_stmt *q = NULL;
    if (rc == PINHOLE_OK && op == PINHOLE_SIGNING_KEY_ACTIVATE) {
        if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM server_keys WHERE name = ?", -1, &q, NULL) !=
            SQLITE_OK)
            rc = PINHOLE_EDB;
        else {
            sqlite3_bind_text(q, 1, name[1], -1, SQLITE_STATIC);
            rc = sqlite3_step(q) == SQLITE_ROW ? PINHOLE_OK : PINHOLE_ENOTFOUND;
            sqlite3_finalize(q);
        }
    }
    if (rc == PINHOLE_OK && sql && sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        rc = PINHOLE_EDB;
    for (int i = 0; i < 3 && rc == PINHOLE_OK; i++) {
        have[i] = 0;
        if (sqlite3_prepare_v2(s->db, "SELECT pk FROM server_keys WHERE name = ?", -1, &q, NULL) !=
            SQLITE_OK) {
            rc = PINHOLE_EDB;
            break;
        }
        sqlite3_bind_text(q, 1, name[i], -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW &&
            sqlite3_column_bytes(q, 0) == PINHOLE_CONFIG_PUBLICKEYBYTES) {
            memcpy(pk[i], sqlite3_column_blob(q, 0), PINHOLE_CONFIG_PUBLICKEYBYTES);
            have[i] = 1;
        }
        sqlite3_finalize(q);
    }
    if (rc == PINHOLE_OK && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = PINHOLE_EDB;
    if (rc != PINHOLE_OK)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
