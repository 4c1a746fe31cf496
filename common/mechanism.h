/* The mechanism table: one configuration type for every frequency oracle Pinhole offers.
 *
 * A pinhole_config fixes the mechanism, the domain size k and epsilon, plus the mechanism's own
 * parameters. Every mechanism here has a count vector over report values as its sufficient
 * statistic: the server folds each report payload into counts[0..counts_len) and estimates from
 * those counts alone. Adding a mechanism is: its parameter code and a row in common/mechanism.c,
 * its randomizer in client/<name>.c (row in client/encode.c), its estimator in
 * server/estimate/<name>.c (row in server/estimate/estimate.c).
 *
 * A pinhole_config is read-only after pinhole_config_init() and may be shared between threads. */
#ifndef PINHOLE_COMMON_MECHANISM_H
#define PINHOLE_COMMON_MECHANISM_H

#include "common/grr.h"
#include "common/hpgr.h"
#include "common/hr.h"
#include "common/olh.h"
#include "common/pgr.h"
#include "common/ss.h"
#include "common/unary.h"

#include <pinhole/pinhole.h>

#include <stddef.h>
#include <stdint.h>

/* pinhole_mechanism_id and PINHOLE_PAYLOAD_MAXBYTES (the largest payload of any mechanism: unary
 * encodings need k bits) are in the public header. */

typedef struct pinhole_config_params {
    pinhole_mechanism_id mechanism;
    uint64_t k;     /* domain size, >= 2 */
    double epsilon; /* finite, > 0 */
    uint32_t q;     /* PGR: field order, 0 = planner's choice */
    uint32_t t;     /* PGR: vector length, 0 = smallest with K >= k */
    /* (HPGR reads q and t too: the block space, 0 = defaults of pinhole_hpgr_init) */
    double epsilon_permanent; /* SUE/RAPPOR: epsilon of the permanent response, 0 = epsilon */
    uint32_t pool;            /* OLH: seeds in the public pool, 0 = default */
    uint64_t pool_key;        /* OLH: public key of the seed pool */
    uint64_t block;           /* HR: outputs per block (power of two >= 4), 0 = lowest variance */
} pinhole_config_params;

typedef struct pinhole_config {
    pinhole_mechanism_id mechanism;
    uint64_t k;
    double epsilon;          /* requested */
    double epsilon_realized; /* what the randomizer's integer thresholds guarantee */
    uint32_t payload_bits;   /* bits of information per report payload */
    uint32_t payload_bytes;  /* bytes of the encoded payload, ceil(payload_bits / 8) */
    uint64_t counts_len;     /* length of the count vector the estimator reads */
    union {
        pinhole_pgr pgr;
        pinhole_grr grr;
        pinhole_unary unary; /* OUE and SUE */
        pinhole_olh olh;
        pinhole_hr hr;
        pinhole_ss ss;
        pinhole_hpgr hpgr;
    } u;
} pinhole_config;

typedef struct pinhole_mechanism_ops {
    pinhole_mechanism_id id;
    const char *name; /* lower-case, as on the command line: "pgr" */
    /* fill c->u and the generic fields; c->mechanism, k, epsilon are set by the caller */
    int (*init)(pinhole_config *c, const pinhole_config_params *p);
    void (*free)(pinhole_config *c);
    /* exact variance (counts^2) of one item's unbiased estimate from n reports, f holding it
     * (OLH: with an infinite seed pool, see pinhole_olh_pool_variance; HPGR: other users spread
     * evenly, see pinhole_hpgr_variance_block) */
    double (*variance)(const pinhole_config *c, double n, double f);
} pinhole_mechanism_ops;

/** The row of a mechanism, or NULL if the id is unknown. */
const pinhole_mechanism_ops *pinhole_mechanism_find(pinhole_mechanism_id id);

/** The row of a mechanism by name ("pgr", ...), or NULL. */
const pinhole_mechanism_ops *pinhole_mechanism_by_name(const char *name);

/** The rows of every mechanism, in table order; *n receives their number. */
const pinhole_mechanism_ops *pinhole_mechanism_all(size_t *n);

/** Configure a mechanism. Errors: PINHOLE_EUNSUPPORTED (unknown mechanism), PINHOLE_EINVAL
 * (epsilon not finite and > 0, k < 2, bad mechanism parameters), PINHOLE_EOVERFLOW, PINHOLE_ENOMEM.
 * On error nothing needs freeing. Free with pinhole_config_free(). */
int pinhole_config_init(pinhole_config *c, const pinhole_config_params *p);

/** Release what pinhole_config_init() allocated; safe on a zeroed struct. */
void pinhole_config_free(pinhole_config *c);

/** Exact variance (counts^2) of an item's unbiased estimate from n reports of which f hold it. */
double pinhole_config_variance(const pinhole_config *c, double n, double f);

#endif
