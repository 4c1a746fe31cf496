/* server/http without a socket: the route table (every route, 404 and 405 with Allow), the roles a
 * bearer token grants, and the problem table (unique slugs, each documented in docs/api.md). */
#include "server/http/api.h"
#include "server/http/problem.h"
#include "server/http/routes.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void init(void)
{
    cr_assert(sodium_init() >= 0);
}

TestSuite(http, .init = init);

/* Match and return the route's pattern, or the failure as "404" / "405 <allow>". */
static const char *route(const char *path, const char *method, pinhole_http_match *m)
{
    static char out[64];
    const int rc = pinhole_http_route_find(path, method, m);
    if (rc == PINHOLE_ROUTE_FOUND)
        return m->route->pattern;
    if (rc == PINHOLE_ROUTE_NOT_FOUND)
        return "404";
    snprintf(out, sizeof out, "405 %s", m->allow);
    return out;
}

Test(http, every_route_matches_its_path)
{
    pinhole_http_match m;
    cr_assert_str_eq(route("/healthz", "GET", &m), "/healthz");
    cr_assert_str_eq(route("/metrics", "HEAD", &m), "/metrics"); /* HEAD is served as GET */
    cr_assert_str_eq(route("/v1/keys", "GET", &m), "/v1/keys");
    cr_assert_str_eq(route("/v1/collections", "GET", &m), "/v1/collections");
    cr_assert_eq(m.route->role, PINHOLE_ROLE_ANALYST);
    cr_assert_str_eq(route("/v1/collections", "POST", &m), "/v1/collections");
    cr_assert_eq(m.route->role, PINHOLE_ROLE_ADMIN);
    cr_assert_eq(m.route->body, PINHOLE_BODY_ADMIN);
    cr_assert_str_eq(m.route->content_type, "application/json");
    cr_assert_str_eq(route("/v1/collections/42", "GET", &m), "/v1/collections/{id}");
    cr_assert_eq(m.id, 42);
    cr_assert(m.route->collection);
    /* a collection's description (labels, report count) is the analyst's: anonymously only
     * what a device needs, the signed config and the public keys */
    cr_assert_eq(m.route->role, PINHOLE_ROLE_ANALYST);
    cr_assert_str_eq(route("/v1/collections/7/reports", "POST", &m),
                     "/v1/collections/{id}/reports");
    cr_assert_eq(m.id, 7);
    cr_assert_eq(m.route->role, PINHOLE_ROLE_UPLOADER);
    cr_assert_eq(m.route->body, PINHOLE_BODY_REPORTS);
    cr_assert_str_eq(m.route->content_type, "application/octet-stream");
    cr_assert_str_eq(route("/v1/collections/7/histogram", "GET", &m),
                     "/v1/collections/{id}/histogram");
    cr_assert_eq(m.route->role, PINHOLE_ROLE_ANALYST);
    cr_assert_str_eq(route("/v1/collections/7/config", "GET", &m), "/v1/collections/{id}/config");
    cr_assert_eq(m.route->role, 0); /* devices fetch the signed config without a token */
    cr_assert_str_eq(route("/v1/collections/7/timeline", "GET", &m),
                     "/v1/collections/{id}/timeline");
    cr_assert_str_eq(route("/v1/collections/7/jobs", "POST", &m), "/v1/collections/{id}/jobs");
    cr_assert_eq(m.route->body, PINHOLE_BODY_JOB);
    cr_assert_str_eq(route("/v1/jobs/9", "GET", &m), "/v1/jobs/{id}");
    cr_assert_eq(m.id, 9);
    cr_assert(!m.route->collection);
    cr_assert_str_eq(route("/v1/jobs/9", "DELETE", &m), "/v1/jobs/{id}");
    cr_assert_eq(strcmp(m.route->method, "DELETE"), 0);
    cr_assert_str_eq(route("/", "GET", &m), "/");
    cr_assert_str_eq(route("/ui", "GET", &m), "/ui");
    cr_assert_str_eq(route("/ui/", "GET", &m), "/ui/{asset}");
    cr_assert_str_eq(m.asset, "index.html");
    cr_assert_str_eq(route("/ui/app.js", "GET", &m), "/ui/{asset}");
    cr_assert_str_eq(m.asset, "app.js");
}

