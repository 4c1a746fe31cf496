/* Batch body -> checked reports for the store, through the proto/ decoders, decoded as the body
 * streams in: only a compact record per report and one incomplete report are held. */
#include "server/service/ingest.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "common/error.h"
#include "proto/batch.h"
#include "proto/report.h"
#include "proto/seal.h"

#include <stdlib.h>
#include <string.h>

/* A report's record: its outcome (0 pending, else minus its error), the index of its time among
 * the batch's buckets, its id, then its payload (payload_bytes). */
enum { REC_ERROR = 0, REC_BUCKET = 1, REC_ID = 2, REC_PAYLOAD = 2 + PINHOLE_REPORT_ID_BYTES };

/* Where the stream is: in the batch header, an item's length, an item, an item skipped, done. */
enum { AT_HEADER, AT_LENGTH, AT_ITEM, AT_SKIP, AT_END };

struct pinhole_ingest_stream {
    const pinhole_server_collection *c;
    const pinhole_server_keys *keys;
    size_t max_reports;
    int64_t now;
    int at, error, sealed;
    uint32_t count, next; /* items declared; items complete */
    size_t maxitem;       /* the batch kind's item limit */
    size_t fit;           /* the longest item a report of this collection can be */
    size_t want, have;    /* bytes of the current unit (header, length, item) and those gathered */
    uint8_t unit[PINHOLE_BATCH_HEADERBYTES];
    uint8_t *item;  /* an item arriving in pieces (fit bytes) */
    uint8_t *plain; /* a sealed item opened (fit bytes; sealed batches only) */
    uint8_t *rec;   /* records, stride bytes each, cap of them allocated */
    size_t stride, cap;
    int64_t buckets[PINHOLE_BATCH_MAX_BUCKETS];
    size_t nbuckets;
};

int pinhole_ingest_stream_new(pinhole_ingest_stream **out, const pinhole_server_collection *c,
                              const pinhole_server_keys *keys, size_t max_reports)
{
    pinhole_ingest_stream *st = calloc(1, sizeof *st);
    *out = st;
    if (!st)
        return PINHOLE_ENOMEM;
    st->c = c;
    st->keys = keys;
    st->max_reports = max_reports;
    st->now = (int64_t)pinhole_clock_wall();
    st->want = PINHOLE_BATCH_HEADERBYTES;
    st->stride = REC_PAYLOAD + c->cfg.payload_bytes;
    return PINHOLE_OK;
}

void pinhole_ingest_stream_free(pinhole_ingest_stream *st)
{
    if (!st)
        return;
    free(st->item);
    free(st->plain);
    free(st->rec);
    free(st);
}

size_t pinhole_ingest_stream_held(const pinhole_ingest_stream *st)
{
    return st->cap * st->stride + (st->item ? st->fit : 0) + (st->plain ? st->fit : 0);
}

/* The record of the next report, the array grown as needed; NULL when out of memory. */
static uint8_t *next_record(pinhole_ingest_stream *st)
{
    if (st->next == st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 64;
        if (cap > st->count)
            cap = st->count;
        uint8_t *r = realloc(st->rec, cap * st->stride);
        if (!r)
            return NULL;
        st->rec = r;
        st->cap = cap;
    }
    uint8_t *r = st->rec + (size_t)st->next * st->stride;
    memset(r, 0, REC_PAYLOAD);
    return r;
}

