/* One option parser for every `pinhole` subcommand: a table of long options (name, kind, where the
 * value goes, its accepted range) read with getopt_long, and messages that say why a value is
 * refused. */
#ifndef PINHOLE_SERVER_CLI_OPTIONS_H
#define PINHOLE_SERVER_CLI_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum cli_opt_kind {
    CLI_OPT_FLAG,    /* no value: *(int *)dest = 1 */
    CLI_OPT_STRING,  /* *(const char **)dest = the value (last one given wins) */
    CLI_OPT_U64,     /* *(uint64_t *)dest: a decimal integer in [min, max] (max 0: no bound) */
    CLI_OPT_DOUBLE,  /* *(double *)dest: a finite number */
    CLI_OPT_EPSILON, /* *(double *)dest: a privacy parameter, finite and >= PINHOLE_EPSILON_MIN */
    CLI_OPT_LIST,    /* repeatable: ((const char **)dest)[(*given)++] = value, at most max times */
} cli_opt_kind;

/** One long option `--name` of a table; a table ends with an entry whose name is NULL. */
typedef struct cli_opt {
    const char *name;  /* without the dashes: "epsilon" is --epsilon */
    cli_opt_kind kind; /* what follows it and where it goes */
    void *dest;        /* see cli_opt_kind */
    int *given; /* when not NULL: set to 1 when the option appears (CLI_OPT_LIST: the count) */
    uint64_t min, max; /* CLI_OPT_U64: the accepted range, inclusive (max 0 = 2^64 - 1);
                        * CLI_OPT_LIST: max = the slots of dest */
    const char *why; /* optional, appended to a range error in parentheses: what the bound is for */
} cli_opt;

/* A table entry: the option's name, kind and destination, then any designated extras, e.g.
 *   CLI_OPT("rows", CLI_OPT_U64, &rows, .min = 1, .max = 1000),
 * and {0} at the end of the table. */
#define CLI_OPT(name_, kind_, dest_, ...)                                                          \
    {                                                                                              \
        .name = (name_), .kind = (kind_), .dest = (dest_), __VA_ARGS__                             \
    }

/** A subcommand's command line: its name for messages, option table, usage text and positional
 * words (the arguments that are not options, or "-"). */
typedef struct cli_command {
    const char *name;       /* "plan", "analyze maxcut": messages read "pinhole NAME: ..." */
    const cli_opt *opts;    /* the table, ended by {0} */
    void (*usage)(FILE *f); /* prints the usage text */
    const char **pos;       /* out: positional words, max_pos slots (NULL when none are accepted) */
    size_t max_pos;
    size_t *npos; /* out: how many positional words were given (may be NULL when max_pos is 0) */
} cli_command;

/** A program's subcommands: name and entry point (argv[0] is the subcommand's name). */
typedef struct cli_subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
} cli_subcommand;

/** Run the subcommand of table[0..n) named argv[0] with (argc, argv); -1 when there is none (the
 * caller prints its message and usage). */
int cli_run_subcommand(const cli_subcommand *table, size_t n, int argc, char **argv);

/** Parse argv[1..argc) (argv[0] is the subcommand's name) with getopt_long against cmd's table.
 * Options are `--name VALUE` or `--name=VALUE` (a value may begin with '-'), flags `--name`; a long
 * name may be shortened to any unambiguous prefix, as getopt_long allows; `--help` or `-h` prints
 * the usage to standard output. Every value is checked as it is read: a message names the option,
 * the value and why it is refused ("pinhole plan: --rows must be between 1 and 1000, got 0").
 * Positional words may come anywhere (getopt_long permutes argv); `--` ends the options.
 * Returns 0 when every argument was taken, 1 after --help (the command should exit CLI_OK), -1 on a
 * usage error: an unknown option, a missing value, a refused value, too many positional words
 * (message on standard error, and the usage after an unknown option or a missing value). */
int cli_parse(const cli_command *cmd, int argc, char **argv);

#endif
