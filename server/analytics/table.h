/* Numeric table files, the input format of the analytics jobs: matrices and data sets as text. */
#ifndef PINHOLE_SERVER_ANALYTICS_TABLE_H
#define PINHOLE_SERVER_ANALYTICS_TABLE_H

#include <stdint.h>
#include <stdio.h>

/** Most rows, columns and cells a table may have. */
#define PINHOLE_TABLE_MAXCELLS (1u << 28)

/** Read a table from f: one row per line, numbers separated by spaces, tabs or commas; blank lines
 * and lines starting with '#' are skipped. Every row must have the same number of columns and every
 * number must be finite. On success *data (caller frees with free()) holds rows x cols doubles,
 * row-major. Errors: PINHOLE_EINVAL (NULL argument), PINHOLE_EFORMAT (a token that is not a finite
 * number, rows of different lengths, an empty table; *line_out, if not NULL, gets the 1-based line
 * of the problem), PINHOLE_EOVERFLOW (more than PINHOLE_TABLE_MAXCELLS cells), PINHOLE_ENOMEM,
 * PINHOLE_EIO (a read error). */
int pinhole_table_read(FILE *f, uint32_t *rows, uint32_t *cols, double **data, uint64_t *line_out);

#endif
