/* A discovery collection end to end over loopback, the devices through libpinhole's public API:
 * created by the admin, each round's signed config fetched and verified by the devices, their
 * strings reported to the round's collection, the round closed by the job once it has the reports
 * it wants, a report to a closed round refused, the results (strings with estimate and interval)
 * in the API, and the state kept across a restart. */
#include "server/cli/http_client.h"
#include "server/http/httpd.h"
#include "tests/support/tmpdb.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <pinhole/pinhole.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static test_tmpdb db;
static pinhole_server *srv;
static char base[64];

static void start(void)
{
    pinhole_server_options o;
    pinhole_server_options_default(&o);
    o.port = 0;
    snprintf(o.db_path, sizeof o.db_path, "%s", db.path);
    pinhole_token_hash("admin-token", 11, o.admin_hash); /* grants every role */
    o.have_admin = 1;
    cr_assert_eq(pinhole_server_start(&o, &srv), PINHOLE_OK);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", pinhole_server_port(srv));
}

static void setup(void)
{
    cr_assert_eq(pinhole_init(), PINHOLE_OK);
    cr_assert_eq(cli_http_global_init(), 0);
    test_tmpdb_make(&db);
    start();
}

static void teardown(void)
{
    if (srv)
        pinhole_server_stop(srv, 2);
    test_tmpdb_remove(&db);
}

TestSuite(discovery_http, .init = setup, .fini = teardown, .timeout = 120);

static cli_response req(const char *method, const char *path, const char *ctype, const void *body,
                        size_t len)
{
    cli_http h;
    cr_assert_eq(cli_http_init(&h, base, "admin-token"), 0);
    cli_response r;
    cr_assert_eq(cli_http_request(&h, method, path, ctype, body, len, &r), 0, "%s", r.error);
    cli_http_free(&h);
    return r;
}

static json_t *get_json(const char *path, long want)
{
    cli_response r = req("GET", path, NULL, NULL, 0);
    cr_assert_eq(r.status, want, "GET %s: %ld %s", path, r.status, r.body);
    json_t *o = json_loadb(r.body, r.len, 0, NULL);
    free(r.body);
    cr_assert_not_null(o);
    return o;
}

/* The devices' strings: "hi" for half of them, "ok" for 30%, "yo" for 20%. */
static const char *device_string(uint64_t i)
{
    const uint64_t m = i % 10;
    return m < 5 ? "hi" : m < 8 ? "ok" : "yo";
}

/* n devices, numbered from first, report into the open round of discovery 1; returns the round's
 * collection id. One report of the round is kept in keep[0..*keep_len) when keep is given. */
