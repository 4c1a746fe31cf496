/* Parser for label/count TSV files, strict: every malformed line is an error with its number. */
#include "server/data/countfile.h"
#include "common/error.h"
#include "server/data/lines.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse a whole field as a decimal count in [0, 2^63]; 0 on success. */
static int parse_count(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    uint64_t x = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        const uint64_t d = (uint64_t)(*s - '0');
        if (x > ((UINT64_C(1) << 63) - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *out = x;
    return 0;
}

/* Whether a field reads as a number of any form strtod knows ("nan", "inf", "1e400", "-3", "0x1p4",
 * "2.5"), or holds a digit at all: such a first line is a bad count, not a header. */
static int looks_numeric(const char *s)
{
    if (strpbrk(s, "0123456789"))
        return 1;
    char *end;
    errno = 0;
    (void)strtod(s, &end);
    return end != s;
}

void pinhole_countfile_free(pinhole_countfile *cf)
{
    if (cf->labels)
        for (uint64_t i = 0; i < cf->k; i++)
            free(cf->labels[i]);
    free(cf->labels);
    free(cf->count);
    free(cf->cum);
    memset(cf, 0, sizeof *cf);
}

/* The reading of a count file: the file so far, and its arrays' allocated length. */
typedef struct count_reader {
    pinhole_countfile *cf;
    size_t alloc;
} count_reader;

/* One line of a count file (a pinhole_line_fn): label TAB count, or a header on line 1. */
static int count_line(char *line, size_t len, uint64_t lineno, void *ctx)
{
    (void)len;
    count_reader *r = ctx;
    pinhole_countfile *cf = r->cf;
    char *tab = strchr(line, '\t');
    if (!tab || tab == line || strchr(tab + 1, '\t'))
        return PINHOLE_EFORMAT;
    *tab = '\0';
    uint64_t c;
    if (parse_count(tab + 1, &c) != 0) {
        if (lineno == 1 && !looks_numeric(tab + 1))
            return PINHOLE_OK; /* a header: its count field is a word, not a number */
        return PINHOLE_EFORMAT;
    }
    if (cf->total > (UINT64_C(1) << 63) - c)
        return PINHOLE_EOVERFLOW;
    if (cf->k == r->alloc) {
        r->alloc = r->alloc ? 2 * r->alloc : 1024;
        char **nl = realloc(cf->labels, r->alloc * sizeof *nl);
        if (nl)
            cf->labels = nl;
        uint64_t *nc = realloc(cf->count, r->alloc * sizeof *nc);
        if (nc)
            cf->count = nc;
        if (!nl || !nc)
            return PINHOLE_ENOMEM;
    }
    cf->labels[cf->k] = strdup(line);
    if (!cf->labels[cf->k])
        return PINHOLE_ENOMEM;
    cf->count[cf->k++] = c;
    cf->total += c;
    return PINHOLE_OK;
}

int pinhole_countfile_read(const char *path, pinhole_countfile *cf, uint64_t *err_line)
{
    memset(cf, 0, sizeof *cf);
    count_reader r = {.cf = cf};
    int rc = pinhole_read_lines(path, count_line, &r, err_line);
    if (rc != PINHOLE_OK) {
        /* *err_line names the line */
    } else if (cf->k < 2 || cf->total == 0) {
        rc = PINHOLE_EINVAL;
    } else if (!(cf->cum = malloc(cf->k * sizeof *cf->cum))) {
        rc = PINHOLE_ENOMEM;
    } else {
        uint64_t acc = 0;
        for (uint64_t v = 0; v < cf->k; v++)
            cf->cum[v] = acc += cf->count[v];
    }
    if (rc != PINHOLE_OK)
        pinhole_countfile_free(cf);
    return rc;
}

uint64_t pinhole_countfile_draw(const uint64_t *cum, uint64_t k, uint64_t u)
{
    uint64_t lo = 0, hi = k - 1;
    while (lo < hi) {
        const uint64_t mid = lo + (hi - lo) / 2;
        if (cum[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

void pinhole_countfile_describe(int rc, const char *path, uint64_t err_line, char *buf, size_t len)
{
    switch (rc) {
    case PINHOLE_EIO:
        snprintf(buf, len, "%s: cannot open or read the file", path);
        break;
    case PINHOLE_EFORMAT:
        snprintf(buf, len,
                 "%s:%llu: expected label<TAB>count with a non-empty label and the count a whole "
                 "number from 0 to 2^63 (a first line whose count is a word is a header)",
                 path, (unsigned long long)err_line);
        break;
    case PINHOLE_EOVERFLOW:
        snprintf(buf, len, "%s:%llu: the counts add up to more than 2^63", path,
                 (unsigned long long)err_line);
        break;
    case PINHOLE_EINVAL:
        snprintf(buf, len, "%s: no usable data (need at least 2 items and a positive total count)",
                 path);
        break;
    default:
        snprintf(buf, len, "%s: %s", path, pinhole_strerror(rc));
    }
}

uint64_t pinhole_countfile_sample(const pinhole_countfile *cf, pinhole_rng *rng)
{
    return pinhole_countfile_draw(cf->cum, cf->k, pinhole_rng_uniform64(rng, cf->total));
}
