/* Open-addressing hash set of report ids (keyed SipHash), for the writer's replay check. */
#include "server/store/sqlite/idset.h"
#include "common/bytes.h"
#include "common/error.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY 0u
#define RESERVED 1u /* hashes are >= 2 */

int pinhole_idset_init(pinhole_idset *s)
{
    memset(s, 0, sizeof *s);
    s->cap = 1u << 16;
    s->slot = calloc(s->cap, sizeof *s->slot);
    if (!s->slot)
        return PINHOLE_ENOMEM;
    crypto_shorthash_keygen(s->key);
    return PINHOLE_OK;
}

void pinhole_idset_free(pinhole_idset *s)
{
    free(s->slot);
    memset(s, 0, sizeof *s);
}

uint64_t pinhole_idset_hash(const pinhole_idset *s, int64_t collection, const uint8_t id[16])
{
    uint8_t in[24], out[8];
    pinhole_store_le(in, (uint64_t)collection, 8);
    memcpy(in + 8, id, 16);
    crypto_shorthash(out, in, sizeof in, s->key);
    const uint64_t h = pinhole_load_le(out, 8);
    return h > RESERVED ? h : h + 2;
}

static void put(pinhole_idset_slot *slot, size_t cap, uint64_t hash, uint64_t row)
{
    size_t i = (size_t)hash & (cap - 1);
    while (slot[i].hash != EMPTY)
        i = (i + 1) & (cap - 1);
    slot[i].hash = hash;
    slot[i].row = row;
}

static int64_t day_of(uint64_t row)
{
    return (int64_t)(row & PINHOLE_IDSET_DAY_MAX);
}

/* Rehash into a table of cap slots (a power of two above the entries kept / 0.7), keeping the
 * entries of days after horizon. */
static int rebuild(pinhole_idset *s, size_t cap, int64_t horizon)
{
    pinhole_idset_slot *n = calloc(cap, sizeof *n);
    if (!n)
        return -1;
    size_t used = 0;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i].hash > RESERVED && day_of(s->slot[i].row) > horizon) {
            put(n, cap, s->slot[i].hash, s->slot[i].row);
            used++;
        }
    free(s->slot);
    s->slot = n;
    s->cap = cap;
    s->used = used;
    return 0;
}

static int resize(pinhole_idset *s, size_t cap)
{
    return rebuild(s, cap, INT64_MIN);
}

int pinhole_idset_reserve(pinhole_idset *s, size_t n)
{
    size_t cap = s->cap;
    while (n > cap / 10 * 7)
        cap *= 2;
    return cap == s->cap ? 0 : resize(s, cap);
}

int pinhole_idset_add(pinhole_idset *s, uint64_t hash, int64_t rowid, int64_t day)
{
    if ((s->used + 1) * 10 > s->cap * 7 && resize(s, s->cap * 2) != 0) /* grow at load 0.7 */
        return -1;
    const uint64_t d = day < 0                                 ? 0
                       : (uint64_t)day > PINHOLE_IDSET_DAY_MAX ? PINHOLE_IDSET_DAY_MAX
                                                               : (uint64_t)day;
    put(s->slot, s->cap, hash, (uint64_t)rowid << PINHOLE_IDSET_DAY_BITS | d);
    s->used++;
    return 0;
}

long long pinhole_idset_drop_days(pinhole_idset *s, int64_t horizon)
{
    size_t old = 0;
    for (size_t i = 0; i < s->cap; i++)
        old += s->slot[i].hash > RESERVED && day_of(s->slot[i].row) <= horizon;
    if (old == 0)
        return 0;
    size_t cap = 1u << 16;
    while (s->used - old > cap / 10 * 7)
        cap *= 2;
    return rebuild(s, cap, horizon) == 0 ? (long long)old : -1;
}

size_t pinhole_idset_bytes(const pinhole_idset *s)
{
    return s->cap * sizeof *s->slot;
}

int pinhole_idset_next(const pinhole_idset *s, uint64_t hash, size_t *pos, int64_t *rowid)
{
    /* *pos counts probes from the home slot; the probe sequence ends at the first empty slot */
    for (;;) {
        const size_t i = ((size_t)hash + *pos) & (s->cap - 1);
        if (s->slot[i].hash == EMPTY || *pos >= s->cap)
            return 0;
        ++*pos;
        if (s->slot[i].hash == hash) {
            *rowid = (int64_t)(s->slot[i].row >> PINHOLE_IDSET_DAY_BITS);
            return 1;
        }
    }
}
