/* The SQLite backend: the server's key pairs (table server_keys) and their rotation. */
#include "common/error.h"
#include "proto/seal.h"
#include "server/store/sqlite/sqlite.h"

#include <string.h>

/* Load key pair `name` into pk, sk (sk may be NULL): PINHOLE_OK, PINHOLE_ENOTFOUND, PINHOLE_EDB. */
static int key_get(pinhole_store *base, const char *name, uint8_t *pk, size_t pklen, uint8_t *sk,
                   size_t sklen)
{
    sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT pk, sk FROM server_keys WHERE name = ?", -1, &q, NULL) !=
        SQLITE_OK)
        return PINHOLE_EDB;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int rc = PINHOLE_EDB;
    const int step = sqlite3_step(q);
    if (step == SQLITE_DONE)
        rc = PINHOLE_ENOTFOUND;
    else if (step == SQLITE_ROW && sqlite3_column_bytes(q, 0) == (int)pklen &&
             sqlite3_column_bytes(q, 1) == (int)sklen) {
        memcpy(pk, sqlite3_column_blob(q, 0), pklen);
        if (sk)
            memcpy(sk, sqlite3_column_blob(q, 1), sklen);
        rc = PINHOLE_OK;
    }
    sqlite3_finalize(q);
    return rc;
}

/* Load key pair `name`, or make one with keypair() and store it. */
static int key_pair(pinhole_store *base, const char *name, uint8_t *pk, size_t pklen, uint8_t *sk,
                    size_t sklen, void (*keypair)(uint8_t *, uint8_t *))
{
    sqlite_store *s = sqlite_of(base);
    int rc = key_get(base, name, pk, pklen, sk, sklen);
    if (rc != PINHOLE_ENOTFOUND)
        return rc;
    keypair(pk, sk);
    sqlite3_stmt *q;
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

static const pinhole_key_rows rows = {key_get, key_pair};

int pinhole_sqlite_server_keys(pinhole_store *base, pinhole_server_keys *k)
{
    return pinhole_key_rows_load(base, &rows, k);
}

int pinhole_sqlite_rotate_key(pinhole_store *base, pinhole_key_family family, pinhole_key_op op,
                              uint8_t pk[3][PINHOLE_KEY_PUBLICBYTES], int have[3])
{
    const pinhole_key_names *names = pinhole_key_names_of(family);
    sqlite_store *s = sqlite_of(base);
    /* a retired secret key is overwritten with zeros in the file, not only unlinked */
    if (sqlite3_exec(s->db, "PRAGMA secure_delete = ON", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    int rc = pinhole_key_rows_rotate_begin(base, &rows, names, op, pk, have);
    /* ACTIVATE: current -> previous, next -> current. RETIRE: the previous secret key zeroed,
     * then its row deleted. */
    struct {
        const char *sql, *a, *b;
    } step[2] = {{NULL, NULL, NULL}, {NULL, NULL, NULL}};
    if (op == PINHOLE_KEY_ACTIVATE) {
        step[0].sql = step[1].sql = "UPDATE server_keys SET name = ?1 WHERE name = ?2";
        step[0].a = names->name[2];
        step[0].b = step[1].a = names->name[0];
        step[1].b = names->name[1];
    } else if (op == PINHOLE_KEY_RETIRE) {
        step[0].sql = "UPDATE server_keys SET sk = zeroblob(length(sk)) WHERE name = ?1";
        step[1].sql = "DELETE FROM server_keys WHERE name = ?1";
        step[0].a = step[1].a = names->name[2];
    }
    for (int i = 0; i < 2 && rc == PINHOLE_OK && step[i].sql; i++) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(s->db, step[i].sql, -1, &q, NULL) != SQLITE_OK) {
            rc = PINHOLE_EDB;
            break;
        }
        sqlite3_bind_text(q, 1, step[i].a, -1, SQLITE_STATIC);
        if (step[i].b)
            sqlite3_bind_text(q, 2, step[i].b, -1, SQLITE_STATIC);
        rc = sqlite3_step(q) == SQLITE_DONE ? PINHOLE_OK : PINHOLE_EDB;
        sqlite3_finalize(q);
    }
    if (rc == PINHOLE_OK)
        rc = pinhole_key_rows_roles(base, &rows, names, pk, have);
    if (rc == PINHOLE_OK && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = PINHOLE_EDB;
    if (rc != PINHOLE_OK)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    /* the WAL still holds the pages with the retired key: fold it in and truncate it (best
     * effort; a reader of the running server may hold it back until the server's checkpoint) */
    if (rc == PINHOLE_OK && op == PINHOLE_KEY_RETIRE)
        sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    return rc;
}
