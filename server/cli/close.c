/* `pinhole close`: close a collection's time buckets, so that their counts and estimates are final.
 */
#include "server/cli/cli.h"
#include "server/cli/cli_options.h"
#include "server/cli/http_client.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void close_usage(FILE *f)
{
    fprintf(f,
            "usage: pinhole close --url URL --collection ID --before T\n"
            "  Closes every time bucket of the collection that starts before T (Unix seconds; at\n"
            "  most the end of the bucket holding the server's clock): from then on the server\n"
            "  refuses reports of those buckets, so their counts, and every estimate over closed\n"
            "  buckets only (pinhole query --closed), are final. Closing earlier than the\n"
            "  collection's closed_before changes nothing. Prints the collection's closed_before\n"
            "  (the start of its first open bucket). The admin token comes from PINHOLE_TOKEN.\n");
}

int cli_close(int argc, char **argv)
{
    const char *url = NULL;
    uint64_t coll = 0, before = 0;
    int have_coll = 0, have_before = 0;
    const cli_opt opts[] = {
        CLI_OPT("url", CLI_OPT_STRING, &url),
        CLI_OPT("collection", CLI_OPT_U64, &coll, .given = &have_coll),
        CLI_OPT("before", CLI_OPT_U64, &before, .given = &have_before, .max = INT64_MAX),
        {0}};
    const cli_command cmd = {.name = "close", .opts = opts, .usage = close_usage};
    const int p = cli_parse(&cmd, argc, argv);
    if (p != 0)
        return p > 0 ? CLI_OK : CLI_USAGE;
    if (!url || !have_coll || !have_before) {
        fprintf(stderr, "pinhole close: --url, --collection and --before are required\n");
        return CLI_USAGE;
    }
    if (cli_http_global_init() != 0)
        return CLI_FAIL;
    cli_http h;
    if (cli_http_init(&h, url, getenv("PINHOLE_TOKEN")) != 0) {
        fprintf(stderr, "pinhole close: bad --url or token\n");
        return CLI_USAGE;
    }
    char path[64], body[64];
    snprintf(path, sizeof path, "/v1/collections/%" PRIu64 "/close", coll);
    snprintf(body, sizeof body, "{\"before\": %" PRIu64 "}", before);
    json_t *o = cli_http_json(&h, "pinhole close", "POST", path, body, 200);
    cli_http_free(&h);
    const json_t *cb = o ? json_object_get(o, "closed_before") : NULL;
    if (!json_is_integer(cb)) {
        if (o)
            fprintf(stderr, "pinhole close: the answer has no closed_before\n");
        json_decref(o);
        return CLI_FAIL;
    }
    printf("collection %" PRIu64 " (%s): closed_before = %" JSON_INTEGER_FORMAT
           " (its time buckets that start before it are closed; their counts are final)\n",
           coll, json_string_value(json_object_get(o, "name")), json_integer_value(cb));
    json_decref(o);
    return CLI_OK;
}
