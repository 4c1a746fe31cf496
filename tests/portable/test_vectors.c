/* The wire-format test vectors (proto/vectors/v1.txt): every vector decodes to its stated fields
 * or error, and re-encodes to the same bytes, on any byte order and word size. */
#include "common/error.h"
#include "proto/batch.h"
#include "proto/config.h"
#include "proto/labels.h"
#include "proto/report.h"
#include "proto/seal.h"
#include "tests/portable/check.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAXKEYS = 24, MAXSECTIONS = 256 };

typedef struct section {
    char *name;
    int nkeys;
    char *key[MAXKEYS];
    char *val[MAXKEYS];
} section;

static section sections[MAXSECTIONS];
static int nsections;

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Parse "[name]" sections of "key = value" lines; the buffer is kept alive for the strings. */
static int parse(char *text)
{
    section *cur = NULL;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        line = trim(line);
        if (*line == '#' || *line == '\0')
            continue;
        if (*line == '[') {
            if (nsections == MAXSECTIONS)
                return -1;
            cur = &sections[nsections++];
            cur->name = line + 1;
            char *end = strchr(cur->name, ']');
            if (!end)
                return -1;
            *end = '\0';
            continue;
        }
        char *eq = strchr(line, '=');
        if (!cur || !eq || cur->nkeys == MAXKEYS)
            return -1;
        *eq = '\0';
        cur->key[cur->nkeys] = trim(line);
        cur->val[cur->nkeys] = trim(eq + 1);
        cur->nkeys++;
    }
    return 0;
}

static const char *get(const section *s, const char *key)
{
    for (int i = 0; i < s->nkeys; i++)
        if (strcmp(s->key[i], key) == 0)
            return s->val[i];
    return NULL;
}

static const section *find(const char *name)
{
    for (int i = 0; i < nsections; i++)
        if (strcmp(sections[i].name, name) == 0)
            return &sections[i];
    return NULL;
}

static uint64_t get_u64(const section *s, const char *key, int base)
{
    const char *v = get(s, key);
    CHECK(v != NULL, "%s: no %s", s->name, key);
    return v ? strtoull(v, NULL, base) : 0;
}

/* Hex value of key into a new buffer (at least 1 byte allocated); *len its length. */
static uint8_t *get_hex(const section *s, const char *key, size_t *len)
{
    const char *v = get(s, key);
    CHECK(v != NULL, "%s: no %s", s->name, key);
    if (!v)
        v = "";
    size_t n = strlen(v) / 2;
    uint8_t *b = malloc(n + 1);
    size_t got = 0;
    if (sodium_hex2bin(b, n + 1, v, strlen(v), NULL, &got, NULL) != 0)
        got = (size_t)-1;
    CHECK(got == n, "%s: %s is not hex", s->name, key);
    *len = n;
    return b;
}

