/* libFuzzer harness: the API's parsers of untrusted text. The first byte picks the target: a
 * collection spec (POST /v1/collections body), histogram query parameters (four NUL-separated
 * strings), or an Authorization header value. */
#include "common/error.h"
#include "server/http/api.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t which = data[0] % 3;
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
    } else {
        const char *tok;
        size_t len;
        if (pinhole_api_bearer_token(text, &tok, &len) == 0 && (len == 0 || len > 256))
            abort();
    }
    free(text);
    return 0;
}
