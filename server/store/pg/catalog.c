/* The PostgreSQL backend's catalog: collections and the server's key pairs, shared by every
 * replica (each loads the same rows, so every replica serves the same config bytes). */
#include "common/error.h"
#include "proto/seal.h"
#include "server/store/pg/pg.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* "\x<hex>": the text form of a bytea parameter. */
static void bytea_param(pg_buf *b, const void *p, size_t n)
{
    pg_buf_str(b, "\\x");
    pg_buf_hex(b, p, n);
}

int pg_create_collection(pinhole_store *base, pinhole_server_collection *c, const char *name,
                         const pinhole_config_params *p, uint32_t time_precision,
                         uint32_t min_reports, const char *const *labels,
                         const pinhole_collection_window *w)
{
    pg_store *s = pg_of(base);
    int rc = pinhole_server_collection_init(c, 0, name, p, time_precision, min_reports, labels,
                                            (int64_t)time(NULL));
    if (rc != PINHOLE_OK)
        return rc;
    if (w)
        c->window = *w;
    const pinhole_mechanism_ops *ops = pinhole_mechanism_find(p->mechanism);
    char eps[40], k[24], q[24], t[24], tp[24], mr[24], created[24], id[24], age[24], skew[24];
    snprintf(eps, sizeof eps, "%.17g", c->params.epsilon);
    snprintf(k, sizeof k, "%" PRIu64, c->params.k);
    snprintf(q, sizeof q, "%" PRIu32, c->params.q);
    snprintf(t, sizeof t, "%" PRIu32, c->params.t);
    snprintf(tp, sizeof tp, "%" PRIu32, c->time_precision);
    snprintf(mr, sizeof mr, "%" PRIu32, c->min_reports);
    snprintf(created, sizeof created, "%" PRId64, c->created);
    snprintf(age, sizeof age, "%" PRIu32, c->window.max_report_age);
    snprintf(skew, sizeof skew, "%" PRIu32, c->window.max_clock_skew);
    pg_buf labels_hex = {0}, fp = {0};
    if (c->labels_blob)
        bytea_param(&labels_hex, (const uint8_t *)c->labels_blob,
                    pinhole_server_collection_labels_len(c));
    PGresult *res = NULL;
    rc = PINHOLE_EDB;
    if (labels_hex.failed) {
        rc = PINHOLE_ENOMEM;
        goto fail;
    }
    if (pg_exec(s, "BEGIN", 0, NULL) != PINHOLE_OK)
        goto fail;
    const char *v[13] = {c->name,
                         ops->name,
                         eps,
                         k,
                         q,
                         t,
                         tp,
                         mr,
                         c->labels_blob ? pg_buf_text(&labels_hex) : NULL,
                         created,
                         age,
                         skew,
                         c->window.keep_reports ? "true" : "false"};
    res = pg_run(s,
                 "INSERT INTO collections(name, mechanism, epsilon, k, q, t, time_precision,"
                 " min_reports, fingerprint, labels, created, max_report_age, max_clock_skew,"
                 " keep_reports) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '\\x', $9::bytea, $10,"
                 " $11, $12, $13) RETURNING id",
                 13, v, PGRES_TUPLES_OK);
    if (!res)
        goto rollback;
    c->id = pg_int(res, 0, 0);
    PQclear(res);
    res = NULL;
    c->wire.collection_id = (uint64_t)c->id;
    if (pinhole_collection_config_fingerprint(&c->wire, c->fingerprint) != PINHOLE_OK)
        goto rollback;
    bytea_param(&fp, c->fingerprint, PINHOLE_FINGERPRINT_BYTES);
    snprintf(id, sizeof id, "%" PRId64, c->id);
    const char *u[2] = {pg_buf_text(&fp), id};
    if (fp.failed ||
        pg_exec(s, "UPDATE collections SET fingerprint = $1::bytea WHERE id = $2", 2, u) !=
            PINHOLE_OK ||
        pg_exec(s, "COMMIT", 0, NULL) != PINHOLE_OK)
        goto rollback;
    pg_buf_free(&labels_hex);
    pg_buf_free(&fp);
    return PINHOLE_OK;
rollback:
    PQclear(PQexec(s->conn, "ROLLBACK"));
fail:
    PQclear(res);
    pg_buf_free(&labels_hex);
    pg_buf_free(&fp);
    pinhole_server_collection_free(c);
    return rc;
}

