/* The PostgreSQL backend's reads: count vectors and bucket totals over a time range (summing the
 * folded chunks and the deltas not folded yet), and the consistency check (unique ids, counts
 * against a recount of the stored reports). */
#include "common/error.h"
#include "server/estimate/estimate.h"
#include "server/store/pg/pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pg_parse_array(const char *text, uint64_t *out, size_t max, size_t *n)
{
    *n = 0;
    if (text[0] != '{')
        return PINHOLE_EFORMAT;
    const char *p = text + 1;
    if (*p == '}')
        return p[1] == '\0' ? PINHOLE_OK : PINHOLE_EFORMAT;
    for (;;) {
        char *end;
        if (*n == max || *p < '0' || *p > '9')
            return PINHOLE_EFORMAT;
        out[(*n)++] = strtoull(p, &end, 10);
        if (*end == '}')
            return end[1] == '\0' ? PINHOLE_OK : PINHOLE_EFORMAT;
        if (*end != ',')
            return PINHOLE_EFORMAT;
        p = end + 1;
    }
}

int pg_chunk_add(const pinhole_server_collection *c, int64_t chunk, const char *text,
                 uint64_t *counts)
{
    const uint64_t len = c->cfg.counts_len;
    uint64_t v[PINHOLE_PG_CHUNK];
    size_t m = 0;
    if (chunk < 0 || (uint64_t)chunk * PINHOLE_PG_CHUNK >= len ||
        pg_parse_array(text, v, PINHOLE_PG_CHUNK, &m) != PINHOLE_OK || m != PINHOLE_PG_CHUNK)
        return PINHOLE_EFORMAT;
    const uint64_t base = (uint64_t)chunk * PINHOLE_PG_CHUNK;
    for (uint64_t i = 0; i < m; i++) { /* the last chunk is padded with zeros */
        if (base + i < len)
            counts[base + i] += v[i];
        else if (v[i])
            return PINHOLE_EFORMAT;
    }
    return PINHOLE_OK;
}

/* Add a row of count_deltas (its idx and n arrays, as text) into counts. PINHOLE_EFORMAT when it
 * does not fit c. */
static int delta_add(const pinhole_server_collection *c, const char *idx, const char *n,
                     uint64_t *counts)
{
    /* each index costs at least 2 characters of text: that bounds the arrays */
    const size_t max = strlen(idx) / 2 + 1;
    uint64_t *i = malloc(2 * max * sizeof *i);
    if (!i)
        return PINHOLE_ENOMEM;
    size_t ni = 0, nn = 0;
    int rc = pg_parse_array(idx, i, max, &ni);
    if (rc == PINHOLE_OK)
        rc = pg_parse_array(n, i + max, max, &nn);
    if (rc == PINHOLE_OK && ni != nn)
        rc = PINHOLE_EFORMAT;
    for (size_t k = 0; k < ni && rc == PINHOLE_OK; k++) {
        if (i[k] >= c->cfg.counts_len)
            rc = PINHOLE_EFORMAT;
        else
            counts[i[k]] += i[max + k];
    }
    free(i);
    return rc;
}

/* Run sql (3 parameters: v) and add every row it returns into counts: rows of count_deltas (idx,
 * n) when deltas, else of counts (chunk, data). PINHOLE_EDB when the query fails, else the first
 * row's error (PINHOLE_EFORMAT, PINHOLE_ENOMEM). */
static int add_rows(pg_store *s, const char *sql, const char *const *v,
                    const pinhole_server_collection *c, int deltas, uint64_t *counts)
{
    PGresult *res = pg_run(s, sql, 3, v, PGRES_TUPLES_OK);
    if (!res)
        return PINHOLE_EDB;
    int rc = PINHOLE_OK;
    for (int i = 0; i < PQntuples(res) && rc == PINHOLE_OK; i++)
        rc = deltas ? delta_add(c, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), counts)
                    : pg_chunk_add(c, pg_int(res, i, 0), PQgetvalue(res, i, 1), counts);
    PQclear(res);
    return rc;
}

