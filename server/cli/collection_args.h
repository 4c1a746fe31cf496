/* Command-line options that name a collection config, shared by `pinhole encode`, `inspect` and
 * `sign-config`, and small file/hex helpers for the wire-format subcommands. */
#ifndef PINHOLE_SERVER_CLI_COLLECTION_ARGS_H
#define PINHOLE_SERVER_CLI_COLLECTION_ARGS_H

#include "client/pinhole.h"
#include "server/cli/cli_options.h"

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

typedef struct cli_config_args {
    const char *cmd;       /* "encode", ... for messages */
    const char *mechanism; /* --mechanism NAME (default "pgr") */
    uint64_t k, q, t;      /* --k, --q, --t */
    double epsilon;        /* --epsilon */
    int have_epsilon;
    uint64_t collection;     /* --collection ID (default 0) */
    uint64_t precision;      /* --precision SECONDS (default 1) */
    uint64_t min_reports;    /* --min-reports N (default 0) */
    const char *config;      /* --config FILE: a signed config */
    const char *verify_key;  /* --verify-key HEX: the server's Ed25519 public key */
    const char *config_json; /* --config-json FILE */
} cli_config_args;

/* The usage lines of these options. */
#define CLI_CONFIG_USAGE                                                                           \
    "collection (one of):\n"                                                                       \
    "  --k K --epsilon E [--mechanism NAME] [--q Q] [--t T] [--collection ID] [--precision "       \
    "SECONDS]\n"                                                                                   \
    "                   [--min-reports N]     parameters (q, t: the planner's by default)\n"       \
    "  --config FILE --verify-key HEX         a signed config (136 or 176 bytes), verified with\n"    \
    "                                         the server's Ed25519 public key (64 hex digits)\n"       \
    "  --config-json FILE                     a JSON config (docs/protocol.md 4.4), trusted\n"

/* The table rows (server/cli/cli_options.h) of these options, values stored into *c, for a
 * subcommand's table: {CLI_CONFIG_OPTS(&ca), ...its own rows..., {0}}. q, t, the precision and
 * the minimum report count are 32-bit fields of the config. */
#define CLI_CONFIG_OPTS(c)                                                                         \
    CLI_OPT("k", CLI_OPT_U64, &(c)->k), CLI_OPT("mechanism", CLI_OPT_STRING, &(c)->mechanism),     \
        CLI_OPT("epsilon", CLI_OPT_EPSILON, &(c)->epsilon, .given = &(c)->have_epsilon),           \
        CLI_OPT("q", CLI_OPT_U64, &(c)->q, .max = UINT32_MAX),                                     \
        CLI_OPT("t", CLI_OPT_U64, &(c)->t, .max = UINT32_MAX),                                     \
        CLI_OPT("collection", CLI_OPT_U64, &(c)->collection),                                      \
        CLI_OPT("precision", CLI_OPT_U64, &(c)->precision, .max = UINT32_MAX),                     \
        CLI_OPT("min-reports", CLI_OPT_U64, &(c)->min_reports, .max = UINT32_MAX),                 \
        CLI_OPT("config", CLI_OPT_STRING, &(c)->config),                                           \
        CLI_OPT("verify-key", CLI_OPT_STRING, &(c)->verify_key),                                   \
        CLI_OPT("config-json", CLI_OPT_STRING, &(c)->config_json)

/** Build the collection the options name (verifying a signed config). 0 or -1 with a message. */
int cli_config_collection(const cli_config_args *c, pinhole_collection *col);

/** The collection config the options name, without building the mechanism: 0 or -1. */
int cli_config_make(const cli_config_args *c, pinhole_collection_config *cfg);

/** Read a whole file ("-" = standard input) into a new buffer (free() it) with a NUL after the
 * data; 0 or -1 with a message. */
int cli_read_file(const char *cmd, const char *path, uint8_t **data, size_t *len);

/** Write data to a file ("-" or NULL = standard output); 0 or -1 with a message. */
int cli_write_file(const char *cmd, const char *path, const uint8_t *data, size_t len);

/** Parse exactly len bytes of hex; 0 or -1 with a message naming the option. */
int cli_parse_hex(const char *cmd, const char *name, const char *hex, uint8_t *out, size_t len);

/** Print len bytes as lower-case hex to f. */
void cli_print_hex(void *f, const uint8_t *b, size_t len);

#endif
