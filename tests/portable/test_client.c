/* libpinhole (client/pinhole.h): reports a decoder accepts, signed configs, the privacy policy
 * (epsilon cap, budget per period through callbacks), memoization, sealing, buffer sizes. */
#include "client/pinhole.h"
#include "common/bytes.h"
#include "common/projective.h"
#include "common/rng.h"
#include "tests/portable/check.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* An in-memory budget store with switches to make it fail. */
typedef struct store {
    uint64_t period[8];
    double spent[8];
    int n;
    int fail_load, fail_store, corrupt;
    int loads, stores;
} store;

static int load_cb(void *ctx, uint64_t period, double *spent)
{
    store *s = ctx;
    s->loads++;
    if (s->fail_load)
        return PINHOLE_EIO;
    *spent = s->corrupt ? NAN : 0;
    for (int i = 0; i < s->n; i++)
        if (s->period[i] == period)
            *spent = s->corrupt ? NAN : s->spent[i];
    return PINHOLE_OK;
}

static int store_cb(void *ctx, uint64_t period, double spent)
{
    store *s = ctx;
    s->stores++;
    if (s->fail_store)
        return PINHOLE_EIO;
    for (int i = 0; i < s->n; i++)
        if (s->period[i] == period) {
            s->spent[i] = spent;
            return PINHOLE_OK;
        }
    if (s->n == 8)
        return PINHOLE_ENOMEM;
    s->period[s->n] = period;
    s->spent[s->n++] = spent;
    return PINHOLE_OK;
}

static int all_zero(const uint8_t *b, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= b[i];
    return acc == 0;
}

static void test_report_roundtrip(void)
{
    CHECK_EQ_INT(pinhole_init(), PINHOLE_OK, "init");
    CHECK(strcmp(pinhole_version_string(), PINHOLE_VERSION_STRING) == 0, "version");
    pinhole_collection col;
    CHECK_EQ_INT(pinhole_collection_init_params(&col, PINHOLE_MECH_PGR, 1024, 4.0), PINHOLE_OK,
                 "collection");
    CHECK_EQ_INT(pinhole_collection_reportbytes(&col), 56 + col.mech.payload_bytes, "size");
    pinhole_client cl;
    CHECK_EQ_INT(pinhole_client_init(&cl, NULL, NULL), PINHOLE_OK, "client");
    uint8_t buf[PINHOLE_REPORT_HEADERBYTES + 16], id0[16] = {0};
    size_t n = 0;
    const uint64_t now = 1700000000;
    for (uint64_t value = 0; value < 1024; value += 31) {
        int rc = pinhole_client_report(&cl, &col, value, now, 0, buf, sizeof buf, &n);
        CHECK_EQ_INT(rc, PINHOLE_OK, "report");
        CHECK_EQ_INT(n, pinhole_collection_reportbytes(&col), "written");
        pinhole_report r;
        CHECK_EQ_INT(pinhole_report_decode(buf, n, &r), PINHOLE_OK, "decode");
        CHECK_EQ_INT(
            pinhole_report_check(&r, 0, col.fingerprint, PINHOLE_MECH_PGR, col.mech.payload_bits),
            PINHOLE_OK, "check");
        CHECK(pinhole_load_le(r.payload, r.payload_len) < col.mech.u.pgr.K, "payload < K");
        CHECK_EQ_INT(r.time == now, 1, "time precision 1 s");
        CHECK(memcmp(r.report_id, id0, 16) != 0, "fresh report id");
        memcpy(id0, r.report_id, 16);
    }
    CHECK_EQ_INT(pinhole_client_report(&cl, &col, 1024, now, 0, buf, sizeof buf, &n),
                 PINHOLE_ERANGE, "value = k");
    CHECK_EQ_INT(pinhole_client_report(&cl, &col, 1, now, 0, buf, n - 1, &n), PINHOLE_EBUFSIZE,
                 "small buffer");
    CHECK_EQ_INT(pinhole_client_report(&cl, &col, 1, now, 4, buf, sizeof buf, &n), PINHOLE_EINVAL,
                 "unknown flag");
    CHECK_EQ_INT(
        pinhole_client_report(&cl, &col, 1, now, PINHOLE_REPORT_MEMOIZE, buf, sizeof buf, &n),
        PINHOLE_EINVAL, "memoize without a secret");
    pinhole_collection_free(&col);
}