/* Fill c from row i of the collections query; PINHOLE_EDB when it no longer configures. */
static int load_one(const PGresult *res, int i, pinhole_server_collection *c)
{
    const pinhole_mechanism_ops *ops = pinhole_mechanism_by_name(PQgetvalue(res, i, 2));
    if (!ops)
        return PINHOLE_EDB;
    pinhole_config_params p = {.mechanism = ops->id,
                               .k = (uint64_t)pg_int(res, i, 4),
                               .epsilon = pg_double(res, i, 3),
                               .q = (uint32_t)pg_int(res, i, 5),
                               .t = (uint32_t)pg_int(res, i, 6)};
    if (pinhole_server_collection_init(c, pg_int(res, i, 0), PQgetvalue(res, i, 1), &p,
                                       (uint32_t)pg_int(res, i, 7), (uint32_t)pg_int(res, i, 8),
                                       NULL, pg_int(res, i, 11)) != PINHOLE_OK)
        return PINHOLE_EDB;
    int rc = PINHOLE_OK;
    if (!PQgetisnull(res, i, 10)) {
        const size_t max = (size_t)PQgetlength(res, i, 10) / 2;
        uint8_t *blob = malloc(max ? max : 1);
        const long len = blob ? pg_bytea(res, i, 10, blob, max) : -1;
        rc = !blob ? PINHOLE_ENOMEM : len < 0 ? PINHOLE_EDB : PINHOLE_OK;
        if (rc == PINHOLE_OK && len > 0) {
            rc = pinhole_server_collection_set_labels(c, blob, (size_t)len);
            rc = rc == PINHOLE_ENOMEM ? rc : rc != PINHOLE_OK ? PINHOLE_EDB : rc;
        }
        free(blob);
    }
    /* the labels first: the config commits to them */
    uint8_t fp[PINHOLE_FINGERPRINT_BYTES];
    if (rc == PINHOLE_OK && (pg_bytea(res, i, 9, fp, sizeof fp) != (long)sizeof fp ||
                             pinhole_server_collection_match_fingerprint(c, fp) != PINHOLE_OK))
        rc = PINHOLE_EDB; /* parameters changed under the stored fingerprint */
    c->window = (pinhole_collection_window){.max_report_age = (uint32_t)pg_int(res, i, 12),
                                            .max_clock_skew = (uint32_t)pg_int(res, i, 13),
                                            .keep_reports = PQgetvalue(res, i, 14)[0] == 't'};
    if (rc != PINHOLE_OK)
        pinhole_server_collection_free(c);
    return rc;
}

int pg_set_window(pinhole_store *base, int64_t id, const pinhole_collection_window *w)
{
    char age[16], skew[16], cid[24];
    snprintf(age, sizeof age, "%" PRIu32, w->max_report_age);
    snprintf(skew, sizeof skew, "%" PRIu32, w->max_clock_skew);
    snprintf(cid, sizeof cid, "%" PRId64, id);
    const char *v[4] = {age, skew, w->keep_reports ? "true" : "false", cid};
    return pg_one_row(pg_of(base),
                      "UPDATE collections SET max_report_age = $1, max_clock_skew = $2,"
                      " keep_reports = $3 WHERE id = $4 RETURNING id",
                      4, v, NULL);
}

int pg_delete_collection(pinhole_store *base, int64_t id)
{
    char cid[24];
    snprintf(cid, sizeof cid, "%" PRId64, id);
    const char *v[1] = {cid};
    return pg_one_row(pg_of(base),
                      "UPDATE collections SET deleting = true WHERE id = $1 AND NOT deleting"
                      " RETURNING id",
                      1, v, NULL);
}

