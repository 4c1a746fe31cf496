/* The public API as an app sees it: only <pinhole/pinhole.h> on the include path, linked with the
 * shared library. The same file is compiled as C and as C++ (g++, clang++) and checked as
 * Objective-C, so the header must stay valid in all of them: no C11-only types, extern "C".
 * Checks: sizes as functions, error texts, hex helpers, a signed config from the test vectors
 * (proto/vectors/v1.txt), every mechanism through pinhole_client_report, the budget mutex with
 * slow callbacks under concurrent reports, batches of reports, the outbox, and labels
 * (proto/vectors/v1.txt). */
#include <pinhole/pinhole.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int failures, checks;
#define CHECK(cond, what)                                                                          \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: check failed: %s (%s)\n", __FILE__, __LINE__, #cond, what);    \
        }                                                                                          \
    } while (0)

/* [signed.pgr-k1024] of proto/vectors/v1.txt: collection 7, PGR, k = 1024, epsilon 4 */
static const char VECTOR_PK[] = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
static const char VECTOR_SIGNED[] =
    "010100000700000000000000000400000000000000000000000010404300000003000000100e000064000000000000"
    "00000000000000000000000000000000000000000000000000f73dcdbf5b501f61593e4bc83cdc1b2531f63a2c4cdc"
    "2b2db8e162384067907be8bda96a6785b0a43b49c5c9f45495989ad91023297ea7bcd014f697c65ac602";

/* [signed.labels-k4] and [labels.labels-k4]: collection 9, GRR, k = 4, labels alpha, beta, été,
 * other; unknown labels map to item 3 */
static const char VECTOR_LABELS_SIGNED[] =
    "0202000009000000000000000400000000000000000000000000f03f0000000000000000805101000000000000"
    "00000000000000000000000000000000000000000000000000000034f9bab0b119143cf98de140da11551f8d59"
    "f9da7fc4d65eceda8cf2a63c2fcb03000000000000007d3eff9861e6461e037a279ac6074eb464a16459f83ad2"
    "28e2b53feb713421612cd6cd0e13e12b7c03bdafe200c4cae8f6d8d38888bed1f7f7f848a6ba3ea30d";
static const char VECTOR_LABELS_LIST[] =
    "040000000000000005000000616c706861040000006265746105000000c3a974c3a9050000006f74686572";

static void test_sizes_and_errors(void)
{
    CHECK(strcmp(pinhole_version_string(), PINHOLE_VERSION_STRING) == 0, "version");
    CHECK(pinhole_library_version_major() == PINHOLE_LIBRARY_VERSION_MAJOR, "major");
    CHECK(pinhole_library_version_minor() == PINHOLE_LIBRARY_VERSION_MINOR, "minor");
    CHECK(pinhole_device_secretbytes() == PINHOLE_DEVICE_SECRETBYTES, "secret");
    CHECK(pinhole_report_maxbytes() == PINHOLE_REPORT_MAXBYTES, "report max");
    CHECK(pinhole_sealbytes() == 48 && PINHOLE_SEALBYTES == 48, "seal");
    CHECK(pinhole_sealed_maxbytes() == PINHOLE_SEALED_MAXBYTES, "sealed max");
    CHECK(pinhole_collection_config_signedbytes() == 136 && PINHOLE_CONFIG_SIGNEDBYTES == 136,
          "signed");
    CHECK(pinhole_collection_config_publickeybytes() == 32, "config pk");
    CHECK(pinhole_seal_publickeybytes() == 32, "seal pk");
    for (int code = 0; code >= PINHOLE_ELAST; code--)
        CHECK(strcmp(pinhole_strerror(code), "unknown error") != 0, "every code has a text");
    CHECK(strcmp(pinhole_strerror(1), "unknown error") == 0, "unknown code");
}

