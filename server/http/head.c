/* Request head checks shared by the connection gate and the relay (head.h). */
#include "server/http/head.h"

#include <string.h>
#include <strings.h>

static const struct {
    pinhole_problem problem;
    const char *detail;
} faults[HEAD_FAULTS] = {
    [HEAD_OK] = {PROBLEM_BAD_REQUEST, "no fault"},
    [HEAD_REQUEST_LINE] = {PROBLEM_BAD_REQUEST,
                           "the request line must be: method, target, HTTP version"},
    [HEAD_VERSION] = {PROBLEM_VERSION_NOT_SUPPORTED, "this server speaks HTTP/1.0 and HTTP/1.1"},
    [HEAD_FIELD] = {PROBLEM_BAD_REQUEST,
                    "a header line without a name and a colon, or with a control character"},
    [HEAD_FOLDED] = {PROBLEM_BAD_REQUEST, "a header line folded over several lines"},
    [HEAD_LENGTH] = {PROBLEM_BAD_REQUEST, "Content-Length must be one decimal number"},
    [HEAD_CODING] = {PROBLEM_BAD_REQUEST, "the only Transfer-Encoding taken is chunked"},
    [HEAD_BOTH] = {PROBLEM_BAD_REQUEST, "Content-Length and Transfer-Encoding together"},
    [HEAD_TOO_LARGE] = {PROBLEM_HEADER_TOO_LARGE,
                        "the request line and headers are larger than the server accepts"},
    [HEAD_TOO_MANY] = {PROBLEM_HEADER_TOO_LARGE,
                       "more header fields, query parameters and cookies than the server takes"},
    [HEAD_TIMEOUT] = {PROBLEM_REQUEST_TIMEOUT, "the request head did not arrive in time"},
    [HEAD_CHUNKS] = {PROBLEM_BAD_REQUEST,
                     "broken chunked framing: a chunk size is 1 to 15 hex digits, and each "
                     "chunk-size line, chunk and trailer line ends with CRLF"},
};

pinhole_problem pinhole_head_problem(pinhole_head_fault f)
{
    return faults[f < HEAD_FAULTS ? f : HEAD_REQUEST_LINE].problem;
}

const char *pinhole_head_detail(pinhole_head_fault f)
{
    return faults[f < HEAD_FAULTS ? f : HEAD_REQUEST_LINE].detail;
}

size_t pinhole_head_end(const char *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] != '\n')
            continue;
        if (p[i + 1] == '\n')
            return i + 2;
        if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* RFC 9110 §5.6.2 token characters. */
static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The next line of p[*pos..n): *len its length without CR LF; -1 when a CR stands elsewhere than
 * before the LF, or a control character other than HTAB appears. */
static int next_line(const char *p, size_t n, size_t *pos, const char **line, size_t *len)
{
    const char *s = p + *pos, *eol = memchr(s, '\n', n - *pos);
    if (!eol)
        return -1;
    size_t l = (size_t)(eol - s);
    *pos += l + 1;
    if (l && s[l - 1] == '\r')
        l--;
    for (size_t i = 0; i < l; i++) {
        const unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return -1;
    }
    *line = s;
    *len = l;
    return 0;
}

/* A value with the optional whitespace around it trimmed. */
static void trim(const char **v, const char **ve)
{
    while (*v < *ve && (**v == ' ' || **v == '\t'))
        (*v)++;
    while (*ve > *v && ((*ve)[-1] == ' ' || (*ve)[-1] == '\t'))
        (*ve)--;
}

/* Field lines from p[pos..n) to the blank line: name token, colon, value. Counts them (and each
 * cookie) into *fields; calls back each (name, value) for the framing fields. */
typedef struct framing_state {
    pinhole_head_framing *f;
    int have_length, codings;
    unsigned long long length;
} framing_state;

