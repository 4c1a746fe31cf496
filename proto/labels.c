/* Label lists: canonical form, framing check and hash. */
#include "proto/labels.h"
#include "common/bytes.h"
#include "common/error.h"

#include <sodium.h>
#include <string.h>

static const char HASH_CONTEXT[] = "pinhole-labels-v1"; /* 17 bytes, without the NUL */

size_t pinhole_labels_encoded_bytes(const char *const *labels, uint64_t k)
{
    size_t n = 8;
    for (uint64_t i = 0; i < k; i++) {
        const size_t l = strlen(labels[i]);
        if (l == 0 || l > PINHOLE_LABEL_MAXBYTES || n > SIZE_MAX - 4 - l)
            return 0;
        n += 4 + l;
    }
    return n;
}

int pinhole_labels_encode(const char *const *labels, uint64_t k, uint8_t *out, size_t cap,
                          size_t *written)
{
    const size_t n = k ? pinhole_labels_encoded_bytes(labels, k) : 0;
    if (n == 0)
        return PINHOLE_EINVAL;
    if (cap < n)
        return PINHOLE_EBUFSIZE;
    pinhole_store_le(out, k, 8);
    size_t pos = 8;
    for (uint64_t i = 0; i < k; i++) {
        const size_t l = strlen(labels[i]);
        pinhole_store_le(out + pos, l, 4);
        memcpy(out + pos + 4, labels[i], l);
        pos += 4 + l;
    }
    *written = n;
    return PINHOLE_OK;
}

void pinhole_labels_hash(const uint8_t *in, size_t len, uint8_t out[PINHOLE_LABELS_HASHBYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, PINHOLE_LABELS_HASHBYTES);
    crypto_generichash_update(&st, (const uint8_t *)HASH_CONTEXT, sizeof HASH_CONTEXT - 1);
    crypto_generichash_update(&st, in, len);
    crypto_generichash_final(&st, out, PINHOLE_LABELS_HASHBYTES);
}

int pinhole_labels_check(const uint8_t *in, size_t len, uint64_t *k)
{
    if (len < 8)
        return PINHOLE_ETRUNCATED;
    const uint64_t n = pinhole_load_le(in, 8);
    if (n == 0)
        return PINHOLE_EFORMAT;
    size_t pos = 8;
    for (uint64_t i = 0; i < n; i++) {
        if (len - pos < 4)
            return PINHOLE_ETRUNCATED;
        const size_t l = (size_t)pinhole_load_le(in + pos, 4);
        if (l == 0 || l > PINHOLE_LABEL_MAXBYTES)
            return PINHOLE_EFORMAT;
        if (len - pos - 4 < l)
            return PINHOLE_ETRUNCATED;
        pos += 4 + l;
    }
    if (pos != len)
        return PINHOLE_ETOOBIG;
    *k = n;
    return PINHOLE_OK;
}

void pinhole_labels_next(const uint8_t *in, size_t *pos, const uint8_t **label, size_t *label_len)
{
    *label_len = (size_t)pinhole_load_le(in + *pos, 4);
    *label = in + *pos + 4;
    *pos += 4 + *label_len;
}
