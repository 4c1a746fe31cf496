/* `pinhole simulate --discover`: a discovery collection simulated over a word-count file. Devices
 * hold words drawn from the file; the server is given no dictionary, grows candidate prefixes over
 * signed rounds, and prints the strings it discovered with estimate, 95% interval and true count.
 */
#include "common/error.h"
#include "server/analytics/discovery_sim.h"
#include "server/analytics/histogram.h"
#include "server/cli/cli.h"
#include "server/cli/cli_options.h"
#include "server/data/countfile.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f, int wire)
{
    if (wire)
        fprintf(
            f,
            "pinhole demo --discover: the discovery protocol end to end, in this process (the\n"
            "server's version: /v1/discoveries, docs/discovery.md): each round config is signed\n"
            "with a fresh server key and verified by the devices' code, each device reports with\n"
            "pinhole_discovery_report(), the server decodes, checks and folds every report.\n"
            "Same options as:\n");
    fprintf(f,
            "usage: pinhole simulate --discover [--counts FILE] [--devices N] [--epsilon E]\n"
            "                        [--seed S] [--top N] [--method M] [--depth D] [--final F]\n"
            "                        [--keep B]\n"
            "  --counts FILE  label<TAB>count lines: the devices' strings and their weights\n"
            "                 (default: the SUBTLEX-US words shipped in data/)\n"
            "  --devices N    simulated devices, each reporting once (default 1000000)\n"
            "  --epsilon E    epsilon of every round = each device's epsilon (default 4)\n"
            "  --seed S       seed of the simulation's randomness (default: fresh, printed)\n"
            "  --top N        discovered strings printed, and the top-N scored (default 20)\n"
            "  --method M     pgr (default), grr or olh: the rounds' frequency oracle; pem: the\n"
            "                 Prefix Extending Method baseline; closed: PGR over the true\n"
            "                 dictionary (an upper bound: the server is given every word)\n"
            "  --depth D      longest string the rounds complete, bytes (default 8; pem <= 8)\n"
            "  --final F      share of devices in the final round (default 0.4)\n"
            "  --keep B       prefixes kept per round (default 256)\n");
}

static void usage_simulate(FILE *f)
{
    usage(f, 0);
}

static void usage_demo(FILE *f)
{
    usage(f, 1);
}

