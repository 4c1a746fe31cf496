/* libFuzzer harness: pinhole_report_decode on arbitrary bytes; what decodes must re-encode to the
 * same bytes, and pinhole_report_check must not read past the payload. */
#include "common/error.h"
#include "proto/report.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pinhole_report r;
    if (pinhole_report_decode(data, size, &r) != PINHOLE_OK)
        return 0;
    uint8_t *out = malloc(size);
    size_t n = 0;
    if (!out || pinhole_report_encode(&r, out, size, &n) != PINHOLE_OK || n != size ||
        memcmp(out, data, size) != 0)
        abort();
    free(out);
    (void)pinhole_report_check(&r, r.collection_id, r.fingerprint, r.mechanism,
                               r.payload_len * 8u - (data[size - 1] & 7u));
    return 0;
}
