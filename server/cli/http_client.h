/* The CLI's side of the HTTP API (libcurl): requests with bearer tokens, fetching and verifying a
 * collection's signed config, and posting report batches with retries. Used by `pinhole submit`,
 * `pinhole query` and `pinhole demo`. One cli_http per thread. */
#ifndef PINHOLE_SERVER_CLI_HTTP_CLIENT_H
#define PINHOLE_SERVER_CLI_HTTP_CLIENT_H

#include "common/mechanism.h"
#include "proto/config.h"
#include "proto/seal.h"

#include <stddef.h>
#include <stdint.h>

typedef struct cli_http {
    void *curl;     /* CURL easy handle, reused so connections are kept alive */
    char base[512]; /* "http://127.0.0.1:8080" without a trailing slash */
    char auth[300]; /* "Authorization: Bearer ..." or "" */
} cli_http;

/** A response: status (0 when no HTTP answer came), body (malloc'd, NUL-terminated), Retry-After.
 */
typedef struct cli_response {
    long status;
    char *body;
    size_t len;
    unsigned retry_after;
    char error[1400]; /* transport error text when status == 0 */
} cli_response;

/** Call curl_global_init once per process (before threads start). 0 or -1. */
int cli_http_global_init(void);

/** Prepare a client for base url with an optional bearer token (NULL for none). 0 or -1. */
int cli_http_init(cli_http *h, const char *base, const char *token);

void cli_http_free(cli_http *h);

/** One request: method "GET", "HEAD", "POST" or another one sent as is ("DELETE"), path after
 * the base, and for POST the body with its content type. Returns 0 when an HTTP response arrived
 * (any status), -1 on a transport error (text in resp->error). Free resp->body with free(). */
int cli_http_request(cli_http *h, const char *method, const char *path, const char *content_type,
                     const void *body, size_t len, cli_response *resp);

/** A request with a JSON body (or none: body NULL) whose answer is JSON: that answer (json_decref
 * it) when the status is want, else NULL after a line "WHO: HTTP STATUS: detail" (the problem's
 * detail) or "WHO: transport error" on stderr. */
struct json_t;
struct json_t *cli_http_json(cli_http *h, const char *who, const char *method, const char *path,
                             const char *body, long want);

/** What a client needs to encode for a collection, from its verified signed config. */
typedef struct cli_collection {
    pinhole_collection_config wire;
    pinhole_config cfg;
    uint8_t fingerprint[PINHOLE_FINGERPRINT_BYTES];
    uint8_t sign_pk[PINHOLE_CONFIG_PUBLICKEYBYTES];
    uint8_t seal_pk[PINHOLE_SEAL_PUBLICKEYBYTES];
} cli_collection;

/** Fetch the server's public keys (GET /v1/keys) unless sign_key_hex pins the signing key, then
 * the collection's signed config, verify the signature and configure the mechanism.
 * 0, or -1 with a message on stderr. Free with cli_collection_free(). */
int cli_fetch_collection(cli_http *h, uint64_t id, const char *sign_key_hex, cli_collection *c);

void cli_collection_free(cli_collection *c);

/** Counts of a posted batch's outcome. */
typedef struct cli_batch_result {
    uint64_t accepted, duplicates, rejected;
    unsigned attempts;
} cli_batch_result;

/** POST a batch body to collection id, retrying (up to retries more times, waiting Retry-After or
 * an exponential backoff) on transport errors, 429 and 503; identical retries are safe because
 * the server acknowledges a report id it already holds. Returns the final HTTP status (200 when
 * the batch was acknowledged; 422 when every report was refused) or -1 when no answer came;
 * fills *res from the reply. */
long cli_post_batch(cli_http *h, uint64_t id, const uint8_t *body, size_t len, unsigned retries,
                    cli_batch_result *res);

#endif