/* counts and n of c over [from, to], inside the caller's transaction. */
static int counts_in(pg_store *s, const pinhole_server_collection *c, int64_t from, int64_t to,
                     uint64_t *counts, uint64_t *n)
{
    char cs[24], f[24], t[24];
    snprintf(cs, sizeof cs, "%" PRId64, c->id);
    snprintf(f, sizeof f, "%" PRId64, from);
    snprintf(t, sizeof t, "%" PRId64, to);
    const char *v[3] = {cs, f, t};
    int rc = add_rows(s,
                      "SELECT chunk, data FROM counts WHERE collection = $1"
                      " AND bucket BETWEEN $2 AND $3",
                      v, c, 0, counts);
    if (rc == PINHOLE_OK) /* the deltas not folded into the chunks yet */
        rc = add_rows(s,
                      "SELECT idx, n FROM count_deltas WHERE collection = $1"
                      " AND bucket BETWEEN $2 AND $3",
                      v, c, 1, counts);
    if (rc != PINHOLE_OK)
        return rc;
    PGresult *res = pg_run(s,
                           "SELECT coalesce(sum(n), 0) FROM buckets WHERE collection = $1"
                           " AND bucket BETWEEN $2 AND $3",
                           3, v, PGRES_TUPLES_OK);
    if (!res)
        return PINHOLE_EDB;
    *n = (uint64_t)pg_int(res, 0, 0);
    PQclear(res);
    return PINHOLE_OK;
}

int pg_counts(pinhole_store *base, const pinhole_server_collection *c, int64_t from_bucket,
              int64_t to_bucket, uint64_t *counts, uint64_t *n)
{
    pg_store *s = pg_of(base);
    memset(counts, 0, c->cfg.counts_len * sizeof *counts);
    *n = 0;
    /* one snapshot for the vector and the total, unless the caller holds a transaction open */
    const int own = PQtransactionStatus(s->conn) == PQTRANS_IDLE;
    if (own && pg_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL) != PINHOLE_OK)
        return PINHOLE_EDB;
    const int rc = counts_in(s, c, from_bucket, to_bucket, counts, n);
    if (own)
        PQclear(PQexec(s->conn, "COMMIT"));
    return rc;
}

int pg_buckets(pinhole_store *base, int64_t collection, int64_t from_bucket, int64_t to_bucket,
               int64_t **bucket, uint64_t **n, size_t *count)
{
    pg_store *s = pg_of(base);
    *bucket = NULL;
    *n = NULL;
    *count = 0;
    char cs[24], f[24], t[24];
    snprintf(cs, sizeof cs, "%" PRId64, collection);
    snprintf(f, sizeof f, "%" PRId64, from_bucket);
    snprintf(t, sizeof t, "%" PRId64, to_bucket);
    const char *v[3] = {cs, f, t};
    PGresult *res = pg_run(s,
                           "SELECT bucket, sum(n) FROM buckets WHERE collection = $1"
                           " AND bucket BETWEEN $2 AND $3 GROUP BY bucket HAVING sum(n) > 0"
                           " ORDER BY bucket",
                           3, v, PGRES_TUPLES_OK);
    if (!res)
        return PINHOLE_EDB;
    const size_t rows = (size_t)PQntuples(res);
    if (rows) {
        *bucket = malloc(rows * sizeof **bucket);
        *n = malloc(rows * sizeof **n);
        if (!*bucket || !*n) {
            free(*bucket);
            free(*n);
            *bucket = NULL;
            *n = NULL;
            PQclear(res);
            return PINHOLE_ENOMEM;
        }
    }
    for (size_t i = 0; i < rows; i++) {
        (*bucket)[i] = pg_int(res, (int)i, 0);
        (*n)[i] = (uint64_t)pg_int(res, (int)i, 1);
    }
    *count = rows;
    PQclear(res);
    return PINHOLE_OK;
}

