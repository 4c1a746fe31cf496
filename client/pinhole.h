/* libpinhole's objects as the library itself (and the CLI, and the tests) see them: the public
 * API (<pinhole/pinhole.h>) plus the layout of its opaque collections and clients, and set-up
 * functions for ones the caller allocates (on the stack, in an array). Not installed. */
#ifndef PINHOLE_CLIENT_PINHOLE_H
#define PINHOLE_CLIENT_PINHOLE_H

#include "common/error.h"
#include "common/mechanism.h"
#include "proto/batch.h"
#include "proto/config.h"
#include "proto/report.h"
#include "proto/seal.h"

#include <pinhole/pinhole.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct pinhole_collection {
    pinhole_collection_config config;               /* as verified or given */
    uint8_t fingerprint[PINHOLE_FINGERPRINT_BYTES]; /* of config */
    pinhole_config mech;                            /* the mechanism, built (owns tables) */
    int verified;                                   /* 1 if from a signed config */
};

struct pinhole_client {
    pinhole_policy policy;
    uint8_t secret[PINHOLE_DEVICE_SECRETBYTES]; /* the device secret, if has_secret */
    int has_secret;
    pthread_mutex_t lock; /* serializes load -> check -> store of the budget */
};

/** Set up a caller-allocated collection from a signed config; as pinhole_collection_new_signed().
 * Release with pinhole_collection_clear(); on error nothing needs releasing. */
int pinhole_collection_init_signed(pinhole_collection *col, const uint8_t *signed_config,
                                   size_t len,
                                   const uint8_t server_pk[PINHOLE_CONFIG_PUBLICKEYBYTES]);

/** A collection from a config the caller trusts without a signature (for example one it built
 * with pinhole_collection_config_make()). Errors: those of pinhole_collection_config_encode() and
 * pinhole_config_init(). */
int pinhole_collection_init_config(pinhole_collection *col, const pinhole_collection_config *cfg);

/** As pinhole_collection_new_params(), caller-allocated. */
int pinhole_collection_init_params(pinhole_collection *col, pinhole_mechanism_id mechanism,
                                   uint64_t k, double epsilon);

/** Release the mechanism's tables; safe on a zeroed struct and after a failed init. */
void pinhole_collection_clear(pinhole_collection *col);

/** As pinhole_client_new(), caller-allocated; release with pinhole_client_clear(). */
int pinhole_client_init(pinhole_client *cl, const pinhole_policy *policy,
                        const uint8_t *device_secret);

/** Erase the device secret and destroy the lock. */
void pinhole_client_clear(pinhole_client *cl);

#endif
