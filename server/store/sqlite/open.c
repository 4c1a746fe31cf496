/* The SQLite backend: schema, opening and closing connections, WAL maintenance, the table of
 * operations. */
#include "common/error.h"
#include "server/store/sqlite/sqlite.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Application id in the database header, so the server refuses to write into a foreign file. */
#define PINHOLE_APPLICATION_ID 0x50484e31 /* "PHN1" */

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS collections("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL, mechanism TEXT NOT NULL, epsilon REAL NOT NULL,"
    " k INTEGER NOT NULL, q INTEGER NOT NULL, t INTEGER NOT NULL, time_precision INTEGER NOT NULL,"
    " min_reports INTEGER NOT NULL, fingerprint BLOB NOT NULL, labels BLOB, created INTEGER NOT "
    "NULL);"
    "CREATE TABLE IF NOT EXISTS multi_collections(id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " spec TEXT NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS reports(seq INTEGER PRIMARY KEY, collection INTEGER NOT NULL,"
    " report_id BLOB NOT NULL, bucket INTEGER NOT NULL, payload BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS buckets(collection INTEGER NOT NULL, bucket INTEGER NOT NULL,"
    " n INTEGER NOT NULL, PRIMARY KEY(collection, bucket)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS counts(collection INTEGER NOT NULL, bucket INTEGER NOT NULL,"
    " chunk INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(collection, bucket, chunk))"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS server_keys(name TEXT PRIMARY KEY, pk BLOB NOT NULL,"
    " sk BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS jobs("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, collection_id INTEGER NOT NULL, type TEXT NOT NULL,"
    " t_from INTEGER NOT NULL, t_to INTEGER NOT NULL, params TEXT NOT NULL, status TEXT NOT NULL,"
    " progress REAL NOT NULL DEFAULT 0, time_limit REAL NOT NULL, created REAL NOT NULL,"
    " started REAL, finished REAL, result TEXT, error TEXT, attempts INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs(status, id);"
    "CREATE TABLE IF NOT EXISTS discoveries(id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " state BLOB NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS discovery_rounds(discovery INTEGER NOT NULL, round INTEGER NOT "
    "NULL,"
    " collection INTEGER NOT NULL, PRIMARY KEY(discovery, round)) WITHOUT ROWID;";

/* The schema's version (PRAGMA user_version): 0 is the first schema above, as made by every
 * server before versioning; each step below brings a file one version up, in a transaction. */
#define SQLITE_SCHEMA_VERSION 3
static const char *const upgrade[SQLITE_SCHEMA_VERSION] = {
    /* 0 -> 1: the report window and retention of each collection (existing ones: none) */
    ("ALTER TABLE collections ADD COLUMN max_report_age INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE collections ADD COLUMN max_clock_skew INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE collections ADD COLUMN keep_reports INTEGER NOT NULL DEFAULT 0;"),
    /* 1 -> 2: the garbage collector's state, collections being deleted */
    ("CREATE TABLE gc_state(id INTEGER PRIMARY KEY CHECK(id = 1), retired_day INTEGER NOT NULL);"
     "ALTER TABLE collections ADD COLUMN deleting INTEGER NOT NULL DEFAULT 0;"),
    /* 2 -> 3: closed time buckets (the first open one) */
    "ALTER TABLE collections ADD COLUMN closed_before INTEGER NOT NULL DEFAULT 0;",
};

/* The file's schema version, or -1. */
static int schema_version(sqlite3 *db)
{
    sqlite3_stmt *q;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return v;
}

/* Bring the schema up to SQLITE_SCHEMA_VERSION, one step per transaction (the version is read
 * again under the write lock: another connection may have upgraded meanwhile). PINHOLE_OK, or
 * PINHOLE_EIO (an upgrade failed, or the file comes from a newer server). */
static int schema_upgrade(sqlite3 *db)
{
    for (;;) {
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
            return PINHOLE_EIO;
        const int v = schema_version(db);
        char set[64];
        snprintf(set, sizeof set, "PRAGMA user_version=%d;", v + 1);
        if (v < 0 || v > SQLITE_SCHEMA_VERSION) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return PINHOLE_EIO;
        }
        if (v == SQLITE_SCHEMA_VERSION)
            return sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? PINHOLE_OK
                                                                             : PINHOLE_EIO;
        if (sqlite3_exec(db, upgrade[v], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, set, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return PINHOLE_EIO;
        }
    }
}

static const char *const stmt_sql[SQ_COUNT] = {
    [SQ_INSERT] = "INSERT INTO reports(collection, report_id, bucket, payload) VALUES(?,?,?,?)",
    [SQ_SELECT] = "SELECT collection, report_id, bucket, payload FROM reports WHERE seq = ?",
    [SQ_DELETE] = "DELETE FROM reports WHERE seq = ?",
    [SQ_CHUNK_GET] = "SELECT data FROM counts WHERE collection = ? AND bucket = ? AND chunk = ?",
    [SQ_CHUNK_PUT] =
        "INSERT OR REPLACE INTO counts(collection, bucket, chunk, data) VALUES(?,?,?,?)",
    [SQ_BUCKET_ADD] = "INSERT INTO buckets(collection, bucket, n) VALUES(?,?,?)"
                      " ON CONFLICT(collection, bucket) DO UPDATE SET n = n + excluded.n",
    [SQ_BEGIN] = "BEGIN IMMEDIATE",
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_RANGE] = "SELECT chunk, data FROM counts WHERE collection = ? AND bucket BETWEEN ? AND ?",
    [SQ_RANGE_N] =
        "SELECT coalesce(sum(n), 0) FROM buckets WHERE collection = ? AND bucket BETWEEN "
        "? AND ?",
    [SQ_TOTAL] = "SELECT coalesce(sum(n), 0) FROM buckets WHERE collection = ?",
    [SQ_BUCKETS] = "SELECT bucket, n FROM buckets WHERE collection = ? AND bucket BETWEEN ? AND ?"
                   " AND n > 0 ORDER BY bucket",
    [SQ_RETIRED] = "SELECT retired_day FROM gc_state WHERE id = 1",
    [SQ_STATE] = "SELECT deleting, closed_before FROM collections WHERE id = ?",
};

int pinhole_sqlite_error(sqlite3 *db)
{
    const int ec = sqlite3_extended_errcode(db) & 0xff, sys = sqlite3_system_errno(db);
    return ec == SQLITE_FULL || (ec == SQLITE_IOERR && (sys == ENOSPC || sys == EDQUOT))
               ? PINHOLE_ENOSPACE
               : PINHOLE_EDB;
}

/* db's URI for a connection that writes no data (store option write_nothing): read-only, and
 * SQLite's shared WAL index opened read-only too (readonly_shm), so that when no other connection
 * keeps that index SQLite reads the WAL into private memory instead of rebuilding the index on
 * disk. The path is percent-escaped where URI syntax would read it otherwise. */
static int write_nothing_uri(char *uri, size_t cap, const char *path)
{
    size_t n = (size_t)snprintf(uri, cap, "file:%s", path[0] == '/' ? "//" : "");
    const char *p = path;
    for (; *p && n + 4 < cap; p++)
        n += (size_t)(*p == '%' || *p == '?' || *p == '#'
                          ? snprintf(uri + n, cap - n, "%%%02X", (unsigned char)*p)
                          : snprintf(uri + n, cap - n, "%c", *p));
    const char *const query = "?mode=ro&readonly_shm=1";
    if (*p || n + strlen(query) + 1 > cap)
        return PINHOLE_EINVAL;
    strcpy(uri + n, query);
    return PINHOLE_OK;
}

int pinhole_sqlite_step_done(sqlite3_stmt *q)
{
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? PINHOLE_OK : PINHOLE_EDB;
}

int pinhole_sqlite_load_rows(sqlite3_stmt *q, size_t elem, sqlite_row_reader read,
                             void (*release)(void *elem), void *ctx, void **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    unsigned char *arr = NULL;
    size_t len = 0, cap = 0;
    int rc = PINHOLE_OK, step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        void *grown = sqlite_reserve(arr, &cap, len, elem);
        if (!grown) {
            rc = PINHOLE_ENOMEM;
            break;
        }
        arr = grown;
        memset(arr + len * elem, 0, elem);
        if ((rc = read(q, arr + len * elem, ctx)) != PINHOLE_OK)
            break;
        len++;
    }
    if (rc == PINHOLE_OK && step != SQLITE_DONE)
        rc = PINHOLE_EDB;
    sqlite3_finalize(q);
    if (rc != PINHOLE_OK) {
        for (size_t i = 0; i < len; i++)
            release(arr + i * elem);
        free(arr);
        return rc;
    }
    *out = arr;
    *n = len;
    return PINHOLE_OK;
}

/* sqlite3_wal_hook: after each commit of this connection, the WAL's size in frames. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    ((sqlite_store *)arg)->wal_frames = (uint64_t)frames;
    return SQLITE_OK;
}

static void sqlite_close(pinhole_store *base)
{
    sqlite_store *s = sqlite_of(base);
    for (int i = 0; i < SQ_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    if (s->db)
        sqlite3_close(s->db);
    pinhole_sqlite_ingest_free(s);
    free(s);
}

static int sqlite_open(pinhole_store **out, const char *path, const pinhole_store_options *opt)
{
    sqlite_store *s = calloc(1, sizeof *s);
    if (!s)
        return PINHOLE_ENOMEM;
    s->base.backend = &pinhole_store_sqlite;
    if (strlen(path) >= sizeof s->path) {
        free(s);
        return PINHOLE_EINVAL;
    }
    strcpy(s->path, path);
    s->ids_horizon = INT64_MIN;
    s->gc.checked_day = INT64_MIN;
    const int ro = opt->readonly || opt->write_nothing;
    int flags = SQLITE_OPEN_NOMUTEX |
                (ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    s->readonly = ro;
    /* The file holds the server's secret keys: a new one is made 0600 (whatever the umask), and
     * SQLite gives its -wal and -shm files the database file's mode. */
    const int fd = ro || strcmp(path, ":memory:") == 0
                       ? -1
                       : open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    char uri[sizeof s->path * 3 + 32];
    if (opt->write_nothing && write_nothing_uri(uri, sizeof uri, path) != PINHOLE_OK)
        goto fail;
    if (opt->write_nothing) {
        /* readonly_shm needs the -shm file: an empty one (no data: it takes no space) when a
         * clean stop removed it; SQLite then reads any WAL into private memory */
        char shm[sizeof s->path + 8];
        snprintf(shm, sizeof shm, "%s-shm", path);
        const int sfd =
            access(path, F_OK) == 0 ? open(shm, O_RDONLY | O_CREAT | O_CLOEXEC, 0600) : -1;
        if (sfd >= 0)
            close(sfd);
    }
    if (sqlite3_open_v2(opt->write_nothing ? uri : path, &s->db,
                        flags | (opt->write_nothing ? SQLITE_OPEN_URI : 0), NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(s->db, opt->busy_ms > 0 ? opt->busy_ms : 5000);
    sqlite3_extended_result_codes(s->db, 1);
    char sql[512];
    const int cache_kib = (opt->cache_mib > 0 ? opt->cache_mib : 64) * 1024;
    if (ro) /* journal_mode cannot change on a read-only connection */
        snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d; PRAGMA query_only=1;", cache_kib);
    else
        snprintf(sql, sizeof sql,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA cache_size=-%d;"
                 " PRAGMA wal_autocheckpoint=0; PRAGMA temp_store=MEMORY;",
                 opt->synchronous_normal ? "NORMAL" : "FULL", cache_kib);
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    if (!ro) {
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
        /* Written at every open, also when the file has it: a handle opened for writing has
         * shown that it can write (a full disk fails here with PINHOLE_ENOSPACE, and the server
         * serves reads through write_nothing handles instead, rather than finding out at the
         * first batch). */
        snprintf(sql, sizeof sql, "PRAGMA application_id=%d;", PINHOLE_APPLICATION_ID);
        if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
            schema_upgrade(s->db) != PINHOLE_OK)
            goto fail;
        sqlite3_wal_hook(s->db, wal_hook, s);
    }
    for (int i = 0; i < SQ_COUNT; i++) {
        if (ro && ((i <= SQ_ROLLBACK && i != SQ_CHUNK_GET && i != SQ_SELECT) || i == SQ_RETIRED ||
                   i == SQ_STATE))
            continue; /* writing statements are not prepared on read-only connections */
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                               NULL) != SQLITE_OK)
            goto fail;
    }
    *out = &s->base;
    return PINHOLE_OK;
fail:;
    const int full = s->db && pinhole_sqlite_error(s->db) == PINHOLE_ENOSPACE;
    sqlite_close(&s->base);
    return full ? PINHOLE_ENOSPACE : PINHOLE_EIO;
}

