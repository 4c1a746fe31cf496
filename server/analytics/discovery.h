/* The server side of a discovery collection: the round schedule, and the rounds advanced from
 * their reports (docs/discovery.md).
 *
 * Plan: N devices, each in exactly one round. R extension rounds of n_r = (1 - phi) N / R devices
 * each grow candidate prefixes; a final round over the complete candidate strings estimates their
 * counts with the remaining devices (phi N, plus the share of extension rounds never opened when
 * the candidates run out early). Round 0 extends the empty prefix by ext0 bytes, later rounds by
 * ext bytes, until the prefixes reach `depth` bytes, so R = 1 + ceil((depth - ext0) / ext).
 *
 * Threshold: after a round, an item (candidate prefix, segment) is kept when its unbiased estimate
 * exceeds z sigma_0, sigma_0^2 = Var[estimate | true count 0] from the oracle's exact variance
 * (pinhole_config_variance(c, n, 0)) and z the normal quantile with P[N(0,1) > z] = alpha / k_v,
 * k_v the round's items a device string can map to: about alpha items with no device pass by
 * chance. Unfinished prefixes passing the threshold are ranked by estimate and the best `keep` go
 * on; items that end the string (a zero byte in the segment) join the complete candidates. In the
 * final round a string is significant when its estimate passes z sigma_0 with
 * P[N(0,1) > z] = PINHOLE_DISCOVERY_FINAL_ALPHA / ncand.
 * At the end the prefixes of the last round (`depth` bytes) join them too, as complete strings.
 *
 * Not thread-safe: one state per collection, advanced by one thread (the job runner, a simulator).
 */
#ifndef PINHOLE_SERVER_ANALYTICS_DISCOVERY_H
#define PINHOLE_SERVER_ANALYTICS_DISCOVERY_H

#include "common/discovery.h"
#include "common/mechanism.h"
#include "proto/discovery.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pinhole_discovery_params {
    pinhole_mechanism_id oracle; /* the frequency oracle of every round; 0 = PGR */
    double epsilon;              /* of every round, = the user-level epsilon; finite, > 0 */
    uint64_t devices;            /* N, devices expected over the whole collection, >= 2 */
    uint32_t depth;              /* longest string the extension rounds complete, bytes; 0 = 8 */
    uint32_t ext0;               /* bytes added by round 0, 1..3; 0 = 2 */
    uint32_t ext;                /* bytes added by later rounds, 1..3; 0 = 1 */
    uint32_t keep;               /* unfinished prefixes kept per round, <= 65536; 0 = 256 */
    double final_fraction;       /* phi, share of devices in the final round, in (0, 1); 0 = 0.25 */
    double false_positives; /* alpha, expected chance passes per extension round, > 0; 0 = 10 */
} pinhole_discovery_params;

typedef struct pinhole_discovery_round_log {
    uint32_t round;
    pinhole_round_kind kind;
    uint32_t prefix_len, ext, ncand;
    uint64_t k;        /* domain size */
    uint64_t devices;  /* reports folded */
    double z;          /* threshold multiplier */
    double threshold;  /* z sigma_0, counts */
    uint32_t passed;   /* items above the threshold */
    uint32_t kept;     /* unfinished prefixes kept */
    uint32_t complete; /* complete strings added */
    double seconds;    /* server time: estimation and selection */
} pinhole_discovery_round_log;

typedef struct pinhole_discovery_result {
    char s[PINHOLE_DISCOVERY_MAXLEN + 1]; /* the string, NUL-terminated */
    double estimate;                      /* of the count among all N devices */
    double sd;                            /* its standard error (oracle noise and subsampling) */
    int significant;                      /* 1 if the final round's estimate passed z sigma_0 */
} pinhole_discovery_result;

typedef struct pinhole_discovery_state {
    pinhole_discovery_params p;  /* defaults resolved */
    uint32_t rounds;             /* R, planned extension rounds */
    uint64_t per_round;          /* n_r, devices per extension round */
    uint32_t round;              /* index of the open round */
    int done;                    /* the final round was advanced: results are ready */
    uint64_t used;               /* devices folded by closed rounds */
    pinhole_round_domain domain; /* of the open round; table below */
    uint8_t *table;              /* owned */
    uint8_t *found;              /* complete strings so far, MAXLEN bytes each, zero padded */
    uint32_t nfound, capfound;
    pinhole_discovery_round_log log[PINHOLE_DISCOVERY_MAXLEN + 2];
    uint32_t nlog;
    pinhole_discovery_result *results; /* after the final round: by decreasing estimate */
    uint32_t nresults;
} pinhole_discovery_state;

/** Start a collection: resolve defaults, plan the rounds, open round 0.
 * Errors: PINHOLE_EINVAL (epsilon, devices < 2, depth above PINHOLE_DISCOVERY_MAXLEN, ext0 or ext
 * outside 1..3, ext0 > depth, keep above 65536, final_fraction outside (0, 1), false_positives
 * <= 0, oracle not PGR, GRR or OLH), PINHOLE_ENOMEM. Free with pinhole_discovery_free(). */
