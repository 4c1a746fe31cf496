/* Helpers shared by the `pinhole` subcommands and `pinhole-optimize`: number, epsilon and mechanism
 * arguments, PGR parameter explanations, the default data set. */
#include "server/cli/cli.h"
#include "common/compare.h"
#include "common/mechanism.h"
#include "common/pgr.h"
#include "common/projective.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_parse_double(const char *name, const char *s, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end != '\0' || isnan(x) || (errno == ERANGE && isinf(x)) || isinf(x)) {
        fprintf(stderr, "pinhole: %s: '%s' is not a finite number\n", name, s);
        return -1;
    }
    *out = x;
    return 0;
}

int cli_parse_u64(const char *name, const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9') {
        fprintf(stderr, "pinhole: %s: '%s' is not a non-negative integer\n", name, s);
        return -1;
    }
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE) {
        fprintf(stderr, "pinhole: %s: '%s' is not an integer in range\n", name, s);
        return -1;
    }
    *out = x;
    return 0;
}

int cli_parse_epsilon(const char *s, double *out)
{
    char *end;
    double x = strtod(s, &end);
    if (end == s || *end != '\0' || pinhole_epsilon_check(x) != 0) {
        fprintf(stderr, "pinhole: --epsilon: '%s' must be a finite number >= %g\n", s,
                PINHOLE_EPSILON_MIN);
        return -1;
    }
    *out = x;
    return 0;
}

int cli_pick_mechanism(const char *name, uint64_t k, double eps, int *out)
{
    if (strcmp(name, "auto") == 0) {
        pinhole_mechanism_id id;
        if (pinhole_mechanism_auto(k, eps, NULL, &id) != 0)
            return -1;
        *out = (int)id;
        return 0;
    }
    const pinhole_mechanism_ops *ops = pinhole_mechanism_by_name(name);
    if (!ops) {
        size_t n;
        const pinhole_mechanism_ops *all = pinhole_mechanism_all(&n);
        fprintf(stderr, "pinhole: --mechanism: unknown '%s'; known: auto", name);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, ", %s", all[i].name);
        fprintf(stderr, "\n");
        return -1;
    }
    *out = (int)ops->id;
    return 0;
}

const char *cli_default_counts(void)
{
    return PINHOLE_SOURCE_DIR "/data/subtlex-us.tsv";
}
