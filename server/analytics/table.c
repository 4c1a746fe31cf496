/* Reader of whitespace/comma separated numeric tables (analytics job inputs). */
#include "server/analytics/table.h"
#include "common/error.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int pinhole_table_read(FILE *f, uint32_t *rows, uint32_t *cols, double **data, uint64_t *line_out)
{
    if (!f || !rows || !cols || !data)
        return PINHOLE_EINVAL;
    size_t cap = 0, count = 0;
    double *v = NULL;
    uint32_t r = 0, c = 0;
    uint64_t line = 0;
    char *buf = NULL;
    size_t bufcap = 0;
    ssize_t len;
    int rc = PINHOLE_OK;
    while ((len = getline(&buf, &bufcap, f)) >= 0) {
        line++;
        char *p = buf;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        uint32_t k = 0;
        for (;;) {
            while (isspace((unsigned char)*p) || *p == ',')
                p++;
            if (*p == '\0')
                break;
            char *end;
            const double x = strtod(p, &end);
            if (end == p || !isfinite(x) ||
                (*end && !isspace((unsigned char)*end) && *end != ',')) {
                rc = PINHOLE_EFORMAT;
                goto out;
            }
            p = end;
            if (count >= PINHOLE_TABLE_MAXCELLS) {
                rc = PINHOLE_EOVERFLOW;
                goto out;
            }
            if (count == cap) {
                size_t nc = cap ? 2 * cap : 256;
                double *nv = realloc(v, nc * sizeof *nv);
                if (!nv) {
                    rc = PINHOLE_ENOMEM;
                    goto out;
                }
                v = nv, cap = nc;
            }
            v[count++] = x;
            k++;
        }
        if (r > 0 && k != c) {
            rc = PINHOLE_EFORMAT;
            goto out;
        }
        c = k;
        r++;
    }
    if (ferror(f)) {
        rc = PINHOLE_EIO;
        goto out;
    }
    if (r == 0) {
        rc = PINHOLE_EFORMAT;
        goto out;
    }
    *rows = r, *cols = c, *data = v;
    v = NULL;
out:
    if (rc && line_out)
        *line_out = line;
    free(buf);
    free(v);
    return rc;
}