static void test_hex(void)
{
    uint8_t b[4];
    size_t n = 0;
    CHECK(pinhole_hex_decode("00fFa1", b, sizeof b, &n) == PINHOLE_OK && n == 3, "decode");
    CHECK(b[0] == 0x00 && b[1] == 0xff && b[2] == 0xa1, "decoded bytes");
    CHECK(pinhole_hex_decode("", b, sizeof b, &n) == PINHOLE_OK && n == 0, "empty");
    CHECK(pinhole_hex_decode("abc", b, sizeof b, &n) == PINHOLE_EFORMAT, "odd length");
    CHECK(pinhole_hex_decode("zz", b, sizeof b, &n) == PINHOLE_EFORMAT, "not hex");
    CHECK(pinhole_hex_decode("00 1", b, sizeof b, &n) == PINHOLE_EFORMAT, "space");
    CHECK(pinhole_hex_decode("0011223344", b, sizeof b, &n) == PINHOLE_EBUFSIZE, "too long");
    CHECK(pinhole_hex_decode(NULL, b, sizeof b, &n) == PINHOLE_EINVAL, "NULL");
    char s[7];
    const uint8_t in[3] = {0xde, 0xad, 0x01};
    CHECK(pinhole_hex_encode(in, 3, s, sizeof s) == PINHOLE_OK && strcmp(s, "dead01") == 0,
          "encode");
    CHECK(pinhole_hex_encode(in, 3, s, 6) == PINHOLE_EBUFSIZE, "no room for the NUL");
    uint8_t s1[PINHOLE_DEVICE_SECRETBYTES], s2[PINHOLE_DEVICE_SECRETBYTES];
    pinhole_device_secret_generate(s1);
    pinhole_device_secret_generate(s2);
    CHECK(memcmp(s1, s2, sizeof s1) != 0, "fresh secrets differ");
}

static void test_signed(void)
{
    uint8_t pk[PINHOLE_CONFIG_PUBLICKEYBYTES], cfg[PINHOLE_CONFIG_SIGNEDBYTES];
    size_t n = 0;
    CHECK(pinhole_hex_decode(VECTOR_PK, pk, sizeof pk, &n) == PINHOLE_OK && n == sizeof pk, "pk");
    CHECK(pinhole_hex_decode(VECTOR_SIGNED, cfg, sizeof cfg, &n) == PINHOLE_OK && n == sizeof cfg,
          "signed config");
    pinhole_collection *col = NULL;
    CHECK(pinhole_collection_new_signed(&col, cfg, sizeof cfg, pk) == PINHOLE_OK, "verified");
    if (!col)
        return;
    CHECK(pinhole_collection_id(col) == 7 && pinhole_collection_k(col) == 1024, "id, k");
    CHECK(pinhole_collection_mechanism(col) == PINHOLE_MECH_PGR, "PGR");
    CHECK(pinhole_collection_epsilon(col) == 4.0, "epsilon");
    CHECK(pinhole_collection_epsilon_permanent(col) == 4.0, "no instantaneous step");
    /* q = 67, t = 3: a hyperplane index below (67^3 - 1) / 66 = 4557 fits 2 bytes */
    CHECK(pinhole_collection_reportbytes(col) == 58, "56 + 2 payload bytes");
    CHECK(pinhole_collection_sealedbytes(col) == 58 + 48, "sealed");
    pinhole_collection_free(col);

    cfg[100] ^= 1;
    col = (pinhole_collection *)1;
    CHECK(pinhole_collection_new_signed(&col, cfg, sizeof cfg, pk) == PINHOLE_ESIGNATURE,
          "altered signature");
    CHECK(col == NULL, "*out NULL on error");
    cfg[100] ^= 1;
    CHECK(pinhole_collection_new_signed(&col, cfg, sizeof cfg - 1, pk) == PINHOLE_ETRUNCATED,
          "short");
    pinhole_collection_free(NULL);
}

