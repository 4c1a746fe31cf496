/* The dashboard: its embedded files under /ui/, and / and /ui redirecting to /ui/. */
#include "server/http/http.h"
#include "server/http/ui.h"

/* The dashboard's files (embedded at build time; no token needed to load the page itself: its
 * requests carry the analyst token the user types). */
enum MHD_Result pinhole_http_ui(request *rq)
{
    const pinhole_ui_asset *a = pinhole_ui_find(rq->match.asset);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    /* the page loads nothing from elsewhere; say so to the browser */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; style-src 'self'; script-src 'self'");
    enum MHD_Result ok = MHD_queue_response(rq->conn, MHD_HTTP_OK, r);
    rq->log_status = MHD_HTTP_OK;
    rq->log_bytes = a->len;
    MHD_destroy_response(r);
    atomic_fetch_add_explicit(&rq->srv->status[MHD_HTTP_OK], 1, memory_order_relaxed);
    return ok;
}

enum MHD_Result pinhole_http_root(request *rq)
{
    return pinhole_http_send(rq, MHD_HTTP_FOUND, "text/plain", NULL, 0, MHD_HTTP_HEADER_LOCATION,
                             "/ui/");
}
