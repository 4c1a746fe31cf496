/* proto/: round trips, fingerprints that tell parameters apart, sealing, batch writer limits, and
 * every report/config/batch decode error on systematically corrupted inputs. */
#include "common/error.h"
#include "proto/batch.h"
#include "proto/config.h"
#include "proto/report.h"
#include "proto/seal.h"
#include "tests/portable/check.h"

#include <sodium.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void make_cfg(pinhole_collection_config *cfg, uint64_t k, double eps)
{
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = k, .epsilon = eps};
    CHECK_EQ_INT(pinhole_collection_config_make(cfg, 42, &p, 3600, 10), PINHOLE_OK, "config_make");
}

static void test_sizes(void)
{
    CHECK_EQ_INT(pinhole_report_maxbytes(), PINHOLE_REPORT_MAXBYTES, "report max");
    CHECK_EQ_INT(pinhole_report_headerbytes(), 56, "report header");
    CHECK_EQ_INT(pinhole_report_bytes(3), 59, "report bytes");
    CHECK_EQ_INT(pinhole_collection_config_bytes(), 72, "config bytes");
    CHECK_EQ_INT(pinhole_collection_config_signedbytes(), 136, "signed bytes");
    CHECK_EQ_INT(pinhole_collection_config_publickeybytes(), crypto_sign_PUBLICKEYBYTES,
                 "pk bytes");
    CHECK_EQ_INT(pinhole_collection_config_secretkeybytes(), crypto_sign_SECRETKEYBYTES,
                 "sk bytes");
    CHECK_EQ_INT(pinhole_sealbytes(), crypto_box_SEALBYTES, "seal bytes");
    CHECK_EQ_INT(pinhole_sealed_maxbytes(), PINHOLE_REPORT_MAXBYTES + 48, "sealed max");
    CHECK_EQ_INT(pinhole_batch_maxcount(), 65536, "batch max count");
    CHECK_EQ_INT(pinhole_batch_bytes(2, 10), 8 + 2 * 14, "batch bytes");
    CHECK_EQ_INT(pinhole_batch_bytes(SIZE_MAX / 2, 10), 0, "batch bytes overflow");
    CHECK_EQ_INT(pinhole_batch_item_maxbytes((pinhole_batch_kind)7), 0, "unknown kind");
}

