/* Who may call what, over loopback: for every route and every kind of bearer token (none, unknown,
 * analyst, uploader, admin), with and without an uploader token configured, whether the request
 * is refused with 401, refused with 403, or let through to its handler. The expected table is the
 * server's access policy as documented in docs/api.md; the order of the checks (route, method,
 * token, collection) shows in the last rows. */
#include "common/error.h"
#include "server/cli/http_client.h"
#include "server/http/httpd.h"
#include "tests/support/tmpdb.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static test_tmpdb db;
static pinhole_server *srv;
static char base[64];
static int have_uploader; /* the server was started with an uploader token */

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    cr_assert_eq(cli_http_global_init(), 0);
    test_tmpdb_make(&db);
    srv = NULL;
}

static void teardown(void)
{
    if (srv)
        pinhole_server_stop(srv, 2);
    test_tmpdb_remove(&db);
}

TestSuite(access, .init = setup, .fini = teardown, .timeout = 60);

static void start(int with_uploader)
{
    pinhole_server_options o;
    pinhole_server_options_default(&o);
    o.port = 0;
    snprintf(o.db_path, sizeof o.db_path, "%s", db.path);
    pinhole_token_hash("admin-token", 11, o.admin_hash);
    pinhole_token_hash("analyst-token", 13, o.analyst_hash);
    o.have_admin = o.have_analyst = 1;
    have_uploader = with_uploader;
    if (with_uploader) {
        pinhole_token_hash("uploader-token", 14, o.uploader_hash);
        o.have_uploader = 1;
    }
    cr_assert_eq(pinhole_server_start(&o, &srv), PINHOLE_OK);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", pinhole_server_port(srv));
}

static long req(const char *token, const char *method, const char *path, const char *ctype,
                const char *body, char **out)
{
    cli_http h;
    cr_assert_eq(cli_http_init(&h, base, token), 0);
    cli_response r;
    cr_assert_eq(cli_http_request(&h, method, path, ctype, body, body ? strlen(body) : 0, &r), 0,
                 "%s", r.error);
    cli_http_free(&h);
    if (out)
        *out = r.body;
    else
        free(r.body);
    return r.status;
}

/* The tokens, in the order of the columns of want below. */
static const char *const tokens[] = {NULL, "unknown-token", "analyst-token", "uploader-token",
                                     "admin-token"};

/* One row: a request and, for each token, 'u' when it must be refused with 401, 'f' with 403,
 * or the status its handler answers (any other status is a failure). */
typedef struct row {
    const char *method, *path, *ctype, *body;
    const char *want; /* one letter per token: u, f, or '.' for "past authentication" */
    long status;      /* the status past authentication */
} row;

static void check(const row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        for (size_t t = 0; t < sizeof tokens / sizeof tokens[0]; t++) {
            char *body;
            const long st = req(tokens[t], r->method, r->path, r->ctype, r->body, &body);
            /* without an uploader token configured, "uploader-token" is an unknown token */
            const char w = t == 3 && !have_uploader ? r->want[1] : r->want[t];
            const long want = w == 'u' ? 401 : w == 'f' ? 403 : r->status;
            cr_expect_eq(st, want, "%s %s with %s: %ld, want %ld (%s)", r->method, r->path,
                         tokens[t] ? tokens[t] : "no token", st, want, body);
            free(body);
        }
    }
}

#define JSON "application/json"
#define OCTETS "application/octet-stream"