static void test_signed(void)
{
    uint8_t pk[32], sk[64], pk2[32], sk2[64], sig[PINHOLE_CONFIG_SIGNEDBYTES];
    pinhole_config_keypair(pk, sk);
    pinhole_config_keypair(pk2, sk2);
    pinhole_collection_config cfg;
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 16, .epsilon = 1.5};
    CHECK_EQ_INT(pinhole_config_make(&cfg, 99, &p, 3600, 0), PINHOLE_OK, "make");
    CHECK_EQ_INT(pinhole_config_sign(&cfg, sk, sig), PINHOLE_OK, "sign");
    pinhole_collection col;
    CHECK_EQ_INT(pinhole_collection_init_signed(&col, sig, sizeof sig, pk), PINHOLE_OK, "signed");
    CHECK_EQ_INT(col.verified, 1, "verified");
    pinhole_client cl;
    pinhole_client_init(&cl, NULL, NULL);
    uint8_t buf[128];
    size_t n;
    CHECK_EQ_INT(pinhole_client_report(&cl, &col, 3, 7200 * 5 + 10, 0, buf, sizeof buf, &n),
                 PINHOLE_OK, "report");
    pinhole_report r;
    pinhole_report_decode(buf, n, &r);
    CHECK_EQ_INT(r.collection_id, 99, "collection id");
    CHECK_EQ_INT(r.time, 10, "time in hours");
    /* a k = 16 report is refused by the k = 8 collection: other fingerprint */
    pinhole_collection_config cfg8 = cfg;
    cfg8.params.k = 8;
    uint8_t fp8[16];
    pinhole_config_fingerprint(&cfg8, fp8);
    CHECK_EQ_INT(pinhole_report_check(&r, 99, fp8, PINHOLE_MECH_PGR, col.mech.payload_bits),
                 PINHOLE_EMISMATCH, "k = 16 report, k = 8 collection");
    pinhole_collection_free(&col);
    CHECK_EQ_INT(pinhole_collection_init_signed(&col, sig, sizeof sig, pk2), PINHOLE_ESIGNATURE,
                 "wrong key");
    sig[20] ^= 4; /* epsilon changed after signing */
    CHECK_EQ_INT(pinhole_collection_init_signed(&col, sig, sizeof sig, pk), PINHOLE_ESIGNATURE,
                 "altered");
    CHECK_EQ_INT(col.mech.k, 0, "nothing built");
    pinhole_collection_free(&col); /* safe after a failed init */
    /* a signed config whose parameters do not build (q = 6 is no prime power) */
    cfg.params.q = 6;
    pinhole_config_sign(&cfg, sk, sig);
    CHECK_EQ_INT(pinhole_collection_init_signed(&col, sig, sizeof sig, pk), PINHOLE_EINVAL, "q=6");
}

static void test_policy(void)
{
    pinhole_collection col;
    pinhole_collection_init_params(&col, PINHOLE_MECH_PGR, 100, 4.0);
    uint8_t buf[128];
    size_t n;
    pinhole_client cl;
    pinhole_policy cap = {.max_epsilon = 2.0};
    CHECK_EQ_INT(pinhole_client_init(&cl, &cap, NULL), PINHOLE_OK, "cap policy");
    memset(buf, 0xAA, sizeof buf);
    CHECK_EQ_INT(pinhole_client_report(&cl, &col, 5, 0, 0, buf, sizeof buf, &n), PINHOLE_EPOLICY,
                 "epsilon over the cap");
    CHECK(buf[0] == 0xAA, "nothing written");
    cap.max_epsilon = 4.0;
    pinhole_client_init(&cl, &cap, NULL);
    CHECK_EQ_INT(pinhole_client_report(&cl, &col, 5, 0, 0, buf, sizeof buf, &n), PINHOLE_OK,
                 "epsilon at the cap");

    /* bad policies */
    pinhole_policy bad = {.budget_epsilon = 10};
    CHECK_EQ_INT(pinhole_client_init(&cl, &bad, NULL), PINHOLE_EINVAL, "budget without period");
    bad.budget_period = 86400;
    CHECK_EQ_INT(pinhole_client_init(&cl, &bad, NULL), PINHOLE_EINVAL, "budget without callbacks");
    bad.max_epsilon = NAN;
    CHECK_EQ_INT(pinhole_client_init(&cl, &bad, NULL), PINHOLE_EINVAL, "NaN cap");

    /* a budget of 10 per day: two reports at epsilon 4, the third is refused, the next day opens */
    store st = {0};
    pinhole_policy budget = {.budget_epsilon = 10,
                             .budget_period = 86400,
                             .load = load_cb,
                             .store = store_cb,
                             .ctx = &st};
    CHECK_EQ_INT(pinhole_client_init(&cl, &budget, NULL), PINHOLE_OK, "budget policy");
    const uint64_t day = 86400 * 20000;
    CHECK_EQ_INT(pinhole_client_report(&cl, &col, 1, day + 1, 0, buf, sizeof buf, &n), PINHOLE_OK,
                 "1st");
    CHECK_EQ_INT(pinhole_client_report(&cl, &col, 1, day + 2, 0, buf, sizeof buf, &n), PINHOLE_OK,
                 "2nd");
    CHECK_EQ_INT(pinhole_client_report(&cl, &col, 1, day + 3, 0, buf, sizeof buf, &n),
                 PINHOLE_EPOLICY, "3rd over budget");
    CHECK(all_zero(buf, pinhole_collection_reportbytes(&col)), "refused report erased");
    CHECK(st.n == 1 && st.period[0] == 20000 && st.spent[0] == 8.0, "spent 8 in period 20000");
    CHECK_EQ_INT(pinhole_client_report(&cl, &col, 1, day + 86400, 0, buf, sizeof buf, &n),
                 PINHOLE_OK, "next day");
    st.fail_store = 1;
    CHECK_EQ_INT(pinhole_client_report(&cl, &col, 1, day + 86401, 0, buf, sizeof buf, &n),
                 PINHOLE_EIO, "store fails: refused");
    CHECK(all_zero(buf, pinhole_collection_reportbytes(&col)), "unstored report erased");
    st.fail_store = 0;
    st.fail_load = 1;
    CHECK_EQ_INT(pinhole_client_report(&cl, &col, 1, day + 86402, 0, buf, sizeof buf, &n),
                 PINHOLE_EIO, "load fails: refused");
    st.fail_load = 0;
    st.corrupt = 1;
    CHECK_EQ_INT(pinhole_client_report(&cl, &col, 1, day + 86403, 0, buf, sizeof buf, &n),
                 PINHOLE_EFORMAT, "corrupt store: refused");
    pinhole_collection_free(&col);
}

