/* `pinhole plan`: the PGR planner's table of (q, t) choices for a domain size and epsilon. */
#include "common/compare.h"
#include "common/error.h"
#include "common/pgr.h"
#include "server/cli/cli.h"
#include "server/cli/cli_options.h"
#include "server/estimate/pool.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void plan_usage(FILE *f)
{
    fprintf(
        f,
        "usage: pinhole plan --k K --epsilon E [--rows N] [--max-seconds S] [--max-memory BYTES]\n"
        "                    [--max-cost OPS] [--threads N] [--mechanism NAME|auto]\n"
        "  Lists prime powers q with the smallest t such that K = (q^t-1)/(q-1) >= k, best first:\n"
        "  the first row is the default choice: the cheapest plan (fastest reconstruction, then\n"
        "  fewer bits) whose exact variance is within 0.5%% of the lowest within the server budget.\n"
        "  est. time and memory: reconstruction of the k totals on N server threads (default:\n"
        "  the online cores), by the calibrated cost model (docs/reconstruction.md).\n"
        "  Then every mechanism compared for (k, epsilon): per-user variance and its ratio to the\n"
        "  optimum 4e^eps/(e^eps-1)^2, bits per report, client and server operation counts.\n"
        "  --mechanism NAME|auto  name the mechanism to use; 'auto' picks the lowest variance "
        "among\n"
        "                         those (but OLH, whose seed pool adds a data-dependent variance)\n"
        "                         with <= 1024 bits and <= 1024 server operations per report\n"
        "                         and <= 2^33 operations and 2 GiB per estimate (variances within\n"
        "                         1%% count as equal: then the cheaper estimate, then fewer "
        "bits).\n");
}

/* the table of every mechanism and the automatic (or named) choice */
static int plan_compare(uint64_t k, double eps, const char *mech)
{
    pinhole_mechanism_row r[32];
    size_t n = 0;
    if (pinhole_mechanism_compare(k, eps, NULL, r, 32, &n) != PINHOLE_OK)
        return CLI_FAIL;
    int pick;
    if (cli_pick_mechanism(mech ? mech : "auto", k, eps, &pick) != 0)
        return CLI_USAGE;
    printf(
        "\nAll mechanisms for k = %llu, epsilon = %g (costs in operations; acc. = server work per "
        "report)\n",
        (unsigned long long)k, eps);
    printf("%-6s %12s %10s %11s %9s %11s %10s %12s %11s  %s\n", "name", "var/user", "ratio",
           "eps real.", "bits", "client ops", "acc. ops", "est. ops", "memory", "note");
    for (size_t i = 0; i < n; i++) {
        if (!r[i].ok) {
            printf("%-6s  not available: %s\n", r[i].name, pinhole_strerror(r[i].rc));
            continue;
        }
        if (r[i].id == PINHOLE_MECH_OLH)
            r[i].eligible = 0; /* as pinhole_mechanism_auto: the pool term depends on the data */
        printf("%-6s %12.6g %10.5g %11.6g %9u %11.3g %10.3g %12.3g %10.1fM  %s%s\n", r[i].name,
               r[i].variance, r[i].ratio, r[i].epsilon_realized, r[i].bits, r[i].client_ops,
               r[i].accumulate_ops, r[i].estimate_ops, r[i].memory_bytes / 1e6,
               (int)r[i].id == pick ? (mech && strcmp(mech, "auto") != 0 ? "chosen" : "auto choice")
                                    : "",
               r[i].eligible
                   ? ""
                   : ((int)r[i].id == pick ? ", over the auto limits" : "over the auto limits"));
    }
    printf(
        "olh: plus the seed pool's variance sum_{w != v} f_w (f_w - 1)/((g - 1) S), which depends "
        "on the data (common/olh.h).\n");
    return CLI_OK;
}

