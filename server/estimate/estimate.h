/* The generic estimator: report payloads -> count vector -> unbiased estimates, for any mechanism.
 */
#ifndef PINHOLE_SERVER_ESTIMATE_H
#define PINHOLE_SERVER_ESTIMATE_H

#include "common/mechanism.h"
#include "server/estimate/pgr.h"

#include <stddef.h>
#include <stdint.h>

/** Fold one report payload into counts[0..c->counts_len) (the mechanism's sufficient statistic).
 * Errors: PINHOLE_EFORMAT (len != c->payload_bytes), PINHOLE_ERANGE (a payload value outside the
 * report alphabet, e.g. a PGR index >= K), PINHOLE_EUNSUPPORTED. Nothing is added on error. */
int pinhole_accumulate(const pinhole_config *c, const uint8_t *payload, size_t len,
                       uint64_t *counts);

/** Unbiased estimates of every item's count from n reports summarised in counts[0..counts_len):
 * count[v] (counts, possibly negative) and, when variance is not NULL, variance[v] (counts^2), the
 * mechanism's exact variance with the unknown true count replaced by count[v] clipped to [0, n].
 * A 95% interval is count[v] +- 1.96 sqrt(variance[v]).
 * Errors: PINHOLE_ENOREPORTS (n == 0), PINHOLE_EINVAL (counts inconsistent with n),
 * PINHOLE_ENOMEM, PINHOLE_EUNSUPPORTED. */
int pinhole_estimate(const pinhole_config *c, const uint64_t *counts, uint64_t n, double *count,
                     double *variance);

/** pinhole_estimate() with the reconstruction's workspace (server/estimate/pgr.h) to use and keep
 * (PGR; NULL or any other mechanism: none), so that a worker that keeps one reconstructs without
 * allocating. Same errors. */
int pinhole_estimate_ex(const pinhole_config *c, const uint64_t *counts, uint64_t n, double *count,
                        double *variance, pinhole_pgr_workspace *ws);

/** Order items by decreasing estimate (ties by increasing item index): order[0..k) receives the
 * item indices. Thread-safe. Errors: PINHOLE_ENOMEM. */
int pinhole_estimate_rank(const double *count, uint64_t k, uint64_t *order);

#endif