static int error_code(const char *name)
{
    static const struct {
        const char *name;
        int code;
    } codes[] = {{"ETRUNCATED", PINHOLE_ETRUNCATED},     {"EVERSION", PINHOLE_EVERSION},
                 {"EFORMAT", PINHOLE_EFORMAT},           {"ETOOBIG", PINHOLE_ETOOBIG},
                 {"EUNSUPPORTED", PINHOLE_EUNSUPPORTED}, {"ESIGNATURE", PINHOLE_ESIGNATURE}};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(codes[i].name, name) == 0)
            return codes[i].code;
    CHECK(0, "unknown error name %s", name);
    return 1;
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void check_config(const section *s)
{
    size_t len, fplen;
    uint8_t *enc = get_hex(s, "encoded", &len);
    const char *err = get(s, "error");
    pinhole_collection_config cfg;
    int rc = pinhole_collection_config_decode(enc, len, &cfg);
    if (err) {
        CHECK_EQ_INT(rc, error_code(err), s->name);
        free(enc);
        return;
    }
    CHECK_EQ_INT(rc, PINHOLE_OK, s->name);
    CHECK_EQ_INT(cfg.collection_id == get_u64(s, "collection_id", 10), 1, s->name);
    CHECK_EQ_INT(cfg.params.mechanism, get_u64(s, "mechanism", 10), s->name);
    CHECK_EQ_INT(cfg.params.k == get_u64(s, "k", 10), 1, s->name);
    uint64_t bits = get_u64(s, "epsilon_bits", 16);
    double eps;
    memcpy(&eps, &bits, sizeof eps);
    CHECK(cfg.params.epsilon == eps, "%s: epsilon %.17g != %.17g", s->name, cfg.params.epsilon,
          eps);
    CHECK_EQ_INT(cfg.params.q, get_u64(s, "q", 10), s->name);
    CHECK_EQ_INT(cfg.params.t, get_u64(s, "t", 10), s->name);
    CHECK_EQ_INT(cfg.time_precision, get_u64(s, "time_precision", 10), s->name);
    CHECK_EQ_INT(cfg.min_reports, get_u64(s, "min_reports", 10), s->name);
    const uint64_t perm_bits = get_u64(s, "epsilon_permanent_bits", 16);
    double perm;
    memcpy(&perm, &perm_bits, sizeof perm);
    CHECK(cfg.params.epsilon_permanent == perm, "%s: epsilon_permanent", s->name);
    CHECK_EQ_INT(cfg.params.pool, get_u64(s, "pool", 10), s->name);
    CHECK_EQ_INT(cfg.params.pool_key == get_u64(s, "pool_key", 10), 1, s->name);
    CHECK_EQ_INT(cfg.params.block == get_u64(s, "block", 10), 1, s->name);
    if (get(s, "labels_hash")) { /* version 2 */
        size_t hlen;
        uint8_t *h = get_hex(s, "labels_hash", &hlen);
        CHECK(cfg.has_labels && hlen == sizeof cfg.labels_hash &&
                  memcmp(h, cfg.labels_hash, hlen) == 0,
              "%s: labels hash", s->name);
        CHECK(cfg.other_item == get_u64(s, "other_item", 10), "%s: other item", s->name);
        free(h);
    } else {
        CHECK(!cfg.has_labels, "%s: labels in a version 1 config", s->name);
    }
    uint8_t again[PINHOLE_CONFIG_V2BYTES];
    CHECK_EQ_INT(pinhole_collection_config_encode(&cfg, again), PINHOLE_OK, s->name);
    CHECK(len == pinhole_collection_config_encoded_bytes(&cfg) && memcmp(again, enc, len) == 0,
          "%s: re-encoding differs", s->name);
    uint8_t *fp = get_hex(s, "fingerprint", &fplen), got[PINHOLE_FINGERPRINT_BYTES];
    CHECK_EQ_INT(pinhole_collection_config_fingerprint(&cfg, got), PINHOLE_OK, s->name);
    CHECK(fplen == sizeof got && memcmp(fp, got, sizeof got) == 0, "%s: fingerprint differs",
          s->name);
    free(fp);
    free(enc);
}

static void check_signed(const section *s)
{
    size_t len, pklen;
    uint8_t *sig = get_hex(s, "signed", &len), *pk = get_hex(s, "public_key", &pklen);
    CHECK_EQ_INT(pklen, PINHOLE_CONFIG_PUBLICKEYBYTES, s->name);
    const char *err = get(s, "error");
    pinhole_collection_config cfg;
    int rc = pinhole_collection_config_verify(sig, len, pk, &cfg);
    if (err) {
        CHECK_EQ_INT(rc, error_code(err), s->name);
    } else {
        CHECK_EQ_INT(rc, PINHOLE_OK, s->name);
        /* Ed25519 is deterministic: our signature with the same seed is byte-identical */
        size_t seedlen;
        uint8_t *seed = get_hex(s, "seed", &seedlen);
        uint8_t mypk[32], mysk[64], mine[PINHOLE_CONFIG_SIGNED_MAXBYTES];
        crypto_sign_seed_keypair(mypk, mysk, seed);
        CHECK(memcmp(mypk, pk, 32) == 0, "%s: public key from seed differs", s->name);
        CHECK_EQ_INT(pinhole_collection_config_sign(&cfg, mysk, mine), PINHOLE_OK, s->name);
        CHECK(len == pinhole_collection_config_signed_bytes(&cfg) && memcmp(mine, sig, len) == 0,
              "%s: signature differs", s->name);
        const section *c = find(get(s, "config"));
        CHECK(c != NULL, "%s: config section missing", s->name);
        if (c) {
            size_t clen;
            uint8_t *cb = get_hex(c, "encoded", &clen);
            CHECK(clen <= len && memcmp(cb, sig, clen) == 0, "%s: config prefix", s->name);
            free(cb);
        }
        free(seed);
    }
    free(sig);
    free(pk);
}

