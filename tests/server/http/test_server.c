/* The HTTP server end to end over loopback (127.0.0.1), with the real client library: estimates
 * equal the offline estimator's on the same reports; retries and replays; bad input of every kind
 * gets its status and changes nothing stored; slow clients are dropped; a full writer queue
 * answers 429 with Retry-After; the uploader token when configured; a multi-attribute collection
 * made in one request, reported to through the library's multi-attribute reports and analysed. */
#include "client/device.h"
#include "client/multi.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/rng.h"
#include "proto/batch.h"
#include "proto/report.h"
#include "proto/seal.h"
#include "server/analytics/consistency.h"
#include "server/analytics/significance.h"
#include "server/cli/http_client.h"
#include "server/estimate/estimate.h"
#include "server/http/httpd.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char dir[64], dbpath[128], base[64];
static pinhole_server *srv;

static double head_timeout = 10; /* seconds; tests may lower it before start() */
static unsigned per_address = 64;
static size_t body_bytes_per_address = (size_t)64 << 20;
static unsigned connection_limit = 1024;
static int check_every_request = 1; /* the relay, as by default; tests without it set 0 */

static void start(unsigned timeout, size_t max_body, size_t queue, const char *uploader)
{
    pinhole_server_options o;
    pinhole_server_options_default(&o);
    o.head_timeout = head_timeout;
    o.connections_per_address = per_address;
    o.body_buffer_bytes_per_address = body_bytes_per_address;
    o.connection_limit = connection_limit;
    o.check_every_request = check_every_request;
    o.port = 0;
    o.connection_timeout = timeout;
    o.max_body_bytes = max_body;
    o.writer.max_queue_reports = queue;
    snprintf(o.db_path, sizeof o.db_path, "%s", dbpath);
    pinhole_token_hash("admin-token", 11, o.admin_hash);
    pinhole_token_hash("analyst-token", 13, o.analyst_hash);
    o.have_admin = o.have_analyst = 1;
    if (uploader) {
        pinhole_token_hash(uploader, strlen(uploader), o.uploader_hash);
        o.have_uploader = 1;
    }
    cr_assert_eq(pinhole_server_start(&o, &srv), PINHOLE_OK);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", pinhole_server_port(srv));
}

/* The reports of these tests are of day 20000 (time unit 20000 of one-day buckets): the clock of
 * the server they run in this process stands at noon of the next day, inside the collections'
 * default report window (7 days back). */
#define TEST_DAY 20000

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    pinhole_clock_set_offset((TEST_DAY + 1.5) * 86400 -
                             (pinhole_clock_wall() - pinhole_clock_offset()));
    cr_assert_eq(cli_http_global_init(), 0);
    strcpy(dir, "/tmp/pinhole-http-test.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(dbpath, sizeof dbpath, "%s/t.db", dir);
    srv = NULL;
}

static void teardown(void)
{
    if (srv)
        pinhole_server_stop(srv, 2);
    pinhole_clock_set_offset(0);
    char p[160];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", dbpath, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
}

TestSuite(http, .init = setup, .fini = teardown, .timeout = 60);

/* One request; returns the status, body into *out (free) when out is not NULL. */
static long req(const char *token, const char *method, const char *path, const char *ctype,
                const void *body, size_t len, char **out)
{
    cli_http h;
    cr_assert_eq(cli_http_init(&h, base, token), 0);
    cli_response r;
    cr_assert_eq(cli_http_request(&h, method, path, ctype, body, len, &r), 0, "%s", r.error);
    cli_http_free(&h);
    if (out)
        *out = r.body;
    else
        free(r.body);
    return r.status;
}

/* One request answered want with a JSON document: the document (a new reference). */
static json_t *req_json(const char *token, const char *method, const char *path, const char *ctype,
                        const void *body, size_t len, long want)
{
    char *answer;
    const long st = req(token, method, path, ctype, body, len, &answer);
    cr_assert_eq(st, want, "%s %s: HTTP %ld: %s", method, path, st, answer);
    json_t *o = json_loads(answer, 0, NULL);
    cr_assert_not_null(o, "%s", answer);
    free(answer);
    return o;
}

/* Create a collection; returns its id. */
static uint64_t create(const char *json)
{
    json_t *o = req_json("admin-token", "POST", "/v1/collections", "application/json", json,
                         strlen(json), 201);
    const uint64_t id = (uint64_t)json_integer_value(json_object_get(o, "id"));
    json_decref(o);
    return id;
}

/* The number of reports collection id holds, as GET /v1/collections/{id} says. */
static json_int_t reports_of(uint64_t id)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/collections/%llu", (unsigned long long)id);
    json_t *o = req_json("analyst-token", "GET", path, NULL, NULL, 0, 200);
    const json_t *n = json_object_get(o, "reports");
    cr_assert(json_is_integer(n));
    const json_int_t v = json_integer_value(n);
    json_decref(o);
    return v;
}

typedef struct batch {
    uint8_t *buf;
    size_t len;
    uint64_t *payloads; /* hyperplane indices as sent */
    size_t n;
} batch;

/* Encode n reports of values drawn from a skewed distribution with the client library, for
 * collection c, plain or sealed; ids from rng. */
static batch make_batch_times(const cli_collection *c, size_t n, uint64_t seed, int sealed,
                              unsigned ntimes)
{
    batch b = {0};
    const size_t pb = c->cfg.payload_bytes, item = pinhole_report_bytes(pb) + PINHOLE_SEALBYTES;
    const size_t cap = pinhole_batch_bytes(n, item);
    b.buf = malloc(cap);
    b.payloads = malloc(n * sizeof *b.payloads);
    b.n = n;
    pinhole_batch_writer w;
    cr_assert_eq(pinhole_batch_writer_init(&w, sealed ? PINHOLE_BATCH_SEALED : PINHOLE_BATCH_PLAIN,
                                           b.buf, cap),
                 PINHOLE_OK);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    for (size_t i = 0; i < n; i++) {
        /* item v with probability about 2^-(v+1): a few heavy items and a long tail */
        uint64_t v = 0;
        while (v + 1 < c->cfg.k && pinhole_rng_u32(&rng) & 1)
            v++;
        uint8_t rep[256], sl[256];
        pinhole_report header = {.collection_id = c->wire.collection_id,
                                 .time = TEST_DAY + i % ntimes};
        memcpy(header.fingerprint, c->fingerprint, sizeof header.fingerprint);
        size_t len;
        cr_assert_eq(pinhole_device_report(&c->cfg, &header, v, &rng, &rng, rep, sizeof rep, &len),
                     PINHOLE_OK);
        const uint8_t *payload = rep + PINHOLE_REPORT_HEADERBYTES;
        b.payloads[i] = 0;
        for (size_t j = 0; j < pb; j++)
            b.payloads[i] |= (uint64_t)payload[j] << (8 * j);
        if (sealed) {
            cr_assert_eq(pinhole_report_seal(rep, len, c->seal_pk, sl, sizeof sl, &len),
                         PINHOLE_OK);
            cr_assert_eq(pinhole_batch_writer_add(&w, sl, len), PINHOLE_OK);
        } else {
            cr_assert_eq(pinhole_batch_writer_add(&w, rep, len), PINHOLE_OK);
        }
    }
    pinhole_batch_writer_finish(&w, &b.len);
    return b;
}

static batch make_batch(const cli_collection *c, size_t n, uint64_t seed, int sealed)
{
    return make_batch_times(c, n, seed, sealed, 1);
}

static void free_batch(batch *b)
{
    free(b->buf);
    free(b->payloads);
}

static json_t *post_batch(uint64_t id, const batch *b, long want)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/collections/%llu/reports", (unsigned long long)id);
    return req_json(NULL, "POST", path, "application/octet-stream", b->buf, b->len, want);
}

static void fetch(uint64_t id, cli_collection *c)
{
    cli_http h;
    cr_assert_eq(cli_http_init(&h, base, NULL), 0);
    cr_assert_eq(cli_fetch_collection(&h, id, NULL, c), 0);
    cli_http_free(&h);
}

/* Create a collection from json and fetch it into c (cli_collection_free it); returns its id. */
static uint64_t create_fetch(const char *json, cli_collection *c)
{
    const uint64_t id = create(json);
    fetch(id, c);
    return id;
}

static const char *spec =
    "{\"name\": \"colors\", \"epsilon\": 2, \"k\": 12, \"min_reports\": 100, \"labels\": "
    "[\"red\", \"green\", \"blue\", \"cyan\", \"magenta\", \"yellow\", \"black\", \"white\", "
    "\"grey\", \"orange\", \"pink\", \"say \\\"hi\\\", ok\"]}";

/* The collection spec with n plain reports of seed posted to it: its id; c and the batch b. */
static uint64_t posted(cli_collection *c, batch *b, size_t n, uint64_t seed)
{
    const uint64_t id = create_fetch(spec, c);
    *b = make_batch(c, n, seed, 0);
    json_decref(post_batch(id, b, 200));
    return id;
}

/* The collection spec with 3000 reports of seed 4 posted to it: its id; c, the batch b and the
 * offline estimator's est[12] (var[12] when not NULL) on the same reports. */
static uint64_t posted_and_estimated(cli_collection *c, batch *b, double *est, double *var)
{
    const uint64_t id = posted(c, b, 3000, 4);
    uint64_t *counts = calloc(c->cfg.counts_len, sizeof *counts);
    for (size_t j = 0; j < b->n; j++)
        counts[b->payloads[j]]++;
    cr_assert_eq(pinhole_estimate(&c->cfg, counts, b->n, est, var), PINHOLE_OK);
    free(counts);
    return id;
}

