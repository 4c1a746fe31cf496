/* The answers a relayed connection owes its client (answers.h). */
#include "server/http/answers.h"

#include <string.h>
#include <strings.h>

void pinhole_answers_owe(pinhole_answers *a, int head)
{
    if (a->owed >= PINHOLE_ANSWERS_OWED_MAX) {
        a->lost = 1;
        return;
    }
    a->head_bits |= (uint64_t)(head != 0) << a->owed;
    a->owed++;
}

static void answered(pinhole_answers *a)
{
    if (a->owed) {
        a->head_bits >>= 1;
        a->owed--;
    }
}

void pinhole_answers_read(pinhole_answers *a, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && !a->lost) {
        if (a->in_body) {
            const size_t m = a->left < n - i ? (size_t)a->left : n - i;
            i += m;
            a->left -= m;
            if (a->left == 0) {
                a->in_body = 0;
                answered(a);
            }
            continue;
        }
        const uint8_t ch = p[i++];
        if (ch != '\n') {
            if (a->line_len < PINHOLE_ANSWERS_LINE_MAX)
                a->line[a->line_len++] = (char)ch;
            continue;
        }
        size_t len = a->line_len;
        a->line_len = 0;
        if (len && a->line[len - 1] == '\r')
            len--;
        if (!a->status_seen) { /* HTTP/1.1 NNN reason */
            a->status_seen = 1;
            a->has_length = 0;
            a->status =
                len >= 12 && memcmp(a->line, "HTTP/1.", 7) == 0
                    ? (a->line[9] - '0') * 100 + (a->line[10] - '0') * 10 + (a->line[11] - '0')
                    : 0;
            if (a->status < 100 || a->status > 999)
                a->lost = 1;
        } else if (len == 0) { /* the end of the head */
            a->status_seen = 0;
            if (a->status < 200)
                continue; /* interim: the final answer follows */
            if ((a->head_bits & 1) || a->status == 204 || a->status == 304 ||
                (a->has_length && a->length == 0)) {
                answered(a);
            } else if (!a->has_length) {
                a->lost = 1;
            } else {
                a->in_body = 1;
                a->left = a->length;
            }
        } else if (len > 15 && strncasecmp(a->line, "content-length:", 15) == 0) {
            uint64_t v = 0;
            size_t k = 15;
            while (k < len && (a->line[k] == ' ' || a->line[k] == '\t'))
                k++;
            const size_t d0 = k;
            while (k < len && a->line[k] >= '0' && a->line[k] <= '9' && k - d0 < 19)
                v = v * 10 + (uint64_t)(a->line[k++] - '0');
            a->has_length = k > d0;
            a->length = v;
        }
    }
}