typedef struct race {
    pinhole_client *cl;
    const pinhole_collection *col;
    int ok;
} race;

static void *race_thread(void *arg)
{
    race *r = arg;
    uint8_t buf[128];
    size_t n;
    for (int i = 0; i < 100; i++)
        r->ok +=
            pinhole_client_report(r->cl, r->col, 3, 1000, 0, buf, sizeof buf, &n) == PINHOLE_OK;
    return NULL;
}

static void test_budget_threads(void)
{
    /* 4 threads x 100 reports at epsilon 0.5 against a budget of 75: exactly 150 pass */
    pinhole_collection col;
    pinhole_collection_init_params(&col, PINHOLE_MECH_PGR, 50, 0.5);
    store st = {0};
    pinhole_policy budget = {.budget_epsilon = 75,
                             .budget_period = 3600,
                             .load = load_cb,
                             .store = store_cb,
                             .ctx = &st};
    pinhole_client cl;
    pinhole_client_init(&cl, &budget, NULL);
    pthread_t th[4];
    race r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (race){&cl, &col, 0};
        pthread_create(&th[i], NULL, race_thread, &r[i]);
    }
    int ok = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ok += r[i].ok;
    }
    CHECK_EQ_INT(ok, 150, "reports within the budget");
    CHECK(st.spent[0] == 75.0, "spent %g", st.spent[0]);
    pinhole_collection_free(&col);
}

