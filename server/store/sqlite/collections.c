/* The SQLite backend: creating and loading collections. */
#include "common/clock.h"
#include "common/error.h"
#include "server/store/sqlite/sqlite.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* The next id of a collection or a multi-attribute parent: one id space for both, so that
 * /v1/collections/{id} names one of them. */
#define NEXT_ID                                                                                    \
    "(SELECT coalesce(max(m), 0) + 1 FROM (SELECT max(id) AS m FROM collections UNION ALL "        \
    "SELECT max(id) FROM multi_collections))"

int pinhole_sqlite_create_multi(pinhole_store *base, const char *name, const char *spec,
                                int64_t created, int64_t *id)
{
    sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO multi_collections(id, name, spec, created) VALUES(" NEXT_ID
                           ",?,?,?)",
                           -1, &q, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, spec, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, created);
    const int step = sqlite3_step(q);
    sqlite3_finalize(q);
    if (step != SQLITE_DONE)
        return PINHOLE_EDB;
    *id = sqlite3_last_insert_rowid(s->db);
    return PINHOLE_OK;
}

/* A row of multi_collections (id, name, spec, created) into a pinhole_multi_record. */
static int read_multi(sqlite3_stmt *q, void *elem, void *ctx)
{
    (void)ctx;
    pinhole_multi_record *r = elem;
    const char *nm = (const char *)sqlite3_column_text(q, 1),
               *sp = (const char *)sqlite3_column_text(q, 2);
    r->id = sqlite3_column_int64(q, 0);
    r->created = sqlite3_column_int64(q, 3);
    r->name = nm ? strdup(nm) : NULL;
    r->spec = sp ? strdup(sp) : NULL;
    if (!r->name || !r->spec) {
        pinhole_multi_record_free(r);
        return PINHOLE_ENOMEM;
    }
    return PINHOLE_OK;
}

static void release_multi(void *elem)
{
    pinhole_multi_record_free(elem);
}

int pinhole_sqlite_load_multis(pinhole_store *base, pinhole_multi_record **out, size_t *n)
{
    sqlite_store *s = sqlite_of(base);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, name, spec, created FROM multi_collections ORDER BY id", -1,
                           &q, NULL) != SQLITE_OK)
        /* a read-only handle on a store made before multi-attribute collections has no table */
        return sqlite3_errcode(s->db) == SQLITE_ERROR ? PINHOLE_OK : PINHOLE_EDB;
    void *arr;
    const int rc =
        pinhole_sqlite_load_rows(q, sizeof **out, read_multi, release_multi, NULL, &arr, n);
    *out = arr;
    return rc;
}

