/* One report on the wire (docs/protocol.md §2): header fields plus the mechanism's payload bytes.
 *
 * Layout, version 1 (all integers little-endian, offsets in bytes):
 *    0  u8   version (1)             1  u8  mechanism (pinhole_mechanism_id)
 *    2  u16  reserved, 0             4  u32 payload length L in bytes, 1 <= L <=
 * PINHOLE_PAYLOAD_MAXBYTES 8  u64  collection id          16  16 bytes parameter fingerprint
 * (proto/config.h) 32  16 bytes random report id   48  u64 time, in the collection's precision
 * units 56  L bytes payload An encoded report is exactly 56 + L bytes; nothing may follow it.
 *
 * Every function here is pure (no allocation, no global state) and thread-safe. */
#ifndef PINHOLE_PROTO_REPORT_H
#define PINHOLE_PROTO_REPORT_H

#include "common/mechanism.h"

#include <stddef.h>
#include <stdint.h>

#define PINHOLE_REPORT_VERSION 1u
/* PINHOLE_FINGERPRINT_BYTES, PINHOLE_REPORT_IDBYTES, PINHOLE_REPORT_HEADERBYTES and
 * PINHOLE_REPORT_MAXBYTES (the header plus the largest payload) are in <pinhole/pinhole.h>. */

typedef struct pinhole_report {
    uint8_t version;   /* PINHOLE_REPORT_VERSION */
    uint8_t mechanism; /* pinhole_mechanism_id, nonzero */
    uint64_t collection_id;
    uint8_t fingerprint[PINHOLE_FINGERPRINT_BYTES];
    uint8_t report_id[PINHOLE_REPORT_IDBYTES];
    uint64_t time;          /* collection precision units (seconds / time_precision) */
    const uint8_t *payload; /* payload_len bytes; points into the caller's buffer, not owned */
    uint32_t payload_len;   /* bytes, 1..PINHOLE_PAYLOAD_MAXBYTES */
} pinhole_report;

/** Bytes of the report header, PINHOLE_REPORT_HEADERBYTES (56). */
size_t pinhole_report_headerbytes(void);

/** Encoded size in bytes of a report whose payload has payload_len bytes (56 + payload_len). */
size_t pinhole_report_bytes(size_t payload_len);

/** Write r into out[0..cap); *written receives the encoded size, 56 + r->payload_len bytes.
 * Errors: PINHOLE_EVERSION (r->version != 1), PINHOLE_EINVAL (mechanism 0, payload NULL or
 * payload_len 0), PINHOLE_ETOOBIG (payload_len > PINHOLE_PAYLOAD_MAXBYTES), PINHOLE_EBUFSIZE (cap
 * too small). On error nothing is written to *written. */
int pinhole_report_encode(const pinhole_report *r, uint8_t *out, size_t cap, size_t *written);

/** Parse in[0..len) into *r; r->payload points into in, so in must outlive r.
 * Errors, checked in this order: PINHOLE_ETRUNCATED (len == 0, or len < 56), PINHOLE_EVERSION
 * (version byte != 1), PINHOLE_EFORMAT (reserved bytes nonzero, mechanism 0, payload length 0),
 * PINHOLE_ETOOBIG (declared payload length > PINHOLE_PAYLOAD_MAXBYTES), PINHOLE_ETRUNCATED (len <
 * 56 + declared length), PINHOLE_ETOOBIG (bytes after the declared end). The version is checked
 * as soon as one byte is present. On error *r is zeroed. */
int pinhole_report_decode(const uint8_t *in, size_t len, pinhole_report *r);

/** Does the decoded report r belong to the collection with this id and fingerprint, and does its
 * payload have the configured mechanism and size? payload_bits are the configured bits of
 * information (pinhole_config.payload_bits): the payload must have ceil(payload_bits / 8) bytes and
 * its bits at and above payload_bits (little-endian bit order) must be 0.
 * Errors: PINHOLE_EMISMATCH (other collection id, fingerprint or mechanism), PINHOLE_EFORMAT
 * (payload length or padding bits wrong). Compares the fingerprint in constant time. */
int pinhole_report_check(const pinhole_report *r, uint64_t collection_id,
                         const uint8_t fingerprint[PINHOLE_FINGERPRINT_BYTES], uint8_t mechanism,
                         uint32_t payload_bits);

#endif
