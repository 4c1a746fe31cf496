/* Discovery rounds on the device: verify, map the string, report through the round's oracle. */
#include "client/discovery.h"
#include "client/encode.h"
#include "common/error.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int pinhole_discovery_round_init(pinhole_discovery_round *r, const pinhole_round_config *rc)
{
    memset(r, 0, sizeof *r);
    int err = pinhole_round_config_check(rc);
    if (err != PINHOLE_OK)
        return err;
    const size_t tb = pinhole_round_config_bytes(rc) - PINHOLE_ROUND_HEADERBYTES;
    r->table = malloc(tb ? tb : 1);
    if (!r->table)
        return PINHOLE_ENOMEM;
    if (tb)
        memcpy(r->table, rc->domain.table, tb);
    err = pinhole_collection_init_config(&r->col, &rc->oracle);
    if (err != PINHOLE_OK) {
        free(r->table);
        memset(r, 0, sizeof *r);
        return err;
    }
    r->config = *rc;
    r->config.domain.table = r->table;
    return PINHOLE_OK;
}

int pinhole_discovery_round_init_signed(pinhole_discovery_round *r, const uint8_t *in, size_t len,
                                        const uint8_t server_pk[PINHOLE_CONFIG_PUBLICKEYBYTES])
{
    memset(r, 0, sizeof *r);
    pinhole_round_config rc;
    int err = pinhole_round_config_verify(in, len, server_pk, &rc);
    if (err != PINHOLE_OK)
        return err;
    err = pinhole_discovery_round_init(r, &rc);
    if (err == PINHOLE_OK)
        r->col.verified = 1;
    return err;
}

void pinhole_discovery_round_clear(pinhole_discovery_round *r)
{
    pinhole_collection_clear(&r->col);
    free(r->table);
    memset(r, 0, sizeof *r);
}

int pinhole_discovery_round_new_signed(pinhole_discovery_round **out, const uint8_t *in, size_t len,
                                       const uint8_t *server_pk)
{
    *out = NULL;
    pinhole_discovery_round *r = malloc(sizeof *r);
    if (!r)
        return PINHOLE_ENOMEM;
    const int err = pinhole_discovery_round_init_signed(r, in, len, server_pk);
    if (err != PINHOLE_OK) {
        free(r);
        return err;
    }
    *out = r;
    return PINHOLE_OK;
}

void pinhole_discovery_round_free(pinhole_discovery_round *r)
{
    if (!r)
        return;
    pinhole_discovery_round_clear(r);
    free(r);
}

uint32_t pinhole_discovery_round_index(const pinhole_discovery_round *r)
{
    return r->config.round;
}

const pinhole_collection *pinhole_discovery_round_collection(const pinhole_discovery_round *r)
{
    return &r->col;
}

int pinhole_discovery_value(const pinhole_discovery_round *r, const uint8_t *s, size_t len,
                            uint64_t *value)
{
    int err = pinhole_discovery_check(s, len);
    if (err != PINHOLE_OK)
        return err;
    pinhole_round_map(&r->config.domain, s, len, value);
    return PINHOLE_OK;
}

int pinhole_discovery_encode(const pinhole_discovery_round *r, const uint8_t *s, size_t len,
                             pinhole_rng *rng, uint8_t *payload, size_t cap)
{
    uint64_t v;
    int err = pinhole_discovery_value(r, s, len, &v);
    if (err != PINHOLE_OK)
        return err;
    return pinhole_encode(&r->col.mech, v, rng, payload, cap);
}

int pinhole_discovery_report(pinhole_client *cl, const pinhole_discovery_round *r, const uint8_t *s,
                             size_t len, uint64_t unix_seconds, unsigned flags, uint8_t *out,
                             size_t cap, size_t *written)
{
    uint64_t v;
    int err = pinhole_discovery_value(r, s, len, &v);
    if (err != PINHOLE_OK)
        return err;
    err = pinhole_client_report(cl, &r->col, v, unix_seconds, flags, out, cap, written);
    sodium_memzero(&v, sizeof v);
    return err;
}

int pinhole_discovery_report_sealed(pinhole_client *cl, const pinhole_discovery_round *r,
                                    const uint8_t *s, size_t len, uint64_t unix_seconds,
                                    unsigned flags, const uint8_t *server_pk, uint8_t *out,
                                    size_t cap, size_t *written)
{
    uint64_t v;
    int err = pinhole_discovery_value(r, s, len, &v);
    if (err != PINHOLE_OK)
        return err;
    err = pinhole_client_report_sealed(cl, &r->col, v, unix_seconds, flags, server_pk, out, cap,
                                       written);
    sodium_memzero(&v, sizeof v);
    return err;
}
