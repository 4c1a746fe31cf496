/* Discovery collections: string checks against a reference decoder, the round map and its inverse,
 * signed round configs, exact epsilon-LDP of a device's report on a tiny alphabet, the schedule,
 * and a synthetic language whose frequent strings are known exactly. */
#include "client/discovery.h"
#include "client/pgr.h"
#include "common/error.h"
#include "server/analytics/discovery.h"
#include "server/analytics/discovery_sim.h"
#include "server/analytics/histogram.h"
#include "server/estimate/estimate.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* RFC 3629 by decoding code points (a different formulation from the library's state machine) */
static int ref_valid(const uint8_t *s, size_t len)
{
    if (len == 0 || len > PINHOLE_DISCOVERY_MAXLEN)
        return 0;
    for (size_t i = 0; i < len;) {
        const uint8_t b = s[i];
        size_t n;
        uint32_t cp, min;
        if (b == 0)
            return 0;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xE0) == 0xC0)
            n = 1, cp = b & 0x1F, min = 0x80;
        else if ((b & 0xF0) == 0xE0)
            n = 2, cp = b & 0x0F, min = 0x800;
        else if ((b & 0xF8) == 0xF0)
            n = 3, cp = b & 0x07, min = 0x10000;
        else
            return 0;
        for (size_t j = 1; j <= n; j++) {
            if (i + j >= len || (s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}

Test(discovery, check_errors)
{
    const uint8_t a[40] = "abcdefghijklmnopqrstuvwxyzabcdefghijklm";
    cr_assert_eq(pinhole_discovery_check(a, 0), PINHOLE_EINVAL, "empty string");
    cr_assert_eq(pinhole_discovery_check(a, 32), PINHOLE_OK);
    cr_assert_eq(pinhole_discovery_check(a, 33), PINHOLE_ETOOBIG);
    const struct {
        const char *s;
        int rc;
    } cases[] = {
        {"\xc3\xa9", PINHOLE_OK},              /* é */
        {"\xe2\x82\xac", PINHOLE_OK},          /* € */
        {"\xf0\x9d\x84\x9e", PINHOLE_OK},      /* U+1D11E */
        {"\xf4\x8f\xbf\xbf", PINHOLE_OK},      /* U+10FFFF */
        {"\xc0\x80", PINHOLE_EFORMAT},         /* overlong NUL */
        {"\xe0\x9f\xbf", PINHOLE_EFORMAT},     /* overlong 3-byte */
        {"\xed\xa0\x80", PINHOLE_EFORMAT},     /* surrogate D800 */
        {"\xf4\x90\x80\x80", PINHOLE_EFORMAT}, /* above U+10FFFF */
        {"\xe2\x82", PINHOLE_EFORMAT},         /* truncated */
        {"\x80", PINHOLE_EFORMAT},             /* lone continuation */
        {"ab\xff", PINHOLE_EFORMAT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(pinhole_discovery_check((const uint8_t *)cases[i].s, strlen(cases[i].s)),
                     cases[i].rc, "case %zu", i);
    const uint8_t nul[3] = {'a', 0, 'b'};
    cr_assert_eq(pinhole_discovery_check(nul, 3), PINHOLE_EFORMAT, "NUL inside");
}

Test(discovery, check_matches_reference_decoder)
{
    uint8_t s[4];
    for (uint32_t x = 0; x < 256; x++) { /* every 1- and 2-byte string */
        s[0] = (uint8_t)x;
        cr_assert_eq(pinhole_discovery_check(s, 1) == PINHOLE_OK, ref_valid(s, 1), "%02x", x);
        for (uint32_t y = 0; y < 256; y++) {
            s[1] = (uint8_t)y;
            cr_assert_eq(pinhole_discovery_check(s, 2) == PINHOLE_OK, ref_valid(s, 2));
        }
    }
    for (uint32_t x = 0xE0; x < 0x100; x++) /* every 3-byte string with a 3- or 4-byte lead */
        for (uint32_t y = 0x70; y < 0xD0; y++)
            for (uint32_t z = 0x70; z < 0xD0; z++) {
                s[0] = (uint8_t)x, s[1] = (uint8_t)y, s[2] = (uint8_t)z, s[3] = 0x85;
                cr_assert_eq(pinhole_discovery_check(s, 3) == PINHOLE_OK, ref_valid(s, 3));
                cr_assert_eq(pinhole_discovery_check(s, 4) == PINHOLE_OK, ref_valid(s, 4),
                             "%02x %02x %02x 85", x, y, z);
            }
}

/* a round over the given sorted table; ext 0 makes a FINAL round */
static pinhole_round_domain domain_of(const char *const *cand, uint32_t n, uint32_t plen,
                                      uint32_t ext, uint8_t *table)
{
    const int final = ext == 0;
    const uint32_t w = final ? PINHOLE_DISCOVERY_MAXLEN : plen;
    memset(table, 0, (size_t)n * w);
    for (uint32_t i = 0; i < n; i++)
        memcpy(table + (size_t)i * w, cand[i], strlen(cand[i]));
    return (pinhole_round_domain){.kind = final ? PINHOLE_ROUND_FINAL : PINHOLE_ROUND_EXTEND,
                                  .prefix_len = final ? 0 : plen,
                                  .ext = ext,
                                  .ncand = n,
                                  .table = table};
}

Test(discovery, map_and_inverse)
{
    static const char *const cand[] = {"ab", "ba", "c\xc3"};
    uint8_t table[3 * 2];
    pinhole_round_domain d = domain_of(cand, 3, 2, 2, table);
    cr_assert_eq(pinhole_round_domain_check(&d), PINHOLE_OK);
    uint64_t k;
    cr_assert_eq(pinhole_round_domain_size(&d, &k), PINHOLE_OK);
    cr_assert_eq(k, 3 * 65536 + 1);
    const struct {
        const char *s;
        uint64_t item;
        const char *back;
        int complete;
    } cases[] = {
        {"ab", 0 * 65536 + 0x0000, "ab", 1},
        {"abc", 0 * 65536 + 0x6300, "abc", 1},
        {"abcd", 0 * 65536 + 0x6364, "abcd", 0},
        {"abcdef", 0 * 65536 + 0x6364, "abcd", 0},
        {"ba\xc3\xa9", 1 * 65536 + 0xc3a9, "ba\xc3\xa9", 0},
        {"c\xc3\xa9x", 2 * 65536 + 0xa978, "c\xc3\xa9x", 0},
        {"a", 3 * 65536, NULL, 0},  /* shorter than the prefixes: other */
        {"zz", 3 * 65536, NULL, 0}, /* prefix not in the table: other */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v;
        pinhole_round_map(&d, (const uint8_t *)cases[i].s, strlen(cases[i].s), &v);
        cr_assert_eq(v, cases[i].item, "case %zu: %llx", i, (unsigned long long)v);
        uint8_t out[PINHOLE_DISCOVERY_MAXLEN];
        size_t len;
        int complete;
        const int rc = pinhole_round_item(&d, v, out, &len, &complete);
        if (!cases[i].back) {
            cr_assert_eq(rc, PINHOLE_ERANGE);
            continue;
        }
        cr_assert_eq(rc, PINHOLE_OK);
        cr_assert_eq(len, strlen(cases[i].back));
        cr_assert_eq(memcmp(out, cases[i].back, len), 0);
        cr_assert_eq(complete, cases[i].complete);
    }
    uint8_t out[PINHOLE_DISCOVERY_MAXLEN];
    size_t len;
    int complete;
    cr_assert_eq(pinhole_round_item(&d, 0x0061, out, &len, &complete), PINHOLE_EFORMAT,
                 "a zero then a nonzero byte: no string maps there");
    cr_assert_eq(pinhole_round_item(&d, k, out, &len, &complete), PINHOLE_ERANGE);

    /* final round: exact strings */
    static const char *const words[] = {"a", "hello", "h\xc3\xa9llo"};
    uint8_t ft[3 * PINHOLE_DISCOVERY_MAXLEN];
    pinhole_round_domain f = domain_of(words, 3, 0, 0, ft);
    cr_assert_eq(pinhole_round_domain_check(&f), PINHOLE_OK);
    uint64_t v;
    pinhole_round_map(&f, (const uint8_t *)"hello", 5, &v);
    cr_assert_eq(v, 1);
    pinhole_round_map(&f, (const uint8_t *)"hell", 4, &v);
    cr_assert_eq(v, 3);
    pinhole_round_map(&f, (const uint8_t *)"h\xc3\xa9llo", 6, &v);
    cr_assert_eq(v, 2);
}

Test(discovery, domain_checks)
{
    static const char *const unsorted[] = {"ba", "ab"};
    uint8_t t[4];
    pinhole_round_domain d = domain_of(unsorted, 2, 2, 1, t);
    cr_assert_eq(pinhole_round_domain_check(&d), PINHOLE_EFORMAT);
    static const char *const zero[] = {"a"};
    d = domain_of(zero, 1, 2, 1, t); /* "a\0": a zero inside a prefix */
    cr_assert_eq(pinhole_round_domain_check(&d), PINHOLE_EFORMAT);
    d.ext = 4;
    cr_assert_eq(pinhole_round_domain_check(&d), PINHOLE_EINVAL);
    d.ext = 1;
    d.ncand = 0;
    cr_assert_eq(pinhole_round_domain_check(&d), PINHOLE_EINVAL);
    static const char *const bad[] = {"\xff"};
    uint8_t ft[PINHOLE_DISCOVERY_MAXLEN];
    d = domain_of(bad, 1, 0, 0, ft);
    cr_assert_eq(pinhole_round_domain_check(&d), PINHOLE_EFORMAT, "a final string not UTF-8");
}

static void round_config(pinhole_round_config *rc, pinhole_round_domain d, uint32_t q, uint32_t t,
                         double eps)
{
    uint64_t k;
    cr_assert_eq(pinhole_round_domain_size(&d, &k), PINHOLE_OK);
    pinhole_config_params cp = {
        .mechanism = PINHOLE_MECH_PGR, .k = k, .epsilon = eps, .q = q, .t = t};
    memset(rc, 0, sizeof *rc);
    rc->round = 3;
    rc->domain = d;
    cr_assert_eq(pinhole_collection_config_make(&rc->oracle, 77, &cp, 1, 0), PINHOLE_OK);
}

Test(discovery, signed_round_config)
{
    cr_assert_geq(sodium_init(), 0);
    static const char *const cand[] = {"ab", "ba", "cd"};
    uint8_t table[6];
    pinhole_round_config rc;
    round_config(&rc, domain_of(cand, 3, 2, 1, table), 0, 0, 2.0);
    uint8_t pk[32], sk[64], pk2[32], sk2[64];
    pinhole_collection_config_keypair(pk, sk);
    pinhole_collection_config_keypair(pk2, sk2);
    uint8_t buf[512];
    size_t n;
    cr_assert_eq(pinhole_round_config_sign(&rc, sk, buf, 10, &n), PINHOLE_EBUFSIZE);
    cr_assert_eq(pinhole_round_config_sign(&rc, sk, buf, sizeof buf, &n), PINHOLE_OK);
    cr_assert_eq(n, 96 + 6 + 64);
    pinhole_discovery_round r;
    cr_assert_eq(pinhole_discovery_round_init_signed(&r, buf, n, pk), PINHOLE_OK);
    cr_assert_eq(r.col.verified, 1);
    cr_assert_eq(r.config.round, 3);
    cr_assert_eq(r.config.domain.ncand, 3);
    cr_assert_eq(memcmp(r.config.domain.table, table, 6), 0);
    cr_assert_eq(r.col.mech.k, 3 * 256 + 1);
    pinhole_discovery_round_clear(&r);
    cr_assert_eq(pinhole_discovery_round_init_signed(&r, buf, n, pk2), PINHOLE_ESIGNATURE,
                 "another server's key");
    for (size_t i = 0; i < n; i += 7) { /* any flipped byte breaks the signature */
        buf[i] ^= 1;
        cr_assert_eq(pinhole_discovery_round_init_signed(&r, buf, n, pk), PINHOLE_ESIGNATURE,
                     "byte %zu", i);
        buf[i] ^= 1;
    }
    cr_assert_eq(pinhole_discovery_round_init_signed(&r, buf, n - 1, pk), PINHOLE_ESIGNATURE);
    cr_assert_eq(pinhole_discovery_round_init_signed(&r, buf, 100, pk), PINHOLE_ETRUNCATED);

    /* decode errors of the unsigned form */
    pinhole_round_config out;
    size_t m;
    cr_assert_eq(pinhole_round_config_encode(&rc, buf, sizeof buf, &m), PINHOLE_OK);
    cr_assert_eq(pinhole_round_config_decode(buf, m, &out), PINHOLE_OK);
    cr_assert_eq(pinhole_round_config_decode(buf, m - 1, &out), PINHOLE_ETRUNCATED);
    cr_assert_eq(pinhole_round_config_decode(buf, m + 1, &out), PINHOLE_ETOOBIG);
    buf[0] = 2;
    cr_assert_eq(pinhole_round_config_decode(buf, m, &out), PINHOLE_EVERSION);
    buf[0] = 1;
    buf[96] = 'z'; /* "zb" > "ba": table out of order */
    cr_assert_eq(pinhole_round_config_decode(buf, m, &out), PINHOLE_EFORMAT);
    buf[96] = 'a';
    buf[16] = 2; /* ncand 2: the oracle's k no longer the domain size (and the length off) */
    cr_assert_neq(pinhole_round_config_decode(buf, m, &out), PINHOLE_OK);
    rc.oracle.params.k++;
    cr_assert_eq(pinhole_round_config_encode(&rc, buf, sizeof buf, &m), PINHOLE_EINVAL);
}

Test(discovery, device_errors)
{
    cr_assert_geq(sodium_init(), 0);
    static const char *const cand[] = {"a"};
    uint8_t table[1];
    pinhole_round_config rc;
    round_config(&rc, domain_of(cand, 1, 1, 1, table), 0, 0, 1.0);
    pinhole_discovery_round r;
    cr_assert_eq(pinhole_discovery_round_init(&r, &rc), PINHOLE_OK);
    pinhole_client cl;
    cr_assert_eq(pinhole_client_init(&cl, NULL, NULL), PINHOLE_OK);
    uint8_t out[PINHOLE_REPORT_MAXBYTES];
    size_t written = 0;
    const uint8_t long_s[33] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    cr_assert_eq(pinhole_discovery_report(&cl, &r, long_s, 33, 0, 0, out, sizeof out, &written),
                 PINHOLE_ETOOBIG);
    cr_assert_eq(pinhole_discovery_report(&cl, &r, long_s, 0, 0, 0, out, sizeof out, &written),
                 PINHOLE_EINVAL);
    cr_assert_eq(pinhole_discovery_report(&cl, &r, (const uint8_t *)"a\xc3", 2, 0, 0, out,
                                          sizeof out, &written),
                 PINHOLE_EFORMAT);
    cr_assert_eq(written, 0, "nothing written on error");
    cr_assert_eq(
        pinhole_discovery_report(&cl, &r, (const uint8_t *)"ab", 2, 0, 0, out, 10, &written),
        PINHOLE_EBUFSIZE);
    cr_assert_eq(pinhole_discovery_report(&cl, &r, long_s, 32, 0, 0, out, sizeof out, &written),
                 PINHOLE_OK);
    cr_assert_eq(written, pinhole_collection_reportbytes(&r.col));
    pinhole_discovery_round_clear(&r);
    pinhole_client_clear(&cl);
}

/* Exact epsilon-LDP of a device's report: every string over {a, b, é} of 1..3 symbols (and strings
 * outside every table) goes through pinhole_discovery_value(), the map pinhole_discovery_report()
 * runs; the report's exact distribution for that item comes from enumerating the PGR randomizer's
 * draws; the worst ratio P[y | x] / P[y | x'] over all strings and reports must be at most
 * e^epsilon of the round config. Then the reports pinhole_discovery_report() writes for two strings
 * are checked against those exact distributions (chi-square, 20,000 reports each, fixed bound at
 * about mean + 6 sd). */
static void check_round_privacy(const pinhole_round_config *rc)
{
    cr_assert_geq(sodium_init(), 0);
    pinhole_discovery_round r;
    cr_assert_eq(pinhole_discovery_round_init(&r, rc), PINHOLE_OK);
    const pinhole_pgr *g = &r.col.mech.u.pgr;
    const uint64_t K = g->K;
    static const char *const sym[] = {"a", "b", "\xc3\xa9"};
    char strs[64][16];
    size_t ns = 0;
    for (int len = 1; len <= 3; len++) {
        int idx[3] = {0, 0, 0};
        for (;;) {
            strs[ns][0] = 0;
            for (int i = 0; i < len; i++)
                strcat(strs[ns], sym[idx[i]]);
            ns++;
            int i = len - 1;
            while (i >= 0 && ++idx[i] == 3)
                idx[i--] = 0;
            if (i < 0)
                break;
        }
    }
    long double *P = malloc(ns * K * sizeof *P);
    uint64_t values[64];
    for (size_t i = 0; i < ns; i++) {
        cr_assert_eq(
            pinhole_discovery_value(&r, (const uint8_t *)strs[i], strlen(strs[i]), &values[i]),
            PINHOLE_OK);
        cr_assert_eq(pgr_output_distribution(g, values[i], P + i * K), 0);
    }
    long double worst = 0;
    for (uint64_t y = 0; y < K; y++) {
        long double lo = INFINITY, hi = 0;
        for (size_t i = 0; i < ns; i++) {
            lo = P[i * K + y] < lo ? P[i * K + y] : lo;
            hi = P[i * K + y] > hi ? P[i * K + y] : hi;
        }
        cr_assert_gt(lo, 0);
        worst = hi / lo > worst ? hi / lo : worst;
    }
    cr_assert_leq(worst, expl((long double)rc->oracle.params.epsilon) * (1 + 1e-12L),
                  "worst ratio %Lg above e^%g", worst, rc->oracle.params.epsilon);
    /* the app's call writes reports with those distributions */
    pinhole_client cl;
    cr_assert_eq(pinhole_client_init(&cl, NULL, NULL), PINHOLE_OK);
    const size_t pick[2] = {0, ns - 1};
    uint64_t *obs = calloc(K, sizeof *obs);
    double *prob = malloc(K * sizeof *prob);
    for (int j = 0; j < 2; j++) {
        const char *s = strs[pick[j]];
        memset(obs, 0, K * sizeof *obs);
        for (uint64_t y = 0; y < K; y++)
            prob[y] = (double)P[pick[j] * K + y];
        const uint64_t n = 20000;
        for (uint64_t i = 0; i < n; i++) {
            uint8_t out[PINHOLE_REPORT_MAXBYTES];
            size_t w;
            cr_assert_eq(pinhole_discovery_report(&cl, &r, (const uint8_t *)s, strlen(s), 0, 0, out,
                                                  sizeof out, &w),
                         PINHOLE_OK);
            pinhole_report rep;
            cr_assert_eq(pinhole_report_decode(out, w, &rep), PINHOLE_OK);
            cr_assert_eq(rep.collection_id, rc->oracle.collection_id);
            uint64_t y = 0;
            for (uint32_t b = 0; b < rep.payload_len; b++)
                y |= (uint64_t)rep.payload[b] << (8 * b);
            cr_assert_lt(y, K);
            obs[y]++;
        }
        const double chi = chi_square(obs, prob, K, n), df = (double)K - 1;
        cr_assert_lt(chi, df + 6 * sqrt(2 * df), "string %s: chi-square %g, df %g", s, chi, df);
    }
    free(obs);
    free(prob);
    free(P);
    pinhole_discovery_round_clear(&r);
    pinhole_client_clear(&cl);
}

Test(discovery, exact_ldp_extension_round)
{
    static const char *const cand[] = {"a", "b"};
    uint8_t table[2];
    pinhole_round_config rc;
    round_config(&rc, domain_of(cand, 2, 1, 1, table), 8, 4, 1.5); /* k = 513, K = 585 */
    check_round_privacy(&rc);
}

Test(discovery, exact_ldp_final_round)
{
    static const char *const cand[] = {"a", "ab", "b\xc3\xa9"};
    uint8_t table[3 * PINHOLE_DISCOVERY_MAXLEN];
    pinhole_round_config rc;
    round_config(&rc, domain_of(cand, 3, 0, 0, table), 3, 3, 3.0); /* k = 4, K = 13 */
    check_round_privacy(&rc);
}

Test(discovery, schedule)
{
    pinhole_discovery_state st;
    pinhole_discovery_params p = {.epsilon = 4, .devices = 1000000};
    cr_assert_eq(pinhole_discovery_start(&st, &p), PINHOLE_OK);
    /* defaults: depth 8, round 0 adds 2 bytes, later rounds 1: R = 1 + 6 = 7 */
    cr_assert_eq(st.rounds, 7);
    cr_assert_eq(st.per_round, (uint64_t)(0.75 * 1000000 / 7));
    cr_assert_eq(pinhole_discovery_wanted(&st), st.per_round);
    cr_assert_eq(st.domain.kind, PINHOLE_ROUND_EXTEND);
    cr_assert_eq(st.domain.ext, 2);
    pinhole_round_config rc;
    cr_assert_eq(pinhole_discovery_round_config(&st, 5, &rc), PINHOLE_OK);
    cr_assert_eq(rc.oracle.params.k, 65537);
    cr_assert_eq(rc.oracle.collection_id, 5);
    pinhole_discovery_free(&st);
    const pinhole_discovery_params bad[] = {
        {.epsilon = 0, .devices = 10},
        {.epsilon = 1, .devices = 1},
        {.epsilon = 1, .devices = 100, .depth = 33},
        {.epsilon = 1, .devices = 100, .ext = 4},
        {.epsilon = 1, .devices = 100, .final_fraction = 1},
        {.epsilon = 1, .devices = 100, .oracle = PINHOLE_MECH_OUE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(pinhole_discovery_start(&st, &bad[i]), PINHOLE_EINVAL, "case %zu", i);
    /* the normal quantile */
    cr_assert_float_eq(pinhole_normal_upper_quantile(0.025), 1.959963984540054, 1e-9);
    cr_assert_float_eq(pinhole_normal_upper_quantile(1e-6), 4.753424308822899, 1e-9);
}

/* A synthetic language with a known answer: 7 frequent strings (3% to 30% of devices; one of
 * exactly `depth` bytes with a 2-byte character, one a prefix of another), a string longer than
 * the depth, a tail of 190 strings at 0.1% each (far below what the rounds can detect), and an
 * invalid string the devices refuse. With 200,000 devices at epsilon 6, the final round's
 * significant strings are exactly the 7, each estimate within 4 standard errors of its true count
 * in the simulated population. */
Test(discovery, synthetic_language)
{
    static const char *const heavy[] = {"the", "a", "na\xc3\xafve", "hello", "zebra", "ab", "abc"};
    static const uint64_t heavy_w[] = {300, 150, 100, 80, 50, 50, 40};
    char *labels[200];
    uint64_t count[200];
    uint64_t k = 0;
    for (size_t i = 0; i < 7; i++) {
        labels[k] = strdup(heavy[i]);
        count[k++] = heavy_w[i];
    }
    labels[k] = strdup("abcdefghij");
    count[k++] = 30;
    labels[k] = strdup("\xff\xfe");
    count[k++] = 10;
    for (int i = 0; i < 190; i++) {
        char b[8];
        snprintf(b, sizeof b, "t%03d", i);
        labels[k] = strdup(b);
        count[k++] = 1;
    }
    pinhole_countfile cf = {.k = k, .labels = labels, .count = count, .total = 1000};
    pinhole_dsim_params p = {
        .method = PINHOLE_DSIM_ROUNDS,
        .rounds = {.epsilon = 6, .devices = 200000, .depth = 6, .false_positives = 0.01},
        .seed = 7};
    pinhole_dsim_out out;
    cr_assert_eq(pinhole_dsim_run(&cf, &p, &out), PINHOLE_OK);
    cr_assert_eq(out.nlog, 6, "5 extension rounds and the final one");
    uint32_t sig = 0;
    for (uint32_t i = 0; i < out.nresults; i++) {
        const pinhole_discovery_result *r = &out.results[i];
        if (!r->significant)
            continue;
        sig++;
        int known = 0;
        for (size_t j = 0; j < 7; j++)
            known |= strcmp(r->s, heavy[j]) == 0;
        cr_assert(known, "significant string %s is not one of the frequent ones", r->s);
        cr_assert_lt(fabs(r->estimate - (double)out.truth[i]), 4 * r->sd,
                     "%s: estimate %g, true %llu, sd %g", r->s, r->estimate,
                     (unsigned long long)out.truth[i], r->sd);
    }
    cr_assert_eq(sig, 7);
    cr_assert_eq(strcmp(out.results[0].s, "the"), 0);
    /* about 1% of devices hold the invalid string */
    cr_assert_lt(fabs((double)out.refused - 2000), 5 * sqrt(2000.0));
    pinhole_dsim_out_free(&out);
    for (uint64_t i = 0; i < k; i++)
        free(labels[i]);
}

/* One round of `n` devices holding words[i % nw] through the device code, then advanced. */
static void drive_round(pinhole_discovery_state *st, const char *const *words, size_t nw,
                        uint64_t n, pinhole_rng *rng)
{
    pinhole_round_config rc;
    cr_assert_eq(pinhole_discovery_round_config(st, 100 + st->round, &rc), PINHOLE_OK);
    pinhole_discovery_round r;
    cr_assert_eq(pinhole_discovery_round_init(&r, &rc), PINHOLE_OK);
    uint64_t *counts = calloc(r.col.mech.counts_len, sizeof *counts);
    uint8_t payload[16];
    for (uint64_t i = 0; i < n; i++) {
        const char *s = words[i % nw];
        cr_assert_eq(pinhole_discovery_encode(&r, (const uint8_t *)s, strlen(s), rng, payload,
                                              sizeof payload),
                     PINHOLE_OK);
        cr_assert_eq(pinhole_accumulate(&r.col.mech, payload, r.col.mech.payload_bytes, counts),
                     PINHOLE_OK);
    }
    cr_assert_eq(pinhole_discovery_advance(st, &r.col.mech, counts, n), PINHOLE_OK);
    free(counts);
    pinhole_discovery_round_clear(&r);
}

/* save -> load -> save gives the same bytes, and the loaded state goes on like the original; every
 * truncation and a flipped magic are refused */
static void check_roundtrip(pinhole_discovery_state *st)
{
    uint8_t *a, *b;
    size_t na, nb;
    cr_assert_eq(pinhole_discovery_save(st, &a, &na), PINHOLE_OK);
    pinhole_discovery_state t;
    cr_assert_eq(pinhole_discovery_load(&t, a, na), PINHOLE_OK);
    cr_assert_eq(pinhole_discovery_save(&t, &b, &nb), PINHOLE_OK);
    cr_assert_eq(na, nb);
    cr_assert_eq(memcmp(a, b, na), 0);
    cr_assert_eq(pinhole_discovery_wanted(&t), pinhole_discovery_wanted(st));
    for (size_t cut = 0; cut < na; cut += 1 + na / 97) {
        pinhole_discovery_state u;
        cr_assert_eq(pinhole_discovery_load(&u, a, cut), PINHOLE_EFORMAT, "cut at %zu", cut);
    }
    a[0] ^= 1;
    pinhole_discovery_state u;
    cr_assert_eq(pinhole_discovery_load(&u, a, na), PINHOLE_EFORMAT);
    free(a);
    free(b);
    /* go on from the loaded copy */
    pinhole_discovery_free(st);
    *st = t;
}

Test(discovery, save_load_and_json)
{
    static const char *const words[] = {"the", "the", "the", "you", "you", "apple", "I"};
    pinhole_discovery_state st;
    pinhole_discovery_params p = {.epsilon = 6, .devices = 70000, .depth = 5};
    cr_assert_eq(pinhole_discovery_start(&st, &p), PINHOLE_OK);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 11);
    int rounds = 0;
    while (!st.done) {
        check_roundtrip(&st);
        drive_round(&st, words, 7, pinhole_discovery_wanted(&st), &rng);
        rounds++;
    }
    check_roundtrip(&st);
    cr_assert_eq(rounds, 5, "4 extension rounds (2 + 1 + 1 + 1 bytes) and the final one");
    json_t *j = pinhole_discovery_json(&st);
    cr_assert_not_null(j);
    json_t *res = json_object_get(j, "results");
    cr_assert_eq(json_array_size(json_object_get(j, "log")), 5);
    cr_assert(json_is_null(json_object_get(j, "open_round")));
    /* the four strings, the two most frequent first, each estimate within 3 standard errors */
    static const char *const order[] = {"the", "you", "apple", "I"};
    const double share[] = {3, 2, 1, 1};
    for (size_t i = 0; i < 4; i++) {
        json_t *r = json_array_get(res, i);
        const char *s = json_string_value(json_object_get(r, "string"));
        if (i < 2)
            cr_assert_str_eq(s, order[i]);
        cr_assert(json_is_true(json_object_get(r, "significant")), "%s", s);
        size_t w = 0;
        while (w < 4 && strcmp(order[w], s) != 0)
            w++;
        cr_assert_lt(w, 4, "unexpected string %s", s);
        const double truth = 70000 * share[w] / 7;
        const double est = json_real_value(json_object_get(r, "estimate")),
                     se = json_real_value(json_object_get(r, "stderr")),
                     lo = json_real_value(json_object_get(r, "low"));
        cr_assert_float_eq(lo, est - PINHOLE_Z95 * se, 1e-6);
        cr_assert_lt(fabs(est - truth), 3 * se, "%s: estimate %g, true %g, stderr %g", s, est,
                     truth, se);
    }
    json_decref(j);
    pinhole_discovery_free(&st);
}
