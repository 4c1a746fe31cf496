/* Batch framing: a count and length-delimited items, checked whole before any item is read. */
#include "proto/batch.h"
#include "common/bytes.h"
#include "common/error.h"
#include "proto/report.h"
#include "proto/seal.h"

#include <stdint.h>
#include <string.h>

uint32_t pinhole_batch_maxcount(void)
{
    return PINHOLE_BATCH_MAXCOUNT;
}

size_t pinhole_batch_item_maxbytes(pinhole_batch_kind kind)
{
    switch (kind) {
    case PINHOLE_BATCH_PLAIN:
        return PINHOLE_REPORT_MAXBYTES;
    case PINHOLE_BATCH_SEALED:
        return PINHOLE_SEALED_MAXBYTES;
    default:
        return 0;
    }
}

size_t pinhole_batch_bytes(size_t count, size_t item_bytes)
{
    const size_t per = item_bytes + PINHOLE_BATCH_ITEMHEADERBYTES;
    if (per < item_bytes || (count != 0 && per > (SIZE_MAX - PINHOLE_BATCH_HEADERBYTES) / count))
        return 0;
    return PINHOLE_BATCH_HEADERBYTES + count * per;
}

/* The framing check of both inits; *used receives the batch's length. */
static int reader_init(pinhole_batch_reader *r, const uint8_t *in, size_t len, size_t *used)
{
    memset(r, 0, sizeof *r);
    if (len == 0)
        return PINHOLE_ETRUNCATED;
    if (in[0] != PINHOLE_BATCH_VERSION)
        return PINHOLE_EVERSION;
    if (len < PINHOLE_BATCH_HEADERBYTES)
        return PINHOLE_ETRUNCATED;
    const size_t maxitem = pinhole_batch_item_maxbytes((pinhole_batch_kind)in[1]);
    if (maxitem == 0 || in[2] != 0 || in[3] != 0)
        return PINHOLE_EFORMAT;
    const uint64_t count = pinhole_load_le(in + 4, 4);
    if (count > PINHOLE_BATCH_MAXCOUNT)
        return PINHOLE_ETOOBIG;
    size_t pos = PINHOLE_BATCH_HEADERBYTES;
    for (uint64_t i = 0; i < count; i++) {
        if (len - pos < PINHOLE_BATCH_ITEMHEADERBYTES)
            return PINHOLE_ETRUNCATED;
        const uint64_t l = pinhole_load_le(in + pos, 4);
        pos += PINHOLE_BATCH_ITEMHEADERBYTES;
        if (l == 0)
            return PINHOLE_EFORMAT;
        if (l > maxitem)
            return PINHOLE_ETOOBIG;
        if (len - pos < l)
            return PINHOLE_ETRUNCATED;
        pos += (size_t)l;
    }
    *used = pos;
    r->buf = in;
    r->len = pos;
    r->pos = PINHOLE_BATCH_HEADERBYTES;
    r->count = (uint32_t)count;
    r->kind = (pinhole_batch_kind)in[1];
    return PINHOLE_OK;
}

int pinhole_batch_reader_init(pinhole_batch_reader *r, const uint8_t *in, size_t len)
{
    size_t used = 0;
    int rc = reader_init(r, in, len, &used);
    if (rc == PINHOLE_OK && used != len) {
        memset(r, 0, sizeof *r);
        return PINHOLE_ETOOBIG;
    }
    return rc;
}

int pinhole_batch_reader_init_prefix(pinhole_batch_reader *r, const uint8_t *in, size_t len,
                                     size_t *used)
{
    *used = 0;
    return reader_init(r, in, len, used);
}

uint32_t pinhole_batch_reader_count(const pinhole_batch_reader *r)
{
    return r->count;
}

int pinhole_batch_reader_next(pinhole_batch_reader *r, const uint8_t **item, size_t *item_len)
{
    if (r->next >= r->count)
        return 0;
    const size_t l = (size_t)pinhole_load_le(r->buf + r->pos, 4);
    *item = r->buf + r->pos + PINHOLE_BATCH_ITEMHEADERBYTES;
    *item_len = l;
    r->pos += PINHOLE_BATCH_ITEMHEADERBYTES + l;
    r->next++;
    return 1;
}

int pinhole_batch_writer_init(pinhole_batch_writer *w, pinhole_batch_kind kind, uint8_t *out,
                              size_t cap)
{
    memset(w, 0, sizeof *w);
    if (pinhole_batch_item_maxbytes(kind) == 0)
        return PINHOLE_EINVAL;
    if (cap < PINHOLE_BATCH_HEADERBYTES)
        return PINHOLE_EBUFSIZE;
    w->buf = out;
    w->cap = cap;
    w->kind = kind;
    w->pos = PINHOLE_BATCH_HEADERBYTES;
    out[0] = PINHOLE_BATCH_VERSION;
    out[1] = (uint8_t)kind;
    out[2] = out[3] = 0;
    pinhole_store_le(out + 4, 0, 4);
    return PINHOLE_OK;
}

int pinhole_batch_writer_add(pinhole_batch_writer *w, const uint8_t *item, size_t item_len)
{
    if (item == NULL || item_len == 0)
        return PINHOLE_EINVAL;
    if (item_len > pinhole_batch_item_maxbytes(w->kind) || w->count >= PINHOLE_BATCH_MAXCOUNT)
        return PINHOLE_ETOOBIG;
    if (w->cap - w->pos < PINHOLE_BATCH_ITEMHEADERBYTES ||
        w->cap - w->pos - PINHOLE_BATCH_ITEMHEADERBYTES < item_len)
        return PINHOLE_EBUFSIZE;
    pinhole_store_le(w->buf + w->pos, item_len, 4);
    memcpy(w->buf + w->pos + PINHOLE_BATCH_ITEMHEADERBYTES, item, item_len);
    w->pos += PINHOLE_BATCH_ITEMHEADERBYTES + item_len;
    w->count++;
    return PINHOLE_OK;
}

void pinhole_batch_writer_finish(pinhole_batch_writer *w, size_t *written)
{
    pinhole_store_le(w->buf + 4, w->count, 4);
    *written = w->pos;
}