static void test_memoize(void)
{
    pinhole_collection col;
    pinhole_collection_init_params(&col, PINHOLE_MECH_PGR, 8, 1.0);
    const pinhole_pgr *g = &col.mech.u.pgr;
    uint8_t secret[32], a[64], b[64];
    size_t n;
    randombytes_buf(secret, sizeof secret);
    pinhole_client cl;
    pinhole_client_init(&cl, NULL, secret);
    int same = 1, idsame = 0;
    for (uint64_t v = 0; v < 8; v++) {
        pinhole_client_report(&cl, &col, v, 100, PINHOLE_REPORT_MEMOIZE, a, sizeof a, &n);
        pinhole_client_report(&cl, &col, v, 200, PINHOLE_REPORT_MEMOIZE, b, sizeof b, &n);
        same &= memcmp(a + 56, b + 56, n - 56) == 0;
        idsame += memcmp(a + 32, b + 32, 16) == 0;
    }
    CHECK(same, "memoized payloads repeat");
    CHECK_EQ_INT(idsame, 0, "report ids stay fresh");

    /* over many devices, a memoized report has the randomizer's exact distribution:
     * P[hyperplane contains v] = s_in */
    enum { DEVICES = 20000 };
    pinhole_rng seeds;
    pinhole_rng_init_seeded(&seeds, 2026);
    uint32_t vv[PINHOLE_T_MAX], hh[PINHOLE_T_MAX];
    const uint64_t v = 5;
    pinhole_pspace_vector(&g->S, v, vv);
    unsigned inside = 0;
    for (int d = 0; d < DEVICES; d++) {
        pinhole_rng_bytes(&seeds, secret, sizeof secret);
        pinhole_client_init(&cl, NULL, secret);
        CHECK_EQ_INT(
            pinhole_client_report(&cl, &col, v, 0, PINHOLE_REPORT_MEMOIZE, a, sizeof a, &n),
            PINHOLE_OK, "memoized report");
        pinhole_pspace_vector(&g->S, pinhole_load_le(a + 56, n - 56), hh);
        inside += pinhole_pspace_dot(&g->F, vv, hh, g->t) == 0;
    }
    const double f = (double)inside / DEVICES, sd = sqrt(g->s_in * (1 - g->s_in) / DEVICES);
    CHECK(fabs(f - g->s_in) < 5 * sd, "inside fraction %.4f vs s_in %.4f (5 sd = %.4f)", f, g->s_in,
          5 * sd);
    pinhole_client_wipe(&cl);
    CHECK(all_zero(cl.secret, sizeof cl.secret) && !cl.has_secret, "secret wiped");
    pinhole_collection_free(&col);
}

static void test_sealed(void)
{
    uint8_t pk[32], sk[32];
    pinhole_seal_keypair(pk, sk);
    pinhole_collection col;
    pinhole_collection_init_params(&col, PINHOLE_MECH_PGR, 74286, 2.0);
    pinhole_client cl;
    pinhole_client_init(&cl, NULL, NULL);
    uint8_t sealed[200], opened[200];
    size_t n, m;
    CHECK_EQ_INT(pinhole_client_report_sealed(&cl, &col, 74285, 5, 0, pk, sealed,
                                              pinhole_collection_sealedbytes(&col) - 1, &n),
                 PINHOLE_EBUFSIZE, "sealed buffer");
    CHECK_EQ_INT(
        pinhole_client_report_sealed(&cl, &col, 74285, 5, 0, pk, sealed, sizeof sealed, &n),
        PINHOLE_OK, "sealed");
    CHECK_EQ_INT(n, pinhole_collection_sealedbytes(&col), "sealed size");
    CHECK_EQ_INT(pinhole_report_open(sealed, n, pk, sk, opened, sizeof opened, &m), PINHOLE_OK,
                 "open");
    pinhole_report r;
    CHECK_EQ_INT(pinhole_report_decode(opened, m, &r), PINHOLE_OK, "decode opened");
    CHECK_EQ_INT(
        pinhole_report_check(&r, 0, col.fingerprint, PINHOLE_MECH_PGR, col.mech.payload_bits),
        PINHOLE_OK, "check opened");
    pinhole_collection_free(&col);
}

static void test_every_mechanism(void)
{
    /* every mechanism of the table through the public API and the wire format, with payloads of
     * up to k bits (unary encodings: 1000 bits, far beyond a machine word) */
    size_t n_mech = 0;
    const pinhole_mechanism_ops *all = pinhole_mechanism_all(&n_mech);
    CHECK(n_mech >= 1, "mechanisms");
    uint8_t pk[32], sk[64], sig[PINHOLE_CONFIG_SIGNEDBYTES];
    pinhole_config_keypair(pk, sk);
    static uint8_t buf[PINHOLE_REPORT_HEADERBYTES + 4096];
    for (size_t m = 0; m < n_mech; m++) {
        pinhole_config_params p = {.mechanism = all[m].id, .k = 1000, .epsilon = 1.0};
        pinhole_collection_config cfg;
        pinhole_collection col;
        int rc = pinhole_config_make(&cfg, 40 + m, &p, 60, 0);
        if (rc == PINHOLE_OK)
            rc = pinhole_config_sign(&cfg, sk, sig);
        if (rc == PINHOLE_OK)
            rc = pinhole_collection_init_signed(&col, sig, sizeof sig, pk);
        CHECK_EQ_INT(rc, PINHOLE_OK, all[m].name);
        if (rc != PINHOLE_OK)
            continue;
        pinhole_client cl;
        pinhole_client_init(&cl, NULL, NULL);
        int ok = 1;
        for (uint64_t v = 0; v < 1000; v += 111) {
            size_t n = 0;
            pinhole_report r;
            ok &= pinhole_client_report(&cl, &col, v, 6000, 0, buf, sizeof buf, &n) == PINHOLE_OK;
            ok &= n == pinhole_collection_reportbytes(&col);
            ok &= pinhole_report_decode(buf, n, &r) == PINHOLE_OK;
            ok &= pinhole_report_check(&r, 40 + m, col.fingerprint, (uint8_t)all[m].id,
                                       col.mech.payload_bits) == PINHOLE_OK;
            ok &= r.time == 100;
        }
        CHECK(ok, "%s: reports decode and check (payload %u bits)", all[m].name,
              col.mech.payload_bits);
        pinhole_collection_free(&col);
    }
}

