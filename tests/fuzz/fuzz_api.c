/* libFuzzer harness: the API's parsers of untrusted text. The first byte picks the target: a
 * collection spec (POST /v1/collections body), histogram query parameters (four NUL-separated
 * strings), an Authorization header value, or request heads and trailer sections as the gate
 * and the relay check them (server/http/head.h). */
#include "common/error.h"
#include "server/http/api.h"
#include "server/http/head.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t which = data[0] % 4;
    data++, size--;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (which == 0) {
        pinhole_collection_spec spec;
        char err[256];
        if (pinhole_api_parse_collection(text, size, NULL, &spec, err, sizeof err) == PINHOLE_OK) {
            if (spec.params.k < 2 || !(spec.params.epsilon > 0))
                abort();
            pinhole_collection_spec_free(&spec);
        }
    } else if (which == 1) {
        const char *f[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
        size_t pos = 0;
        for (int i = 0; i < 6 && pos <= size; i++) {
            f[i] = text + pos;
            pos += strlen(text + pos) + 1;
        }
        pinhole_histogram_query q;
        char err[256];
        if (pinhole_api_parse_histogram_query(f[0], f[1], f[2], f[3], f[4], f[5], &q, err,
                                              sizeof err) == PINHOLE_OK &&
            !(q.from < q.to))
            abort();
    } else if (which == 3) {
        const size_t end = pinhole_head_end(text, size);
        pinhole_head_framing f;
        if (end > size)
            abort();
        if (end) {
            const pinhole_head_fault e = pinhole_head_check(text, end, &f);
            /* a head let through has a request line METHOD SP TARGET SP HTTP/1.x */
            const char *eol = memchr(text, '\n', end);
            if (e == HEAD_OK &&
                (!eol || eol - text < 12 || !memchr(text, ' ', (size_t)(eol - text)) ||
                 (f.chunked && f.length)))
                abort();
            if (e >= HEAD_FAULTS || pinhole_head_problem(e) >= PROBLEM_COUNT ||
                !pinhole_head_detail(e))
                abort();
            (void)pinhole_head_check_trailer(text, end);
        }
    } else {
        const char *tok;
        size_t len;
        if (pinhole_api_bearer_token(text, &tok, &len) == 0 && (len == 0 || len > 256))
            abort();
    }
    free(text);
    return 0;
}
