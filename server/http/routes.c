/* The route table and the matching of a request's path and method against it. */
#include "server/http/http.h"
#include "server/http/ui.h"

#include <stdio.h>
#include <string.h>

#define JSON "application/json"
#define OCTETS "application/octet-stream"

static const pinhole_http_route routes[] = {
    /* pattern                          method    role                   body */
    {"/healthz", "GET", 0, PINHOLE_BODY_NONE, NULL, 0, pinhole_http_health, NULL},
    {"/metrics", "GET", 0, PINHOLE_BODY_NONE, NULL, 0, pinhole_http_metrics, NULL},
    {"/v1/keys", "GET", 0, PINHOLE_BODY_NONE, NULL, 0, pinhole_http_keys, NULL},
    {"/v1/collections", "GET", PINHOLE_ROLE_ANALYST, PINHOLE_BODY_NONE, NULL, 0,
     pinhole_http_collection_list, NULL},
    {"/v1/collections", "POST", PINHOLE_ROLE_ADMIN, PINHOLE_BODY_ADMIN, JSON, 0,
     pinhole_http_collection_create, NULL},
    {"/v1/collections/{id}", "GET", PINHOLE_ROLE_ANALYST, PINHOLE_BODY_NONE, NULL, 2,
     pinhole_http_collection_get, "labels"},
    {"/v1/collections/{id}", "DELETE", PINHOLE_ROLE_ADMIN, PINHOLE_BODY_NONE, NULL, 1,
     pinhole_http_collection_delete, NULL},
    {"/v1/collections/{id}/reports", "POST", PINHOLE_ROLE_UPLOADER, PINHOLE_BODY_REPORTS, OCTETS, 1,
     pinhole_http_reports, NULL},
    {"/v1/collections/{id}/histogram", "GET", PINHOLE_ROLE_ANALYST, PINHOLE_BODY_NONE, NULL, 1,
     pinhole_http_histogram, "from to top format consistency topk significant items closed"},
    {"/v1/collections/{id}/close", "POST", PINHOLE_ROLE_ADMIN, PINHOLE_BODY_ADMIN, JSON, 1,
     pinhole_http_collection_close, NULL},
    {"/v1/collections/{id}/config", "GET", 0, PINHOLE_BODY_NONE, NULL, 1, pinhole_http_config,
     "format"},
    {"/v1/collections/{id}/labels", "GET", 0, PINHOLE_BODY_NONE, NULL, 1, pinhole_http_labels,
     NULL},
    {"/v1/collections/{id}/timeline", "GET", PINHOLE_ROLE_ANALYST, PINHOLE_BODY_NONE, NULL, 1,
     pinhole_http_timeline, NULL},
    {"/v1/collections/{id}/jobs", "POST", PINHOLE_ROLE_ANALYST, PINHOLE_BODY_JOB, JSON, 2,
     pinhole_http_job_create, NULL},
    {"/v1/jobs", "POST", PINHOLE_ROLE_ANALYST, PINHOLE_BODY_JOB, JSON, 0, pinhole_http_job_offline,
     NULL},
    {"/v1/collections/{id}/jobs", "GET", PINHOLE_ROLE_ANALYST, PINHOLE_BODY_NONE, NULL, 2,
     pinhole_http_job_list, "limit offset"},
    {"/v1/jobs", "GET", PINHOLE_ROLE_ANALYST, PINHOLE_BODY_NONE, NULL, 0, pinhole_http_job_list,
     "limit offset"},
    {"/v1/jobs/{id}", "GET", PINHOLE_ROLE_ANALYST, PINHOLE_BODY_NONE, NULL, 0, pinhole_http_job_get,
     NULL},
    {"/v1/jobs/{id}", "DELETE", PINHOLE_ROLE_ANALYST, PINHOLE_BODY_NONE, NULL, 0,
     pinhole_http_job_cancel, NULL},
    {"/v1/discoveries", "GET", PINHOLE_ROLE_ANALYST, PINHOLE_BODY_NONE, NULL, 0,
     pinhole_http_discovery_list, NULL},
    {"/v1/discoveries", "POST", PINHOLE_ROLE_ADMIN, PINHOLE_BODY_ADMIN, JSON, 0,
     pinhole_http_discovery_create, NULL},
    {"/v1/discoveries/{id}", "GET", PINHOLE_ROLE_ANALYST, PINHOLE_BODY_NONE, NULL, 0,
     pinhole_http_discovery_get, NULL},
    {"/v1/discoveries/{id}/config", "GET", 0, PINHOLE_BODY_NONE, NULL, 0,
     pinhole_http_discovery_config, NULL},
    {"/", "GET", 0, PINHOLE_BODY_NONE, NULL, 0, pinhole_http_root, "*"},
    /* "/ui": links need the slash */
    {"/ui", "GET", 0, PINHOLE_BODY_NONE, NULL, 0, pinhole_http_root, "*"},
    {"/ui/{asset}", "GET", 0, PINHOLE_BODY_NONE, NULL, 0, pinhole_http_ui, "*"},
    /* aliases (no handler): the route without the final slash serves them */
    {"/v1/collections/{id}/", "GET", 0, PINHOLE_BODY_NONE, NULL, 0, NULL, NULL},
};