int pinhole_discovery_start(pinhole_discovery_state *st, const pinhole_discovery_params *p);

/** Release everything; safe on a zeroed struct. */
void pinhole_discovery_free(pinhole_discovery_state *st);

/** Devices the open round wants: n_r for an extension round, N minus the devices used so far for
 * the final round (0 once done). */
uint64_t pinhole_discovery_wanted(const pinhole_discovery_state *st);

/** The open round's config: its domain (table borrowed from st) and its oracle's collection config
 * with the given collection id (time precision 1 s, planner's parameters).
 * Errors: PINHOLE_EINVAL (done), those of pinhole_collection_config_make(). */
int pinhole_discovery_round_config(const pinhole_discovery_state *st, uint64_t collection_id,
                                   pinhole_round_config *rc);

/** Close the open round from its n reports, summarised in counts (the oracle's count vector, as
 * pinhole_accumulate() folds it) under oracle config c (made from the round config), and open the
 * next one; after the final round, fill st->results. Errors: PINHOLE_EINVAL (done, or c's k or
 * mechanism not the round's), those of pinhole_estimate() (PINHOLE_ENOREPORTS for n == 0),
 * PINHOLE_ENOMEM. On error the round stays open (it may have recorded some of its complete
 * strings; advancing it again with the same counts gives the same result). */
int pinhole_discovery_advance(pinhole_discovery_state *st, const pinhole_config *c,
                              const uint64_t *counts, uint64_t n);

/** The planned schedule's reach, from the oracle's exact variance at the planned round sizes:
 * *share receives the smallest share f of devices whose string (or prefix) passes an extension
 * round's threshold with probability `power` (0.5 <= power < 1),
 * f = (z + z_power) sqrt(V_0 / n_r) with V_0 = Var[estimate | count 0] per device in round 0's
 * domain and z that round's threshold multiplier; *final_rel the relative standard error of the
 * final round's estimate for a string of that share, sqrt(V_0 / (phi N)) / f (the variance taken at
 * count 0, as for a rare string). Errors: PINHOLE_EINVAL (power out of range, a finished state),
 * those of pinhole_config_init(). */
int pinhole_discovery_reach(const pinhole_discovery_state *st, double power, double *share,
                            double *final_rel);

/** Serialize the whole state (parameters, open round, complete candidates, log, results) into a
 * malloc'ed buffer *out of *len bytes, little-endian, starting with "PHDS" and version 1, so that a
 * server can keep a collection's rounds across restarts. Errors: PINHOLE_ENOMEM. */
int pinhole_discovery_save(const pinhole_discovery_state *st, uint8_t **out, size_t *len);

/** Rebuild a state from pinhole_discovery_save() bytes. Errors: PINHOLE_EFORMAT (not such bytes:
 * bad magic, version, lengths, or fields pinhole_discovery_start() or the round checks refuse),
 * PINHOLE_ENOMEM. On error *st is zeroed. Free with pinhole_discovery_free(). */
int pinhole_discovery_load(pinhole_discovery_state *st, const uint8_t *in, size_t len);

/** The collection as JSON (jansson, a new reference; NULL when out of memory): "epsilon",
 * "devices", "rounds" (planned), "open_round" (index, or null once done), "done", "log" (one object
 * per closed round: round, kind, prefix_len, ext, candidates, k, devices, threshold, kept,
 * complete, seconds) and, once done, "results": [{"string", "estimate", "stderr", "low", "high",
 * "significant"}...] by decreasing estimate (the 95% interval is estimate +- 1.96 stderr). */
json_t *pinhole_discovery_json(const pinhole_discovery_state *st);

/* The final round's significance: Bonferroni over its candidates, so that the chance that any
 * string nobody holds is marked significant is at most 5%. */
#define PINHOLE_DISCOVERY_FINAL_ALPHA 0.05

/* Reconstruction budget of a round's PGR oracle, seconds by the planner's cost model on
 * PINHOLE_DISCOVERY_THREADS threads: rounds are many and sequential, so the planner trades a little
 * variance for time (k = 65,537: none at epsilon <= 4, 5% at epsilon = 8). */
#define PINHOLE_DISCOVERY_PGR_SECONDS 0.25
#define PINHOLE_DISCOVERY_THREADS 2u

/** The oracle parameters of a round of k items: mechanism and epsilon, and for PGR the planner's
 * (q, t) within PINHOLE_DISCOVERY_PGR_SECONDS. Errors: those of pinhole_pgr_plan(). */
int pinhole_discovery_oracle(pinhole_mechanism_id oracle, uint64_t k, double epsilon,
                             pinhole_config_params *cp);

/** Upper normal quantile: z with P[N(0,1) > z] = tail, for 0 < tail < 1 (bisection on erfc). */
double pinhole_normal_upper_quantile(double tail);

#endif
