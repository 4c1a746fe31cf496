/* Multi-attribute collections as a resource: POST /v1/collections with "attributes" creates the
 * pair collections and the parent record in one request, GET /v1/collections/{id} of the parent
 * lists its attributes and pairs with their config URLs, and the parent's multi_attribute job
 * reads its pairs (docs/multi-attribute.md). */
#include "common/error.h"
#include "common/explain.h"
#include "server/http/http.h"
#include "server/jobs/types_opt.h"
#include "client/multi.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The members a multi-attribute body may hold besides "attributes" (passed on to every pair). */
static int pair_member(const char *key)
{
    return !strcmp(key, "name") || !strcmp(key, "epsilon") || !strcmp(key, "mechanism") ||
           !strcmp(key, "time_precision") || !strcmp(key, "min_reports") ||
           !strcmp(key, "max_report_age") || !strcmp(key, "max_clock_skew") ||
           !strcmp(key, "keep_reports");
}

/* The name of attribute j: its "name", else "a<j>". */
static void attr_name(const json_t *attrs, uint32_t j, char *out, size_t len)
{
    const char *n = json_string_value(json_object_get(json_array_get(attrs, j), "name"));
    if (n)
        snprintf(out, len, "%s", n);
    else
        snprintf(out, len, "a%u", j);
}

/* Create pair p's collection from the body's shared members; *id receives its id. A problem is
 * queued (and -1 returned) when it is refused. */
static int create_pair(request *rq, const json_t *body, const json_t *attrs, uint32_t j, uint32_t l,
                       uint64_t cells, int64_t *id, enum MHD_Result *res)
{
    json_t *o = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        if (pair_member(key))
            json_object_set(o, key, v);
    }
    char a[64], b[64], name[PINHOLE_COLLECTION_NAME_MAX + 1];
    attr_name(attrs, j, a, sizeof a);
    attr_name(attrs, l, b, sizeof b);
    const char *base = json_string_value(json_object_get(body, "name"));
    if (j == l)
        snprintf(name, sizeof name, "%.100s: %.45s", base ? base : "multi", a);
    else
        snprintf(name, sizeof name, "%.100s: %.45s x %.45s", base ? base : "multi", a, b);
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "k", json_integer((json_int_t)cells));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    pinhole_collection_spec spec;
    char err[256];
    int rc = text ? pinhole_api_parse_collection(text, strlen(text),
                                                 pinhole_service_window(rq->srv->svc), &spec, err,
                                                 sizeof err)
                  : PINHOLE_ENOMEM;
    free(text);
    if (rc == PINHOLE_OK && spec.params.mechanism != PINHOLE_MECH_PGR) {
        pinhole_collection_spec_free(&spec);
        rc = PINHOLE_EINVAL;
        snprintf(err, sizeof err, "mechanism: a multi-attribute collection's pairs use pgr");
    }
    if (rc == PINHOLE_OK &&
        (rc = pinhole_config_explain(&spec.params, err, sizeof err)) != PINHOLE_OK)
        pinhole_collection_spec_free(&spec);
    const pinhole_server_collection *c = NULL;
    if (rc == PINHOLE_OK) {
        rc = pinhole_service_create_collection(rq->srv->svc, spec.name, &spec.params,
                                               spec.time_precision, spec.min_reports, NULL,
                                               &spec.window, &c);
        pinhole_collection_spec_free(&spec);
        if (rc != PINHOLE_OK && rc != PINHOLE_ENOMEM && rc != PINHOLE_EDB)
            snprintf(err, sizeof err, "pair (%u, %u): %s", j, l, pinhole_strerror(rc));
    }
    if (rc == PINHOLE_OK) {
        *id = c->id;
        return 0;
    }
    *res = rc == PINHOLE_ENOMEM ? pinhole_http_problem(rq, PROBLEM_OUT_OF_MEMORY, NULL)
           : rc == PINHOLE_EDB
               ? pinhole_http_problem(rq, PROBLEM_STORE_ERROR,
                                      "the database refused the write; retry later")
               : pinhole_http_problem(rq,
                                      rc == PINHOLE_EFORMAT ? PROBLEM_MALFORMED_JSON
                                                            : PROBLEM_INVALID_COLLECTION,
                                      err);
    return -1;
}

/* The parent's description: its attributes, and per pair the attributes, collection id, domain
 * size, stored reports and signed config URL. NULL when out of memory. */
