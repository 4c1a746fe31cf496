/* Report encoding and decoding (docs/protocol.md §2). */
#include "proto/report.h"
#include "common/bytes.h"
#include "common/error.h"

#include <sodium.h>
#include <string.h>

size_t pinhole_report_headerbytes(void)
{
    return PINHOLE_REPORT_HEADERBYTES;
}

size_t pinhole_report_maxbytes(void)
{
    return PINHOLE_REPORT_MAXBYTES;
}

size_t pinhole_report_bytes(size_t payload_len)
{
    return PINHOLE_REPORT_HEADERBYTES + payload_len;
}

int pinhole_report_encode(const pinhole_report *r, uint8_t *out, size_t cap, size_t *written)
{
    if (r->version != PINHOLE_REPORT_VERSION)
        return PINHOLE_EVERSION;
    if (r->mechanism == 0 || r->payload == NULL || r->payload_len == 0)
        return PINHOLE_EINVAL;
    if (r->payload_len > PINHOLE_PAYLOAD_MAXBYTES)
        return PINHOLE_ETOOBIG;
    const size_t n = PINHOLE_REPORT_HEADERBYTES + (size_t)r->payload_len;
    if (cap < n)
        return PINHOLE_EBUFSIZE;
    out[0] = r->version;
    out[1] = r->mechanism;
    out[2] = out[3] = 0;
    pinhole_store_le(out + 4, r->payload_len, 4);
    pinhole_store_le(out + 8, r->collection_id, 8);
    memcpy(out + 16, r->fingerprint, PINHOLE_FINGERPRINT_BYTES);
    memcpy(out + 32, r->report_id, PINHOLE_REPORT_IDBYTES);
    pinhole_store_le(out + 48, r->time, 8);
    memmove(out + PINHOLE_REPORT_HEADERBYTES, r->payload, r->payload_len);
    *written = n;
    return PINHOLE_OK;
}

int pinhole_report_decode(const uint8_t *in, size_t len, pinhole_report *r)
{
    memset(r, 0, sizeof *r);
    if (len == 0)
        return PINHOLE_ETRUNCATED;
    if (in[0] != PINHOLE_REPORT_VERSION)
        return PINHOLE_EVERSION;
    if (len < PINHOLE_REPORT_HEADERBYTES)
        return PINHOLE_ETRUNCATED;
    const uint64_t plen = pinhole_load_le(in + 4, 4);
    if (in[1] == 0 || in[2] != 0 || in[3] != 0 || plen == 0)
        return PINHOLE_EFORMAT;
    if (plen > PINHOLE_PAYLOAD_MAXBYTES)
        return PINHOLE_ETOOBIG;
    const size_t body = len - PINHOLE_REPORT_HEADERBYTES;
    if (body < plen)
        return PINHOLE_ETRUNCATED;
    if (body > plen)
        return PINHOLE_ETOOBIG;
    r->version = in[0];
    r->mechanism = in[1];
    r->payload_len = (uint32_t)plen;
    r->collection_id = pinhole_load_le(in + 8, 8);
    memcpy(r->fingerprint, in + 16, PINHOLE_FINGERPRINT_BYTES);
    memcpy(r->report_id, in + 32, PINHOLE_REPORT_IDBYTES);
    r->time = pinhole_load_le(in + 48, 8);
    r->payload = in + PINHOLE_REPORT_HEADERBYTES;
    return PINHOLE_OK;
}

int pinhole_report_check(const pinhole_report *r, uint64_t collection_id,
                         const uint8_t fingerprint[PINHOLE_FINGERPRINT_BYTES], uint8_t mechanism,
                         uint32_t payload_bits)
{
    if (r->collection_id != collection_id || r->mechanism != mechanism ||
        sodium_memcmp(r->fingerprint, fingerprint, PINHOLE_FINGERPRINT_BYTES) != 0)
        return PINHOLE_EMISMATCH;
    const uint64_t nbytes = ((uint64_t)payload_bits + 7) / 8;
    if (r->payload_len != nbytes || r->payload == NULL)
        return PINHOLE_EFORMAT;
    const uint32_t used = payload_bits % 8; /* bits used in the last byte; 0 = all 8 */
    if (used != 0 && (r->payload[nbytes - 1] >> used) != 0)
        return PINHOLE_EFORMAT;
    return PINHOLE_OK;
}
