/* The collection config as JSON, for people and the HTTP API (jansson); docs/protocol.md §4.
 *
 * {"version": 1, "collection_id": 7, "mechanism": "pgr", "k": 1024, "epsilon": 4.0, "q": 67,
 *  "t": 3, "time_precision": 3600, "min_reports": 0}
 * These nine keys are required. The mechanisms' extra parameters "epsilon_permanent" (number),
 * "pool" (integer), "pool_key" (16 hex digits, most significant first) and "block" (integer) are
 * written only when nonzero and may be left out. Unknown and duplicate keys are refused. epsilon
 * is printed with 17 significant digits, so JSON -> config -> JSON round-trips exactly.
 * collection_id, k and block must be at most 2^63 - 1 in JSON.
 * Kept out of libpinhole (the client needs only the binary form). Thread-safe. */
#ifndef PINHOLE_PROTO_CONFIG_JSON_H
#define PINHOLE_PROTO_CONFIG_JSON_H

#include "proto/config.h"

#include <stddef.h>

/** A newly allocated NUL-terminated compact JSON text of cfg (free() it), or NULL on error.
 * *err (may be NULL) receives PINHOLE_EINVAL (cfg not encodable, unknown mechanism name,
 * collection id, k or block > 2^63 - 1) or PINHOLE_ENOMEM. */
char *pinhole_collection_config_to_json(const pinhole_collection_config *cfg, int *err);

/** Parse the JSON text text[0..len) into *cfg, with the checks of
 * pinhole_collection_config_decode(). Errors: PINHOLE_EFORMAT (not JSON, not an object, a key
 * missing, unknown or of the wrong type, a number out of its field's range), PINHOLE_EVERSION
 * (version != 1), PINHOLE_EUNSUPPORTED (unknown mechanism name), then those of
 * pinhole_collection_config_decode(). On error *cfg is zeroed. */
int pinhole_collection_config_from_json(const char *text, size_t len,
                                        pinhole_collection_config *cfg);

#endif