static void test_mechanisms(void)
{
    static const pinhole_mechanism_id mechs[] = {
        PINHOLE_MECH_PGR, PINHOLE_MECH_GRR, PINHOLE_MECH_OUE, PINHOLE_MECH_SUE,
        PINHOLE_MECH_OLH, PINHOLE_MECH_HR,  PINHOLE_MECH_SS,  PINHOLE_MECH_HPGR};
    uint8_t secret[PINHOLE_DEVICE_SECRETBYTES];
    pinhole_device_secret_generate(secret);
    pinhole_client *cl = NULL;
    CHECK(pinhole_client_new(&cl, NULL, secret) == PINHOLE_OK, "client");
    for (size_t i = 0; i < sizeof mechs / sizeof mechs[0]; i++) {
        pinhole_collection *col = NULL;
        CHECK(pinhole_collection_new_params(&col, mechs[i], 64, 2.0) == PINHOLE_OK, "collection");
        if (!col)
            continue;
        CHECK(pinhole_collection_mechanism(col) == mechs[i] && pinhole_collection_k(col) == 64,
              "parameters");
        uint8_t a[PINHOLE_REPORT_HEADERBYTES + 64], b[sizeof a];
        size_t na = 0, nb = 0;
        CHECK(pinhole_client_report(cl, col, 63, 1700000000, 0, a, sizeof a, &na) == PINHOLE_OK,
              "report");
        CHECK(na == pinhole_collection_reportbytes(col), "its size");
        CHECK(pinhole_client_report(cl, col, 64, 1700000000, 0, a, sizeof a, &na) == PINHOLE_ERANGE,
              "value k");
        CHECK(pinhole_client_report(cl, col, 1, 1700000000, 2, a, sizeof a, &na) == PINHOLE_EINVAL,
              "unknown flag");
        CHECK(pinhole_client_report(cl, col, 1, 0, 0, a, na - 1, &na) == PINHOLE_EBUFSIZE, "cap");
        /* memoized, no instantaneous step (epsilon_permanent = epsilon): one payload */
        CHECK(pinhole_client_report(cl, col, 5, 1, PINHOLE_REPORT_MEMOIZE, a, sizeof a, &na) ==
                  PINHOLE_OK,
              "memoized");
        CHECK(pinhole_client_report(cl, col, 5, 2, PINHOLE_REPORT_MEMOIZE, b, sizeof b, &nb) ==
                  PINHOLE_OK,
              "memoized again");
        CHECK(na == nb && memcmp(a + PINHOLE_REPORT_HEADERBYTES, b + PINHOLE_REPORT_HEADERBYTES,
                                 na - PINHOLE_REPORT_HEADERBYTES) == 0,
              "same payload");
        pinhole_collection_free(col);
    }
    pinhole_client_free(cl);
    CHECK(pinhole_client_new(&cl, NULL, NULL) == PINHOLE_OK, "client without a secret");
    pinhole_collection *col = NULL;
    pinhole_collection_new_params(&col, PINHOLE_MECH_PGR, 16, 1.0);
    uint8_t out[PINHOLE_REPORT_HEADERBYTES + 8];
    size_t n;
    CHECK(pinhole_client_report(cl, col, 1, 0, PINHOLE_REPORT_MEMOIZE, out, sizeof out, &n) ==
              PINHOLE_EINVAL,
          "memoize needs a secret");
    pinhole_collection_free(col);
    pinhole_client_free(cl);
    pinhole_policy bad;
    memset(&bad, 0, sizeof bad);
    bad.budget_epsilon = 1;
    cl = (pinhole_client *)1;
    CHECK(pinhole_client_new(&cl, &bad, NULL) == PINHOLE_EINVAL && cl == NULL, "bad policy");
    CHECK(pinhole_collection_new_params(&col, PINHOLE_MECH_PGR, 1, 1.0) == PINHOLE_EINVAL &&
              col == NULL,
          "k = 1");
}

/* A budget store whose callbacks sleep (as file or keystore I/O does) and detect overlap: under
 * the client's mutex two callbacks never run at once and no report overspends. */
typedef struct slow_store {
    double spent;
    int inside, overlaps;
} slow_store;

static void nap(void)
{
    struct timespec ts = {0, 200000}; /* 0.2 ms */
    nanosleep(&ts, NULL);
}

static int slow_load(void *ctx, uint64_t period, double *spent)
{
    slow_store *s = (slow_store *)ctx;
    (void)period;
    s->overlaps += s->inside++ != 0;
    nap();
    *spent = s->spent;
    s->inside--;
    return PINHOLE_OK;
}

static int slow_write(void *ctx, uint64_t period, double spent)
{
    slow_store *s = (slow_store *)ctx;
    (void)period;
    s->overlaps += s->inside++ != 0;
    nap();
    s->spent = spent;
    s->inside--;
    return PINHOLE_OK;
}

typedef struct worker {
    pinhole_client *cl;
    pinhole_collection *col;
    int accepted, refused, other;
} worker;

static void *report_many(void *arg)
{
    worker *w = (worker *)arg;
    uint8_t out[PINHOLE_REPORT_HEADERBYTES + 8];
    size_t n;
    for (int i = 0; i < 20; i++) {
        int rc = pinhole_client_report(w->cl, w->col, 3, 1700000000, 0, out, sizeof out, &n);
        w->accepted += rc == PINHOLE_OK;
        w->refused += rc == PINHOLE_EPOLICY;
        w->other += rc != PINHOLE_OK && rc != PINHOLE_EPOLICY;
    }
    return NULL;
}

