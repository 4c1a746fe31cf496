/* Open-addressing hash set of report ids (keyed SipHash), for the writer's replay check. */
#include "server/store/sqlite/idset.h"
#include "common/bytes.h"
#include "common/error.h"

#include <sodium.h>
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

static void put(pinhole_idset_slot *slot, size_t cap, uint64_t hash, int64_t rowid, size_t *at)
{
    size_t i = (size_t)hash & (cap - 1);
    while (slot[i].hash != EMPTY)
        i = (i + 1) & (cap - 1);
    slot[i].hash = hash;
    slot[i].rowid = rowid;
    *at = i;
}

/* Rehash into a table of cap slots (a power of two above used / 0.7). */
static int resize(pinhole_idset *s, size_t cap)
{
    pinhole_idset_slot *n = calloc(cap, sizeof *n);
    if (!n)
        return -1;
    size_t used = 0, at;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i].hash > RESERVED) {
            put(n, cap, s->slot[i].hash, s->slot[i].rowid, &at);
            used++;
        }
    free(s->slot);
    s->slot = n;
    s->cap = cap;
    s->used = used;
    return 0;
}

int pinhole_idset_reserve(pinhole_idset *s, size_t n)
{
    size_t cap = s->cap;
    while (n > cap / 10 * 7)
        cap *= 2;
    return cap == s->cap ? 0 : resize(s, cap);
}

int pinhole_idset_add(pinhole_idset *s, uint64_t hash, int64_t rowid)
{
    if ((s->used + 1) * 10 > s->cap * 7 && resize(s, s->cap * 2) != 0) /* grow at load 0.7 */
        return -1;
    size_t at;
    put(s->slot, s->cap, hash, rowid, &at);
    s->used++;
    return 0;
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
            *rowid = s->slot[i].rowid;
            return 1;
        }
    }
}
