/* The discovery collections resource: create and list (/v1/discoveries), state and results
 * (/v1/discoveries/{id}), and the open round's signed config devices fetch (.../config).
 * docs/api.md and docs/discovery.md. */
#include "common/error.h"
#include "server/http/http.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum MHD_Result pinhole_http_discovery_list(request *rq)
{
    json_t *arr;
    if (pinhole_service_discovery_list(rq->srv->svc, &arr) != PINHOLE_OK)
        return pinhole_http_problem(rq, PROBLEM_OUT_OF_MEMORY, NULL);
    return pinhole_http_send_json(rq, MHD_HTTP_OK, json_pack("{s:o}", "discoveries", arr), NULL,
                                  NULL);
}

enum MHD_Result pinhole_http_discovery_get(request *rq)
{
    json_t *o;
    const int rc = pinhole_service_discovery_json(rq->srv->svc, rq->match.id, &o);
    if (rc == PINHOLE_ENOTFOUND)
        return pinhole_http_problem(rq, PROBLEM_UNKNOWN_DISCOVERY,
                                    "no discovery collection has this id");
    if (rc != PINHOLE_OK)
        return pinhole_http_problem(rq, PROBLEM_OUT_OF_MEMORY, NULL);
    return pinhole_http_send_json(rq, MHD_HTTP_OK, o, NULL, NULL);
}

enum MHD_Result pinhole_http_discovery_config(request *rq)
{
    uint8_t *buf;
    size_t len;
    const int rc = pinhole_service_discovery_round_config(rq->srv->svc, rq->match.id, &buf, &len);
    switch (rc) {
    case PINHOLE_OK:
        return pinhole_http_send(rq, MHD_HTTP_OK, "application/octet-stream", (char *)buf, len,
                                 NULL, NULL);
    case PINHOLE_ENOTFOUND:
        return pinhole_http_problem(rq, PROBLEM_UNKNOWN_DISCOVERY,
                                    "no discovery collection has this id");
    case PINHOLE_ERANGE:
        return pinhole_http_problem(rq, PROBLEM_DISCOVERY_FINISHED,
                                    "every round of this discovery collection is closed; its "
                                    "results are final and it takes no more reports");
    case PINHOLE_ENOMEM:
        return pinhole_http_problem(rq, PROBLEM_OUT_OF_MEMORY, NULL);
    default:
        return pinhole_http_problem(rq, PROBLEM_CONFIG, "the round config could not be made");
    }
}

/* Read an optional non-negative integer member into *v (unchanged when absent). */
static int get_uint(const json_t *o, const char *key, uint64_t max, uint64_t *v, char *err,
                    size_t errlen)
{
    const json_t *x = json_object_get(o, key);
    if (!x)
        return 0;
    if (!json_is_integer(x) || json_integer_value(x) < 0 || (uint64_t)json_integer_value(x) > max) {
        snprintf(err, errlen, "%s must be an integer in 0..%" PRIu64, key, max);
        return -1;
    }
    *v = (uint64_t)json_integer_value(x);
    return 0;
}

/* Read an optional number member into *v (unchanged when absent). */
static int get_real(const json_t *o, const char *key, double *v, char *err, size_t errlen)
{
    const json_t *x = json_object_get(o, key);
    if (!x)
        return 0;
    if (!json_is_number(x) || !isfinite(json_number_value(x))) {
        snprintf(err, errlen, "%s must be a finite number", key);
        return -1;
    }
    *v = json_number_value(x);
    return 0;
}

