/* Parsing of untrusted API input (collection specs, query parameters, bearer tokens) and rendering
 * of collections and histograms, with jansson. */
#include "server/http/api.h"
#include "common/error.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int fail(char *err, size_t errlen, int code, const char *fmt, const char *what)
{
    if (errlen)
        snprintf(err, errlen, fmt, what);
    return code;
}

void pinhole_collection_spec_free(pinhole_collection_spec *spec)
{
    if (spec->labels) {
        for (uint64_t v = 0; v < spec->params.k; v++)
            free(spec->labels[v]);
        free(spec->labels);
    }
    memset(spec, 0, sizeof *spec);
}

/* A JSON integer in [lo, hi]. */
static int json_u64(json_t *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (json_is_integer(v)) {
        const json_int_t x = json_integer_value(v);
        if (x < 0 || (uint64_t)x < lo || (uint64_t)x > hi)
            return -1;
        *out = (uint64_t)x;
        return 0;
    }
    return -1;
}

static int parse_labels(json_t *arr, pinhole_collection_spec *spec, char *err, size_t errlen)
{
    const size_t m = json_array_size(arr);
    if (m < 2 || m > (1u << 24))
        return fail(err, errlen, PINHOLE_EINVAL, "%s: between 2 and 16777216 labels", "labels");
    if (spec->params.k && spec->params.k != m)
        return fail(err, errlen, PINHOLE_EINVAL, "%s: their number differs from k", "labels");
    spec->labels = calloc(m, sizeof *spec->labels);
    if (!spec->labels)
        return PINHOLE_ENOMEM;
    spec->params.k = m; /* set now so that spec_free frees what was copied */
    for (size_t i = 0; i < m; i++) {
        json_t *l = json_array_get(arr, i);
        if (!json_is_string(l))
            return fail(err, errlen, PINHOLE_EFORMAT, "%s: every label must be a string", "labels");
        const size_t len = json_string_length(l);
        /* jansson guarantees UTF-8; a NUL inside would cut the label short, so refuse it */
        if (len > PINHOLE_LABEL_MAX || strlen(json_string_value(l)) != len)
            return fail(err, errlen, PINHOLE_EINVAL,
                        "%s: a label is longer than 1024 bytes or contains NUL", "labels");
        spec->labels[i] = strdup(json_string_value(l));
        if (!spec->labels[i])
            return PINHOLE_ENOMEM;
    }
    return PINHOLE_OK;
}

