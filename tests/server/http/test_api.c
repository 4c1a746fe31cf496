/* server/http/api.c called directly: every documented error of the collection-spec parser and of
 * the histogram query parser, and the defaults they fill in. */
#include "common/error.h"
#include "server/http/api.h"

#include <criterion/criterion.h>
#include <string.h>

static int spec(const char *body, pinhole_collection_spec *s, char *err)
{
    return pinhole_api_parse_collection(body, strlen(body), NULL, s, err, 256);
}

Test(api, collection_spec_defaults_and_labels)
{
    pinhole_collection_spec s;
    char err[256];
    cr_assert_eq(spec("{\"epsilon\": 2, \"k\": 10}", &s, err), PINHOLE_OK);
    cr_assert_str_eq(s.name, "collection");
    cr_assert_eq(s.params.mechanism, PINHOLE_MECH_PGR);
    cr_assert_eq(s.params.k, 10);
    cr_assert_eq(s.time_precision, PINHOLE_DEFAULT_TIME_PRECISION);
    cr_assert_eq(s.min_reports, PINHOLE_DEFAULT_MIN_REPORTS);
    cr_assert_null(s.labels);
    pinhole_collection_spec_free(&s);
    cr_assert_eq(spec("{\"epsilon\": 1, \"labels\": [\"a\", \"b\", \"c\"], \"k\": 3}", &s, err),
                 PINHOLE_OK);
    cr_assert_eq(s.params.k, 3); /* k from the labels, agreeing with the one given */
    cr_assert_str_eq(s.labels[2], "c");
    pinhole_collection_spec_free(&s);
}

Test(api, collection_spec_format_errors)
{
    pinhole_collection_spec s;
    char err[256];
    const char *const bad[] = {
        "not json",
        "[1, 2]",                                    /* not an object */
        "{\"epsilon\": 1, \"k\": 4, \"colour\": 1}", /* unknown member */
        "{\"epsilon\": 1, \"labels\": \"a\"}",       /* labels not an array */
        "{\"epsilon\": 1, \"labels\": [\"a\", 2]}",  /* a label not a string */
        "{\"epsilon\": 1, \"k\": 4, \"k\": 5}",      /* duplicate member */
        /* a NUL inside a label: jansson refuses \u0000 while parsing */
        "{\"epsilon\": 1, \"labels\": [\"a\", \"b\\u0000c\"]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        cr_assert_eq(spec(bad[i], &s, err), PINHOLE_EFORMAT, "%s", bad[i]);
        cr_assert(err[0] != '\0', "no reason for %s", bad[i]);
    }
}

Test(api, collection_spec_range_errors)
{
    pinhole_collection_spec s;
    char err[256];
    char longname[300], longlabel[1200], body[1400];
    memset(longname, 'n', 201);
    longname[201] = '\0';
    memset(longlabel, 'l', 1025);
    longlabel[1025] = '\0';
    const char *const bad[] = {
        "{\"k\": 4}",                 /* epsilon required */
        "{\"epsilon\": 1}",           /* k or labels required */
        "{\"epsilon\": 0, \"k\": 4}", /* epsilon > 0 */
        "{\"epsilon\": -1, \"k\": 4}",
        "{\"epsilon\": 1, \"k\": 1}",             /* k >= 2 */
        "{\"epsilon\": 1, \"k\": 1099511627777}", /* k <= 2^40 */
        "{\"epsilon\": 1, \"k\": 4, \"mechanism\": \"zzz\"}",
        "{\"epsilon\": 1, \"k\": 4, \"time_precision\": 0}",
        "{\"epsilon\": 1, \"k\": 4, \"time_precision\": 2147483649}",
        "{\"epsilon\": 1, \"k\": 4, \"min_reports\": -1}",
        "{\"epsilon\": 1, \"k\": 4, \"q\": -2}",
        "{\"epsilon\": 1, \"labels\": [\"a\"]}",                  /* at least two labels */
        "{\"epsilon\": 1, \"k\": 3, \"labels\": [\"a\", \"b\"]}", /* k disagrees */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        cr_assert_eq(spec(bad[i], &s, err), PINHOLE_EINVAL, "%s", bad[i]);
        cr_assert(err[0] != '\0', "no reason for %s", bad[i]);
    }
    /* a member of the wrong JSON type is malformed (400), not out of range (422) */
    const char *const mistyped[] = {
        "{\"epsilon\": 1, \"k\": 4.5}",
        "{\"epsilon\": \"1\", \"k\": 4}",
        "{\"epsilon\": 1, \"k\": \"4\"}",
        "{\"epsilon\": 1, \"k\": 4, \"name\": 5}",
        "{\"epsilon\": 1, \"k\": 4, \"q\": true}",
        "{\"epsilon\": 1, \"k\": 4, \"mechanism\": 1}",
    };
    for (size_t i = 0; i < sizeof mistyped / sizeof mistyped[0]; i++) {
        err[0] = '\0';
        cr_assert_eq(spec(mistyped[i], &s, err), PINHOLE_EFORMAT, "%s", mistyped[i]);
        cr_assert(strstr(err, "must be a JSON"), "%s: %s", mistyped[i], err);
    }
    snprintf(body, sizeof body, "{\"epsilon\": 1, \"k\": 4, \"name\": \"%s\"}", longname);
    cr_assert_eq(spec(body, &s, err), PINHOLE_EINVAL); /* name over 200 bytes */
    longname[200] = '\0';
    snprintf(body, sizeof body, "{\"epsilon\": 1, \"k\": 4, \"name\": \"%s\"}", longname);
    cr_assert_eq(spec(body, &s, err), PINHOLE_OK); /* 200 bytes: the most */
    pinhole_collection_spec_free(&s);
    snprintf(body, sizeof body, "{\"epsilon\": 1, \"labels\": [\"a\", \"%s\"]}", longlabel);
    cr_assert_eq(spec(body, &s, err), PINHOLE_EINVAL); /* label over 1024 bytes */
}

