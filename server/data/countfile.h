/* Count files: "label<TAB>count" per line, an optional header line, as in data/subtlex-us.tsv. */
#ifndef PINHOLE_SERVER_DATA_COUNTFILE_H
#define PINHOLE_SERVER_DATA_COUNTFILE_H

#include "common/rng.h"

#include <stddef.h>
#include <stdint.h>

typedef struct pinhole_countfile {
    uint64_t k;      /* number of items (data lines) */
    char **labels;   /* k labels, NUL-terminated */
    uint64_t *count; /* k counts */
    uint64_t total;  /* sum of the counts */
    uint64_t *cum; /* k cumulative counts: cum[v] = count[0] + ... + count[v] (cum[k-1] = total) */
} pinhole_countfile;

/** Read a count file. Each line is a label, a TAB, and a non-negative decimal count; the first
 * line is skipped as a header when its count field is a word (no digit, and nothing strtod reads
 * as a number: "nan", "inf" are bad counts, not headers). Blank lines are not allowed.
 * On error *err_line receives the 1-based line at fault (0 when not line-specific) and nothing
 * needs freeing. Errors: PINHOLE_EIO (cannot open or read), PINHOLE_EFORMAT (malformed line, count
 * not a number or over 2^63, empty label), PINHOLE_EINVAL (no data lines, or all counts zero,
 * or fewer than 2 items), PINHOLE_EOVERFLOW (total over 2^63), PINHOLE_ENOMEM. */
int pinhole_countfile_read(const char *path, pinhole_countfile *cf, uint64_t *err_line);

/** A sentence for an error of pinhole_countfile_read() on path (err_line as it returned), e.g.
 * "words.tsv:1: the count is not a whole number from 0 to 2^63 (expected label<TAB>count)". */
void pinhole_countfile_describe(int rc, const char *path, uint64_t err_line, char *buf, size_t len);

/** The item holding token position u (0 <= u < sum of counts) when tokens are laid out item by
 * item: the smallest v with cum[v] > u, cum[v] being the counts of items 0..v summed (the
 * cumulative counts, k of them). A uniform u in [0, total) draws an item with probability
 * count[v] / total. Binary search, O(log k). */
uint64_t pinhole_countfile_draw(const uint64_t *cum, uint64_t k, uint64_t u);

/** One simulated user's item, drawn with probability count[v] / total: the item holding a uniform
 * token position u = pinhole_rng_uniform64(rng, total) (pinhole_countfile_draw over cf->cum). The
 * one sampler of the simulations (`pinhole simulate`, `analyze`, `submit`, `demo`): a seeded rng
 * replays the same users. cf is one pinhole_countfile_read() filled; O(log k), no allocation. */
uint64_t pinhole_countfile_sample(const pinhole_countfile *cf, pinhole_rng *rng);

/** Free what pinhole_countfile_read() allocated; safe on a zeroed struct. */
void pinhole_countfile_free(pinhole_countfile *cf);

#endif
