/* Sealing encoded reports to the server's X25519 key (crypto_box_seal) and opening them. */
#include "proto/seal.h"
#include "common/error.h"

#include <sodium.h>

_Static_assert(PINHOLE_SEALBYTES == crypto_box_SEALBYTES, "seal overhead");
_Static_assert(PINHOLE_SEAL_PUBLICKEYBYTES == crypto_box_PUBLICKEYBYTES, "X25519 public key");
_Static_assert(PINHOLE_SEAL_SECRETKEYBYTES == crypto_box_SECRETKEYBYTES, "X25519 secret key");

size_t pinhole_sealbytes(void)
{
    return PINHOLE_SEALBYTES;
}
size_t pinhole_seal_publickeybytes(void)
{
    return PINHOLE_SEAL_PUBLICKEYBYTES;
}

size_t pinhole_sealed_maxbytes(void)
{
    return PINHOLE_SEALED_MAXBYTES;
}

void pinhole_seal_keypair(uint8_t pk[PINHOLE_SEAL_PUBLICKEYBYTES],
                          uint8_t sk[PINHOLE_SEAL_SECRETKEYBYTES])
{
    crypto_box_keypair(pk, sk);
}

int pinhole_report_seal(const uint8_t *in, size_t len,
                        const uint8_t pk[PINHOLE_SEAL_PUBLICKEYBYTES], uint8_t *out, size_t cap,
                        size_t *written)
{
    if (len == 0)
        return PINHOLE_EINVAL;
    if (len > PINHOLE_REPORT_MAXBYTES)
        return PINHOLE_ETOOBIG;
    if (cap < len + PINHOLE_SEALBYTES)
        return PINHOLE_EBUFSIZE;
    if (crypto_box_seal(out, in, len, pk) != 0)
        return PINHOLE_ESIGNATURE;
    *written = len + PINHOLE_SEALBYTES;
    return PINHOLE_OK;
}

int pinhole_report_open(const uint8_t *in, size_t len,
                        const uint8_t pk[PINHOLE_SEAL_PUBLICKEYBYTES],
                        const uint8_t sk[PINHOLE_SEAL_SECRETKEYBYTES], uint8_t *out, size_t cap,
                        size_t *written)
{
    if (len <= PINHOLE_SEALBYTES)
        return PINHOLE_ETRUNCATED;
    if (len > PINHOLE_SEALED_MAXBYTES)
        return PINHOLE_ETOOBIG;
    if (cap < len - PINHOLE_SEALBYTES)
        return PINHOLE_EBUFSIZE;
    if (crypto_box_seal_open(out, in, len, pk, sk) != 0)
        return PINHOLE_ESIGNATURE;
    *written = len - PINHOLE_SEALBYTES;
    return PINHOLE_OK;
}
