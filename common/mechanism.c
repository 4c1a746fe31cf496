/* The mechanism table and the generic configuration calls that dispatch through it. */
#include "common/mechanism.h"
#include "common/error.h"

#include <string.h>

static int pgr_init(pinhole_config *c, const pinhole_config_params *p)
{
    int rc = pinhole_pgr_init(&c->u.pgr, p->k, p->epsilon, p->q, p->t);
    if (rc != PINHOLE_OK)
        return rc;
    c->epsilon_realized = c->u.pgr.epsilon_realized;
    c->payload_bits = c->u.pgr.bits;
    c->counts_len = c->u.pgr.K;
    return PINHOLE_OK;
}

static void pgr_free(pinhole_config *c)
{
    pinhole_pgr_free(&c->u.pgr);
}

static double pgr_variance(const pinhole_config *c, double n, double f)
{
    return pinhole_pgr_variance(&c->u.pgr, n, f);
}

static const pinhole_mechanism_ops table[] = {
    {PINHOLE_MECH_PGR, "pgr", pgr_init, pgr_free, pgr_variance},
};

const pinhole_mechanism_ops *pinhole_mechanism_all(size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}

const pinhole_mechanism_ops *pinhole_mechanism_find(pinhole_mechanism_id id)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].id == id)
            return &table[i];
    return NULL;
}

const pinhole_mechanism_ops *pinhole_mechanism_by_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

int pinhole_config_init(pinhole_config *c, const pinhole_config_params *p)
{
    memset(c, 0, sizeof *c);
    const pinhole_mechanism_ops *ops = pinhole_mechanism_find(p->mechanism);
    if (!ops)
        return PINHOLE_EUNSUPPORTED;
    if (pinhole_epsilon_check(p->epsilon) != PINHOLE_OK || p->k < 2)
        return PINHOLE_EINVAL;
    c->mechanism = p->mechanism;
    c->k = p->k;
    c->epsilon = p->epsilon;
    int rc = ops->init(c, p);
    if (rc != PINHOLE_OK) {
        ops->free(c);
        memset(c, 0, sizeof *c);
        return rc;
    }
    c->payload_bytes = (c->payload_bits + 7) / 8;
    return PINHOLE_OK;
}

void pinhole_config_free(pinhole_config *c)
{
    const pinhole_mechanism_ops *ops = pinhole_mechanism_find(c->mechanism);
    if (ops)
        ops->free(c);
    memset(c, 0, sizeof *c);
}

double pinhole_config_variance(const pinhole_config *c, double n, double f)
{
    const pinhole_mechanism_ops *ops = pinhole_mechanism_find(c->mechanism);
    return ops ? ops->variance(c, n, f) : 0;
}
