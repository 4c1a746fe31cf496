/* libFuzzer harness: pinhole_report_open on arbitrary bytes with a fixed key pair, then decode
 * whatever opens. The first byte chooses between the raw input and a valid seal of the rest. */
#include "common/error.h"
#include "proto/report.h"
#include "proto/seal.h"

#include <sodium.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t pk[32], sk[32];
    static int ready;
    if (!ready) {
        if (sodium_init() < 0)
            abort();
        uint8_t seed[32] = {0};
        crypto_box_seed_keypair(pk, sk, seed);
        ready = 1;
    }
    if (size > 4096)
        return 0;
    uint8_t sealed[4096 + 48], opened[4096 + 48];
    const uint8_t *in = data;
    size_t len = size, n;
    if (size > 1 && (data[0] & 1)) { /* seal the rest, so decoding of opened reports is reached */
        if (pinhole_report_seal(data + 1, size - 1, pk, sealed, sizeof sealed, &len) != PINHOLE_OK)
            abort();
        in = sealed;
    }
    if (pinhole_report_open(in, len, pk, sk, opened, sizeof opened, &n) == PINHOLE_OK) {
        if (in == data || n != size - 1)
            abort(); /* random bytes never authenticate */
        pinhole_report r;
        (void)pinhole_report_decode(opened, n, &r);
    } else if (in != data) {
        abort();
    }
    return 0;
}