Test(http, estimates_equal_the_offline_estimator)
{
    start(30, 8u << 20, 1000000, NULL);
    cli_collection c;
    const uint64_t id = create_fetch(spec, &c);
    cr_assert_eq(c.wire.params.k, 12);
    batch b[3] = {make_batch(&c, 1500, 1, 0), make_batch(&c, 1500, 2, 0),
                  make_batch(&c, 700, 3, 1)};
    uint64_t *counts = calloc(c.cfg.counts_len, sizeof *counts), n = 0;
    for (int i = 0; i < 3; i++) {
        json_t *o = post_batch(id, &b[i], 200);
        cr_assert_eq(json_integer_value(json_object_get(o, "accepted")), (json_int_t)b[i].n);
        json_decref(o);
        for (size_t j = 0; j < b[i].n; j++)
            counts[b[i].payloads[j]]++;
        n += b[i].n;
    }
    double est[12], var[12];
    cr_assert_eq(pinhole_estimate(&c.cfg, counts, n, est, var), PINHOLE_OK);

    char path[96], *body;
    snprintf(path, sizeof path, "/v1/collections/%llu/histogram", (unsigned long long)id);
    json_t *o = req_json("analyst-token", "GET", path, NULL, NULL, 0, 200);
    cr_assert_eq(json_integer_value(json_object_get(o, "n")), (json_int_t)n);
    json_t *items = json_object_get(o, "items");
    cr_assert_eq(json_array_size(items), 12);
    static const char *const labels[] = {"red",     "green",  "blue",  "cyan",
                                         "magenta", "yellow", "black", "white",
                                         "grey",    "orange", "pink",  "say \"hi\", ok"};
    double prev = INFINITY;
    for (size_t i = 0; i < 12; i++) {
        json_t *it = json_array_get(items, i);
        const uint64_t v = (uint64_t)json_integer_value(json_object_get(it, "item"));
        const double e = json_number_value(json_object_get(it, "estimate"));
        const double se = json_number_value(json_object_get(it, "stderr"));
        cr_assert(e == est[v], "item %llu: %.17g != %.17g", (unsigned long long)v, e, est[v]);
        cr_assert(se == sqrt(var[v]));
        cr_assert(json_number_value(json_object_get(it, "lower")) == e - 1.959963984540054 * se);
        cr_assert(json_number_value(json_object_get(it, "upper")) == e + 1.959963984540054 * se);
        cr_assert_str_eq(json_string_value(json_object_get(it, "label")), labels[v]);
        cr_assert(e <= prev, "sorted by estimate");
        prev = e;
    }
    json_decref(o);

    /* CSV: the same numbers, labels quoted per RFC 4180. */
    snprintf(path, sizeof path, "/v1/collections/%llu/histogram?format=csv&top=3",
             (unsigned long long)id);
    cr_assert_eq(req("analyst-token", "GET", path, NULL, NULL, 0, &body), 200);
    cr_assert_eq(strncmp(body, "rank,item,label,estimate,stderr,lower,upper,final\n", 50), 0);
    char *line = strchr(body, '\n') + 1;
    cr_assert_eq(strncmp(strchr(line, '\n') - 2, ",0\n", 3), 0); /* no bucket closed: not final */
    unsigned rank;
    unsigned long long item;
    cr_assert_eq(sscanf(line, "%u,%llu,", &rank, &item), 2);
    const char *num = strstr(line, "\",") + 2;
    cr_assert(strtod(num, NULL) == est[item]);
    int lines = 0;
    for (char *p = body; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, 4);
    free(body);

    /* The labels come back with ?labels=true, in item order. */
    snprintf(path, sizeof path, "/v1/collections/%llu?labels=true", (unsigned long long)id);
    cr_assert_eq(req(NULL, "GET", path, NULL, NULL, 0, NULL), 401); /* not anonymously */
    o = req_json("analyst-token", "GET", path, NULL, NULL, 0, 200);
    cr_assert_eq(json_array_size(json_object_get(o, "labels")), 12);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "labels"), 11)),
                     labels[11]);
    cr_assert_eq(json_integer_value(json_object_get(o, "reports")), (json_int_t)n);
    json_decref(o);
    cr_assert_eq(req(NULL, "GET", "/healthz", NULL, NULL, 0, &body), 200);
    cr_assert(strstr(body, "\"status\":\"ok\""), "%s", body);
    free(body);

    /* A time range without reports is refused like too few reports. */
    snprintf(path, sizeof path, "/v1/collections/%llu/histogram?from=0&to=3600",
             (unsigned long long)id);
    cr_assert_eq(req("analyst-token", "GET", path, NULL, NULL, 0, NULL), 403);
    /* ... and the range holding the reports (time unit 20000 of 86400 s) is answered. */
    snprintf(path, sizeof path, "/v1/collections/%llu/histogram?from=%llu&to=%llu&top=1",
             (unsigned long long)id, 20000ull * 86400, 20001ull * 86400);
    cr_assert_eq(req("analyst-token", "GET", path, NULL, NULL, 0, NULL), 200);
    for (int i = 0; i < 3; i++)
        free_batch(&b[i]);
    free(counts);
    cli_collection_free(&c);
}

/* Poll GET /v1/jobs/{job} until it is done (up to 6 s) and return its result (a new reference). */
static json_t *job_result(json_int_t job)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/jobs/%lld", (long long)job);
    json_t *res = NULL;
    for (int tries = 0; tries < 300 && !res; tries++) {
        json_t *o = req_json("analyst-token", "GET", path, NULL, NULL, 0, 200);
        const char *st = json_string_value(json_object_get(o, "status"));
        if (strcmp(st, "done") == 0)
            res = json_incref(json_object_get(o, "result"));
        else
            cr_assert(strcmp(st, "queued") == 0 || strcmp(st, "running") == 0, "job %s", st);
        json_decref(o);
        if (!res)
            nanosleep(&(struct timespec){0, 20000000}, NULL);
    }
    cr_assert_not_null(res);
    return res;
}

/* ?significant= returns the items that pass the test, as the library computes it on the same
 * estimates (null standard error sqrt(variance(n, 0))), and says which test and how many passed;
 * ?items= returns the named items in that order with their ranks. */
Test(http, significant_items_and_selection)
{
    start(30, 8u << 20, 1000000, NULL);
    cli_collection c;
    batch b;
    double est[12];
    const uint64_t id = posted_and_estimated(&c, &b, est, NULL);
    const double sd0 = sqrt(pinhole_config_variance(&c.cfg, (double)b.n, 0));
    const char *tests[2] = {"fdr:0.05", "bonferroni:0.01"};
    for (int t = 0; t < 2; t++) {
        pinhole_significance sig;
        cr_assert_eq(pinhole_significance_parse(tests[t], &sig), PINHOLE_OK);
        uint8_t pass[12];
        uint64_t passed;
        cr_assert_eq(pinhole_significance_test(est, NULL, sd0, 12, &sig, pass, &passed, NULL),
                     PINHOLE_OK);
        cr_assert(passed > 0 && passed < 12, "%s: %llu pass", tests[t], (unsigned long long)passed);
        char path[160];
        snprintf(path, sizeof path, "/v1/collections/%llu/histogram?significant=%s",
                 (unsigned long long)id, tests[t]);
        json_t *o = req_json("analyst-token", "GET", path, NULL, NULL, 0, 200);
        const json_t *so = json_object_get(o, "significance");
        cr_assert_str_eq(json_string_value(json_object_get(so, "method")),
                         sig.method == PINHOLE_SIG_FDR ? "fdr" : "bonferroni");
        cr_assert_eq(json_real_value(json_object_get(so, "alpha")), sig.alpha);
        cr_assert_eq(json_integer_value(json_object_get(so, "passed")), (json_int_t)passed);
        cr_assert_eq(json_integer_value(json_object_get(so, "tested")), 12);
        cr_assert_eq(json_real_value(json_object_get(so, "null_stderr")), sd0);
        const json_t *items = json_object_get(o, "items");
        cr_assert_eq(json_array_size(items), passed);
        double prev = INFINITY;
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            const uint64_t v = (uint64_t)json_integer_value(json_object_get(it, "item"));
            cr_assert(pass[v], "item %llu did not pass", (unsigned long long)v);
            cr_assert(est[v] <= prev);
            prev = est[v];
            cr_assert_eq(json_real_value(json_object_get(it, "p_value")),
                         pinhole_significance_pvalue(est[v], sd0));
        }
        json_decref(o);
    }
    char path[160];
    snprintf(path, sizeof path, "/v1/collections/%llu/histogram?items=11,0,5",
             (unsigned long long)id);
    json_t *o = req_json("analyst-token", "GET", path, NULL, NULL, 0, 200);
    const json_t *items = json_object_get(o, "items");
    cr_assert_eq(json_array_size(items), 3);
    const uint64_t want[3] = {11, 0, 5};
    for (size_t i = 0; i < 3; i++) {
        const json_t *it = json_array_get(items, i);
        const uint64_t v = want[i];
        cr_assert_eq(json_integer_value(json_object_get(it, "item")), (json_int_t)v);
        cr_assert(json_real_value(json_object_get(it, "estimate")) == est[v]);
        json_int_t rank = 1; /* 1 + the items ahead of v by estimate (ties by index) */
        for (uint64_t w = 0; w < 12; w++)
            rank += est[w] > est[v] || (est[w] == est[v] && w < v);
        cr_assert_eq(json_integer_value(json_object_get(it, "rank")), rank);
    }
    json_decref(o);
    const char *bad[] = {"items=12",
                         "items=",
                         "items=1,,2",
                         "items=x",
                         "significant=fdr",
                         "significant=fdr:1",
                         "significant=holm:0.05"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(path, sizeof path, "/v1/collections/%llu/histogram?%s", (unsigned long long)id,
                 bad[i]);
        cr_assert_eq(req("analyst-token", "GET", path, NULL, NULL, 0, NULL), 400, "%s", bad[i]);
    }
    free_batch(&b);
    cli_collection_free(&c);
}

/* Inline modules of the histogram, the timeline, analytics jobs over HTTP, the dashboard files. */
/* A raw GET: status, body and its length. */
static long get_bytes(const char *path, char **body, size_t *len)
{
    cli_http h;
    cr_assert_eq(cli_http_init(&h, base, NULL), 0);
    cli_response r;
    cr_assert_eq(cli_http_request(&h, "GET", path, NULL, NULL, 0, &r), 0, "%s", r.error);
    cli_http_free(&h);
    *body = r.body;
    *len = r.len;
    return r.status;
}

/* A labelled collection's config commits to its labels: a version 2 signed config (176 bytes)
 * the client library verifies, and the label list at .../labels, which the library checks
 * against it and maps to items; a collection without labels keeps its 136-byte config and has
 * no list. */
Test(http, labels_are_committed_and_served)
{
    start(30, 8u << 20, 1000000, NULL);
    const uint64_t id = create(spec);
    char path[128], *body, *keys;
    size_t len, klen;
    cr_assert_eq(get_bytes("/v1/keys", &keys, &klen), 200);
    json_t *k = json_loads(keys, 0, NULL);
    uint8_t sign_pk[PINHOLE_CONFIG_PUBLICKEYBYTES];
    cr_assert_eq(pinhole_hex_decode(json_string_value(json_object_get(k, "config_signing_key")),
                                    sign_pk, sizeof sign_pk, NULL),
                 PINHOLE_OK);
    json_decref(k);
    free(keys);
    snprintf(path, sizeof path, "/v1/collections/%llu/config", (unsigned long long)id);
    cr_assert_eq(get_bytes(path, &body, &len), 200);
    cr_assert_eq(len, PINHOLE_CONFIG_SIGNED_MAXBYTES);
    pinhole_collection *col = NULL;
    cr_assert_eq(pinhole_collection_new_signed(&col, (const uint8_t *)body, len, sign_pk),
                 PINHOLE_OK);
    free(body);
    cr_assert(pinhole_collection_has_labels(col));
    snprintf(path, sizeof path, "/v1/collections/%llu/labels", (unsigned long long)id);
    cr_assert_eq(get_bytes(path, &body, &len), 200);
    pinhole_labels *lab = NULL;
    cr_assert_eq(pinhole_labels_new(&lab, col, (const uint8_t *)body, len), PINHOLE_OK);
    free(body);
    uint64_t item = 0;
    cr_assert_eq(pinhole_labels_index(lab, "say \"hi\", ok", 12, &item), PINHOLE_OK);
    cr_assert_eq(item, 11);
    cr_assert_eq(pinhole_labels_index(lab, "blue", 4, &item), PINHOLE_OK);
    cr_assert_eq(item, 2);
    cr_assert_eq(pinhole_labels_index(lab, "mauve", 5, &item), PINHOLE_ENOTFOUND);
    pinhole_labels_free(lab);
    pinhole_collection_free(col);
    /* reports made from the labelled config are accepted as usual */
    cli_collection c;
    fetch(id, &c);
    cr_assert(c.wire.has_labels);
    batch b = make_batch(&c, 50, 9, 0);
    json_t *o = post_batch(id, &b, 200);
    cr_assert_eq(json_integer_value(json_object_get(o, "accepted")), 50);
    json_decref(o);
    free_batch(&b);
    cli_collection_free(&c);
    /* no labels: version 1, no list */
    const uint64_t plain = create("{\"name\": \"plain\", \"epsilon\": 2, \"k\": 8}");
    snprintf(path, sizeof path, "/v1/collections/%llu/config", (unsigned long long)plain);
    cr_assert_eq(get_bytes(path, &body, &len), 200);
    cr_assert_eq(len, PINHOLE_CONFIG_SIGNEDBYTES);
    free(body);
    snprintf(path, sizeof path, "/v1/collections/%llu/labels", (unsigned long long)plain);
    cr_assert_eq(get_bytes(path, &body, &len), 404);
    free(body);
}