int pg_report_total(pinhole_store *base, int64_t collection, uint64_t *n)
{
    char cs[24];
    snprintf(cs, sizeof cs, "%" PRId64, collection);
    const char *v[1] = {cs};
    PGresult *res =
        pg_run(pg_of(base), "SELECT coalesce(sum(n), 0) FROM buckets WHERE collection = $1", 1, v,
               PGRES_TUPLES_OK);
    if (!res)
        return PINHOLE_EDB;
    *n = (uint64_t)pg_int(res, 0, 0);
    PQclear(res);
    return PINHOLE_OK;
}

/* ---- the consistency check ---- */

typedef struct check_state {
    pg_store *s;
    const pinhole_server_collection *c;
    uint64_t *recount, *stored, nre;
    uint64_t *problems;
    char *msg;
    size_t msglen;
} check_state;

static void problem(check_state *k, const char *what, int64_t bucket, uint64_t bad)
{
    if (*k->problems == 0)
        snprintf(k->msg, k->msglen, "collection %" PRId64 " bucket %" PRId64 ": %s", k->c->id,
                 bucket, what);
    *k->problems += bad;
}

/* Compare the recount of one bucket with its stored counts (chunks plus deltas). */
static int check_bucket(check_state *k, int64_t bucket)
{
    uint64_t n = 0, bad = 0;
    memset(k->stored, 0, k->c->cfg.counts_len * sizeof *k->stored);
    const int rc = counts_in(k->s, k->c, bucket, bucket, k->stored, &n);
    if (rc != PINHOLE_OK)
        return rc;
    bad += n != k->nre;
    for (uint64_t i = 0; i < k->c->cfg.counts_len; i++)
        bad += k->stored[i] != k->recount[i];
    if (bad) {
        char what[160];
        snprintf(what, sizeof what,
                 "%" PRIu64 " stored reports, total %" PRIu64 " in buckets, %" PRIu64
                 " mismatching values",
                 k->nre, n, bad);
        problem(k, what, bucket, bad);
    }
    memset(k->recount, 0, k->c->cfg.counts_len * sizeof *k->recount);
    k->nre = 0;
    return PINHOLE_OK;
}

/* Recount collection c (its reports still held: live days, and reports_kept) bucket by bucket
 * through a cursor; buckets with counts but no reports left must lie in retired days. */
static int check_collection(check_state *k, int64_t retired, int keep)
{
    pg_store *s = k->s;
    char cs[24];
    snprintf(cs, sizeof cs, "%" PRId64, k->c->id);
    const char *v[1] = {cs};
    if (pg_exec(s,
                "DECLARE recount NO SCROLL CURSOR FOR SELECT bucket, payload FROM"
                " (SELECT bucket, payload FROM reports WHERE collection = $1 UNION ALL"
                " SELECT bucket, payload FROM reports_kept WHERE collection = $1) AS r"
                " ORDER BY bucket",
                1, v) != PINHOLE_OK)
        return PINHOLE_EDB;
    int64_t *sb = NULL;
    uint64_t *sn = NULL;
    size_t ns = 0, si = 0; /* the buckets with counts, walked alongside */
    int rc = pg_buckets(&s->base, k->c->id, INT64_MIN, INT64_MAX, &sb, &sn, &ns);
    int64_t bucket = 0;
    int have = 0;
    uint8_t *payload = NULL;
    size_t pcap = 0;
    for (;;) {
        if (rc != PINHOLE_OK)
            break;
        PGresult *res = pg_run(s, "FETCH 10000 FROM recount", 0, NULL, PGRES_TUPLES_OK);
        if (!res) {
            rc = PINHOLE_EDB;
            break;
        }
        const int rows = PQntuples(res);
        for (int i = 0; i < rows && rc == PINHOLE_OK; i++) {
            const int64_t b = pg_int(res, i, 0);
            if (have && b != bucket)
                rc = check_bucket(k, bucket);
            for (; si < ns && sb[si] < b; si++) /* counted buckets whose reports are gone */
                if (!(sb[si] == bucket && have) && (keep || pg_day_of(k->c, sb[si]) > retired))
                    problem(k, "counts without stored reports", sb[si], 1);
            bucket = b;
            have = 1;
            const size_t plen = (size_t)PQgetlength(res, i, 1) / 2;
            if (plen > pcap) {
                uint8_t *p = realloc(payload, plen);
                if (!p) {
                    rc = PINHOLE_ENOMEM;
                    break;
                }
                payload = p;
                pcap = plen;
            }
            const long len = pg_bytea(res, i, 1, payload, pcap);
            if (len < 0 ||
                pinhole_accumulate(&k->c->cfg, payload, (size_t)len, k->recount) != PINHOLE_OK)
                problem(k, "a stored payload is invalid", b, 1);
            else
                k->nre++;
        }
        PQclear(res);
        if (rows == 0)
            break;
    }
    if (rc == PINHOLE_OK && have)
        rc = check_bucket(k, bucket);
    for (; rc == PINHOLE_OK && si < ns; si++)
        if (!(have && sb[si] == bucket) && (keep || pg_day_of(k->c, sb[si]) > retired))
            problem(k, "counts without stored reports", sb[si], 1);
    free(payload);
    free(sb);
    free(sn);
    if (pg_exec(s, "CLOSE recount", 0, NULL) != PINHOLE_OK && rc == PINHOLE_OK)
        rc = PINHOLE_EDB;
    return rc;
}

