/* `pinhole query`: fetch a collection's estimated histogram, or a discovery collection's
 * discovered strings, and print it as a table, CSV or JSON. */
#include "server/cli/cli.h"
#include "server/cli/cli_options.h"
#include "server/cli/http_client.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void query_usage(FILE *f)
{
    fprintf(
        f,
        "usage: pinhole query --url URL --collection ID [--top N] [--from T] [--to T] [--closed]\n"
        "                     [--significant fdr:ALPHA|bonferroni:ALPHA] [--format F]\n"
        "  Prints the top N items (default 20) by estimated count, with standard errors and\n"
        "  95%% intervals, from reports with times in [from, to) (Unix seconds), and whether the\n"
        "  estimate is final (every time bucket summed closed: pinhole close) or may change.\n"
        "  --closed       only the closed time buckets of that range (a final estimate)\n"
        "  --significant  only the items whose test of count = 0 passes across all k items:\n"
        "                 fdr:ALPHA (Benjamini-Hochberg) or bonferroni:ALPHA (docs/analytics.md)\n"
        "  --format F     table (default), csv (a final column: 1 or 0) or json (the server's\n"
        "                 answer as is)\n"
        "  Of a multi-attribute collection: its analysis (the multi_attribute job run under it):\n"
        "  marginals, pairwise joints, correlation matrix before and after repair, as tables\n"
        "  or (--format json) the job's result.\n"
        "usage: pinhole query --url URL --discovery ID [--format F]\n"
        "  A discovery collection: its rounds and, once its final round closed, the strings it\n"
        "  discovered with estimated count, standard error and 95%% interval.\n"
        "  The analyst token comes from PINHOLE_TOKEN.\n");
}

/* A discovery collection's answer (GET /v1/discoveries/{id}) as a table or CSV. */
static int print_discovery(const char *text, FILE *out, int csv)
{
    json_t *o = json_loads(text, 0, NULL);
    const json_t *log = o ? json_object_get(o, "log") : NULL;
    if (!json_is_array(log)) {
        fprintf(stderr, "pinhole: the discovery answer is not what was expected\n");
        json_decref(o);
        return -1;
    }
    const json_t *res = json_object_get(o, "results");
    size_t i;
    const json_t *x;
    if (csv) {
        fputs("string,estimate,stderr,low,high,significant\n", out);
        json_array_foreach(res, i, x)
        {
            fputc('"', out);
            for (const char *c = json_string_value(json_object_get(x, "string")); c && *c; c++)
                fprintf(out, *c == '"' ? "\"\"" : "%c", *c);
            fprintf(out, "\",%.17g,%.17g,%.17g,%.17g,%d\n",
                    json_number_value(json_object_get(x, "estimate")),
                    json_number_value(json_object_get(x, "stderr")),
                    json_number_value(json_object_get(x, "low")),
                    json_number_value(json_object_get(x, "high")),
                    json_is_true(json_object_get(x, "significant")));
        }
        json_decref(o);
        return 0;
    }
    fprintf(
        out,
        "discovery collection %" JSON_INTEGER_FORMAT " (%s): epsilon = %g, %" JSON_INTEGER_FORMAT
        " devices planned, %" JSON_INTEGER_FORMAT " extension rounds + final\n",
        json_integer_value(json_object_get(o, "id")), json_string_value(json_object_get(o, "name")),
        json_number_value(json_object_get(o, "epsilon")),
        json_integer_value(json_object_get(o, "devices")),
        json_integer_value(json_object_get(o, "rounds")));
    json_array_foreach(log, i, x)
        fprintf(out,
                "  round %" JSON_INTEGER_FORMAT " (%s): %" JSON_INTEGER_FORMAT
                " candidates, %" JSON_INTEGER_FORMAT " reports, kept %" JSON_INTEGER_FORMAT
                ", complete %" JSON_INTEGER_FORMAT "\n",
                json_integer_value(json_object_get(x, "round")),
                json_string_value(json_object_get(x, "kind")),
                json_integer_value(json_object_get(x, "candidates")),
                json_integer_value(json_object_get(x, "devices")),
                json_integer_value(json_object_get(x, "kept")),
                json_integer_value(json_object_get(x, "complete")));
    if (!json_is_true(json_object_get(o, "done"))) {
        fprintf(out,
                "round %" JSON_INTEGER_FORMAT " open (collection %" JSON_INTEGER_FORMAT
                "): %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT " reports; no results yet\n",
                json_integer_value(json_object_get(o, "open_round")),
                json_integer_value(json_object_get(o, "open_round_collection")),
                json_integer_value(json_object_get(o, "open_round_reports")),
                json_integer_value(json_object_get(o, "open_round_wanted")));
        json_decref(o);
        return 0;
    }
    fprintf(out, "\n%5s  %-32s %12s %10s %27s  %s\n", "rank", "string", "estimate", "std. err.",
            "95% interval", "significant");
    json_array_foreach(res, i, x) fprintf(
        out, "%5zu  %-32s %12.0f %10.0f   [%11.0f, %11.0f]  %s\n", i + 1,
        json_string_value(json_object_get(x, "string")),
        json_number_value(json_object_get(x, "estimate")),
        json_number_value(json_object_get(x, "stderr")),
        json_number_value(json_object_get(x, "low")), json_number_value(json_object_get(x, "high")),
        json_is_true(json_object_get(x, "significant")) ? "yes" : "no");
    json_decref(o);
    return 0;
}

