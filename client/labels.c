/* A collection's labels on the device: the list verified against the hash its signed config
 * commits to, and a sorted index from label to item. */
#include "client/pinhole.h"
#include "proto/labels.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    const uint8_t *label; /* into list */
    size_t len;
    uint64_t item;
} entry;

struct pinhole_labels {
    uint8_t *list; /* the verified canonical list, owned */
    uint64_t k;
    uint64_t other_item; /* PINHOLE_NO_OTHER_ITEM if none */
    entry *by_item;      /* k entries in item order */
    entry *sorted;       /* k entries sorted by label bytes */
};

static int compare_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    const int c = memcmp(a, b, alen < blen ? alen : blen);
    return c != 0 ? c : (alen > blen) - (alen < blen);
}

static int compare_entries(const void *x, const void *y)
{
    const entry *a = x, *b = y;
    return compare_bytes(a->label, a->len, b->label, b->len);
}

void pinhole_labels_free(pinhole_labels *lab)
{
    if (!lab)
        return;
    free(lab->list);
    free(lab->by_item);
    free(lab->sorted);
    free(lab);
}

int pinhole_labels_new(pinhole_labels **out, const pinhole_collection *col, const uint8_t *list,
                       size_t len)
{
    *out = NULL;
    const pinhole_collection_config *cfg = &col->config;
    if (!cfg->has_labels)
        return PINHOLE_ENOTFOUND;
    if (!list)
        return PINHOLE_EINVAL;
    uint8_t hash[PINHOLE_LABELS_HASHBYTES];
    pinhole_labels_hash(list, len, hash);
    if (sodium_memcmp(hash, cfg->labels_hash, sizeof hash) != 0)
        return PINHOLE_ESIGNATURE;
    uint64_t k = 0;
    int rc = pinhole_labels_check(list, len, &k);
    if (rc != PINHOLE_OK)
        return rc;
    if (k != cfg->params.k)
        return PINHOLE_EFORMAT; /* a server bug: the list it signed does not fit its domain */
    pinhole_labels *lab = calloc(1, sizeof *lab);
    if (!lab)
        return PINHOLE_ENOMEM;
    lab->k = k;
    lab->other_item = cfg->other_item;
    lab->list = malloc(len);
    if (k <= SIZE_MAX / sizeof(entry)) {
        lab->by_item = malloc((size_t)k * sizeof(entry));
        lab->sorted = malloc((size_t)k * sizeof(entry));
    }
    if (!lab->list || !lab->by_item || !lab->sorted) {
        pinhole_labels_free(lab);
        return PINHOLE_ENOMEM;
    }
    memcpy(lab->list, list, len);
    size_t pos = 8;
    for (uint64_t i = 0; i < k; i++) {
        entry *e = &lab->by_item[i];
        pinhole_labels_next(lab->list, &pos, &e->label, &e->len);
        e->item = i;
    }
    memcpy(lab->sorted, lab->by_item, (size_t)k * sizeof(entry));
    qsort(lab->sorted, (size_t)k, sizeof(entry), compare_entries);
    for (uint64_t i = 1; i < k; i++)
        if (compare_entries(&lab->sorted[i - 1], &lab->sorted[i]) == 0) {
            pinhole_labels_free(lab);
            return PINHOLE_EFORMAT; /* a repeated label names no single item */
        }
    *out = lab;
    return PINHOLE_OK;
}

uint64_t pinhole_labels_count(const pinhole_labels *lab)
{
    return lab->k;
}

int pinhole_labels_index(const pinhole_labels *lab, const char *label, size_t len, uint64_t *item)
{
    if (!label)
        return PINHOLE_EINVAL;
    size_t lo = 0, hi = (size_t)lab->k;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        const entry *e = &lab->sorted[mid];
        const int c = compare_bytes((const uint8_t *)label, len, e->label, e->len);
        if (c == 0) {
            *item = e->item;
            return PINHOLE_OK;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (lab->other_item == PINHOLE_NO_OTHER_ITEM)
        return PINHOLE_ENOTFOUND;
    *item = lab->other_item;
    return PINHOLE_OK;
}

int pinhole_labels_get(const pinhole_labels *lab, uint64_t item, const char **label, size_t *len)
{
    if (item >= lab->k)
        return PINHOLE_ERANGE;
    *label = (const char *)lab->by_item[item].label;
    *len = lab->by_item[item].len;
    return PINHOLE_OK;
}
