/* server/service/ingest.c called directly: every documented outcome of decoding a batch body, per
 * report (REJECTED with its error, or PENDING) and for the whole batch. */
#include "common/error.h"
#include "proto/batch.h"
#include "proto/seal.h"
#include "server/service/ingest.h"
#include "tests/support/reports.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static pinhole_server_collection coll;
static pinhole_server_keys keys;

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    /* PGR, k = 40, epsilon = 2: one payload byte */
    const pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 40, .epsilon = 2};
    cr_assert_eq(pinhole_server_collection_init(&coll, 5, "t", &p, 60, 0, NULL, 0), PINHOLE_OK);
    cr_assert_eq(coll.cfg.payload_bytes, 1);
    pinhole_seal_keypair(keys.seal_pk, keys.seal_sk);
}

static void teardown(void)
{
    pinhole_server_collection_free(&coll);
}

TestSuite(ingest, .init = setup, .fini = teardown);

typedef struct decoded {
    pinhole_ingest_report *r;
    size_t n;
    uint8_t *arena;
} decoded;

static int decode(const uint8_t *body, size_t len, size_t max, decoded *d)
{
    return pinhole_ingest_decode(&coll, &keys, body, len, max, &d->r, &d->n, &d->arena);
}

static void release(decoded *d)
{
    free(d->r);
    free(d->arena);
}

static const uint8_t payload = 3;

Test(ingest, plain_and_sealed_reports_decode)
{
    pinhole_report r[2] = {test_wire_report(&coll, 1, 100, &payload),
                           test_wire_report(&coll, 2, 101, &payload)};
    for (int sealed = 0; sealed < 2; sealed++) {
        size_t len;
        uint8_t *body = test_batch(r, 2, sealed ? keys.seal_pk : NULL, &len);
        decoded d;
        cr_assert_eq(decode(body, len, 10, &d), PINHOLE_OK);
        cr_assert_eq(d.n, 2);
        for (size_t i = 0; i < 2; i++) {
            cr_assert_eq(d.r[i].status, PINHOLE_REPORT_PENDING);
            cr_assert_eq(d.r[i].coll, &coll);
            cr_assert_eq(d.r[i].bucket, 100 + (int64_t)i);
            cr_assert_eq(d.r[i].payload_len, 1);
            cr_assert_eq(d.r[i].payload[0], 3);
            cr_assert_eq(d.r[i].id[0], i + 1);
        }
        cr_assert_not_null(d.arena); /* payloads live in the records, not in the body */
        release(&d);
        free(body);
    }
}

/* A sealing-key rotation: reports sealed to the current key, the previous one (the overlap) and
 * the next one (prepared, not yet published) all open; one sealed to a key the server no longer
 * holds (retired) is rejected with ESIGNATURE, as are the previous key's once it is retired. */
Test(ingest, sealed_reports_open_with_every_live_key_and_no_retired_one)
{
    pinhole_server_keys k = keys;
    uint8_t retired_pk[32], retired_sk[32];
    pinhole_seal_keypair(k.seal_other_pk[0], k.seal_other_sk[0]); /* previous */
    pinhole_seal_keypair(k.seal_other_pk[1], k.seal_other_sk[1]); /* next */
    pinhole_seal_keypair(retired_pk, retired_sk);
    k.seal_others = 2;
    uint8_t prev_pk[32], next_pk[32];
    memcpy(prev_pk, k.seal_other_pk[0], 32);
    memcpy(next_pk, k.seal_other_pk[1], 32);
    const uint8_t *to[4] = {k.seal_pk, prev_pk, next_pk, retired_pk};
    for (int round = 0; round < 2; round++) { /* round 1: the previous key retired */
        for (int key = 0; key < 4; key++) {
            pinhole_report r = test_wire_report(&coll, (uint8_t)(10 * key + 1), 100, &payload);
            size_t len;
            uint8_t *body = test_batch(&r, 1, to[key], &len);
            decoded d;
            cr_assert_eq(pinhole_ingest_decode(&coll, &k, body, len, 10, &d.r, &d.n, &d.arena),
                         PINHOLE_OK);
            const int opens = key == 0 || (key == 1 && round == 0) || key == 2;
            cr_assert_eq(d.r[0].status, opens ? PINHOLE_REPORT_PENDING : PINHOLE_REPORT_REJECTED,
                         "round %d, key %d", round, key);
            if (opens) {
                cr_assert_eq(d.r[0].payload[0], payload);
                cr_assert_eq(d.r[0].id[0], 10 * key + 1);
            } else {
                cr_assert_eq(d.r[0].error, PINHOLE_ESIGNATURE);
            }
            release(&d);
            free(body);
        }
        /* retire the previous key: the next one moves up, as the store lists them */
        memcpy(k.seal_other_pk[0], k.seal_other_pk[1], 32);
        memcpy(k.seal_other_sk[0], k.seal_other_sk[1], 32);
        sodium_memzero(k.seal_other_sk[1], 32);
        k.seal_others = 1;
    }
    sodium_memzero(&k, sizeof k);
    sodium_memzero(retired_sk, sizeof retired_sk);
}

