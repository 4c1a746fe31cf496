/* Test support: hand-built reports and batches. */
#include "tests/support/reports.h"
#include "common/error.h"
#include "proto/batch.h"
#include "proto/seal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void test_ingest_report(pinhole_ingest_report *r, const pinhole_server_collection *c,
                        uint8_t idbyte, int64_t bucket, const uint8_t *payload)
{
    memset(r, 0, sizeof *r);
    r->coll = c;
    memset(r->id, idbyte, sizeof r->id);
    r->bucket = bucket;
    r->payload = payload;
    r->payload_len = c->cfg.payload_bytes;
}

pinhole_report test_wire_report(const pinhole_server_collection *c, uint8_t idbyte, uint64_t time,
                                const uint8_t *payload)
{
    pinhole_report r = {.version = PINHOLE_REPORT_VERSION,
                        .mechanism = (uint8_t)c->params.mechanism,
                        .collection_id = (uint64_t)c->id,
                        .time = time,
                        .payload = payload,
                        .payload_len = c->cfg.payload_bytes};
    memcpy(r.fingerprint, c->fingerprint, sizeof r.fingerprint);
    memset(r.report_id, idbyte, sizeof r.report_id);
    return r;
}

static void check(int rc, const char *what)
{
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "test_batch: %s: %s\n", what, pinhole_strerror(rc));
        abort();
    }
}

uint8_t *test_batch(const pinhole_report *r, size_t n, const uint8_t *seal_pk, size_t *len)
{
    const size_t item = PINHOLE_REPORT_MAXBYTES + PINHOLE_SEALBYTES;
    const size_t cap = pinhole_batch_bytes(n, item);
    uint8_t *out = malloc(cap), rep[PINHOLE_REPORT_MAXBYTES],
            sealed[PINHOLE_REPORT_MAXBYTES + PINHOLE_SEALBYTES];
    if (!out)
        abort();
    pinhole_batch_writer w;
    check(pinhole_batch_writer_init(&w, seal_pk ? PINHOLE_BATCH_SEALED : PINHOLE_BATCH_PLAIN, out,
                                    cap),
          "writer");
    for (size_t i = 0; i < n; i++) {
        size_t rl, sl;
        check(pinhole_report_encode(&r[i], rep, sizeof rep, &rl), "encode");
        if (seal_pk) {
            check(pinhole_report_seal(rep, rl, seal_pk, sealed, sizeof sealed, &sl), "seal");
            check(pinhole_batch_writer_add(&w, sealed, sl), "add");
        } else {
            check(pinhole_batch_writer_add(&w, rep, rl), "add");
        }
    }
    pinhole_batch_writer_finish(&w, len);
    return out;
}
