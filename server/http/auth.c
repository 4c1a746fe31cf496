/* Authentication: the roles a bearer token grants, and the 401/403 answers. */
#include "server/http/http.h"

#include <sodium.h>

int pinhole_http_roles(const pinhole_server_options *o, const char *authorization, int *present)
{
    const char *tok;
    size_t len;
    *present = authorization != NULL;
    if (pinhole_api_bearer_token(authorization, &tok, &len) != 0)
        return 0;
    uint8_t hash[PINHOLE_TOKEN_HASH_BYTES];
    pinhole_token_hash(tok, len, hash);
    int roles = 0;
    /* every configured hash is compared, whatever matched */
    if (sodium_memcmp(hash, o->admin_hash, sizeof hash) == 0 && o->have_admin)
        roles |= PINHOLE_ROLE_ADMIN | PINHOLE_ROLE_ANALYST | PINHOLE_ROLE_UPLOADER;
    if (sodium_memcmp(hash, o->analyst_hash, sizeof hash) == 0 && o->have_analyst)
        roles |= PINHOLE_ROLE_ANALYST;
    if (sodium_memcmp(hash, o->uploader_hash, sizeof hash) == 0 && o->have_uploader)
        roles |= PINHOLE_ROLE_UPLOADER;
    return roles;
}

int pinhole_http_check_role(request *rq, int need, enum MHD_Result *res)
{
    const pinhole_server_options *o = &rq->srv->opt;
    if (need == PINHOLE_ROLE_UPLOADER && !o->have_uploader)
        return 0; /* uploads are open when no uploader token is configured */
    int present;
    const int roles = pinhole_http_roles(
        o, MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        &present);
    if (roles & need)
        return 0;
    if (roles)
        *res = pinhole_http_problem(rq, PROBLEM_FORBIDDEN,
                                    "this token does not grant access to this operation");
    else
        *res =
            pinhole_http_problem_ext(rq, PROBLEM_UNAUTHORIZED,
                                     present ? "the bearer token is not valid"
                                             : "an Authorization: Bearer token is required",
                                     NULL, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                     present ? "Bearer realm=\"pinhole\", error=\"invalid_token\""
                                             : "Bearer realm=\"pinhole\"");
    return -1;
}
