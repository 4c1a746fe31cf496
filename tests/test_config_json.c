/* proto/config_json.c: JSON <-> collection config round trips and refusals. */
#include "common/error.h"
#include "proto/config_json.h"

#include <criterion/criterion.h>

#define HASH64 "34f9bab0b119143cf98de140da11551f8d59f9da7fc4d65eceda8cf2a63c2fcb"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
}

TestSuite(config_json, .init = setup);

static int parse(const char *text)
{
    pinhole_collection_config cfg;
    return pinhole_collection_config_from_json(text, strlen(text), &cfg);
}

Test(config_json, round_trip_is_exact)
{
    pinhole_collection_config a = {.collection_id = INT64_MAX,
                                   .params = {.mechanism = PINHOLE_MECH_PGR,
                                              .k = 74286,
                                              .epsilon = 0.1 + 0.2,
                                              .q = 4,
                                              .t = 9},
                                   .time_precision = 60,
                                   .min_reports = 1000},
                              b;
    int err = 1;
    char *text = pinhole_collection_config_to_json(&a, &err);
    cr_assert_eq(err, PINHOLE_OK);
    cr_assert_not_null(text);
    cr_assert_eq(pinhole_collection_config_from_json(text, strlen(text), &b), PINHOLE_OK, "%s",
                 text);
    cr_assert_eq(b.collection_id, a.collection_id);
    cr_assert_eq(b.params.k, 74286);
    cr_assert(b.params.epsilon == 0.1 + 0.2, "epsilon %.17g", b.params.epsilon);
    cr_assert_eq(b.params.q, 4);
    cr_assert_eq(b.params.t, 9);
    cr_assert_eq(b.time_precision, 60);
    cr_assert_eq(b.min_reports, 1000);
    uint8_t fa[16], fb[16];
    pinhole_collection_config_fingerprint(&a, fa);
    pinhole_collection_config_fingerprint(&b, fb);
    cr_assert_arr_eq(fa, fb, 16);
    free(text);
    /* version 2: the labels hash and the other item survive the round trip */
    a.has_labels = 1;
    for (int i = 0; i < 32; i++)
        a.labels_hash[i] = (uint8_t)(7 * i + 1);
    a.other_item = 74285;
    text = pinhole_collection_config_to_json(&a, &err);
    cr_assert_eq(err, PINHOLE_OK);
    cr_assert(strstr(text, "\"version\":2") && strstr(text, "\"other_item\":74285"), "%s", text);
    cr_assert_eq(pinhole_collection_config_from_json(text, strlen(text), &b), PINHOLE_OK, "%s", text);
    cr_assert(b.has_labels && b.other_item == 74285);
    cr_assert_arr_eq(b.labels_hash, a.labels_hash, 32);
    pinhole_collection_config_fingerprint(&a, fa);
    pinhole_collection_config_fingerprint(&b, fb);
    cr_assert_arr_eq(fa, fb, 16);
    free(text);
    a.other_item = PINHOLE_NO_OTHER_ITEM; /* none: left out of the JSON */
    text = pinhole_collection_config_to_json(&a, &err);
    cr_assert(!strstr(text, "other_item"), "%s", text);
    cr_assert_eq(pinhole_collection_config_from_json(text, strlen(text), &b), PINHOLE_OK, "%s", text);
    cr_assert_eq(b.other_item, PINHOLE_NO_OTHER_ITEM);
    free(text);
}

Test(config_json, exact_text)
{
    pinhole_collection_config a = {
        .collection_id = 7,
        .params = {.mechanism = PINHOLE_MECH_PGR, .k = 1024, .epsilon = 4.0, .q = 67, .t = 3},
        .time_precision = 3600,
        .min_reports = 100};
    char *text = pinhole_collection_config_to_json(&a, NULL);
    cr_assert_str_eq(text, "{\"version\":1,\"collection_id\":7,\"mechanism\":\"pgr\",\"k\":1024,"
                           "\"epsilon\":4.0,\"q\":67,\"t\":3,\"time_precision\":3600,"
                           "\"min_reports\":100}");
    free(text);
}

