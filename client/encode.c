/* Dispatch of the generic randomizer to each mechanism's own. */
#include "client/encode.h"
#include "client/pgr.h"
#include "common/ct.h"
#include "common/error.h"

static int pgr_encode(const pinhole_config *c, uint64_t value, pinhole_rng *rng, uint8_t *payload)
{
    uint64_t h;
    int rc = pinhole_pgr_encode(&c->u.pgr, value, rng, &h);
    if (rc == PINHOLE_OK)
        pinhole_store_le(payload, h, c->payload_bytes);
    return rc;
}

typedef int (*encode_fn)(const pinhole_config *, uint64_t, pinhole_rng *, uint8_t *);

static const struct {
    pinhole_mechanism_id id;
    encode_fn encode;
} table[] = {
    {PINHOLE_MECH_PGR, pgr_encode},
};

int pinhole_encode(const pinhole_config *c, uint64_t value, pinhole_rng *rng, uint8_t *payload,
                   size_t len)
{
    uint64_t in_range = pinhole_ct_lt64(value, c->k) & 1; /* no branch on the value itself */
    pinhole_ct_declassify(&in_range, sizeof in_range);
    if (!in_range)
        return PINHOLE_ERANGE;
    if (len < c->payload_bytes)
        return PINHOLE_EBUFSIZE;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].id == c->mechanism)
            return table[i].encode(c, value, rng, payload);
    return PINHOLE_EUNSUPPORTED;
}
