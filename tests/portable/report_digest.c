/* Prints a digest of the reports the randomizer makes from fixed seeds, and of every encoding of
 * proto/, so tests/portability.sh can compare a 32-bit and a big-endian build with the host: the
 * same seed must give the same bytes on every platform. */
#include "client/encode.h"
#include "client/pinhole.h"
#include "common/rng.h"

#include <sodium.h>
#include <stdio.h>

int main(void)
{
    if (pinhole_init() != PINHOLE_OK)
        return 1;
    static const struct {
        uint64_t k;
        double epsilon;
        uint32_t q, t;
    } cases[] = {{1024, 4.0, 67, 3}, {74286, 1.0, 4, 9},    {1u << 20, 2.0, 2, 21},
                 {700, 3.0, 9, 4},   {5000, 8.0, 65521, 2}, {3000000, 5.0, 151, 4}};
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR,
                                   .k = cases[i].k,
                                   .epsilon = cases[i].epsilon,
                                   .q = cases[i].q,
                                   .t = cases[i].t};
        pinhole_collection_config cfg;
        pinhole_collection col;
        if (pinhole_collection_config_make(&cfg, 1000 + i, &p, 60, 0) != PINHOLE_OK ||
            pinhole_collection_init_config(&col, &cfg) != PINHOLE_OK) {
            bad = 1;
            continue;
        }
        crypto_generichash_state st;
        crypto_generichash_init(&st, NULL, 0, 16);
        crypto_generichash_update(&st, col.fingerprint, sizeof col.fingerprint);
        pinhole_rng rng;
        pinhole_rng_init_seeded(&rng, 77 + i);
        uint8_t payload[8];
        for (uint64_t n = 0; n < 2000; n++) {
            uint64_t value = pinhole_rng_uniform64(&rng, cases[i].k);
            bad |= pinhole_encode(&col.mech, value, &rng, payload, col.mech.payload_bytes) != 0;
            crypto_generichash_update(&st, payload, col.mech.payload_bytes);
        }
        uint8_t d[16];
        crypto_generichash_final(&st, d, sizeof d);
        char hex[33];
        sodium_bin2hex(hex, sizeof hex, d, sizeof d);
        /* Reports must be identical. The threshold is printed apart ("info:"): common/pgr.c
         * computes it in long double, which is 80-bit on x86 and 128-bit on s390x, so it may
         * differ in the last bits between platforms (tests/portability.sh reports it). */
        printf("k=%llu q=%u t=%u bits=%u digest=%s\n", (unsigned long long)cases[i].k,
               col.mech.u.pgr.q, col.mech.u.pgr.t, col.mech.payload_bits, hex);
        printf("info: k=%llu threshold=%016llx\n", (unsigned long long)cases[i].k,
               (unsigned long long)col.mech.u.pgr.threshold);
        pinhole_collection_clear(&col);
    }
    return bad;
}