int pinhole_api_parse_collection(const char *body, size_t len,
                                 const pinhole_collection_window *window_default,
                                 pinhole_collection_spec *spec, char *err, size_t errlen)
{
    memset(spec, 0, sizeof *spec);
    strcpy(spec->name, "collection");
    spec->params.mechanism = PINHOLE_MECH_PGR;
    spec->time_precision = PINHOLE_DEFAULT_TIME_PRECISION;
    spec->min_reports = PINHOLE_DEFAULT_MIN_REPORTS;
    spec->window = (pinhole_collection_window){.max_report_age = PINHOLE_DEFAULT_MAX_REPORT_AGE,
                                               .max_clock_skew = PINHOLE_DEFAULT_MAX_CLOCK_SKEW};
    if (window_default)
        spec->window = *window_default;
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (errlen)
            snprintf(err, errlen, "body is not JSON: %s (line %d, column %d)", je.text, je.line,
                     je.column);
        return PINHOLE_EFORMAT;
    }
    int rc = PINHOLE_OK, have_eps = 0;
    json_t *labels = NULL;
    if (!json_is_object(root)) {
        rc = fail(err, errlen, PINHOLE_EFORMAT, "%s", "body must be a JSON object");
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        uint64_t x;
        /* A member of the wrong JSON type is a malformed request (400); a value of the right type
         * out of range is an invalid collection (422). */
        const int is = (strcmp(key, "name") == 0 || strcmp(key, "mechanism") == 0) ? 's'
                       : strcmp(key, "epsilon") == 0                               ? 'n'
                       : (strcmp(key, "k") == 0 || strcmp(key, "q") == 0 || strcmp(key, "t") == 0 ||
                          strcmp(key, "time_precision") == 0 || strcmp(key, "min_reports") == 0)
                           ? 'i'
                           : 0;
        if ((is == 's' && !json_is_string(v)) || (is == 'n' && !json_is_number(v)) ||
            (is == 'i' && !json_is_integer(v))) {
            rc = fail(err, errlen, PINHOLE_EFORMAT,
                      is == 's'   ? "%s: must be a JSON string"
                      : is == 'n' ? "%s: must be a JSON number"
                                  : "%s: must be a JSON integer",
                      key);
            goto out;
        }
        if (strcmp(key, "name") == 0) {
            if (!json_is_string(v) || json_string_length(v) > PINHOLE_COLLECTION_NAME_MAX ||
                strlen(json_string_value(v)) != json_string_length(v)) {
                rc = fail(err, errlen, PINHOLE_EINVAL, "%s: a string of at most 200 bytes", key);
                goto out;
            }
            strcpy(spec->name, json_string_value(v));
        } else if (strcmp(key, "mechanism") == 0) {
            const pinhole_mechanism_ops *ops =
                json_is_string(v) ? pinhole_mechanism_by_name(json_string_value(v)) : NULL;
            if (!ops) {
                rc = fail(err, errlen, PINHOLE_EINVAL, "%s: unknown mechanism", key);
                goto out;
            }
            spec->params.mechanism = ops->id;
        } else if (strcmp(key, "epsilon") == 0) {
            const double e = json_is_number(v) ? json_number_value(v) : NAN;
            if (!(e > 0) || !isfinite(e)) {
                rc = fail(err, errlen, PINHOLE_EINVAL, "%s: a finite number > 0", key);
                goto out;
            }
            spec->params.epsilon = e;
            have_eps = 1;
        } else if (strcmp(key, "k") == 0) {
            if (json_u64(v, 2, UINT64_C(1) << 40, &x) != 0) {
                rc = fail(err, errlen, PINHOLE_EINVAL, "%s: an integer from 2 to 2^40", key);
                goto out;
            }
            if (spec->params.k && spec->params.k != x) {
                rc =
                    fail(err, errlen, PINHOLE_EINVAL, "%s: differs from the number of labels", key);
                goto out;
            }
            spec->params.k = x;
        } else if (strcmp(key, "q") == 0 || strcmp(key, "t") == 0) {
            if (json_u64(v, 0, UINT32_MAX, &x) != 0) {
                rc = fail(err, errlen, PINHOLE_EINVAL, "%s: a non-negative 32-bit integer", key);
                goto out;
            }
            *(key[0] == 'q' ? &spec->params.q : &spec->params.t) = (uint32_t)x;
        } else if (strcmp(key, "time_precision") == 0) {
            if (json_u64(v, 1, UINT32_C(1) << 31, &x) != 0) {
                rc = fail(err, errlen, PINHOLE_EINVAL, "%s: seconds, from 1 to 2^31", key);
                goto out;
            }
            spec->time_precision = (uint32_t)x;
        } else if (strcmp(key, "min_reports") == 0) {
            if (json_u64(v, 0, UINT32_MAX, &x) != 0) {
                rc = fail(err, errlen, PINHOLE_EINVAL, "%s: an integer from 0 to 2^32 - 1", key);
                goto out;
            }
            spec->min_reports = (uint32_t)x;
        } else if (strcmp(key, "max_report_age") == 0 || strcmp(key, "max_clock_skew") == 0) {
            if (json_u64(v, 0, UINT32_MAX, &x) != 0) {
                rc = fail(err, errlen, PINHOLE_EINVAL, "%s: seconds, from 0 to 2^32 - 1", key);
                goto out;
            }
            *(key[4] == 'r' ? &spec->window.max_report_age : &spec->window.max_clock_skew) =
                (uint32_t)x;
        } else if (strcmp(key, "keep_reports") == 0) {
            if (!json_is_boolean(v)) {
                rc = fail(err, errlen, PINHOLE_EFORMAT, "%s: true or false", key);
                goto out;
            }
            spec->window.keep_reports = json_is_true(v);
        } else if (strcmp(key, "labels") == 0) {
            if (!json_is_array(v)) {
                rc = fail(err, errlen, PINHOLE_EFORMAT, "%s: an array of strings", key);
                goto out;
            }
            labels = v;
        } else {
            rc = fail(err, errlen, PINHOLE_EFORMAT, "unknown member \"%.100s\"", key);
            goto out;
        }
    }
    if (labels && (rc = parse_labels(labels, spec, err, errlen)) != PINHOLE_OK)
        goto out;
    if (!have_eps || spec->params.k < 2)
        rc = fail(err, errlen, PINHOLE_EINVAL, "%s", "epsilon and k (or labels) are required");
