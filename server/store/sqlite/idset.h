/* The writer's in-memory index of stored report ids: (collection, report id) -> row of the reports
 * log. It replaces a unique B-tree index on disk, whose random inserts rewrite one page per report
 * once the table outgrows a transaction (see docs/BENCHMARKS.md "Server ingest"); the reports table
 * is then an append-only log and ingest writes about one report's bytes per report.
 *
 * Open addressing with linear probing on a keyed 64-bit hash (SipHash-2-4, libsodium
 * crypto_shorthash, random key per process), so clients cannot choose ids that collide. A hit on
 * the hash is only a candidate: the caller compares the stored row. 16 bytes per slot, load <= 0.7.
 * Each entry carries the day of its report, so that the ids of days that left the report window
 * can be dropped whole (pinhole_idset_drop_days), which bounds the set by the window, not by
 * history. Used by one thread (the writer). */
#ifndef PINHOLE_SERVER_STORE_SQLITE_IDSET_H
#define PINHOLE_SERVER_STORE_SQLITE_IDSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct pinhole_idset_slot {
    uint64_t hash; /* keyed hash of (collection, report id); 0 = empty (1 is never used) */
    uint64_t row;  /* row of the reports table << PINHOLE_IDSET_DAY_BITS | the report's day */
} pinhole_idset_slot;

/* Days are Unix days (seconds / 86400) clamped to [0, 2^20 - 1] (to the year 4840); rows of the
 * reports table must stay below 2^44. */
#define PINHOLE_IDSET_DAY_BITS 20
#define PINHOLE_IDSET_DAY_MAX ((UINT64_C(1) << PINHOLE_IDSET_DAY_BITS) - 1)

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

/** Add (hash, rowid) of a report of Unix day `day` (clamped to [0, PINHOLE_IDSET_DAY_MAX]);
 * rowid in [0, 2^44). Returns 0, or -1 when out of memory while growing. */
int pinhole_idset_add(pinhole_idset *s, uint64_t hash, int64_t rowid, int64_t day);

/** Drop every entry whose day is <= horizon, rebuilding the table at the size the rest needs
 * (at least 2^16 slots), so memory follows the live entries. Returns the number dropped, or -1
 * when out of memory (the set is then unchanged). */
long long pinhole_idset_drop_days(pinhole_idset *s, int64_t horizon);

/** Memory held by the table, in bytes. */
size_t pinhole_idset_bytes(const pinhole_idset *s);

/** Iterate the rows whose hash equals hash: start with *pos = 0; returns 1 and *rowid for each
 * candidate, 0 when there are no more. */
int pinhole_idset_next(const pinhole_idset *s, uint64_t hash, size_t *pos, int64_t *rowid);

#endif