Test(config_json, refusals)
{
    const char *ok = "{\"version\":1,\"collection_id\":7,\"mechanism\":\"pgr\",\"k\":1024,"
                     "\"epsilon\":4,\"q\":67,\"t\":3,\"time_precision\":3600,\"min_reports\":0}";
    cr_assert_eq(parse(ok), PINHOLE_OK);
    cr_assert_eq(parse("not json"), PINHOLE_EFORMAT);
    cr_assert_eq(parse("[1]"), PINHOLE_EFORMAT);
    cr_assert_eq(parse("{\"version\":1}"), PINHOLE_EFORMAT);
    /* a duplicate key, an unknown key, a wrong type, a negative or too large number */
    cr_assert_eq(parse("{\"version\":1,\"version\":1,\"collection_id\":7,\"mechanism\":\"pgr\","
                       "\"k\":1024,\"epsilon\":4,\"q\":67,\"t\":3,\"time_precision\":3600}"),
                 PINHOLE_EFORMAT);
    cr_assert_eq(parse("{\"version\":1,\"collection_id\":7,\"mechanism\":\"pgr\",\"k\":1024,"
                       "\"epsilon\":4,\"q\":67,\"t\":3,\"time_precision\":3600,\"extra\":0}"),
                 PINHOLE_EFORMAT);
    cr_assert_eq(parse("{\"version\":1,\"collection_id\":\"7\",\"mechanism\":\"pgr\",\"k\":1024,"
                       "\"epsilon\":4,\"q\":67,\"t\":3,\"time_precision\":3600,\"min_reports\":0}"),
                 PINHOLE_EFORMAT);
    cr_assert_eq(
        parse("{\"version\":1,\"collection_id\":7,\"mechanism\":\"pgr\",\"k\":1024,"
              "\"epsilon\":4,\"q\":-67,\"t\":3,\"time_precision\":3600,\"min_reports\":0}"),
        PINHOLE_EFORMAT);
    cr_assert_eq(parse("{\"version\":1,\"collection_id\":7,\"mechanism\":\"pgr\",\"k\":1024,"
                       "\"epsilon\":4,\"q\":4294967296,\"t\":3,\"time_precision\":3600,"
                       "\"min_reports\":0}"),
                 PINHOLE_EFORMAT);
    cr_assert_eq(parse("{\"version\":3,\"collection_id\":7,\"mechanism\":\"pgr\",\"k\":1024,"
                       "\"epsilon\":4,\"q\":67,\"t\":3,\"time_precision\":3600,\"min_reports\":0}"),
                 PINHOLE_EVERSION);
    /* version 2 needs the labels hash, version 1 must not have it */
    cr_assert_eq(parse("{\"version\":2,\"collection_id\":7,\"mechanism\":\"pgr\",\"k\":1024,"
                       "\"epsilon\":4,\"q\":67,\"t\":3,\"time_precision\":3600,\"min_reports\":0}"),
                 PINHOLE_EFORMAT);
    cr_assert_eq(parse("{\"version\":1,\"collection_id\":7,\"mechanism\":\"grr\",\"k\":4,"
                       "\"epsilon\":1,\"q\":0,\"t\":0,\"time_precision\":1,\"min_reports\":0,"
                       "\"labels_hash\":\"" HASH64 "\"}"),
                 PINHOLE_EFORMAT);
    cr_assert_eq(parse("{\"version\":2,\"collection_id\":7,\"mechanism\":\"grr\",\"k\":4,"
                       "\"epsilon\":1,\"q\":0,\"t\":0,\"time_precision\":1,\"min_reports\":0,"
                       "\"labels_hash\":\"" HASH64 "\",\"other_item\":4}"),
                 PINHOLE_EFORMAT); /* other item >= k */
    cr_assert_eq(parse("{\"version\":2,\"collection_id\":7,\"mechanism\":\"grr\",\"k\":4,"
                       "\"epsilon\":1,\"q\":0,\"t\":0,\"time_precision\":1,\"min_reports\":0,"
                       "\"labels_hash\":\"abcd\"}"),
                 PINHOLE_EFORMAT); /* short hash */
    cr_assert_eq(parse("{\"version\":1,\"collection_id\":7,\"mechanism\":\"nope\",\"k\":1024,"
                       "\"epsilon\":4,\"q\":67,\"t\":3,\"time_precision\":3600,\"min_reports\":0}"),
                 PINHOLE_EUNSUPPORTED);
    /* the binary form's checks: epsilon <= 0, k < 2, precision 0 */
    cr_assert_eq(parse("{\"version\":1,\"collection_id\":7,\"mechanism\":\"pgr\",\"k\":1024,"
                       "\"epsilon\":0,\"q\":67,\"t\":3,\"time_precision\":3600,\"min_reports\":0}"),
                 PINHOLE_EFORMAT);
    cr_assert_eq(parse("{\"version\":1,\"collection_id\":7,\"mechanism\":\"pgr\",\"k\":1,"
                       "\"epsilon\":1,\"q\":67,\"t\":3,\"time_precision\":3600,\"min_reports\":0}"),
                 PINHOLE_EFORMAT);
    cr_assert_eq(parse("{\"version\":1,\"collection_id\":7,\"mechanism\":\"pgr\",\"k\":9,"
                       "\"epsilon\":1,\"q\":67,\"t\":3,\"time_precision\":0,\"min_reports\":0}"),
                 PINHOLE_EFORMAT);
    int err = 0;
    pinhole_collection_config big = {
        .collection_id = (uint64_t)INT64_MAX + 1,
        .params = {.mechanism = PINHOLE_MECH_PGR, .k = 10, .epsilon = 1, .q = 3, .t = 3},
        .time_precision = 1};
    cr_assert_null(pinhole_collection_config_to_json(&big, &err));
    cr_assert_eq(err, PINHOLE_EINVAL);
    /* found by fuzz_config: a binary k above 2^63 - 1 has no JSON form */
    big.collection_id = 1;
    big.params.k = (uint64_t)INT64_MAX + 1;
    err = 0;
    cr_assert_null(pinhole_collection_config_to_json(&big, &err));
    cr_assert_eq(err, PINHOLE_EINVAL);
}

