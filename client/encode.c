/* Dispatch of the generic randomizer to each mechanism's own. Each takes two rngs: `perm` for
 * the permanent randomized response and `inst` for an instantaneous step drawn on top of it
 * (SUE/RAPPOR only; the other mechanisms have none and ignore inst). A fresh report passes one
 * rng as both; a memoized one the device's memo stream and a fresh one. */
#include "client/encode.h"
#include "client/grr.h"
#include "client/hpgr.h"
#include "client/hr.h"
#include "client/olh.h"
#include "client/pgr.h"
#include "client/ss.h"
#include "client/unary.h"
#include "common/ct.h"
#include "common/error.h"

static int pgr_encode(const pinhole_config *c, uint64_t value, pinhole_rng *rng, pinhole_rng *inst,
                      uint8_t *payload)
{
    (void)inst;
    uint64_t h;
    int rc = pinhole_pgr_encode(&c->u.pgr, value, rng, &h);
    if (rc == PINHOLE_OK)
        pinhole_store_le(payload, h, c->payload_bytes);
    return rc;
}

/* the mechanisms whose report is one integer: write it little-endian */
#define INTEGER_ENCODE(name, field)                                                                \
    static int name##_encode(const pinhole_config *c, uint64_t value, pinhole_rng *rng,            \
                             pinhole_rng *inst, uint8_t *payload)                                  \
    {                                                                                              \
        (void)inst;                                                                                \
        uint64_t y;                                                                                \
        int rc = pinhole_##name##_encode(&c->u.field, value, rng, &y);                             \
        if (rc == PINHOLE_OK)                                                                      \
            pinhole_store_le(payload, y, c->payload_bytes);                                        \
        return rc;                                                                                 \
    }
INTEGER_ENCODE(grr, grr)
INTEGER_ENCODE(olh, olh)
INTEGER_ENCODE(hr, hr)
INTEGER_ENCODE(hpgr, hpgr)

static int unary_encode(const pinhole_config *c, uint64_t value, pinhole_rng *perm,
                        pinhole_rng *inst, uint8_t *payload)
{
    return pinhole_unary_encode_split(&c->u.unary, value, perm, inst, payload);
}

static int ss_encode(const pinhole_config *c, uint64_t value, pinhole_rng *rng, pinhole_rng *inst,
                     uint8_t *payload)
{
    (void)inst;
    return pinhole_ss_encode(&c->u.ss, value, rng, payload);
}

typedef int (*encode_fn)(const pinhole_config *, uint64_t, pinhole_rng *, pinhole_rng *, uint8_t *);

static const struct {
    pinhole_mechanism_id id;
    encode_fn encode;
} table[] = {
    {PINHOLE_MECH_PGR, pgr_encode},   {PINHOLE_MECH_GRR, grr_encode},
    {PINHOLE_MECH_OUE, unary_encode}, {PINHOLE_MECH_SUE, unary_encode},
    {PINHOLE_MECH_OLH, olh_encode},   {PINHOLE_MECH_HR, hr_encode},
    {PINHOLE_MECH_SS, ss_encode},     {PINHOLE_MECH_HPGR, hpgr_encode},
};

int pinhole_encode_memoized(const pinhole_config *c, uint64_t value, pinhole_rng *perm,
                            pinhole_rng *inst, uint8_t *payload, size_t len)
{
    uint64_t in_range = pinhole_ct_lt64(value, c->k) & 1; /* no branch on the value itself */
    pinhole_ct_declassify(&in_range, sizeof in_range);
    if (!in_range)
        return PINHOLE_ERANGE;
    if (len < c->payload_bytes)
        return PINHOLE_EBUFSIZE;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].id == c->mechanism)
            return table[i].encode(c, value, perm, inst, payload);
    return PINHOLE_EUNSUPPORTED;
}

int pinhole_encode(const pinhole_config *c, uint64_t value, pinhole_rng *rng, uint8_t *payload,
                   size_t len)
{
    return pinhole_encode_memoized(c, value, rng, rng, payload, len);
}

int pinhole_encode_batch(const pinhole_config *c, const uint64_t *values, size_t n,
                         pinhole_rng *rng, uint8_t *payloads, size_t stride)
{
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= pinhole_ct_lt64(values[i], c->k) ^ ~(uint64_t)0;
    pinhole_ct_declassify(&bad, sizeof bad); /* whether all values are valid is public */
    if (bad)
        return PINHOLE_ERANGE;
    if (stride < c->payload_bytes)
        return PINHOLE_EBUFSIZE;
    if (c->mechanism != PINHOLE_MECH_PGR) {
        for (size_t i = 0; i < n; i++) {
            const int rc = pinhole_encode(c, values[i], rng, payloads + i * stride, stride);
            if (rc != PINHOLE_OK)
                return rc;
        }
        return PINHOLE_OK;
    }
    uint64_t h[PINHOLE_ENCODE_BATCH];
    for (size_t i0 = 0; i0 < n; i0 += PINHOLE_ENCODE_BATCH) {
        const size_t m = n - i0 < PINHOLE_ENCODE_BATCH ? n - i0 : PINHOLE_ENCODE_BATCH;
        const int rc = pinhole_pgr_encode_batch(&c->u.pgr, values + i0, m, rng, h);
        if (rc != PINHOLE_OK)
            return rc;
        for (size_t i = 0; i < m; i++)
            pinhole_store_le(payloads + (i0 + i) * stride, h[i], c->payload_bytes);
    }
    return PINHOLE_OK;
}