Test(http, modules_timeline_jobs_and_dashboard)
{
    start(30, 8u << 20, 1000000, NULL);
    cli_collection c;
    batch b;
    double est[12], var[12], proj[12];
    const uint64_t id = posted_and_estimated(&c, &b, est, var);
    cr_assert_eq(pinhole_simplex_project(est, 12, (double)b.n, proj, NULL), PINHOLE_OK);

    /* ?consistency=project&topk=3: the projection of the estimates; probabilities summing to 3 */
    char path[160], *body;
    snprintf(path, sizeof path, "/v1/collections/%llu/histogram?consistency=project&topk=3",
             (unsigned long long)id);
    json_t *o = req_json("analyst-token", "GET", path, NULL, NULL, 0, 200);
    cr_assert_str_eq(json_string_value(json_object_get(o, "consistency")), "project");
    double psum = 0, csum = 0;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(o, "items"), i, it)
    {
        const uint64_t v = (uint64_t)json_integer_value(json_object_get(it, "item"));
        const double cons = json_number_value(json_object_get(it, "consistent"));
        cr_assert_float_eq(cons, proj[v], 1e-9 * (double)b.n);
        csum += cons;
        psum += json_number_value(json_object_get(it, "topk_probability"));
    }
    cr_assert_float_eq(csum, (double)b.n, 1e-6);
    cr_assert_float_eq(psum, 3.0, 1e-12);
    json_decref(o);
    snprintf(path, sizeof path, "/v1/collections/%llu/histogram?consistency=sideways",
             (unsigned long long)id);
    cr_assert_eq(req("analyst-token", "GET", path, NULL, NULL, 0, NULL), 400);
    snprintf(path, sizeof path, "/v1/collections/%llu/histogram?topk=13", (unsigned long long)id);
    cr_assert_eq(req("analyst-token", "GET", path, NULL, NULL, 0, NULL), 400);
    snprintf(path, sizeof path, "/v1/collections/%llu/histogram?consistancy=project",
             (unsigned long long)id); /* a typo is an error, not silently the default */
    cr_assert_eq(req("analyst-token", "GET", path, NULL, NULL, 0, &body), 400);
    cr_assert(strstr(body, "consistancy"));
    free(body);

    /* timeline: one bucket holding the 3000 reports */
    snprintf(path, sizeof path, "/v1/collections/%llu/timeline", (unsigned long long)id);
    cr_assert_eq(req(NULL, "GET", path, NULL, NULL, 0, NULL), 401);
    o = req_json("analyst-token", "GET", path, NULL, NULL, 0, 200);
    cr_assert_eq(json_array_size(json_object_get(o, "buckets")), 1);
    cr_assert_eq(json_integer_value(
                     json_object_get(json_array_get(json_object_get(o, "buckets"), 0), "reports")),
                 3000);
    json_decref(o);

    /* a reconstruct job: 202 with a Location, then the offline estimates */
    snprintf(path, sizeof path, "/v1/collections/%llu/jobs", (unsigned long long)id);
    const char *jb = "{\"type\": \"reconstruct\", \"params\": {\"top\": 0}}";
    o = req_json("analyst-token", "POST", path, "application/json", jb, strlen(jb), 202);
    const json_int_t job = json_integer_value(json_object_get(o, "id"));
    json_decref(o);
    json_t *res = job_result(job);
    json_array_foreach(json_object_get(res, "items"), i, it)
    {
        const uint64_t v = (uint64_t)json_integer_value(json_object_get(it, "item"));
        cr_assert(json_number_value(json_object_get(it, "estimate")) == est[v]);
    }
    json_decref(res);
    /* bad jobs */
    snprintf(path, sizeof path, "/v1/collections/%llu/jobs", (unsigned long long)id);
    const char *bad = "{\"type\": \"astrology\"}", *notjson = "{type",
               *typo = "{\"type\": \"reconstruct\", \"parms\": {}}";
    cr_assert_eq(req("analyst-token", "POST", path, "application/json", typo, strlen(typo), NULL),
                 400);
    const char *typo_param = "{\"type\": \"reconstruct\", \"params\": {\"topp\": 5}}";
    cr_assert_eq(req("analyst-token", "POST", path, "application/json", typo_param,
                     strlen(typo_param), &body),
                 400);
    cr_assert(strstr(body, "unknown parameter 'topp'"), "%s", body);
    free(body);
    cr_assert_eq(req("analyst-token", "POST", path, "application/json", bad, strlen(bad), NULL),
                 422);
    cr_assert_eq(
        req("analyst-token", "POST", path, "application/json", notjson, strlen(notjson), NULL),
        400);
    cr_assert_eq(req("analyst-token", "GET", "/v1/jobs/987654", NULL, NULL, 0, NULL), 404);
    cr_assert_eq(req("analyst-token", "DELETE", "/v1/jobs/987654", NULL, NULL, 0, NULL), 404);
    cr_assert_eq(req(NULL, "GET", "/v1/jobs/1", NULL, NULL, 0, NULL), 401);
    /* offline solvers go to /v1/jobs and read no collection; collection jobs are refused there */
    const char *cut = "{\"type\": \"maxcut\", \"params\": {\"weights\": [[0, 1, 1], [1, 0, 1], "
                      "[1, 1, 0]], \"seed\": 1}}",
               *ranged = "{\"type\": \"maxcut\", \"from\": 0}";
    cr_assert_eq(req("analyst-token", "POST", path, "application/json", cut, strlen(cut), &body),
                 422);
    cr_assert(strstr(body, "job-path") && strstr(body, "/v1/jobs"), "%s", body);
    free(body);
    const char *multi = "{\"type\": \"multi_attribute\"}";
    cr_assert_eq(req("analyst-token", "POST", path, "application/json", multi, strlen(multi), NULL),
                 422, "multi_attribute names its collections: it goes to /v1/jobs");
    cr_assert_eq(req(NULL, "POST", "/v1/jobs", "application/json", cut, strlen(cut), NULL), 401);
    cr_assert_eq(req("analyst-token", "POST", "/v1/jobs", "application/json", jb, strlen(jb), NULL),
                 422);
    cr_assert_eq(
        req("analyst-token", "POST", "/v1/jobs", "application/json", ranged, strlen(ranged), NULL),
        400);
    o = req_json("analyst-token", "POST", "/v1/jobs", "application/json", cut, strlen(cut), 202);
    cr_assert(json_is_null(json_object_get(o, "collection_id")));
    res = job_result(json_integer_value(json_object_get(o, "id")));
    json_decref(o);
    cr_assert_float_eq(json_number_value(json_object_get(res, "cut_value")), 2, 1e-12);
    json_decref(res);

    /* job lists: newest first, a page at a time, without results; by collection or all */
    for (int j = 0; j < 2; j++) {
        const char *sj = "{\"type\": \"sleep\", \"params\": {\"seconds\": 0}}";
        cr_assert_eq(req("analyst-token", "POST", path, "application/json", sj, strlen(sj), NULL),
                     202);
    }
    snprintf(path, sizeof path, "/v1/collections/%llu/jobs?limit=2&offset=1",
             (unsigned long long)id);
    o = req_json("analyst-token", "GET", path, NULL, NULL, 0, 200);
    cr_assert_eq(json_integer_value(json_object_get(o, "total")), 3);
    cr_assert_eq(json_integer_value(json_object_get(o, "offset")), 1);
    cr_assert_eq(json_integer_value(json_object_get(o, "limit")), 2);
    const json_t *jobs = json_object_get(o, "jobs");
    cr_assert_eq(json_array_size(jobs), 2);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(jobs, 1), "id")), job,
                 "the reconstruct job is the oldest");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(jobs, 1), "status")), "done");
    cr_assert_null(json_object_get(json_array_get(jobs, 1), "result"), "no results in lists");
    cr_assert_gt(json_integer_value(json_object_get(json_array_get(jobs, 0), "id")), job);
    json_decref(o);
    o = req_json("analyst-token", "GET", "/v1/jobs", NULL, NULL, 0, 200);
    /* all jobs: the collection's three and the offline maxcut */
    cr_assert_eq(json_integer_value(json_object_get(o, "total")), 4);
    cr_assert_eq(json_integer_value(json_object_get(o, "limit")), 20);
    json_decref(o);
    cr_assert_eq(req("analyst-token", "GET", "/v1/jobs?limit=0", NULL, NULL, 0, NULL), 400);
    cr_assert_eq(req("analyst-token", "GET", "/v1/jobs?limit=101", NULL, NULL, 0, NULL), 400);
    cr_assert_eq(req("analyst-token", "GET", "/v1/jobs?offset=-1", NULL, NULL, 0, NULL), 400);
    cr_assert_eq(req(NULL, "GET", "/v1/jobs", NULL, NULL, 0, NULL), 401);
    cr_assert_eq(req("analyst-token", "GET", "/v1/collections/999/jobs", NULL, NULL, 0, NULL), 404);

    /* the dashboard: its page and script, no token needed; / redirects there */
    cr_assert_eq(req(NULL, "GET", "/ui/", NULL, NULL, 0, &body), 200);
    cr_assert(strstr(body, "<title>Pinhole"), "the page");
    free(body);
    cr_assert_eq(req(NULL, "GET", "/ui/app.js", NULL, NULL, 0, &body), 200);
    cr_assert(strstr(body, "/histogram?"));
    free(body);
    cr_assert_eq(req(NULL, "GET", "/ui/missing.js", NULL, NULL, 0, NULL), 404);
    cr_assert_eq(req(NULL, "GET", "/", NULL, NULL, 0, NULL), 302);
    cr_assert_eq(req(NULL, "GET", "/ui", NULL, NULL, 0, NULL), 302);
    /* a k whose count vector would pass 1 GiB is refused at creation */
    const char *huge = "{\"epsilon\": 4, \"k\": 1099511627776}";
    cr_assert_eq(req("admin-token", "POST", "/v1/collections", "application/json", huge,
                     strlen(huge), &body),
                 422);
    cr_assert(strstr(body, "1 GiB"), "%s", body);
    free(body);
    /* ... and so is a k above 2^25 even when the mechanism's count vector is small (OLH) */
    const char *wide = "{\"epsilon\": 4, \"mechanism\": \"olh\", \"k\": 1099511627776}";
    cr_assert_eq(
        req("admin-token", "POST", "/v1/collections", "application/json", wide, strlen(wide), NULL),
        422);
    free_batch(&b);
    cli_collection_free(&c);
}

Test(http, retries_are_acknowledged_and_replays_dropped)
{
    start(30, 8u << 20, 1000000, NULL);
    cli_collection c;
    batch b;
    const uint64_t id = posted(&c, &b, 200, 9);
    json_t *o = post_batch(id, &b, 200); /* the client retries the whole batch */
    cr_assert_eq(json_integer_value(json_object_get(o, "accepted")), 0);
    cr_assert_eq(json_integer_value(json_object_get(o, "duplicates")), 200);
    json_decref(o);
    /* Same ids, other payloads: replays, every one dropped (422, per-report errors listed). */
    batch r = make_batch(&c, 200, 9, 0);
    /* Rewrite each report's first payload byte (another hyperplane, still below K). */
    size_t pos = PINHOLE_BATCH_HEADERBYTES;
    for (size_t i = 0; i < r.n; i++) {
        const size_t len = r.buf[pos] | (size_t)r.buf[pos + 1] << 8;
        uint8_t *payload = r.buf + pos + 4 + PINHOLE_REPORT_HEADERBYTES;
        payload[0] = (uint8_t)((payload[0] + 1) % c.cfg.counts_len);
        pos += 4 + len;
    }
    o = post_batch(id, &r, 422);
    cr_assert_eq(json_integer_value(json_object_get(o, "rejected")), 200);
    json_t *e0 = json_array_get(json_object_get(o, "errors"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(e0, "status")), "replay");
    /* the error says replay (it said "report made for other collection parameters" once) */
    cr_assert_str_eq(json_string_value(json_object_get(e0, "error")),
                     "report id already stored with other content (a replay): dropped");
    json_decref(o);
    cr_assert_eq(reports_of(id), 200);
    char *body;
    cr_assert_eq(req(NULL, "GET", "/metrics", NULL, NULL, 0, &body), 200);
    cr_assert(strstr(body, "pinhole_reports_duplicate_total 200\n"), "%s", body);
    cr_assert(strstr(body, "pinhole_reports_rejected_total{reason=\"replay\"} 200\n"), "%s", body);
    /* no collection with a window bound here: nothing retired; the replay index holds the ids */
    cr_assert(strstr(body, "\npinhole_gc_rows_removed_total 0\n"), "%s", body);
    cr_assert(strstr(body, "\npinhole_gc_lag_seconds 0.000\n"), "%s", body);
    const char *ids = strstr(body, "\npinhole_replay_index_ids ");
    cr_assert_not_null(ids, "%s", body);
    cr_assert_geq(strtoull(ids + 26, NULL, 10), 200);
    free(body);
    free_batch(&b);
    free_batch(&r);
    cli_collection_free(&c);
}