int pg_load_collections(pinhole_store *base, pinhole_server_collection **out, size_t *n)
{
    pg_store *s = pg_of(base);
    *out = NULL;
    *n = 0;
    PGresult *res = pg_run(s,
                           "SELECT id, name, mechanism, epsilon, k, q, t, time_precision,"
                           " min_reports, fingerprint, labels, created, max_report_age,"
                           " max_clock_skew, keep_reports FROM collections"
                           " WHERE NOT deleting ORDER BY id",
                           0, NULL, PGRES_TUPLES_OK);
    if (!res)
        return PINHOLE_EDB;
    const int rows = PQntuples(res);
    pinhole_server_collection *arr = calloc(rows ? (size_t)rows : 1, sizeof *arr);
    int rc = arr ? PINHOLE_OK : PINHOLE_ENOMEM;
    int len = 0;
    for (; len < rows && rc == PINHOLE_OK; len++)
        if ((rc = load_one(res, len, &arr[len])) != PINHOLE_OK)
            break;
    PQclear(res);
    if (rc != PINHOLE_OK) {
        for (int i = 0; i < len; i++)
            pinhole_server_collection_free(&arr[i]);
        free(arr);
        return rc;
    }
    *out = arr;
    *n = (size_t)len;
    return PINHOLE_OK;
}

/* A multi-attribute collection's parent record; its id is drawn from the collections' identity, so
 * no collection ever has it. */
int pg_create_multi(pinhole_store *base, const char *name, const char *spec, int64_t created,
                    int64_t *id)
{
    pg_store *s = pg_of(base);
    char when[24];
    snprintf(when, sizeof when, "%" PRId64, created);
    const char *v[3] = {name, spec, when};
    PGresult *res = pg_run(s,
                           "INSERT INTO multi_collections(id, name, spec, created) VALUES"
                           " (nextval(pg_get_serial_sequence('collections', 'id')), $1, $2, $3)"
                           " RETURNING id",
                           3, v, PGRES_TUPLES_OK);
    if (!res)
        return PINHOLE_EDB;
    *id = pg_int(res, 0, 0);
    PQclear(res);
    return PINHOLE_OK;
}

int pg_load_multis(pinhole_store *base, pinhole_multi_record **out, size_t *n)
{
    pg_store *s = pg_of(base);
    *out = NULL;
    *n = 0;
    PGresult *res = pg_run(s, "SELECT id, name, spec, created FROM multi_collections ORDER BY id",
                           0, NULL, PGRES_TUPLES_OK);
    if (!res)
        return PINHOLE_EDB;
    const int rows = PQntuples(res);
    pinhole_multi_record *arr = calloc(rows ? (size_t)rows : 1, sizeof *arr);
    int rc = arr ? PINHOLE_OK : PINHOLE_ENOMEM;
    for (int i = 0; i < rows && rc == PINHOLE_OK; i++) {
        arr[i].id = pg_int(res, i, 0);
        arr[i].created = pg_int(res, i, 3);
        arr[i].name = strdup(PQgetvalue(res, i, 1));
        arr[i].spec = strdup(PQgetvalue(res, i, 2));
        if (!arr[i].name || !arr[i].spec)
            rc = PINHOLE_ENOMEM;
    }
    PQclear(res);
    if (rc != PINHOLE_OK) {
        for (int i = 0; arr && i < rows; i++)
            pinhole_multi_record_free(&arr[i]);
        free(arr);
        return rc;
    }
    *out = arr;
    *n = (size_t)rows;
    return PINHOLE_OK;
}

/* Load key pair `name` into pk, sk (sk may be NULL): PINHOLE_OK, PINHOLE_ENOTFOUND, PINHOLE_EDB. */
static int key_get(pinhole_store *base, const char *name, uint8_t *pk, size_t pklen, uint8_t *sk,
                   size_t sklen)
{
    pg_store *s = pg_of(base);
    const char *v[1] = {name};
    PGresult *res =
        pg_run(s, "SELECT pk, sk FROM server_keys WHERE name = $1", 1, v, PGRES_TUPLES_OK);
    if (!res)
        return PINHOLE_EDB;
    uint8_t scratch[64];
    int rc = PINHOLE_ENOTFOUND;
    if (PQntuples(res) == 1)
        rc = pg_bytea(res, 0, 0, pk, pklen) == (long)pklen && sklen <= sizeof scratch &&
                     pg_bytea(res, 0, 1, sk ? sk : scratch, sklen) == (long)sklen
                 ? PINHOLE_OK
                 : PINHOLE_EDB;
    sodium_memzero(scratch, sizeof scratch);
    PQclear(res);
    return rc;
}

