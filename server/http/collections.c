/* The collections resource: list, create, describe (GET /v1/collections[/{id}]), the signed
 * config clients fetch (.../config) and its label list (.../labels), the reports per time bucket
 * (.../timeline), and the server's public keys (GET /v1/keys). */
#include "common/clock.h"
#include "common/error.h"
#include "common/explain.h"
#include "proto/config_json.h"
#include "server/http/http.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t stored_reports(pinhole_server *s, int64_t id)
{
    uint64_t n = 0;
    if (pinhole_service_report_total(s->svc, id, &n) != PINHOLE_OK)
        n = 0;
    return n;
}

/* The collection's JSON with its stored reports and, in Unix seconds, the start of its first open
 * time bucket (closed_before: 0 when none is closed). NULL when out of memory. */
static json_t *collection_json(pinhole_server *s, const pinhole_server_collection *c,
                               int with_labels)
{
    int64_t closed = 0;
    if (pinhole_service_closed_before(s->svc, c->id, &closed) != PINHOLE_OK)
        closed = 0;
    json_t *o = pinhole_api_collection_json(c, stored_reports(s, c->id), with_labels);
    /* closed * time_precision fits: a bucket past 2^63 seconds cannot be closed (see close) */
    if (o && json_object_set_new(o, "closed_before",
                                 json_integer((json_int_t)(closed * c->time_precision))) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

enum MHD_Result pinhole_http_collection_get(request *rq)
{
    if (rq->multi)
        return pinhole_http_multi_get(rq);
    const char *l = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "labels");
    const int with_labels = l && (strcmp(l, "1") == 0 || strcmp(l, "true") == 0);
    return pinhole_http_send_json(rq, MHD_HTTP_OK, collection_json(rq->srv, rq->coll, with_labels),
                                  NULL, NULL);
}

/* POST /v1/collections/{id}/close (admin), {"before": T}: closes every time bucket that starts
 * before T (Unix seconds); T may reach at most the end of the bucket holding now. 200 with the
 * collection. */
enum MHD_Result pinhole_http_collection_close(request *rq)
{
    const pinhole_server_collection *c = rq->coll;
    json_t *root = json_loadb((const char *)rq->body, rq->len, JSON_REJECT_DUPLICATES, NULL);
    json_t *before = json_object_get(root, "before");
    char why[160] = "the body must be {\"before\": <Unix seconds>}";
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "before") != 0) {
            snprintf(why, sizeof why,
                     "unknown member \"%.64s\" (the body is {\"before\": <Unix seconds>})", key);
            break;
        }
    }
    const int shape =
        json_is_object(root) && json_object_size(root) == 1 && json_is_integer(before);
    if (json_is_object(root) && json_object_size(root) == 1 && before && !shape)
        snprintf(why, sizeof why, "before: Unix seconds, an integer");
    const json_int_t t = shape ? json_integer_value(before) : -1;
    json_decref(root);
    if (!shape)
        return pinhole_http_problem(rq, PROBLEM_MALFORMED_JSON, why);
    const int64_t p = c->time_precision, now = (int64_t)pinhole_clock_wall();
    const int64_t first_open = t / p + (t % p != 0); /* ceil(t / p): buckets starting before t */
    if (t < 0 || first_open > now / p + 1)
        return pinhole_http_problem(rq, PROBLEM_INVALID_CLOSE,
                                    "before: Unix seconds from 0 to the end of the current time "
                                    "bucket (a bucket that has not begun cannot be closed)");
    int64_t closed;
    const int rc = pinhole_service_close_buckets(rq->srv->svc, c->id, first_open, &closed);
    if (rc == PINHOLE_ENOTFOUND)
        return pinhole_http_problem(rq, PROBLEM_UNKNOWN_COLLECTION, NULL);
    if (rc != PINHOLE_OK)
        return pinhole_http_problem(rq, PROBLEM_STORE_ERROR, "the buckets could not be closed");
    return pinhole_http_send_json(rq, MHD_HTTP_OK, collection_json(rq->srv, c, 0), NULL, NULL);
}

/* DELETE /v1/collections/{id} (admin): gone from the API at once, its rows removed by the garbage
 * collector in the background. 204. */
enum MHD_Result pinhole_http_collection_delete(request *rq)
{
    const int rc = pinhole_service_delete_collection(rq->srv->svc, rq->coll->id);
    if (rc == PINHOLE_ENOTFOUND)
        return pinhole_http_problem(rq, PROBLEM_UNKNOWN_COLLECTION, NULL);
    if (rc == PINHOLE_ENOMEM)
        return pinhole_http_problem(rq, PROBLEM_OUT_OF_MEMORY, NULL);
    if (rc != PINHOLE_OK)
        return pinhole_http_problem(rq, PROBLEM_STORE_ERROR, "the collection could not be deleted");
    return pinhole_http_send(rq, MHD_HTTP_NO_CONTENT, NULL, NULL, 0, NULL, NULL);
}

