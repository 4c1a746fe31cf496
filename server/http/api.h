/* The HTTP API's pure parts: parsing what clients send (collection specs as JSON, histogram query
 * parameters, bearer tokens) and rendering what the server answers (collection JSON, histograms as
 * JSON or CSV). No sockets and no SQL here, so the fuzz harness and the tests call them directly.
 */
#ifndef PINHOLE_SERVER_HTTP_API_H
#define PINHOLE_SERVER_HTTP_API_H

#include "server/analytics/histogram.h"
#include "server/store/store.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define PINHOLE_TOKEN_HASH_BYTES 32u
#define PINHOLE_DEFAULT_TIME_PRECISION 86400u /* seconds: one-day buckets */
#define PINHOLE_DEFAULT_MIN_REPORTS 1000u
#define PINHOLE_LABEL_MAX 1024u /* bytes of one item label */

/** A collection as requested by POST /v1/collections. */
typedef struct pinhole_collection_spec {
    char name[PINHOLE_COLLECTION_NAME_MAX + 1];
    pinhole_config_params params;
    uint32_t time_precision; /* seconds per time unit */
    uint32_t min_reports;
    char **labels;                    /* k labels (owned) or NULL */
    pinhole_collection_window window; /* the report window and retention */
} pinhole_collection_spec;

/** Parse a JSON collection spec:
 *   {"name": "words", "mechanism": "pgr", "epsilon": 4, "k": 74286, "q": 0, "t": 0,
 *    "labels": ["you", "I", ...], "time_precision": 86400, "min_reports": 1000,
 *    "max_report_age": 604800, "max_clock_skew": 3600, "keep_reports": false}
 * epsilon is required; k is required unless labels are given (then k = their number and a k given
 * too must agree); the rest default (name "collection", mechanism "pgr", q = t = 0 for the
 * planner's choice, the time precision and minimum above, the report window *window_default, or
 * PINHOLE_DEFAULT_MAX_REPORT_AGE and PINHOLE_DEFAULT_MAX_CLOCK_SKEW when it is NULL, keep_reports
 * false). Unknown members are refused.
 * Errors: PINHOLE_EFORMAT (not JSON, not an object, a member of the wrong type or unknown) and
 * PINHOLE_EINVAL (a value out of range: k < 2 or above 2^40, epsilon, label too long or not UTF-8
 * text without NUL, name too long, time precision 0 or above 2^31), each with a one-line reason in
 * err; PINHOLE_ENOMEM. On error nothing needs freeing; else free with pinhole_collection_spec_free.
 */
int pinhole_api_parse_collection(const char *body, size_t len,
                                 const pinhole_collection_window *window_default,
                                 pinhole_collection_spec *spec, char *err, size_t errlen);

/** Free a spec's labels; safe on a zeroed spec. */
void pinhole_collection_spec_free(pinhole_collection_spec *spec);

/** The JSON description of a collection (its parameters, fingerprint in hex, stored report count);
 * with_labels adds the "labels" array. NULL when out of memory. */
json_t *pinhole_api_collection_json(const pinhole_server_collection *c, uint64_t reports,
                                    int with_labels);

/** Most items one histogram request may name with ?items=. */
#define PINHOLE_API_MAX_ITEMS 100

/** A histogram request: GET .../histogram?from=&to=&top=&format=json|csv. */
typedef struct pinhole_histogram_query {
    int64_t from, to; /* Unix seconds, [from, to); 0 and INT64_MAX when absent */
    uint64_t top;     /* items to return, by estimate descending; 0 = every item */
    int csv;          /* 1 for text/csv, 0 for JSON */
    int has_from, has_to;
    pinhole_consistency consistency;   /* ?consistency=none|project|mle (default none) */
    uint64_t topk;                     /* ?topk=K: each item's probability of being in the top K */
    pinhole_significance significance; /* ?significant=fdr:A|bonferroni:A (default none) */
    uint32_t n_items;                  /* ?items=V,W,...: only these items, in this order */
    uint64_t items[PINHOLE_API_MAX_ITEMS];
    int closed_only; /* ?closed=true: only the range's closed time buckets */
    /* set when the query runs: the start of the collection's first open bucket (Unix seconds),
     * and whether every bucket summed is closed (the estimate is final) */
    int64_t closed_before;
    int final;
} pinhole_histogram_query;