static void test_config(void)
{
    pinhole_collection_config a, b, c;
    make_cfg(&a, 16, 2.0);
    make_cfg(&b, 8, 2.0);
    CHECK(a.params.q >= 2 && a.params.t >= 2, "planner resolved q = %u t = %u", a.params.q,
          a.params.t);
    uint8_t fa[16], fb[16], fc[16], enc[PINHOLE_CONFIG_BYTES];
    CHECK_EQ_INT(pinhole_collection_config_fingerprint(&a, fa), PINHOLE_OK, "fp a");
    CHECK_EQ_INT(pinhole_collection_config_fingerprint(&b, fb), PINHOLE_OK, "fp b");
    CHECK(memcmp(fa, fb, 16) != 0, "k = 16 and k = 8 share a fingerprint");
    /* every single field changes the fingerprint */
    for (int field = 0; field < 11; field++) {
        c = a;
        switch (field) {
        case 0:
            c.collection_id++;
            break;
        case 1:
            c.params.k++;
            break;
        case 2:
            c.params.epsilon = nextafter(c.params.epsilon, 10.0);
            break;
        case 3:
            c.params.q = 7;
            break;
        case 4:
            c.params.t++;
            break;
        case 5:
            c.time_precision++;
            break;
        case 6:
            c.min_reports++;
            break;
        case 7:
            c.params.epsilon_permanent = 1.0;
            break;
        case 8:
            c.params.pool = 3;
            break;
        case 9:
            c.params.pool_key = UINT64_C(1) << 63;
            break;
        case 10:
            c.params.block = 8;
            break;
        }
        CHECK_EQ_INT(pinhole_collection_config_fingerprint(&c, fc), PINHOLE_OK, "fp c");
        CHECK(memcmp(fa, fc, 16) != 0, "field %d does not change the fingerprint", field);
    }
    CHECK_EQ_INT(pinhole_collection_config_encode(&a, enc), PINHOLE_OK, "encode");
    CHECK_EQ_INT(pinhole_collection_config_decode(enc, sizeof enc, &c), PINHOLE_OK, "decode");
    CHECK(a.collection_id == c.collection_id && a.params.mechanism == c.params.mechanism &&
              a.params.k == c.params.k && a.params.epsilon == c.params.epsilon &&
              a.params.q == c.params.q && a.params.t == c.params.t &&
              a.time_precision == c.time_precision && a.min_reports == c.min_reports,
          "round trip");
    /* encode refuses what decode would refuse */
    c = a;
    c.params.epsilon = 0;
    CHECK_EQ_INT(pinhole_collection_config_encode(&c, enc), PINHOLE_EINVAL, "encode eps 0");
    c = a;
    c.time_precision = 0;
    CHECK_EQ_INT(pinhole_collection_config_fingerprint(&c, fc), PINHOLE_EINVAL, "fp precision 0");
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 1, .epsilon = 1};
    CHECK_EQ_INT(pinhole_collection_config_make(&c, 1, &p, 1, 0), PINHOLE_EINVAL, "make k = 1");
    p.k = 10;
    CHECK_EQ_INT(pinhole_collection_config_make(&c, 1, &p, 0, 0), PINHOLE_EINVAL,
                 "make precision 0");
    p.mechanism = (pinhole_mechanism_id)99;
    CHECK_EQ_INT(pinhole_collection_config_make(&c, 1, &p, 1, 0), PINHOLE_EUNSUPPORTED,
                 "make mechanism");

    /* signatures: random keys, a wrong key and every flipped bit are refused */
    uint8_t pk[32], sk[64], pk2[32], sk2[64], sig[PINHOLE_CONFIG_SIGNEDBYTES];
    pinhole_collection_config_keypair(pk, sk);
    pinhole_collection_config_keypair(pk2, sk2);
    CHECK_EQ_INT(pinhole_collection_config_sign(&a, sk, sig), PINHOLE_OK, "sign");
    CHECK_EQ_INT(pinhole_collection_config_verify(sig, sizeof sig, pk, &c), PINHOLE_OK, "verify");
    CHECK(c.params.k == a.params.k && c.params.q == a.params.q, "verified config");
    CHECK_EQ_INT(pinhole_collection_config_verify(sig, sizeof sig, pk2, &c), PINHOLE_ESIGNATURE,
                 "wrong key");
    CHECK_EQ_INT(c.params.k, 0, "zeroed on error");
    int refused = 0;
    for (size_t bit = 0; bit < 8 * sizeof sig; bit++) {
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        refused += pinhole_collection_config_verify(sig, sizeof sig, pk, &c) == PINHOLE_ESIGNATURE;
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    CHECK_EQ_INT(refused, 8 * sizeof sig, "every flipped bit refused");
}