static json_t *multi_json(pinhole_server *s, const pinhole_multi_record *r)
{
    json_t *spec = json_loads(r->spec, 0, NULL);
    const json_t *attrs = json_object_get(spec, "attributes"),
                 *cols = json_object_get(spec, "collections");
    const uint32_t d = (uint32_t)json_array_size(attrs);
    json_t *pairs = json_array();
    uint64_t total = 0;
    for (uint32_t j = 0, p = 0; pairs && p < json_array_size(cols); j++)
        for (uint32_t l = d == 1 ? 0 : j + 1; l < (d == 1 ? 1 : d); l++, p++) {
            const int64_t id = json_integer_value(json_array_get(cols, p));
            const pinhole_server_collection *c = pinhole_service_collection(s->svc, id);
            uint64_t n = 0;
            if (pinhole_service_report_total(s->svc, id, &n) != PINHOLE_OK)
                n = 0;
            total += n;
            char cfg[80];
            snprintf(cfg, sizeof cfg, "/v1/collections/%" PRId64 "/config", id);
            json_array_append_new(pairs, json_pack("{s:[i,i], s:I, s:I, s:I, s:s}", "attributes",
                                                   (int)j, (int)l, "collection", (json_int_t)id,
                                                   "k", (json_int_t)(c ? c->params.k : 0),
                                                   "reports", (json_int_t)n, "config", cfg));
        }
    char jobs[80];
    snprintf(jobs, sizeof jobs, "/v1/collections/%" PRId64 "/jobs", r->id);
    json_t *o = spec && pairs
                    ? json_pack("{s:I, s:s, s:s, s:I, s:s, s:O, s:i, s:O, s:o, s:I, s:s}", "id",
                                (json_int_t)r->id, "name", r->name, "kind", "multi_attribute",
                                "created", (json_int_t)r->created, "mechanism", "pgr", "epsilon",
                                json_object_get(spec, "epsilon"), "d", (int)d, "attributes", attrs,
                                "pairs", pairs, "reports", (json_int_t)total, "jobs", jobs)
                    : NULL;
    if (!spec)
        json_decref(pairs);
    json_decref(spec);
    return o;
}

enum MHD_Result pinhole_http_multi_create(request *rq, const json_t *body)
{
    const json_t *attrs = json_object_get(body, "attributes");
    uint32_t d, k[PINHOLE_MULTI_DMAX];
    char err[256];
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        if (strcmp(key, "attributes") && !pair_member(key)) {
            snprintf(err, sizeof err,
                     "unknown member \"%.100s\" of a multi-attribute collection (name, epsilon, "
                     "mechanism, time_precision, min_reports, attributes)",
                     key);
            return pinhole_http_problem(rq, PROBLEM_MALFORMED_JSON, err);
        }
    }
    if (pinhole_job_multi_attributes(attrs, &d, k, err, sizeof err) != PINHOLE_OK)
        return pinhole_http_problem(rq, PROBLEM_INVALID_COLLECTION, err);
    const uint32_t npairs = d == 1 ? 1 : d * (d - 1) / 2;
    json_t *ids = json_array();
    enum MHD_Result res = MHD_NO;
    /* the pairs one by one (a refusal of the first refuses the whole; a store failure midway
     * leaves the pairs made so far as ordinary collections) */
    for (uint32_t j = 0, p = 0; ids && p < npairs; j++)
        for (uint32_t l = d == 1 ? 0 : j + 1; l < (d == 1 ? 1 : d); l++, p++) {
            int64_t id;
            if (create_pair(rq, body, attrs, j, l, d == 1 ? k[0] : (uint64_t)k[j] * k[l], &id,
                            &res) != 0) {
                json_decref(ids);
                return res;
            }
            json_array_append_new(ids, json_integer((json_int_t)id));
        }
    if (!ids)
        return pinhole_http_problem(rq, PROBLEM_OUT_OF_MEMORY, NULL);
    const pinhole_server_collection *first =
        pinhole_service_collection(rq->srv->svc, json_integer_value(json_array_get(ids, 0)));
    json_t *spec = json_pack("{s:O, s:o, s:f}", "attributes", attrs, "collections", ids, "epsilon",
                             first->params.epsilon);
    char *text = spec ? json_dumps(spec, JSON_COMPACT) : NULL;
    json_decref(spec);
    const char *name = json_string_value(json_object_get(body, "name"));
    const pinhole_multi_record *r = NULL;
    const int rc = text
                       ? pinhole_service_create_multi(rq->srv->svc, name ? name : "multi", text, &r)
                       : PINHOLE_ENOMEM;
    free(text);
    if (rc == PINHOLE_ENOMEM)
        return pinhole_http_problem(rq, PROBLEM_OUT_OF_MEMORY, NULL);
    if (rc != PINHOLE_OK)
        return pinhole_http_problem(rq, PROBLEM_STORE_ERROR,
                                    "the database refused the write; retry later");
    char loc[64];
    snprintf(loc, sizeof loc, "/v1/collections/%" PRId64, r->id);
    return pinhole_http_send_json(rq, MHD_HTTP_CREATED, multi_json(rq->srv, r),
                                  MHD_HTTP_HEADER_LOCATION, loc);
}

enum MHD_Result pinhole_http_multi_get(request *rq)
{
    return pinhole_http_send_json(rq, MHD_HTTP_OK, multi_json(rq->srv, rq->multi), NULL, NULL);
}

json_t *pinhole_http_multi_job_params(const pinhole_multi_record *parent, const json_t *params,
                                      const json_t *from, const json_t *to)
{
    json_t *spec = json_loads(parent->spec, 0, NULL);
    json_t *o = params ? json_deep_copy(params) : json_object();
    if (!spec || !o || json_object_set(o, "attributes", json_object_get(spec, "attributes")) ||
        json_object_set(o, "collections", json_object_get(spec, "collections")) ||
        (from && json_object_set(o, "from", (json_t *)from)) ||
        (to && json_object_set(o, "to", (json_t *)to))) {
        json_decref(o);
        o = NULL;
    }
    json_decref(spec);
    return o;
}