Test(ingest, bad_reports_are_rejected_one_by_one)
{
    pinhole_report r[6];
    r[0] = test_wire_report(&coll, 1, 100, &payload); /* fine */
    r[1] = test_wire_report(&coll, 2, 100, &payload);
    r[1].fingerprint[0] ^= 1; /* made for other parameters */
    r[2] = test_wire_report(&coll, 3, 100, &payload);
    r[2].collection_id = 6;                                         /* another collection */
    r[3] = test_wire_report(&coll, 4, UINT64_C(1) << 62, &payload); /* time at 2^62 */
    r[4] = test_wire_report(&coll, 5, 100, &payload);
    r[4].mechanism = PINHOLE_MECH_GRR; /* another mechanism */
    const uint8_t padded = 0x80;       /* a payload bit beyond the mechanism's */
    r[5] = test_wire_report(&coll, 6, 100, &padded);
    size_t len;
    uint8_t *body = test_batch(r, 6, NULL, &len);
    decoded d;
    cr_assert_eq(decode(body, len, 10, &d), PINHOLE_OK);
    cr_assert_eq(d.n, 6);
    const int want[6] = {PINHOLE_OK,     PINHOLE_EMISMATCH, PINHOLE_EMISMATCH,
                         PINHOLE_ERANGE, PINHOLE_EMISMATCH, PINHOLE_EFORMAT};
    cr_assert_eq(d.r[0].status, PINHOLE_REPORT_PENDING);
    for (int i = 1; i < 6; i++) {
        cr_assert_eq(d.r[i].status, PINHOLE_REPORT_REJECTED, "report %d", i);
        cr_assert_eq(d.r[i].error, want[i], "report %d: %s", i, pinhole_strerror(d.r[i].error));
    }
    release(&d);
    free(body);
}

Test(ingest, a_batch_holds_at_most_16_times)
{
    pinhole_report r[PINHOLE_BATCH_MAX_BUCKETS + 2];
    const size_t n = PINHOLE_BATCH_MAX_BUCKETS + 2;
    for (size_t i = 0; i < n; i++) /* times 0..16, and time 0 again at the end */
        r[i] = test_wire_report(&coll, (uint8_t)(i + 1), i == n - 1 ? 0 : i, &payload);
    size_t len;
    uint8_t *body = test_batch(r, n, NULL, &len);
    decoded d;
    cr_assert_eq(decode(body, len, 100, &d), PINHOLE_OK);
    for (size_t i = 0; i < n; i++) {
        const int beyond = i == PINHOLE_BATCH_MAX_BUCKETS; /* the 17th distinct time */
        cr_assert_eq(d.r[i].status, beyond ? PINHOLE_REPORT_REJECTED : PINHOLE_REPORT_PENDING,
                     "report %zu", i);
        if (beyond)
            cr_assert_eq(d.r[i].error, PINHOLE_ERANGE);
    }
    release(&d);
    free(body);
}

Test(ingest, sealed_to_another_key_is_rejected)
{
    uint8_t pk[32], sk[32];
    pinhole_seal_keypair(pk, sk);
    pinhole_report r = test_wire_report(&coll, 1, 100, &payload);
    size_t len;
    uint8_t *body = test_batch(&r, 1, pk, &len);
    decoded d;
    cr_assert_eq(decode(body, len, 10, &d), PINHOLE_OK);
    cr_assert_eq(d.r[0].status, PINHOLE_REPORT_REJECTED);
    cr_assert_eq(d.r[0].error, PINHOLE_ESIGNATURE);
    release(&d);
    free(body);
}

