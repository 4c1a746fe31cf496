/* The problem types of the HTTP API: every error answer is an RFC 9457 application/problem+json
 * document whose type is "urn:pinhole:problem:<slug>", with the title and status of its entry
 * here. docs/api.md documents each one (tests/server/http/test_http.c checks that it does). */
#ifndef PINHOLE_SERVER_HTTP_PROBLEM_H
#define PINHOLE_SERVER_HTTP_PROBLEM_H

#include <stddef.h>

typedef enum pinhole_problem {
    PROBLEM_NOT_FOUND,
    PROBLEM_METHOD_NOT_ALLOWED,
    PROBLEM_UNAUTHORIZED,
    PROBLEM_FORBIDDEN,
    PROBLEM_UNKNOWN_COLLECTION,
    PROBLEM_UNSUPPORTED_MEDIA_TYPE,
    PROBLEM_BODY_TOO_LARGE,
    PROBLEM_OUT_OF_MEMORY,
    PROBLEM_MALFORMED_JSON,
    PROBLEM_INVALID_COLLECTION,
    PROBLEM_STORE_ERROR,
    PROBLEM_STORE_UNAVAILABLE,
    PROBLEM_BUSY,
    PROBLEM_MALFORMED_BATCH,
    PROBLEM_BATCH_TOO_LARGE,
    PROBLEM_REPORTS_REJECTED,
    PROBLEM_BAD_QUERY,
    PROBLEM_BELOW_MINIMUM_REPORTS,
    PROBLEM_QUERY_TOO_LONG,
    PROBLEM_UNSUPPORTED_MODULE,
    PROBLEM_ESTIMATE_FAILED,
    PROBLEM_CONFIG,
    PROBLEM_UNKNOWN_JOB_TYPE,
    PROBLEM_INVALID_JOB,
    PROBLEM_UNKNOWN_JOB,
    PROBLEM_UNKNOWN_DISCOVERY,
    PROBLEM_INVALID_DISCOVERY,
    PROBLEM_DISCOVERY_FINISHED,
    PROBLEM_ROUND_CLOSED,
    PROBLEM_TOO_MANY_CONNECTIONS, /* written by the connection gate (gate.c) */
    PROBLEM_REQUEST_TIMEOUT,
    PROBLEM_HEADER_TOO_LARGE,
    PROBLEM_BAD_REQUEST,
    PROBLEM_VERSION_NOT_SUPPORTED,
    PROBLEM_JOB_PATH,
    PROBLEM_DISK_FULL,
    PROBLEM_INVALID_CLOSE,
    PROBLEM_COUNT
} pinhole_problem;

typedef struct pinhole_problem_type {
    const char *slug;  /* "not-found": the type is urn:pinhole:problem:not-found */
    const char *title; /* "Not Found" */
    unsigned status;   /* HTTP status, 404 */
} pinhole_problem_type;

/** The entry of problem p. */
const pinhole_problem_type *pinhole_problem_get(pinhole_problem p);

/** Every problem type, indexed by pinhole_problem; *n receives PROBLEM_COUNT. */
const pinhole_problem_type *pinhole_problem_types(size_t *n);

#endif
