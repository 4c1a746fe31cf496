/* Reader and row writer for estimates files (label, estimate, optional variance), strict. */
#include "server/data/estfile.h"
#include "common/error.h"
#include "server/data/lines.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void pinhole_estfile_free(pinhole_estfile *e)
{
    if (e->labels)
        for (uint64_t i = 0; i < e->k; i++)
            free(e->labels[i]);
    free(e->labels);
    free(e->estimate);
    free(e->variance);
    memset(e, 0, sizeof *e);
}

/* Parse s[0..end) as a finite double; 0 on success. */
static int parse_double(const char *s, const char *end, double *out)
{
    char buf[64];
    const size_t len = (size_t)(end - s);
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *stop;
    errno = 0;
    const double x = strtod(buf, &stop);
    if (*stop != '\0' || !isfinite(x))
        return -1;
    *out = x;
    return 0;
}

static int grow(pinhole_estfile *e, size_t *alloc)
{
    if (e->k < *alloc)
        return PINHOLE_OK;
    *alloc = *alloc ? 2 * *alloc : 1024;
    char **l = realloc(e->labels, *alloc * sizeof *l);
    if (l)
        e->labels = l;
    double *a = realloc(e->estimate, *alloc * sizeof *a);
    if (a)
        e->estimate = a;
    double *b = realloc(e->variance, *alloc * sizeof *b);
    if (b)
        e->variance = b;
    return l && a && b ? PINHOLE_OK : PINHOLE_ENOMEM;
}

/* The reading of an estimates file: the file so far, its arrays' allocated length, and whether its
 * rows have a variance (-1: no row yet). */
typedef struct est_reader {
    pinhole_estfile *e;
    size_t alloc;
    int with_var;
} est_reader;

/* One line of an estimates file (a pinhole_line_fn): label TAB estimate [TAB variance [TAB ...]],
 * or a header on line 1. */
static int est_line(char *line, size_t len, uint64_t lineno, void *ctx)
{
    est_reader *r = ctx;
    pinhole_estfile *e = r->e;
    char *t1 = strchr(line, '\t');
    char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
    char *t3 = t2 ? strchr(t2 + 1, '\t') : NULL;
    double est, var = 0;
    if (!t1 || t1 == line)
        return PINHOLE_EFORMAT;
    if (parse_double(t1 + 1, t2 ? t2 : line + len, &est) != 0)
        return lineno == 1 ? PINHOLE_OK /* header */ : PINHOLE_EFORMAT;
    const char *vend = t3 ? t3 : line + len;
    const int has_var = t2 && vend > t2 + 1;
    if (has_var && (parse_double(t2 + 1, vend, &var) != 0 || var < 0))
        return PINHOLE_EFORMAT;
    if (r->with_var >= 0 && r->with_var != has_var)
        return PINHOLE_EFORMAT;
    r->with_var = has_var;
    int rc;
    if ((rc = grow(e, &r->alloc)) != PINHOLE_OK)
        return rc;
    *t1 = '\0';
    if (!(e->labels[e->k] = strdup(line)))
        return PINHOLE_ENOMEM;
    e->estimate[e->k] = est;
    e->variance[e->k] = var;
    e->k++;
    return PINHOLE_OK;
}

int pinhole_estfile_read(const char *path, pinhole_estfile *e, uint64_t *err_line)
{
    memset(e, 0, sizeof *e);
    est_reader r = {.e = e, .with_var = -1};
    int rc = pinhole_read_lines(path, est_line, &r, err_line);
    if (rc == PINHOLE_OK && e->k == 0)
        rc = PINHOLE_EINVAL;
    if (rc != PINHOLE_OK) {
        pinhole_estfile_free(e);
        return rc;
    }
    if (!r.with_var) {
        free(e->variance);
        e->variance = NULL;
    }
    return PINHOLE_OK;
}

int pinhole_estfile_write_row(FILE *f, const char *label, double estimate, const double *variance)
{
    const int n = variance ? fprintf(f, "%s\t%.17g\t%.17g", label, estimate, *variance)
                           : fprintf(f, "%s\t%.17g\t", label, estimate);
    return n < 0 ? PINHOLE_EIO : PINHOLE_OK;
}