Test(http, unknown_paths_are_404)
{
    pinhole_http_match m;
    const char *const paths[] = {"", "/v1", "/v1/collections/", "/v1/collections/x",
                                 "/v1/collections/7/unknown", "/v1/collections/7/reports/1",
                                 "/v1/jobs/", "/v1/jobs/1x", "/healthz/", "/ui/missing.html",
                                 "/ui/../app.js", "/v1/collections/-1",
                                 /* 19 digits: ids have at most 18 */
                                 "/v1/collections/1234567890123456789"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        cr_assert_str_eq(route(paths[i], "GET", &m), "404", "%s", paths[i]);
    cr_assert_str_eq(route("/v1/collections/123456789012345678", "GET", &m),
                     "/v1/collections/{id}");
    cr_assert_eq(m.id, 123456789012345678);
    cr_assert_str_eq(route("/v1/collections/007", "GET", &m), "/v1/collections/{id}");
    cr_assert_eq(m.id, 7);
}

Test(http, wrong_methods_are_405_with_allow)
{
    pinhole_http_match m;
    cr_assert_str_eq(route("/v1/collections", "PUT", &m), "405 GET, POST");
    cr_assert_str_eq(route("/v1/collections/1/reports", "GET", &m), "405 POST");
    cr_assert_str_eq(route("/v1/collections/1/jobs", "PUT", &m), "405 POST, GET");
    cr_assert_str_eq(route("/v1/jobs", "PUT", &m), "405 POST, GET");
    cr_assert_str_eq(route("/v1/jobs/1", "POST", &m), "405 GET, DELETE");
    cr_assert_str_eq(route("/v1/collections/1", "PUT", &m), "405 GET, DELETE");
    cr_assert_str_eq(route("/healthz", "POST", &m), "405 GET");
    cr_assert_str_eq(route("/ui/index.html", "POST", &m), "405 GET");
}

/* An alias (a row without a handler) is served by the route of its method without the final
 * slash: it exists, and so the alias can grant no role, body or handler of its own. */
Test(http, aliases_are_served_by_their_route)
{
    size_t n, aliases = 0;
    const pinhole_http_route *r = pinhole_http_routes(&n);
    for (size_t i = 0; i < n; i++) {
        if (r[i].handler)
            continue;
        aliases++;
        char path[96];
        size_t o = 0;
        for (const char *p = r[i].pattern; *p && o + 3 < sizeof path;) {
            if (strncmp(p, "{id}", 4) == 0) {
                path[o++] = '5';
                p += 4;
            } else {
                path[o++] = *p++;
            }
        }
        path[o] = '\0';
        pinhole_http_match m;
        cr_assert_eq(pinhole_http_route_find(path, r[i].method, &m), PINHOLE_ROUTE_FOUND, "%s",
                     path);
        cr_assert_not_null(m.route->handler, "%s", path);
        cr_assert_eq(strlen(m.route->pattern) + 1, strlen(r[i].pattern), "%s", path);
        cr_assert_eq(strncmp(m.route->pattern, r[i].pattern, strlen(m.route->pattern)), 0);
        path[o - 1] = '\0'; /* the route itself, without the slash */
        pinhole_http_match canonical;
        cr_assert_eq(pinhole_http_route_find(path, r[i].method, &canonical), PINHOLE_ROUTE_FOUND);
        cr_assert_eq(canonical.route, m.route);
    }
    cr_assert_geq(aliases, 1);

    /* a trailing slash after a collection's id names the same collection, as it always did */
    pinhole_http_match m, canonical;
    cr_assert_str_eq(route("/v1/collections/42/", "GET", &m), "/v1/collections/{id}");
    cr_assert_eq(m.id, 42);
    cr_assert_eq(pinhole_http_route_find("/v1/collections/42", "GET", &canonical),
                 PINHOLE_ROUTE_FOUND);
    cr_assert_eq(m.route, canonical.route);
    cr_assert_str_eq(route("/v1/collections/1/", "POST", &m), "405 GET");
    /* no other path takes a trailing slash */
    const char *const paths[] = {"/v1/collections/7/reports/", "/v1/collections/7/histogram/",
                                 "/v1/collections/7//", "/v1/jobs/1/", "/v1/keys/"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        cr_assert_str_eq(route(paths[i], "GET", &m), "404", "%s", paths[i]);
}

/* Every route's pattern appears in docs/api.md. */
Test(http, every_route_is_documented)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/api.md", getenv("PINHOLE_SOURCE_DIR"));
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    static char doc[1 << 18];
    const size_t len = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[len] = '\0';
    size_t n;
    const pinhole_http_route *r = pinhole_http_routes(&n);
    cr_assert_geq(n, 16);
    for (size_t i = 0; i < n; i++) {
        char want[96];
        snprintf(want, sizeof want, "%s %s", r[i].method, r[i].pattern);
        if (strcmp(r[i].pattern, "/ui/{asset}") == 0 || strcmp(r[i].pattern, "/ui") == 0 ||
            strcmp(r[i].pattern, "/") == 0)
            snprintf(want, sizeof want, "/ui/"); /* the dashboard is documented as a whole */
        cr_assert(strstr(doc, want) != NULL, "docs/api.md does not mention \"%s\"", want);
    }

    /* ... and so does every problem type, with its status. */
    const pinhole_problem_type *p = pinhole_problem_types(&n);
    for (size_t i = 0; i < n; i++) {
        char want[96];
        snprintf(want, sizeof want, "| `%s` | %u | %s |", p[i].slug, p[i].status, p[i].title);
        cr_assert(strstr(doc, want) != NULL, "docs/api.md does not document problem %s", p[i].slug);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(p[i].slug, p[j].slug);
    }
}

/* A configuration with the three tokens "admin-token", "analyst-token", "uploader-token". */
static pinhole_server_options tokens(void)
{
    pinhole_server_options o;
    pinhole_server_options_default(&o);
    pinhole_token_hash("admin-token", 11, o.admin_hash);
    pinhole_token_hash("analyst-token", 13, o.analyst_hash);
    pinhole_token_hash("uploader-token", 14, o.uploader_hash);
    o.have_admin = o.have_analyst = o.have_uploader = 1;
    return o;
}

Test(http, roles_follow_the_token)
{
    pinhole_server_options o = tokens();
    int present;
    cr_assert_eq(pinhole_http_roles(&o, "Bearer admin-token", &present),
                 PINHOLE_ROLE_ADMIN | PINHOLE_ROLE_ANALYST | PINHOLE_ROLE_UPLOADER);
    cr_assert(present);
    cr_assert_eq(pinhole_http_roles(&o, "bearer   analyst-token", &present), PINHOLE_ROLE_ANALYST);
    cr_assert_eq(pinhole_http_roles(&o, "Bearer uploader-token", &present), PINHOLE_ROLE_UPLOADER);
    cr_assert_eq(pinhole_http_roles(&o, "Bearer analyst-token2", &present), 0);
    cr_assert(present);
    cr_assert_eq(pinhole_http_roles(&o, "Basic YWRtaW46YWRtaW4=", &present), 0);
    cr_assert_eq(pinhole_http_roles(&o, "Bearer ", &present), 0);
    cr_assert_eq(pinhole_http_roles(&o, "Bearer admin-token extra", &present), 0);
    cr_assert_eq(pinhole_http_roles(&o, NULL, &present), 0);
    cr_assert(!present);
    /* a role whose token is not configured is never granted, even to a token hashing to zeros */
    o.have_analyst = 0;
    cr_assert_eq(pinhole_http_roles(&o, "Bearer analyst-token", &present), 0);
    memset(o.analyst_hash, 0, sizeof o.analyst_hash);
    cr_assert_eq(pinhole_http_roles(&o, "Bearer analyst-token", &present), 0);
}

Test(http, bearer_token_syntax)
{
    const char *tok;
    size_t len;
    cr_assert_eq(pinhole_api_bearer_token("Bearer abc", &tok, &len), 0);
    cr_assert_eq(len, 3);
    cr_assert_eq(strncmp(tok, "abc", 3), 0);
    cr_assert_eq(pinhole_api_bearer_token("BEARER abc", &tok, &len), 0); /* scheme: any case */
    cr_assert_eq(pinhole_api_bearer_token("Bearerabc", &tok, &len), -1);
    cr_assert_eq(pinhole_api_bearer_token("Bearer a\tb", &tok, &len), -1); /* visible ASCII */
    cr_assert_eq(pinhole_api_bearer_token("Bearer \xc3\xa9", &tok, &len), -1);
    char big[300] = "Bearer ";
    memset(big + 7, 'x', 256);
    big[7 + 256] = '\0';
    cr_assert_eq(pinhole_api_bearer_token(big, &tok, &len), 0); /* 256 characters: the most */
    cr_assert_eq(len, 256);
    big[7 + 256] = 'x';
    big[7 + 257] = '\0';
    cr_assert_eq(pinhole_api_bearer_token(big, &tok, &len), -1);
    uint8_t h[PINHOLE_TOKEN_HASH_BYTES], g[PINHOLE_TOKEN_HASH_BYTES];
    char hex[2 * PINHOLE_TOKEN_HASH_BYTES + 1];
    pinhole_token_hash("abc", 3, h);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    cr_assert_eq(pinhole_token_hash_parse(hex, g), 0);
    cr_assert_eq(memcmp(h, g, sizeof h), 0);
    hex[10] = 'g';
    cr_assert_eq(pinhole_token_hash_parse(hex, g), -1);
    cr_assert_eq(pinhole_token_hash_parse("abcd", g), -1);
}