static void test_budget_threads(void)
{
    slow_store st;
    memset(&st, 0, sizeof st);
    pinhole_policy p;
    memset(&p, 0, sizeof p);
    p.budget_epsilon = 25; /* 25 reports of epsilon 1 */
    p.budget_period = 86400;
    p.load = slow_load;
    p.store = slow_write;
    p.ctx = &st;
    pinhole_client *cl = NULL;
    pinhole_collection *col = NULL;
    CHECK(pinhole_client_new(&cl, &p, NULL) == PINHOLE_OK, "client");
    CHECK(pinhole_collection_new_params(&col, PINHOLE_MECH_GRR, 8, 1.0) == PINHOLE_OK, "GRR");
    worker w[4];
    pthread_t th[4];
    memset(w, 0, sizeof w);
    for (int i = 0; i < 4; i++) {
        w[i].cl = cl;
        w[i].col = col;
        pthread_create(&th[i], NULL, report_many, &w[i]);
    }
    int accepted = 0, refused = 0, other = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        accepted += w[i].accepted;
        refused += w[i].refused;
        other += w[i].other;
    }
    CHECK(accepted == 25 && refused == 55 && other == 0, "exactly the budget's 25 reports");
    CHECK(st.spent == 25 && st.overlaps == 0, "callbacks one at a time");
    pinhole_collection_free(col);
    pinhole_client_free(cl);
}

/* pinhole_client_report_batch: n reports back to back, each as pinhole_client_report() frames
 * it (same header but for its own report id), the budget charged n epsilon at once or not at
 * all, bad input refusing the whole batch; each report goes into a plain outbox. */
typedef struct mem_store {
    double spent;
    int stores;
} mem_store;

static int mem_load(void *ctx, uint64_t period, double *spent)
{
    (void)period;
    *spent = ((mem_store *)ctx)->spent;
    return PINHOLE_OK;
}

