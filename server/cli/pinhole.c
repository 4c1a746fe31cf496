/* `pinhole`: plan parameters, simulate users end to end, submit reports, query histograms, close
 * time buckets, demo. */
#include "server/cli/cli.h"
#include "server/cli/cli_options.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: pinhole COMMAND [options]\n"
        "commands:\n"
        "  plan      --k K --epsilon E [--mechanism NAME|auto]\n"
        "                                    PGR parameter choices, and every mechanism compared\n"
        "  simulate  [--counts FILE] [--users N] [--epsilon E] [--seed S] [--top N]\n"
        "            [--mechanism NAME|auto]\n"
        "                                    users drawn from a count file, encoded and estimated\n"
        "  analyze   consistency|topk|stream [--in FILE | simulation options]\n"
        "                                    analytics modules on estimates or a simulation\n"
        "  analyze   maxcut|nearest-correlation|single-location|two-layer [options]\n"
        "                                    optimization and learning modules\n"
        "  encode    COLLECTION [VALUES]     values -> randomized reports (batches), as a device\n"
        "  inspect   [COLLECTION] FILE       decode and check a file of report batches\n"
        "  keygen                            new server key pairs (config signing, sealing)\n"
        "  sign-config COLLECTION --sign-key HEX   signed collection config for clients\n"
        "  submit    --url URL --collection ID (--users N | --reports FILE) ...\n"
        "                                    post reports to a server in batches, with retries\n"
        "  query     --url URL --collection ID [--top N]\n"
        "                                    print a collection's estimated histogram\n"
        "  close     --url URL --collection ID --before T\n"
        "                                    close time buckets: their estimates become final\n"
        "  demo      [--users N] [--epsilon E] start a server, post simulated devices' reports\n"
        "                                    over HTTP, query and print the top words\n"
        "Run 'pinhole COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "pinhole: libsodium failed to initialise\n");
        return CLI_FAIL;
    }
    static const cli_subcommand commands[] = {{"plan", cli_plan},
                                              {"simulate", cli_simulate},
                                              {"analyze", cli_analyze},
                                              {"encode", cli_encode},
                                              {"inspect", cli_inspect},
                                              {"keygen", cli_keygen},
                                              {"sign-config", cli_sign_config},
                                              {"submit", cli_submit},
                                              {"query", cli_query},
                                              {"close", cli_close},
                                              {"demo", cli_demo}};
    const int rc =
        cli_run_subcommand(commands, sizeof commands / sizeof commands[0], argc - 1, argv + 1);
    if (rc >= 0)
        return rc;
    fprintf(stderr, "pinhole: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