int cli_print_histogram(const char *json, FILE *out, const uint64_t *truth)
{
    json_error_t je;
    json_t *o = json_loads(json, 0, &je);
    json_t *items = o ? json_object_get(o, "items") : NULL;
    json_t *par = o ? json_object_get(o, "parameters") : NULL;
    if (!json_is_array(items) || !json_is_object(par)) {
        fprintf(stderr, "pinhole: the histogram answer is not what was expected\n");
        json_decref(o);
        return -1;
    }
    fprintf(out,
            "collection %" JSON_INTEGER_FORMAT " (%s): %s, epsilon = %g, k = %" JSON_INTEGER_FORMAT
            ", q = %" JSON_INTEGER_FORMAT ", t = %" JSON_INTEGER_FORMAT
            "; n = %" JSON_INTEGER_FORMAT " reports\n",
            json_integer_value(json_object_get(o, "collection")),
            json_string_value(json_object_get(o, "name")),
            json_string_value(json_object_get(o, "mechanism")),
            json_number_value(json_object_get(par, "epsilon")),
            json_integer_value(json_object_get(par, "k")),
            json_integer_value(json_object_get(par, "q")),
            json_integer_value(json_object_get(par, "t")),
            json_integer_value(json_object_get(o, "n")));
    const json_t *closed = json_object_get(o, "closed_before");
    if (json_integer_value(closed) > 0 || json_is_true(json_object_get(o, "closed_only")))
        fprintf(
            out,
            json_is_true(json_object_get(o, "final"))
                ? "final: every time bucket summed is closed (closed_before = %" JSON_INTEGER_FORMAT
                  ")\n"
                : "not final: open time buckets summed, the estimate may change (closed_before "
                  "= %" JSON_INTEGER_FORMAT ")\n",
            json_integer_value(closed));
    const json_t *sig = json_object_get(o, "significance");
    if (json_is_object(sig))
        fprintf(out,
                "significance: %s at %g: %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
                " items passed (one-sided z-test of count = 0)\n",
                strcmp(json_string_value(json_object_get(sig, "method")), "fdr") == 0
                    ? "false discovery rate (Benjamini-Hochberg)"
                    : "family-wise error rate (Bonferroni)",
                json_number_value(json_object_get(sig, "alpha")),
                json_integer_value(json_object_get(sig, "passed")),
                json_integer_value(json_object_get(sig, "tested")));
    fprintf(out, "\n%5s  %-20s %12s %10s %27s%s\n", "rank", "item", "estimate", "std. err.",
            "95% interval", truth ? "   true count" : "");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const json_int_t v = json_integer_value(json_object_get(it, "item"));
        const char *label = json_string_value(json_object_get(it, "label"));
        char num[32];
        snprintf(num, sizeof num, "#%" JSON_INTEGER_FORMAT, v);
        const json_t *rank = json_object_get(it, "rank");
        fprintf(out, "%5" JSON_INTEGER_FORMAT "  %-20.20s %12.0f %10.0f   [%11.0f, %11.0f]",
                rank ? json_integer_value(rank) : (json_int_t)i + 1, label ? label : num,
                json_number_value(json_object_get(it, "estimate")),
                json_number_value(json_object_get(it, "stderr")),
                json_number_value(json_object_get(it, "lower")),
                json_number_value(json_object_get(it, "upper")));
        if (truth)
            fprintf(out, " %12" PRIu64, truth[v]);
        fputc('\n', out);
    }
    json_decref(o);
    return 0;
}