static int64_t report_round(const uint8_t *pk, uint64_t first, uint64_t n, uint8_t *keep,
                            size_t *keep_len)
{
    cli_response r = req("GET", "/v1/discoveries/1/config", NULL, NULL, 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    pinhole_discovery_round *round;
    cr_assert_eq(pinhole_discovery_round_new_signed(&round, (const uint8_t *)r.body, r.len, pk),
                 PINHOLE_OK);
    r.body[r.len / 2] ^= 1; /* a tampered config is refused */
    pinhole_discovery_round *bad;
    cr_assert_eq(pinhole_discovery_round_new_signed(&bad, (const uint8_t *)r.body, r.len, pk),
                 PINHOLE_ESIGNATURE);
    free(r.body);
    const pinhole_collection *col = pinhole_discovery_round_collection(round);
    pinhole_client *cl;
    cr_assert_eq(pinhole_client_new(&cl, NULL, NULL), PINHOLE_OK);
    pinhole_outbox *ob;
    cr_assert_eq(pinhole_outbox_new(&ob, col, 0, 1 << 20), PINHOLE_OK);
    const uint64_t now = (uint64_t)time(NULL); /* inside the round collection's report window */
    for (uint64_t i = first; i < first + n; i++) {
        uint8_t rep[PINHOLE_REPORT_MAXBYTES];
        size_t w;
        const char *s = device_string(i);
        cr_assert_eq(pinhole_discovery_report(cl, round, (const uint8_t *)s, strlen(s), now, 0, rep,
                                              sizeof rep, &w),
                     PINHOLE_OK);
        cr_assert_eq(pinhole_outbox_add(ob, rep, w, now), PINHOLE_OK);
        if (keep && i == first) {
            memcpy(keep, rep, w);
            *keep_len = w;
        }
    }
    char path[96];
    const int64_t id = (int64_t)pinhole_collection_id(col);
    snprintf(path, sizeof path, "/v1/collections/%lld/reports", (long long)id);
    const uint8_t *body;
    size_t len;
    while (pinhole_outbox_next(ob, &body, &len)) {
        cli_response p = req("POST", path, "application/octet-stream", body, len);
        cr_assert_eq(p.status, 200, "%s", p.body);
        free(p.body);
        pinhole_outbox_done(ob);
    }
    pinhole_outbox_free(ob);
    pinhole_client_free(cl);
    pinhole_discovery_round_free(round);
    return id;
}

/* Wait until discovery 1's open round is no longer `round` (the job closed it). */
static json_t *wait_round_closed(json_int_t round)
{
    for (int tries = 0; tries < 600; tries++) {
        json_t *o = get_json("/v1/discoveries/1", 200);
        const json_t *open = json_object_get(o, "open_round");
        if (json_is_null(open) || json_integer_value(open) != round)
            return o;
        json_decref(o);
        nanosleep(&(struct timespec){.tv_nsec = 50000000}, NULL);
    }
    cr_assert_fail("round %lld was not closed within 30 s", (long long)round);
    return NULL;
}

Test(discovery_http, rounds_end_to_end)
{
    /* 4000 devices, epsilon 8, strings of up to 2 bytes: round 0 extends the empty prefix by 2
     * bytes (3000 devices), the final round estimates the complete strings (1000 devices) */
    const char *spec = "{\"name\": \"words\", \"epsilon\": 8, \"devices\": 4000, \"depth\": 2}";
    cli_http h;
    cr_assert_eq(cli_http_init(&h, base, "admin-token"), 0);
    cli_response r;
    cr_assert_eq(
        cli_http_request(&h, "POST", "/v1/discoveries", "application/json", spec, strlen(spec), &r),
        0);
    cli_http_free(&h);
    cr_assert_eq(r.status, 201, "%s", r.body);
    free(r.body);
    json_t *keys = get_json("/v1/keys", 200);
    uint8_t pk[32];
    size_t n;
    cr_assert_eq(pinhole_hex_decode(json_string_value(json_object_get(keys, "config_signing_key")),
                                    pk, sizeof pk, &n),
                 PINHOLE_OK);
    json_decref(keys);

    json_t *o = get_json("/v1/discoveries/1", 200);
    cr_assert_eq(json_integer_value(json_object_get(o, "open_round")), 0);
    const json_int_t wanted0 = json_integer_value(json_object_get(o, "open_round_wanted"));
    cr_assert_eq(wanted0, 3000);
    json_decref(o);

    uint8_t old[PINHOLE_REPORT_MAXBYTES];
    size_t old_len = 0;
    const int64_t c0 = report_round(pk, 0, (uint64_t)wanted0, old, &old_len);
    o = wait_round_closed(0);
    cr_assert_eq(json_integer_value(json_object_get(o, "open_round")), 1, "%s", json_dumps(o, 0));
    const json_int_t wanted1 = json_integer_value(json_object_get(o, "open_round_wanted"));
    cr_assert_eq(wanted1, 1000);
    json_decref(o);

    /* round 0 is closed: its collection refuses reports, saying why, before reading them */
    char path[96];
    snprintf(path, sizeof path, "/v1/collections/%lld/reports", (long long)c0);
    r = req("POST", path, "application/octet-stream", old, old_len);
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_assert(strstr(r.body, "round-closed") && strstr(r.body, "closed"), "%s", r.body);
    free(r.body);

    /* a restart between rounds resumes round 1, with the same collection */
    o = get_json("/v1/discoveries/1", 200);
    const json_int_t c1 = json_integer_value(json_object_get(o, "open_round_collection"));
    json_decref(o);
    pinhole_server_stop(srv, 2);
    srv = NULL;
    start();
    o = get_json("/v1/discoveries/1", 200);
    cr_assert_eq(json_integer_value(json_object_get(o, "open_round")), 1, "%s", json_dumps(o, 0));
    cr_assert_eq(json_integer_value(json_object_get(o, "open_round_collection")), c1);
    cr_assert_eq(json_array_size(json_object_get(o, "log")), 1);
    json_decref(o);

    /* the final round, then the results */
    cr_assert_eq(report_round(pk, 100000, (uint64_t)wanted1, NULL, NULL), c1);
    o = wait_round_closed(1);
    cr_assert(json_is_true(json_object_get(o, "done")), "%s", json_dumps(o, 0));
    const json_t *res = json_object_get(o, "results");
    cr_assert_geq(json_array_size(res), 3);
    static const char *const want[] = {"hi", "ok", "yo"};
    static const double share[] = {0.5, 0.3, 0.2};
    for (int w = 0; w < 3; w++) {
        int found = 0;
        for (size_t i = 0; i < json_array_size(res); i++) {
            const json_t *x = json_array_get(res, i);
            if (strcmp(json_string_value(json_object_get(x, "string")), want[w]) != 0)
                continue;
            found = 1;
            const double est = json_number_value(json_object_get(x, "estimate"));
            const double sd = json_number_value(json_object_get(x, "stderr"));
            const double lo = json_number_value(json_object_get(x, "low"));
            const double hi = json_number_value(json_object_get(x, "high"));
            /* the estimate of the count among all 4000 devices, within 5 standard errors */
            cr_assert_lt(fabs(est - share[w] * 4000), 5 * sd + 1, "%s: %g (sd %g)", want[w], est,
                         sd);
            cr_assert_lt(lo, est);
            cr_assert_gt(hi, est);
            cr_assert(json_is_true(json_object_get(x, "significant")));
        }
        cr_assert(found, "%s not discovered: %s", want[w], json_dumps(res, 0));
    }
    json_decref(o);
    r = req("GET", "/v1/discoveries/1/config", NULL, NULL, 0);
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_assert(strstr(r.body, "discovery-finished"), "%s", r.body);
    free(r.body);

    /* the state and the results survive a restart */
    pinhole_server_stop(srv, 2);
    srv = NULL;
    start();
    o = get_json("/v1/discoveries", 200);
    const json_t *all = json_object_get(o, "discoveries");
    cr_assert_eq(json_array_size(all), 1);
    const json_t *d = json_array_get(all, 0);
    cr_assert_str_eq(json_string_value(json_object_get(d, "name")), "words");
    cr_assert(json_is_true(json_object_get(d, "done")));
    cr_assert_eq(json_array_size(json_object_get(d, "round_collections")), 2);
    cr_assert_geq(json_array_size(json_object_get(d, "results")), 3);
    json_decref(o);
}

Test(discovery_http, refusals)
{
    static const struct {
        const char *body;
        long status;
        const char *slug;
    } cases[] = {
        {"{", 400, "malformed-json"},
        {"{\"name\": \"x\", \"devices\": 100}", 422, "invalid-discovery"},
        {"{\"name\": \"x\", \"epsilon\": 2}", 422, "invalid-discovery"},
        {"{\"name\": \"x\", \"epsilon\": 2, \"devices\": 100, \"depth\": 33}", 422,
         "invalid-discovery"},
        {"{\"name\": \"x\", \"epsilon\": 2, \"devices\": 100, \"mechanism\": \"sue\"}", 422,
         "invalid-discovery"},
        {"{\"name\": \"x\", \"epsilon\": -1, \"devices\": 100}", 422, "invalid-discovery"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cli_response r = req("POST", "/v1/discoveries", "application/json", cases[i].body,
                             strlen(cases[i].body));
        cr_expect_eq(r.status, cases[i].status, "%s: %ld %s", cases[i].body, r.status, r.body);
        cr_expect(r.body && strstr(r.body, cases[i].slug), "%s: %s", cases[i].body, r.body);
        free(r.body);
    }
    cli_response r = req("GET", "/v1/discoveries/5/config", NULL, NULL, 0);
    cr_assert_eq(r.status, 404);
    cr_assert(strstr(r.body, "unknown-discovery"), "%s", r.body);
    free(r.body);
}
