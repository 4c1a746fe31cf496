/* `pinhole simulate`: users drawn from a real count file, encoded with the client library, folded
 * into counts and estimated with the server library; prints the top items and the error against
 * the exact variance. */
#include "client/encode.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/explain.h"
#include "common/mechanism.h"
#include "common/rng.h"
#include "server/cli/cli.h"
#include "server/cli/cli_options.h"
#include "server/data/countfile.h"
#include "server/estimate/estimate.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

static void sim_usage(FILE *f)
{
    fprintf(
        f,
        "usage: pinhole simulate [--counts FILE] [--users N] [--epsilon E] [--seed S] [--top N]\n"
        "                        [--q Q] [--t T] [--mechanism NAME|auto]\n"
        "  --counts FILE  label<TAB>count lines (default: the SUBTLEX-US words shipped in data/)\n"
        "  --users N      users drawn at random from the counts (default: every token once)\n"
        "  --epsilon E    privacy parameter, finite and >= 1e-6 (default 4)\n"
        "  --seed S       seed of the simulation's randomness (default: fresh, printed)\n"
        "  --top N        rows of the top-items table (default 20)\n"
        "  --q Q, --t T   force the PGR field order and dimension (default: the planner's)\n"
        "                 (HPGR: the block space's)\n"
        "  --mechanism M  pgr (default), grr, oue, sue, olh, hr, ss, hpgr, or auto (see 'plan')\n"
        "  --epsilon-permanent E  sue only: RAPPOR's permanent-response epsilon (>= --epsilon;\n"
        "                         equal means no permanent response)\n"
        "pinhole simulate --discover ...: discover frequent strings with no dictionary (--help)\n");
}

/* Users one run simulates at most (about a minute of encoding). */
#define SIM_MAX_USERS UINT64_C(1000000000)

