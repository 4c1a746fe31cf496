/* The outbox: a device's reports of one collection, grouped into batches (proto/batch.h) of at
 * most a chosen size, handed to the app one batch at a time to POST until the server answers. */
#include "client/pinhole.h"

#include <stdlib.h>
#include <string.h>

/* The server takes reports of at most this many distinct time units in one batch (docs/api.md). */
#define OUTBOX_MAXTIMES 16

typedef struct ob_batch {
    struct ob_batch *next;
    pinhole_batch_writer w; /* over buf[0..cap) */
    uint8_t *buf;
    size_t len; /* once closed: the batch's size in bytes */
    uint64_t times[OUTBOX_MAXTIMES];
    unsigned ntimes;
} ob_batch;

struct pinhole_outbox {
    uint64_t collection_id;
    uint32_t time_precision;
    pinhole_batch_kind kind;
    size_t max_bytes;      /* of one batch */
    ob_batch *head, *tail; /* closed batches, oldest first */
    ob_batch *open;        /* the batch reports are added to, or NULL */
    size_t pending;        /* reports in all batches */
    size_t pending_bytes;  /* bytes of all batches */
};

int pinhole_outbox_new(pinhole_outbox **out, const pinhole_collection *col, unsigned flags,
                       size_t max_batch_bytes)
{
    *out = NULL;
    if ((flags & ~(unsigned)PINHOLE_OUTBOX_SEALED) != 0)
        return PINHOLE_EINVAL;
    const int sealed = (flags & PINHOLE_OUTBOX_SEALED) != 0;
    const size_t item =
        sealed ? pinhole_collection_sealedbytes(col) : pinhole_collection_reportbytes(col);
    if (max_batch_bytes < pinhole_batch_bytes(1, item))
        return PINHOLE_EINVAL;
    pinhole_outbox *ob = calloc(1, sizeof *ob);
    if (!ob)
        return PINHOLE_ENOMEM;
    ob->collection_id = col->config.collection_id;
    ob->time_precision = col->config.time_precision;
    ob->kind = sealed ? PINHOLE_BATCH_SEALED : PINHOLE_BATCH_PLAIN;
    ob->max_bytes = max_batch_bytes;
    *out = ob;
    return PINHOLE_OK;
}

static void free_batch(ob_batch *b)
{
    free(b->buf);
    free(b);
}

void pinhole_outbox_free(pinhole_outbox *ob)
{
    if (!ob)
        return;
    for (ob_batch *b = ob->head, *next; b; b = next) {
        next = b->next;
        free_batch(b);
    }
    if (ob->open)
        free_batch(ob->open);
    free(ob);
}

static void close_open(pinhole_outbox *ob)
{
    ob_batch *b = ob->open;
    ob->open = NULL;
    pinhole_batch_writer_finish(&b->w, &b->len);
    if (ob->tail)
        ob->tail->next = b;
    else
        ob->head = b;
    ob->tail = b;
}

static int has_time(const ob_batch *b, uint64_t unit)
{
    for (unsigned i = 0; i < b->ntimes; i++)
        if (b->times[i] == unit)
            return 1;
    return 0;
}

/* Room in the open batch for one more item of len bytes at time unit: count, size and times. */
static int fits(const pinhole_outbox *ob, const ob_batch *b, size_t len, uint64_t unit)
{
    return b->w.count < PINHOLE_BATCH_MAXCOUNT &&
           ob->max_bytes - b->w.pos >= PINHOLE_BATCH_ITEMHEADERBYTES + len &&
           (b->ntimes < OUTBOX_MAXTIMES || has_time(b, unit));
}

/* Grow the open batch's buffer to hold need bytes (need <= max_bytes). */
static int reserve(const pinhole_outbox *ob, ob_batch *b, size_t need)
{
    if (need <= b->w.cap)
        return PINHOLE_OK;
    size_t cap = b->w.cap * 2 > need ? b->w.cap * 2 : need;
    if (cap > ob->max_bytes)
        cap = ob->max_bytes;
    uint8_t *buf = realloc(b->buf, cap);
    if (!buf)
        return PINHOLE_ENOMEM;
    b->buf = b->w.buf = buf;
    b->w.cap = cap;
    return PINHOLE_OK;
}

static int open_batch(pinhole_outbox *ob)
{
    ob_batch *b = calloc(1, sizeof *b);
    const size_t cap = ob->max_bytes < 4096 ? ob->max_bytes : 4096;
    if (b)
        b->buf = malloc(cap);
    if (!b || !b->buf) {
        free(b);
        return PINHOLE_ENOMEM;
    }
    pinhole_batch_writer_init(&b->w, ob->kind, b->buf, cap); /* cap >= one item's batch */
    ob->open = b;
    return PINHOLE_OK;
}

int pinhole_outbox_add(pinhole_outbox *ob, const uint8_t *report, size_t len, uint64_t unix_seconds)
{
    if (!report || len == 0)
        return PINHOLE_EINVAL;
    if (len > pinhole_batch_item_maxbytes(ob->kind) || pinhole_batch_bytes(1, len) > ob->max_bytes)
        return PINHOLE_ETOOBIG;
    const uint64_t unit = unix_seconds / ob->time_precision;
    if (ob->open && !fits(ob, ob->open, len, unit))
        close_open(ob);
    int rc = ob->open ? PINHOLE_OK : open_batch(ob);
    ob_batch *b = ob->open;
    if (rc == PINHOLE_OK)
        rc = reserve(ob, b, b->w.pos + PINHOLE_BATCH_ITEMHEADERBYTES + len);
    if (rc == PINHOLE_OK)
        rc = pinhole_batch_writer_add(&b->w, report, len);
    if (rc != PINHOLE_OK)
        return rc;
    if (!has_time(b, unit))
        b->times[b->ntimes++] = unit;
    ob->pending++;
    ob->pending_bytes += PINHOLE_BATCH_ITEMHEADERBYTES + len + (b->w.count == 1 ? 8 : 0);
    return PINHOLE_OK;
}

size_t pinhole_outbox_pending(const pinhole_outbox *ob)
{
    return ob->pending;
}

size_t pinhole_outbox_pending_bytes(const pinhole_outbox *ob)
{
    return ob->pending_bytes;
}

int pinhole_outbox_next(pinhole_outbox *ob, const uint8_t **body, size_t *len)
{
    if (!ob->head && ob->open)
        close_open(ob);
    if (!ob->head) {
        *body = NULL;
        *len = 0;
        return 0;
    }
    *body = ob->head->buf;
    *len = ob->head->len;
    return 1;
}

void pinhole_outbox_done(pinhole_outbox *ob)
{
    ob_batch *b = ob->head;
    if (!b)
        return;
    ob->head = b->next;
    if (!ob->head)
        ob->tail = NULL;
    ob->pending -= b->w.count;
    ob->pending_bytes -= b->len;
    free_batch(b);
}

int pinhole_http_should_retry(int status)
{
    return status == 0 || status == 408 || status == 429 || status == 500 || status == 502 ||
           status == 503 || status == 504;
}
