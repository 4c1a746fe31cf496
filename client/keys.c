/* Bytes and keys for apps: hex as the server sends keys, and the device secret of memoized
 * reports, so that an app needs no direct libsodium calls. */
#include "common/error.h"

#include <sodium.h>
#include <string.h>

int pinhole_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *written)
{
    if (!hex)
        return PINHOLE_EINVAL;
    const size_t len = strlen(hex);
    if (len % 2 != 0)
        return PINHOLE_EFORMAT;
    for (size_t i = 0; i < len; i++) /* sodium_hex2bin stops at a non-digit without an error */
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f') ||
              (hex[i] >= 'A' && hex[i] <= 'F')))
            return PINHOLE_EFORMAT;
    if (len / 2 > cap)
        return PINHOLE_EBUFSIZE;
    size_t n = 0;
    if (sodium_hex2bin(out, cap, hex, len, NULL, &n, NULL) != 0 || n != len / 2)
        return PINHOLE_EFORMAT;
    if (written)
        *written = n;
    return PINHOLE_OK;
}

int pinhole_hex_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
    if (len > (SIZE_MAX - 1) / 2)
        return PINHOLE_EOVERFLOW;
    if (cap < 2 * len + 1)
        return PINHOLE_EBUFSIZE;
    sodium_bin2hex(out, cap, in, len);
    return PINHOLE_OK;
}

void pinhole_device_secret_generate(uint8_t *out)
{
    randombytes_buf(out, PINHOLE_DEVICE_SECRETBYTES);
}
