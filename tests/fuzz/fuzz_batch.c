/* libFuzzer harness: pinhole_batch_reader on arbitrary bytes; a batch that passes init yields
 * exactly count items that lie inside it, and rebuilding it with the writer gives the same bytes.
 */
#include "common/error.h"
#include "proto/batch.h"
#include "proto/report.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pinhole_batch_reader r;
    if (pinhole_batch_reader_init(&r, data, size) != PINHOLE_OK)
        return 0;
    uint8_t *out = malloc(size);
    pinhole_batch_writer w;
    if (!out || pinhole_batch_writer_init(&w, r.kind, out, size) != PINHOLE_OK)
        abort();
    const uint8_t *item;
    size_t len;
    uint32_t n = 0;
    while (pinhole_batch_reader_next(&r, &item, &len) == 1) {
        if (item < data || item + len > data + size || len == 0)
            abort();
        pinhole_report rep;
        (void)pinhole_report_decode(item, len, &rep);
        if (pinhole_batch_writer_add(&w, item, len) != PINHOLE_OK)
            abort();
        n++;
    }
    size_t written;
    pinhole_batch_writer_finish(&w, &written);
    if (n != pinhole_batch_reader_count(&r) || written != size || memcmp(out, data, size) != 0)
        abort();
    free(out);
    return 0;
}
