/* Reading text data files line by line: the line without its LF or CRLF ending. */
#ifndef PINHOLE_SERVER_DATA_LINES_H
#define PINHOLE_SERVER_DATA_LINES_H

#include <stdio.h>
#include <sys/types.h>

/** The next line of fp into *line (getline's buffer, *cap its size), without a trailing "\n" or
 * "\r\n". Returns its length, or -1 at end of file or on a read error (see ferror). */
static inline ssize_t pinhole_read_line(FILE *fp, char **line, size_t *cap)
{
    ssize_t len = getline(line, cap, fp);
    if (len > 0 && (*line)[len - 1] == '\n')
        (*line)[--len] = '\0';
    if (len > 0 && (*line)[len - 1] == '\r')
        (*line)[--len] = '\0';
    return len;
}

#endif