/* A label list: its framing and count, and its hash, which the named config carries. */
static void check_labels(const section *s)
{
    size_t len;
    uint8_t *list = get_hex(s, "list", &len);
    const char *err = get(s, "error");
    uint64_t k = 0;
    int rc = pinhole_labels_check(list, len, &k);
    if (err) {
        CHECK_EQ_INT(rc, error_code(err), s->name);
        free(list);
        return;
    }
    CHECK_EQ_INT(rc, PINHOLE_OK, s->name);
    CHECK(k == get_u64(s, "k", 10), "%s: k", s->name);
    size_t hlen;
    uint8_t *h = get_hex(s, "hash", &hlen), got[PINHOLE_LABELS_HASHBYTES];
    pinhole_labels_hash(list, len, got);
    CHECK(hlen == sizeof got && memcmp(h, got, hlen) == 0, "%s: hash differs", s->name);
    const section *c = find(get(s, "config"));
    CHECK(c != NULL, "%s: config section missing", s->name);
    if (c) {
        size_t chlen;
        uint8_t *ch = get_hex(c, "labels_hash", &chlen);
        CHECK(chlen == hlen && memcmp(ch, h, hlen) == 0, "%s: the config's hash", s->name);
        free(ch);
    }
    free(h);
    free(list);
}

static void check_report(const section *s)
{
    size_t len;
    uint8_t *enc = get_hex(s, "encoded", &len);
    const char *err = get(s, "error");
    pinhole_report r;
    int rc = pinhole_report_decode(enc, len, &r);
    if (err) {
        CHECK_EQ_INT(rc, error_code(err), s->name);
        free(enc);
        return;
    }
    CHECK_EQ_INT(rc, PINHOLE_OK, s->name);
    CHECK_EQ_INT(r.version, 1, s->name);
    CHECK_EQ_INT(r.mechanism, get_u64(s, "mechanism", 10), s->name);
    CHECK_EQ_INT(r.collection_id == get_u64(s, "collection_id", 10), 1, s->name);
    CHECK_EQ_INT(r.time == get_u64(s, "time", 10), 1, s->name);
    size_t fplen, idlen, plen;
    uint8_t *fp = get_hex(s, "fingerprint", &fplen), *id = get_hex(s, "report_id", &idlen),
            *pl = get_hex(s, "payload", &plen);
    CHECK(fplen == 16 && memcmp(fp, r.fingerprint, 16) == 0, "%s: fingerprint", s->name);
    CHECK(idlen == 16 && memcmp(id, r.report_id, 16) == 0, "%s: report id", s->name);
    CHECK(plen == r.payload_len && memcmp(pl, r.payload, plen) == 0, "%s: payload", s->name);
    uint8_t *again = malloc(len);
    size_t written = 0;
    CHECK_EQ_INT(pinhole_report_encode(&r, again, len, &written), PINHOLE_OK, s->name);
    CHECK(written == len && memcmp(again, enc, len) == 0, "%s: re-encoding differs", s->name);
    CHECK_EQ_INT(pinhole_report_encode(&r, again, len - 1, &written), PINHOLE_EBUFSIZE, s->name);
    free(again);
    free(fp);
    free(id);
    free(pl);
    free(enc);
}

static void check_seal(const section *s)
{
    size_t seedlen, len;
    uint8_t *seed = get_hex(s, "seed", &seedlen), *sealed = get_hex(s, "sealed", &len);
    uint8_t pk[PINHOLE_SEAL_PUBLICKEYBYTES], sk[PINHOLE_SEAL_SECRETKEYBYTES];
    crypto_box_seed_keypair(pk, sk, seed);
    uint8_t *opened = malloc(len + 1);
    size_t n = 0;
    int rc = pinhole_report_open(sealed, len, pk, sk, opened, len + 1, &n);
    const char *err = get(s, "error");
    if (err) {
        CHECK_EQ_INT(rc, error_code(err), s->name);
    } else {
        size_t pklen, want_len = 0;
        uint8_t *want_pk = get_hex(s, "public_key", &pklen);
        CHECK(pklen == sizeof pk && memcmp(want_pk, pk, sizeof pk) == 0, "%s: key pair", s->name);
        CHECK_EQ_INT(rc, PINHOLE_OK, s->name);
        const section *r = find(get(s, "report"));
        CHECK(r != NULL, "%s: report section missing", s->name);
        uint8_t *want = r ? get_hex(r, "encoded", &want_len) : NULL;
        CHECK(want && n == want_len && memcmp(opened, want, n) == 0, "%s: opened report differs",
              s->name);
        free(want);
        free(want_pk);
    }
    free(opened);
    free(sealed);
    free(seed);
}

