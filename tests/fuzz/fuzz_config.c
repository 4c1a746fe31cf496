/* libFuzzer harness: the collection-config decoders on arbitrary bytes — canonical binary (must
 * re-encode identically), signed (with a fixed key), and JSON (must round-trip through text). */
#include "common/error.h"
#include "proto/config.h"
#include "proto/config_json.h"

#include "fuzz_keys.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t pk[32], sk[64];
    fuzz_keys(pk, sk);
    pinhole_collection_config cfg, again;
    if (pinhole_collection_config_decode(data, size, &cfg) == PINHOLE_OK) {
        uint8_t out[PINHOLE_CONFIG_V2BYTES], fp[PINHOLE_FINGERPRINT_BYTES];
        if (pinhole_collection_config_encode(&cfg, out) != PINHOLE_OK ||
            memcmp(out, data, size) != 0 ||
            pinhole_collection_config_fingerprint(&cfg, fp) != PINHOLE_OK)
            abort();
        char *json = pinhole_collection_config_to_json(&cfg, NULL);
        if (json) { /* NULL only for a collection id, k or block over 2^63 - 1 */
            if (pinhole_collection_config_from_json(json, strlen(json), &again) != PINHOLE_OK ||
                pinhole_collection_config_encode(&again, out) != PINHOLE_OK ||
                memcmp(out, data, size) != 0)
                abort();
            free(json);
        } else if (cfg.collection_id <= INT64_MAX && cfg.params.k <= INT64_MAX &&
                   cfg.params.block <= INT64_MAX) {
            abort();
        }
    }
    (void)pinhole_collection_config_verify(data, size, pk, &cfg);
    if (pinhole_collection_config_from_json((const char *)data, size, &cfg) == PINHOLE_OK) {
        uint8_t out[PINHOLE_CONFIG_V2BYTES];
        if (pinhole_collection_config_encode(&cfg, out) != PINHOLE_OK ||
            pinhole_collection_config_decode(out, pinhole_collection_config_encoded_bytes(&cfg),
                                             &again) != PINHOLE_OK)
            abort();
    }
    return 0;
}