/* Send raw bytes on a fresh connection; returns the socket. */
static int raw_send(const char *bytes, size_t len)
{
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(pinhole_server_port(srv))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(send(fd, bytes, len, 0), (ssize_t)len);
    return fd;
}

/* Read until the peer closes or timeout seconds pass; returns bytes read, -1 on timeout. */
static long raw_drain(int fd, double timeout, char *buf, size_t cap)
{
    struct timeval tv = {(time_t)timeout, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t got = 0;
    for (;;) {
        const ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);
        if (n == 0)
            break;
        if (n < 0)
            return -1;
        got += (size_t)n;
        if (got + 1 >= cap)
            break;
    }
    buf[got] = '\0';
    return (long)got;
}

/* Send raw bytes on a fresh connection and read the answer until the server closes it (up to
 * 5 s): the bytes read into buf (NUL-terminated), -1 when the connection stayed open. */
static long raw_exchange(const char *bytes, size_t len, char *buf, size_t cap)
{
    const int fd = raw_send(bytes, len);
    const long got = raw_drain(fd, 5, buf, cap);
    close(fd);
    return got;
}

/* On fd, the head of a report batch POST to collection id with framing (its Content-Length or
 * Transfer-Encoding lines, each ending in CRLF), then body[0..len). */
static void raw_post_on(int fd, uint64_t id, const char *framing, const void *body, size_t len)
{
    char head[256];
    const int n = snprintf(head, sizeof head,
                           "POST /v1/collections/%llu/reports HTTP/1.1\r\nHost: x\r\n"
                           "Content-Type: application/octet-stream\r\n%s\r\n",
                           (unsigned long long)id, framing);
    cr_assert(n > 0 && (size_t)n < sizeof head);
    cr_assert_eq(send(fd, head, (size_t)n, MSG_NOSIGNAL), n);
    if (len)
        cr_assert_eq(send(fd, body, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* raw_post_on a fresh connection; returns the socket. */
static int raw_post(uint64_t id, const char *framing, const void *body, size_t len)
{
    const int fd = raw_send("", 0);
    raw_post_on(fd, id, framing, body, len);
    return fd;
}

/* POST the whole batch b on fd (Content-Length framing). */
static void raw_post_batch(int fd, uint64_t id, const batch *b)
{
    char length[64];
    snprintf(length, sizeof length, "Content-Length: %zu\r\n", b->len);
    raw_post_on(fd, id, length, b->buf, b->len);
}

/* DELETE /v1/collections/{id}: admin only; the collection is gone from the API at once (404 on
 * every route of it, out of the list), the other one untouched; its 200 reports are removed by
 * the garbage collector within a periodic upkeep (5 s) and show in /metrics. */
Test(http, deleted_collection_is_gone_at_once_and_collected, .timeout = 60)
{
    start(30, 8u << 20, 1000000, NULL);
    const uint64_t id = create(spec), other = create(spec);
    cli_collection c;
    fetch(id, &c);
    batch b = make_batch(&c, 200, 4, 0);
    json_decref(post_batch(id, &b, 200));
    char path[96], *body;
    snprintf(path, sizeof path, "/v1/collections/%llu", (unsigned long long)id);
    cr_assert_eq(req("analyst-token", "DELETE", path, NULL, NULL, 0, NULL), 403);
    cr_assert_eq(req("admin-token", "DELETE", path, NULL, NULL, 0, &body), 204, "%s", body);
    free(body);
    cr_assert_eq(req("admin-token", "DELETE", path, NULL, NULL, 0, NULL), 404);
    cr_assert_eq(req("analyst-token", "GET", path, NULL, NULL, 0, NULL), 404);
    char sub[128];
    snprintf(sub, sizeof sub, "%s/histogram", path);
    cr_assert_eq(req("analyst-token", "GET", sub, NULL, NULL, 0, NULL), 404);
    json_decref(post_batch(id, &b, 404));
    json_t *o = req_json("analyst-token", "GET", "/v1/collections", NULL, NULL, 0, 200);
    json_t *list = json_object_get(o, "collections");
    cr_assert_eq(json_array_size(list), 1);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(list, 0), "id")),
                 (json_int_t)other);
    json_decref(o);
    int done = 0;
    for (int i = 0; i < 150 && !done; i++) { /* up to 15 s: the upkeep runs every 5 s */
        char *m;
        req(NULL, "GET", "/metrics", NULL, NULL, 0, &m);
        done = strstr(m, "\npinhole_gc_rows_removed_total 200\n") != NULL;
        free(m);
        if (!done)
            nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
    cr_assert(done, "the garbage collector did not remove the 200 reports");
    free_batch(&b);
    cli_collection_free(&c);
}

Test(http, bad_input_gets_its_status_and_changes_nothing)
{
    start(30, 16384, 1000000, NULL);
    const uint64_t id = create(spec);
    const uint64_t other = create("{\"epsilon\": 2, \"k\": 13, \"min_reports\": 5}");
    cli_collection c, c2;
    fetch(id, &c);
    fetch(other, &c2);
    batch good = make_batch(&c, 150, 4, 0);
    json_decref(post_batch(id, &good, 200));
    char hpath[96], rpath[96], *before, *after, *body;
    snprintf(hpath, sizeof hpath, "/v1/collections/%llu/histogram?format=csv",
             (unsigned long long)id);
    snprintf(rpath, sizeof rpath, "/v1/collections/%llu/reports", (unsigned long long)id);
    cr_assert_eq(req("analyst-token", "GET", hpath, NULL, NULL, 0, &before), 200);

    const char *oct = "application/octet-stream", *js = "application/json";
    /* collections: malformed JSON, bad values, unknown member, wrong type, tokens */
    cr_assert_eq(req("admin-token", "POST", "/v1/collections", js, "{\"epsilon\": 2,", 14, NULL),
                 400);
    cr_assert_eq(req("admin-token", "POST", "/v1/collections", js, "[1,2]", 5, NULL), 400);
    cr_assert_eq(
        req("admin-token", "POST", "/v1/collections", js, "{\"epsilon\": -1, \"k\": 9}", 23, NULL),
        422);
    cr_assert_eq(
        req("admin-token", "POST", "/v1/collections", js, "{\"epsilon\": 1, \"k\": 1}", 22, NULL),
        422);
    cr_assert_eq(req("admin-token", "POST", "/v1/collections", js,
                     "{\"epsilon\": 1, \"k\": 9, \"color\": 1}", 33, NULL),
                 400);
    /* refused parameters say why */
    const char *why[][2] = {
        {"{\"epsilon\": 1, \"k\": 100, \"q\": 6}", "q = 6 is not a prime power"},
        {"{\"epsilon\": 1, \"k\": 100, \"q\": 7, \"t\": 5}", "t = 5 is larger than needed"}};
    for (size_t w = 0; w < sizeof why / sizeof why[0]; w++) {
        cr_assert_eq(
            req("admin-token", "POST", "/v1/collections", js, why[w][0], strlen(why[w][0]), &body),
            422, "%s", why[w][0]);
        cr_assert(strstr(body, why[w][1]), "%s", body);
        free(body);
    }
    cr_assert_eq(req("admin-token", "POST", "/v1/collections", "text/plain", "{}", 2, NULL), 415);
    cr_assert_eq(req(NULL, "POST", "/v1/collections", js, "{}", 2, &body), 401);
    cr_assert(strstr(body, "\"status\":401"), "%s", body);
    free(body);
    cr_assert_eq(req("wrong-token", "POST", "/v1/collections", js, "{}", 2, NULL), 401);
    cr_assert_eq(req("analyst-token", "POST", "/v1/collections", js, "{}", 2, NULL), 403);
    cr_assert_eq(req(NULL, "GET", hpath, NULL, NULL, 0, NULL), 401);
    cr_assert_eq(req("admin-token", "GET", "/v1/collections/999/histogram", NULL, NULL, 0, NULL),
                 404);
    cr_assert_eq(req(NULL, "GET", "/v2/nothing", NULL, NULL, 0, NULL), 404);
    cr_assert_eq(req(NULL, "GET", rpath, NULL, NULL, 0, NULL), 405);
    cr_assert_eq(
        req("analyst-token", "GET", "/v1/collections/1/histogram?top=many", NULL, NULL, 0, NULL),
        400);
    char p2[96];
    snprintf(p2, sizeof p2, "/v1/collections/%llu/histogram", (unsigned long long)other);
    cr_assert_eq(req("analyst-token", "GET", p2, NULL, NULL, 0, &body), 403);
    cr_assert(strstr(body, "below-minimum-reports"), "%s", body);
    free(body);

    /* report batches: unknown collection, wrong type, garbage, truncated, oversized, count 0 */
    cr_assert_eq(req(NULL, "POST", "/v1/collections/999/reports", oct, good.buf, good.len, NULL),
                 404);
    cr_assert_eq(req(NULL, "POST", rpath, "application/json", good.buf, good.len, NULL), 415);
    cr_assert_eq(req(NULL, "POST", rpath, oct, "garbage!garbage!", 16, &body), 400);
    cr_assert(strstr(body, "application/problem+json") == NULL); /* the body is the document */
    cr_assert(strstr(body, "malformed-batch"), "%s", body);
    free(body);
    cr_assert_eq(req(NULL, "POST", rpath, oct, good.buf, good.len - 7, NULL), 400);
    cr_assert_eq(req(NULL, "POST", rpath, oct, good.buf, 3, NULL), 400);
    uint8_t *huge = calloc(20000, 1);
    memcpy(huge, good.buf, good.len < 20000 ? good.len : 20000);
    cr_assert_eq(req(NULL, "POST", rpath, oct, huge, 20000, &body), 413);
    cr_assert(strstr(body, "body-too-large"), "%s", body);
    free(body);
    free(huge);
    /* reports made for the other collection (k = 13): refused by fingerprint and id */
    batch wrong = make_batch(&c2, 20, 5, 0);
    json_t *o = post_batch(id, &wrong, 422);
    cr_assert_eq(json_integer_value(json_object_get(o, "rejected")), 20);
    json_decref(o);
    /* the right collection id but the fingerprint of other parameters */
    cli_collection forged = c;
    forged.fingerprint[0] ^= 1;
    batch fp = make_batch(&forged, 20, 6, 0);
    o = post_batch(id, &fp, 422);
    cr_assert(strstr(json_string_value(
                         json_object_get(json_array_get(json_object_get(o, "errors"), 0), "error")),
                     "other collection parameters"));
    json_decref(o);
    /* sealed to another key */
    randombytes_buf(forged.seal_pk, sizeof forged.seal_pk);
    forged.fingerprint[0] ^= 1;
    batch badseal = make_batch(&forged, 10, 7, 1);
    json_decref(post_batch(id, &badseal, 422));
    /* a payload index beyond K (the padding bits are zero, so only the mechanism refuses it) */
    if (c.cfg.counts_len < 256) {
        batch big = make_batch(&c, 1, 8, 0);
        big.buf[big.len - 1] = 0xff & ((1u << c.cfg.payload_bits) - 1);
        if (big.buf[big.len - 1] >= c.cfg.counts_len) {
            o = post_batch(id, &big, 422);
            cr_assert_str_eq(json_string_value(json_object_get(
                                 json_array_get(json_object_get(o, "errors"), 0), "status")),
                             "invalid");
            json_decref(o);
        }
        free_batch(&big);
    }

    /* A body cut off by the client: declared 1000 bytes, 100 sent, then the connection closes. */
    int fd = raw_post(id, "Content-Length: 1000\r\n", good.buf, 100);
    close(fd);
    /* A chunked body (no declared length) over the limit: 413 once it ends. */
    fd = raw_post(id, "Transfer-Encoding: chunked\r\nConnection: close\r\n", NULL, 0);
    char chunk[4096 + 16];
    memset(chunk, 'A', sizeof chunk);
    for (int i = 0; i < 5; i++) {
        const int l = snprintf(chunk, 16, "1000\r\n");
        chunk[l + 4096] = '\r';
        chunk[l + 4097] = '\n';
        cr_assert_eq(send(fd, chunk, (size_t)l + 4098, 0), l + 4098);
    }
    cr_assert_eq(send(fd, "0\r\n\r\n", 5, 0), 5);
    char resp[4096];
    cr_assert_gt(raw_drain(fd, 5, resp, sizeof resp), 0);
    close(fd);
    cr_assert(strncmp(resp, "HTTP/1.1 413", 12) == 0, "%s", resp);

    cr_assert_eq(req("analyst-token", "GET", hpath, NULL, NULL, 0, &after), 200);
    cr_assert_str_eq(before, after, "the histogram changed");
    free(before);
    free(after);
    cr_assert_eq(reports_of(id), 150);
    free_batch(&good);
    free_batch(&wrong);
    free_batch(&fp);
    free_batch(&badseal);
    cli_collection_free(&c);
    cli_collection_free(&c2);
}

Test(http, a_batch_holds_at_most_16_distinct_times)
{
    start(30, 8u << 20, 1000000, NULL);
    /* times 20000 .. 20019, twice each: a window of no bound lets the ones ahead in */
    cli_collection c;
    const uint64_t id = create_fetch("{\"epsilon\": 2, \"k\": 12, \"max_report_age\": 0,"
                                     " \"max_clock_skew\": 0}",
                                     &c);
    batch b = make_batch_times(&c, 40, 41, 0, 20);
    json_t *o = post_batch(id, &b, 200);
    cr_assert_eq(json_integer_value(json_object_get(o, "accepted")), 32);
    cr_assert_eq(json_integer_value(json_object_get(o, "rejected")), 8);
    json_t *e = json_array_get(json_object_get(o, "errors"), 0);
    cr_assert_eq(json_integer_value(json_object_get(e, "index")), 16);
    cr_assert_str_eq(json_string_value(json_object_get(e, "reason")), "time");
    cr_assert(strstr(json_string_value(json_object_get(e, "error")), "a 17th distinct time in one "
                                                                     "batch (at most 16)"),
              "%s", json_string_value(json_object_get(e, "error")));
    json_decref(o);
    free_batch(&b);
    cli_collection_free(&c);
}

Test(http, slow_clients_are_dropped)
{
    start(1, 8u << 20, 1000000, NULL);
    const char *partial = "POST /v1/collections/1/reports HTTP/1.1\r\nHost: x\r\n";
    const double t0 = pinhole_clock_mono();
    const int fd = raw_send(partial, strlen(partial));
    /* the server keeps serving others meanwhile */
    cr_assert_eq(req(NULL, "GET", "/healthz", NULL, NULL, 0, NULL), 200);
    char buf[512];
    const long got = raw_drain(fd, 10, buf, sizeof buf);
    const double waited = pinhole_clock_mono() - t0;
    close(fd);
    cr_assert_geq(got, 0, "the connection was not closed within 10 s");
    cr_assert_lt(waited, 5, "closed after %.2f s with a 1 s timeout", waited);
}

/* A head trickling in a byte at a time (each byte resets the inactivity timeout) is cut at the
 * head deadline with a 408 problem, and the server serves others meanwhile. */
Test(http, trickling_head_is_cut_at_the_deadline)
{
    head_timeout = 1;
    start(30, 8u << 20, 1000000, NULL);
    const char *head = "POST /v1/collections/1/reports HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    const double t0 = pinhole_clock_mono();
    const int fd = raw_send(head, strlen(head));
    char buf[1024];
    long got = -1;
    for (int i = 0; i < 40 && got < 0; i++) { /* a byte every 0.1 s, for up to 4 s */
        if (send(fd, "a", 1, MSG_NOSIGNAL) != 1)
            break;
        cr_assert_eq(req(NULL, "GET", "/healthz", NULL, NULL, 0, NULL), 200);
        struct timeval tv = {0, 100000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        const ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        if (n > 0) {
            buf[n] = '\0';
            got = n;
        }
    }
    const double waited = pinhole_clock_mono() - t0;
    close(fd);
    cr_assert_gt(got, 0, "no answer within 4 s to a head trickling in");
    cr_assert(strncmp(buf, "HTTP/1.1 408", 12) == 0, "%s", buf);
    cr_assert(strstr(buf, "application/problem+json"), "%s", buf);
    cr_assert_lt(waited, 2.5, "cut after %.2f s with a 1 s head deadline", waited);
}

static long second_answer(const char *bad, size_t badlen, char *buf, size_t cap);

/* The head deadline holds for every request of a kept-alive connection, not only the first: a
 * second head trickling in is cut with a 408 problem. */
Test(http, later_heads_have_a_deadline)
{
    head_timeout = 1;
    check_every_request = 1;
    start(30, 8u << 20, 1000000, NULL);
    char buf[2048];
    const char *slow = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a";
    const double t0 = pinhole_clock_mono();
    const long got = second_answer(slow, strlen(slow), buf, sizeof buf);
    const double waited = pinhole_clock_mono() - t0;
    cr_assert_gt(got, 0, "no answer to a head left incomplete");
    cr_assert(strncmp(buf, "HTTP/1.1 408", 12) == 0 && strstr(buf, "application/problem+json"),
              "%s", buf);
    cr_assert_lt(waited, 2.5, "cut after %.2f s with a 1 s head deadline", waited);
}

/* Past the per-address cap a connection is answered at once: 503, Retry-After, problem+json. */
Test(http, connections_per_address_are_capped)
{
    per_address = 4;
    start(30, 8u << 20, 1000000, NULL);
    int fd[4];
    for (int i = 0; i < 4; i++)
        fd[i] = raw_send("GET /healthz HTTP/1.1\r\n", 23); /* heads left incomplete */
    const double t0 = pinhole_clock_mono();
    const char *keys = "GET /v1/keys HTTP/1.1\r\nHost: x\r\n\r\n";
    char buf[1024];
    const long got = raw_exchange(keys, strlen(keys), buf, sizeof buf);
    cr_assert_gt(got, 0);
    cr_assert_lt(pinhole_clock_mono() - t0, 1, "the refusal took %.2f s",
                 pinhole_clock_mono() - t0);
    cr_assert(strncmp(buf, "HTTP/1.1 503", 12) == 0, "%s", buf);
    cr_assert(strstr(buf, "Retry-After: 1\r\n") && strstr(buf, "application/problem+json") &&
                  strstr(buf, "too-many-connections"),
              "%s", buf);
    char *body;
    cr_assert_eq(req(NULL, "GET", "/v1/keys", NULL, NULL, 0, &body), 503); /* the cap holds */
    free(body);
    close(fd[0]); /* one fewer: the next is served */
    nanosleep(&(struct timespec){0, 100000000}, NULL);
    cr_assert_eq(req(NULL, "GET", "/metrics", NULL, NULL, 0, &body), 200);
    cr_assert(strstr(body, "pinhole_connections_refused_total{reason=\"address\"} 2\n"), "%s",
              body);
    free(body);
    for (int i = 1; i < 4; i++)
        close(fd[i]);
}

Test(http, uploader_token_when_configured)
{
    start(30, 8u << 20, 1000000, "upload-token");
    cli_collection c;
    const uint64_t id = create_fetch(spec, &c);
    batch b = make_batch(&c, 10, 11, 0);
    char path[96];
    snprintf(path, sizeof path, "/v1/collections/%llu/reports", (unsigned long long)id);
    cr_assert_eq(req(NULL, "POST", path, "application/octet-stream", b.buf, b.len, NULL), 401);
    cr_assert_eq(req("analyst-token", "POST", path, "application/octet-stream", b.buf, b.len, NULL),
                 403);
    cr_assert_eq(req("upload-token", "POST", path, "application/octet-stream", b.buf, b.len, NULL),
                 200);
    free_batch(&b);
    cli_collection_free(&c);
}

typedef struct poster {
    uint64_t id;
    const batch *b;
    long status;
} poster;

static void *post_thread(void *arg)
{
    poster *p = arg;
    char path[96];
    snprintf(path, sizeof path, "/v1/collections/%llu/reports", (unsigned long long)p->id);
    cli_http h;
    cli_response r;
    if (cli_http_init(&h, base, NULL) == 0 &&
        cli_http_request(&h, "POST", path, "application/octet-stream", p->b->buf, p->b->len, &r) ==
            0) {
        p->status = r.status;
        free(r.body);
    }
    cli_http_free(&h);
    return NULL;
}

/* Wait until /metrics shows the given line. */
static void await_metric(const char *line)
{
    for (int i = 0; i < 1000; i++) {
        char *body;
        req(NULL, "GET", "/metrics", NULL, NULL, 0, &body);
        const int ok = strstr(body, line) != NULL;
        free(body);
        if (ok)
            return;
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    cr_assert_fail("metric never showed: %s", line);
}

Test(http, full_queue_answers_429_with_retry_after)
{
    start(30, 8u << 20, 20, NULL);
    cli_collection c;
    const uint64_t id = create_fetch(spec, &c);
    batch b[3] = {make_batch(&c, 20, 21, 0), make_batch(&c, 20, 22, 0), make_batch(&c, 20, 23, 0)};
    /* Someone else holds the write lock: the writer waits on it (busy timeout 5 s). */
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    poster p[2] = {{id, &b[0], 0}, {id, &b[1], 0}};
    pthread_t t[2];
    pthread_create(&t[0], NULL, post_thread, &p[0]);
    await_metric("pinhole_requests_waiting 1\n");
    await_metric("pinhole_writer_queue_batches 0\n"); /* taken by the writer, which is blocked */
    pthread_create(&t[1], NULL, post_thread, &p[1]);
    await_metric("pinhole_writer_queue_batches 1\n");
    char path[96];
    snprintf(path, sizeof path, "/v1/collections/%llu/reports", (unsigned long long)id);
    cli_http h;
    cli_response r;
    cr_assert_eq(cli_http_init(&h, base, NULL), 0);
    cr_assert_eq(
        cli_http_request(&h, "POST", path, "application/octet-stream", b[2].buf, b[2].len, &r), 0);
    cr_assert_eq(r.status, 429, "%s", r.body);
    cr_assert_eq(r.retry_after, 1);
    free(r.body);
    cli_http_free(&h);
    cr_assert_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    cr_assert_eq(p[0].status, 200);
    cr_assert_eq(p[1].status, 200);
    for (int i = 0; i < 3; i++)
        free_batch(&b[i]);
    cli_collection_free(&c);
}

/* A failing transaction (here: the write lock held past the 5 s busy timeout) answers 503 with
 * Retry-After, stores nothing, turns /healthz to 503; the retry then succeeds in full. */
Test(http, store_failure_answers_503_and_the_retry_succeeds, .timeout = 60)
{
    start(30, 8u << 20, 1000000, NULL);
    cli_collection c;
    const uint64_t id = create_fetch(spec, &c);
    batch b = make_batch(&c, 50, 51, 0);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    char path[96], *body;
    snprintf(path, sizeof path, "/v1/collections/%llu/reports", (unsigned long long)id);
    cli_http h;
    cli_response r;
    cr_assert_eq(cli_http_init(&h, base, NULL), 0);
    cr_assert_eq(cli_http_request(&h, "POST", path, "application/octet-stream", b.buf, b.len, &r),
                 0);
    cr_assert_eq(r.status, 503, "%s", r.body);
    cr_assert_eq(r.retry_after, 1);
    cr_assert(strstr(r.body, "store-unavailable"), "%s", r.body);
    free(r.body);
    cli_http_free(&h);
    cr_assert_eq(req(NULL, "GET", "/healthz", NULL, NULL, 0, &body), 503);
    cr_assert(strstr(body, "store-failing"), "%s", body);
    free(body);
    cr_assert_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    json_t *o = post_batch(id, &b, 200);
    cr_assert_eq(json_integer_value(json_object_get(o, "accepted")), 50);
    json_decref(o);
    cr_assert_eq(req(NULL, "GET", "/healthz", NULL, NULL, 0, NULL), 200);
    free_batch(&b);
    cli_collection_free(&c);
}

Test(http, graceful_stop_keeps_everything_acknowledged)
{
    start(30, 8u << 20, 1000000, NULL);
    cli_collection c;
    batch b;
    const uint64_t id = posted(&c, &b, 500, 31);
    pinhole_server_stop(srv, 2);
    srv = NULL;
    pinhole_store *s;
    cr_assert_eq(pinhole_store_open(&s, dbpath, NULL), PINHOLE_OK);
    uint64_t n, problems;
    char msg[256];
    cr_assert_eq(pinhole_store_report_total(s, (int64_t)id, &n), PINHOLE_OK);
    cr_assert_eq(n, 500);
    cr_assert_eq(pinhole_store_check(s, &problems, msg, sizeof msg), PINHOLE_OK);
    cr_assert_eq(problems, 0, "%s", msg);
    pinhole_store_close(s);
    free_batch(&b);
    cli_collection_free(&c);
}

/* HTTP framing: one byte after a well-formed batch is malformed framing (400), not a batch too
 * large; HTTP/1.1 without Host is a 400; Content-Length with Transfer-Encoding is refused and the
 * connection closed, so a request smuggled behind it is never answered. Nothing is stored. */
Test(http, framing_errors_are_400_and_close)
{
    start(30, 8u << 20, 1000000, NULL);
    cli_collection c;
    const uint64_t id = create_fetch(spec, &c);
    batch b = make_batch(&c, 20, 5, 0);
    uint8_t *more = malloc(b.len + 1);
    memcpy(more, b.buf, b.len);
    more[b.len] = 0;
    char path[64], *body;
    snprintf(path, sizeof path, "/v1/collections/%llu/reports", (unsigned long long)id);
    cr_assert_eq(req(NULL, "POST", path, "application/octet-stream", more, b.len + 1, &body), 400,
                 "%s", body);
    cr_assert(strstr(body, "malformed-batch"), "%s", body);
    free(body);
    free(more);

    char buf[4096];
    cr_assert_gt(raw_exchange("GET /healthz HTTP/1.1\r\n\r\n", 25, buf, sizeof buf), 0);
    cr_assert(strncmp(buf, "HTTP/1.1 400", 12) == 0, "%s", buf);
    cr_assert(strstr(buf, "application/problem+json"), "%s", buf);

    /* what libmicrohttpd would answer with an HTML page: problem+json from the gate */
    const char *framing[][2] = {
        {"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", "HTTP/1.1 505"},
        {"POST /v1/collections/1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
         "HTTP/1.1 400"},
        {"POST /v1/collections/1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
         "Content-Length: 6\r\n\r\nhello",
         "HTTP/1.1 400"},
        {"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", "HTTP/1.1 400"},
        {"GET  HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400"},
    };
    for (size_t i = 0; i < sizeof framing / sizeof framing[0]; i++) {
        cr_assert_gt(raw_exchange(framing[i][0], strlen(framing[i][0]), buf, sizeof buf), 0, "%s",
                     framing[i][0]);
        cr_assert(strncmp(buf, framing[i][1], 12) == 0, "%s -> %s", framing[i][0], buf);
        cr_assert(strstr(buf, "application/problem+json"), "%s -> %s", framing[i][0], buf);
    }

    char smuggle[512];
    const int n = snprintf(smuggle, sizeof smuggle,
                           "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream"
                           "\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                           "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                           path);
    const long got = raw_exchange(smuggle, (size_t)n, buf, sizeof buf);
    cr_assert_gt(got, 0, "no answer, or the connection stayed open");
    cr_assert(strncmp(buf, "HTTP/1.1 400", 12) == 0, "%s", buf);
    cr_assert(strstr(buf, "application/problem+json"), "%s", buf);
    cr_assert_null(strstr(buf + 12, "HTTP/1.1"), "the request behind it was answered: %s", buf);

    cr_assert_eq(reports_of(id), 0);
    free_batch(&b);
    cli_collection_free(&c);
}

/* On one kept-alive connection: a good request, its answer read whole, then `bad`; the answer to
 * `bad` (up to the close, within 5 s) into buf. -1 when the connection stayed open. */
static long second_answer(const char *bad, size_t badlen, char *buf, size_t cap)
{
    const char *good = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    const int fd = raw_send(good, strlen(good));
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t got = 0, need = 0;
    while (!need || got < need) { /* the first answer: head, then Content-Length bytes */
        const ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);
        cr_assert_gt(n, 0, "the first answer did not come");
        got += (size_t)n;
        buf[got] = '\0';
        const char *end = strstr(buf, "\r\n\r\n"), *cl = strstr(buf, "Content-Length: ");
        if (end && cl)
            need = (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10);
    }
    cr_assert(strncmp(buf, "HTTP/1.1 200", 12) == 0, "%s", buf);
    cr_assert_eq(got, need, "more than the first answer came: %s", buf);
    size_t sent = 0; /* the server may close before taking it all */
    while (sent < badlen) {
        const ssize_t n = send(fd, bad + sent, badlen - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        sent += (size_t)n;
    }
    const long r = raw_drain(fd, 5, buf, cap);
    close(fd);
    return r;
}

/* Every framing error in a request after the first of a kept-alive connection (libmicrohttpd
 * reads those; it answers its own errors with HTML pages) is answered as problem+json and the
 * connection closed, a chunked body's broken framing (past the head) too. Shown failing against
 * the build that handed the connection to libmicrohttpd after its first head: 8 of these 16
 * answers were HTML pages (cases 0, 1, 6, 7, 9, 10, 12, 13), and a folded header line and 200
 * header fields were served (200); and against the relay that closed the connection without an
 * answer on broken chunked framing (case 15). */
Test(http, later_requests_on_a_connection_get_problem_json)
{
    check_every_request = 1;
    start(30, 8u << 20, 1000000, NULL);
    cr_assert_eq(create(spec), 1);
    char big[40000];
    const char *post = "POST /v1/collections/1/reports HTTP/1.1\r\nHost: x\r\n"
                       "Content-Type: application/octet-stream\r\n";
    static char cases[16][41000];
    size_t ncases = 0;
#define CASE(...) snprintf(cases[ncases++], sizeof cases[0], __VA_ARGS__)
    CASE("%sContent-Length: abc\r\n\r\n", post);
    CASE("%sContent-Length: 99999999999999999999\r\n\r\n", post);
    CASE("%sContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", post);
    CASE("%sContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", post);
    CASE("%sTransfer-Encoding: gzip\r\n\r\n", post);
    CASE("%sContent-Length: 99999999\r\n\r\n", post); /* over the body limit */
    CASE("GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n");
    CASE("GET /healthz HTTP/1.x\r\nHost: x\r\n\r\n");
    CASE("GET /healthz HTTP/1.1\r\n\r\n");
    CASE("GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
    CASE("GET  HTTP/1.1\r\nHost: x\r\n\r\n");
    CASE("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n");
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CASE("GET /healthz?%s HTTP/1.1\r\nHost: x\r\n\r\n", big);           /* a target too long */
    CASE("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", big); /* headers too large */
    char many[200 * 8 + 1] = "";
    for (int i = 0; i < 200; i++)
        strcat(many, "X-A: b\r\n");
    CASE("GET /healthz HTTP/1.1\r\nHost: x\r\n%s\r\n", many);
    CASE("%sTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", post);
#undef CASE
    static char buf[65536];
    for (size_t i = 0; i < ncases; i++) {
        const long got = second_answer(cases[i], strlen(cases[i]), buf, sizeof buf);
        char shown[81];
        snprintf(shown, sizeof shown, "%s", cases[i]);
        cr_assert_gt(got, 0, "case %zu (%s): no answer, or the connection stayed open", i, shown);
        cr_assert(strncmp(buf, "HTTP/1.1 4", 10) == 0 || strncmp(buf, "HTTP/1.1 5", 10) == 0,
                  "case %zu (%s): %s", i, shown, buf);
        cr_assert(strstr(buf, "Content-Type: application/problem+json"), "case %zu (%s): %s", i,
                  shown, buf);
        cr_assert(!strstr(buf, "<html") && !strstr(buf, "<HTML"), "case %zu (%s): %s", i, shown,
                  buf);
        const char *end = strstr(buf, "\r\n\r\n"), *cl = strstr(buf, "Content-Length: ");
        cr_assert(end && cl && end + 4 - buf + strtol(cl + 16, NULL, 10) == got,
                  "case %zu: not one answer: %s", i, buf);
    }
}

/* Pipelined: a bad head sent right behind good requests is answered after them, in its turn,
 * and nothing after it is answered. */
Test(http, a_refused_head_is_answered_in_its_turn)
{
    check_every_request = 1;
    start(30, 8u << 20, 1000000, NULL);
    const char *reqs = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /v1/keys HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"
                       "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    static char buf[16384];
    cr_assert_gt(raw_exchange(reqs, strlen(reqs), buf, sizeof buf), 0,
                 "no answer, or the connection stayed open");
    const char *second = strstr(buf + 12, "HTTP/1.1 ");
    const char *third = second ? strstr(second + 12, "HTTP/1.1 ") : NULL;
    cr_assert(strncmp(buf, "HTTP/1.1 200", 12) == 0, "%s", buf);
    cr_assert(second && strncmp(second, "HTTP/1.1 200", 12) == 0, "%s", buf);
    cr_assert(third && strncmp(third, "HTTP/1.1 400", 12) == 0, "%s", buf);
    cr_assert(strstr(third, "application/problem+json") && strstr(third, "Connection: close"), "%s",
              buf);
    cr_assert_null(strstr(third + 12, "HTTP/1.1 "), "the request after it was answered: %s", buf);
}

/* A chunked batch whose framing breaks after a whole well-formed batch arrived in its first chunk:
 * the batch before it on the connection is answered (200) and stored, then the broken one gets
 * 400 bad-request as problem+json with Connection: close, whether or not more bytes follow the
 * break, and none of its reports is stored. Shown failing against the relay that closed the
 * connection without an answer (no 400 came). */
Test(http, broken_chunked_framing_is_answered_and_stores_nothing)
{
    check_every_request = 1;
    start(30, 8u << 20, 1000000, NULL);
    cli_collection c;
    const uint64_t id = create_fetch(spec, &c);
    const char *breaks[] = {"\r\nZZ\r\n", "XX0\r\n\r\n", "\r\n0\r\nBad Trailer\r\n\r\n"};
    static char req_bytes[65536], buf[16384];
    for (size_t k = 0; k < 3; k++) {
        batch good = make_batch(&c, 10, 100 + k, 0), bad = make_batch(&c, 20, 200 + k, 0);
        size_t n = (size_t)snprintf(req_bytes, sizeof req_bytes,
                                    "POST /v1/collections/%llu/reports HTTP/1.1\r\nHost: x\r\n"
                                    "Content-Type: application/octet-stream\r\n"
                                    "Content-Length: %zu\r\n\r\n",
                                    (unsigned long long)id, good.len);
        memcpy(req_bytes + n, good.buf, good.len);
        n += good.len;
        n += (size_t)snprintf(req_bytes + n, sizeof req_bytes - n,
                              "POST /v1/collections/%llu/reports HTTP/1.1\r\nHost: x\r\n"
                              "Content-Type: application/octet-stream\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n%zx\r\n",
                              (unsigned long long)id, bad.len);
        memcpy(req_bytes + n, bad.buf, bad.len);
        n += bad.len;
        n += (size_t)snprintf(req_bytes + n, sizeof req_bytes - n, "%s%s", breaks[k],
                              k == 1 ? "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" : "");
        const long got = raw_exchange(req_bytes, n, buf, sizeof buf);
        cr_assert_gt(got, 0, "case %zu: no answer, or the connection stayed open", k);
        cr_assert(strncmp(buf, "HTTP/1.1 200", 12) == 0, "case %zu: %s", k, buf);
        const char *second = strstr(buf + 12, "HTTP/1.1 ");
        cr_assert(second && strncmp(second, "HTTP/1.1 400", 12) == 0, "case %zu: %s", k, buf);
        cr_assert(strstr(second, "Content-Type: application/problem+json") &&
                      strstr(second, "Connection: close") &&
                      strstr(second, "urn:pinhole:problem:bad-request"),
                  "case %zu: %s", k, buf);
        cr_assert_null(strstr(second + 12, "HTTP/1.1 "), "case %zu: more answers: %s", k, buf);
        free_batch(&good);
        free_batch(&bad);
    }
    cr_assert_eq(reports_of(id), 30, "only the three good batches");
    cli_collection_free(&c);
}

/* The body buffered for a connection: the server's gauge of reserved body bytes. */
static unsigned long long body_buffer_bytes(void)
{
    char *body;
    cr_assert_eq(req(NULL, "GET", "/metrics", NULL, NULL, 0, &body), 200);
    static const char name[] = "\npinhole_body_buffer_bytes ";
    const char *g = strstr(body, name);
    cr_assert_not_null(g);
    const unsigned long long v = strtoull(g + sizeof name - 1, NULL, 10);
    free(body);
    return v;
}

/* A report batch is decoded as it arrives: a connection holding an almost complete batch pins
 * only its reports' records (19 bytes each here, a report being 61 bytes on the wire) and the
 * bytes of malformed batches not at all. Bodies pin memory only up to the per-address bound:
 * past it a request is answered 429 (Retry-After, problem+json), and once the holder goes the
 * next is taken. */
Test(http, buffered_body_bytes_are_bounded)
{
    body_bytes_per_address = 100000;
    start(30, 8u << 20, 1000000, NULL);
    cli_collection c;
    const uint64_t id = create_fetch(spec, &c);
    cr_assert_eq(c.cfg.payload_bytes, 1);
    char path[64];
    snprintf(path, sizeof path, "/v1/collections/%llu/reports", (unsigned long long)id);
    /* 1 MB of garbage held open: refused at its first byte, nothing kept */
    char *zeros = calloc(1000000, 1);
    const int junk = raw_post(id, "Content-Length: 1000001\r\n", zeros, 1000000);
    free(zeros);
    /* 4,000 of a batch of 5,000 reports (244,008 bytes) held open */
    batch big = make_batch(&c, 5000, 3, 0);
    char length[64];
    snprintf(length, sizeof length, "Content-Length: %zu\r\n", big.len);
    const size_t sent = PINHOLE_BATCH_HEADERBYTES + 4000 * 61;
    const int holder = raw_post(id, length, big.buf, sent);
    unsigned long long pinned = 0;
    for (int i = 0; i < 50 && pinned < 4000 * 19; i++) { /* until the server has read it all */
        nanosleep(&(struct timespec){0, 100000000}, NULL);
        pinned = body_buffer_bytes();
    }
    cr_log_info("bytes pinned: %llu for %zu sent and %d garbage bytes", pinned, sent, 1000000);
    cr_assert_leq(pinned, 4096 * 19 + 61, "%llu bytes pinned", pinned); /* records + one report */
    cr_assert_geq(pinned, 4000 * 19, "%llu bytes pinned", pinned);
    /* a batch of 2,000 more would take the address past 100,000 bytes: 429 */
    batch b = make_batch(&c, 2000, 4, 0);
    char *body;
    cr_assert_eq(req(NULL, "POST", path, "application/octet-stream", b.buf, b.len, &body), 429);
    cr_assert(strstr(body, "busy"), "%s", body);
    free(body);
    close(holder);
    close(junk);
    nanosleep(&(struct timespec){0, 200000000}, NULL);
    cr_assert_eq(body_buffer_bytes(), 0);
    json_decref(post_batch(id, &b, 200)); /* the holder's bytes are given back */
    free_batch(&b);
    free_batch(&big);
    cli_collection_free(&c);
}

/* At the connection limit, the connection that has waited longest for its head is closed (408)
 * to let in one that sends its request at once; when every connection is past its head, /healthz
 * and /metrics are still answered (an operator must see the server under overload) and
 * everything else gets 503 with Retry-After. */
Test(http, limits_evict_idle_heads_and_serve_operations)
{
    connection_limit = 4;
    start(30, 8u << 20, 1000000, NULL);
    const uint64_t id = create(spec);
    int idle[4];
    for (int i = 0; i < 4; i++)
        idle[i] = raw_send("GET /healthz HTTP/1.1\r\n", 23); /* heads left incomplete */
    nanosleep(&(struct timespec){0, 100000000}, NULL);
    cr_assert_eq(req(NULL, "GET", "/v1/keys", NULL, NULL, 0, NULL), 200);
    char buf[1024];
    cr_assert_gt(raw_drain(idle[0], 2, buf, sizeof buf), 0, "the oldest was not closed");
    cr_assert(strncmp(buf, "HTTP/1.1 408", 12) == 0 && strstr(buf, "application/problem+json"),
              "%s", buf);
    for (int i = 0; i < 4; i++)
        close(idle[i]);
    nanosleep(&(struct timespec){0, 100000000}, NULL);

    int busy[4];
    for (int i = 0; i < 4; i++) /* past their heads: with the daemon, not evictable */
        busy[i] = raw_post(id, "Content-Length: 1000\r\n", "01234", 5);
    nanosleep(&(struct timespec){0, 100000000}, NULL);
    char *body;
    cr_assert_eq(req(NULL, "GET", "/healthz", NULL, NULL, 0, NULL), 200);
    cr_assert_eq(req(NULL, "GET", "/metrics", NULL, NULL, 0, &body), 200);
    cr_assert(strstr(body, "pinhole_connections_refused_total{reason=\"evicted\"} 1\n"), "%s",
              body);
    free(body);
    cr_assert_eq(req(NULL, "GET", "/v1/keys", NULL, NULL, 0, &body), 503);
    cr_assert(strstr(body, "too-many-connections"), "%s", body);
    free(body);
    for (int i = 0; i < 4; i++)
        close(busy[i]);
}

/* A body trickling in below min_body_rate is cut once head_timeout has passed. */
Test(http, slow_body_is_cut)
{
    head_timeout = 1;
    start(30, 8u << 20, 1000000, NULL);
    const uint64_t id = create(spec);
    const int fd = raw_post(id, "Content-Length: 100000\r\n", NULL, 0);
    const double t0 = pinhole_clock_mono();
    int cut = 0;
    for (int i = 0; i < 40 && !cut; i++) { /* 10 bytes every 0.1 s: 100 B/s, for up to 4 s */
        cut = send(fd, "0123456789", 10, MSG_NOSIGNAL) != 10;
        char b[64];
        struct timeval tv = {0, 100000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        const ssize_t r = recv(fd, b, sizeof b, 0);
        cut |= r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    }
    close(fd);
    cr_assert(cut, "a 100 B/s body was still being read after 4 s");
    cr_assert_lt(pinhole_clock_mono() - t0, 3.5);
}

/* A multi-attribute collection as one resource: POST /v1/collections with attributes makes the
 * pair collections and the parent; the parent lists its pairs and their config URLs, from which
 * the client library builds its devices (pinhole_multi_init_signed); devices report through
 * pinhole_multi_report to the pair collections; the parent's multi_attribute job gives exactly
 * the result of the same job naming the pairs at /v1/jobs; the parent survives a restart and
 * shares the collections' ids. */
Test(http, multi_attribute_collection_end_to_end)
{
    start(30, 8u << 20, 1000000, NULL);
    const char *mspec = "{\"name\": \"survey\", \"epsilon\": 2, \"min_reports\": 10, "
                        "\"attributes\": [{\"name\": \"smoker\", \"k\": 2, \"kind\": \"binary\"}, "
                        "{\"name\": \"age\", \"k\": 3}, {\"name\": \"income\", \"k\": 4, "
                        "\"labels\": [\"low\", \"mid\", \"high\", \"top\"]}]}";
    const uint64_t before = create("{\"epsilon\": 1, \"k\": 5}");
    const uint64_t parent = create(mspec);
    char path[96], *body;
    snprintf(path, sizeof path, "/v1/collections/%llu", (unsigned long long)parent);
    json_t *po = req_json("analyst-token", "GET", path, NULL, NULL, 0, 200);
    cr_assert_str_eq(json_string_value(json_object_get(po, "kind")), "multi_attribute");
    cr_assert_eq(json_integer_value(json_object_get(po, "d")), 3);
    const json_t *pairs = json_object_get(po, "pairs");
    cr_assert_eq(json_array_size(pairs), 3);
    const uint32_t K[3] = {2, 3, 4}, pj[3] = {0, 0, 1}, pl[3] = {1, 2, 2};
    uint64_t pid[3];
    uint8_t cfg[3][PINHOLE_CONFIG_SIGNEDBYTES];
    const uint8_t *cfgs[3] = {cfg[0], cfg[1], cfg[2]};
    for (int p = 0; p < 3; p++) {
        const json_t *pr = json_array_get(pairs, p);
        pid[p] = (uint64_t)json_integer_value(json_object_get(pr, "collection"));
        cr_assert_eq(pid[p], before + 1 + p, "the pairs are made first, the parent after");
        cr_assert_eq(json_integer_value(json_array_get(json_object_get(pr, "attributes"), 0)),
                     pj[p]);
        cr_assert_eq(json_integer_value(json_object_get(pr, "k")), K[pj[p]] * K[pl[p]]);
        size_t len;
        cr_assert_eq(get_bytes(json_string_value(json_object_get(pr, "config")), &body, &len), 200);
        cr_assert_eq(len, sizeof cfg[p]);
        memcpy(cfg[p], body, len);
        free(body);
    }
    cr_assert_eq(parent, before + 4);
    /* the server's signing key, then the devices' view of the collection */
    json_t *keys = req_json(NULL, "GET", "/v1/keys", NULL, NULL, 0, 200);
    uint8_t pk[PINHOLE_CONFIG_PUBLICKEYBYTES];
    cr_assert_eq(sodium_hex2bin(pk, sizeof pk,
                                json_string_value(json_object_get(keys, "config_signing_key")),
                                2 * sizeof pk, NULL, NULL, NULL),
                 0);
    json_decref(keys);
    pinhole_multi mc;
    cr_assert_eq(pinhole_multi_init_signed(&mc, 3, K, cfgs, pk), PINHOLE_OK);
    pinhole_client cl;
    cr_assert_eq(pinhole_client_init(&cl, NULL, NULL), PINHOLE_OK);
    enum { N = 3000 };
    batch b[3];
    pinhole_batch_writer w[3];
    for (int p = 0; p < 3; p++) {
        b[p].len = pinhole_batch_bytes(N, PINHOLE_REPORT_MAXBYTES);
        b[p].buf = malloc(b[p].len);
        b[p].payloads = NULL;
        cr_assert_eq(pinhole_batch_writer_init(&w[p], PINHOLE_BATCH_PLAIN, b[p].buf, b[p].len),
                     PINHOLE_OK);
    }
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 77);
    const uint64_t now = (uint64_t)pinhole_clock_wall();
    for (int i = 0; i < N; i++) {
        const uint32_t z = pinhole_rng_u32(&rng) % 4;
        const uint32_t x[3] = {z >= 2, z < 3 ? z : 2, (z + pinhole_rng_u32(&rng) % 2) % 4};
        uint8_t out[PINHOLE_REPORT_MAXBYTES];
        size_t len;
        uint32_t p;
        cr_assert_eq(pinhole_multi_report(&cl, &mc, x, now, 0, out, sizeof out, &len, &p),
                     PINHOLE_OK);
        cr_assert_eq(pinhole_batch_writer_add(&w[p], out, len), PINHOLE_OK);
    }
    for (int p = 0; p < 3; p++) {
        pinhole_batch_writer_finish(&w[p], &b[p].len);
        json_decref(post_batch(pid[p], &b[p], 200));
        free_batch(&b[p]);
    }
    pinhole_client_clear(&cl);
    pinhole_multi_clear(&mc);
    /* the parent is no collection of its own: no config, no reports */
    snprintf(path, sizeof path, "/v1/collections/%llu/config", (unsigned long long)parent);
    cr_assert_eq(req(NULL, "GET", path, NULL, NULL, 0, NULL), 404);
    /* its analysis: the multi_attribute job under it, the same as naming the pairs */
    snprintf(path, sizeof path, "/v1/collections/%llu/jobs", (unsigned long long)parent);
    const char *hist = "{\"type\": \"histogram\"}";
    cr_assert_eq(req("analyst-token", "POST", path, "application/json", hist, strlen(hist), NULL),
                 422);
    const char *named = "{\"type\": \"multi_attribute\", \"params\": {\"collections\": [1]}}";
    cr_assert_eq(req("analyst-token", "POST", path, "application/json", named, strlen(named), NULL),
                 422);
    const char *job = "{\"type\": \"multi_attribute\", \"params\": {\"repair\": {\"method\": "
                      "\"newton\", \"weighted\": false}}}";
    json_t *jo = req_json("analyst-token", "POST", path, "application/json", job, strlen(job), 202);
    cr_assert_eq(json_integer_value(json_object_get(jo, "collection_id")), (json_int_t)parent);
    json_t *r1 = job_result(json_integer_value(json_object_get(jo, "id")));
    json_decref(jo);
    json_t *direct = json_pack("{s:s, s:{s:O, s:[I,I,I], s:{s:s, s:b}}}", "type", "multi_attribute",
                               "params", "attributes", json_object_get(po, "attributes"),
                               "collections", (json_int_t)pid[0], (json_int_t)pid[1],
                               (json_int_t)pid[2], "repair", "method", "newton", "weighted", 0);
    char *dtext = json_dumps(direct, 0);
    json_decref(direct);
    jo = req_json("analyst-token", "POST", "/v1/jobs", "application/json", dtext, strlen(dtext),
                  202);
    free(dtext);
    json_t *r2 = job_result(json_integer_value(json_object_get(jo, "id")));
    json_decref(jo);
    cr_assert(json_equal(r1, r2), "the parent's job equals the job naming its pairs");
    cr_assert_eq(json_integer_value(json_object_get(r1, "reports")), N);
    cr_assert_not_null(json_object_get(json_object_get(r1, "repaired"), "matrix"));
    json_decref(r1);
    json_decref(r2);
    jo = req_json("analyst-token", "GET", path, NULL, NULL, 0, 200);
    cr_assert_eq(json_integer_value(json_object_get(jo, "total")), 1, "one job under the parent");
    json_decref(jo);
    /* bad attributes are refused, nothing made */
    const char *bad = "{\"epsilon\": 1, \"attributes\": [{\"k\": 1}]}";
    cr_assert_eq(
        req("admin-token", "POST", "/v1/collections", "application/json", bad, strlen(bad), NULL),
        422);
    const char *unk = "{\"epsilon\": 1, \"k\": 4, \"attributes\": [{\"k\": 2}]}";
    cr_assert_eq(
        req("admin-token", "POST", "/v1/collections", "application/json", unk, strlen(unk), NULL),
        400);
    /* after a restart: the parent is served, and the next collection's id follows it */
    pinhole_server_stop(srv, 2);
    srv = NULL;
    start(30, 8u << 20, 1000000, NULL);
    snprintf(path, sizeof path, "/v1/collections/%llu", (unsigned long long)parent);
    json_t *again = req_json("analyst-token", "GET", path, NULL, NULL, 0, 200);
    cr_assert_eq(json_integer_value(json_object_get(again, "reports")), N);
    const char *same[] = {"name", "created", "epsilon", "attributes"};
    for (int i = 0; i < 4; i++)
        cr_assert(json_equal(json_object_get(again, same[i]), json_object_get(po, same[i])), "%s",
                  same[i]);
    for (int p = 0; p < 3; p++)
        cr_assert_eq(json_integer_value(json_object_get(
                         json_array_get(json_object_get(again, "pairs"), p), "collection")),
                     (json_int_t)pid[p]);
    json_decref(again);
    json_decref(po);
    cr_assert_eq(create("{\"epsilon\": 1, \"k\": 5}"), parent + 1);
    jo = req_json("analyst-token", "GET", "/v1/collections", NULL, NULL, 0, 200);
    const json_t *ml = json_object_get(jo, "multi_attribute_collections");
    cr_assert_eq(json_array_size(ml), 1);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(ml, 0), "id")),
                 (json_int_t)parent);
    json_decref(jo);
}

/* A client that ends its side of the connection (shutdown SHUT_WR) right after its requests
 * still gets every answer: two pipelined batches of new reports (each waits for its commit), then
 * the end of the stream; both answered 200, both stored. Shown failing against the relay that
 * passed the end on at once (libmicrohttpd, polling, dropped the request it was answering: no
 * answer, the connection closed). */
Test(http, client_ending_its_side_gets_every_answer)
{
    start(30, 8u << 20, 1000000, NULL);
    cli_collection c;
    const uint64_t id = create_fetch(spec, &c);
    batch a = make_batch(&c, 5, 31, 0), b = make_batch(&c, 7, 32, 0);
    const int fd = raw_send("", 0);
    raw_post_batch(fd, id, &a);
    raw_post_batch(fd, id, &b);
    cr_assert_eq(shutdown(fd, SHUT_WR), 0);
    static char buf[8192];
    const long got = raw_drain(fd, 10, buf, sizeof buf);
    close(fd);
    cr_assert_gt(got, 0, "no answer, or the connection stayed open");
    const char *second = strstr(buf + 12, "HTTP/1.1 ");
    cr_assert(strncmp(buf, "HTTP/1.1 200", 12) == 0 && second &&
                  strncmp(second, "HTTP/1.1 200", 12) == 0,
              "%s", buf);
    cr_assert(strstr(buf, "\"accepted\":5") && strstr(second, "\"accepted\":7"), "%s", buf);
    cr_assert_eq(reports_of(id), 12);
    free_batch(&a);
    free_batch(&b);
    cli_collection_free(&c);
}

/* Keep-alive connections posting one new report at a time keep being answered: 48 connections
 * for 3 s, each sending its next report as soon as its answer came (every report waits for its
 * batch to commit: the connection is suspended and resumed). Every answer is 200; the longest
 * time without any answer stays under 1 s (a lost resume stalls every connection at once: with
 * libmicrohttpd's epoll behind the relay, 256 such connections stalled for seconds in about one
 * run in ten of 8 s under wrk), and the server stored exactly the reports it acknowledged. */
Test(http, keep_alive_single_reports_keep_flowing, .timeout = 60)
{
    start(30, 8u << 20, 1000000, NULL);
    cli_collection c;
    const uint64_t id = create_fetch(spec, &c);
    batch one = make_batch(&c, 1, 41, 0);
    enum { NC = 48 }; /* under the 64 connections allowed per address */
    const size_t id_at = PINHOLE_BATCH_HEADERBYTES + PINHOLE_BATCH_ITEMHEADERBYTES + 32;
    int fd[NC];
    size_t have[NC] = {0};
    static char in[NC][1024];
    uint64_t sent = 0, answered = 0;
    const double t0 = pinhole_clock_mono();
    double last = t0, gap = 0;
    for (int i = 0; i < NC; i++) {
        fd[i] = raw_send("", 0);
        memcpy(one.buf + id_at, &sent, sizeof sent); /* a fresh report id: a new report */
        sent++;
        raw_post_batch(fd[i], id, &one);
    }
    struct pollfd pf[NC];
    while (pinhole_clock_mono() - t0 < 3) {
        for (int i = 0; i < NC; i++)
            pf[i] = (struct pollfd){.fd = fd[i], .events = POLLIN};
        cr_assert_geq(poll(pf, NC, 50), 0);
        const double t = pinhole_clock_mono();
        for (int i = 0; i < NC; i++) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            const ssize_t n = recv(fd[i], in[i] + have[i], sizeof in[i] - 1 - have[i], 0);
            cr_assert_gt(n, 0, "connection %d closed after %llu answers", i,
                         (unsigned long long)answered);
            have[i] += (size_t)n;
            in[i][have[i]] = '\0';
            const char *end = strstr(in[i], "\r\n\r\n"), *cl = strstr(in[i], "Content-Length: ");
            if (!end || !cl || have[i] < (size_t)(end + 4 - in[i]) + strtoul(cl + 16, NULL, 10))
                continue; /* the answer is not complete yet */
            cr_assert(strncmp(in[i], "HTTP/1.1 200", 12) == 0, "%s", in[i]);
            have[i] = 0;
            answered++;
            gap = t - last > gap ? t - last : gap;
            last = t;
            memcpy(one.buf + id_at, &sent, sizeof sent);
            sent++;
            raw_post_batch(fd[i], id, &one);
        }
    }
    gap = pinhole_clock_mono() - last > gap ? pinhole_clock_mono() - last : gap;
    for (int i = 0; i < NC; i++)
        close(fd[i]);
    fprintf(stderr,
            "keep_alive_single_reports_keep_flowing: %llu answers in 3 s, longest time without one "
            "%.3f s\n",
            (unsigned long long)answered, gap);
    cr_assert_lt(gap, 1.0, "no answer for %.3f s (%llu answers)", gap,
                 (unsigned long long)answered);
    cr_assert_gt(answered, 200);
    /* the reports acknowledged (and those in flight when the clients left, which may or may not
     * have been stored) */
    const json_int_t stored = reports_of(id);
    cr_assert(stored >= (json_int_t)answered && stored <= (json_int_t)sent,
              "%lld stored, %llu answered, %llu sent", (long long)stored,
              (unsigned long long)answered, (unsigned long long)sent);
    free_batch(&one);
    cli_collection_free(&c);
}

