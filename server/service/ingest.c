/* Batch body -> checked reports for the store, through the proto/ decoders. */
#include "server/service/ingest.h"
#include "common/clock.h"
#include "common/error.h"
#include "proto/batch.h"
#include "proto/report.h"
#include "proto/seal.h"

#include <stdlib.h>
#include <string.h>

/* Decode and check one encoded report into out (REJECTED with its error, or PENDING). */
static void take_report(const pinhole_server_collection *c, const uint8_t *in, size_t len,
                        int64_t now, pinhole_ingest_report *out)
{
    pinhole_report rep;
    out->coll = c;
    out->status = PINHOLE_REPORT_REJECTED;
    int rc = pinhole_report_decode(in, len, &rep);
    if (rc == PINHOLE_OK)
        rc = pinhole_report_check(&rep, (uint64_t)c->id, c->fingerprint,
                                  (uint8_t)c->params.mechanism, c->cfg.payload_bits);
    /* the bucket's start in seconds, time * time_precision, must fit in int64 */
    if (rc == PINHOLE_OK &&
        (rep.time >= (UINT64_C(1) << 62) || rep.time > (uint64_t)INT64_MAX / c->time_precision))
        rc = PINHOLE_ERANGE;
    if (rc == PINHOLE_OK) /* too old or ahead of our clock: refused, its id never stored */
        rc = pinhole_collection_window_check(c, rep.time, now);
    out->error = rc;
    if (rc != PINHOLE_OK)
        return;
    memcpy(out->id, rep.report_id, PINHOLE_REPORT_ID_BYTES);
    out->bucket = (int64_t)rep.time;
    out->payload = rep.payload;
    out->payload_len = rep.payload_len;
    out->status = PINHOLE_REPORT_PENDING;
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

int pinhole_ingest_decode(const pinhole_server_collection *c, const pinhole_server_keys *keys,
                          const uint8_t *body, size_t len, size_t max_reports,
                          pinhole_ingest_report **r, size_t *n, uint8_t **arena)
{
    *r = NULL;
    *n = 0;
    *arena = NULL;
    pinhole_batch_reader br;
    size_t framed = 0;
    int rc = pinhole_batch_reader_init_prefix(&br, body, len, &framed);
    if (rc != PINHOLE_OK)
        return rc;
    if (framed != len) /* bytes after the last item: broken framing, not a batch too large */
        return PINHOLE_EFORMAT;
    const uint32_t count = pinhole_batch_reader_count(&br);
    if (count == 0)
        return PINHOLE_EFORMAT;
    if (count > max_reports)
        return PINHOLE_ETOOBIG;
    const int sealed = br.kind == PINHOLE_BATCH_SEALED;
    const int64_t now = (int64_t)pinhole_clock_wall();
    pinhole_ingest_report *out = calloc(count, sizeof *out);
    /* Opened reports are shorter than their seals, so the body's size bounds the arena. */
    uint8_t *plain = sealed ? malloc(len) : NULL;
    if (!out || (sealed && !plain)) {
        free(out);
        free(plain);
        return PINHOLE_ENOMEM;
    }
    size_t used = 0, nbuckets = 0;
    int64_t buckets[PINHOLE_BATCH_MAX_BUCKETS];
    const uint8_t *item;
    size_t item_len;
    for (uint32_t i = 0; pinhole_batch_reader_next(&br, &item, &item_len); i++) {
        if (!sealed) {
            take_report(c, item, item_len, now, &out[i]);
            continue;
        }
        size_t w = 0;
        rc = open_sealed(keys, item, item_len, plain + used, len - used, &w);
        if (rc != PINHOLE_OK) {
            out[i].coll = c;
            out[i].status = PINHOLE_REPORT_REJECTED;
            out[i].error = rc;
            continue;
        }
        take_report(c, plain + used, w, now, &out[i]);
        used += w;
    }
    /* At most PINHOLE_BATCH_MAX_BUCKETS distinct times per batch: each one costs the writer a
     * count-vector delta, so a batch of reports with all different times would be a cheap way to
     * make it work hard. Reports from a device's batch share a few time units in practice. */
    for (uint32_t i = 0; i < count; i++) {
        if (out[i].status != PINHOLE_REPORT_PENDING)
            continue;
        size_t j = 0;
        while (j < nbuckets && buckets[j] != out[i].bucket)
            j++;
        if (j == nbuckets && nbuckets < PINHOLE_BATCH_MAX_BUCKETS)
            buckets[nbuckets++] = out[i].bucket;
        else if (j == nbuckets) {
            out[i].status = PINHOLE_REPORT_REJECTED;
            out[i].error = PINHOLE_ERANGE;
        }
    }
    *r = out;
    *n = count;
    *arena = plain;
    return PINHOLE_OK;
}