static int mem_write(void *ctx, uint64_t period, double spent)
{
    (void)period;
    ((mem_store *)ctx)->spent = spent;
    ((mem_store *)ctx)->stores++;
    return PINHOLE_OK;
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

static void test_report_batch(void)
{
    mem_store st;
    memset(&st, 0, sizeof st);
    pinhole_policy p;
    memset(&p, 0, sizeof p);
    p.budget_epsilon = 50;
    p.budget_period = 86400;
    p.load = mem_load;
    p.store = mem_write;
    p.ctx = &st;
    static const pinhole_mechanism_id mechs[] = {PINHOLE_MECH_PGR, PINHOLE_MECH_GRR,
                                                 PINHOLE_MECH_SUE};
    for (size_t m = 0; m < sizeof mechs / sizeof mechs[0]; m++) {
        pinhole_client *cl = NULL;
        pinhole_collection *col = NULL;
        st.spent = 0;
        st.stores = 0;
        CHECK(pinhole_client_new(&cl, &p, NULL) == PINHOLE_OK, "client");
        CHECK(pinhole_collection_new_params(&col, mechs[m], 64, 2.0) == PINHOLE_OK, "collection");
        if (!cl || !col)
            return;
        enum { N = 20 };
        const size_t rb = pinhole_collection_reportbytes(col);
        uint8_t out[N * (PINHOLE_REPORT_HEADERBYTES + 8)], one[PINHOLE_REPORT_HEADERBYTES + 8];
        uint64_t values[N];
        for (int i = 0; i < N; i++)
            values[i] = (uint64_t)(i * 7) % 64;
        size_t written = 1, n1 = 0;
        CHECK(rb <= sizeof one, "room");
        CHECK(pinhole_client_report_batch(cl, col, values, N, 1700000000, 0, out, sizeof out,
                                          &written) == PINHOLE_OK,
              "batch");
        CHECK(written == N * rb, "n reports written");
        CHECK(st.spent == 2.0 * N && st.stores == 1, "n epsilon charged once");
        CHECK(pinhole_client_report(cl, col, 3, 1700000000, 0, one, sizeof one, &n1) == PINHOLE_OK,
              "one report");
        pinhole_outbox *ob = NULL;
        CHECK(pinhole_outbox_new(&ob, col, 0, 65536) == PINHOLE_OK, "outbox");
        for (int i = 0; i < N; i++) {
            const uint8_t *r = out + (size_t)i * rb;
            /* version .. fingerprint (0..32) and time (48..56) as the single path writes them */
            CHECK(n1 == rb && memcmp(r, one, 32) == 0 && memcmp(r + 48, one + 48, 8) == 0,
                  "the single report's header");
            CHECK(i == 0 || memcmp(r + 32, r - rb + 32, PINHOLE_REPORT_IDBYTES) != 0,
                  "fresh report ids");
            CHECK(ob && pinhole_outbox_add(ob, r, rb, 1700000000) == PINHOLE_OK, "into the outbox");
        }
        CHECK(ob && pinhole_outbox_pending(ob) == N, "every report pending");
        pinhole_outbox_free(ob);
        CHECK(pinhole_client_report_batch(cl, col, values, N, 1700000000, 0, out, N * rb - 1,
                                          &written) == PINHOLE_EBUFSIZE,
              "cap below n reports");
        /* 20 more would spend 40 > 50 - 42: refused whole, nothing charged, nothing left */
        CHECK(pinhole_client_report_batch(cl, col, values, N, 1700000000, 0, out, sizeof out,
                                          &written) == PINHOLE_EPOLICY,
              "over the budget");
        CHECK(written == 0 && st.spent == 2.0 * N + 2.0 && all_zero(out, N * rb),
              "nothing charged, nothing left");
        values[5] = 64;
        CHECK(pinhole_client_report_batch(cl, col, values, N, 1800000000, 0, out, sizeof out,
                                          &written) == PINHOLE_ERANGE,
              "a value = k");
        CHECK(pinhole_client_report_batch(cl, col, values, 1, 1800000000, PINHOLE_REPORT_MEMOIZE,
                                          out, sizeof out, &written) == PINHOLE_EINVAL,
              "flags must be 0");
        CHECK(st.spent == 2.0 * N + 2.0, "refusals charge nothing");
        pinhole_collection_free(col);
        pinhole_client_free(cl);
    }
}

/* Labels: the list verified against the signed config's hash, label -> item, the "other" item. */
static void test_labels(void)
{
    uint8_t pk[32], cfg[PINHOLE_CONFIG_SIGNED_MAXBYTES], list[64];
    size_t cfg_len = 0, list_len = 0;
    pinhole_hex_decode(VECTOR_PK, pk, sizeof pk, NULL);
    CHECK(pinhole_hex_decode(VECTOR_LABELS_SIGNED, cfg, sizeof cfg, &cfg_len) == PINHOLE_OK &&
              cfg_len == PINHOLE_CONFIG_SIGNED_MAXBYTES,
          "176-byte signed config");
    CHECK(pinhole_hex_decode(VECTOR_LABELS_LIST, list, sizeof list, &list_len) == PINHOLE_OK,
          "list");
    pinhole_collection *col = NULL, *plain = NULL;
    CHECK(pinhole_collection_new_signed(&col, cfg, cfg_len, pk) == PINHOLE_OK, "verified");
    if (!col)
        return;
    CHECK(pinhole_collection_has_labels(col) && pinhole_collection_k(col) == 4, "has labels");
    pinhole_labels *lab = NULL;
    CHECK(pinhole_labels_new(&lab, col, list, list_len) == PINHOLE_OK, "labels verified");
    if (lab) {
        uint64_t item = 99;
        CHECK(pinhole_labels_count(lab) == 4, "count");
        CHECK(pinhole_labels_index(lab, "beta", 4, &item) == PINHOLE_OK && item == 1, "beta");
        CHECK(pinhole_labels_index(lab, "\xc3\xa9t\xc3\xa9", 5, &item) == PINHOLE_OK && item == 2,
              "UTF-8 label");
        CHECK(pinhole_labels_index(lab, "alpha", 5, &item) == PINHOLE_OK && item == 0, "alpha");
        CHECK(pinhole_labels_index(lab, "alph", 4, &item) == PINHOLE_OK && item == 3,
              "a prefix is unknown: the other item");
        CHECK(pinhole_labels_index(lab, "zebra", 5, &item) == PINHOLE_OK && item == 3, "other");
        CHECK(pinhole_labels_index(lab, NULL, 0, &item) == PINHOLE_EINVAL, "NULL label");
        const char *l = NULL;
        size_t n = 0;
        CHECK(pinhole_labels_get(lab, 3, &l, &n) == PINHOLE_OK && n == 5 &&
                  memcmp(l, "other", 5) == 0,
              "item 3");
        CHECK(pinhole_labels_get(lab, 4, &l, &n) == PINHOLE_ERANGE, "item k");
    }
    pinhole_labels_free(lab);
    list[20] ^= 1; /* "beta" -> "ceta" */
    lab = (pinhole_labels *)1;
    CHECK(pinhole_labels_new(&lab, col, list, list_len) == PINHOLE_ESIGNATURE && lab == NULL,
          "an altered list");
    list[20] ^= 1;
    CHECK(pinhole_labels_new(&lab, col, list, list_len - 1) == PINHOLE_ESIGNATURE, "a cut list");
    pinhole_collection_new_params(&plain, PINHOLE_MECH_GRR, 4, 1.0);
    CHECK(!pinhole_collection_has_labels(plain), "no labels");
    CHECK(pinhole_labels_new(&lab, plain, list, list_len) == PINHOLE_ENOTFOUND, "no labels");
    pinhole_labels_free(NULL);
    pinhole_collection_free(plain);
    pinhole_collection_free(col);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The outbox: batches within the size cap holding every report once, in order, the same bytes
 * until done, a new batch at the 17th time unit, and the retry rule. */
static void test_outbox(void)
{
    pinhole_collection *col = NULL;
    pinhole_client *cl = NULL;
    pinhole_collection_new_params(&col, PINHOLE_MECH_PGR, 1024, 2.0);
    pinhole_client_new(&cl, NULL, NULL);
    const size_t rb = pinhole_collection_reportbytes(col);
    pinhole_outbox *ob = (pinhole_outbox *)1;
    CHECK(pinhole_outbox_new(&ob, col, 0, 8 + 4 + rb - 1) == PINHOLE_EINVAL && ob == NULL,
          "cap below one report");
    CHECK(pinhole_outbox_new(&ob, col, 4, 1000) == PINHOLE_EINVAL, "unknown flag");
    CHECK(pinhole_outbox_new(&ob, col, 0, 1000) == PINHOLE_OK, "outbox");
    const uint8_t *body = NULL;
    size_t len = 1;
    CHECK(pinhole_outbox_next(ob, &body, &len) == 0 && body == NULL && len == 0, "empty");
    uint8_t first[PINHOLE_REPORT_HEADERBYTES + 8], r[sizeof first];
    size_t n = 0;
    enum { REPORTS = 100 };
    for (int i = 0; i < REPORTS; i++) {
        CHECK(pinhole_client_report(cl, col, (uint64_t)i, 1700000000, 0, r, sizeof r, &n) ==
                  PINHOLE_OK,
              "report");
        if (i == 0)
            memcpy(first, r, n);
        CHECK(pinhole_outbox_add(ob, r, n, 1700000000) == PINHOLE_OK, "add");
    }
    CHECK(pinhole_outbox_pending(ob) == REPORTS, "pending");
    CHECK(pinhole_outbox_add(ob, r, 0, 0) == PINHOLE_EINVAL, "empty report");
    uint8_t big[1000];
    memset(big, 1, sizeof big);
    CHECK(pinhole_outbox_add(ob, big, 1000 - 8 - 3, 0) == PINHOLE_ETOOBIG, "over one batch");
    const size_t per_batch = (1000 - 8) / (4 + rb);
    size_t batches = 0, total = 0, bytes = 0;
    const size_t pending_bytes = pinhole_outbox_pending_bytes(ob);
    while (pinhole_outbox_next(ob, &body, &len)) {
        const uint8_t *again = NULL;
        size_t len2 = 0;
        pinhole_outbox_next(ob, &again, &len2);
        CHECK(again == body && len2 == len, "the same batch until done");
        CHECK(len <= 1000 && body[0] == 1 && body[1] == 0, "version 1, plain, within the cap");
        const uint32_t count = le32(body + 4);
        CHECK(len == 8 + count * (4 + rb), "framing");
        CHECK(count == per_batch || total + count == REPORTS, "full batches but the last");
        if (batches == 0)
            CHECK(le32(body + 8) == rb && memcmp(body + 12, first, rb) == 0, "first report first");
        total += count;
        bytes += len;
        batches++;
        pinhole_outbox_done(ob);
        CHECK(pinhole_outbox_pending(ob) == REPORTS - total, "pending after done");
    }
    CHECK(total == REPORTS && batches == (REPORTS + per_batch - 1) / per_batch,
          "every report once");
    CHECK(bytes == pending_bytes && pinhole_outbox_pending_bytes(ob) == 0, "pending bytes");

    /* 17 time units (local collections count seconds): 16 in the first batch, the 17th apart;
     * a batch returned by next stays put while reports are added */
    for (int i = 0; i < 17; i++)
        pinhole_outbox_add(ob, r, n, 1700000000 + (uint64_t)i);
    pinhole_outbox_next(ob, &body, &len);
    CHECK(le32(body + 4) == 16, "16 time units in one batch");
    const uint8_t *held = body;
    pinhole_outbox_add(ob, r, n, 1700000000);
    pinhole_outbox_next(ob, &body, &len);
    CHECK(body == held && le32(body + 4) == 16, "adding does not move the batch");
    pinhole_outbox_done(ob);
    pinhole_outbox_next(ob, &body, &len);
    CHECK(le32(body + 4) == 2 && pinhole_outbox_pending(ob) == 2, "the rest");
    pinhole_outbox_free(ob);

    /* sealed */
    uint8_t seal_pk[32];
    pinhole_hex_decode("30f3af217c81f948b0b340da6b9d4e15b2c7b07e8586ab598b59e444c9a15251", seal_pk,
                       sizeof seal_pk, NULL);
    CHECK(pinhole_outbox_new(&ob, col, PINHOLE_OUTBOX_SEALED, 65536) == PINHOLE_OK, "sealed");
    uint8_t sealed[PINHOLE_REPORT_HEADERBYTES + 8 + PINHOLE_SEALBYTES];
    CHECK(pinhole_client_report_sealed(cl, col, 3, 1700000000, 0, seal_pk, sealed, sizeof sealed,
                                       &n) == PINHOLE_OK,
          "sealed report");
    CHECK(pinhole_outbox_add(ob, sealed, n, 1700000000) == PINHOLE_OK, "add sealed");
    CHECK(pinhole_outbox_next(ob, &body, &len) == 1 && body[1] == 1 && len == 12 + n, "kind 1");
    pinhole_outbox_free(ob);
    pinhole_outbox_free(NULL);

    static const int retry[] = {0, 408, 429, 500, 502, 503, 504};
    static const int final_[] = {200, 201, 204, 400, 401, 403, 404, 413, 415, 422};
    for (size_t i = 0; i < sizeof retry / sizeof retry[0]; i++)
        CHECK(pinhole_http_should_retry(retry[i]) == 1, "retry");
    for (size_t i = 0; i < sizeof final_ / sizeof final_[0]; i++)
        CHECK(pinhole_http_should_retry(final_[i]) == 0, "done");
    pinhole_client_free(cl);
    pinhole_collection_free(col);
}

/* Discovery through the public header: the string checks, and a round config refused before
 * anything is built (a full round, signed by a server, is tested end to end in tests/server). */
static void test_discovery(void)
{
    const uint8_t ok[] = "caf\xc3\xa9", bad[] = "a\xc3", nul[] = {'a', 0, 'b'};
    uint8_t longer[PINHOLE_DISCOVERY_MAXLEN + 1];
    memset(longer, 'a', sizeof longer);
    CHECK(pinhole_discovery_check(ok, 5) == PINHOLE_OK, "UTF-8 string");
    CHECK(pinhole_discovery_check(ok, 0) == PINHOLE_EINVAL, "empty string");
    CHECK(pinhole_discovery_check(bad, 2) == PINHOLE_EFORMAT, "truncated UTF-8");
    CHECK(pinhole_discovery_check(nul, 3) == PINHOLE_EFORMAT, "NUL byte");
    CHECK(pinhole_discovery_check(longer, PINHOLE_DISCOVERY_MAXLEN) == PINHOLE_OK, "longest");
    CHECK(pinhole_discovery_check(longer, sizeof longer) == PINHOLE_ETOOBIG, "too long");
    uint8_t pk[32] = {0}, cfg[200] = {0};
    pinhole_discovery_round *r = (pinhole_discovery_round *)&r; /* must be reset to NULL */
    CHECK(pinhole_discovery_round_new_signed(&r, cfg, 100, pk) == PINHOLE_ETRUNCATED && !r,
          "short round config");
    r = (pinhole_discovery_round *)&r;
    CHECK(pinhole_discovery_round_new_signed(&r, cfg, sizeof cfg, pk) == PINHOLE_ESIGNATURE && !r,
          "unsigned round config");
    pinhole_discovery_round_free(NULL);
}

/* The multi-attribute device API: pairs and their collections, the report of a tuple through the
 * pair drawn, and the handle made from a signed config (the vector's k = 1024 is 32 x 32). */
static void test_multi(void)
{
    const uint32_t k[3] = {2, 3, 4};
    pinhole_multi *mc = NULL;
    pinhole_multi_free(NULL);
    CHECK(pinhole_multi_new_params(&mc, 10, 0, k, PINHOLE_MECH_PGR, 1.0) == PINHOLE_EINVAL && !mc,
          "d = 0");
    CHECK(pinhole_multi_new_params(&mc, 10, 3, k, PINHOLE_MECH_PGR, 1.0) == PINHOLE_OK && mc,
          "made");
    if (!mc)
        return;
    CHECK(pinhole_multi_pairs(mc) == 3, "3 pairs");
    uint32_t j = 9, l = 9;
    CHECK(pinhole_multi_pair(mc, 2, &j, &l) == PINHOLE_OK && j == 1 && l == 2, "pair 2 = (1, 2)");
    CHECK(pinhole_multi_pair(mc, 3, &j, &l) == PINHOLE_ERANGE, "no pair 3");
    CHECK(pinhole_multi_collection(mc, 3) == NULL, "no collection 3");
    size_t most = 0;
    for (uint32_t p = 0; p < 3; p++) {
        const pinhole_collection *c = pinhole_multi_collection(mc, p);
        CHECK(pinhole_collection_id(c) == 10 + p, "pair ids from base_id");
        const uint64_t cells[3] = {6, 8, 12};
        CHECK(pinhole_collection_k(c) == cells[p], "product domain");
        if (pinhole_collection_reportbytes(c) > most)
            most = pinhole_collection_reportbytes(c);
    }
    CHECK(pinhole_multi_reportbytes(mc) == most, "the largest report");
    pinhole_client *cl = NULL;
    CHECK(pinhole_client_new(&cl, NULL, NULL) == PINHOLE_OK, "client");
    uint8_t out[256];
    size_t written = 0;
    uint32_t pair = 9, seen[3] = {0, 0, 0};
    const uint32_t x[3] = {1, 2, 3}, bad[3] = {1, 2, 4};
    for (int i = 0; i < 300; i++) {
        CHECK(pinhole_multi_report(cl, mc, x, 1000, 0, out, sizeof out, &written, &pair) ==
                      PINHOLE_OK &&
                  pair < 3,
              "report");
        if (pair < 3) {
            seen[pair]++;
            CHECK(written == pinhole_collection_reportbytes(pinhole_multi_collection(mc, pair)),
                  "the pair's report size");
        }
    }
    CHECK(seen[0] && seen[1] && seen[2], "every pair drawn in 300 reports");
    CHECK(pinhole_multi_report(cl, mc, bad, 1000, 0, out, sizeof out, &written, &pair) ==
              PINHOLE_ERANGE,
          "a value out of its domain");
    CHECK(pinhole_multi_report(cl, mc, x, 1000, PINHOLE_REPORT_MEMOIZE, out, sizeof out, &written,
                               NULL) == PINHOLE_EINVAL,
          "memoize needs a device secret");
    uint8_t seal_pk[PINHOLE_SEAL_PUBLICKEYBYTES] = {9}; /* X25519's base point: a usable key */
    CHECK(pinhole_multi_report_sealed(cl, mc, x, 1000, 0, seal_pk, out, sizeof out, &written,
                                      &pair) == PINHOLE_OK &&
              pair < 3 &&
              written ==
                  pinhole_collection_sealedbytes(pinhole_multi_collection(mc, pair < 3 ? pair : 0)),
          "sealed: the pair's sealed size");
    CHECK(pinhole_multi_report_sealed(cl, mc, x, 1000, 0, seal_pk, out, 10, &written, &pair) ==
              PINHOLE_EBUFSIZE,
          "sealed: a short buffer");
    pinhole_client_free(cl);
    pinhole_multi_free(mc);

    uint8_t pk[PINHOLE_CONFIG_PUBLICKEYBYTES], cfg[PINHOLE_CONFIG_SIGNEDBYTES];
    size_t n = 0;
    pinhole_hex_decode(VECTOR_PK, pk, sizeof pk, &n);
    pinhole_hex_decode(VECTOR_SIGNED, cfg, sizeof cfg, &n);
    const uint8_t *cfgs[1] = {cfg};
    const uint32_t k32[2] = {32, 32}, k16[2] = {16, 32};
    mc = NULL;
    CHECK(pinhole_multi_new_signed(&mc, 2, k16, cfgs, pk) == PINHOLE_EINVAL && !mc,
          "k = 1024 is not 16 x 32");
    CHECK(pinhole_multi_new_signed(&mc, 2, k32, cfgs, pk) == PINHOLE_OK && mc, "verified");
    if (mc)
        CHECK(pinhole_collection_id(pinhole_multi_collection(mc, 0)) == 7, "the server's id");
    pinhole_multi_free(mc);
    cfg[10] ^= 1;
    mc = NULL;
    CHECK(pinhole_multi_new_signed(&mc, 2, k32, cfgs, pk) == PINHOLE_ESIGNATURE && !mc,
          "a tampered config");
}

int main(void)
{
    if (pinhole_init() != PINHOLE_OK) {
        fprintf(stderr, "pinhole_init failed\n");
        return 1;
    }
    test_sizes_and_errors();
    test_hex();
    test_signed();
    test_mechanisms();
    test_budget_threads();
    test_report_batch();
    test_outbox();
    test_labels();
    test_discovery();
    test_multi();
    printf("public_api (%s): %d checks, %d failed\n",
#ifdef __cplusplus
           "C++",
#else
           "C",
#endif
           checks, failures);
    return failures != 0;
}
