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

static void no_free(pinhole_config *c)
{
    (void)c;
}

static int grr_init(pinhole_config *c, const pinhole_config_params *p)
{
    int rc = pinhole_grr_init(&c->u.grr, p->k, p->epsilon);
    c->epsilon_realized = c->u.grr.epsilon_realized;
    c->payload_bits = c->u.grr.bits;
    c->counts_len = p->k;
    return rc;
}

static double grr_variance(const pinhole_config *c, double n, double f)
{
    return pinhole_grr_variance(&c->u.grr, n, f);
}

static int unary_fill(pinhole_config *c, int rc)
{
    c->epsilon_realized = c->u.unary.epsilon_realized;
    c->payload_bits = (uint32_t)c->k;
    c->counts_len = c->k;
    return rc;
}

static int oue_init(pinhole_config *c, const pinhole_config_params *p)
{
    return unary_fill(c, pinhole_oue_init(&c->u.unary, p->k, p->epsilon));
}

static int sue_init(pinhole_config *c, const pinhole_config_params *p)
{
    return unary_fill(c, pinhole_sue_init(&c->u.unary, p->k, p->epsilon, p->epsilon_permanent));
}

static double unary_variance(const pinhole_config *c, double n, double f)
{
    return pinhole_unary_variance(&c->u.unary, n, f);
}

static int olh_init(pinhole_config *c, const pinhole_config_params *p)
{
    int rc = pinhole_olh_init(&c->u.olh, p->k, p->epsilon, p->pool, p->pool_key);
    c->epsilon_realized = c->u.olh.epsilon_realized;
    c->payload_bits = c->u.olh.bits;
    c->counts_len = (uint64_t)c->u.olh.S * c->u.olh.g;
    return rc;
}

static double olh_variance(const pinhole_config *c, double n, double f)
{
    return pinhole_olh_variance(&c->u.olh, n, f);
}

static int hr_init(pinhole_config *c, const pinhole_config_params *p)
{
    int rc = pinhole_hr_init(&c->u.hr, p->k, p->epsilon, p->block);
    c->epsilon_realized = c->u.hr.epsilon_realized;
    c->payload_bits = c->u.hr.d.bits;
    c->counts_len = c->u.hr.d.B * c->u.hr.b;
    return rc;
}

static double hr_variance(const pinhole_config *c, double n, double f)
{
    return pinhole_hr_variance(&c->u.hr, n, f);
}

static int ss_init(pinhole_config *c, const pinhole_config_params *p)
{
    int rc = pinhole_ss_init(&c->u.ss, p->k, p->epsilon);
    c->epsilon_realized = c->u.ss.epsilon_realized;
    c->payload_bits = (uint32_t)c->k;
    c->counts_len = c->k;
    return rc;
}

static double ss_variance(const pinhole_config *c, double n, double f)
{
    return pinhole_ss_variance(&c->u.ss, n, f);
}

static int hpgr_init(pinhole_config *c, const pinhole_config_params *p)
{
    int rc = pinhole_hpgr_init(&c->u.hpgr, p->k, p->epsilon, p->q, p->t);
    c->epsilon_realized = c->u.hpgr.epsilon_realized;
    c->payload_bits = c->u.hpgr.d.bits;
    c->counts_len = c->u.hpgr.d.B * c->u.hpgr.d.Kb;
    return rc;
}

static void hpgr_free(pinhole_config *c)
{
    pinhole_hpgr_free(&c->u.hpgr);
}

static double hpgr_variance(const pinhole_config *c, double n, double f)
{
    return pinhole_hpgr_variance(&c->u.hpgr, n, f);
}

static const pinhole_mechanism_ops table[] = {
    {PINHOLE_MECH_PGR, "pgr", pgr_init, pgr_free, pgr_variance},
    {PINHOLE_MECH_GRR, "grr", grr_init, no_free, grr_variance},
    {PINHOLE_MECH_OUE, "oue", oue_init, no_free, unary_variance},
    {PINHOLE_MECH_SUE, "sue", sue_init, no_free, unary_variance},
    {PINHOLE_MECH_OLH, "olh", olh_init, no_free, olh_variance},
    {PINHOLE_MECH_HR, "hr", hr_init, no_free, hr_variance},
    {PINHOLE_MECH_SS, "ss", ss_init, no_free, ss_variance},
    {PINHOLE_MECH_HPGR, "hpgr", hpgr_init, hpgr_free, hpgr_variance},
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
