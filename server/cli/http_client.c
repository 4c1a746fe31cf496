/* libcurl requests to the Pinhole server, config verification and batch posting with retries. */
#include "server/cli/http_client.h"
#include "common/error.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int cli_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int cli_http_init(cli_http *h, const char *base, const char *token)
{
    memset(h, 0, sizeof *h);
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof h->base || (token && strlen(token) > 256))
        return -1;
    memcpy(h->base, base, n);
    h->base[n] = '\0';
    if (token)
        snprintf(h->auth, sizeof h->auth, "Authorization: Bearer %s", token);
    h->curl = curl_easy_init();
    return h->curl ? 0 : -1;
}

void cli_http_free(cli_http *h)
{
    if (h->curl)
        curl_easy_cleanup(h->curl);
    sodium_memzero(h->auth, sizeof h->auth);
    h->curl = NULL;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    cli_response *r = arg;
    const size_t n = size * nmemb;
    char *b = realloc(r->body, r->len + n + 1);
    if (!b)
        return 0;
    memcpy(b + r->len, p, n);
    r->body = b;
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    cli_response *r = arg;
    const size_t n = size * nmemb;
    if (n > 12 && strncasecmp(p, "Retry-After:", 12) == 0)
        r->retry_after = (unsigned)strtoul(p + 12, NULL, 10);
    return n;
}

int cli_http_request(cli_http *h, const char *method, const char *path, const char *content_type,
                     const void *body, size_t len, cli_response *resp)
{
    memset(resp, 0, sizeof *resp);
    char url[1024];
    snprintf(url, sizeof url, "%s%s", h->base, path);
    CURL *c = h->curl;
    curl_easy_reset(c);
    struct curl_slist *hdr = NULL;
    char ct[128];
    if (h->auth[0])
        hdr = curl_slist_append(hdr, h->auth);
    if (content_type) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        hdr = curl_slist_append(hdr, ct);
    }
    hdr = curl_slist_append(hdr, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method); /* DELETE, ... (without a body) */
    }
    const CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(hdr);
    if (rc != CURLE_OK) {
        snprintf(resp->error, sizeof resp->error, "%s: %s", url, curl_easy_strerror(rc));
        free(resp->body);
        resp->body = NULL;
        resp->len = 0;
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    if (!resp->body) {
        resp->body = calloc(1, 1);
        if (!resp->body)
            return -1;
    }
    return 0;
}

static int hex_key(const char *hex, uint8_t *out, size_t n)
{
    size_t got = 0;
    return hex && strlen(hex) == 2 * n &&
                   sodium_hex2bin(out, n, hex, 2 * n, NULL, &got, NULL) == 0 && got == n
               ? 0
               : -1;
}

int cli_fetch_collection(cli_http *h, uint64_t id, const char *sign_key_hex, cli_collection *c)
{
    memset(c, 0, sizeof *c);
    cli_response r;
    if (cli_http_request(h, "GET", "/v1/keys", NULL, NULL, 0, &r) != 0 || r.status != 200) {
        fprintf(stderr, "pinhole: cannot fetch the server's keys: %s\n",
                r.status ? r.body : r.error);
        free(r.body);
        return -1;
    }
    json_t *keys = json_loads(r.body, 0, NULL);
    free(r.body);
    const int bad =
        !keys ||
        hex_key(sign_key_hex ? sign_key_hex
                             : json_string_value(json_object_get(keys, "config_signing_key")),
                c->sign_pk, sizeof c->sign_pk) != 0 ||
        hex_key(json_string_value(json_object_get(keys, "seal_key")), c->seal_pk,
                sizeof c->seal_pk) != 0;
    json_decref(keys);
    if (bad) {
        fprintf(stderr, "pinhole: the server's keys (or --server-key) are not valid hex keys\n");
        return -1;
    }
    char path[96];
    snprintf(path, sizeof path, "/v1/collections/%llu/config", (unsigned long long)id);
    if (cli_http_request(h, "GET", path, NULL, NULL, 0, &r) != 0 || r.status != 200) {
        fprintf(stderr, "pinhole: cannot fetch collection %llu's config: %s\n",
                (unsigned long long)id, r.status ? r.body : r.error);
        free(r.body);
        return -1;
    }
    int rc = pinhole_collection_config_verify((const uint8_t *)r.body, r.len, c->sign_pk, &c->wire);
    free(r.body);
    if (rc == PINHOLE_OK && c->wire.collection_id != id)
        rc = PINHOLE_EMISMATCH;
    if (rc == PINHOLE_OK)
        rc = pinhole_collection_config_fingerprint(&c->wire, c->fingerprint);
    if (rc == PINHOLE_OK)
        rc = pinhole_config_init(&c->cfg, &c->wire.params);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "pinhole: collection %llu's signed config was refused: %s\n",
                (unsigned long long)id, pinhole_strerror(rc));
        return -1;
    }
    return 0;
}