/* Sockets open in this process (the test server runs in it). */
static int open_sockets(void)
{
    int n = 0;
    char path[64], target[64];
    for (int fd = 0; fd < 4096; fd++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        const ssize_t len = readlink(path, target, sizeof target - 1);
        n += len > 7 && strncmp(target, "socket:", 7) == 0;
    }
    return n;
}

/* A client that pipelines requests and never reads its answers is closed once it has taken none
 * of its answer bytes for connection_timeout (here 2 s), like any idle connection: it cannot hold
 * its connection (and the relay's buffers) forever: within 15 s the server holds none of its
 * sockets. (The stuck state this guards against, answers left in the relay's buffer with the
 * daemon's end closed, was shown with a script holding several such connections; this test also
 * passed with that deadline disabled: it guards the outcome, not that one deadline.) */
Test(http, client_that_never_reads_is_closed, .timeout = 60)
{
    start(2, 8u << 20, 1000000, NULL);
    const int before = open_sockets();
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    const int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(pinhole_server_port(srv))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    /* 1,000 answers of 22 kB each: more than the kernel's socket buffers take */
    static const char get[] = "GET /ui/app.js HTTP/1.1\r\nHost: x\r\n\r\n";
    enum { N = 1000 }; /* 38 kB of requests: read whole, no head left half-read */
    char *all = malloc(N * (sizeof get - 1));
    for (int i = 0; i < N; i++)
        memcpy(all + (size_t)i * (sizeof get - 1), get, sizeof get - 1);
    size_t sent = 0;
    const double t0 = pinhole_clock_mono();
    while (sent < N * (sizeof get - 1) && pinhole_clock_mono() - t0 < 4) {
        const ssize_t n =
            send(fd, all + sent, N * (sizeof get - 1) - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0)
            sent += (size_t)n;
        else if (errno == EAGAIN)
            poll(NULL, 0, 50);
        else
            break; /* the server may close it meanwhile */
    }
    free(all);
    /* the server holds the client's connection (its end and the socket pair to the daemon) ... */
    const double t1 = pinhole_clock_mono();
    int held = 0;
    while ((held = open_sockets() - before) < 4 && pinhole_clock_mono() - t1 < 5)
        poll(NULL, 0, 50);
    cr_assert_geq(held, 4, "the server never held the connection (%d sockets)", held);
    /* ... and gives it up within a few connection timeouts, although the client never read */
    int left = held;
    while ((left = open_sockets() - before) > 1 && pinhole_clock_mono() - t1 < 15)
        poll(NULL, 0, 250);
    close(fd);
    cr_assert_eq(left, 1, "the server still holds %d sockets of the connection after %.0f s",
                 left - 1, pinhole_clock_mono() - t1);
}
