/* Simulated discovery collections: devices drawn from a word-count file, reported through the
 * device code, aggregated and advanced through the server's rounds; plus the baselines the
 * benchmark compares with (docs/discovery.md, "Baselines").
 *
 * Methods, all at the same epsilon and number of devices N, every device reporting once:
 *  - ROUNDS: the discovery rounds of server/analytics/discovery.h, with the oracle of
 *    params.rounds.oracle (PGR, or k-RR / OLH as baselines). Each device's string goes through
 *    pinhole_discovery_encode() (the device's map and randomizer) and pinhole_accumulate().
 *  - PEM: the Prefix Extending Method of T. Wang, N. Li, S. Jha, "Locally Differentially Private
 *    Heavy Hitter Identification", IEEE TDSC 2019, §4: the strings' first `depth` bytes as a bit
 *    string of m = 8 depth bits; devices split into g equal groups; group j reports its prefix of
 *    s0 + (j + 1) eta bits (capped at m) with OLH; the server evaluates the top `pem_top` prefixes
 *    of group j - 1 extended by every eta-bit suffix (group 0: every prefix) and keeps the best
 *    `pem_top`; the last group's are the result. s0 = ceil(log2 pem_top), g = ceil((m - s0)/eta).
 *    OLH's input is the prefix mixed by a 64-bit bijection and cut to 62 bits (k = 2^62; two
 *    candidate prefixes collide with probability about 2^-62), its seed pool pem_pool seeds.
 *  - CLOSED: the upper bound: PGR over the true dictionary (the count file's k words), all N
 *    devices in one round, the server knowing every word.
 * Single-threaded. */
#ifndef PINHOLE_SERVER_ANALYTICS_DISCOVERY_SIM_H
#define PINHOLE_SERVER_ANALYTICS_DISCOVERY_SIM_H

#include "server/analytics/discovery.h"
#include "server/data/countfile.h"

#include <stdint.h>

typedef enum pinhole_dsim_method {
    PINHOLE_DSIM_ROUNDS = 1,
    PINHOLE_DSIM_PEM = 2,
    PINHOLE_DSIM_CLOSED = 3,
} pinhole_dsim_method;

typedef struct pinhole_dsim_params {
    pinhole_dsim_method method;
    pinhole_discovery_params rounds; /* epsilon, devices and depth for every method; the schedule
                                        and oracle for ROUNDS */
    uint32_t pem_top;                /* PEM: prefixes kept per group; 0 = 128 */
    uint32_t pem_eta;                /* PEM: bits added per group; 0 = largest with
                                        pem_top 2^eta <= 2^15 */
    uint32_t pem_pool;               /* PEM: OLH seed pool; 0 = 16384 */
    uint64_t seed;                   /* of the simulation's randomness */
    int wire; /* ROUNDS: 1 = the protocol end to end: each round config signed with a fresh server
                 key and verified by the devices' code, each device's report written by
                 pinhole_discovery_report() and decoded, checked (collection id, fingerprint) and
                 folded by the server; 0 = pinhole_discovery_value() once per distinct string, then
                 the oracle's randomizer (faster, same distribution) */
} pinhole_dsim_params;

typedef struct pinhole_dsim_out {
    pinhole_discovery_result *results; /* by decreasing estimate */
    uint64_t *truth;                   /* per result: devices holding exactly that string */
    uint32_t nresults;
    pinhole_discovery_round_log log[PINHOLE_DISCOVERY_MAXLEN * 8 + 2];
    uint32_t nlog;
    uint64_t devices;    /* N */
    uint64_t refused;    /* devices whose string the device code refused (too long, not UTF-8) */
    uint64_t wire_bytes; /* wire: bytes of the signed round configs and of the reports */
    double seconds;      /* wall time of the whole simulation */
} pinhole_dsim_out;

/** Simulate a discovery collection over the words of cf (label = the device string, count = its
 * weight): N = p->rounds.devices devices, each holding a word drawn with probability count/total,
 * independently. Fills *out (free with pinhole_dsim_out_free). Errors: PINHOLE_EINVAL (method,
 * parameters: those of pinhole_discovery_start(); PEM with depth > 8), PINHOLE_ENOMEM, and those of
 * the oracle's init and estimator. */
int pinhole_dsim_run(const pinhole_countfile *cf, const pinhole_dsim_params *p,
                     pinhole_dsim_out *out);

/** Free what pinhole_dsim_run() allocated; safe on a zeroed struct. */
void pinhole_dsim_out_free(pinhole_dsim_out *out);

/** Recall and precision of the top-m: the m most frequent words of cf (ties broken by file order)
 * against the first m results of out; *recall = |found in true top-m| / m, *precision = the same
 * over min(m, nresults) reported strings (1 when none is reported). */
void pinhole_dsim_topm(const pinhole_countfile *cf, const pinhole_dsim_out *out, uint32_t m,
                       double *recall, double *precision);

#endif