void cli_collection_free(cli_collection *c)
{
    pinhole_config_free(&c->cfg);
}

static void sleep_seconds(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

long cli_post_batch(cli_http *h, uint64_t id, const uint8_t *body, size_t len, unsigned retries,
                    cli_batch_result *res)
{
    memset(res, 0, sizeof *res);
    char path[96];
    snprintf(path, sizeof path, "/v1/collections/%llu/reports", (unsigned long long)id);
    double backoff = 0.05;
    for (unsigned attempt = 0;; attempt++) {
        cli_response r;
        const int rc = cli_http_request(h, "POST", path, "application/octet-stream", body, len, &r);
        res->attempts = attempt + 1;
        const int retry = rc != 0 || r.status == 429 || r.status == 503;
        if (!retry || attempt >= retries) {
            long status = rc != 0 ? -1 : r.status;
            if (rc != 0)
                fprintf(stderr, "pinhole: %s\n", r.error);
            json_t *o = rc == 0 ? json_loads(r.body, 0, NULL) : NULL;
            if (o) {
                res->accepted = (uint64_t)json_integer_value(json_object_get(o, "accepted"));
                res->duplicates = (uint64_t)json_integer_value(json_object_get(o, "duplicates"));
                res->rejected = (uint64_t)json_integer_value(json_object_get(o, "rejected"));
                if (status != 200 && status != 422)
                    fprintf(stderr, "pinhole: batch refused (HTTP %ld): %s\n", status,
                            json_string_value(json_object_get(o, "detail")));
                /* every report refused: say why (the first report's reason), a few times only */
                static _Atomic unsigned told;
                const json_t *e0 = json_array_get(json_object_get(o, "errors"), 0);
                if (status == 422 && e0 && atomic_fetch_add(&told, 1) < 3)
                    fprintf(
                        stderr,
                        "pinhole: every report of a batch was refused, e.g. report %lld: %s (%s)\n",
                        (long long)json_integer_value(json_object_get(e0, "index")),
                        json_string_value(json_object_get(e0, "error")),
                        json_string_value(json_object_get(e0, "status")));
            }
            json_decref(o);
            free(r.body);
            return status;
        }
        free(r.body);
        sleep_seconds(rc == 0 && r.retry_after ? (double)r.retry_after : backoff);
        if (backoff < 2)
            backoff *= 2;
    }
}

json_t *cli_http_json(cli_http *h, const char *who, const char *method, const char *path,
                      const char *body, long want)
{
    cli_response r;
    if (cli_http_request(h, method, path, body ? "application/json" : NULL, body,
                         body ? strlen(body) : 0, &r) != 0) {
        fprintf(stderr, "%s: %s\n", who, r.error);
        return NULL;
    }
    json_t *o = json_loads(r.body ? r.body : "", 0, NULL);
    if (r.status != want) {
        const char *d = json_string_value(json_object_get(o, "detail"));
        fprintf(stderr, "%s: HTTP %ld: %s\n", who, r.status, d ? d : r.body ? r.body : "");
        json_decref(o);
        o = NULL;
    }
    free(r.body);
    return o;
}
