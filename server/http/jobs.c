/* The jobs resource: POST /v1/collections/{id}/jobs queues an analytics job over a collection's
 * reports, POST /v1/jobs an offline solver (a job type that reads no single collection), GET
 * /v1/jobs/{id} reads either, DELETE /v1/jobs/{id} cancels it, GET /v1/jobs and
 * /v1/collections/{id}/jobs list them a page at a time (server/jobs). */
#include "common/error.h"
#include "server/http/http.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* POST /v1/collections/{id}/jobs {"type", "from"?, "to"?, "params"?} (collection given, or a
 * multi-attribute collection in rq->multi: its multi_attribute job) or POST /v1/jobs {"type",
 * "params"?} (coll NULL): 202 and Location. */
static enum MHD_Result job_create(request *rq, const pinhole_server_collection *coll)
{
    pinhole_server *s = rq->srv;
    json_error_t jerr;
    json_t *body = json_loadb((const char *)rq->body, rq->len, JSON_REJECT_DUPLICATES, &jerr);
    const json_t *type = json_object_get(body, "type"), *params = json_object_get(body, "params");
    const json_t *from = json_object_get(body, "from"), *to = json_object_get(body, "to");
    char err[256];
    const char *key;
    json_t *val;
    int unknown = 0;
    json_object_foreach(body, key, val)
    {
        (void)val;
        unknown |= strcmp(key, "type") && strcmp(key, "from") && strcmp(key, "to") &&
                   strcmp(key, "params");
    }
    const pinhole_multi_record *parent = coll ? NULL : rq->multi;
    if (!coll && !parent && (from || to))
        unknown = 1;
    if (!json_is_object(body) || !json_is_string(type) || (params && !json_is_object(params)) ||
        (from && !json_is_integer(from)) || (to && !json_is_integer(to)) || unknown) {
        json_decref(body);
        return pinhole_http_problem(rq, PROBLEM_MALFORMED_JSON,
                                    coll || parent
                                        ? "expected {\"type\": string, \"from\"?: Unix seconds, "
                                          "\"to\"?: Unix seconds, \"params\"?: object}"
                                        : "expected {\"type\": string, \"params\"?: object}");
    }
    const pinhole_job_type *jt = pinhole_job_type_find(json_string_value(type));
    json_t *own = NULL; /* the params of a job under a multi-attribute collection */
    if (parent) {
        if (strcmp(json_string_value(type), "multi_attribute") != 0) {
            json_decref(body);
            return pinhole_http_problem(
                rq, PROBLEM_JOB_PATH,
                "a multi-attribute collection takes the multi_attribute job; post other jobs "
                "under its pair collections");
        }
        if (json_object_get(params, "attributes") || json_object_get(params, "collections") ||
            json_object_get(params, "from") || json_object_get(params, "to") ||
            (own = pinhole_http_multi_job_params(parent, params, from, to)) == NULL) {
            json_decref(body);
            return pinhole_http_problem(rq, PROBLEM_INVALID_JOB,
                                        "the attributes, collections and time range come from "
                                        "the multi-attribute collection and the body's from/to");
        }
        params = own;
    } else if (jt && jt->needs_data != PINHOLE_JOB_ANYWHERE &&
               pinhole_job_type_per_collection(jt->needs_data) != (coll != NULL)) {
        snprintf(err, sizeof err,
                 coll ? "%s reads no single collection (an offline solver, or one naming its "
                        "collections in params); POST it to /v1/jobs"
                      : "%s reads a collection's reports; POST it to /v1/collections/{id}/jobs",
                 jt->name);
        json_decref(body);
        return pinhole_http_problem(rq, PROBLEM_JOB_PATH, err);
    }
    if (!jt) {
        size_t nt;
        const pinhole_job_type *all = pinhole_job_types(&nt);
        int m = snprintf(err, sizeof err, "unknown job type; known:");
        for (size_t i = 0; i < nt && m > 0 && (size_t)m < sizeof err; i++)
            m += snprintf(err + m, sizeof err - (size_t)m, " %s", all[i].name);
        json_decref(body);
        return pinhole_http_problem(rq, PROBLEM_UNKNOWN_JOB_TYPE, err);
    }
    if (pinhole_job_params_check(pinhole_job_type_find(json_string_value(type)), params, err,
                                 sizeof err) != PINHOLE_OK) {
        json_decref(body);
        return pinhole_http_problem(rq, PROBLEM_MALFORMED_JSON, err);
    }
    int64_t id;
    const int64_t f = from ? json_integer_value(from) : 0,
                  t = to ? json_integer_value(to) : INT64_MAX;
    const int64_t owner = coll ? coll->id : parent ? parent->id : 0;
    int rc = f < t ? pinhole_jobs_submit(pinhole_service_jobs(s->svc), owner,
                                         json_string_value(type), f, t, params, &id)
                   : PINHOLE_EINVAL;
    json_decref(own);
    json_decref(body);
    if (rc == PINHOLE_EINVAL)
        return pinhole_http_problem(
            rq, PROBLEM_INVALID_JOB,
            "from must be before to, and time_limit a positive number of seconds");
    if (rc == PINHOLE_ENOSPACE) {
        enum MHD_Result res;
        pinhole_http_disk_full(rq, &res);
        return res;
    }
    if (rc != PINHOLE_OK)
        return pinhole_http_problem(rq, PROBLEM_STORE_ERROR,
                                    "the job could not be queued; retry later");
    json_t *job = NULL;
    pinhole_jobs_get(pinhole_service_jobs(s->svc), id, &job);
    char loc[64];
    snprintf(loc, sizeof loc, "/v1/jobs/%" PRId64, id);
    return pinhole_http_send_json(rq, MHD_HTTP_ACCEPTED, job, MHD_HTTP_HEADER_LOCATION, loc);
}