static void test_report(void)
{
    uint8_t payload[300], buf[PINHOLE_REPORT_HEADERBYTES + 300];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7 + 1);
    pinhole_report r = {.version = 1,
                        .mechanism = 1,
                        .collection_id = UINT64_C(0x8000000000000001),
                        .time = 12345,
                        .payload = payload,
                        .payload_len = sizeof payload};
    randombytes_buf(r.report_id, sizeof r.report_id);
    randombytes_buf(r.fingerprint, sizeof r.fingerprint);
    size_t n = 0;
    CHECK_EQ_INT(pinhole_report_encode(&r, buf, sizeof buf, &n), PINHOLE_OK, "encode");
    CHECK_EQ_INT(n, sizeof buf, "encoded size");
    pinhole_report d;
    CHECK_EQ_INT(pinhole_report_decode(buf, n, &d), PINHOLE_OK, "decode");
    CHECK(d.collection_id == r.collection_id && d.time == r.time && d.payload_len == 300 &&
              memcmp(d.payload, payload, 300) == 0 && memcmp(d.report_id, r.report_id, 16) == 0,
          "round trip");
    /* every proper prefix is refused as truncated (or wrong version when the byte is gone) */
    int ok = 1;
    for (size_t len = 0; len < n; len++)
        ok &= pinhole_report_decode(buf, len, &d) == PINHOLE_ETRUNCATED;
    CHECK(ok, "a prefix was not refused as truncated");
    /* encode argument errors */
    pinhole_report bad = r;
    bad.version = 2;
    CHECK_EQ_INT(pinhole_report_encode(&bad, buf, sizeof buf, &n), PINHOLE_EVERSION, "version");
    bad = r;
    bad.payload_len = 0;
    CHECK_EQ_INT(pinhole_report_encode(&bad, buf, sizeof buf, &n), PINHOLE_EINVAL, "empty");
    bad = r;
    bad.payload_len = PINHOLE_PAYLOAD_MAXBYTES + 1;
    CHECK_EQ_INT(pinhole_report_encode(&bad, buf, sizeof buf, &n), PINHOLE_ETOOBIG, "huge");

    /* report_check: collection, fingerprint, mechanism, size and padding bits */
    pinhole_report_decode(buf, sizeof buf, &d);
    CHECK_EQ_INT(pinhole_report_check(&d, r.collection_id, r.fingerprint, 1, 2400), PINHOLE_OK,
                 "check");
    CHECK_EQ_INT(pinhole_report_check(&d, r.collection_id + 1, r.fingerprint, 1, 2400),
                 PINHOLE_EMISMATCH, "collection");
    uint8_t fp[16];
    memcpy(fp, r.fingerprint, 16);
    fp[15] ^= 0x80;
    CHECK_EQ_INT(pinhole_report_check(&d, r.collection_id, fp, 1, 2400), PINHOLE_EMISMATCH, "fp");
    CHECK_EQ_INT(pinhole_report_check(&d, r.collection_id, r.fingerprint, 2, 2400),
                 PINHOLE_EMISMATCH, "mechanism");
    CHECK_EQ_INT(pinhole_report_check(&d, r.collection_id, r.fingerprint, 1, 2392), PINHOLE_EFORMAT,
                 "size");
    /* last byte is (299*7+1) & 0xff = 0x2c: bits 2,3,5 set; 2395 bits leave 3 in the last byte */
    CHECK_EQ_INT(pinhole_report_check(&d, r.collection_id, r.fingerprint, 1, 2395), PINHOLE_EFORMAT,
                 "padding bits");
    CHECK_EQ_INT(pinhole_report_check(&d, r.collection_id, r.fingerprint, 1, 2398), PINHOLE_OK,
                 "6 bits used");
}

static void test_seal(void)
{
    uint8_t pk[32], sk[32], pk2[32], sk2[32];
    pinhole_seal_keypair(pk, sk);
    pinhole_seal_keypair(pk2, sk2);
    uint8_t rep[100], sealed[148], opened[100];
    randombytes_buf(rep, sizeof rep);
    size_t n = 0, m = 0;
    CHECK_EQ_INT(pinhole_report_seal(rep, sizeof rep, pk, sealed, sizeof sealed - 1, &n),
                 PINHOLE_EBUFSIZE, "seal cap");
    CHECK_EQ_INT(pinhole_report_seal(rep, 0, pk, sealed, sizeof sealed, &n), PINHOLE_EINVAL,
                 "seal empty");
    CHECK_EQ_INT(pinhole_report_seal(rep, sizeof rep, pk, sealed, sizeof sealed, &n), PINHOLE_OK,
                 "seal");
    CHECK_EQ_INT(n, 148, "sealed size");
    CHECK_EQ_INT(pinhole_report_open(sealed, n, pk, sk, opened, sizeof opened, &m), PINHOLE_OK,
                 "open");
    CHECK(m == 100 && memcmp(opened, rep, 100) == 0, "open round trip");
    CHECK_EQ_INT(pinhole_report_open(sealed, n, pk2, sk2, opened, sizeof opened, &m),
                 PINHOLE_ESIGNATURE, "other key");
    CHECK_EQ_INT(pinhole_report_open(sealed, n, pk, sk, opened, 99, &m), PINHOLE_EBUFSIZE, "cap");
    CHECK_EQ_INT(pinhole_report_open(sealed, 48, pk, sk, opened, sizeof opened, &m),
                 PINHOLE_ETRUNCATED, "short");
    CHECK_EQ_INT(pinhole_report_open(sealed, n - 1, pk, sk, opened, sizeof opened, &m),
                 PINHOLE_ESIGNATURE, "cut");
    CHECK_EQ_INT(
        pinhole_report_open(sealed, PINHOLE_SEALED_MAXBYTES + 1, pk, sk, opened, sizeof opened, &m),
        PINHOLE_ETOOBIG, "huge");
    sealed[60] ^= 1;
    CHECK_EQ_INT(pinhole_report_open(sealed, n, pk, sk, opened, sizeof opened, &m),
                 PINHOLE_ESIGNATURE, "altered");
}