static int discover_main(int argc, char **argv, int wire)
{
    const char *cmd = wire ? "pinhole demo --discover" : "pinhole simulate --discover";
    const char *path = cli_default_counts(), *method = "pgr";
    uint64_t devices = 1000000, seed = 0, top = 20, depth = 8, keep = 0;
    double eps = 4, final_fraction = 0;
    int have_seed = 0;
    const cli_opt opts[] = {
        CLI_OPT("counts", CLI_OPT_STRING, &path),
        CLI_OPT("devices", CLI_OPT_U64, &devices, .min = 2, .max = UINT64_C(1000000000)),
        CLI_OPT("epsilon", CLI_OPT_EPSILON, &eps),
        CLI_OPT("seed", CLI_OPT_U64, &seed, .given = &have_seed),
        CLI_OPT("top", CLI_OPT_U64, &top, .min = 1),
        CLI_OPT("method", CLI_OPT_STRING, &method),
        CLI_OPT("depth", CLI_OPT_U64, &depth, .min = 1, .max = PINHOLE_DISCOVERY_MAXLEN,
                .why = "the longest device string"),
        CLI_OPT("final", CLI_OPT_DOUBLE, &final_fraction),
        CLI_OPT("keep", CLI_OPT_U64, &keep, .max = PINHOLE_DISCOVERY_CANDMAX),
        {0}};
    const cli_command command = {.name = wire ? "demo --discover" : "simulate --discover",
                                 .opts = opts,
                                 .usage = wire ? usage_demo : usage_simulate};
    const int parsed = cli_parse(&command, argc, argv);
    if (parsed != 0)
        return parsed > 0 ? CLI_OK : CLI_USAGE;
    pinhole_dsim_params p = {.rounds = {.epsilon = eps, .devices = devices}};
    if (strcmp(method, "pgr") == 0 || strcmp(method, "grr") == 0 || strcmp(method, "olh") == 0) {
        p.method = PINHOLE_DSIM_ROUNDS;
        p.rounds.oracle = pinhole_mechanism_by_name(method)->id;
    } else if (strcmp(method, "pem") == 0)
        p.method = PINHOLE_DSIM_PEM;
    else if (strcmp(method, "closed") == 0)
        p.method = PINHOLE_DSIM_CLOSED;
    else {
        fprintf(stderr, "%s: --method must be pgr, grr, olh, pem or closed\n", cmd);
        return CLI_USAGE;
    }
    if (final_fraction != 0 && !(final_fraction > 0 && final_fraction < 1)) {
        fprintf(stderr, "%s: --final must be between 0 and 1 (exclusive), got %g\n", cmd,
                final_fraction);
        return CLI_USAGE;
    }
    p.rounds.depth = (uint32_t)depth;
    p.rounds.keep = (uint32_t)keep;
    p.rounds.final_fraction = final_fraction;
    if (!have_seed)
        randombytes_buf(&seed, sizeof seed);
    p.seed = seed;
    if (wire && p.method != PINHOLE_DSIM_ROUNDS) {
        fprintf(stderr, "%s: --method must be pgr, grr or olh (the baselines have no wire form)\n",
                cmd);
        return CLI_USAGE;
    }
    p.wire = wire;

    pinhole_countfile cf;
    uint64_t bad_line;
    int rc = pinhole_countfile_read(path, &cf, &bad_line);
    if (rc != PINHOLE_OK) {
        if (rc == PINHOLE_EIO)
            fprintf(stderr, "%s: cannot read %s\n", cmd, path);
        else if (bad_line)
            fprintf(stderr, "%s: %s:%llu: %s (expected label<TAB>count)\n", cmd, path,
                    (unsigned long long)bad_line, pinhole_strerror(rc));
        else
            fprintf(stderr, "%s: %s: %s\n", cmd, path, pinhole_strerror(rc));
        return CLI_FAIL;
    }
    printf("discovery: %s, %llu devices (each in one round), epsilon %g, seed %llu\n", method,
           (unsigned long long)devices, eps, (unsigned long long)seed);
    printf("data: %s (%llu words; the server is not given them)\n", path, (unsigned long long)cf.k);
    if (p.method == PINHOLE_DSIM_ROUNDS) {
        pinhole_discovery_state st;
        double share, rel;
        if (pinhole_discovery_start(&st, &p.rounds) == PINHOLE_OK &&
            pinhole_discovery_reach(&st, 0.9, &share, &rel) == PINHOLE_OK)
            printf("plan: %u extension rounds of %llu devices, depth %u bytes; strings held by "
                   ">= %.3g%% of devices pass a round with probability 0.9 (final-round relative "
                   "error %.2g)\n",
                   st.rounds, (unsigned long long)st.per_round, st.p.depth, 100 * share, rel);
        pinhole_discovery_free(&st);
    }
    pinhole_dsim_out out;
    rc = pinhole_dsim_run(&cf, &p, &out);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "%s: %s\n", cmd, pinhole_strerror(rc));
        pinhole_countfile_free(&cf);
        return rc == PINHOLE_EINVAL ? CLI_USAGE : CLI_FAIL;
    }
    printf("\nround  kind    prefix  ext  candidates        k   devices  threshold  kept  "
           "complete  server s\n");
    for (uint32_t i = 0; i < out.nlog; i++) {
        const pinhole_discovery_round_log *l = &out.log[i];
        printf("%5u  %-6s  %6u  %3u  %10u  %7llu  %8llu  %9.1f  %4u  %8u  %8.3f\n", i,
               l->kind == PINHOLE_ROUND_FINAL ? "final" : "extend", l->prefix_len, l->ext, l->ncand,
               (unsigned long long)l->k, (unsigned long long)l->devices, l->threshold, l->kept,
               l->complete, l->seconds);
    }
    uint32_t sig = 0;
    for (uint32_t i = 0; i < out.nresults; i++)
        sig += (uint32_t)out.results[i].significant;
    if (wire)
        printf("\nround configs signed by the server and verified by the devices' code; reports "
               "written by pinhole_discovery_report(), decoded, checked and folded by the server: "
               "%llu bytes on the wire\n",
               (unsigned long long)out.wire_bytes);
    printf("\ndiscovered %u strings (%u significant); devices refused by the device code: %llu\n",
           out.nresults, sig, (unsigned long long)out.refused);
    printf(
        "\nrank  string                            estimate          95%% interval  true count\n");
    for (uint32_t i = 0; i < out.nresults && i < top; i++) {
        const pinhole_discovery_result *r = &out.results[i];
        printf("%4u  %-32s  %10.0f  [%9.0f, %9.0f]  %10llu%s\n", i + 1, r->s, r->estimate,
               r->estimate - PINHOLE_Z95 * r->sd, r->estimate + PINHOLE_Z95 * r->sd,
               (unsigned long long)out.truth[i], r->significant ? "" : "  (not significant)");
    }
    double recall, precision;
    pinhole_dsim_topm(&cf, &out, (uint32_t)top, &recall, &precision);
    printf("\ntop-%llu: recall %.1f%% of the file's top-%llu, precision %.1f%% of the reported; "
           "%.1f s\n",
           (unsigned long long)top, 100 * recall, (unsigned long long)top, 100 * precision,
           out.seconds);
    pinhole_dsim_out_free(&out);
    pinhole_countfile_free(&cf);
    return CLI_OK;
}

int cli_discover(int argc, char **argv)
{
    return discover_main(argc, argv, 0);
}

int cli_demo_discover(int argc, char **argv)
{
    return discover_main(argc, argv, 1);
}