static int query(const char *from, const char *to, const char *top, const char *format,
                 const char *consistency, const char *topk, pinhole_histogram_query *q)
{
    char err[256] = "";
    const int rc =
        pinhole_api_parse_histogram_query(from, to, top, format, consistency, topk, q, err, 256);
    if (rc != PINHOLE_OK)
        cr_assert(err[0] != '\0');
    return rc;
}

Test(api, histogram_query)
{
    pinhole_histogram_query q;
    cr_assert_eq(query(NULL, NULL, NULL, NULL, NULL, NULL, &q), PINHOLE_OK);
    cr_assert_eq(q.from, 0);
    cr_assert_eq(q.to, INT64_MAX);
    cr_assert_eq(q.csv, 0);
    cr_assert_eq(q.consistency, PINHOLE_CONSISTENCY_NONE);
    cr_assert_eq(query("10", "20", "5", "csv", "mle", "3", &q), PINHOLE_OK);
    cr_assert_eq(q.from, 10);
    cr_assert_eq(q.to, 20);
    cr_assert_eq(q.top, 5);
    cr_assert_eq(q.csv, 1);
    cr_assert_eq(q.consistency, PINHOLE_CONSISTENCY_MLE);
    cr_assert_eq(q.topk, 3);
    cr_assert(q.has_from && q.has_to);
    cr_assert_eq(query(NULL, NULL, NULL, "json", "project", NULL, &q), PINHOLE_OK);
    cr_assert_eq(q.consistency, PINHOLE_CONSISTENCY_PROJECT);

    /* the documented errors: each PINHOLE_EINVAL with a reason */
    cr_assert_eq(query("-1", NULL, NULL, NULL, NULL, NULL, &q), PINHOLE_EINVAL);
    cr_assert_eq(query("1e3", NULL, NULL, NULL, NULL, NULL, &q), PINHOLE_EINVAL);
    cr_assert_eq(query("", NULL, NULL, NULL, NULL, NULL, &q), PINHOLE_EINVAL);
    cr_assert_eq(query(NULL, "99999999999999999999", NULL, NULL, NULL, NULL, &q), PINHOLE_EINVAL);
    cr_assert_eq(query("20", "20", NULL, NULL, NULL, NULL, &q), PINHOLE_EINVAL); /* from < to */
    cr_assert_eq(query("30", "20", NULL, NULL, NULL, NULL, &q), PINHOLE_EINVAL);
    cr_assert_eq(query(NULL, NULL, "x", NULL, NULL, NULL, &q), PINHOLE_EINVAL);
    cr_assert_eq(query(NULL, NULL, NULL, "xml", NULL, NULL, &q), PINHOLE_EINVAL);
    cr_assert_eq(query(NULL, NULL, NULL, NULL, "both", NULL, &q), PINHOLE_EINVAL);
    cr_assert_eq(query(NULL, NULL, NULL, NULL, NULL, "-3", &q), PINHOLE_EINVAL);
}
