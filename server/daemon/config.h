/* pinhole-server configuration: the same keys as command-line flags (--key value) and as lines of
 * a config file ("key = value", '#' comments); docs/pinhole-server.conf lists every key with its
 * default. Later settings override earlier ones: defaults, then the file, then the flags. */
#ifndef PINHOLE_SERVER_DAEMON_CONFIG_H
#define PINHOLE_SERVER_DAEMON_CONFIG_H

#include "server/http/httpd.h"

#include <stddef.h>
#include <stdio.h>

typedef struct pinhole_daemon_config {
    pinhole_server_options server;
    char port_file[4096];  /* write the bound port here once listening ("" = don't) */
    double shutdown_grace; /* seconds to let requests in flight finish on SIGTERM (default 10) */
    char log_file[4096];   /* JSON Lines log, appended to, reopened on SIGHUP ("" = stderr) */
    int log_level;         /* pinhole_log_level: lines below it are dropped (default info) */
    /* where tokens made for a run (a role left without one) are written, mode 0600
     * ("" = the database path + ".tokens") */
    char generated_tokens_file[4096];
    char token_path[3][4096]; /* admin, analyst, uploader token files as configured ("" = none) */
} pinhole_daemon_config;

/** Defaults for every key. */
void pinhole_daemon_config_default(pinhole_daemon_config *c);

/** Apply one setting (key with '_' or '-' separators). Token files are read (first line, at most
 * 256 visible characters) and only the token's hash is kept.
 * Errors: PINHOLE_EINVAL (unknown key or bad value; a reason goes to err), PINHOLE_EIO (a token
 * file cannot be read). */
int pinhole_daemon_config_set(pinhole_daemon_config *c, const char *key, const char *value,
                              char *err, size_t errlen);

/** Read a config file. Errors: PINHOLE_EIO (cannot open), PINHOLE_EINVAL (a bad line: its number
 * and reason go to err). */
int pinhole_daemon_config_file(pinhole_daemon_config *c, const char *path, char *err,
                               size_t errlen);

/** The same from an open stream; path names it in messages. Errors: PINHOLE_EINVAL (as above,
 * or a line longer than 4,198 bytes), PINHOLE_EIO (a token file). */
int pinhole_daemon_config_stream(pinhole_daemon_config *c, FILE *f, const char *path, char *err,
                                 size_t errlen);

#endif