int cli_simulate(int argc, char **argv)
{
    const char *path = cli_default_counts();
    uint64_t users = 0, seed = 0, top = 20, q = 0, t = 0;
    int have_users = 0, have_seed = 0;
    const char *mech = "pgr";
    double eps = 4, eps_perm = 0;
    if (argc > 1 && strcmp(argv[1], "--discover") == 0)
        return cli_discover(argc - 1, argv + 1);
    const cli_opt opts[] = {CLI_OPT("counts", CLI_OPT_STRING, &path),
                            CLI_OPT("users", CLI_OPT_U64, &users, .given = &have_users, .min = 1,
                                    .why = "no reports, nothing to estimate"),
                            CLI_OPT("epsilon", CLI_OPT_EPSILON, &eps),
                            CLI_OPT("seed", CLI_OPT_U64, &seed, .given = &have_seed),
                            CLI_OPT("top", CLI_OPT_U64, &top),
                            CLI_OPT("q", CLI_OPT_U64, &q, .max = UINT32_MAX),
                            CLI_OPT("t", CLI_OPT_U64, &t, .max = UINT32_MAX),
                            CLI_OPT("mechanism", CLI_OPT_STRING, &mech),
                            CLI_OPT("epsilon-permanent", CLI_OPT_EPSILON, &eps_perm),
                            {0}};
    const cli_command cmd = {.name = "simulate", .opts = opts, .usage = sim_usage};
    const int p = cli_parse(&cmd, argc, argv);
    if (p != 0)
        return p > 0 ? CLI_OK : CLI_USAGE;
    if (!have_seed)
        randombytes_buf(&seed, sizeof seed);

    uint64_t *truth = NULL, *counts = NULL, *order = NULL;
    double *est = NULL, *var = NULL;
    uint8_t *payload = NULL;
    pinhole_countfile cf;
    uint64_t bad_line;
    int rc = pinhole_countfile_read(path, &cf, &bad_line);
    if (rc != PINHOLE_OK) {
        char why[320];
        pinhole_countfile_describe(rc, path, bad_line, why, sizeof why);
        fprintf(stderr, "pinhole simulate: %s\n", why);
        return CLI_FAIL;
    }

    pinhole_config cfg;
    int mech_id;
    if (cli_pick_mechanism(mech, cf.k, eps, &mech_id) != 0) {
        pinhole_countfile_free(&cf);
        return CLI_USAGE;
    }
    const char *mname = pinhole_mechanism_find((pinhole_mechanism_id)mech_id)->name;
    pinhole_config_params par = {.mechanism = (pinhole_mechanism_id)mech_id,
                                 .k = cf.k,
                                 .epsilon = eps,
                                 .q = (uint32_t)q,
                                 .t = (uint32_t)t};
    par.epsilon_permanent = eps_perm;
    if (mech_id == PINHOLE_MECH_OLH)
        par.pool_key = seed; /* the public seed pool of this simulated collection */
    char why[256];
    rc = pinhole_config_explain(&par, why, sizeof why);
    if (rc == PINHOLE_OK)
        rc = pinhole_config_init(&cfg, &par);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "pinhole simulate: cannot configure %s for k = %llu, epsilon = %g: %s\n",
                mname, (unsigned long long)cf.k, eps, why[0] ? why : pinhole_strerror(rc));
        pinhole_countfile_free(&cf);
        return rc == PINHOLE_EINVAL ? CLI_USAGE : CLI_FAIL;
    }
    const uint64_t k = cf.k, n = have_users ? users : cf.total;
    if (n > SIM_MAX_USERS) {
        fprintf(stderr, "pinhole simulate: %llu users is more than this tool simulates (%llu)%s\n",
                (unsigned long long)n, (unsigned long long)SIM_MAX_USERS,
                have_users ? "" : "; pass --users N to draw fewer from the counts");
        rc = PINHOLE_EINVAL;
        goto out;
    }
    if (cfg.counts_len > SIZE_MAX / sizeof(uint64_t) || k > SIZE_MAX / sizeof(uint64_t)) {
        fprintf(stderr,
                "pinhole simulate: the report alphabet (%llu) does not fit in memory here\n",
                (unsigned long long)cfg.counts_len);
        rc = PINHOLE_EOVERFLOW;
        goto out;
    }

    truth = calloc(k, sizeof *truth);
    counts = calloc(cfg.counts_len, sizeof *counts);
    order = malloc(k * sizeof *order);
    est = malloc(k * sizeof *est);
    var = malloc(k * sizeof *var);
    payload = malloc(cfg.payload_bytes ? cfg.payload_bytes : 1);
    if (!truth || !counts || !est || !var || !order || !payload) {
        fprintf(stderr, "pinhole simulate: out of memory\n");
        rc = PINHOLE_ENOMEM;
        goto out;
    }
    printf("data: %s: k = %llu items, %llu tokens\n", path, (unsigned long long)k,
           (unsigned long long)cf.total);
    if (cfg.mechanism == PINHOLE_MECH_PGR)
        printf("PGR: epsilon = %g (realized %.12g), q = %u, t = %u, K = %llu, %u bits per report\n",
               eps, cfg.epsilon_realized, cfg.u.pgr.q, cfg.u.pgr.t, (unsigned long long)cfg.u.pgr.K,
               cfg.payload_bits);
    else
        printf("%s: epsilon = %g (realized %.12g), %u bits per report, %llu counts\n", mname, eps,
               cfg.epsilon_realized, cfg.payload_bits, (unsigned long long)cfg.counts_len);
    printf("users: %llu%s, seed %llu\n", (unsigned long long)n,
           have_users ? " drawn from the counts" : " (every token once)", (unsigned long long)seed);

    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, seed);
    double t0 = pinhole_clock_mono();
    if (have_users) {
        for (uint64_t i = 0; i < n; i++) {
            const uint64_t v = pinhole_countfile_sample(&cf, &rng);
            truth[v]++;
            if ((rc = pinhole_encode(&cfg, v, &rng, payload, cfg.payload_bytes)) != PINHOLE_OK ||
                (rc = pinhole_accumulate(&cfg, payload, cfg.payload_bytes, counts)) != PINHOLE_OK)
                goto fail;
        }
    } else {
        for (uint64_t v = 0; v < k; v++) {
            truth[v] = cf.count[v];
            for (uint64_t i = 0; i < cf.count[v]; i++) {
                if ((rc = pinhole_encode(&cfg, v, &rng, payload, cfg.payload_bytes)) !=
                        PINHOLE_OK ||
                    (rc = pinhole_accumulate(&cfg, payload, cfg.payload_bytes, counts)) !=
                        PINHOLE_OK)
                    goto fail;
            }
        }
    }
    double t1 = pinhole_clock_mono();
    rc = pinhole_estimate(&cfg, counts, n, est, var);
    double t2 = pinhole_clock_mono();
    if (rc != PINHOLE_OK)
        goto fail;
    printf("client: %.2f s to draw and encode (%.3g reports/s); server: %.3f s to reconstruct and "
           "estimate\n",
           t1 - t0, (double)n / (t1 - t0), t2 - t1);

    double sse = 0, theory = 0;
    for (uint64_t v = 0; v < k; v++) {
        const double e = est[v] - (double)truth[v];
        sse += e * e;
        theory += pinhole_config_variance(&cfg, (double)n, (double)truth[v]);
    }
    if ((rc = pinhole_estimate_rank(est, k, order)) != PINHOLE_OK)
        goto fail;
    if (top > k)
        top = k;
    printf("\n%5s  %-20s %14s %14s %27s\n", "rank", "item", "estimate", "true count",
           "95% interval");
    for (uint64_t i = 0; i < top; i++) {
        const uint64_t v = order[i];
        const double h = 1.959963984540054 * sqrt(var[v]);
        printf("%5llu  %-20.20s %14.0f %14llu   [%11.0f, %11.0f]\n", (unsigned long long)(i + 1),
               cf.labels[v], est[v], (unsigned long long)truth[v], est[v] - h, est[v] + h);
    }
    printf(
        "\nMSE per item: %.6g (counts^2); exact variance averaged over items: %.6g; ratio %.4f\n",
        sse / (double)k, theory / (double)k, sse / theory);
    if (cfg.mechanism == PINHOLE_MECH_OLH)
        printf("(olh: the exact variance above leaves out the seed pool's term, see "
               "docs/mechanisms.md)\n");
    printf("per-user variance: %.6g; optimum 4e^eps/(e^eps-1)^2 = %.6g (ratio %.4f)\n",
           pinhole_config_variance(&cfg, 1, 0), pinhole_variance_optimum(eps),
           pinhole_config_variance(&cfg, 1, 0) / pinhole_variance_optimum(eps));
    rc = PINHOLE_OK;
    goto out;
fail:
    fprintf(stderr, "pinhole simulate: %s\n", pinhole_strerror(rc));
out:
    free(payload);
    free(truth);
    free(counts);
    free(order);
    free(est);
    free(var);
    pinhole_config_free(&cfg);
    pinhole_countfile_free(&cf);
    return rc == PINHOLE_OK ? CLI_OK : CLI_FAIL;
}
