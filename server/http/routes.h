/* The HTTP API's routes and roles, as one table: for every endpoint its path pattern, method,
 * the role it needs, the body it takes (limit and content type) and its handler. Matching a
 * request and granting roles from a bearer token are pure functions, unit-tested on their own
 * (tests/server/http/test_http.c); who may call what is checked over loopback, route by route and
 * token by token (tests/server/http/test_access.c). docs/api.md documents every route. */
#ifndef PINHOLE_SERVER_HTTP_ROUTES_H
#define PINHOLE_SERVER_HTTP_ROUTES_H

#include "server/http/httpd.h"

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

/** Roles a bearer token grants (bit set). The admin token grants all three. */
enum {
    PINHOLE_ROLE_ADMIN = 1,
    PINHOLE_ROLE_ANALYST = 2,
    PINHOLE_ROLE_UPLOADER = 4, /* not needed when no uploader token is configured */
};

/** What body an endpoint accepts, and so which limit applies. */
typedef enum pinhole_http_body {
    PINHOLE_BODY_NONE = 0, /* no body: any byte is "too large" */
    PINHOLE_BODY_REPORTS,  /* a report batch: max_body_bytes */
    PINHOLE_BODY_ADMIN,    /* a collection spec: max_admin_body_bytes */
    PINHOLE_BODY_JOB,      /* job parameters: max_body_bytes */
} pinhole_http_body;

struct request;

/** A route's handler: called once the body is complete (and again when a suspended request
 * resumes). Returns MHD_YES when a response was queued or the request suspended. */
typedef enum MHD_Result (*pinhole_http_handler)(struct request *rq);

typedef struct pinhole_http_route {
    const char *pattern;      /* "/v1/collections/{id}/reports"; {id} is 1..18 decimal digits,
                                 {asset} the rest of the path naming an embedded dashboard file */
    const char *method;       /* "GET" (HEAD is served as GET), "POST" or "DELETE" */
    int role;                 /* PINHOLE_ROLE_* needed, 0 for none */
    pinhole_http_body body;   /* PINHOLE_BODY_NONE for no body */
    const char *content_type; /* what the body must be, when there is one */
    int collection;           /* 1 when {id} names a collection that must exist, 2 when it may
                                 also name a multi-attribute collection (request.multi) */
    /* NULL for an alias: a pattern ending in '/' served by the route of the same method without
     * that slash (its role, body and handler: an alias never grants more) */
    pinhole_http_handler handler;
    /* the query parameters it takes, space-separated ("from to top"); NULL: none; "*": any (the
     * dashboard's files). Any other parameter is refused (400 bad-query) before the handler runs,
     * so that a misspelt one is not silently ignored. */
    const char *params;
} pinhole_http_route;

/** Every route, in table order (aliases included); *n receives their number. */
const pinhole_http_route *pinhole_http_routes(size_t *n);

/** The result of matching a request line. */
typedef struct pinhole_http_match {
    const pinhole_http_route *route; /* when found */
    int64_t id;                      /* the {id} of the path, 0 when none */
    const char *asset;               /* the {asset} ("index.html" for "/ui/"), NULL when none */
    char allow[32];                  /* methods of the path, as an Allow header ("GET, POST") */
} pinhole_http_match;

enum {
    PINHOLE_ROUTE_FOUND = 0,
    PINHOLE_ROUTE_NOT_FOUND,          /* no pattern matches the path: 404 */
    PINHOLE_ROUTE_METHOD_NOT_ALLOWED, /* the path matches, not with this method: 405 + allow */
};

/** Match path (without query string) and method against the table. Returns PINHOLE_ROUTE_FOUND
 * with m->route set (for an alias, the route that serves it), or PINHOLE_ROUTE_NOT_FOUND, or
 * PINHOLE_ROUTE_METHOD_NOT_ALLOWED with m->allow set. */
int pinhole_http_route_find(const char *path, const char *method, pinhole_http_match *m);

/** The roles granted by an Authorization header value (NULL when absent): compares the token's
 * hash with every configured one, in constant time, whichever matches. *present tells whether a
 * header was sent at all. Returns a set of PINHOLE_ROLE_* (0 when none). */
int pinhole_http_roles(const pinhole_server_options *o, const char *authorization, int *present);

#endif