static pinhole_head_fault field_lines(const char *p, size_t n, size_t pos, unsigned *fields,
                                      framing_state *fs)
{
    for (;;) {
        const char *line;
        size_t len;
        if (next_line(p, n, &pos, &line, &len) != 0)
            return HEAD_FIELD;
        if (len == 0)
            return HEAD_OK; /* the blank line */
        if (line[0] == ' ' || line[0] == '\t')
            return HEAD_FOLDED;
        const char *colon = memchr(line, ':', len);
        if (!colon || colon == line)
            return HEAD_FIELD;
        for (const char *c = line; c < colon; c++)
            if (!is_tchar((unsigned char)*c))
                return HEAD_FIELD;
        const size_t nl = (size_t)(colon - line);
        const char *v = colon + 1, *ve = line + len;
        trim(&v, &ve);
        if (++*fields > PINHOLE_HEAD_FIELDS_MAX)
            return HEAD_TOO_MANY;
        if (nl == 6 && strncasecmp(line, "cookie", 6) == 0)
            for (const char *c = v; c < ve; c++)
                if ((*c == ';' || *c == ',') && ++*fields > PINHOLE_HEAD_FIELDS_MAX)
                    return HEAD_TOO_MANY;
        if (!fs)
            continue;
        if (nl == 14 && strncasecmp(line, "content-length", 14) == 0) {
            unsigned long long x = 0;
            int ok = v < ve && ve - v <= 19;
            for (const char *c = v; ok && c < ve; c++)
                ok = *c >= '0' && *c <= '9', x = x * 10 + (unsigned)(*c - '0');
            if (!ok || (fs->have_length && x != fs->length))
                return HEAD_LENGTH;
            fs->length = x;
            fs->have_length = 1;
        } else if (nl == 17 && strncasecmp(line, "transfer-encoding", 17) == 0) {
            if (fs->codings++ || ve - v != 7 || strncasecmp(v, "chunked", 7) != 0)
                return HEAD_CODING;
        }
    }
}

pinhole_head_fault pinhole_head_check(const char *p, size_t n, pinhole_head_framing *f)
{
    f->chunked = 0;
    f->length = 0;
    size_t pos = 0;
    const char *line;
    size_t len;
    if (next_line(p, n, &pos, &line, &len) != 0)
        return HEAD_REQUEST_LINE;
    /* METHOD SP TARGET SP HTTP/d.d, single spaces, a visible target */
    const char *sp1 = memchr(line, ' ', len), *sp2 = line + len;
    while (sp2 > line && sp2[-1] != ' ')
        sp2--;
    if (!sp1 || sp1 == line || sp2 <= sp1 + 1)
        return HEAD_REQUEST_LINE;
    if (--sp2 <= sp1 + 1) /* the last space; the target between must not be empty */
        return HEAD_REQUEST_LINE;
    for (const char *c = line; c < sp1; c++)
        if (!is_tchar((unsigned char)*c))
            return HEAD_REQUEST_LINE;
    if ((size_t)(sp1 - line) == strlen(PINHOLE_HEAD_REFUSE_METHOD) &&
        memcmp(line, PINHOLE_HEAD_REFUSE_METHOD, (size_t)(sp1 - line)) == 0)
        return HEAD_REQUEST_LINE; /* only the relay writes it */
    unsigned fields = 1;
    for (const char *c = sp1 + 1; c < sp2; c++) {
        if (*c == ' ')
            return HEAD_REQUEST_LINE;
        if (*c == '&' && ++fields > PINHOLE_HEAD_FIELDS_MAX)
            return HEAD_TOO_MANY;
    }
    const char *v = sp2 + 1;
    const size_t vlen = (size_t)(line + len - v);
    if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
        v[7] < '0' || v[7] > '9')
        return HEAD_REQUEST_LINE;
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
        return HEAD_VERSION;
    framing_state fs = {.f = f};
    const pinhole_head_fault e = field_lines(p, n, pos, &fields, &fs);
    if (e != HEAD_OK)
        return e;
    if (fs.have_length && fs.codings)
        return HEAD_BOTH;
    f->chunked = fs.codings != 0;
    f->length = fs.length;
    return HEAD_OK;
}

pinhole_head_fault pinhole_head_check_trailer(const char *p, size_t n)
{
    unsigned fields = 0;
    return field_lines(p, n, 0, &fields, NULL);
}