/* Everything but reports is the same whether or not an uploader token is configured. */
static const row common_rows[] = {
    {"GET", "/healthz", NULL, NULL, ".....", 200},
    {"GET", "/metrics", NULL, NULL, ".....", 200},
    {"GET", "/v1/keys", NULL, NULL, ".....", 200},
    {"GET", "/v1/collections", NULL, NULL, "uu.f.", 200},
    {"HEAD", "/v1/collections", NULL, NULL, "uu.f.", 200}, /* HEAD is served as GET */
    {"POST", "/v1/collections", JSON, "{", "uuff.", 400},
    {"GET", "/v1/collections/1", NULL, NULL, "uu.f.", 200}, /* anonymously: config, keys only */
    {"GET", "/v1/collections/1/", NULL, NULL, "uu.f.", 200},
    {"GET", "/v1/collections/1/config", NULL, NULL, ".....", 200},
    /* an unknown query parameter: 400 once past the token (403 would not tell it from a refusal) */
    {"GET", "/v1/collections/1/histogram?x=1", NULL, NULL, "uu.f.", 400},
    {"GET", "/v1/collections/1/timeline", NULL, NULL, "uu.f.", 200},
    /* every route refuses the query parameters it does not take (they were ignored once) */
    {"GET", "/v1/collections/1/timeline?from=5", NULL, NULL, "uu.f.", 400},
    {"GET", "/v1/collections/1?label=1", NULL, NULL, "uu.f.", 400},
    {"GET", "/v1/collections/1?labels=1", NULL, NULL, "uu.f.", 200},
    {"GET", "/v1/collections/1/config?format=json", NULL, NULL, ".....", 200},
    {"GET", "/v1/collections/1/config?fromat=json", NULL, NULL, ".....", 400},
    {"GET", "/v1/keys?x", NULL, NULL, ".....", 400},
    {"GET", "/v1/jobs?limit=5&offset=1", NULL, NULL, "uu.f.", 200},
    {"GET", "/v1/jobs?limt=5", NULL, NULL, "uu.f.", 400},
    {"DELETE", "/v1/jobs/77?force=1", NULL, NULL, "uu.f.", 400},
    {"GET", "/ui/?v=2", NULL, NULL, ".....", 200},
    {"POST", "/v1/collections/1/jobs", JSON, "{", "uu.f.", 400},
    {"POST", "/v1/collections/1/close", JSON, "{", "uuff.", 400},  /* admin only */
    {"POST", "/v1/collections/3/close", JSON, "{}", "uuff.", 404}, /* a multi parent: no buckets */
    {"GET", "/v1/jobs/77", NULL, NULL, "uu.f.", 404},
    {"DELETE", "/v1/jobs/77", NULL, NULL, "uu.f.", 404},
    {"GET", "/v1/discoveries", NULL, NULL, "uu.f.", 200},
    {"POST", "/v1/discoveries", JSON, "{", "uuff.", 400},
    {"GET", "/v1/discoveries/1", NULL, NULL, "uu.f.", 404},
    {"GET", "/v1/discoveries/1/config", NULL, NULL, ".....", 404},
    {"GET", "/", NULL, NULL, ".....", 302},
    {"GET", "/ui", NULL, NULL, ".....", 302},
    {"GET", "/ui/", NULL, NULL, ".....", 200},
    {"GET", "/ui/app.js", NULL, NULL, ".....", 200},
    /* collection 3, a multi-attribute collection over collection 2: the routes that take it */
    {"GET", "/v1/collections/3", NULL, NULL, "uu.f.", 200},
    {"POST", "/v1/collections/3/jobs", JSON, "{", "uu.f.", 400},
    {"GET", "/v1/collections/3/jobs", NULL, NULL, "uu.f.", 200},
    {"GET", "/v1/collections/3/config", NULL, NULL, ".....", 404},
    {"GET", "/v1/collections/3/histogram", NULL, NULL, "uu.f.", 404},
    /* the route and the method are checked before the token, the collection after it */
    {"GET", "/v1/nothing", NULL, NULL, ".....", 404},
    {"DELETE", "/v1/collections", NULL, NULL, ".....", 405},
    {"DELETE", "/v1/collections/9", NULL, NULL, "uuff.", 404}, /* admin only; 9 does not exist */
    {"GET", "/v1/collections/9/histogram", NULL, NULL, "uu.f.", 404},
    {"POST", "/v1/collections/9/jobs", JSON, "{", "uu.f.", 404},
    /* the media type after the token */
    {"POST", "/v1/collections", "text/plain", "{", "uuff.", 415},
};

/* Collection 1, the multi-attribute collection 3 of two attributes (its one pair is collection
 * 2), and job 1 (queued behind nothing, sleeping 30 s: it is still there when the rows run). */
static void create_collection(void)
{
    const char *spec = "{\"name\": \"c\", \"epsilon\": 2, \"k\": 8, \"min_reports\": 100}";
    cr_assert_eq(req("admin-token", "POST", "/v1/collections", JSON, spec, NULL), 201);
    const char *multi = "{\"epsilon\": 2, \"attributes\": [{\"k\": 2}, {\"k\": 3}]}";
    cr_assert_eq(req("admin-token", "POST", "/v1/collections", JSON, multi, NULL), 201);
    const char *job = "{\"type\": \"sleep\", \"params\": {\"seconds\": 30}}";
    cr_assert_eq(req("analyst-token", "POST", "/v1/collections/1/jobs", JSON, job, NULL), 202);
}

/* DELETE reaches the cancel handler (202 and the job), which GET does not. */
Test(access, delete_cancels_a_job)
{
    start(0);
    create_collection();
    char *body;
    cr_assert_eq(req("analyst-token", "GET", "/v1/jobs/1", NULL, NULL, NULL), 200);
    cr_assert_eq(req("uploader-token", "DELETE", "/v1/jobs/1", NULL, NULL, NULL), 401);
    cr_assert_eq(req("analyst-token", "DELETE", "/v1/jobs/1", NULL, NULL, &body), 202, "%s", body);
    free(body);
}

Test(access, open_uploads)
{
    start(0);
    create_collection();
    check(common_rows, sizeof common_rows / sizeof common_rows[0]);
    /* no uploader token configured: anyone may post reports, whatever token is sent */
    const row reports[] = {{"POST", "/v1/collections/1/reports", OCTETS, "x", ".....", 400},
                           {"POST", "/v1/collections/9/reports", OCTETS, "x", ".....", 404},
                           {"POST", "/v1/collections/3/reports", OCTETS, "x", ".....", 404}};
    check(reports, sizeof reports / sizeof reports[0]);
}

Test(access, uploader_token)
{
    start(1);
    create_collection();
    check(common_rows, sizeof common_rows / sizeof common_rows[0]);
    /* an uploader token configured: it (or the admin's) is required */
    const row reports[] = {{"POST", "/v1/collections/1/reports", OCTETS, "x", "uuf..", 400},
                           {"POST", "/v1/collections/9/reports", OCTETS, "x", "uuf..", 404},
                           {"POST", "/v1/collections/3/reports", OCTETS, "x", "uuf..", 404},
                           {"POST", "/v1/collections/1/reports", "text/plain", "x", "uuf..", 415}};
    check(reports, sizeof reports / sizeof reports[0]);
}
