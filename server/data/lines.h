/* Reading text data files line by line: the line without its LF or CRLF ending. */
#ifndef PINHOLE_SERVER_DATA_LINES_H
#define PINHOLE_SERVER_DATA_LINES_H

#include <stddef.h>
#include <stdint.h>

/** Takes one line of a file: line (len bytes, NUL-terminated, without its "\n" or "\r\n"; the
 * function may write into it, it lasts until it returns), lineno its number (from 1), ctx
 * pinhole_read_lines's. Returns PINHOLE_OK to go on, or an error that stops the reading. */
typedef int (*pinhole_line_fn)(char *line, size_t len, uint64_t lineno, void *ctx);

/** Pass every line of the file at path, in order, to fn. Returns PINHOLE_OK after the last line
 * (*err_line 0). Errors: PINHOLE_EIO when the file cannot be opened (*err_line 0) or a read fails
 * (*err_line the number of the last line read); fn's error, with *err_line the number of the line
 * it refused. */
int pinhole_read_lines(const char *path, pinhole_line_fn fn, void *ctx, uint64_t *err_line);

#endif
