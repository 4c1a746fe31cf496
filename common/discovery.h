/* Discovery rounds: a device string mapped into a round's closed domain of candidate extensions.
 *
 * A discovery collection learns frequent strings nobody listed (docs/discovery.md). A device holds
 * one string: UTF-8 bytes, 1 to PINHOLE_DISCOVERY_MAXLEN of them, no NUL. It is read as the padded
 * symbol sequence x[0..PINHOLE_DISCOVERY_PADLEN): its bytes, then zeros; a zero symbol is "end".
 *
 * A round is one closed domain. An extension round (kind PINHOLE_ROUND_EXTEND) carries a table of
 * ncand candidate prefixes, each `prefix_len` = a bytes with no zero byte, sorted and distinct, and
 * an extension length s (1..PINHOLE_DISCOVERY_EXTMAX bytes). Its items are the pairs
 * (candidate i, segment x[a..a+s) read as a big-endian integer): item i 256^s + segment, plus a
 * last item "other" for devices whose prefix x[0..a) is not in the table:
 *     k = ncand 256^s + 1.
 * A final round (PINHOLE_ROUND_FINAL) carries ncand complete strings, each stored zero-padded to
 * PINHOLE_DISCOVERY_MAXLEN bytes; item i is "the device's string equals candidate i", item ncand is
 * "other": k = ncand + 1. Each round's items are then randomized by an ordinary frequency oracle
 * (PGR by default) over [0, k).
 *
 * The mapping is constant-time in the string's bytes: it reads every table entry and selects with
 * masks. Pure functions, no allocation, thread-safe. Source of the round structure: prefix trees
 * grown over rounds, as in PEM (T. Wang, N. Li, S. Jha, "Locally Differentially Private Heavy
 * Hitter Identification", IEEE TDSC 2019, §4) and TreeHist (R. Bassily, K. Nissim, U. Stemmer,
 * A. Thakurta, NeurIPS 2017); the candidate table and the "other" item are ours. */
#ifndef PINHOLE_COMMON_DISCOVERY_H
#define PINHOLE_COMMON_DISCOVERY_H

#include <pinhole/pinhole.h> /* PINHOLE_DISCOVERY_MAXLEN and pinhole_discovery_check() are public */

#include <stddef.h>
#include <stdint.h>

#define PINHOLE_DISCOVERY_EXTMAX 3u /* longest extension of one round, bytes */
/* the padded symbol sequence: room for a prefix of MAXLEN bytes plus the longest extension */
#define PINHOLE_DISCOVERY_PADLEN (PINHOLE_DISCOVERY_MAXLEN + PINHOLE_DISCOVERY_EXTMAX)
#define PINHOLE_DISCOVERY_CANDMAX 65536u /* candidates of one round */

typedef enum pinhole_round_kind {
    PINHOLE_ROUND_EXTEND = 1, /* candidate prefixes x the next s bytes, plus "other" */
    PINHOLE_ROUND_FINAL = 2,  /* complete candidate strings, plus "other" */
} pinhole_round_kind;

/* A round's domain: the public part of a round config (proto/discovery.h adds the oracle and the
 * signature). The table is borrowed, never freed here. */
typedef struct pinhole_round_domain {
    pinhole_round_kind kind;
    uint32_t prefix_len;  /* EXTEND: bytes of every candidate (0 in the first round); FINAL: 0 */
    uint32_t ext;         /* EXTEND: bytes added, 1..PINHOLE_DISCOVERY_EXTMAX; FINAL: 0 */
    uint32_t ncand;       /* candidates, 1..PINHOLE_DISCOVERY_CANDMAX */
    const uint8_t *table; /* ncand entries of pinhole_round_width() bytes, sorted, distinct */
} pinhole_round_domain;

/* pinhole_discovery_check(s, len) (declared in <pinhole/pinhole.h>) checks a device string:
 * PINHOLE_OK, or PINHOLE_EINVAL (len == 0: the empty string is refused, there is nothing to
 * discover), PINHOLE_ETOOBIG (len > PINHOLE_DISCOVERY_MAXLEN), PINHOLE_EFORMAT (not well-formed
 * UTF-8 per RFC 3629: overlong forms, surrogates, code points above U+10FFFF, truncated sequences;
 * or a NUL byte). It runs over all PINHOLE_DISCOVERY_MAXLEN positions with no branch on the bytes,
 * so its time depends on nothing but whether len is in range. */

/** Bytes of one table entry: prefix_len (EXTEND) or PINHOLE_DISCOVERY_MAXLEN (FINAL). */
uint32_t pinhole_round_width(const pinhole_round_domain *d);

/** The round's domain size k (see the top of this file). Errors: PINHOLE_EINVAL (a field out of
 * range: kind, ncand 0 or above the maximum, EXTEND with ext outside 1..3 or prefix_len above
 * PINHOLE_DISCOVERY_MAXLEN, FINAL with prefix_len or ext nonzero). */
int pinhole_round_domain_size(const pinhole_round_domain *d, uint64_t *k);

/** Check a round's table: entries sorted strictly increasing (memcmp); EXTEND entries hold no zero
 * byte; FINAL entries are well-formed strings (pinhole_discovery_check on the bytes before the
 * first zero, all zeros after). Errors: those of pinhole_round_domain_size(), PINHOLE_EFORMAT. */
int pinhole_round_domain_check(const pinhole_round_domain *d);

/** Map a checked string into the round's domain: *value in [0, k). The string must have passed
 * pinhole_discovery_check (this function does not re-check it). Constant-time in the string's
 * bytes: every entry of the table is compared in full and the match is selected with masks; time
 * depends on the table's size only. No allocation. */
void pinhole_round_map(const pinhole_round_domain *d, const uint8_t *s, size_t len,
                       uint64_t *value);

/** Server side: the string an item of the round stands for. For i < k - 1 writes the candidate's
 * bytes followed by the segment's bytes up to its first zero into out[0..*len) (at most
 * prefix_len + ext bytes; PINHOLE_DISCOVERY_MAXLEN for FINAL) and sets *complete to 1 if the item
 * ends the string (a zero in its segment, or FINAL), else 0. Errors: PINHOLE_ERANGE (item is
 * "other" or >= k), PINHOLE_EFORMAT (a segment with a nonzero byte after a zero: no device string
 * maps there). */
int pinhole_round_item(const pinhole_round_domain *d, uint64_t item, uint8_t *out, size_t *len,
                       int *complete);

#endif