static void test_batch(void)
{
    enum { N = 50 };
    static uint8_t buf[8 + N * (4 + 60)];
    uint8_t item[60];
    pinhole_batch_writer w;
    CHECK_EQ_INT(pinhole_batch_writer_init(&w, (pinhole_batch_kind)3, buf, sizeof buf),
                 PINHOLE_EINVAL, "kind");
    CHECK_EQ_INT(pinhole_batch_writer_init(&w, PINHOLE_BATCH_SEALED, buf, 7), PINHOLE_EBUFSIZE,
                 "cap");
    CHECK_EQ_INT(pinhole_batch_writer_init(&w, PINHOLE_BATCH_SEALED, buf, sizeof buf), PINHOLE_OK,
                 "init");
    for (int i = 0; i < N; i++) {
        memset(item, i, sizeof item);
        CHECK_EQ_INT(pinhole_batch_writer_add(&w, item, (size_t)(i % 60) + 1), PINHOLE_OK, "add");
    }
    size_t used = w.pos;
    CHECK_EQ_INT(pinhole_batch_writer_add(&w, item, sizeof buf - used - 3), PINHOLE_EBUFSIZE,
                 "full");
    CHECK_EQ_INT(pinhole_batch_writer_add(&w, item, 0), PINHOLE_EINVAL, "empty item");
    size_t n;
    pinhole_batch_writer_finish(&w, &n);
    CHECK_EQ_INT(n, used, "unchanged after refusal");
    pinhole_batch_reader r;
    CHECK_EQ_INT(pinhole_batch_reader_init(&r, buf, n), PINHOLE_OK, "read");
    CHECK_EQ_INT(pinhole_batch_reader_count(&r), N, "count");
    CHECK_EQ_INT(r.kind, PINHOLE_BATCH_SEALED, "kind");
    const uint8_t *it;
    size_t il;
    int i = 0, ok = 1;
    while (pinhole_batch_reader_next(&r, &it, &il) == 1) {
        ok &= il == (size_t)(i % 60) + 1 && it[0] == i && it[il - 1] == i;
        i++;
    }
    CHECK(ok && i == N, "items read back (%d)", i);
    int trunc = 1;
    for (size_t len = 0; len < n; len++)
        trunc &= pinhole_batch_reader_init(&r, buf, len) == PINHOLE_ETRUNCATED;
    CHECK(trunc, "a prefix of the batch was not refused as truncated");
    CHECK_EQ_INT(pinhole_batch_reader_init(&r, buf, n + 1), PINHOLE_ETOOBIG, "trailing");
    size_t plen = 0;
    CHECK_EQ_INT(pinhole_batch_reader_init_prefix(&r, buf, n + 1, &plen), PINHOLE_OK, "prefix");
    CHECK_EQ_INT(plen, n, "prefix length");
    CHECK_EQ_INT(pinhole_batch_reader_init_prefix(&r, buf, n - 1, &plen), PINHOLE_ETRUNCATED,
                 "prefix truncated");

    /* the count limit holds for the writer */
    static uint8_t big[8 + 5 * (PINHOLE_BATCH_MAXCOUNT + 1)];
    pinhole_batch_writer_init(&w, PINHOLE_BATCH_PLAIN, big, sizeof big);
    int rc = PINHOLE_OK;
    for (uint32_t j = 0; j <= PINHOLE_BATCH_MAXCOUNT && rc == PINHOLE_OK; j++)
        rc = pinhole_batch_writer_add(&w, item, 1);
    CHECK_EQ_INT(rc, PINHOLE_ETOOBIG, "count limit");
    CHECK_EQ_INT(w.count, PINHOLE_BATCH_MAXCOUNT, "count at limit");
    pinhole_batch_writer_finish(&w, &n);
    CHECK_EQ_INT(pinhole_batch_reader_init(&r, big, n), PINHOLE_OK, "full batch reads");
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    test_sizes();
    test_config();
    test_report();
    test_seal();
    test_batch();
    return check_summary("test_proto");
}
