/* libpinhole (client/pinhole.h): reports a decoder accepts, signed configs, the privacy policy
 * (epsilon cap, budget per period through callbacks), memoization, sealing, buffer sizes. */
#include "client/pinhole.h"
#include "common/bytes.h"
#include "common/projective.h"
#include "common/rng.h"
#include "proto/labels.h"
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
    pinhole_collection_clear(&col);
}

static void test_signed(void)
{
    uint8_t pk[32], sk[64], pk2[32], sk2[64], sig[PINHOLE_CONFIG_SIGNEDBYTES];
    pinhole_collection_config_keypair(pk, sk);
    pinhole_collection_config_keypair(pk2, sk2);
    pinhole_collection_config cfg;
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 16, .epsilon = 1.5};
    CHECK_EQ_INT(pinhole_collection_config_make(&cfg, 99, &p, 3600, 0), PINHOLE_OK, "make");
    CHECK_EQ_INT(pinhole_collection_config_sign(&cfg, sk, sig), PINHOLE_OK, "sign");
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
    pinhole_collection_config_fingerprint(&cfg8, fp8);
    CHECK_EQ_INT(pinhole_report_check(&r, 99, fp8, PINHOLE_MECH_PGR, col.mech.payload_bits),
                 PINHOLE_EMISMATCH, "k = 16 report, k = 8 collection");
    pinhole_collection_clear(&col);
    CHECK_EQ_INT(pinhole_collection_init_signed(&col, sig, sizeof sig, pk2), PINHOLE_ESIGNATURE,
                 "wrong key");
    sig[20] ^= 4; /* epsilon changed after signing */
    CHECK_EQ_INT(pinhole_collection_init_signed(&col, sig, sizeof sig, pk), PINHOLE_ESIGNATURE,
                 "altered");
    CHECK_EQ_INT(col.mech.k, 0, "nothing built");
    pinhole_collection_clear(&col); /* safe after a failed init */
    /* a signed config whose parameters do not build (q = 6 is no prime power) */
    cfg.params.q = 6;
    pinhole_collection_config_sign(&cfg, sk, sig);
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
    pinhole_collection_clear(&col);
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
    pinhole_collection_clear(&col);
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
    pinhole_client_clear(&cl);
    CHECK(all_zero(cl.secret, sizeof cl.secret) && !cl.has_secret, "secret wiped");
    pinhole_collection_clear(&col);
}

/* RAPPOR through the functions apps call: 1000 memoized reports of one value from one device
 * (SUE, k = 64, epsilon 1 per report, epsilon_permanent 4) share one permanent response B while
 * each report draws a fresh instantaneous response: bit i of a report is B_i kept with
 * probability q = t_irr / 2^64, flipped otherwise. B is estimated by the majority of each bit
 * (q > 0.6, so a majority of 1000 errs with probability < 1e-9); then every bit count lies within
 * 5 sd of its binomial mean, the total of flips within 5 sd of 64000 (1 - q), the 1000 payloads
 * are distinct (a collision of two 64-bit reports each carrying ~50 bits of noise is ~1e-9), a
 * second client with the same secret has the same B and one with another secret does not. */
static void rappor_counts(pinhole_client *cl, const pinhole_collection *col, unsigned counts[64],
                          unsigned *distinct)
{
    enum { N = 1000 };
    static uint8_t payloads[N][8];
    uint8_t out[PINHOLE_REPORT_HEADERBYTES + 8];
    size_t n = 0;
    memset(counts, 0, 64 * sizeof counts[0]);
    for (int r = 0; r < N; r++) {
        CHECK_EQ_INT(pinhole_client_report(cl, col, 9, 1700000000 + (uint64_t)r,
                                           PINHOLE_REPORT_MEMOIZE, out, sizeof out, &n),
                     PINHOLE_OK, "memoized RAPPOR report");
        memcpy(payloads[r], out + PINHOLE_REPORT_HEADERBYTES, 8);
        for (int i = 0; i < 64; i++)
            counts[i] += (payloads[r][i / 8] >> (i % 8)) & 1;
    }
    *distinct = 0;
    for (int r = 0; r < N; r++) {
        int seen = 0;
        for (int o = 0; o < r && !seen; o++)
            seen = memcmp(payloads[r], payloads[o], 8) == 0;
        *distinct += !seen;
    }
}

