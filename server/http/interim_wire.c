/* INTERIM report/batch encoding (see interim_wire.h), to be replaced by proto/ from issue 4. */
#include "server/http/interim_wire.h"
#include "common/bytes.h"
#include "common/error.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

size_t pinhole_interim_report_bytes(const pinhole_collection *c)
{
    return PINHOLE_INTERIM_REPORT_HEADER + c->cfg.payload_bytes;
}

int pinhole_interim_report_encode(const pinhole_collection *c, const uint8_t id[16], uint64_t time,
                                  const uint8_t *payload, size_t payload_len, uint8_t *out,
                                  size_t len)
{
    if (len < pinhole_interim_report_bytes(c))
        return PINHOLE_EBUFSIZE;
    if (payload_len != c->cfg.payload_bytes)
        return PINHOLE_EFORMAT;
    uint8_t *p = out;
    *p++ = 0;
    *p++ = (uint8_t)c->params.mechanism;
    pinhole_store_le(p, (uint64_t)c->id, 8);
    p += 8;
    memcpy(p, c->fingerprint, PINHOLE_FINGERPRINT_BYTES);
    p += PINHOLE_FINGERPRINT_BYTES;
    memcpy(p, id, 16);
    p += 16;
    pinhole_store_le(p, time, 8);
    p += 8;
    memcpy(p, payload, payload_len);
    return PINHOLE_OK;
}

void pinhole_interim_batch_header(uint32_t count, uint8_t out[8])
{
    memcpy(out, "PHB0", 4);
    pinhole_store_le(out + 4, count, 4);
}

void pinhole_interim_batch_prefix(uint32_t rlen, uint8_t out[4])
{
    pinhole_store_le(out, rlen, 4);
}

/* Decode one report of rlen bytes at p into r (status REJECTED with error, or PENDING). */
static void decode_report(const pinhole_collection *c, const uint8_t *p, size_t rlen,
                          pinhole_ingest_report *r)
{
    r->coll = c;
    r->status = PINHOLE_REPORT_REJECTED;
    if (rlen < 1) {
        r->error = PINHOLE_ETRUNCATED;
        return;
    }
    if (p[0] != 0) {
        r->error = PINHOLE_EVERSION;
        return;
    }
    if (rlen < PINHOLE_INTERIM_REPORT_HEADER) {
        r->error = PINHOLE_ETRUNCATED;
        return;
    }
    if (rlen != pinhole_interim_report_bytes(c)) {
        r->error = PINHOLE_EFORMAT;
        return;
    }
    const uint8_t *fp = p + 10;
    if (p[1] != (uint8_t)c->params.mechanism || pinhole_load_le(p + 2, 8) != (uint64_t)c->id ||
        sodium_memcmp(fp, c->fingerprint, PINHOLE_FINGERPRINT_BYTES) != 0) {
        r->error = PINHOLE_EMISMATCH;
        return;
    }
    const uint8_t *q = fp + PINHOLE_FINGERPRINT_BYTES;
    memcpy(r->id, q, 16);
    const uint64_t time = pinhole_load_le(q + 16, 8);
    if (time >= (UINT64_C(1) << 62)) {
        r->error = PINHOLE_ERANGE;
        return;
    }
    r->bucket = (int64_t)time;
    r->payload = q + 24;
    r->payload_len = c->cfg.payload_bytes;
    r->status = PINHOLE_REPORT_PENDING;
    r->error = PINHOLE_OK;
}

int pinhole_interim_batch_decode(const pinhole_collection *c, const uint8_t *body, size_t len,
                                 size_t max_reports, pinhole_ingest_report **r, size_t *n)
{
    *r = NULL;
    *n = 0;
    if (len < PINHOLE_INTERIM_BATCH_HEADER)
        return len >= 4 && memcmp(body, "PHB0", 4) != 0 ? PINHOLE_EFORMAT : PINHOLE_ETRUNCATED;
    if (memcmp(body, "PHB0", 4) != 0)
        return PINHOLE_EFORMAT;
    const uint64_t count = pinhole_load_le(body + 4, 4);
    if (count == 0)
        return PINHOLE_EFORMAT;
    if (count > max_reports)
        return PINHOLE_EOVERFLOW;
    /* Every report needs at least its 4-byte prefix: a count the body cannot hold is truncation,
     * found before allocating anything. */
    if (count > (len - PINHOLE_INTERIM_BATCH_HEADER) / 4)
        return PINHOLE_ETRUNCATED;
    pinhole_ingest_report *out = calloc((size_t)count, sizeof *out);
    if (!out)
        return PINHOLE_ENOMEM;
    size_t pos = PINHOLE_INTERIM_BATCH_HEADER;
    for (uint64_t i = 0; i < count; i++) {
        if (len - pos < 4) {
            free(out);
            return PINHOLE_ETRUNCATED;
        }
        const uint64_t rlen = pinhole_load_le(body + pos, 4);
        pos += 4;
        if (rlen > len - pos) {
            free(out);
            return PINHOLE_ETRUNCATED;
        }
        decode_report(c, body + pos, (size_t)rlen, &out[i]);
        pos += (size_t)rlen;
    }
    if (pos != len) {
        free(out);
        return PINHOLE_EFORMAT;
    }
    *r = out;
    *n = (size_t)count;
    return PINHOLE_OK;
}