/** Parse the histogram's selection parameters (each may be NULL when absent) into q, after
 * pinhole_api_parse_histogram_query(): significant "fdr:ALPHA" or "bonferroni:ALPHA"
 * (significance.h; only the items that pass are returned, still by estimate), items a
 * comma-separated list of 1..PINHOLE_API_MAX_ITEMS item indices (each below the collection's k,
 * checked by pinhole_api_histogram_check). Errors: PINHOLE_EINVAL with a one-line reason in err. */
int pinhole_api_parse_histogram_select(const char *significant, const char *items,
                                       pinhole_histogram_query *q, char *err, size_t errlen);

/** Check a parsed query against the collection's k (topk and items); PINHOLE_EINVAL with a
 * reason in err. */
int pinhole_api_histogram_check(uint64_t k, const pinhole_histogram_query *q, char *err,
                                size_t errlen);

/** A response header value for the CSV form naming the significance test applied:
 * "fdr:0.05; passed=123; tested=74286"; empty when none. */
void pinhole_api_significance_header(const pinhole_histogram *h, char *buf, size_t len);

/** Parse the query parameters (each may be NULL when absent): from and to decimal Unix seconds
 * (0 <= from < to), top a decimal count, format "json" or "csv", consistency "none", "project" or
 * "mle", topk a decimal count (0 = none; at most the collection's k, checked by the caller).
 * Errors: PINHOLE_EINVAL with a one-line reason in err. */
int pinhole_api_parse_histogram_query(const char *from, const char *to, const char *top,
                                      const char *format, const char *consistency, const char *topk,
                                      pinhole_histogram_query *q, char *err, size_t errlen);

/** Render a histogram computed by pinhole_histogram_compute() (h->n reports; estimates and
 * variances in counts and counts^2). JSON: {"collection", "name", "mechanism", "parameters":
 * {epsilon, epsilon_realized, k, q, t, counts_len, time_precision, bits_per_report}, "from", "to",
 * "closed_only", "closed_before", "final", "n", "confidence": 0.95, "consistency", "topk", "items":
 * [{"item", "label", "estimate", "stderr", "lower", "upper", "consistent"?, "topk_probability"?}]}
 * with items by estimate descending (ties by item); CSV: a header line
 * "rank,item,label,estimate,stderr,lower,upper,final" (plus ",consistent", ",topk_probability" and
 * ",p_value" when computed) then one line per item, its final column q->final (1: every time bucket
 * summed is closed, 0: the estimate may change). Returns a malloc'd NUL-terminated text (length in
 * *len) or NULL when out of memory. */
char *pinhole_api_histogram_render(const pinhole_server_collection *c,
                                   const pinhole_histogram_query *q, const pinhole_histogram *h,
                                   size_t *len);

/** Find the token in an Authorization header value "Bearer <token>" (scheme case-insensitive,
 * token 1..256 visible ASCII characters). Returns 0 and sets *tok, *tok_len, or -1. */
int pinhole_api_bearer_token(const char *header, const char **tok, size_t *tok_len);

/** Hash a token for storage and comparison: BLAKE2b-256 keyed with a fixed domain string. */
void pinhole_token_hash(const char *tok, size_t len, uint8_t out[PINHOLE_TOKEN_HASH_BYTES]);

/** Parse 64 hex digits into a token hash; 0 or -1. */
int pinhole_token_hash_parse(const char *hex, uint8_t out[PINHOLE_TOKEN_HASH_BYTES]);

#endif
