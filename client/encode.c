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
