/* `pinhole plan`: the PGR planner's table of (q, t) choices for a domain size and epsilon. */
#include "common/error.h"
#include "common/pgr.h"
#include "server/cli/cli.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void plan_usage(FILE *f)
{
    fprintf(
        f,
        "usage: pinhole plan --k K --epsilon E [--rows N] [--max-cost OPS] [--max-memory BYTES]\n"
        "  Lists prime powers q with the smallest t such that K = (q^t-1)/(q-1) >= k, best first:\n"
        "  the first row is the default choice (lowest exact variance within the server "
        "budget).\n");
}

int cli_plan(int argc, char **argv)
{
    uint64_t k = 0, rows = 10;
    double eps = 0;
    int have_eps = 0;
    pinhole_pgr_plan_options opt = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            plan_usage(stdout);
            return CLI_OK;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "pinhole plan: unknown option or missing value: %s\n", a);
            plan_usage(stderr);
            return CLI_USAGE;
        }
        const char *v = argv[++i];
        int bad;
        if (strcmp(a, "--k") == 0)
            bad = cli_parse_u64("--k", v, &k);
        else if (strcmp(a, "--epsilon") == 0)
            bad = cli_parse_epsilon(v, &eps), have_eps = 1;
        else if (strcmp(a, "--rows") == 0)
            bad = cli_parse_u64("--rows", v, &rows);
        else if (strcmp(a, "--max-cost") == 0)
            bad = cli_parse_double("--max-cost", v, &opt.max_cost_ops);
        else if (strcmp(a, "--max-memory") == 0)
            bad = cli_parse_double("--max-memory", v, &opt.max_memory_bytes);
        else {
            fprintf(stderr, "pinhole plan: unknown option %s\n", a);
            plan_usage(stderr);
            return CLI_USAGE;
        }
        if (bad)
            return CLI_USAGE;
    }
    if (k < 2 || !have_eps) {
        fprintf(stderr, "pinhole plan: --k (at least 2) and --epsilon are required\n");
        return CLI_USAGE;
    }
    if (rows < 1 || rows > 1000)
        rows = rows < 1 ? 1 : 1000;
    pinhole_pgr_choice ch[1000];
    size_t n = 0;
    int capped = 0;
    int rc = pinhole_pgr_plan(k, eps, &opt, ch, (size_t)rows, &n, &capped);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "pinhole plan: %s\n", pinhole_strerror(rc));
        return rc == PINHOLE_EINVAL ? CLI_USAGE : CLI_FAIL;
    }
    printf("PGR plan for k = %llu, epsilon = %g; optimum variance 4e^eps/(e^eps-1)^2 = %.6g per "
           "user\n",
           (unsigned long long)k, eps, pinhole_variance_optimum(eps));
    printf("%7s %3s %14s %5s %12s %9s %12s %12s  %s\n", "q", "t", "K", "bits", "var/user", "ratio",
           "est. ops", "est. memory", "note");
    for (size_t i = 0; i < n; i++) {
        const pinhole_pgr_choice *c = &ch[i];
        printf("%7u %3u %14llu %5u %12.6g %9.5f %12.3g %11.1fM  %s%s\n", c->q, c->t,
               (unsigned long long)c->K, c->bits, c->variance, c->ratio, c->cost_ops,
               c->memory_bytes / 1e6, i == 0 ? "default" : "",
               c->within_budget ? "" : (i == 0 ? ", over budget" : "over budget"));
    }
    if (capped)
        printf(
            "note: q is capped: the best q for this epsilon is beyond the largest field (2^16) or "
            "the server budget (--max-cost, --max-memory); the rows show what is reachable.\n");
    if (eps > PINHOLE_EPSILON_CAP)
        printf("note: epsilon above %g is computed as %g: the 64-bit sampling threshold saturates "
               "there, and the realized epsilon is reported by 'simulate'.\n",
               PINHOLE_EPSILON_CAP, PINHOLE_EPSILON_CAP);
    return CLI_OK;
}
