/* Dispatch of accumulation and estimation to each mechanism's estimator. */
#include "server/estimate/estimate.h"
#include "common/bytes.h"
#include "common/error.h"
#include "server/estimate/grr.h"
#include "server/estimate/hpgr.h"
#include "server/estimate/hr.h"
#include "server/estimate/olh.h"
#include "server/estimate/pgr.h"
#include "server/estimate/unary.h"

#include <stdlib.h>

static int pgr_accumulate(const pinhole_config *c, const uint8_t *payload, uint64_t *counts)
{
    const uint64_t h = pinhole_load_le(payload, c->payload_bytes);
    if (h >= c->u.pgr.K)
        return PINHOLE_ERANGE;
    counts[h]++;
    return PINHOLE_OK;
}

static int pgr_estimate(const pinhole_config *c, const uint64_t *counts, uint64_t n, double *count,
                        pinhole_pgr_workspace *ws)
{
    const pinhole_pgr *g = &c->u.pgr;
    uint64_t sum = 0;
    for (uint64_t h = 0; h < g->K; h++)
        sum += counts[h];
    if (sum != n)
        return PINHOLE_EINVAL;
    const pinhole_pgr_reconstruct_options opt = {.workspace = ws};
    return pinhole_pgr_reconstruct_estimate(g, counts, count, &opt);
}

/* integer reports (k-RR, OLH, Hadamard response, HPGR): one count per report value */
static int int_accumulate(const pinhole_config *c, const uint8_t *payload, uint64_t *counts)
{
    const uint64_t y = pinhole_load_le(payload, c->payload_bytes);
    if (y >= c->counts_len)
        return PINHOLE_ERANGE;
    counts[y]++;
    return PINHOLE_OK;
}

/* bit-string reports (OUE, SUE/RAPPOR, Subset Selection) */
static int bits_accumulate(const pinhole_config *c, const uint8_t *payload, uint64_t *counts)
{
    return pinhole_bits_accumulate(c->k, payload, counts);
}

static int grr_estimate(const pinhole_config *c, const uint64_t *counts, uint64_t n, double *count,
                        pinhole_pgr_workspace *ws)
{
    (void)ws;
    return pinhole_grr_estimate(&c->u.grr, counts, n, count);
}

static int unary_estimate(const pinhole_config *c, const uint64_t *counts, uint64_t n,
                          double *count, pinhole_pgr_workspace *ws)
{
    (void)ws;
    return pinhole_bits_estimate(c->k, c->u.unary.p, c->u.unary.r, counts, n, count);
}

static int ss_estimate(const pinhole_config *c, const uint64_t *counts, uint64_t n, double *count,
                       pinhole_pgr_workspace *ws)
{
    (void)ws;
    return pinhole_bits_estimate(c->k, c->u.ss.p, c->u.ss.r, counts, n, count);
}

static int olh_estimate(const pinhole_config *c, const uint64_t *counts, uint64_t n, double *count,
                        pinhole_pgr_workspace *ws)
{
    (void)ws;
    return pinhole_olh_estimate(&c->u.olh, counts, n, count);
}

static int hr_estimate(const pinhole_config *c, const uint64_t *counts, uint64_t n, double *count,
                       pinhole_pgr_workspace *ws)
{
    (void)ws;
    return pinhole_hr_estimate(&c->u.hr, counts, n, count);
}

static int hpgr_estimate(const pinhole_config *c, const uint64_t *counts, uint64_t n, double *count,
                         pinhole_pgr_workspace *ws)
{
    (void)ws;
    return pinhole_hpgr_estimate(&c->u.hpgr, counts, n, count);
}

static const struct {
    pinhole_mechanism_id id;
    int (*accumulate)(const pinhole_config *, const uint8_t *, uint64_t *);
    int (*estimate)(const pinhole_config *, const uint64_t *, uint64_t, double *,
                    pinhole_pgr_workspace *);
} table[] = {
    {PINHOLE_MECH_PGR, pgr_accumulate, pgr_estimate},
    {PINHOLE_MECH_GRR, int_accumulate, grr_estimate},
    {PINHOLE_MECH_OUE, bits_accumulate, unary_estimate},
    {PINHOLE_MECH_SUE, bits_accumulate, unary_estimate},
    {PINHOLE_MECH_OLH, int_accumulate, olh_estimate},
    {PINHOLE_MECH_HR, int_accumulate, hr_estimate},
    {PINHOLE_MECH_SS, bits_accumulate, ss_estimate},
    {PINHOLE_MECH_HPGR, int_accumulate, hpgr_estimate},
};

int pinhole_accumulate(const pinhole_config *c, const uint8_t *payload, size_t len,
                       uint64_t *counts)
{
    if (len != c->payload_bytes)
        return PINHOLE_EFORMAT;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].id == c->mechanism)
            return table[i].accumulate(c, payload, counts);
    return PINHOLE_EUNSUPPORTED;
}

int pinhole_estimate(const pinhole_config *c, const uint64_t *counts, uint64_t n, double *count,
                     double *variance)
{
    return pinhole_estimate_ex(c, counts, n, count, variance, NULL);
}

int pinhole_estimate_ex(const pinhole_config *c, const uint64_t *counts, uint64_t n, double *count,
                        double *variance, pinhole_pgr_workspace *ws)
{
    if (n == 0)
        return PINHOLE_ENOREPORTS;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].id != c->mechanism)
            continue;
        int rc = table[i].estimate(c, counts, n, count, ws);
        if (rc != PINHOLE_OK || !variance)
            return rc;
        for (uint64_t v = 0; v < c->k; v++) {
            double f = count[v] < 0 ? 0 : count[v] > (double)n ? (double)n : count[v];
            variance[v] = pinhole_config_variance(c, (double)n, f);
        }
        return PINHOLE_OK;
    }
    return PINHOLE_EUNSUPPORTED;
}

typedef struct {
    double x;
    uint64_t i;
} ranked;

static int by_value_desc(const void *a, const void *b)
{
    const ranked *p = a, *q = b;
    if (p->x != q->x)
        return p->x > q->x ? -1 : 1;
    return p->i < q->i ? -1 : (p->i > q->i);
}

int pinhole_estimate_rank(const double *count, uint64_t k, uint64_t *order)
{
    ranked *r = malloc(k * sizeof *r);
    if (!r)
        return PINHOLE_ENOMEM;
    for (uint64_t i = 0; i < k; i++)
        r[i] = (ranked){count[i], i};
    qsort(r, k, sizeof *r, by_value_desc);
    for (uint64_t i = 0; i < k; i++)
        order[i] = r[i].i;
    free(r);
    return PINHOLE_OK;
}