Test(ingest, whole_batch_errors)
{
    pinhole_report r[3] = {test_wire_report(&coll, 1, 100, &payload),
                           test_wire_report(&coll, 2, 100, &payload),
                           test_wire_report(&coll, 3, 100, &payload)};
    size_t len;
    uint8_t *body = test_batch(r, 3, NULL, &len);
    decoded d;
    cr_assert_eq(decode(body, len, 2, &d), PINHOLE_ETOOBIG); /* more than max_reports */
    cr_assert(d.r == NULL && d.n == 0 && d.arena == NULL);
    cr_assert_eq(decode(body, len - 1, 10, &d), PINHOLE_ETRUNCATED);
    cr_assert(d.r == NULL && d.n == 0 && d.arena == NULL);
    cr_assert_eq(decode(body, 3, 10, &d), PINHOLE_ETRUNCATED); /* shorter than the header */
    uint8_t *wrong = malloc(len);
    memcpy(wrong, body, len);
    wrong[0] ^= 0xff; /* the header's version */
    cr_assert_eq(decode(wrong, len, 10, &d), PINHOLE_EVERSION);
    wrong[0] = body[0];
    wrong[1] = 7; /* no such batch kind */
    cr_assert_eq(decode(wrong, len, 10, &d), PINHOLE_EFORMAT);
    free(wrong);
    free(body);
    uint8_t empty[PINHOLE_BATCH_HEADERBYTES];
    pinhole_batch_writer w;
    cr_assert_eq(pinhole_batch_writer_init(&w, PINHOLE_BATCH_PLAIN, empty, sizeof empty),
                 PINHOLE_OK);
    pinhole_batch_writer_finish(&w, &len);
    cr_assert_eq(decode(empty, len, 10, &d), PINHOLE_EFORMAT); /* no report at all */
}

/* Fed in pieces of every size (one byte at a time included), a batch decodes to the same reports
 * as fed whole, plain and sealed, with rejected reports among them; the stream holds a record per
 * report and one report's buffers, never the body. */
Test(ingest, streamed_in_pieces_decodes_the_same)
{
    pinhole_report r[5];
    for (uint8_t i = 0; i < 5; i++)
        r[i] = test_wire_report(&coll, (uint8_t)(i + 1), 100 + i % 2, &payload);
    r[2].fingerprint[0] ^= 1;
    for (int sealed = 0; sealed < 2; sealed++) {
        size_t len;
        uint8_t *body = test_batch(r, 5, sealed ? keys.seal_pk : NULL, &len);
        decoded whole;
        cr_assert_eq(decode(body, len, 10, &whole), PINHOLE_OK);
        for (size_t piece = 1; piece <= len; piece++) {
            pinhole_ingest_stream *st;
            cr_assert_eq(pinhole_ingest_stream_new(&st, &coll, &keys, 10), PINHOLE_OK);
            for (size_t at = 0; at < len; at += piece)
                cr_assert_eq(
                    pinhole_ingest_stream_feed(st, body + at, len - at < piece ? len - at : piece),
                    PINHOLE_OK);
            const size_t item = PINHOLE_REPORT_HEADERBYTES + 1 + (sealed ? PINHOLE_SEALBYTES : 0);
            cr_assert_leq(pinhole_ingest_stream_held(st), 5 * (18 + 1) + 2 * item);
            decoded d;
            cr_assert_eq(pinhole_ingest_stream_finish(st, &d.r, &d.n, &d.arena), PINHOLE_OK);
            pinhole_ingest_stream_free(st);
            cr_assert_eq(d.n, 5);
            for (size_t i = 0; i < 5; i++) {
                cr_assert_eq(d.r[i].status, whole.r[i].status, "piece %zu report %zu", piece, i);
                cr_assert_eq(d.r[i].error, whole.r[i].error);
                if (d.r[i].status != PINHOLE_REPORT_PENDING)
                    continue;
                cr_assert_eq(d.r[i].bucket, 100 + (int64_t)(i % 2));
                cr_assert_eq(memcmp(d.r[i].id, whole.r[i].id, PINHOLE_REPORT_ID_BYTES), 0);
                cr_assert_eq(d.r[i].payload_len, 1);
                cr_assert_eq(d.r[i].payload[0], payload);
            }
            cr_assert_eq(d.r[2].error, PINHOLE_EMISMATCH);
            release(&d);
        }
        release(&whole);
        free(body);
    }
}

