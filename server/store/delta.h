/* The count deltas of an ingest transaction: one dense vector of counts per (collection, time
 * bucket) the transaction touches, kept between transactions and shared by the storage backends
 * (each writes them out its own way). */
#ifndef PINHOLE_SERVER_STORE_DELTA_H
#define PINHOLE_SERVER_STORE_DELTA_H

#include "server/store/collection.h"

#include <stddef.h>
#include <stdint.h>

/* The count delta of one (collection, bucket): v holds coll->cfg.counts_len counts. */
typedef struct pinhole_count_delta {
    const pinhole_server_collection *coll;
    int64_t bucket;
    uint64_t n;   /* reports added */
    uint64_t *v;  /* the counts to add; all zero when the delta is not open */
    uint64_t len; /* allocated length of v */
} pinhole_count_delta;

/* The deltas open (delta[0 .. ndelta-1]) and the ones kept for reuse (up to cap). All zero:
 * empty. */
typedef struct pinhole_count_deltas {
    pinhole_count_delta *delta;
    size_t ndelta, cap;
} pinhole_count_deltas;

/* Writes the open deltas of a transaction out and closes them (ndelta 0, every vector zero), even
 * when it fails: PINHOLE_OK or the backend's error. */
typedef int (*pinhole_count_deltas_flush)(void *ctx);

/* The open delta of (c, bucket), opening one (zero) when there is none. At most 16 and at most
 * 64 MiB of vectors are open at once: at that limit flush(ctx) first writes the open ones out,
 * within the same transaction, so memory stays bounded whatever times the reports carry. Returns
 * the delta, or NULL with *rc set: flush's error, or PINHOLE_ENOMEM. */
pinhole_count_delta *pinhole_count_deltas_for(pinhole_count_deltas *ds,
                                              const pinhole_server_collection *c, int64_t bucket,
                                              pinhole_count_deltas_flush flush, void *ctx, int *rc);

/* Zero the vectors of the open deltas from index `from` on, and close every delta (ndelta 0): after
 * a failed transaction, or after writing delta[0 .. from-1] out (which zeroed theirs). */
void pinhole_count_deltas_clear(pinhole_count_deltas *ds, size_t from);

/* Release every vector and the array; ds is left empty. */
void pinhole_count_deltas_free(pinhole_count_deltas *ds);

#endif