static int sqlite_maintain(pinhole_store *base, pinhole_store_upkeep when, int *did)
{
    sqlite_store *s = sqlite_of(base);
    if (s->readonly)
        return PINHOLE_OK;
    int rc = PINHOLE_OK;
    if (when == PINHOLE_UPKEEP_AFTER_COMMIT)
        rc = pinhole_sqlite_gc_index(s);
    else if (when == PINHOLE_UPKEEP_PERIODIC)
        rc = pinhole_sqlite_gc_collect(s, did);
    if (rc != PINHOLE_OK)
        return rc;
    /* Under continuous load the periodic passive checkpoints never catch up with the end of the
     * WAL, and SQLite restarts the WAL only once a checkpoint has. So when it has grown past
     * PINHOLE_SQLITE_WAL_RESTART_FRAMES, the ingesting handle itself checkpoints between two
     * transactions (no write can race it): mostly copied already, this is short, and the next
     * transaction starts the WAL from the beginning again. */
    if (when == PINHOLE_UPKEEP_AFTER_COMMIT && s->wal_frames <= PINHOLE_SQLITE_WAL_RESTART_FRAMES)
        return PINHOLE_OK;
    int log = 0, ckpt = 0;
    rc = sqlite3_wal_checkpoint_v2(s->db, NULL,
                                   when == PINHOLE_UPKEEP_CLOSING
                                       ? SQLITE_CHECKPOINT_TRUNCATE
                                       : SQLITE_CHECKPOINT_PASSIVE, /* never blocks */
                                   &log, &ckpt);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        return PINHOLE_EDB;
    if (when == PINHOLE_UPKEEP_AFTER_COMMIT)
        s->wal_frames = 0;
    *did = 1;
    return PINHOLE_OK;
}