const pinhole_http_route *pinhole_http_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}

/* Does path match pattern? Fills *id and *asset from the placeholders. */
static int path_matches(const char *pattern, const char *path, int64_t *id, const char **asset)
{
    *id = 0;
    *asset = NULL;
    while (*pattern) {
        if (strncmp(pattern, "{id}", 4) == 0) {
            int64_t x = 0;
            int digits = 0;
            while (*path >= '0' && *path <= '9' && digits < 18) {
                x = 10 * x + (*path++ - '0');
                digits++;
            }
            if (digits == 0)
                return 0;
            *id = x;
            pattern += 4;
        } else if (strcmp(pattern, "{asset}") == 0) {
            const char *name = *path ? path : "index.html";
            if (!pinhole_ui_find(name))
                return 0;
            *asset = name;
            return 1;
        } else if (*pattern++ != *path++) {
            return 0;
        }
    }
    return *path == '\0';
}

/* The route serving r: r itself, or for an alias the route of the same method whose pattern is
 * r's without its final '/' (NULL when there is none). */
static const pinhole_http_route *served_by(const pinhole_http_route *r)
{
    if (r->handler)
        return r;
    const size_t len = strlen(r->pattern);
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (routes[i].handler && strcmp(routes[i].method, r->method) == 0 &&
            strlen(routes[i].pattern) + 1 == len &&
            strncmp(routes[i].pattern, r->pattern, len - 1) == 0 && r->pattern[len - 1] == '/')
            return &routes[i];
    return NULL;
}

static int method_matches(const char *want, const char *method)
{
    return strcmp(want, method) == 0 || (strcmp(want, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

int pinhole_http_route_find(const char *path, const char *method, pinhole_http_match *m)
{
    memset(m, 0, sizeof *m);
    const char *pattern = NULL; /* the first pattern the path matches */
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const pinhole_http_route *r = &routes[i];
        if (pattern ? strcmp(r->pattern, pattern) != 0
                    : !path_matches(r->pattern, path, &m->id, &m->asset))
            continue;
        pattern = r->pattern;
        const size_t used = strlen(m->allow);
        snprintf(m->allow + used, sizeof m->allow - used, "%s%s", used ? ", " : "", r->method);
        if (!m->route && method_matches(r->method, method))
            m->route = served_by(r);
    }
    if (!pattern)
        return PINHOLE_ROUTE_NOT_FOUND;
    return m->route ? PINHOLE_ROUTE_FOUND : PINHOLE_ROUTE_METHOD_NOT_ALLOWED;
}