static void check_batch(const section *s)
{
    size_t len;
    uint8_t *enc = get_hex(s, "encoded", &len);
    const char *err = get(s, "error");
    pinhole_batch_reader r;
    int rc = pinhole_batch_reader_init(&r, enc, len);
    if (err) {
        CHECK_EQ_INT(rc, error_code(err), s->name);
        free(enc);
        return;
    }
    CHECK_EQ_INT(rc, PINHOLE_OK, s->name);
    CHECK_EQ_INT(pinhole_batch_reader_count(&r), get_u64(s, "count", 10), s->name);
    const char *names = get(s, "items");
    char *copy = malloc(strlen(names ? names : "") + 1);
    strcpy(copy, names ? names : "");
    uint8_t *again = malloc(len);
    pinhole_batch_writer w;
    CHECK_EQ_INT(
        pinhole_batch_writer_init(&w, (pinhole_batch_kind)get_u64(s, "kind", 10), again, len),
        PINHOLE_OK, s->name);
    char *save = NULL;
    for (char *n = strtok_r(copy, " ", &save); n; n = strtok_r(NULL, " ", &save)) {
        const uint8_t *item;
        size_t item_len, want_len;
        CHECK_EQ_INT(pinhole_batch_reader_next(&r, &item, &item_len), 1, s->name);
        const section *is = find(n);
        CHECK(is != NULL, "%s: no item %s", s->name, n);
        if (!is)
            continue;
        uint8_t *want = get_hex(is, "encoded", &want_len);
        CHECK(item_len == want_len && memcmp(item, want, want_len) == 0, "%s: item %s", s->name, n);
        pinhole_report rep;
        CHECK_EQ_INT(pinhole_report_decode(item, item_len, &rep), PINHOLE_OK, n);
        CHECK_EQ_INT(pinhole_batch_writer_add(&w, want, want_len), PINHOLE_OK, s->name);
        free(want);
    }
    const uint8_t *item;
    size_t item_len, written;
    CHECK_EQ_INT(pinhole_batch_reader_next(&r, &item, &item_len), 0, s->name);
    pinhole_batch_writer_finish(&w, &written);
    CHECK(written == len && memcmp(again, enc, len) == 0, "%s: re-encoding differs", s->name);
    free(again);
    free(copy);
    free(enc);
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    const char *dir = argc > 1 ? argv[1] : getenv("PINHOLE_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/proto/vectors/v1.txt", dir ? dir : ".");
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    CHECK_EQ_INT(parse(text), 0, "vector file syntax");
    int counts[6] = {0};
    for (int i = 0; i < nsections; i++) {
        const section *s = &sections[i];
        if (starts(s->name, "config."))
            check_config(s), counts[0]++;
        else if (starts(s->name, "signed."))
            check_signed(s), counts[1]++;
        else if (starts(s->name, "report."))
            check_report(s), counts[2]++;
        else if (starts(s->name, "batch."))
            check_batch(s), counts[3]++;
        else if (starts(s->name, "seal."))
            check_seal(s), counts[4]++;
        else if (starts(s->name, "labels."))
            check_labels(s), counts[5]++;
        else
            CHECK(0, "unknown vector kind %s", s->name);
    }
    printf("vectors: %d config, %d signed, %d report, %d batch, %d seal, %d labels\n", counts[0],
           counts[1], counts[2], counts[3], counts[4], counts[5]);
    CHECK(counts[0] >= 4 && counts[1] >= 1 && counts[2] >= 3 && counts[3] >= 2 && counts[4] >= 1 &&
              counts[5] >= 2,
          "too few vectors");
    return check_summary("test_vectors");
}