/* A malformed batch is refused at its first bad byte: the feed that brings it fails, and so does
 * every later one; an item longer than any report of the collection is rejected unread. */
Test(ingest, streamed_errors_at_the_first_bad_byte)
{
    pinhole_report r[2] = {test_wire_report(&coll, 1, 100, &payload),
                           test_wire_report(&coll, 2, 100, &payload)};
    size_t len;
    uint8_t *body = test_batch(r, 2, NULL, &len);
    pinhole_ingest_stream *st;
    cr_assert_eq(pinhole_ingest_stream_new(&st, &coll, &keys, 10), PINHOLE_OK);
    const uint8_t bad = 2;
    cr_assert_eq(pinhole_ingest_stream_feed(st, &bad, 1), PINHOLE_EVERSION);
    cr_assert_eq(pinhole_ingest_stream_feed(st, body, len), PINHOLE_EVERSION);
    pinhole_ingest_stream_free(st);
    /* the second item's length is 0: refused when its fourth byte arrives */
    const size_t second =
        PINHOLE_BATCH_HEADERBYTES + PINHOLE_BATCH_ITEMHEADERBYTES + PINHOLE_REPORT_HEADERBYTES + 1;
    uint8_t *zero = malloc(len);
    memcpy(zero, body, len);
    memset(zero + second, 0, 4);
    cr_assert_eq(pinhole_ingest_stream_new(&st, &coll, &keys, 10), PINHOLE_OK);
    cr_assert_eq(pinhole_ingest_stream_feed(st, zero, second + 3), PINHOLE_OK);
    cr_assert_eq(pinhole_ingest_stream_feed(st, zero + second + 3, 1), PINHOLE_EFORMAT);
    pinhole_ingest_stream_free(st);
    free(zero);
    /* one byte after the last item */
    cr_assert_eq(pinhole_ingest_stream_new(&st, &coll, &keys, 10), PINHOLE_OK);
    cr_assert_eq(pinhole_ingest_stream_feed(st, body, len), PINHOLE_OK);
    cr_assert_eq(pinhole_ingest_stream_feed(st, &bad, 1), PINHOLE_EFORMAT);
    pinhole_ingest_stream_free(st);
    /* the body ends inside the second item */
    cr_assert_eq(pinhole_ingest_stream_new(&st, &coll, &keys, 10), PINHOLE_OK);
    cr_assert_eq(pinhole_ingest_stream_feed(st, body, len - 1), PINHOLE_OK);
    decoded d;
    cr_assert_eq(pinhole_ingest_stream_finish(st, &d.r, &d.n, &d.arena), PINHOLE_ETRUNCATED);
    cr_assert(d.r == NULL && d.arena == NULL);
    pinhole_ingest_stream_free(st);
    free(body);

    /* an item of 100,000 bytes (a plain report of this collection has 57): rejected, not held */
    uint8_t head[PINHOLE_BATCH_HEADERBYTES + PINHOLE_BATCH_ITEMHEADERBYTES] = {
        1, 0, 0, 0, 1, 0, 0, 0, 0xa0, 0x86, 1, 0};
    uint8_t *junk = calloc(100000, 1);
    cr_assert_eq(pinhole_ingest_stream_new(&st, &coll, &keys, 10), PINHOLE_OK);
    cr_assert_eq(pinhole_ingest_stream_feed(st, head, sizeof head), PINHOLE_OK);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(pinhole_ingest_stream_feed(st, junk + 1000 * i, 1000), PINHOLE_OK);
    cr_assert_lt(pinhole_ingest_stream_held(st), 1000);
    cr_assert_eq(pinhole_ingest_stream_finish(st, &d.r, &d.n, &d.arena), PINHOLE_OK);
    cr_assert_eq(d.n, 1);
    cr_assert_eq(d.r[0].status, PINHOLE_REPORT_REJECTED);
    cr_assert_eq(d.r[0].error, PINHOLE_ETOOBIG);
    release(&d);
    pinhole_ingest_stream_free(st);
    free(junk);
}
