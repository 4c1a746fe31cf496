/* `pinhole query` of a multi-attribute collection: its multi_attribute job run under it, then the
 * marginals, the pairwise joints and the correlation matrix before and after repair as tables. */
#include "server/cli/cli.h"
#include "server/cli/http_client.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double num(const json_t *a, size_t i)
{
    return json_number_value(json_array_get(a, i));
}

static void print_marginals(const json_t *res, FILE *out)
{
    const json_t *m;
    size_t j;
    fprintf(out, "\nmarginals (estimate, standard error, 95%% interval):\n");
    json_array_foreach(json_object_get(res, "marginals"), j, m)
    {
        const char *name = json_string_value(json_object_get(m, "name"));
        fprintf(out, "  attribute %zu%s%s%s\n", j, name ? " (" : "", name ? name : "",
                name ? ")" : "");
        const json_t *est = json_object_get(m, "estimate"), *se = json_object_get(m, "stderr"),
                     *lo = json_object_get(m, "lower"), *hi = json_object_get(m, "upper"),
                     *lab = json_object_get(m, "labels");
        for (size_t a = 0; a < json_array_size(est); a++) {
            char v[48];
            if (json_string_value(json_array_get(lab, a)))
                snprintf(v, sizeof v, "%.40s", json_string_value(json_array_get(lab, a)));
            else
                snprintf(v, sizeof v, "%zu", a);
            fprintf(out, "    %-16s %9.4f  %8.4f  [%8.4f, %8.4f]\n", v, num(est, a), num(se, a),
                    num(lo, a), num(hi, a));
        }
    }
}

static void print_matrix(const json_t *rows, FILE *out, const char *indent)
{
    const json_t *row;
    size_t i;
    json_array_foreach(rows, i, row)
    {
        fputs(indent, out);
        for (size_t c = 0; c < json_array_size(row); c++)
            fprintf(out, " %8.4f", num(row, c));
        fputc('\n', out);
    }
}

static void print_analysis(const json_t *parent, const json_t *res, FILE *out)
{
    fprintf(out,
            "multi-attribute collection %" JSON_INTEGER_FORMAT " (%s): d = %" JSON_INTEGER_FORMAT
            ", epsilon = %g, n = %" JSON_INTEGER_FORMAT " reports\n",
            json_integer_value(json_object_get(parent, "id")),
            json_string_value(json_object_get(parent, "name")),
            json_integer_value(json_object_get(res, "d")),
            json_number_value(json_object_get(res, "epsilon")),
            json_integer_value(json_object_get(res, "reports")));
    print_marginals(res, out);
    const json_t *t;
    size_t p;
    json_array_foreach(json_object_get(res, "joints"), p, t)
    {
        const json_t *at = json_object_get(t, "attributes");
        fprintf(out,
                "\njoint of attributes %" JSON_INTEGER_FORMAT " (rows) and %" JSON_INTEGER_FORMAT
                " (columns): collection %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT
                " reports, consistent with the marginals\n",
                json_integer_value(json_array_get(at, 0)),
                json_integer_value(json_array_get(at, 1)),
                json_integer_value(json_object_get(t, "collection")),
                json_integer_value(json_object_get(t, "reports")));
        print_matrix(json_object_get(t, "consistent"), out, "   ");
    }
    const json_t *c = json_object_get(res, "correlation"), *r = json_object_get(res, "repaired");
    if (c) {
        fprintf(out, "\ncorrelation matrix (attributes");
        const json_t *a;
        size_t i;
        json_array_foreach(json_object_get(c, "attributes"), i, a)
            fprintf(out, " %" JSON_INTEGER_FORMAT, json_integer_value(a));
        fprintf(out, "), estimate:\n");
        print_matrix(json_object_get(c, "estimate"), out, "   ");
        fprintf(out, "standard errors:\n");
        print_matrix(json_object_get(c, "stderr"), out, "   ");
    }
    if (r) {
        fprintf(out, "\nrepaired (nearest correlation matrix: %s%s, gap bound %.3g, %s):\n",
                json_string_value(json_object_get(r, "method")),
                json_is_true(json_object_get(r, "weighted")) ? ", weighted" : "",
                json_number_value(json_object_get(r, "gap_bound")),
                json_is_true(json_object_get(r, "certified")) ? "certified" : "NOT certified");
        print_matrix(json_object_get(r, "matrix"), out, "   ");
    }
}

int cli_query_multi(cli_http *h, const json_t *parent, int json_format, int have_from,
                    uint64_t from, int have_to, uint64_t to)
{
    char path[96], body[160];
    const json_int_t id = json_integer_value(json_object_get(parent, "id"));
    int n = snprintf(body, sizeof body, "{\"type\": \"multi_attribute\"");
    if (have_from)
        n += snprintf(body + n, sizeof body - (size_t)n, ", \"from\": %" PRIu64, from);
    if (have_to)
        n += snprintf(body + n, sizeof body - (size_t)n, ", \"to\": %" PRIu64, to);
    snprintf(body + n, sizeof body - (size_t)n, "}");
    snprintf(path, sizeof path, "/v1/collections/%" JSON_INTEGER_FORMAT "/jobs", id);
    json_t *job = cli_http_json(h, "pinhole query", "POST", path, body, 202);
    if (!job)
        return CLI_FAIL;
    snprintf(path, sizeof path, "/v1/jobs/%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(job, "id")));
    json_decref(job);
    for (;;) { /* the job runs on the server: poll every 100 ms */
        job = cli_http_json(h, "pinhole query", "GET", path, NULL, 200);
        const char *st = job ? json_string_value(json_object_get(job, "status")) : NULL;
        if (!st || (strcmp(st, "queued") && strcmp(st, "running")))
            break;
        json_decref(job);
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
    if (!job)
        return CLI_FAIL;
    const json_t *res = json_object_get(job, "result");
    if (!res) {
        fprintf(stderr, "pinhole query: the analysis %s: %s\n",
                json_string_value(json_object_get(job, "status")),
                json_string_value(json_object_get(job, "error"))
                    ? json_string_value(json_object_get(job, "error"))
                    : "no result");
        json_decref(job);
        return CLI_FAIL;
    }
    if (json_format) {
        json_dumpf(res, stdout, JSON_COMPACT);
        fputc('\n', stdout);
    } else {
        print_analysis(parent, res, stdout);
    }
    json_decref(job);
    return CLI_OK;
}