enum MHD_Result pinhole_http_collection_list(request *rq)
{
    pinhole_server *s = rq->srv;
    json_t *arr = json_array();
    const size_t n = pinhole_service_collection_count(s->svc);
    for (size_t i = 0; arr && i < n; i++) {
        const pinhole_server_collection *c = pinhole_service_collection_at(s->svc, i);
        json_array_append_new(arr, collection_json(s, c, 0));
    }
    json_t *multi = json_array();
    const size_t nm = pinhole_service_multi_count(s->svc);
    for (size_t i = 0; multi && i < nm; i++) {
        const pinhole_multi_record *r = pinhole_service_multi_at(s->svc, i);
        json_array_append_new(multi, json_pack("{s:I, s:s, s:I}", "id", (json_int_t)r->id, "name",
                                               r->name, "created", (json_int_t)r->created));
    }
    return pinhole_http_send_json(
        rq, MHD_HTTP_OK,
        json_pack("{s:o, s:o}", "collections", arr, "multi_attribute_collections", multi), NULL,
        NULL);
}

enum MHD_Result pinhole_http_collection_create(request *rq)
{
    pinhole_server *s = rq->srv;
    pinhole_collection_spec spec;
    char err[256];
    json_t *root = json_loadb((const char *)rq->body, rq->len, JSON_REJECT_DUPLICATES, NULL);
    if (json_object_get(root, "attributes")) {
        const enum MHD_Result res = pinhole_http_multi_create(rq, root);
        json_decref(root);
        return res;
    }
    json_decref(root);
    int rc = pinhole_api_parse_collection((const char *)rq->body, rq->len,
                                          pinhole_service_window(s->svc), &spec, err, sizeof err);
    if (rc == PINHOLE_ENOMEM)
        return pinhole_http_problem(rq, PROBLEM_OUT_OF_MEMORY, NULL);
    if (rc != PINHOLE_OK)
        return pinhole_http_problem(
            rq, rc == PINHOLE_EFORMAT ? PROBLEM_MALFORMED_JSON : PROBLEM_INVALID_COLLECTION, err);
    /* the parameters say why they are refused (and an HR block larger than one block is refused
     * here rather than shrunk) */
    if ((rc = pinhole_config_explain(&spec.params, err, sizeof err)) != PINHOLE_OK) {
        pinhole_collection_spec_free(&spec);
        return rc == PINHOLE_ENOMEM ? pinhole_http_problem(rq, PROBLEM_OUT_OF_MEMORY, NULL)
                                    : pinhole_http_problem(rq, PROBLEM_INVALID_COLLECTION, err);
    }
    const pinhole_server_collection *c;
    rc = pinhole_service_create_collection(s->svc, spec.name, &spec.params, spec.time_precision,
                                           spec.min_reports, (const char *const *)spec.labels,
                                           &spec.window, &c);
    pinhole_collection_spec_free(&spec);
    if (rc == PINHOLE_ENOMEM)
        return pinhole_http_problem(rq, PROBLEM_OUT_OF_MEMORY, NULL);
    if (rc != PINHOLE_OK) {
        if (rc == PINHOLE_EDB)
            return pinhole_http_problem(rq, PROBLEM_STORE_ERROR,
                                        "the database refused the write; retry later");
        if (rc == PINHOLE_ETOOBIG)
            snprintf(err, sizeof err,
                     "k may be at most %llu and the mechanism's count vector at most %llu entries "
                     "(1 GiB); choose a smaller k or a mechanism with a smaller report alphabet",
                     (unsigned long long)PINHOLE_K_SERVER_MAX,
                     (unsigned long long)PINHOLE_COUNTS_LEN_MAX);
        else
            snprintf(err, sizeof err,
                     "the mechanism cannot be configured with these parameters: %s (epsilon must "
                     "be >= 1e-6; for PGR, q a prime power with (q^t - 1)/(q - 1) >= k; k within "
                     "what the mechanism supports)",
                     pinhole_strerror(rc));
        return pinhole_http_problem(rq, PROBLEM_INVALID_COLLECTION, err);
    }
    char loc[64];
    snprintf(loc, sizeof loc, "/v1/collections/%" PRId64, c->id);
    return pinhole_http_send_json(rq, MHD_HTTP_CREATED, collection_json(s, c, 0),
                                  MHD_HTTP_HEADER_LOCATION, loc);
}

/* The collection's canonical config signed with the server's Ed25519 key (binary), or with
 * ?format=json its JSON form with the signed bytes in hex. */
