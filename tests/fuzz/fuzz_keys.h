/* Shared by the libFuzzer harnesses that check signed forms: libsodium started and the fixed
 * Ed25519 key pair (seed all zero) they sign and verify with. */
#ifndef PINHOLE_TESTS_FUZZ_KEYS_H
#define PINHOLE_TESTS_FUZZ_KEYS_H

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>

/** On the first call: sodium_init (aborts on failure) and the key pair of the all-zero seed into
 * pk and sk; later calls do nothing. */
static inline void fuzz_keys(uint8_t pk[32], uint8_t sk[64])
{
    static int ready;
    if (ready)
        return;
    if (sodium_init() < 0)
        abort();
    uint8_t seed[32] = {0};
    crypto_sign_seed_keypair(pk, sk, seed);
    ready = 1;
}

#endif
