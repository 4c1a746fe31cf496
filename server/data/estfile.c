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

int pinhole_estfile_read(const char *path, pinhole_estfile *e, uint64_t *err_line)
{
    memset(e, 0, sizeof *e);
    *err_line = 0;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return PINHOLE_EIO;
    char *line = NULL;
    size_t cap = 0, alloc = 0;
    ssize_t len;
    uint64_t lineno = 0;
    int rc = PINHOLE_OK, with_var = -1;
    while ((len = pinhole_read_line(fp, &line, &cap)) >= 0) {
        lineno++;
        char *t1 = strchr(line, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        char *t3 = t2 ? strchr(t2 + 1, '\t') : NULL;
        double est, var = 0;
        if (!t1 || t1 == line) {
            rc = PINHOLE_EFORMAT;
            break;
        }
        if (parse_double(t1 + 1, t2 ? t2 : line + len, &est) != 0) {
            if (lineno == 1)
                continue; /* header */
            rc = PINHOLE_EFORMAT;
            break;
        }
        const char *vend = t3 ? t3 : line + len;
        const int has_var = t2 && vend > t2 + 1;
        if (has_var && (parse_double(t2 + 1, vend, &var) != 0 || var < 0)) {
            rc = PINHOLE_EFORMAT;
            break;
        }
        if (with_var >= 0 && with_var != has_var) {
            rc = PINHOLE_EFORMAT;
            break;
        }
        with_var = has_var;
        if ((rc = grow(e, &alloc)) != PINHOLE_OK)
            break;
        *t1 = '\0';
        if (!(e->labels[e->k] = strdup(line))) {
            rc = PINHOLE_ENOMEM;
            break;
        }
        e->estimate[e->k] = est;
        e->variance[e->k] = var;
        e->k++;
    }
    if (rc == PINHOLE_OK && ferror(fp))
        rc = PINHOLE_EIO;
    free(line);
    fclose(fp);
    if (rc != PINHOLE_OK)
        *err_line = lineno;
    else if (e->k == 0)
        rc = PINHOLE_EINVAL;
    if (rc != PINHOLE_OK) {
        pinhole_estfile_free(e);
        return rc;
    }
    if (!with_var) {
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