enum MHD_Result pinhole_http_config(request *rq)
{
    uint8_t signed_cfg[PINHOLE_CONFIG_SIGNED_MAXBYTES];
    const size_t signed_len = pinhole_collection_config_signed_bytes(&rq->coll->wire);
    if (pinhole_collection_config_sign(&rq->coll->wire, pinhole_service_keys(rq->srv->svc)->sign_sk,
                                       signed_cfg) != PINHOLE_OK)
        return pinhole_http_problem(rq, PROBLEM_CONFIG,
                                    "the collection config could not be encoded");
    const char *f = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "format");
    if (f && strcmp(f, "json") == 0) {
        char *text = pinhole_collection_config_to_json(&rq->coll->wire, NULL);
        json_t *cfg = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        char hex[2 * PINHOLE_CONFIG_SIGNED_MAXBYTES + 1], pk[2 * PINHOLE_CONFIG_PUBLICKEYBYTES + 1];
        sodium_bin2hex(hex, sizeof hex, signed_cfg, signed_len);
        sodium_bin2hex(pk, sizeof pk, pinhole_service_keys(rq->srv->svc)->sign_pk,
                       sizeof pinhole_service_keys(rq->srv->svc)->sign_pk);
        return pinhole_http_send_json(
            rq, MHD_HTTP_OK,
            cfg ? json_pack("{s:o, s:s, s:s}", "config", cfg, "signed", hex, "signing_key", pk)
                : NULL,
            NULL, NULL);
    }
    char *buf = malloc(signed_len);
    if (!buf)
        return MHD_NO;
    memcpy(buf, signed_cfg, signed_len);
    return pinhole_http_send(rq, MHD_HTTP_OK, "application/octet-stream", buf, signed_len, NULL,
                             NULL);
}

/* The collection's canonical label list (docs/protocol.md §4.5), which its signed config commits
 * to; 404 not-found when the config commits to none. */
enum MHD_Result pinhole_http_labels(request *rq)
{
    const pinhole_server_collection *c = rq->coll;
    if (!c->labels_list)
        return pinhole_http_problem(rq, PROBLEM_NOT_FOUND,
                                    "the collection's config commits to no label list");
    char *buf = malloc(c->labels_list_len);
    if (!buf)
        return MHD_NO;
    memcpy(buf, c->labels_list, c->labels_list_len);
    return pinhole_http_send(rq, MHD_HTTP_OK, "application/octet-stream", buf, c->labels_list_len,
                             NULL, NULL);
}

/* The server's public keys: config signatures (Ed25519) and report sealing (X25519). */
enum MHD_Result pinhole_http_keys(request *rq)
{
    char sign[2 * PINHOLE_CONFIG_PUBLICKEYBYTES + 1], seal[2 * 32 + 1];
    sodium_bin2hex(sign, sizeof sign, pinhole_service_keys(rq->srv->svc)->sign_pk,
                   sizeof pinhole_service_keys(rq->srv->svc)->sign_pk);
    sodium_bin2hex(seal, sizeof seal, pinhole_service_keys(rq->srv->svc)->seal_pk,
                   sizeof pinhole_service_keys(rq->srv->svc)->seal_pk);
    return pinhole_http_send_json(
        rq, MHD_HTTP_OK, json_pack("{s:s, s:s}", "config_signing_key", sign, "seal_key", seal),
        NULL, NULL);
}

/* GET /v1/collections/{id}/timeline: reports per time bucket, for the dashboard's chart. */
enum MHD_Result pinhole_http_timeline(request *rq)
{
    pinhole_server *s = rq->srv;
    const pinhole_server_collection *c = rq->coll;
    int64_t *bucket = NULL;
    uint64_t *n = NULL;
    size_t count = 0;
    int rc = pinhole_service_buckets(s->svc, c->id, INT64_MIN, INT64_MAX, &bucket, &n, &count);
    if (rc != PINHOLE_OK)
        return pinhole_http_problem(rq, PROBLEM_STORE_ERROR, "the buckets could not be read");
    json_t *arr = json_array();
    /* bucket * time_precision cannot overflow: ingest refuses times whose product passes 2^63 */
    for (size_t i = 0; arr && i < count; i++)
        json_array_append_new(arr, json_pack("{s:I, s:I}", "start",
                                             (json_int_t)(bucket[i] * (int64_t)c->time_precision),
                                             "reports", (json_int_t)n[i]));
    free(bucket);
    free(n);
    int64_t closed = 0;
    if (pinhole_service_closed_before(s->svc, c->id, &closed) != PINHOLE_OK)
        closed = 0;
    return pinhole_http_send_json(
        rq, MHD_HTTP_OK,
        json_pack("{s:I, s:I, s:I, s:o}", "collection", (json_int_t)c->id, "time_precision",
                  (json_int_t)c->time_precision, "closed_before",
                  (json_int_t)(closed * (int64_t)c->time_precision), "buckets", arr),
        NULL, NULL);
}
