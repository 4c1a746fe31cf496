/* The table-driven option parser over getopt_long (server/cli/cli_options.h). */
#include "server/cli/cli_options.h"
#include "server/cli/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* Store one option's value; 0, or -1 after a message saying why it is refused. */
static int take(const cli_command *cmd, const cli_opt *o, const char *v)
{
    char flag[64];
    snprintf(flag, sizeof flag, "--%s", o->name);
    switch (o->kind) {
    case CLI_OPT_FLAG:
        *(int *)o->dest = 1;
        break;
    case CLI_OPT_STRING:
        *(const char **)o->dest = v;
        break;
    case CLI_OPT_LIST:
        if ((uint64_t)*o->given >= o->max) {
            fprintf(stderr, "pinhole %s: %s may be given at most %llu times\n", cmd->name, flag,
                    (unsigned long long)o->max);
            return -1;
        }
        ((const char **)o->dest)[(*o->given)++] = v;
        return 0;
    case CLI_OPT_U64: {
        uint64_t x;
        if (cli_parse_u64(flag, v, &x) != 0)
            return -1;
        const uint64_t max = o->max ? o->max : UINT64_MAX;
        if (x < o->min || x > max) {
            if (max == UINT64_MAX)
                fprintf(stderr, "pinhole %s: %s must be at least %llu, got %s", cmd->name, flag,
                        (unsigned long long)o->min, v);
            else if (o->min == 0)
                fprintf(stderr, "pinhole %s: %s must be at most %llu, got %s", cmd->name, flag,
                        (unsigned long long)max, v);
            else
                fprintf(stderr, "pinhole %s: %s must be between %llu and %llu, got %s", cmd->name,
                        flag, (unsigned long long)o->min, (unsigned long long)max, v);
            fprintf(stderr, o->why ? " (%s)\n" : "\n", o->why);
            return -1;
        }
        *(uint64_t *)o->dest = x;
        break;
    }
    case CLI_OPT_DOUBLE:
        if (cli_parse_double(flag, v, (double *)o->dest) != 0)
            return -1;
        break;
    case CLI_OPT_EPSILON:
        if (cli_parse_epsilon(v, (double *)o->dest) != 0)
            return -1;
        break;
    }
    if (o->given)
        *o->given = 1;
    return 0;
}

int cli_run_subcommand(const cli_subcommand *table, size_t n, int argc, char **argv)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(argv[0], table[i].name) == 0)
            return table[i].run(argc, argv);
    return -1;
}

int cli_parse(const cli_command *cmd, int argc, char **argv)
{
    size_t n = 0;
    while (cmd->opts[n].name)
        n++;
    struct option *lo = calloc(n + 2, sizeof *lo);
    if (!lo) {
        fprintf(stderr, "pinhole %s: out of memory\n", cmd->name);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        lo[i] = (struct option){cmd->opts[i].name,
                                cmd->opts[i].kind == CLI_OPT_FLAG ? no_argument : required_argument,
                                NULL, 256 + (int)i};
    lo[n] = (struct option){"help", no_argument, NULL, 'h'};
    /* a fresh scan (glibc re-initialises on optind = 0); our own messages, not getopt's */
#ifdef __GLIBC__
    optind = 0;
#else
    optind = 1;
#endif
    opterr = 0;
    int rc = 0, c;
    while (rc == 0 && (c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        if (c == 'h') {
            cmd->usage(stdout);
            rc = 1;
        } else if (c == ':' || c == '?') {
            const char *arg = argv[optind - 1];
            if (c == ':')
                fprintf(stderr, "pinhole %s: %s needs a value\n", cmd->name, arg);
            else if (optopt && strncmp(arg, "--", 2) == 0) /* --flag=VALUE */
                fprintf(stderr, "pinhole %s: %.*s takes no value\n", cmd->name,
                        (int)strcspn(arg, "="), arg);
            else if (optopt)
                fprintf(stderr, "pinhole %s: unknown option -%c\n", cmd->name, optopt);
            else
                fprintf(stderr, "pinhole %s: unknown or ambiguous option %s\n", cmd->name, arg);
            cmd->usage(stderr);
            rc = -1;
        } else if (take(cmd, &cmd->opts[c - 256], optarg) != 0) {
            rc = -1;
        }
    }
    free(lo);
    if (rc != 0)
        return rc;
    if (cmd->npos)
        *cmd->npos = 0;
    for (int i = optind; i < argc; i++) {
        if (!cmd->pos || *cmd->npos == cmd->max_pos) {
            fprintf(stderr, "pinhole %s: unexpected argument %s\n", cmd->name, argv[i]);
            cmd->usage(stderr);
            return -1;
        }
        cmd->pos[(*cmd->npos)++] = argv[i];
    }
    return 0;
}
