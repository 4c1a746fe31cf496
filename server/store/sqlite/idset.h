/* The writer's in-memory index of stored report ids: (collection, report id) -> row of the reports
 * log. It replaces a unique B-tree index on disk, whose random inserts rewrite one page per report
 * once the table outgrows a transaction (see docs/BENCHMARKS.md "Server ingest"); the reports table
 * is then an append-only log and ingest writes about one report's bytes per report.
 *
 * Open addressing with linear probing on a keyed 64-bit hash (SipHash-2-4, libsodium
 * crypto_shorthash, random key per process), so clients cannot choose ids that collide. A hit on
 * the hash is only a candidate: the caller compares the stored row. 16 bytes per slot, load <= 0.7.
 * Used by one thread (the writer). */
#ifndef PINHOLE_SERVER_STORE_SQLITE_IDSET_H
#define PINHOLE_SERVER_STORE_SQLITE_IDSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct pinhole_idset_slot {
    uint64_t hash; /* keyed hash of (collection, report id); 0 = empty (1 is never used) */
    int64_t rowid; /* row of the reports table */
} pinhole_idset_slot;

typedef struct pinhole_idset {
    pinhole_idset_slot *slot;
    size_t cap;  /* power of two */
    size_t used; /* live and removed slots */
    uint8_t key[16];
} pinhole_idset;

/** An empty set with a fresh random hash key. Errors: PINHOLE_ENOMEM. */
int pinhole_idset_init(pinhole_idset *s);

/** Free the table and zero *s; safe on a zeroed set. */
void pinhole_idset_free(pinhole_idset *s);

/** The keyed hash of (collection, id), never 0 or 1. */
uint64_t pinhole_idset_hash(const pinhole_idset *s, int64_t collection, const uint8_t id[16]);

/** Make room for n entries in all without growing again; 0, or -1 when out of memory. */
int pinhole_idset_reserve(pinhole_idset *s, size_t n);

/** Hint that hash will be added soon: prefetch its home slot (no effect on the set). */
static inline void pinhole_idset_prefetch(const pinhole_idset *s, uint64_t hash)
{
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(&s->slot[(size_t)hash & (s->cap - 1)], 1);
#else
    (void)s;
    (void)hash;
#endif
}

/** Add (hash, rowid); returns 0, or -1 when out of memory while growing. */
int pinhole_idset_add(pinhole_idset *s, uint64_t hash, int64_t rowid);

/** Iterate the rows whose hash equals hash: start with *pos = 0; returns 1 and *rowid for each
 * candidate, 0 when there are no more. */
int pinhole_idset_next(const pinhole_idset *s, uint64_t hash, size_t *pos, int64_t *rowid);

#endif