int pg_check(pinhole_store *base, uint64_t *problems, char *msg, size_t msglen)
{
    pg_store *s = pg_of(base);
    *problems = 0;
    if (msglen)
        msg[0] = '\0';
    pinhole_server_collection *cs = NULL;
    size_t nc = 0;
    if (pg_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL) != PINHOLE_OK)
        return PINHOLE_EDB;
    int rc = pg_load_collections(base, &cs, &nc);
    /* no (collection, report id) stored twice: across day partitions and reports_kept */
    PGresult *res = rc != PINHOLE_OK
                        ? NULL
                        : pg_run(s,
                                 "SELECT collection, replace(report_id::text, '-', ''),"
                                 " count(*) FROM (SELECT collection, report_id FROM"
                                 " reports UNION ALL SELECT collection, report_id"
                                 " FROM reports_kept) AS r GROUP BY 1, 2"
                                 " HAVING count(*) > 1",
                                 0, NULL, PGRES_TUPLES_OK);
    if (rc == PINHOLE_OK && !res)
        rc = PINHOLE_EDB;
    for (int i = 0; res && i < PQntuples(res); i++) {
        if (*problems == 0)
            snprintf(msg, msglen, "collection %s: report id %s stored %s times",
                     PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
        ++*problems;
    }
    PQclear(res);
    int64_t retired = INT64_MIN;
    res = rc != PINHOLE_OK ? NULL
                           : pg_run(s, "SELECT coalesce(max(day), -2147483648) FROM retired_days",
                                    0, NULL, PGRES_TUPLES_OK);
    if (rc == PINHOLE_OK && !res)
        rc = PINHOLE_EDB;
    if (res)
        retired = pg_int(res, 0, 0);
    PQclear(res);
    for (size_t i = 0; i < nc && rc == PINHOLE_OK; i++) {
        check_state k = {.s = s, .c = &cs[i], .problems = problems, .msg = msg, .msglen = msglen};
        const uint64_t len = cs[i].cfg.counts_len;
        k.recount = calloc(len, sizeof *k.recount);
        k.stored = malloc(len * sizeof *k.stored);
        char id[24];
        snprintf(id, sizeof id, "%" PRId64, cs[i].id);
        const char *v[1] = {id};
        res =
            pg_run(s, "SELECT keep_reports FROM collections WHERE id = $1", 1, v, PGRES_TUPLES_OK);
        if (!k.recount || !k.stored)
            rc = PINHOLE_ENOMEM;
        else if (!res || PQntuples(res) != 1)
            rc = PINHOLE_EDB;
        else
            rc = check_collection(&k, retired, PQgetvalue(res, 0, 0)[0] == 't');
        PQclear(res);
        free(k.recount);
        free(k.stored);
    }
    PQclear(PQexec(s->conn, rc == PINHOLE_OK ? "COMMIT" : "ROLLBACK"));
    for (size_t i = 0; i < nc; i++)
        pinhole_server_collection_free(&cs[i]);
    free(cs);
    return rc;
}