/* Decode and check one encoded report (the time limit per batch included) into its record. */
static int take_report(pinhole_ingest_stream *st, const uint8_t *in, size_t len, uint8_t *r)
{
    const pinhole_server_collection *c = st->c;
    pinhole_report rep;
    int rc = pinhole_report_decode(in, len, &rep);
    if (rc == PINHOLE_OK)
        rc = pinhole_report_check(&rep, (uint64_t)c->id, c->fingerprint,
                                  (uint8_t)c->params.mechanism, c->cfg.payload_bits);
    /* the bucket's start in seconds, time * time_precision, must fit in int64 */
    if (rc == PINHOLE_OK &&
        (rep.time >= (UINT64_C(1) << 62) || rep.time > (uint64_t)INT64_MAX / c->time_precision))
        rc = PINHOLE_ERANGE;
    if (rc == PINHOLE_OK) /* too old or ahead of our clock: refused, its id never stored */
        rc = pinhole_collection_window_check(c, rep.time, st->now);
    /* At most PINHOLE_BATCH_MAX_BUCKETS distinct times per batch: each one costs the writer a
     * count-vector delta, so a batch of reports with all different times would be a cheap way to
     * make it work hard. Reports from a device's batch share a few time units in practice. */
    size_t j = 0;
    while (rc == PINHOLE_OK && j < st->nbuckets && st->buckets[j] != (int64_t)rep.time)
        j++;
    if (rc == PINHOLE_OK && j == st->nbuckets) {
        if (st->nbuckets == PINHOLE_BATCH_MAX_BUCKETS)
            rc = PINHOLE_ERANGE;
        else
            st->buckets[st->nbuckets++] = (int64_t)rep.time;
    }
    if (rc != PINHOLE_OK)
        return rc;
    r[REC_BUCKET] = (uint8_t)j;
    memcpy(r + REC_ID, rep.report_id, PINHOLE_REPORT_ID_BYTES);
    memcpy(r + REC_PAYLOAD, rep.payload, rep.payload_len);
    return PINHOLE_OK;
}

/* Open a sealed report with the current sealing key, else with the other live ones (previous,
 * next: a rotation's overlap). A sealed report carries no key id, so the keys are tried in turn:
 * at most three opens, and one for every report sealed to the current key. ESIGNATURE when none
 * opens it (a retired key, altered bytes). */
static int open_sealed(const pinhole_server_keys *keys, const uint8_t *in, size_t len, uint8_t *out,
                       size_t cap, size_t *written)
{
    int rc = pinhole_report_open(in, len, keys->seal_pk, keys->seal_sk, out, cap, written);
    for (int i = 0; rc == PINHOLE_ESIGNATURE && i < keys->seal_others; i++)
        rc = pinhole_report_open(in, len, keys->seal_other_pk[i], keys->seal_other_sk[i], out, cap,
                                 written);
    return rc;
}

/* One complete item (len bytes, at most fit): its record. */
static int take_item(pinhole_ingest_stream *st, const uint8_t *in, size_t len)
{
    uint8_t *r = next_record(st);
    if (!r)
        return PINHOLE_ENOMEM;
    int rc = PINHOLE_OK;
    if (st->sealed) {
        size_t w = 0;
        rc = open_sealed(st->keys, in, len, st->plain, st->fit, &w);
        in = st->plain;
        len = w;
    }
    if (rc == PINHOLE_OK)
        rc = take_report(st, in, len, r);
    r[REC_ERROR] = (uint8_t)-rc;
    st->next++;
    return PINHOLE_OK;
}

/* The batch header is complete: check it as the framing reader does (proto/batch.h). */
static int take_header(pinhole_ingest_stream *st)
{
    const uint8_t *h = st->unit;
    st->maxitem = pinhole_batch_item_maxbytes((pinhole_batch_kind)h[1]);
    if (st->maxitem == 0 || h[2] != 0 || h[3] != 0)
        return PINHOLE_EFORMAT;
    const uint64_t count = pinhole_load_le(h + 4, 4);
    if (count > PINHOLE_BATCH_MAXCOUNT)
        return PINHOLE_ETOOBIG;
    if (count == 0)
        return PINHOLE_EFORMAT;
    if (count > st->max_reports)
        return PINHOLE_ETOOBIG;
    st->count = (uint32_t)count;
    st->sealed = h[1] == PINHOLE_BATCH_SEALED;
    st->fit = PINHOLE_REPORT_HEADERBYTES + st->c->cfg.payload_bytes +
              (st->sealed ? PINHOLE_SEALBYTES : 0);
    if (!(st->item = malloc(st->fit)) || (st->sealed && !(st->plain = malloc(st->fit))))
        return PINHOLE_ENOMEM;
    return PINHOLE_OK;
}

/* An item's length is complete: gather the item, or skip one no report of this collection fits. */
static int take_length(pinhole_ingest_stream *st)
{
    const uint64_t l = pinhole_load_le(st->unit, 4);
    if (l == 0)
        return PINHOLE_EFORMAT;
    if (l > st->maxitem)
        return PINHOLE_ETOOBIG;
    st->want = (size_t)l;
    st->have = 0;
    if (l <= st->fit) {
        st->at = AT_ITEM;
        return PINHOLE_OK;
    }
    uint8_t *r = next_record(st); /* refused unread: no report of this collection is this long */
    if (!r)
        return PINHOLE_ENOMEM;
    r[REC_ERROR] = (uint8_t)-PINHOLE_ETOOBIG;
    st->next++;
    st->at = AT_SKIP;
    return PINHOLE_OK;
}

