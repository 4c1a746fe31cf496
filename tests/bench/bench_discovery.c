/* Discovery of unlisted words on SUBTLEX-US: PGR rounds against the baselines (k-RR rounds, OLH
 * rounds, PEM) and the closed-domain PGR bound, same epsilon and devices, one JSON line per run:
 * recall and precision of the top-100, rounds, devices and server seconds per round.
 * usage: bench_discovery [--eps 1,2,4,8] [--devices 1000000,10000000] [--methods
 * pgr,grr,olh,pem,closed]
 *                        [--seed S] [--depth D] [--final phi] [--alpha a] [--keep B] [--ext0 s]
 *                        [--file path] */
#include "common/error.h"
#include "server/analytics/discovery_sim.h"
#include "server/data/countfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t split_doubles(const char *s, double *out, size_t max)
{
    size_t n = 0;
    char *copy = strdup(s), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save))
        out[n++] = strtod(t, NULL);
    free(copy);
    return n;
}

int main(int argc, char **argv)
{
    const char *file = PINHOLE_SOURCE_DIR "/data/subtlex-us.tsv";
    const char *methods = "pgr,grr,olh,pem,closed";
    double eps[8] = {4}, dev[8] = {1e7};
    size_t neps = 1, ndev = 1;
    uint64_t seed = 1;
    uint32_t depth = 8, keep = 0, ext0 = 0;
    double final_fraction = 0, alpha = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--eps"))
            neps = split_doubles(argv[i + 1], eps, 8);
        else if (!strcmp(argv[i], "--devices"))
            ndev = split_doubles(argv[i + 1], dev, 8);
        else if (!strcmp(argv[i], "--methods"))
            methods = argv[i + 1];
        else if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--depth"))
            depth = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--final"))
            final_fraction = strtod(argv[i + 1], NULL);
        else if (!strcmp(argv[i], "--alpha"))
            alpha = strtod(argv[i + 1], NULL);
        else if (!strcmp(argv[i], "--keep"))
            keep = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--ext0"))
            ext0 = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--file"))
            file = argv[i + 1];
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    pinhole_countfile cf;
    uint64_t line;
    int rc = pinhole_countfile_read(file, &cf, &line);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "%s: %s (line %llu)\n", file, pinhole_strerror(rc),
                (unsigned long long)line);
        return 1;
    }
    for (size_t d = 0; d < ndev; d++)
        for (size_t e = 0; e < neps; e++) {
            char *copy = strdup(methods), *save = NULL;
            for (char *m = strtok_r(copy, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
                pinhole_dsim_params p = {.rounds = {.epsilon = eps[e],
                                                    .devices = (uint64_t)dev[d],
                                                    .depth = depth,
                                                    .keep = keep,
                                                    .ext0 = ext0,
                                                    .final_fraction = final_fraction,
                                                    .false_positives = alpha},
                                         .seed = seed};
                if (!strcmp(m, "pgr") || !strcmp(m, "grr") || !strcmp(m, "olh")) {
                    p.method = PINHOLE_DSIM_ROUNDS;
                    p.rounds.oracle = !strcmp(m, "pgr")   ? PINHOLE_MECH_PGR
                                      : !strcmp(m, "grr") ? PINHOLE_MECH_GRR
                                                          : PINHOLE_MECH_OLH;
                } else if (!strcmp(m, "pem"))
                    p.method = PINHOLE_DSIM_PEM;
                else if (!strcmp(m, "closed"))
                    p.method = PINHOLE_DSIM_CLOSED;
                else {
                    fprintf(stderr, "unknown method %s\n", m);
                    return 2;
                }
                pinhole_dsim_out out;
                rc = pinhole_dsim_run(&cf, &p, &out);
                if (rc != PINHOLE_OK) {
                    printf("{\"method\":\"%s\",\"epsilon\":%g,\"devices\":%.0f,\"error\":\"%s\"}\n",
                           m, eps[e], dev[d], pinhole_strerror(rc));
                    fflush(stdout);
                    continue;
                }
                double recall, precision;
                pinhole_dsim_topm(&cf, &out, 100, &recall, &precision);
                uint32_t sig = 0;
                for (uint32_t i = 0; i < out.nresults; i++)
                    sig += (uint32_t)out.results[i].significant;
                printf("{\"method\":\"%s\",\"epsilon\":%g,\"devices\":%.0f,\"recall\":%.3f,"
                       "\"precision\":%.3f,\"reported\":%u,\"significant\":%u,\"rounds\":%u,"
                       "\"seconds\":%.2f,\"round_seconds\":[",
                       m, eps[e], dev[d], recall, precision, out.nresults, sig, out.nlog,
                       out.seconds);
                for (uint32_t i = 0; i < out.nlog; i++)
                    printf("%s%.3f", i ? "," : "", out.log[i].seconds);
                printf("],\"round_k\":[");
                for (uint32_t i = 0; i < out.nlog; i++)
                    printf("%s%llu", i ? "," : "", (unsigned long long)out.log[i].k);
                printf("],\"round_devices\":[");
                for (uint32_t i = 0; i < out.nlog; i++)
                    printf("%s%llu", i ? "," : "", (unsigned long long)out.log[i].devices);
                printf("],\"round_passed\":[");
                for (uint32_t i = 0; i < out.nlog; i++)
                    printf("%s%u", i ? "," : "", out.log[i].passed);
                printf("],\"round_kept\":[");
                for (uint32_t i = 0; i < out.nlog; i++)
                    printf("%s%u", i ? "," : "", out.log[i].kept);
                printf("],\"round_complete\":[");
                for (uint32_t i = 0; i < out.nlog; i++)
                    printf("%s%u", i ? "," : "", out.log[i].complete);
                printf("]}\n");
                fflush(stdout);
                pinhole_dsim_out_free(&out);
            }
            free(copy);
        }
    pinhole_countfile_free(&cf);
    return 0;
}