/* Load key pair `name`, or make one with keypair() and store it; a replica that loses the race
 * to store it first loads the winner's. */
static int key_pair(pinhole_store *base, const char *name, uint8_t *pk, size_t pklen, uint8_t *sk,
                    size_t sklen, void (*keypair)(uint8_t *, uint8_t *))
{
    pg_store *s = pg_of(base);
    const char *v[3] = {name, NULL, NULL};
    for (int attempt = 0; attempt < 2; attempt++) {
        const int got = key_get(base, name, pk, pklen, sk, sklen);
        if (got != PINHOLE_ENOTFOUND)
            return got;
        keypair(pk, sk);
        pg_buf p = {0}, q = {0};
        bytea_param(&p, pk, pklen);
        bytea_param(&q, sk, sklen);
        v[1] = pg_buf_text(&p);
        v[2] = pg_buf_text(&q);
        PGresult *res = pg_run(s,
                               "INSERT INTO server_keys(name, pk, sk) VALUES ($1, $2::bytea, "
                               "$3::bytea) ON CONFLICT (name) DO NOTHING RETURNING name",
                               3, v, PGRES_TUPLES_OK);
        sodium_memzero(q.p, q.len);
        pg_buf_free(&p);
        pg_buf_free(&q);
        const int stored = res && PQntuples(res) == 1;
        PQclear(res);
        if (!res)
            return PINHOLE_EDB;
        if (stored)
            return PINHOLE_OK;
        v[1] = v[2] = NULL; /* another replica stored its pair first: load that one */
    }
    return PINHOLE_EDB;
}

static const pinhole_key_rows rows = {key_get, key_pair};

int pg_server_keys(pinhole_store *base, pinhole_server_keys *k)
{
    return pinhole_key_rows_load(base, &rows, k);
}

int pg_rotate_key(pinhole_store *base, pinhole_key_family family, pinhole_key_op op,
                  uint8_t pk[3][PINHOLE_KEY_PUBLICBYTES], int have[3])
{
    const pinhole_key_names *names = pinhole_key_names_of(family);
    pg_store *s = pg_of(base);
    /* one rotation at a time across replicas; servers starting meanwhile still read the keys */
    if (pg_exec(s, "BEGIN", 0, NULL) != PINHOLE_OK)
        return PINHOLE_EDB;
    int rc = pg_exec(s, "LOCK TABLE server_keys IN EXCLUSIVE MODE", 0, NULL);
    if (rc == PINHOLE_OK)
        rc = pinhole_key_rows_rotate_begin(base, &rows, names, op, pk, have);
    /* ACTIVATE: current -> previous, next -> current. RETIRE: the previous secret key zeroed,
     * then its row deleted (VACUUM reclaims the dead row versions: docs/operations.md). */
    const char *rename[2][2] = {{names->name[2], names->name[0]}, {names->name[0], names->name[1]}};
    const char *retire[1] = {names->name[2]};
    for (int i = 0; i < 2 && rc == PINHOLE_OK && op == PINHOLE_KEY_ACTIVATE; i++)
        rc = pg_exec(s, "UPDATE server_keys SET name = $1 WHERE name = $2", 2, rename[i]);
    if (rc == PINHOLE_OK && op == PINHOLE_KEY_RETIRE)
        rc = pg_exec(s,
                     "UPDATE server_keys SET sk = decode(repeat('00', length(sk)), 'hex')"
                     " WHERE name = $1",
                     1, retire);
    if (rc == PINHOLE_OK && op == PINHOLE_KEY_RETIRE)
        rc = pg_exec(s, "DELETE FROM server_keys WHERE name = $1", 1, retire);
    if (rc == PINHOLE_OK)
        rc = pinhole_key_rows_roles(base, &rows, names, pk, have);
    if (rc == PINHOLE_OK)
        rc = pg_exec(s, "COMMIT", 0, NULL);
    if (rc != PINHOLE_OK)
        PQclear(PQexec(s->conn, "ROLLBACK"));
    return rc;
}