int cli_query(int argc, char **argv)
{
    const char *url = NULL, *sig = NULL, *format = "table";
    uint64_t coll = 0, top = 20, from = 0, to = 0, disc = 0;
    int have_coll = 0, have_from = 0, have_to = 0, have_disc = 0, closed = 0;
    const cli_opt opts[] = {CLI_OPT("url", CLI_OPT_STRING, &url),
                            CLI_OPT("collection", CLI_OPT_U64, &coll, .given = &have_coll),
                            CLI_OPT("discovery", CLI_OPT_U64, &disc, .given = &have_disc),
                            CLI_OPT("top", CLI_OPT_U64, &top),
                            CLI_OPT("from", CLI_OPT_U64, &from, .given = &have_from),
                            CLI_OPT("to", CLI_OPT_U64, &to, .given = &have_to),
                            CLI_OPT("closed", CLI_OPT_FLAG, &closed),
                            CLI_OPT("significant", CLI_OPT_STRING, &sig),
                            CLI_OPT("format", CLI_OPT_STRING, &format),
                            {0}};
    const cli_command cmd = {.name = "query", .opts = opts, .usage = query_usage};
    const int p = cli_parse(&cmd, argc, argv);
    if (p != 0)
        return p > 0 ? CLI_OK : CLI_USAGE;
    if (!url || have_coll == have_disc) {
        fprintf(stderr,
                "pinhole query: --url and one of --collection and --discovery are required\n");
        return CLI_USAGE;
    }
    if (have_disc && (have_from || have_to || sig || closed)) {
        fprintf(stderr,
                "pinhole query: --from, --to, --closed and --significant are for --collection\n");
        return CLI_USAGE;
    }
    const int csv = strcmp(format, "csv") == 0, json = strcmp(format, "json") == 0;
    if (!csv && !json && strcmp(format, "table") != 0) {
        fprintf(stderr, "pinhole query: --format: table, csv or json (got '%s')\n", format);
        return CLI_USAGE;
    }
    if (sig && (strspn(sig, "abcdefghijklmnopqrstuvwxyz:.0123456789eE-") != strlen(sig) ||
                !strchr(sig, ':'))) {
        fprintf(stderr,
                "pinhole query: --significant: fdr:ALPHA or bonferroni:ALPHA, 0 < ALPHA "
                "< 1 (got '%s')\n",
                sig);
        return CLI_USAGE;
    }
    if (cli_http_global_init() != 0)
        return CLI_FAIL;
    cli_http h;
    if (cli_http_init(&h, url, getenv("PINHOLE_TOKEN")) != 0) {
        fprintf(stderr, "pinhole query: bad --url or token\n");
        return CLI_USAGE;
    }
    char path[384];
    cli_response d = {0};
    snprintf(path, sizeof path, "/v1/collections/%" PRIu64, coll);
    if (!have_disc && cli_http_request(&h, "GET", path, NULL, NULL, 0, &d) == 0 &&
        d.status == 200) {
        json_t *parent = json_loads(d.body, 0, NULL);
        const char *kind = json_string_value(json_object_get(parent, "kind"));
        if (kind && strcmp(kind, "multi_attribute") == 0) {
            free(d.body);
            int rc = CLI_USAGE;
            if (csv || sig || closed)
                fprintf(stderr, "pinhole query: a multi-attribute collection is printed as "
                                "tables or JSON (no --format csv, --significant or --closed)\n");
            else
                rc = cli_query_multi(&h, parent, json, have_from, from, have_to, to);
            json_decref(parent);
            cli_http_free(&h);
            return rc;
        }
        json_decref(parent);
    }
    free(d.body);
    int n = have_disc ? snprintf(path, sizeof path, "/v1/discoveries/%" PRIu64, disc)
                      : snprintf(path, sizeof path,
                                 "/v1/collections/%" PRIu64 "/histogram?top=%" PRIu64, coll, top);
    if (have_from)
        n += snprintf(path + n, sizeof path - (size_t)n, "&from=%" PRIu64, from);
    if (have_to)
        n += snprintf(path + n, sizeof path - (size_t)n, "&to=%" PRIu64, to);
    if (sig)
        n += snprintf(path + n, sizeof path - (size_t)n, "&significant=%.64s", sig);
    if (closed)
        n += snprintf(path + n, sizeof path - (size_t)n, "&closed=true");
    if (csv && !have_disc)
        snprintf(path + n, sizeof path - (size_t)n, "&format=csv");
    cli_response r;
    int rc = cli_http_request(&h, "GET", path, NULL, NULL, 0, &r);
    cli_http_free(&h);
    if (rc != 0) {
        fprintf(stderr, "pinhole query: %s\n", r.error);
        return CLI_FAIL;
    }
    if (r.status != 200) {
        json_t *p = json_loads(r.body, 0, NULL);
        fprintf(stderr, "pinhole query: HTTP %ld: %s\n", r.status,
                p && json_string_value(json_object_get(p, "detail"))
                    ? json_string_value(json_object_get(p, "detail"))
                    : r.body);
        json_decref(p);
        free(r.body);
        return CLI_FAIL;
    }
    if (have_disc && !json) {
        rc = print_discovery(r.body, stdout, csv);
    } else if (csv || json) { /* the server's answer as is (CSV ends with a newline, JSON does
                                 not) */
        fputs(r.body, stdout);
        if (json)
            fputc('\n', stdout);
        rc = 0;
    } else {
        rc = cli_print_histogram(r.body, stdout, NULL);
    }
    free(r.body);
    return rc == 0 ? CLI_OK : CLI_FAIL;
}
