/* Reading text data files line by line. */
#include "server/data/lines.h"
#include "common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

/* The next line of fp into *line (getline's buffer, *cap its size), without a trailing "\n" or
 * "\r\n". Returns its length, or -1 at end of file or on a read error (see ferror). */
static ssize_t read_line(FILE *fp, char **line, size_t *cap)
{
    ssize_t len = getline(line, cap, fp);
    if (len > 0 && (*line)[len - 1] == '\n')
        (*line)[--len] = '\0';
    if (len > 0 && (*line)[len - 1] == '\r')
        (*line)[--len] = '\0';
    return len;
}

int pinhole_read_lines(const char *path, pinhole_line_fn fn, void *ctx, uint64_t *err_line)
{
    *err_line = 0;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return PINHOLE_EIO;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t lineno = 0;
    int rc = PINHOLE_OK;
    while (rc == PINHOLE_OK && (len = read_line(fp, &line, &cap)) >= 0)
        rc = fn(line, (size_t)len, ++lineno, ctx);
    if (rc == PINHOLE_OK && ferror(fp))
        rc = PINHOLE_EIO;
    free(line);
    fclose(fp);
    if (rc != PINHOLE_OK)
        *err_line = lineno;
    return rc;
}
