/* Cost and variance comparison of every mechanism, and the automatic choice. */
#include "common/compare.h"
#include "common/error.h"
#include "common/pgr.h"

#include <math.h>
#include <string.h>

static void costs(const pinhole_config *c, pinhole_mechanism_row *r)
{
    const double k = (double)c->k, L = (double)c->counts_len;
    r->memory_bytes = 8 * (L + k);
    switch (c->mechanism) {
    case PINHOLE_MECH_PGR: {
        const pinhole_pgr *g = &c->u.pgr;
        r->client_ops = g->t;
        r->accumulate_ops = 1;
        pinhole_pgr_cost(g->q, g->t, g->K, g->k, &r->estimate_ops, &r->memory_bytes);
        r->memory_bytes += 8 * k;
        break;
    }
    case PINHOLE_MECH_HPGR: {
        const pinhole_hpgr *g = &c->u.hpgr;
        double ops, bytes;
        pinhole_pgr_cost(g->block.q, g->block.t, g->d.Kb, g->d.Kb, &ops, &bytes);
        r->client_ops = g->block.t;
        r->accumulate_ops = 1;
        r->estimate_ops = ops * (double)g->d.B;
        r->memory_bytes = 8 * (L + k) + bytes;
        break;
    }
    case PINHOLE_MECH_GRR:
        r->client_ops = 1, r->accumulate_ops = 1, r->estimate_ops = k;
        break;
    case PINHOLE_MECH_OUE:
    case PINHOLE_MECH_SUE: {
        const pinhole_unary *u = &c->u.unary;
        r->client_ops = k * (u->t_irr ? 2 : 1);
        r->accumulate_ops = k / 8 + u->p + (k - 1) * u->r; /* bytes scanned + set bits */
        r->estimate_ops = k;
        break;
    }
    case PINHOLE_MECH_SS:
        r->client_ops = (double)c->u.ss.d + k / 8;
        r->accumulate_ops = k / 8 + (double)c->u.ss.d;
        r->estimate_ops = k;
        break;
    case PINHOLE_MECH_OLH:
        r->client_ops = 1;
        r->accumulate_ops = 1;
        r->estimate_ops = (double)c->u.olh.S * k;
        break;
    case PINHOLE_MECH_HR:
        r->client_ops = 1;
        r->accumulate_ops = 1;
        r->estimate_ops = L * log2((double)c->u.hr.b);
        break;
    }
}

int pinhole_mechanism_compare(uint64_t k, double epsilon, const pinhole_auto_options *opt,
                              pinhole_mechanism_row *rows, size_t max, size_t *n)
{
    *n = 0;
    if (pinhole_epsilon_check(epsilon) != PINHOLE_OK || k < 2 || max == 0)
        return PINHOLE_EINVAL;
    const double max_bits = opt && opt->max_bits > 0 ? opt->max_bits : 1024;
    const double max_acc = opt && opt->max_accumulate_ops > 0 ? opt->max_accumulate_ops : 1024;
    const double max_ops = opt && opt->max_estimate_ops > 0 ? opt->max_estimate_ops : 0x1p33;
    const double max_mem = opt && opt->max_memory_bytes > 0 ? opt->max_memory_bytes : 0x1p31;
    size_t nm;
    const pinhole_mechanism_ops *all = pinhole_mechanism_all(&nm);
    for (size_t i = 0; i < nm && *n < max; i++) {
        pinhole_mechanism_row *r = &rows[(*n)++];
        memset(r, 0, sizeof *r);
        r->id = all[i].id;
        r->name = all[i].name;
        pinhole_config_params p = {.mechanism = all[i].id, .k = k, .epsilon = epsilon};
        pinhole_config c;
        r->rc = pinhole_config_init(&c, &p);
        if (r->rc != PINHOLE_OK)
            continue;
        r->ok = 1;
        r->variance = pinhole_config_variance(&c, 1, 0);
        r->ratio = r->variance / pinhole_variance_optimum(epsilon);
        r->epsilon_realized = c.epsilon_realized;
        r->bits = c.payload_bits;
        costs(&c, r);
        r->eligible = r->bits <= max_bits && r->accumulate_ops <= max_acc &&
                      r->estimate_ops <= max_ops && r->memory_bytes <= max_mem;
        pinhole_config_free(&c);
    }
    return PINHOLE_OK;
}

int pinhole_mechanism_auto(uint64_t k, double epsilon, const pinhole_auto_options *opt,
                           pinhole_mechanism_id *out)
{
    pinhole_mechanism_row rows[32];
    size_t n;
    int rc = pinhole_mechanism_compare(k, epsilon, opt, rows, 32, &n);
    if (rc != PINHOLE_OK)
        return rc;
    double best = INFINITY;
    /* OLH is left out: its variance has a data-dependent pool term (common/olh.h) */
    for (size_t i = 0; i < n; i++)
        if (rows[i].id == PINHOLE_MECH_OLH)
            rows[i].eligible = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].ok && rows[i].eligible && rows[i].variance < best)
            best = rows[i].variance;
    const pinhole_mechanism_row *pick = NULL;
    for (size_t i = 0; i < n; i++) {
        const pinhole_mechanism_row *r = &rows[i];
        if (!r->ok || !r->eligible || r->variance > best * 1.01)
            continue;
        if (!pick || r->estimate_ops < pick->estimate_ops ||
            (r->estimate_ops == pick->estimate_ops && r->bits < pick->bits))
            pick = r;
    }
    *out = pick ? pick->id : PINHOLE_MECH_PGR;
    return PINHOLE_OK;
}
