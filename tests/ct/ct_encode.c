/* Constant-time check of the randomizer: run under valgrind memcheck with the user's value marked
 * undefined; memcheck then reports every branch ("Conditional jump or move depends on
 * uninitialised value") and memory index ("Use of uninitialised value") that depends on it.
 * Built with -DPINHOLE_CT_CHECK, which declassifies only what is public by design: whether the
 * value is in range, the report itself, and the memoization key (tests/ct/ct_check.sh). */
#include "client/pgr.h"
#include "client/pinhole.h"
#include "client/discovery.h"

#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

static int run_pgr(uint64_t k, uint32_t q, uint32_t t)
{
    pinhole_pgr g;
    if (pinhole_pgr_init(&g, k, 2.0, q, t) != PINHOLE_OK)
        return 1;
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 1);
    int bad = 0;
    for (uint64_t i = 0; i < 40; i++) {
        uint64_t value = (i * 7919) % k, report;
        VALGRIND_MAKE_MEM_UNDEFINED(&value, sizeof value);
        bad |= pinhole_pgr_encode(&g, value, &rng, &report) != PINHOLE_OK;
        bad |= report >= g.K; /* the report is declassified: branching on it is fine */
    }
    pinhole_pgr_free(&g);
    return bad;
}

/* The batch path: 150 values (two full inversion groups and part of a third), all undefined. */
static int run_pgr_batch(uint64_t k, uint32_t q, uint32_t t)
{
    pinhole_pgr g;
    if (pinhole_pgr_init(&g, k, 2.0, q, t) != PINHOLE_OK)
        return 1;
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 2);
    uint64_t values[150], reports[150];
    for (uint64_t i = 0; i < 150; i++)
        values[i] = (i * 7919) % k;
    VALGRIND_MAKE_MEM_UNDEFINED(values, sizeof values);
    int bad = pinhole_pgr_encode_batch(&g, values, 150, &rng, reports) != PINHOLE_OK;
    for (int i = 0; i < 150; i++)
        bad |= reports[i] >= g.K; /* declassified */
    pinhole_pgr_free(&g);
    return bad;
}

static int run_client_batch(void)
{
    pinhole_collection col;
    if (pinhole_collection_init_params(&col, PINHOLE_MECH_PGR, 74286, 4.0) != PINHOLE_OK)
        return 1;
    pinhole_client cl;
    pinhole_client_init(&cl, NULL, NULL);
    static uint8_t buf[100 * 64];
    uint64_t values[100];
    for (uint64_t i = 0; i < 100; i++)
        values[i] = (i * 104729) % 74286;
    VALGRIND_MAKE_MEM_UNDEFINED(values, sizeof values);
    size_t n = 0;
    const int bad = pinhole_client_report_batch(&cl, &col, values, 100, 1000, 0, buf, sizeof buf,
                                                &n) != PINHOLE_OK;
    pinhole_client_clear(&cl);
    pinhole_collection_clear(&col);
    return bad;
}

static int run_client(int memoize)
{
    pinhole_collection col;
    if (pinhole_collection_init_params(&col, PINHOLE_MECH_PGR, 74286, 4.0) != PINHOLE_OK)
        return 1;
    uint8_t secret[32] = {1, 2, 3}, buf[128];
    pinhole_client cl;
    pinhole_client_init(&cl, NULL, secret);
    int bad = 0;
    for (uint64_t i = 0; i < 40; i++) {
        uint64_t value = (i * 104729) % 74286;
        size_t n = 0;
        VALGRIND_MAKE_MEM_UNDEFINED(&value, sizeof value);
        bad |= pinhole_client_report(&cl, &col, value, 1000, memoize ? PINHOLE_REPORT_MEMOIZE : 0,
                                     buf, sizeof buf, &n) != PINHOLE_OK;
    }
    pinhole_client_clear(&cl);
    pinhole_collection_clear(&col);
    return bad;
}

/* Discovery: the string's bytes (not its length) are secret; the UTF-8 check, the table scan and
 * the report must not branch or index on them. An extension round of 50 three-byte prefixes and a
 * final round of 50 strings. */