Test(config_json, extra_parameters)
{
    pinhole_collection_config a = {.collection_id = 3,
                                   .params = {.mechanism = PINHOLE_MECH_PGR,
                                              .k = 100,
                                              .epsilon = 2.0,
                                              .q = 7,
                                              .t = 3,
                                              .epsilon_permanent = 0.5,
                                              .pool = 1024,
                                              .pool_key = UINT64_C(0xFEDCBA9876543210),
                                              .block = 64},
                                   .time_precision = 60,
                                   .min_reports = 5},
                              b;
    char *text = pinhole_collection_config_to_json(&a, NULL);
    cr_assert_str_eq(text, "{\"version\":1,\"collection_id\":3,\"mechanism\":\"pgr\",\"k\":100,"
                           "\"epsilon\":2.0,\"q\":7,\"t\":3,\"time_precision\":60,"
                           "\"min_reports\":5,\"epsilon_permanent\":0.5,\"pool\":1024,"
                           "\"pool_key\":\"fedcba9876543210\",\"block\":64}");
    cr_assert_eq(pinhole_collection_config_from_json(text, strlen(text), &b), PINHOLE_OK);
    cr_assert(b.params.epsilon_permanent == 0.5);
    cr_assert_eq(b.params.pool, 1024);
    cr_assert_eq(b.params.pool_key, UINT64_C(0xFEDCBA9876543210));
    cr_assert_eq(b.params.block, 64);
    free(text);
    const char *base = "{\"version\":1,\"collection_id\":3,\"mechanism\":\"pgr\",\"k\":100,"
                       "\"epsilon\":2,\"q\":7,\"t\":3,\"time_precision\":60,\"min_reports\":5,";
    const char *bad[] = {"\"pool_key\":\"fedcba987654321\"}",  /* 15 digits */
                         "\"pool_key\":\"fedcba987654321x\"}", /* not hex */
                         "\"pool_key\":12}",                   /* not a string */
                         "\"pool\":4294967296}",               /* over 32 bits */
                         "\"epsilon_permanent\":-1}",          /* the binary form's check */
                         "\"epsilon_permanent\":\"1\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s%s", base, bad[i]);
        cr_assert_eq(parse(buf), PINHOLE_EFORMAT, "%s", buf);
    }
}
