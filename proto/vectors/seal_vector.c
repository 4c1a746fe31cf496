/* Makes the sealed-report test vector: crypto_box_seal of an encoded report (hex, argv[1]) to the
 * key pair of crypto_box_seed_keypair(0x20, 0x21, ..., 0x3f); prints the public key and the sealed
 * bytes in hex. A seal draws an ephemeral key, so the output differs on every run; paste it into
 * SEALED in gen_vectors.py when report.pgr-k1024 changes. Build and run by hand:
 *   cc proto/vectors/seal_vector.c -o /tmp/seal_vector -lsodium && /tmp/seal_vector HEX */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 2 || sodium_init() < 0) {
        fprintf(stderr, "usage: seal_vector REPORT_HEX\n");
        return 2;
    }
    uint8_t seed[crypto_box_SEEDBYTES], pk[crypto_box_PUBLICKEYBYTES],
        sk[crypto_box_SECRETKEYBYTES];
    for (size_t i = 0; i < sizeof seed; i++)
        seed[i] = (uint8_t)(0x20 + i);
    crypto_box_seed_keypair(pk, sk, seed);
    const size_t hexlen = strlen(argv[1]);
    uint8_t *m = malloc(hexlen / 2 + 1), *c = malloc(hexlen / 2 + crypto_box_SEALBYTES + 1);
    size_t mlen = 0;
    if (!m || !c || sodium_hex2bin(m, hexlen / 2 + 1, argv[1], hexlen, NULL, &mlen, NULL) != 0 ||
        mlen * 2 != hexlen || crypto_box_seal(c, m, mlen, pk) != 0) {
        fprintf(stderr, "seal_vector: bad hex or out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof pk; i++)
        printf("%02x", pk[i]);
    printf("\n");
    for (size_t i = 0; i < mlen + crypto_box_SEALBYTES; i++)
        printf("%02x", c[i]);
    printf("\n");
    free(m);
    free(c);
    return 0;
}
