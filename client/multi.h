/* Multi-attribute collections, device side: d categorical attributes per device, one attribute pair
 * sampled per report and reported through that pair's own collection over the product domain
 * (docs/multi-attribute.md). Sources: the sampling of CALM (Zhang, Wang, Li, He, Chen, CCS 2018,
 * §4) and of SMP (Arcolezi, Couchot, Al Bouna, Xiao, CIKM 2021, §3), with a pair as the unit.
 *
 * A pinhole_multi is read-only after its init and may be shared between threads. */
#ifndef PINHOLE_CLIENT_MULTI_H
#define PINHOLE_CLIENT_MULTI_H

#include "client/pinhole.h"

#include <stddef.h>
#include <stdint.h>

#define PINHOLE_MULTI_DMAX 64u      /* attributes per collection */
#define PINHOLE_MULTI_KMAX 256u     /* categories per attribute */
#define PINHOLE_MULTI_CELLMAX 4096u /* cells of one pair's product domain, k_j k_l */

struct pinhole_multi {
    uint32_t d;                     /* attributes */
    uint32_t k[PINHOLE_MULTI_DMAX]; /* categories of each attribute, 2..256 */
    uint32_t npairs;                /* d(d-1)/2 pairs, or 1 when d = 1 */
    uint64_t base_id; /* pair p is the collection base_id + p (pinhole_multi_init; 0 when built
                       * from signed configs, whose ids are the server's) */
    pinhole_collection *pairs; /* npairs collections over the product domains */
};

/** A multi-attribute collection of d attributes with k[0..d) categories, each pair p = (j, l),
 * j < l, in lexicographic order, an ordinary collection with id base_id + p over k_j k_l cells
 * (cell x_j k_l + x_l), mechanism `mechanism` and the whole epsilon (d = 1: one collection over
 * k_0), caller-allocated (pinhole_multi_new_params() in the public API allocates it).
 * Allocates the pairs' mechanisms; release with pinhole_multi_clear().
 * Errors: PINHOLE_EINVAL (d = 0 or > 64, a k outside 2..256, a product k_j k_l > 4096, base_id +
 * npairs overflowing), PINHOLE_ENOMEM, and those of pinhole_collection_init_config() (epsilon).
 * On error nothing needs freeing. */
int pinhole_multi_init(pinhole_multi *mc, uint64_t base_id, uint32_t d, const uint32_t *k,
                       pinhole_mechanism_id mechanism, double epsilon);

/** The same from the server's signed configs of the pair collections, signed_configs[p] holding
 * PINHOLE_CONFIG_SIGNEDBYTES bytes for pair p (in the order of pinhole_multi_pair()), each verified
 * against the server's Ed25519 key (pinhole_collection_init_signed()); their ids are the server's
 * (any ids, in pair order). Errors: those of pinhole_multi_init() for d and k; those of
 * pinhole_collection_init_signed() (PINHOLE_ESIGNATURE for a bad signature); PINHOLE_EINVAL if a
 * config's k is not k_j k_l of its pair, or its mechanism or epsilon differ from pair 0's. On error
 * nothing needs freeing. */
int pinhole_multi_init_signed(pinhole_multi *mc, uint32_t d, const uint32_t *k,
                              const uint8_t *const *signed_configs,
                              const uint8_t server_pk[PINHOLE_CONFIG_PUBLICKEYBYTES]);

/** Release the pairs' collections; safe on a zeroed struct and after a failed init. */
void pinhole_multi_clear(pinhole_multi *mc);

/* pinhole_multi_pair(), pinhole_multi_report() and the handles' new/free functions are public
 * (<pinhole/pinhole.h>). */

/** The cell of pair p that values[0..d) fall in: values[j] k_l + values[l] (values[0] when d = 1).
 * Errors: PINHOLE_ERANGE (p >= npairs, or values[j] >= k_j for an attribute of the pair). */
int pinhole_multi_cell(const pinhole_multi *mc, uint32_t p, const uint32_t *values, uint64_t *cell);

/** The pair a report is made for. It never depends on the device's values: uniform over the npairs
 * (libsodium's randombytes_uniform), or with PINHOLE_REPORT_MEMOIZE (needs a device secret) the
 * first 8 bytes of BLAKE2b(key = device secret, "pinhole-multi-pair-v1" || the fingerprint of
 * pair 0's collection) modulo npairs, so a device reports the same pair every time.
 * Errors: PINHOLE_EINVAL (MEMOIZE without a device secret, unknown flags). */
int pinhole_multi_draw_pair(const pinhole_client *cl, const pinhole_multi *mc, unsigned flags,
                            uint32_t *pair);

#endif