/* Reports in batches: each decodes and checks like a single report, the ids are fresh, the budget
 * is charged n epsilon at once or not at all, bad input refuses the whole batch. (The batch
 * randomizer's reports equal the single path's on the same keystream: tests/test_pgr.c.) */
static void test_batch(void)
{
    pinhole_collection col;
    CHECK_EQ_INT(pinhole_collection_init_params(&col, PINHOLE_MECH_PGR, 74286, 2.0), PINHOLE_OK,
                 "collection");
    store st = {0};
    pinhole_policy budget = {.budget_epsilon = 300,
                             .budget_period = 86400,
                             .load = load_cb,
                             .store = store_cb,
                             .ctx = &st};
    pinhole_client cl;
    CHECK_EQ_INT(pinhole_client_init(&cl, &budget, NULL), PINHOLE_OK, "client");
    enum { N = 100 };
    const size_t rb = pinhole_collection_reportbytes(&col);
    static uint8_t buf[N * 64];
    uint64_t values[N];
    for (int i = 0; i < N; i++)
        values[i] = (uint64_t)i * 743;
    size_t n = 0;
    const uint64_t now = 1700000000;
    CHECK(rb * N <= sizeof buf, "room for the batch");
    CHECK_EQ_INT(pinhole_client_report_batch(&cl, &col, values, N, now, 0, buf, sizeof buf, &n),
                 PINHOLE_OK, "batch");
    CHECK_EQ_INT(n, N * rb, "written");
    CHECK(st.n == 1 && st.spent[0] == 200.0 && st.stores == 1, "charged 100 x 2 once");
    for (int i = 0; i < N; i++) {
        pinhole_report r;
        CHECK_EQ_INT(pinhole_report_decode(buf + i * rb, rb, &r), PINHOLE_OK, "decode");
        CHECK_EQ_INT(
            pinhole_report_check(&r, 0, col.fingerprint, PINHOLE_MECH_PGR, col.mech.payload_bits),
            PINHOLE_OK, "check");
        CHECK(pinhole_load_le(r.payload, r.payload_len) < col.mech.u.pgr.K, "payload < K");
        CHECK(r.time == now, "time");
        if (i > 0) {
            pinhole_report p;
            pinhole_report_decode(buf + (i - 1) * rb, rb, &p);
            CHECK(memcmp(r.report_id, p.report_id, 16) != 0, "fresh report ids");
        }
    }
    /* 100 more would spend 400 > 300: refused whole, nothing charged, out erased */
    CHECK_EQ_INT(pinhole_client_report_batch(&cl, &col, values, N, now, 0, buf, sizeof buf, &n),
                 PINHOLE_EPOLICY, "over budget");
    CHECK(st.spent[0] == 200.0 && all_zero(buf, N * rb) && n == 0, "nothing charged, erased");
    CHECK_EQ_INT(pinhole_client_report_batch(&cl, &col, values, 50, now, 0, buf, sizeof buf, &n),
                 PINHOLE_OK, "the 50 that fit");
    values[7] = 74286;
    CHECK_EQ_INT(
        pinhole_client_report_batch(&cl, &col, values, 10, now + 86400, 0, buf, sizeof buf, &n),
        PINHOLE_ERANGE, "a value = k");
    CHECK_EQ_INT(pinhole_client_report_batch(&cl, &col, values, 5, now, 0, buf, 5 * rb - 1, &n),
                 PINHOLE_EBUFSIZE, "small buffer");
    CHECK_EQ_INT(pinhole_client_report_batch(&cl, &col, values, 5, now, PINHOLE_REPORT_MEMOIZE, buf,
                                             sizeof buf, &n),
                 PINHOLE_EINVAL, "memoized batches are refused");
    pinhole_collection_free(&col);
}

int main(void)
{
    test_report_roundtrip();
    test_signed();
    test_policy();
    test_budget_threads();
    test_memoize();
    test_sealed();
    test_every_mechanism();
    test_batch();
    return check_summary("test_client");
}