int pinhole_sqlite_create_collection(pinhole_store *base, pinhole_server_collection *c,
                                     const char *name, const pinhole_config_params *p,
                                     uint32_t time_precision, uint32_t min_reports,
                                     const char *const *labels, const pinhole_collection_window *w)
{
    sqlite_store *s = sqlite_of(base);
    int rc = pinhole_server_collection_init(c, 0, name, p, time_precision, min_reports, labels,
                                            (int64_t)pinhole_clock_wall());
    if (rc != PINHOLE_OK)
        return rc;
    if (w)
        c->window = *w;
    const pinhole_mechanism_ops *ops = pinhole_mechanism_find(p->mechanism);
    sqlite3_stmt *q = NULL;
    if (pinhole_sqlite_step_done(s->stmt[SQ_BEGIN]) != PINHOLE_OK)
        goto fail;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO collections(id, name, mechanism, epsilon, k, q, t, "
                           "time_precision, min_reports, fingerprint, labels, created, "
                           "max_report_age, max_clock_skew, keep_reports) "
                           "VALUES(" NEXT_ID ",?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
        sqlite3_bind_blob64(q, 10, c->labels_blob, pinhole_server_collection_labels_len(c),
                            SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 10);
    sqlite3_bind_int64(q, 11, c->created);
    sqlite3_bind_int64(q, 12, c->window.max_report_age);
    sqlite3_bind_int64(q, 13, c->window.max_clock_skew);
    sqlite3_bind_int(q, 14, c->window.keep_reports != 0);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto rollback;
    sqlite3_finalize(q);
    q = NULL;
    c->id = sqlite3_last_insert_rowid(s->db);
    c->wire.collection_id = (uint64_t)c->id;
    if (pinhole_collection_config_fingerprint(&c->wire, c->fingerprint) != PINHOLE_OK)
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
    if (pinhole_sqlite_step_done(s->stmt[SQ_COMMIT]) != PINHOLE_OK)
        goto rollback;
    return PINHOLE_OK;
rollback:
    sqlite3_finalize(q);
    pinhole_sqlite_step_done(s->stmt[SQ_ROLLBACK]);
fail:
    pinhole_server_collection_free(c);
    return PINHOLE_EDB;
}

/* A row of collections (the columns pinhole_sqlite_load_collections selects) into a
 * pinhole_server_collection; ctx points to an int, nonzero when the row has the window columns. */
static int read_collection(sqlite3_stmt *q, void *elem, void *ctx)
{
    pinhole_server_collection *c = elem;
    const pinhole_mechanism_ops *ops =
        pinhole_mechanism_by_name((const char *)sqlite3_column_text(q, 2));
    const char *name = (const char *)sqlite3_column_text(q, 1);
    if (!ops || !name)
        return PINHOLE_EDB;
    pinhole_config_params p = {.mechanism = ops->id,
                               .k = (uint64_t)sqlite3_column_int64(q, 4),
                               .epsilon = sqlite3_column_double(q, 3),
                               .q = (uint32_t)sqlite3_column_int64(q, 5),
                               .t = (uint32_t)sqlite3_column_int64(q, 6)};
    if (pinhole_server_collection_init(
            c, sqlite3_column_int64(q, 0), name, &p, (uint32_t)sqlite3_column_int64(q, 7),
            (uint64_t)sqlite3_column_int64(q, 8), NULL, sqlite3_column_int64(q, 11)) != PINHOLE_OK)
        return PINHOLE_EDB;
    if (*(const int *)ctx)
        c->window =
            (pinhole_collection_window){.max_report_age = (uint32_t)sqlite3_column_int64(q, 12),
                                        .max_clock_skew = (uint32_t)sqlite3_column_int64(q, 13),
                                        .keep_reports = sqlite3_column_int(q, 14) != 0};
    int rc = PINHOLE_OK;
    const int lb = sqlite3_column_bytes(q, 10);
    if (sqlite3_column_type(q, 10) == SQLITE_BLOB && lb > 0) {
        rc = pinhole_server_collection_set_labels(c, sqlite3_column_blob(q, 10), (size_t)lb);
        if (rc != PINHOLE_OK && rc != PINHOLE_ENOMEM)
            rc = PINHOLE_EDB;
    }
    /* the labels first: the config commits to them (or, stored before it could, not) */
    if (rc == PINHOLE_OK &&
        (sqlite3_column_bytes(q, 9) != PINHOLE_FINGERPRINT_BYTES ||
         pinhole_server_collection_match_fingerprint(c, sqlite3_column_blob(q, 9)) != PINHOLE_OK))
        rc = PINHOLE_EDB; /* parameters changed under the stored fingerprint */
    if (rc != PINHOLE_OK)
        pinhole_server_collection_free(c);
    return rc;
}

static void release_collection(void *elem)
{
    pinhole_server_collection_free(elem);
}

int pinhole_sqlite_load_collections(pinhole_store *base, pinhole_server_collection **out, size_t *n)
{
    sqlite_store *s = sqlite_of(base);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q;
    /* a file not upgraded yet (opened read-only, say) has no window columns: the defaults */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, name, mechanism, epsilon, k, q, t, time_precision, "
                           "min_reports, fingerprint, labels, created, max_report_age, "
                           "max_clock_skew, keep_reports FROM collections WHERE deleting = 0"
                           " ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK &&
        sqlite3_prepare_v2(s->db,
                           "SELECT id, name, mechanism, epsilon, k, q, t, time_precision, "
                           "min_reports, fingerprint, labels, created, max_report_age, "
                           "max_clock_skew, keep_reports FROM collections ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK &&
        sqlite3_prepare_v2(s->db,
                           "SELECT id, name, mechanism, epsilon, k, q, t, time_precision, "
                           "min_reports, fingerprint, labels, created FROM collections ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    int windowed = sqlite3_column_count(q) == 15;
    void *arr;
    const int rc = pinhole_sqlite_load_rows(q, sizeof **out, read_collection, release_collection,
                                            &windowed, &arr, n);
    *out = arr;
    return rc;
}

int pinhole_sqlite_set_window(pinhole_store *base, int64_t id, const pinhole_collection_window *w)
{
    sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE collections SET max_report_age = ?, max_clock_skew = ?,"
                           " keep_reports = ? WHERE id = ?",
                           -1, &q, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    sqlite3_bind_int64(q, 1, w->max_report_age);
    sqlite3_bind_int64(q, 2, w->max_clock_skew);
    sqlite3_bind_int(q, 3, w->keep_reports != 0);
    sqlite3_bind_int64(q, 4, id);
    const int step = sqlite3_step(q);
    sqlite3_finalize(q);
    if (step != SQLITE_DONE)
        return PINHOLE_EDB;
    return sqlite3_changes(s->db) == 1 ? PINHOLE_OK : PINHOLE_ENOTFOUND;
}

int pinhole_sqlite_delete_collection(pinhole_store *base, int64_t id)
{
    sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE collections SET deleting = 1 WHERE id = ? AND deleting = 0", -1,
                           &q, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    sqlite3_bind_int64(q, 1, id);
    const int rc = sqlite3_step(q) == SQLITE_DONE ? PINHOLE_OK : PINHOLE_EDB;
    sqlite3_finalize(q);
    if (rc != PINHOLE_OK)
        return rc;
    return sqlite3_changes(s->db) == 1 ? PINHOLE_OK : PINHOLE_ENOTFOUND;
}

int pinhole_sqlite_close_buckets(pinhole_store *base, int64_t id, int64_t before, int64_t *closed)
{
    sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *q;
    /* one statement: it takes the write lock, so it falls between two ingest transactions */
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE collections SET closed_before = max(closed_before, ?2)"
                           " WHERE id = ?1 AND deleting = 0 RETURNING closed_before",
                           -1, &q, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, before);
    int step = sqlite3_step(q), rc = PINHOLE_ENOTFOUND;
    if (step == SQLITE_ROW) {
        *closed = sqlite3_column_int64(q, 0);
        step = sqlite3_step(q);
        rc = PINHOLE_OK;
    }
    sqlite3_finalize(q);
    return step == SQLITE_DONE ? rc : PINHOLE_EDB;
}

int pinhole_sqlite_closed_before(pinhole_store *base, int64_t id, int64_t *closed)
{
    sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT closed_before FROM collections WHERE id = ? AND deleting = 0",
                           -1, &q, NULL) != SQLITE_OK)
        /* a read-only handle on a file from before closing: nothing closed */
        return sqlite3_errcode(s->db) == SQLITE_ERROR ? PINHOLE_OK : PINHOLE_EDB;
    sqlite3_bind_int64(q, 1, id);
    const int step = sqlite3_step(q);
    if (step == SQLITE_ROW)
        *closed = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return step == SQLITE_ROW ? PINHOLE_OK : step == SQLITE_DONE ? PINHOLE_ENOTFOUND : PINHOLE_EDB;
}