static void test_rappor_instantaneous(void)
{
    uint8_t sk[64], pk[32], signed_cfg[PINHOLE_CONFIG_SIGNEDBYTES];
    pinhole_collection_config_keypair(pk, sk);
    pinhole_config_params p = {
        .mechanism = PINHOLE_MECH_SUE, .k = 64, .epsilon = 1.0, .epsilon_permanent = 4.0};
    pinhole_collection_config cfg;
    CHECK_EQ_INT(pinhole_collection_config_make(&cfg, 5, &p, 1, 0), PINHOLE_OK, "config");
    CHECK_EQ_INT(pinhole_collection_config_sign(&cfg, sk, signed_cfg), PINHOLE_OK, "sign");
    pinhole_collection *col = NULL;
    CHECK_EQ_INT(pinhole_collection_new_signed(&col, signed_cfg, sizeof signed_cfg, pk), PINHOLE_OK,
                 "collection");
    if (!col)
        return;
    CHECK(pinhole_collection_epsilon_permanent(col) >= 4.0 - 1e-9 &&
              pinhole_collection_epsilon_permanent(col) <= 4.0,
          "epsilon_permanent %g", pinhole_collection_epsilon_permanent(col));
    const double q = ldexp((double)col->mech.u.unary.t_irr, -64);
    CHECK(q > 0.6 && q < 1, "keep probability %g", q);
    uint8_t secret[PINHOLE_DEVICE_SECRETBYTES], other[PINHOLE_DEVICE_SECRETBYTES];
    memset(secret, 0x5a, sizeof secret);
    memset(other, 0xa5, sizeof other);
    pinhole_client *cl = NULL, *again = NULL, *stranger = NULL;
    pinhole_client_new(&cl, NULL, secret);
    pinhole_client_new(&again, NULL, secret);
    pinhole_client_new(&stranger, NULL, other);
    unsigned counts[64], counts2[64], counts3[64], distinct = 0, d2, d3;
    rappor_counts(cl, col, counts, &distinct);
    rappor_counts(again, col, counts2, &d2);
    rappor_counts(stranger, col, counts3, &d3);
    const double N = 1000, sd_bit = sqrt(N * q * (1 - q));
    double flips = 0;
    int same_b = 1, other_b = 1, bits_ok = 1;
    for (int i = 0; i < 64; i++) {
        const int b = counts[i] > N / 2;
        const double mean = b ? N * q : N * (1 - q);
        bits_ok &= fabs(counts[i] - mean) < 5 * sd_bit;
        flips += b ? N - counts[i] : counts[i];
        same_b &= (counts2[i] > N / 2) == b;
        other_b &= (counts3[i] > N / 2) == b;
    }
    CHECK(bits_ok, "every bit count within 5 sd (%.1f) of its binomial mean", 5 * sd_bit);
    const double mean_flips = 64 * N * (1 - q), sd_flips = sqrt(64 * N * q * (1 - q));
    CHECK(fabs(flips - mean_flips) < 5 * sd_flips, "flips %.0f vs %.1f (5 sd = %.1f)", flips,
          mean_flips, 5 * sd_flips);
    CHECK_EQ_INT(distinct, 1000, "distinct payloads of 1000 memoized reports");
    CHECK(same_b, "the same secret gives the same permanent response");
    CHECK(!other_b, "another secret gives another permanent response");
    pinhole_client_free(cl);
    pinhole_client_free(again);
    pinhole_client_free(stranger);
    pinhole_collection_free(col);
}

/* A signed config committing to labels[0..n) (its k = k), with the "other" item given. */
static pinhole_collection *labelled(const char *const *labels, uint64_t n, uint64_t k,
                                    uint64_t other, uint8_t *list, size_t cap, size_t *len)
{
    uint8_t pk[32], sk[64], signed_cfg[PINHOLE_CONFIG_SIGNED_MAXBYTES];
    pinhole_collection_config_keypair(pk, sk);
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_GRR, .k = k, .epsilon = 1.0};
    pinhole_collection_config cfg;
    CHECK_EQ_INT(pinhole_collection_config_make(&cfg, 11, &p, 1, 0), PINHOLE_OK, "config");
    CHECK_EQ_INT(pinhole_labels_encode(labels, n, list, cap, len), PINHOLE_OK, "list");
    cfg.has_labels = 1;
    pinhole_labels_hash(list, *len, cfg.labels_hash);
    cfg.other_item = other;
    CHECK_EQ_INT(pinhole_collection_config_sign(&cfg, sk, signed_cfg), PINHOLE_OK, "sign");
    pinhole_collection *col = NULL;
    CHECK_EQ_INT(pinhole_collection_new_signed(&col, signed_cfg,
                                               pinhole_collection_config_signed_bytes(&cfg), pk),
                 PINHOLE_OK, "labelled collection");
    return col;
}

