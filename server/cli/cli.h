/* The `pinhole` command-line tool: subcommands and their shared argument parsing. */
#ifndef PINHOLE_SERVER_CLI_H
#define PINHOLE_SERVER_CLI_H

#include <stddef.h>
#include <stdint.h>

/** Exit codes: 0 success, 1 runtime failure, 2 usage error. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/** Parse a whole string as a finite double; 0 on success, else prints "pinhole: NAME: ..." and
 * returns -1. */
int cli_parse_double(const char *name, const char *s, double *out);

/** Parse a whole string as an unsigned decimal integer (no sign, no spaces); 0 or -1 as above. */
int cli_parse_u64(const char *name, const char *s, uint64_t *out);

/** Parse and validate epsilon: finite and > 0; 0 or -1 with a message. */
int cli_parse_epsilon(const char *s, double *out);

/** Path of the SUBTLEX-US count file shipped with the source tree (the default data set). */
const char *cli_default_counts(void);

/** Resolve --mechanism: a table name ("pgr", "grr", ...) or "auto" (pinhole_mechanism_auto for
 * (k, eps)); 0 on success, else prints the known names and returns -1. */
int cli_pick_mechanism(const char *name, uint64_t k, double eps, int *out);

int cli_plan(int argc, char **argv);
int cli_simulate(int argc, char **argv);
/** `pinhole simulate --discover`: a discovery collection over a count file (server/cli/discover.c).
 * argv[0] is "--discover". CLI_* exit code. */
int cli_discover(int argc, char **argv);
/** `pinhole demo --discover`: the same through the wire format in-process (signed round configs,
 * the app's report call, the server's checks). argv[0] is "--discover". CLI_* exit code. */
int cli_demo_discover(int argc, char **argv);
int cli_analyze_multi(int argc, char **argv); /* analyze_multi.c, in pinhole-optimize */
int cli_analyze(int argc, char **argv);
/** `analyze maxcut|nearest-correlation|single-location|two-layer` (server/cli/analyze_opt.c): the
 * entry point of `pinhole-optimize`, which `pinhole analyze` runs for these jobs (argv[1] = job).
 * Returns a CLI_* exit code. */
int cli_analyze_opt(int argc, char **argv);
int cli_encode(int argc, char **argv);
int cli_inspect(int argc, char **argv);
int cli_keygen(int argc, char **argv);
int cli_sign_config(int argc, char **argv);
/** `pinhole submit`: post reports to a server (server/cli/submit.c). Returns a CLI_* exit code. */
int cli_submit(int argc, char **argv);
/** `pinhole query`: print a collection's histogram (server/cli/query.c). CLI_* exit code. */
int cli_query(int argc, char **argv);
/** `pinhole close`: close a collection's time buckets (server/cli/close.c). CLI_* exit code. */
int cli_close(int argc, char **argv);
/* query_multi.c: pinhole query of a multi-attribute collection (parent: its GET answer): its
 * multi_attribute job under it, printed as tables (or its result as JSON). */
struct cli_http;
struct json_t;
int cli_query_multi(struct cli_http *h, const struct json_t *parent, int json_format, int have_from,
                    uint64_t from, int have_to, uint64_t to);
/** `pinhole demo`: the whole system end to end (server/cli/demo.c). CLI_* exit code. */
int cli_demo(int argc, char **argv);

/** Print a histogram answer (the server's JSON) as a table; with truth (k true counts, may be
 * NULL) a "true count" column. 0, or -1 when the JSON is not a histogram. */
#include <stdio.h>
int cli_print_histogram(const char *json, FILE *out, const uint64_t *truth);

#endif