/* The body of POST /v1/discoveries into a name and parameters. */
static int parse_spec(const request *rq, char *name, size_t namecap, pinhole_discovery_params *p,
                      char *err, size_t errlen)
{
    json_error_t je;
    json_t *o = json_loadb((const char *)rq->body, rq->len, 0, &je);
    if (!json_is_object(o)) {
        snprintf(err, errlen, "the body must be a JSON object: %s", o ? "not an object" : je.text);
        json_decref(o);
        return PINHOLE_EFORMAT;
    }
    memset(p, 0, sizeof *p);
    int rc = PINHOLE_EINVAL;
    const json_t *jn = json_object_get(o, "name"), *jm = json_object_get(o, "mechanism");
    uint64_t devices = 0, depth = 0, keep = 0;
    double eps = NAN;
    const pinhole_mechanism_ops *ops = NULL;
    if (!json_is_string(jn) || json_string_length(jn) == 0 ||
        json_string_length(jn) > PINHOLE_COLLECTION_NAME_MAX) {
        snprintf(err, errlen, "name must be a string of 1 to %u bytes",
                 (unsigned)PINHOLE_COLLECTION_NAME_MAX);
        goto out;
    }
    snprintf(name, namecap, "%s", json_string_value(jn));
    if (get_real(o, "epsilon", &eps, err, errlen) || isnan(eps) ||
        get_uint(o, "devices", UINT64_C(1) << 40, &devices, err, errlen) || devices < 2 ||
        get_uint(o, "depth", PINHOLE_DISCOVERY_MAXLEN, &depth, err, errlen) ||
        get_uint(o, "keep", PINHOLE_DISCOVERY_CANDMAX, &keep, err, errlen) ||
        get_real(o, "final_fraction", &p->final_fraction, err, errlen)) {
        if (!err[0])
            snprintf(err, errlen,
                     "epsilon (a number) and devices (an integer >= 2, the devices "
                     "expected over every round) are required");
        goto out;
    }
    if (jm && (!json_is_string(jm) || !(ops = pinhole_mechanism_by_name(json_string_value(jm))))) {
        snprintf(err, errlen, "mechanism must be \"pgr\", \"grr\" or \"olh\"");
        goto out;
    }
    p->oracle = ops ? ops->id : PINHOLE_MECH_PGR;
    p->epsilon = eps;
    p->devices = devices;
    p->depth = (uint32_t)depth;
    p->keep = (uint32_t)keep;
    rc = PINHOLE_OK;
out:
    json_decref(o);
    return rc;
}

enum MHD_Result pinhole_http_discovery_create(request *rq)
{
    char name[PINHOLE_COLLECTION_NAME_MAX + 1], err[256] = "";
    pinhole_discovery_params p;
    int rc = parse_spec(rq, name, sizeof name, &p, err, sizeof err);
    if (rc != PINHOLE_OK)
        return pinhole_http_problem(
            rq, rc == PINHOLE_EFORMAT ? PROBLEM_MALFORMED_JSON : PROBLEM_INVALID_DISCOVERY, err);
    int64_t id;
    rc = pinhole_service_discovery_create(rq->srv->svc, name, &p, &id);
    if (rc == PINHOLE_ENOMEM)
        return pinhole_http_problem(rq, PROBLEM_OUT_OF_MEMORY, NULL);
    if (rc == PINHOLE_EDB)
        return pinhole_http_problem(rq, PROBLEM_STORE_ERROR,
                                    "the database refused the write; retry later");
    if (rc == PINHOLE_EUNSUPPORTED)
        return pinhole_http_problem(rq, PROBLEM_INVALID_DISCOVERY,
                                    "this server's storage backend does not keep discovery "
                                    "collections (SQLite does)");
    if (rc != PINHOLE_OK) {
        snprintf(err, sizeof err,
                 "the rounds cannot be planned with these parameters: %s (epsilon finite and > 0, "
                 "devices >= 2, depth <= %u, keep <= %u, final_fraction in (0, 1), mechanism "
                 "pgr, grr or olh)",
                 pinhole_strerror(rc), (unsigned)PINHOLE_DISCOVERY_MAXLEN,
                 (unsigned)PINHOLE_DISCOVERY_CANDMAX);
        return pinhole_http_problem(rq, PROBLEM_INVALID_DISCOVERY, err);
    }
    json_t *o;
    if (pinhole_service_discovery_json(rq->srv->svc, id, &o) != PINHOLE_OK)
        return pinhole_http_problem(rq, PROBLEM_OUT_OF_MEMORY, NULL);
    char loc[64];
    snprintf(loc, sizeof loc, "/v1/discoveries/%" PRId64, id);
    return pinhole_http_send_json(rq, MHD_HTTP_CREATED, o, MHD_HTTP_HEADER_LOCATION, loc);
}
