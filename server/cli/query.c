/* `pinhole query`: fetch a collection's estimated histogram and print it as a table. */
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
    fprintf(f,
            "usage: pinhole query --url URL --collection ID [--top N] [--from T] [--to T]\n"
            "  Prints the top N items (default 20) by estimated count, with standard errors and\n"
            "  95%% intervals, from reports with times in [from, to) (Unix seconds).\n"
            "  The analyst token comes from PINHOLE_TOKEN.\n");
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
        fprintf(out, "%5zu  %-20.20s %12.0f %10.0f   [%11.0f, %11.0f]", i + 1, label ? label : num,
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
    const char *url = NULL;
    uint64_t coll = 0, top = 20, from = 0, to = 0;
    int have_coll = 0, have_from = 0, have_to = 0;
    const cli_opt opts[] = {CLI_OPT("url", CLI_OPT_STRING, &url),
                            CLI_OPT("collection", CLI_OPT_U64, &coll, .given = &have_coll),
                            CLI_OPT("top", CLI_OPT_U64, &top),
                            CLI_OPT("from", CLI_OPT_U64, &from, .given = &have_from),
                            CLI_OPT("to", CLI_OPT_U64, &to, .given = &have_to),
                            {0}};
    const cli_command cmd = {.name = "query", .opts = opts, .usage = query_usage};
    const int p = cli_parse(&cmd, argc, argv);
    if (p != 0)
        return p > 0 ? CLI_OK : CLI_USAGE;
    if (!url || !have_coll) {
        fprintf(stderr, "pinhole query: --url and --collection are required\n");
        return CLI_USAGE;
    }
    if (cli_http_global_init() != 0)
        return CLI_FAIL;
    cli_http h;
    if (cli_http_init(&h, url, getenv("PINHOLE_TOKEN")) != 0) {
        fprintf(stderr, "pinhole query: bad --url or token\n");
        return CLI_USAGE;
    }
    char path[256];
    int n = snprintf(path, sizeof path, "/v1/collections/%" PRIu64 "/histogram?top=%" PRIu64, coll,
                     top);
    if (have_from)
        n += snprintf(path + n, sizeof path - (size_t)n, "&from=%" PRIu64, from);
    if (have_to)
        snprintf(path + n, sizeof path - (size_t)n, "&to=%" PRIu64, to);
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
    rc = cli_print_histogram(r.body, stdout, NULL);
    free(r.body);
    return rc == 0 ? CLI_OK : CLI_FAIL;
}
