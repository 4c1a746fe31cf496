/* A collection's label list on the wire: its canonical form and hash (docs/protocol.md §4.5).
 *
 * Canonical form, little-endian: u64 k, then k labels in item order (label i names item i), each
 * a u32 length L (1 <= L <= PINHOLE_LABEL_MAXBYTES) followed by L bytes (UTF-8 text by
 * convention; compared as bytes). Nothing follows the k-th label. Labels are distinct.
 * Hash: BLAKE2b-256 (no key) of the 17 ASCII bytes "pinhole-labels-v1" followed by the canonical
 * form; a version 2 collection config carries it (proto/config.h), so the signature over the
 * config covers the labels.
 *
 * Pure and thread-safe; no allocation. */
#ifndef PINHOLE_PROTO_LABELS_H
#define PINHOLE_PROTO_LABELS_H

#include <pinhole/pinhole.h>
#include <stddef.h>
#include <stdint.h>

/** Bytes of the canonical form of labels[0..k) (NUL-terminated strings); 0 if a label is empty or
 * longer than PINHOLE_LABEL_MAXBYTES, or the size overflows size_t. */
size_t pinhole_labels_encoded_bytes(const char *const *labels, uint64_t k);

/** Write the canonical form of labels[0..k) into out[0..cap); *written receives its size.
 * Errors: PINHOLE_EINVAL (a label empty or longer than PINHOLE_LABEL_MAXBYTES, k 0),
 * PINHOLE_EBUFSIZE (cap too small). Distinctness is the caller's to ensure (the client refuses a
 * list with a repeated label). */
int pinhole_labels_encode(const char *const *labels, uint64_t k, uint8_t *out, size_t cap,
                          size_t *written);

/** The labels hash of the canonical list in[0..len) into out. */
void pinhole_labels_hash(const uint8_t *in, size_t len, uint8_t out[PINHOLE_LABELS_HASHBYTES]);

/** Check the framing of a canonical list in[0..len); *k receives its label count.
 * Errors: PINHOLE_ETRUNCATED (fewer than 8 bytes, or a length or label runs past len),
 * PINHOLE_EFORMAT (k 0, a label of length 0 or above PINHOLE_LABEL_MAXBYTES), PINHOLE_ETOOBIG
 * (bytes after the k-th label). Costs O(k). */
int pinhole_labels_check(const uint8_t *in, size_t len, uint64_t *k);

/** The next label of a checked list: *label and *label_len receive it, *pos (start at 8)
 * advances past it. The caller calls it at most k times. */
void pinhole_labels_next(const uint8_t *in, size_t *pos, const uint8_t **label, size_t *label_len);

#endif