static uint64_t sqlite_disk_bytes(pinhole_store *base)
{
    const sqlite_store *s = sqlite_of(base);
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

const pinhole_store_backend pinhole_store_sqlite = {
    .name = "sqlite",
    .schemes = NULL, /* plain paths */
    .open = sqlite_open,
    .close = sqlite_close,
    .maintain = sqlite_maintain,
    .disk_bytes = sqlite_disk_bytes,
    .gc_stats = pinhole_sqlite_gc_stats,
    .create_collection = pinhole_sqlite_create_collection,
    .load_collections = pinhole_sqlite_load_collections,
    .set_window = pinhole_sqlite_set_window,
    .close_buckets = pinhole_sqlite_close_buckets,
    .closed_before = pinhole_sqlite_closed_before,
    .create_multi = pinhole_sqlite_create_multi,
    .load_multis = pinhole_sqlite_load_multis,
    .delete_collection = pinhole_sqlite_delete_collection,
    .server_keys = pinhole_sqlite_server_keys,
    .rotate_key = pinhole_sqlite_rotate_key,
    .ingest_prepare = pinhole_sqlite_ingest_prepare,
    .ingest = pinhole_sqlite_ingest,
    .counts = pinhole_sqlite_counts,
    .buckets = pinhole_sqlite_buckets,
    .report_total = pinhole_sqlite_report_total,
    .check = pinhole_sqlite_check,
    .jobs_recover = pinhole_sqlite_jobs_recover,
    .job_enqueue = pinhole_sqlite_job_enqueue,
    .job_claim = pinhole_sqlite_job_claim,
    .job_progress = pinhole_sqlite_job_progress,
    .job_finish = pinhole_sqlite_job_finish,
    .job_cancel_queued = pinhole_sqlite_job_cancel_queued,
    .job_request_cancel = pinhole_sqlite_job_request_cancel,
    .job_state = pinhole_sqlite_job_state,
    .job_get = pinhole_sqlite_job_get,
    .job_list = pinhole_sqlite_job_list,
    .discovery_create = pinhole_sqlite_discovery_create,
    .discovery_save = pinhole_sqlite_discovery_save,
    .discovery_load = pinhole_sqlite_discovery_load,
};