int cli_plan(int argc, char **argv)
{
    uint64_t k = 0, rows = 10;
    const char *mech = NULL;
    double eps = 0;
    int have_eps = 0;
    pinhole_pgr_plan_options opt = {0};
    uint64_t threads = pinhole_online_cores();
    const cli_opt opts[] = {CLI_OPT("k", CLI_OPT_U64, &k),
                            CLI_OPT("epsilon", CLI_OPT_EPSILON, &eps, .given = &have_eps),
                            CLI_OPT("rows", CLI_OPT_U64, &rows, .min = 1, .max = 1000),
                            CLI_OPT("max-cost", CLI_OPT_DOUBLE, &opt.max_cost_ops),
                            CLI_OPT("mechanism", CLI_OPT_STRING, &mech),
                            CLI_OPT("max-memory", CLI_OPT_DOUBLE, &opt.max_memory_bytes),
                            CLI_OPT("max-seconds", CLI_OPT_DOUBLE, &opt.max_seconds),
                            CLI_OPT("threads", CLI_OPT_U64, &threads, .min = 1, .max = 1024),
                            {0}};
    const cli_command cmd = {.name = "plan", .opts = opts, .usage = plan_usage};
    const int p = cli_parse(&cmd, argc, argv);
    if (p != 0)
        return p > 0 ? CLI_OK : CLI_USAGE;
    if ((opt.max_cost_ops != 0 && !(opt.max_cost_ops > 0)) ||
        (opt.max_memory_bytes != 0 && !(opt.max_memory_bytes > 0)) ||
        (opt.max_seconds != 0 && !(opt.max_seconds > 0))) {
        fprintf(stderr,
                "pinhole plan: --max-cost, --max-memory and --max-seconds must be positive\n");
        return CLI_USAGE;
    }
    if (k > PINHOLE_K_MAX) {
        fprintf(stderr, "pinhole plan: --k must be at most 2^62 = %llu\n",
                (unsigned long long)PINHOLE_K_MAX);
        return CLI_USAGE;
    }
    if (k < 2 || !have_eps) {
        fprintf(stderr, "pinhole plan: --k (at least 2) and --epsilon are required\n");
        return CLI_USAGE;
    }
    opt.threads = (unsigned)threads;
    int pick;
    if (mech && cli_pick_mechanism(mech, k, eps, &pick) != 0)
        return CLI_USAGE;
    pinhole_pgr_choice ch[1000];
    size_t n = 0;
    int capped = 0;
    int rc = pinhole_pgr_plan(k, eps, &opt, ch, (size_t)rows, &n, &capped);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "pinhole plan: %s\n", pinhole_strerror(rc));
        return rc == PINHOLE_EINVAL ? CLI_USAGE : CLI_FAIL;
    }
    printf(
        "PGR plan for k = %llu, epsilon = %g; large-k optimum 4e^eps/(e^eps-1)^2 = %.6g per user\n",
        (unsigned long long)k, eps, pinhole_variance_optimum(eps));
    printf("reconstruction estimated on %u thread%s (est. time and memory include the K counts and "
           "k totals)\n",
           opt.threads, opt.threads == 1 ? "" : "s");
    printf("%7s %3s %14s %5s %12s %9s %12s %10s %12s  %s\n", "q", "t", "K", "bits", "var/user",
           "ratio", "est. ops", "est. time", "est. memory", "note");
    for (size_t i = 0; i < n; i++) {
        const pinhole_pgr_choice *c = &ch[i];
        char mem[32];
        snprintf(mem, sizeof mem, "%.4gM", c->memory_bytes / 1e6);
        printf("%7u %3u %14llu %5u %12.6g %9.5f %12.3g %9.3gs %12s  %s%s%s\n", c->q, c->t,
               (unsigned long long)c->K, c->bits, c->variance, c->ratio, c->cost_ops, c->seconds,
               mem, c->algorithm == PINHOLE_PGR_ALGO_ENUM ? "enum " : "dp ",
               i == 0 ? "default" : "",
               c->within_budget ? "" : (i == 0 ? ", over budget" : "over budget"));
    }
    if (capped)
        printf(
            "note: q is capped: the best q for this epsilon is beyond the largest field (2^16) or "
            "the server budget (--max-seconds, default 5; --max-memory, default 1 GiB; "
            "--max-cost); the rows show what is reachable.\n");
    if (eps > PINHOLE_EPSILON_CAP)
        printf("note: variances are computed at epsilon = %g (beyond it they change by less than "
               "e^-40); the randomizer's realized epsilon saturates near 44 (64-bit threshold) and "
               "'simulate' reports it.\n",
               PINHOLE_EPSILON_CAP);
    return plan_compare(k, eps, mech);
}
