/* Estimates files: "label<TAB>estimate[<TAB>variance]" per line (counts, counts^2), as written and
 * read by `pinhole analyze`. A first line whose estimate field is not a number is a header; columns
 * after the variance are ignored; an empty variance field means "no variance". */
#ifndef PINHOLE_SERVER_DATA_ESTFILE_H
#define PINHOLE_SERVER_DATA_ESTFILE_H

#include <stdint.h>
#include <stdio.h>

typedef struct pinhole_estfile {
    uint64_t k;       /* number of items (data lines) */
    char **labels;    /* k labels, NUL-terminated */
    double *estimate; /* k estimates (counts), finite, possibly negative */
    double *variance; /* k variances (counts^2), finite and >= 0; NULL when the file has none */
} pinhole_estfile;

/** Read an estimates file. Every data line must have a variance or none may. On error *err_line
 * receives the 1-based line at fault (0 when not line-specific) and nothing needs freeing.
 * Errors: PINHOLE_EIO (cannot open or read), PINHOLE_EFORMAT (no tab, empty label, an estimate
 * or variance that is not a finite number, a negative variance, a variance on some lines only),
 * PINHOLE_EINVAL (no data lines), PINHOLE_ENOMEM. */
int pinhole_estfile_read(const char *path, pinhole_estfile *e, uint64_t *err_line);

/** Free what pinhole_estfile_read() allocated; safe on a zeroed struct. */
void pinhole_estfile_free(pinhole_estfile *e);

/** Write one data line: label, estimate and (unless variance is NULL) variance, printed with 17
 * significant digits so that reading gives back the same doubles; the caller adds the newline after
 * any extra columns. Errors: PINHOLE_EIO. */
int pinhole_estfile_write_row(FILE *f, const char *label, double estimate, const double *variance);

#endif
