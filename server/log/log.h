/* The server's structured log: one JSON object per line (JSON Lines) with the fields ts (UTC,
 * RFC 3339 with milliseconds), level, event, then the event's own fields, e.g.
 *   {"ts":"2026-12-04T18:40:01.123Z","level":"info","event":"request","method":"GET",...}
 * Lines go to stderr or to a file opened for appending (mode 0600), written with one write() each
 * so concurrent lines never interleave; pinhole_log_reopen() reopens the file (after log rotation,
 * on SIGHUP). Field values are escaped by the JSON encoder, so no input can forge a line. */
#ifndef PINHOLE_SERVER_LOG_H
#define PINHOLE_SERVER_LOG_H

typedef enum pinhole_log_level {
    PINHOLE_LOG_DEBUG = 0,
    PINHOLE_LOG_INFO,
    PINHOLE_LOG_WARN,
    PINHOLE_LOG_ERROR,
} pinhole_log_level;

/** Send lines to the file at path (created 0600, appended to), or to stderr when path is NULL or
 * empty. Errors: PINHOLE_EIO (cannot open; the log keeps its previous destination). */
int pinhole_log_open(const char *path);

/** Reopen the file given to pinhole_log_open() (a no-op on stderr). Errors: PINHOLE_EIO (the old
 * file stays in use). */
int pinhole_log_reopen(void);

/** Close the log file; later lines go to stderr. */
void pinhole_log_close(void);

/** Lines below this level are dropped (default PINHOLE_LOG_INFO). */
void pinhole_log_set_level(pinhole_log_level level);

/** Parse "debug", "info", "warn" or "error"; -1 for anything else. */
int pinhole_log_level_parse(const char *s);

/** Write one line: level, event name, then (key, value) pairs ended by a NULL key. Each key's
 * first character gives its value's type and is not part of the field name: 's' const char *
 * (NULL gives null), 'i' long long, 'u' unsigned long long, 'f' double, 'b' int (boolean). E.g.
 *   pinhole_log(PINHOLE_LOG_INFO, "request", "smethod", "GET", "istatus", 200LL, NULL);
 * Thread-safe. A line that cannot be built (out of memory) is dropped. */
void pinhole_log(pinhole_log_level level, const char *event, ...);

#endif