int pg_fence(pg_store *s, const pinhole_ingest_report *r, size_t n, const uint8_t *pending)
{
    s->nfenced = 0;
    pg_buf ids = {0};
    pg_buf_str(&ids, "{");
    for (size_t i = 0; i < n; i++) {
        if (!pending[i])
            continue;
        size_t j = 0; /* a flush holds the reports of a few collections: a linear search */
        while (j < s->nfenced && s->fenced[j].id != r[i].coll->id)
            j++;
        if (j < s->nfenced)
            continue;
        if (s->nfenced == s->capfenced) {
            const size_t cap = s->capfenced ? 2 * s->capfenced : 8;
            struct pg_fenced *f = realloc(s->fenced, cap * sizeof *f);
            if (!f) {
                pg_buf_free(&ids);
                return PINHOLE_ENOMEM;
            }
            s->fenced = f;
            s->capfenced = cap;
        }
        s->fenced[s->nfenced++] = (struct pg_fenced){.id = r[i].coll->id};
        pg_buf_fmt(&ids, s->nfenced > 1 ? ",%" PRId64 : "%" PRId64, r[i].coll->id);
    }
    pg_buf_str(&ids, "}");
    if (ids.failed) {
        pg_buf_free(&ids);
        return PINHOLE_ENOMEM;
    }
    if (s->nfenced == 0) {
        pg_buf_free(&ids);
        return PINHOLE_OK;
    }
    const char *v[1] = {pg_buf_text(&ids)};
    PGresult *res = pg_run(s,
                           "SELECT id, closed_before FROM collections"
                           " WHERE id = ANY($1::bigint[]) AND NOT deleting ORDER BY id FOR SHARE",
                           1, v, PGRES_TUPLES_OK);
    pg_buf_free(&ids);
    if (!res)
        return PINHOLE_EDB;
    for (int i = 0; i < PQntuples(res); i++)
        for (size_t j = 0; j < s->nfenced; j++)
            if (s->fenced[j].id == pg_int(res, i, 0)) {
                s->fenced[j].live = 1;
                s->fenced[j].closed_before = pg_int(res, i, 1);
            }
    PQclear(res);
    return PINHOLE_OK;
}

int pg_live(const pg_store *s, int64_t id)
{
    for (size_t j = 0; j < s->nfenced; j++)
        if (s->fenced[j].id == id)
            return s->fenced[j].live;
    return 0;
}

int pg_closed(const pg_store *s, int64_t id, int64_t bucket)
{
    for (size_t j = 0; j < s->nfenced; j++)
        if (s->fenced[j].id == id)
            return bucket < s->fenced[j].closed_before;
    return 0;
}

int pg_close_buckets(pinhole_store *base, int64_t id, int64_t before, int64_t *closed)
{
    char cid[24], b[24];
    snprintf(cid, sizeof cid, "%" PRId64, id);
    snprintf(b, sizeof b, "%" PRId64, before);
    const char *v[2] = {cid, b};
    /* the row lock waits for the flushes that share-locked the row (pg_fence); the flushes after
     * it read the new value */
    return pg_one_row(pg_of(base),
                      "UPDATE collections SET closed_before = greatest(closed_before, $2)"
                      " WHERE id = $1 AND NOT deleting RETURNING closed_before",
                      2, v, closed);
}

int pg_closed_before(pinhole_store *base, int64_t id, int64_t *closed)
{
    char cid[24];
    snprintf(cid, sizeof cid, "%" PRId64, id);
    const char *v[1] = {cid};
    return pg_one_row(pg_of(base),
                      "SELECT closed_before FROM collections WHERE id = $1 AND NOT deleting", 1, v,
                      closed);
}
