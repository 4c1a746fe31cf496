/* OLH estimator with a seed pool (server side). Source: Wang et al., USENIX Security 2017, §4.4. */
#ifndef PINHOLE_SERVER_ESTIMATE_OLH_H
#define PINHOLE_SERVER_ESTIMATE_OLH_H

#include "common/olh.h"

#include <stdint.h>

/** T[v] = sum over seeds s of counts[s g + H_s(v)], v < k: S k hash evaluations.
 * counts: S g report counts per (seed, hashed value). */
void pinhole_olh_support(const pinhole_olh *g, const uint64_t *counts, uint64_t *T);

/** Unbiased estimates est[0..k) = (T_v - n/g)/(p - 1/g) from the S g counts and n reports.
 * Errors: PINHOLE_ENOREPORTS (n == 0), PINHOLE_EINVAL (counts do not sum to n), PINHOLE_ENOMEM. */
int pinhole_olh_estimate(const pinhole_olh *g, const uint64_t *counts, uint64_t n, double *est);

#endif