enum MHD_Result pinhole_http_job_create(request *rq)
{
    return job_create(rq, rq->coll);
}

enum MHD_Result pinhole_http_job_offline(request *rq)
{
    return job_create(rq, NULL);
}

/* GET /v1/jobs/{id}: status, progress, result or error; DELETE cancels. */
static enum MHD_Result job_answer(request *rq, int del)
{
    pinhole_server *s = rq->srv;
    int rc = del ? pinhole_jobs_cancel(pinhole_service_jobs(s->svc), rq->match.id) : PINHOLE_OK;
    json_t *job = NULL;
    if (rc == PINHOLE_OK)
        rc = pinhole_jobs_get(pinhole_service_jobs(s->svc), rq->match.id, &job);
    if (rc == PINHOLE_ENOTFOUND)
        return pinhole_http_problem(rq, PROBLEM_UNKNOWN_JOB, "no job has this id");
    if (rc != PINHOLE_OK)
        return pinhole_http_problem(rq, PROBLEM_STORE_ERROR,
                                    "the job could not be read; retry later");
    return pinhole_http_send_json(rq, del ? MHD_HTTP_ACCEPTED : MHD_HTTP_OK, job, NULL, NULL);
}

enum MHD_Result pinhole_http_job_get(request *rq)
{
    return job_answer(rq, 0);
}

enum MHD_Result pinhole_http_job_cancel(request *rq)
{
    return job_answer(rq, 1);
}

/* A page parameter: absent gives def; else a decimal integer in [min, max]. */
static int page_arg(request *rq, const char *name, uint64_t def, uint64_t min, uint64_t max,
                    uint64_t *out)
{
    const char *v = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
    *out = def;
    if (!v)
        return 0;
    char *end;
    if (*v < '0' || *v > '9' || strlen(v) > 18)
        return -1;
    const unsigned long long x = strtoull(v, &end, 10);
    if (*end != '\0' || x < min || x > max)
        return -1;
    *out = x;
    return 0;
}

/* GET /v1/jobs and GET /v1/collections/{id}/jobs?limit=&offset=: newest first, without results. */
enum MHD_Result pinhole_http_job_list(request *rq)
{
    pinhole_server *s = rq->srv;
    uint64_t limit, offset;
    if (page_arg(rq, "limit", 20, 1, 100, &limit) ||
        page_arg(rq, "offset", 0, 0, INT64_MAX, &offset))
        return pinhole_http_problem(rq, PROBLEM_BAD_QUERY,
                                    "limit: 1 to 100 (default 20); offset: a non-negative integer");
    json_t *page = NULL;
    const int rc = pinhole_jobs_list(pinhole_service_jobs(s->svc),
                                     rq->coll    ? rq->coll->id
                                     : rq->multi ? rq->multi->id
                                                 : -1,
                                     offset, (uint32_t)limit, &page);
    if (rc != PINHOLE_OK)
        return pinhole_http_problem(rq, PROBLEM_STORE_ERROR,
                                    "the jobs could not be read; retry later");
    return pinhole_http_send_json(rq, MHD_HTTP_OK, page, NULL, NULL);
}
