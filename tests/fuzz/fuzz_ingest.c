/* libFuzzer harness: report batch bodies (plain and sealed) as POST .../reports receives them,
 * decoded for a PGR collection and, when decodable, stored in an in-memory database. Inputs whose
 * first byte is odd are raw bodies; the others describe a well-formed batch (report ids, times and
 * payloads from the input, the right fingerprint) with one byte then overwritten, so the fuzzer
 * reaches the checks behind the framing and the store. */
#include "common/error.h"
#include "common/bytes.h"
#include "proto/batch.h"
#include "proto/report.h"
#include "proto/seal.h"
#include "server/service/ingest.h"
#include "server/store/store.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static pinhole_server_collection coll;
static pinhole_server_keys keys;
static pinhole_store *store;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (sodium_init() < 0)
            abort();
        pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 300, .epsilon = 2};
        if (pinhole_store_open(&store, ":memory:", NULL) != PINHOLE_OK ||
            pinhole_store_create_collection(store, &coll, "fuzz", &p, 60, 0, NULL) != PINHOLE_OK)
            abort();
        /* fixed keys, so that a corpus of sealed reports stays valid across runs */
        memset(keys.seal_sk, 7, sizeof keys.seal_sk);
        crypto_scalarmult_base(keys.seal_pk, keys.seal_sk);
        ready = 1;
    }
    uint8_t *built = NULL;
    if (size >= 4 && !(data[0] & 1)) {
        /* byte 1: report count (1..16); bytes 2, 3: position and value of the overwrite; then
         * per report 16 id bytes, 8 time bytes, 3 payload bytes (PGR k = 300: K < 2^24) */
        const size_t count = 1 + data[1] % 16, at = data[2], rec = 16 + 8 + 3;
        const uint8_t value = data[3];
        data += 4, size -= 4;
        built = malloc(pinhole_batch_bytes(count, PINHOLE_REPORT_HEADERBYTES + 3));
        pinhole_batch_writer w;
        pinhole_batch_writer_init(&w, PINHOLE_BATCH_PLAIN, built,
                                  pinhole_batch_bytes(count, PINHOLE_REPORT_HEADERBYTES + 3));
        for (size_t i = 0; i < count; i++) {
            uint8_t src[16 + 8 + 3] = {0}, rep[PINHOLE_REPORT_HEADERBYTES + 3];
            for (size_t j = 0; j < rec && i * rec + j < size; j++)
                src[j] = data[i * rec + j];
            const uint32_t bits = coll.cfg.payload_bits; /* keep the padding bits zero */
            for (uint32_t j = 0; j < coll.cfg.payload_bytes; j++)
                if (8 * (j + 1) > bits)
                    src[24 + j] &= (uint8_t)((1u << (bits > 8 * j ? bits - 8 * j : 0)) - 1);
            pinhole_report r = {.version = 1,
                                .mechanism = PINHOLE_MECH_PGR,
                                .collection_id = (uint64_t)coll.id,
                                .payload = src + 24,
                                .payload_len = coll.cfg.payload_bytes,
                                .time = pinhole_load_le(src + 16, 8) >> 1};
            memcpy(r.fingerprint, coll.fingerprint, sizeof r.fingerprint);
            memcpy(r.report_id, src, 16);
            size_t len;
            if (pinhole_report_encode(&r, rep, sizeof rep, &len) != PINHOLE_OK ||
                pinhole_batch_writer_add(&w, rep, len) != PINHOLE_OK)
                abort();
        }
        pinhole_batch_writer_finish(&w, &size);
        if (at < size)
            built[at] = value;
        data = built;
    }
    pinhole_ingest_report *r;
    size_t n;
    uint8_t *arena;
    const int rc = pinhole_ingest_decode(&coll, &keys, data, size, 1000, &r, &n, &arena);
    if (rc == PINHOLE_OK) {
        for (size_t i = 0; i < n; i++)
            if (r[i].status != PINHOLE_REPORT_PENDING && r[i].status != PINHOLE_REPORT_REJECTED)
                abort();
        if (pinhole_store_ingest(store, r, n) != PINHOLE_OK)
            abort();
    } else if (r || n || arena) {
        abort(); /* nothing may be handed out with a batch error */
    }
    /* the same bytes streamed in pieces of a size the input picks decode the same */
    const size_t piece = size ? 1 + data[size - 1] % 97 : 1;
    pinhole_ingest_stream *st;
    if (pinhole_ingest_stream_new(&st, &coll, &keys, 1000) != PINHOLE_OK)
        abort();
    int src = PINHOLE_OK;
    for (size_t at = 0; at < size && src == PINHOLE_OK; at += piece)
        src = pinhole_ingest_stream_feed(st, data + at, size - at < piece ? size - at : piece);
    pinhole_ingest_report *r2 = NULL;
    size_t n2 = 0;
    uint8_t *arena2 = NULL;
    if (src == PINHOLE_OK)
        src = pinhole_ingest_stream_finish(st, &r2, &n2, &arena2);
    pinhole_ingest_stream_free(st);
    if (src != rc || n2 != n)
        abort();
    for (size_t i = 0; rc == PINHOLE_OK && i < n; i++) /* (the store set r's other statuses) */
        if ((r[i].status == PINHOLE_REPORT_REJECTED) != (r2[i].status == PINHOLE_REPORT_REJECTED) ||
            (r2[i].status == PINHOLE_REPORT_REJECTED && r2[i].error != r[i].error))
            abort();
    free(r2);
    free(arena2);
    free(r);
    free(arena);
    free(built);
    return 0;
}