/* After an item: the next length, or the end of the batch. */
static void after_item(pinhole_ingest_stream *st)
{
    st->at = st->next == st->count ? AT_END : AT_LENGTH;
    st->want = PINHOLE_BATCH_ITEMHEADERBYTES;
    st->have = 0;
}

int pinhole_ingest_stream_feed(pinhole_ingest_stream *st, const uint8_t *data, size_t len)
{
    while (len && st->error == PINHOLE_OK) {
        if (st->at == AT_END) { /* bytes after the last item: broken framing */
            st->error = PINHOLE_EFORMAT;
            break;
        }
        if (st->at == AT_ITEM && st->have == 0 && len >= st->want) { /* whole: no copy */
            st->error = take_item(st, data, st->want);
            data += st->want;
            len -= st->want;
            after_item(st);
            continue;
        }
        size_t m = st->want - st->have < len ? st->want - st->have : len;
        if (st->at == AT_HEADER && st->have == 0 && data[0] != PINHOLE_BATCH_VERSION) {
            st->error = PINHOLE_EVERSION; /* known at the first byte */
            break;
        }
        if (st->at == AT_ITEM) {
            memcpy(st->item + st->have, data, m);
        } else if (st->at != AT_SKIP) {
            memcpy(st->unit + st->have, data, m);
        }
        st->have += m;
        data += m;
        len -= m;
        if (st->have < st->want)
            break;
        switch (st->at) {
        case AT_HEADER:
            st->error = take_header(st);
            if (st->error == PINHOLE_OK)
                after_item(st);
            break;
        case AT_LENGTH:
            st->error = take_length(st);
            break;
        case AT_ITEM:
            st->error = take_item(st, st->item, st->want);
            after_item(st);
            break;
        default: /* AT_SKIP */
            after_item(st);
        }
    }
    return st->error;
}

int pinhole_ingest_stream_finish(pinhole_ingest_stream *st, pinhole_ingest_report **r, size_t *n,
                                 uint8_t **arena)
{
    *r = NULL;
    *n = 0;
    *arena = NULL;
    if (st->error != PINHOLE_OK)
        return st->error;
    if (st->at != AT_END)
        return PINHOLE_ETRUNCATED;
    pinhole_ingest_report *out = calloc(st->count, sizeof *out);
    if (!out)
        return PINHOLE_ENOMEM;
    const uint32_t pb = st->c->cfg.payload_bytes;
    for (uint32_t i = 0; i < st->count; i++) {
        const uint8_t *rec = st->rec + (size_t)i * st->stride;
        pinhole_ingest_report *o = &out[i];
        o->coll = st->c;
        o->error = -(int)rec[REC_ERROR];
        if (o->error != PINHOLE_OK) {
            o->status = PINHOLE_REPORT_REJECTED;
            continue;
        }
        o->status = PINHOLE_REPORT_PENDING;
        memcpy(o->id, rec + REC_ID, PINHOLE_REPORT_ID_BYTES);
        o->bucket = st->buckets[rec[REC_BUCKET]];
        o->payload = rec + REC_PAYLOAD;
        o->payload_len = pb;
    }
    *r = out;
    *n = st->count;
    *arena = st->rec;
    st->rec = NULL;
    st->cap = 0;
    return PINHOLE_OK;
}

int pinhole_ingest_decode(const pinhole_server_collection *c, const pinhole_server_keys *keys,
                          const uint8_t *body, size_t len, size_t max_reports,
                          pinhole_ingest_report **r, size_t *n, uint8_t **arena)
{
    *r = NULL;
    *n = 0;
    *arena = NULL;
    pinhole_ingest_stream *st;
    int rc = pinhole_ingest_stream_new(&st, c, keys, max_reports);
    if (rc == PINHOLE_OK)
        rc = pinhole_ingest_stream_feed(st, body, len);
    if (rc == PINHOLE_OK)
        rc = pinhole_ingest_stream_finish(st, r, n, arena);
    pinhole_ingest_stream_free(st);
    return rc;
}
