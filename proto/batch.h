/* A batch: many encoded (optionally sealed) reports in one body, length-delimited (docs/protocol.md
 * §3).
 *
 * Layout, version 1 (little-endian):
 *    0  u8  version (1)     1  u8  kind: 0 = plain encoded reports, 1 = sealed reports
 * (proto/seal.h) 2  u16 reserved, 0     4  u32 count n, 0 <= n <= PINHOLE_BATCH_MAXCOUNT 8  n
 * items, each a u32 length l (1 <= l <= the item limit of the kind) then l bytes. The batch ends
 * exactly after the n-th item. The items are opaque here: decode each with pinhole_report_decode()
 * or open it with pinhole_report_open().
 *
 * The reader checks the whole framing in pinhole_batch_reader_init() before it yields any item,
 * so a malformed batch is refused as a whole. Readers and writers are caller-owned state over a
 * caller's buffer: no allocation; one per thread. */
#ifndef PINHOLE_PROTO_BATCH_H
#define PINHOLE_PROTO_BATCH_H

#include <pinhole/pinhole.h>
#include <stddef.h>
#include <stdint.h>

#define PINHOLE_BATCH_VERSION 1u
/* PINHOLE_BATCH_HEADERBYTES, PINHOLE_BATCH_ITEMHEADERBYTES, PINHOLE_BATCH_MAXCOUNT: public header.
 */

typedef enum pinhole_batch_kind {
    PINHOLE_BATCH_PLAIN = 0,  /* items are encoded reports, at most PINHOLE_REPORT_MAXBYTES each */
    PINHOLE_BATCH_SEALED = 1, /* items are sealed reports, at most PINHOLE_SEALED_MAXBYTES each */
} pinhole_batch_kind;

typedef struct pinhole_batch_reader {
    const uint8_t *buf;
    size_t len;
    size_t pos;     /* offset of the next item's length */
    uint32_t count; /* items in the batch */
    uint32_t next;  /* items already returned */
    pinhole_batch_kind kind;
} pinhole_batch_reader;

typedef struct pinhole_batch_writer {
    uint8_t *buf;
    size_t cap;
    size_t pos;     /* bytes written so far */
    uint32_t count; /* items added */
    pinhole_batch_kind kind;
} pinhole_batch_writer;

/** Most items in one batch, PINHOLE_BATCH_MAXCOUNT. */
uint32_t pinhole_batch_maxcount(void);

/** Largest item of a kind in bytes (PINHOLE_REPORT_MAXBYTES or PINHOLE_SEALED_MAXBYTES), 0 for an
 * unknown kind. */
size_t pinhole_batch_item_maxbytes(pinhole_batch_kind kind);

/** Encoded size in bytes of a batch of count items of item_bytes each: 8 + count (4 + item_bytes).
 * Returns 0 if that would overflow size_t. */
size_t pinhole_batch_bytes(size_t count, size_t item_bytes);

/** Check the framing of in[0..len) and position the reader before its first item; r keeps a
 * pointer to in. Errors, in this order: PINHOLE_ETRUNCATED (len == 0, or len < 8), PINHOLE_EVERSION
 * (version != 1), PINHOLE_EFORMAT (unknown kind, reserved bytes nonzero, an item of length 0),
 * PINHOLE_ETOOBIG (count > PINHOLE_BATCH_MAXCOUNT, or an item longer than its kind allows),
 * PINHOLE_ETRUNCATED (an item length or item runs past len), PINHOLE_ETOOBIG (bytes after the last
 * item). Costs O(count). */
int pinhole_batch_reader_init(pinhole_batch_reader *r, const uint8_t *in, size_t len);

/** As pinhole_batch_reader_init(), for a batch at the start of in[0..len) that other bytes may
 * follow (for example a file of several batches one after another): *used receives the batch's
 * length. Same errors, except that bytes after the last item are not an error. */
int pinhole_batch_reader_init_prefix(pinhole_batch_reader *r, const uint8_t *in, size_t len,
                                     size_t *used);

/** Items in the batch (valid after a successful init). */
uint32_t pinhole_batch_reader_count(const pinhole_batch_reader *r);

/** The next item: *item points into the batch, *item_len receives its length. Returns 1 when an
 * item was returned, 0 when all items have been returned. Never fails after a successful init. */
int pinhole_batch_reader_next(pinhole_batch_reader *r, const uint8_t **item, size_t *item_len);

/** Start a batch of the given kind in out[0..cap). Errors: PINHOLE_EINVAL (unknown kind),
 * PINHOLE_EBUFSIZE (cap < 8). */
int pinhole_batch_writer_init(pinhole_batch_writer *w, pinhole_batch_kind kind, uint8_t *out,
                              size_t cap);

/** Append one item of item_len bytes. Errors: PINHOLE_EINVAL (item_len 0 or item NULL),
 * PINHOLE_ETOOBIG (item longer than the kind allows, or the batch already holds
 * PINHOLE_BATCH_MAXCOUNT items), PINHOLE_EBUFSIZE (no room left; the batch is unchanged). */
int pinhole_batch_writer_add(pinhole_batch_writer *w, const uint8_t *item, size_t item_len);

/** Write the item count into the header; *written receives the batch's size in bytes. The writer
 * may go on adding items and finish again. */
void pinhole_batch_writer_finish(pinhole_batch_writer *w, size_t *written);

#endif