out:
    json_decref(root);
    if (rc != PINHOLE_OK)
        pinhole_collection_spec_free(spec);
    return rc;
}

json_t *pinhole_api_collection_json(const pinhole_server_collection *c, uint64_t reports,
                                    int with_labels)
{
    const pinhole_mechanism_ops *ops = pinhole_mechanism_find(c->params.mechanism);
    char fp[2 * PINHOLE_FINGERPRINT_BYTES + 1];
    sodium_bin2hex(fp, sizeof fp, c->fingerprint, PINHOLE_FINGERPRINT_BYTES);
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:I, s:b}",
        "id", (json_int_t)c->id, "name", c->name, "mechanism", ops ? ops->name : "?", "epsilon",
        c->params.epsilon, "epsilon_realized", c->cfg.epsilon_realized, "k",
        (json_int_t)c->params.k, "q", (json_int_t)c->params.q, "t", (json_int_t)c->params.t,
        "counts_len", (json_int_t)c->cfg.counts_len, "payload_bits",
        (json_int_t)c->cfg.payload_bits, "payload_bytes", (json_int_t)c->cfg.payload_bytes,
        "time_precision", (json_int_t)c->time_precision, "min_reports", (json_int_t)c->min_reports,
        "fingerprint", fp, "created", (json_int_t)c->created, "reports", (json_int_t)reports,
        "has_labels", c->label != NULL);
    if (o &&
        json_object_update_new(o, json_pack("{s:I, s:I, s:b}", "max_report_age",
                                            (json_int_t)c->window.max_report_age, "max_clock_skew",
                                            (json_int_t)c->window.max_clock_skew, "keep_reports",
                                            c->window.keep_reports)) != 0) {
        json_decref(o);
        return NULL;
    }
    if (o && with_labels && c->label) {
        json_t *arr = json_array();
        for (uint64_t v = 0; arr && v < c->params.k; v++)
            if (json_array_append_new(arr, json_string(c->label[v])) != 0) {
                json_decref(arr);
                arr = NULL;
            }
        if (!arr || json_object_set_new(o, "labels", arr) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static int parse_i64(const char *s, int64_t *out)
{
    if (!s || *s < '0' || *s > '9' || strlen(s) > 19)
        return -1;
    char *end;
    errno = 0;
    const long long x = strtoll(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || x < 0)
        return -1;
    *out = x;
    return 0;
}

int pinhole_api_parse_histogram_query(const char *from, const char *to, const char *top,
                                      const char *format, const char *consistency, const char *topk,
                                      pinhole_histogram_query *q, char *err, size_t errlen)
{
    memset(q, 0, sizeof *q);
    q->to = INT64_MAX;
    int64_t x;
    if (from) {
        if (parse_i64(from, &q->from) != 0)
            return fail(err, errlen, PINHOLE_EINVAL, "%s: Unix seconds, a non-negative integer",
                        "from");
        q->has_from = 1;
    }
    if (to) {
        if (parse_i64(to, &q->to) != 0)
            return fail(err, errlen, PINHOLE_EINVAL, "%s: Unix seconds, a non-negative integer",
                        "to");
        q->has_to = 1;
    }
    if (q->from >= q->to)
        return fail(err, errlen, PINHOLE_EINVAL, "%s: from must be before to", "from");
    if (top) {
        if (parse_i64(top, &x) != 0)
            return fail(err, errlen, PINHOLE_EINVAL, "%s: a non-negative integer", "top");
        q->top = (uint64_t)x;
    }
    if (format) {
        if (strcmp(format, "csv") == 0)
            q->csv = 1;
        else if (strcmp(format, "json") != 0)
            return fail(err, errlen, PINHOLE_EINVAL, "%s: json or csv", "format");
    }
    if (consistency) {
        if (strcmp(consistency, "project") == 0)
            q->consistency = PINHOLE_CONSISTENCY_PROJECT;
        else if (strcmp(consistency, "mle") == 0)
            q->consistency = PINHOLE_CONSISTENCY_MLE;
        else if (strcmp(consistency, "none") != 0)
            return fail(err, errlen, PINHOLE_EINVAL, "%s: none, project or mle", "consistency");
    }
    if (topk) {
        if (parse_i64(topk, &x) != 0)
            return fail(err, errlen, PINHOLE_EINVAL, "%s: a non-negative integer", "topk");
        q->topk = (uint64_t)x;
    }
    return PINHOLE_OK;
}

int pinhole_api_parse_histogram_select(const char *significant, const char *items,
                                       pinhole_histogram_query *q, char *err, size_t errlen)
{
    if (significant && pinhole_significance_parse(significant, &q->significance) != PINHOLE_OK)
        return fail(err, errlen, PINHOLE_EINVAL,
                    "%s: fdr:ALPHA (Benjamini-Hochberg) or bonferroni:ALPHA, 0 < ALPHA < 1",
                    "significant");
    if (items) {
        const char *s = items;
        q->n_items = 0;
        for (;;) {
            char num[24];
            size_t n = strcspn(s, ",");
            int64_t v;
            if (n == 0 || n >= sizeof num || q->n_items == PINHOLE_API_MAX_ITEMS)
                return fail(err, errlen, PINHOLE_EINVAL,
                            "%s: 1 to 100 item indices separated by commas", "items");
            memcpy(num, s, n);
            num[n] = '\0';
            if (parse_i64(num, &v) != 0)
                return fail(err, errlen, PINHOLE_EINVAL,
                            "%s: 1 to 100 item indices separated by commas", "items");
            q->items[q->n_items++] = (uint64_t)v;
            if (s[n] == '\0')
                break;
            s += n + 1;
        }
    }
    return PINHOLE_OK;
}

int pinhole_api_histogram_check(uint64_t k, const pinhole_histogram_query *q, char *err,
                                size_t errlen)
{
    if (q->topk > k)
        return fail(err, errlen, PINHOLE_EINVAL, "%s: at most k", "topk");
    for (uint32_t i = 0; i < q->n_items; i++)
        if (q->items[i] >= k)
            return fail(err, errlen, PINHOLE_EINVAL, "%s: every item must be below k", "items");
    return PINHOLE_OK;
}

void pinhole_api_significance_header(const pinhole_histogram *h, char *buf, size_t len)
{
    buf[0] = '\0';
    if (h->pass)
        snprintf(buf, len, "%s:%g; passed=%" PRIu64 "; tested=%" PRIu64,
                 pinhole_significance_name(h->significance.method), h->significance.alpha,
                 h->passed, h->k);
}

/* A growing text buffer for the CSV form. */
typedef struct text {
    char *p;
    size_t len, cap;
    int oom;
} text;

static void text_add(text *t, const char *s, size_t n)
{
    if (t->oom)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (t->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(t->p, cap);
        if (!p) {
            t->oom = 1;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

/* The rows of an answer: the items named with ?items= (in that order), else the items by
 * estimate that passed the significance test (all without one), at most top of them. rank[i] is
 * each row's 1-based rank by estimate. Both arrays malloc'd (NULL and 0 rows when out of memory).
 */
static uint64_t select_rows(const pinhole_histogram_query *q, const pinhole_histogram *h,
                            uint64_t **item, uint64_t **rank)
{
    const uint64_t k = h->k, max = q->n_items ? q->n_items : (q->top && q->top < k ? q->top : k);
    *item = malloc((max ? max : 1) * sizeof **item);
    *rank = malloc((max ? max : 1) * sizeof **rank);
    if (!*item || !*rank) {
        free(*item);
        free(*rank);
        *item = *rank = NULL;
        return 0;
    }
    uint64_t rows = 0;
    if (q->n_items) {
        for (uint32_t j = 0; j < q->n_items; j++)
            (*item)[j] = q->items[j];
        for (uint64_t i = 0; i < k; i++) /* ranks of the named items */
            for (uint32_t j = 0; j < q->n_items; j++)
                if ((*item)[j] == h->order[i])
                    (*rank)[j] = i + 1;
        return q->n_items;
    }
    for (uint64_t i = 0; i < k && rows < max; i++) {
        const uint64_t v = h->order[i];
        if (h->pass && !h->pass[v])
            continue;
        (*item)[rows] = v;
        (*rank)[rows++] = i + 1;
    }
    return rows;
}

static char *render_csv(const pinhole_server_collection *c, const pinhole_histogram *h, int final,
                        const uint64_t *item, const uint64_t *rank, uint64_t rows, size_t *len)
{
    text t = {0};
    static const char head[] = "rank,item,label,estimate,stderr,lower,upper,final";
    text_add(&t, head, sizeof head - 1);
    if (h->consistent)
        text_add(&t, ",consistent", 11);
    if (h->topk_prob)
        text_add(&t, ",topk_probability", 17);
    if (h->p_value)
        text_add(&t, ",p_value", 8);
    text_add(&t, "\n", 1);
    char line[200];
    for (uint64_t i = 0; i < rows; i++) {
        const uint64_t v = item[i];
        const double est = h->estimate[v], se = sqrt(h->variance[v]);
        int m = snprintf(line, sizeof line, "%" PRIu64 ",%" PRIu64 ",", rank[i], v);
        text_add(&t, line, (size_t)m);
        if (c->label) { /* RFC 4180 quoting: wrap in quotes, double the quotes inside */
            text_add(&t, "\"", 1);
            for (const char *s = c->label[v]; *s; s++) {
                if (*s == '"')
                    text_add(&t, "\"\"", 2);
                else
                    text_add(&t, s, 1);
            }
            text_add(&t, "\"", 1);
        }
        m = snprintf(line, sizeof line, ",%.17g,%.17g,%.17g,%.17g,%d", est, se,
                     est - PINHOLE_Z95 * se, est + PINHOLE_Z95 * se, final != 0);
        text_add(&t, line, (size_t)m);
        if (h->consistent) {
            m = snprintf(line, sizeof line, ",%.17g", h->consistent[v]);
            text_add(&t, line, (size_t)m);
        }
        if (h->topk_prob) {
            m = snprintf(line, sizeof line, ",%.17g", h->topk_prob[v]);
            text_add(&t, line, (size_t)m);
        }
        if (h->p_value) {
            m = snprintf(line, sizeof line, ",%.17g", h->p_value[v]);
            text_add(&t, line, (size_t)m);
        }
        text_add(&t, "\n", 1);
    }
    if (t.oom) {
        free(t.p);
        return NULL;
    }
    *len = t.len;
    return t.p;
}

static char *render_json(const pinhole_server_collection *c, const pinhole_histogram_query *q,
                         const pinhole_histogram *h, const uint64_t *item, const uint64_t *rank,
                         uint64_t rows, size_t *len)
{
    static const char *const cons_name[] = {"none", "project", "mle"};
    const uint64_t n = h->n;
    const pinhole_mechanism_ops *ops = pinhole_mechanism_find(c->params.mechanism);
    json_t *items = json_array();
    json_t *o = json_pack("{s:I, s:s, s:s, s:{s:f, s:f, s:I, s:I, s:I, s:I, s:I}, s:I, s:f}",
                          "collection", (json_int_t)c->id, "name", c->name, "mechanism",
                          ops ? ops->name : "?", "parameters", "epsilon", c->params.epsilon,
                          "epsilon_realized", c->cfg.epsilon_realized, "k", (json_int_t)c->params.k,
                          "q", (json_int_t)c->params.q, "t", (json_int_t)c->params.t, "counts_len",
                          (json_int_t)c->cfg.counts_len, "time_precision",
                          (json_int_t)c->time_precision, "n", (json_int_t)n, "confidence", 0.95);
    if (!o || !items)
        goto oom;
    json_object_set_new(json_object_get(o, "parameters"), "bits_per_report",
                        json_integer(c->cfg.payload_bits));
    json_object_set_new(o, "consistency", json_string(cons_name[q->consistency]));
    json_object_set_new(o, "topk", json_integer((json_int_t)q->topk));
    if (json_object_set_new(o, "from", q->has_from ? json_integer(q->from) : json_null()) ||
        json_object_set_new(o, "to", q->has_to ? json_integer(q->to) : json_null()) ||
        json_object_set_new(o, "closed_only", json_boolean(q->closed_only)) ||
        json_object_set_new(o, "closed_before", json_integer(q->closed_before)) ||
        json_object_set_new(o, "final", json_boolean(q->final)))
        goto oom;
    if (h->topk_prob &&
        (json_object_set_new(o, "topk_samples", json_integer((json_int_t)h->topk_samples)) ||
         json_object_set_new(o, "topk_stderr_max", json_real(0.5 / sqrt((double)h->topk_samples)))))
        goto oom;
    json_t *sig = pinhole_histogram_significance_json(h);
    if (sig && json_object_set_new(o, "significance", sig))
        goto oom;
    for (uint64_t i = 0; i < rows; i++) {
        const uint64_t v = item[i];
        json_t *it = pinhole_histogram_item_json(h, v, c->label ? c->label[v] : NULL);
        if (it && json_object_set_new(it, "rank", json_integer((json_int_t)rank[i]))) {
            json_decref(it);
            it = NULL;
        }
        if (!it || json_array_append_new(items, it) != 0)
            goto oom;
    }
    if (json_object_set_new(o, "items", items) != 0) {
        items = NULL;
        goto oom;
    }
    items = NULL;
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(o);
    if (s)
        *len = strlen(s);
    return s;
oom:
    json_decref(items);
    json_decref(o);
    return NULL;
}

char *pinhole_api_histogram_render(const pinhole_server_collection *c,
                                   const pinhole_histogram_query *q, const pinhole_histogram *h,
                                   size_t *len)
{
    uint64_t *item, *rank;
    const uint64_t rows = select_rows(q, h, &item, &rank);
    char *s = !item    ? NULL
              : q->csv ? render_csv(c, h, q->final, item, rank, rows, len)
                       : render_json(c, q, h, item, rank, rows, len);
    free(item);
    free(rank);
    return s;
}

int pinhole_api_bearer_token(const char *header, const char **tok, size_t *tok_len)
{
    if (!header || strncasecmp(header, "Bearer ", 7) != 0)
        return -1;
    const char *t = header + 7;
    while (*t == ' ')
        t++;
    size_t n = 0;
    while (t[n] > ' ' && t[n] < 127)
        n++;
    if (n == 0 || n > 256 || t[n] != '\0')
        return -1;
    *tok = t;
    *tok_len = n;
    return 0;
}

void pinhole_token_hash(const char *tok, size_t len, uint8_t out[PINHOLE_TOKEN_HASH_BYTES])
{
    static const unsigned char key[] = "pinhole bearer token v1";
    crypto_generichash(out, PINHOLE_TOKEN_HASH_BYTES, (const unsigned char *)tok, len, key,
                       sizeof key - 1);
}

int pinhole_token_hash_parse(const char *hex, uint8_t out[PINHOLE_TOKEN_HASH_BYTES])
{
    size_t bin_len = 0;
    if (strlen(hex) != 2 * PINHOLE_TOKEN_HASH_BYTES ||
        sodium_hex2bin(out, PINHOLE_TOKEN_HASH_BYTES, hex, strlen(hex), NULL, &bin_len, NULL) !=
            0 ||
        bin_len != PINHOLE_TOKEN_HASH_BYTES)
        return -1;
    return 0;
}
