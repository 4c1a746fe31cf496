/* The SQLite backend: the server's key pairs (table server_keys) and signing-key rotation. */
#include "common/error.h"
#include "proto/seal.h"
#include "server/store/sqlite/sqlite.h"

#include <sodium.h>
#include <string.h>

/* Load key pair `name`, or make one with keypair() and store it. */
static int key_pair(sqlite_store *s, const char *name, uint8_t *pk, size_t pklen, uint8_t *sk,
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

int pinhole_sqlite_server_keys(pinhole_store *base, pinhole_server_keys *k)
{
    sqlite_store *s = sqlite_of(base);
    int rc = key_pair(s, "config-ed25519", k->sign_pk, sizeof k->sign_pk, k->sign_sk,
                      sizeof k->sign_sk, pinhole_collection_config_keypair);
    if (rc == PINHOLE_OK)
        rc = key_pair(s, "seal-x25519", k->seal_pk, sizeof k->seal_pk, k->seal_sk,
                      sizeof k->seal_sk, pinhole_seal_keypair);
    return rc;
}

int pinhole_sqlite_signing_key(pinhole_store *base, pinhole_signing_key_op op,
                               uint8_t pk[3][PINHOLE_CONFIG_PUBLICKEYBYTES], int have[3])
{
    static const char *const name[3] = {"config-ed25519", "config-ed25519-next",
                                        "config-ed25519-previous"};
    sqlite_store *s = sqlite_of(base);
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return PINHOLE_EDB;
    pinhole_server_keys k;
    int rc = PINHOLE_OK;
    for (int i = 0; i < 2 && rc == PINHOLE_OK && op == PINHOLE_SIGNING_KEY_PREPARE; i++)
        rc = key_pair(s, name[i], k.sign_pk, sizeof k.sign_pk, k.sign_sk, sizeof k.sign_sk,
                      pinhole_collection_config_keypair); /* the current key first */
    sodium_memzero(&k, sizeof k);
    sqlite3_stmt *q = NULL;
    if (rc == PINHOLE_OK && op == PINHOLE_SIGNING_KEY_ACTIVATE) {
        if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM server_keys WHERE name = ?", -1, &q, NULL) !=
            SQLITE_OK) {
            rc = PINHOLE_EDB;
        } else {
            sqlite3_bind_text(q, 1, name[1], -1, SQLITE_STATIC);
            rc = sqlite3_step(q) == SQLITE_ROW ? PINHOLE_OK : PINHOLE_ENOTFOUND;
            sqlite3_finalize(q);
        }
    }
    const char *sql = op == PINHOLE_SIGNING_KEY_ACTIVATE
                          ? "DELETE FROM server_keys WHERE name = 'config-ed25519-previous';"
                            "UPDATE server_keys SET name = 'config-ed25519-previous'"
                            " WHERE name = 'config-ed25519';"
                            "UPDATE server_keys SET name = 'config-ed25519'"
                            " WHERE name = 'config-ed25519-next';"
                      : op == PINHOLE_SIGNING_KEY_RETIRE
                          ? "DELETE FROM server_keys WHERE name = 'config-ed25519-previous';"
                          : NULL;
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
