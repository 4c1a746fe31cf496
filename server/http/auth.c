/* Authentication: the roles a bearer token grants, and the 401/403 answers. */
#include "server/http/http.h"

#include <sodium.h>
#include <string.h>

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

void pinhole_server_set_tokens(pinhole_server *s, const pinhole_server_options *o)
{
    pthread_rwlock_wrlock(&s->token_lock);
    memcpy(s->opt.admin_hash, o->admin_hash, sizeof s->opt.admin_hash);
    memcpy(s->opt.analyst_hash, o->analyst_hash, sizeof s->opt.analyst_hash);
    memcpy(s->opt.uploader_hash, o->uploader_hash, sizeof s->opt.uploader_hash);
    s->opt.have_admin = o->have_admin;
    s->opt.have_analyst = o->have_analyst;
    s->opt.have_uploader = o->have_uploader;
    pthread_rwlock_unlock(&s->token_lock);
}

int pinhole_http_check_role(request *rq, int need, enum MHD_Result *res)
{
    const pinhole_server_options *o = &rq->srv->opt;
    pthread_rwlock_rdlock(&rq->srv->token_lock); /* SIGHUP may replace the tokens */
    const int open_uploads = need == PINHOLE_ROLE_UPLOADER && !o->have_uploader;
    int present = 0;
    const int roles =
        open_uploads
            ? 0
            : pinhole_http_roles(o,
                                 MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
                                                             MHD_HTTP_HEADER_AUTHORIZATION),
                                 &present);
    pthread_rwlock_unlock(&rq->srv->token_lock);
    if (open_uploads)
        return 0; /* uploads are open when no uploader token is configured */
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