static int run_discovery(int final)
{
    static uint8_t table[50 * PINHOLE_DISCOVERY_MAXLEN];
    const uint32_t w = final ? PINHOLE_DISCOVERY_MAXLEN : 3;
    memset(table, 0, sizeof table);
    for (uint32_t i = 0; i < 50; i++) {
        table[i * w] = (uint8_t)('a' + i / 26);
        table[i * w + 1] = (uint8_t)('a' + i % 26);
        table[i * w + 2] = 'x';
    }
    pinhole_round_config rc = {
        .domain = {.kind = final ? PINHOLE_ROUND_FINAL : PINHOLE_ROUND_EXTEND,
                   .prefix_len = final ? 0 : 3,
                   .ext = final ? 0 : 1,
                   .ncand = 50,
                   .table = table}};
    uint64_t k;
    if (pinhole_round_domain_size(&rc.domain, &k) != PINHOLE_OK)
        return 1;
    pinhole_config_params cp = {.mechanism = PINHOLE_MECH_PGR, .k = k, .epsilon = 2.0};
    if (pinhole_collection_config_make(&rc.oracle, 9, &cp, 1, 0) != PINHOLE_OK)
        return 1;
    pinhole_discovery_round r;
    if (pinhole_discovery_round_init(&r, &rc) != PINHOLE_OK)
        return 1;
    pinhole_client cl;
    pinhole_client_init(&cl, NULL, NULL);
    static const char *const strs[] = {"abx",
                                       "abxq",
                                       "bcx",
                                       "zz",
                                       "\xc3\xa9t\xc3\xa9",
                                       "abx\xe2\x82\xac",
                                       "bxx",
                                       "\xff\xfe",
                                       "abcdefghijklmnop"};
    int bad = 0;
    uint8_t buf[128];
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        uint8_t s[PINHOLE_DISCOVERY_MAXLEN];
        const size_t len = strlen(strs[i]);
        memcpy(s, strs[i], len);
        VALGRIND_MAKE_MEM_UNDEFINED(s, len);
        size_t n = 0;
        const int rcode = pinhole_discovery_report(&cl, &r, s, len, 1000, 0, buf, sizeof buf, &n);
        bad |= rcode != (i == 7 ? PINHOLE_EFORMAT : PINHOLE_OK);
    }
    pinhole_discovery_round_clear(&r);
    pinhole_client_clear(&cl);
    return bad;
}

/* The negative control: the table-based point decode and field multiplication of
 * common/projective.c and common/gf.h, which do depend on the value; the check must flag it. */
static int run_control(void)
{
    pinhole_pgr g;
    if (pinhole_pgr_init(&g, 1000, 2.0, 67, 3) != PINHOLE_OK)
        return 1;
    uint64_t value = 517;
    uint32_t v[PINHOLE_T_MAX];
    VALGRIND_MAKE_MEM_UNDEFINED(&value, sizeof value);
    pinhole_pspace_vector(&g.S, value, v);
    uint32_t x = pinhole_gf_mul(&g.F, v[2], 5);
    VALGRIND_MAKE_MEM_DEFINED(&x, sizeof x);
    pinhole_pgr_free(&g);
    return x == 12345; /* never: x < 67 */
}

int main(int argc, char **argv)
{
    if (pinhole_init() != PINHOLE_OK)
        return 1;
    if (argc > 1 && strcmp(argv[1], "--control") == 0)
        return run_control();
    int bad = 0;
    bad |= run_pgr(1000, 67, 3);     /* prime field */
    bad |= run_pgr(74286, 5, 8);     /* prime field, longer vectors */
    bad |= run_pgr(65000, 256, 3);   /* GF(2^8) */
    bad |= run_pgr(700, 9, 4);       /* GF(3^2), odd extension */
    bad |= run_pgr(1u << 20, 2, 21); /* GF(2) */
    bad |= run_pgr_batch(1000, 67, 3);
    bad |= run_pgr_batch(74286, 5, 8);
    bad |= run_pgr_batch(65000, 256, 3);
    bad |= run_pgr_batch(700, 9, 4);
    bad |= run_pgr_batch(1u << 20, 2, 21);
    bad |= run_client_batch();
    bad |= run_pgr(5000, 65521, 2); /* largest prime field */
    bad |= run_client(0);           /* the public API, fresh randomness */
    bad |= run_client(1);           /* the public API, memoized */
    bad |= run_discovery(0);        /* a string into an extension round */
    bad |= run_discovery(1);        /* a string into a final round */
    printf("ct_encode: %s\n", bad ? "FAILED" : "ran");
    return bad;
}