static void test_labels(void)
{
    uint8_t list[256];
    size_t len = 0;
    uint64_t item = 0;
    pinhole_labels *lab = NULL;
    /* no other item: an unknown label is an error */
    static const char *const yes_no[] = {"yes", "no"};
    pinhole_collection *col =
        labelled(yes_no, 2, 2, PINHOLE_NO_OTHER_ITEM, list, sizeof list, &len);
    CHECK_EQ_INT(pinhole_labels_new(&lab, col, list, len), PINHOLE_OK, "labels");
    CHECK_EQ_INT(pinhole_labels_index(lab, "no", 2, &item), PINHOLE_OK, "no");
    CHECK_EQ_INT(item, 1, "no is item 1");
    CHECK_EQ_INT(pinhole_labels_index(lab, "maybe", 5, &item), PINHOLE_ENOTFOUND, "unknown");
    CHECK_EQ_INT(pinhole_labels_index(lab, "yes\0", 4, &item), PINHOLE_ENOTFOUND, "exact bytes");
    pinhole_labels_free(lab);
    pinhole_collection_free(col);
    /* a repeated label, and a list of the wrong length, are refused even when signed */
    static const char *const twice[] = {"a", "b", "a"};
    col = labelled(twice, 3, 3, 0, list, sizeof list, &len);
    CHECK_EQ_INT(pinhole_labels_new(&lab, col, list, len), PINHOLE_EFORMAT, "repeated label");
    pinhole_collection_free(col);
    col = labelled(yes_no, 2, 3, PINHOLE_NO_OTHER_ITEM, list, sizeof list, &len);
    CHECK_EQ_INT(pinhole_labels_new(&lab, col, list, len), PINHOLE_EFORMAT, "2 labels for k = 3");
    pinhole_collection_free(col);
    /* many labels: every one maps back to its item */
    enum { K = 300 };
    static char names[K][8];
    const char *ptrs[K];
    for (int i = 0; i < K; i++) {
        snprintf(names[i], sizeof names[i], "w%d", (i * 7919) % 1000);
        ptrs[i] = names[i];
    }
    static uint8_t big[K * 12 + 8];
    col = labelled(ptrs, K, K, PINHOLE_NO_OTHER_ITEM, big, sizeof big, &len);
    CHECK_EQ_INT(pinhole_labels_new(&lab, col, big, len), PINHOLE_OK, "300 labels");
    int all = 1;
    for (int i = 0; i < K && lab; i++)
        all &= pinhole_labels_index(lab, names[i], strlen(names[i]), &item) == PINHOLE_OK &&
               item == (uint64_t)i;
    CHECK(all, "every label maps to its item");
    pinhole_labels_free(lab);
    pinhole_collection_free(col);
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
    pinhole_collection_clear(&col);
}

static void test_every_mechanism(void)
{
    /* every mechanism of the table through the public API and the wire format, with payloads of
     * up to k bits (unary encodings: 1000 bits, far beyond a machine word) */
    size_t n_mech = 0;
    const pinhole_mechanism_ops *all = pinhole_mechanism_all(&n_mech);
    CHECK(n_mech >= 1, "mechanisms");
    uint8_t pk[32], sk[64], sig[PINHOLE_CONFIG_SIGNEDBYTES];
    pinhole_collection_config_keypair(pk, sk);
    static uint8_t buf[PINHOLE_REPORT_HEADERBYTES + 4096];
    for (size_t m = 0; m < n_mech; m++) {
        pinhole_config_params p = {.mechanism = all[m].id, .k = 1000, .epsilon = 1.0};
        pinhole_collection_config cfg;
        pinhole_collection col;
        int rc = pinhole_collection_config_make(&cfg, 40 + m, &p, 60, 0);
        if (rc == PINHOLE_OK)
            rc = pinhole_collection_config_sign(&cfg, sk, sig);
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
        pinhole_collection_clear(&col);
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
    pinhole_client_clear(&cl);
    pinhole_collection_clear(&col);
}

int main(void)
{
    test_report_roundtrip();
    test_signed();
    test_policy();
    test_budget_threads();
    test_memoize();
    test_rappor_instantaneous();
    test_labels();
    test_sealed();
    test_every_mechanism();
    test_batch();
    return check_summary("test_client");
}
