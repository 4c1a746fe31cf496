/* INTERIM report and batch encoding used by the server until proto/ (issue 4) lands; replace the
 * two functions below with proto/report.h and proto/batch.h. Layout (all integers little-endian):
 *
 *   batch  = "PHB0" | u32 count | count x ( u32 length | report[length] )
 *   report = u8 version (0) | u8 mechanism | u64 collection id | fingerprint[32] |
 *            report id[16] | u64 time (collection precision units) | payload[payload_bytes]
 *
 * Decoding never trusts a length: every field is bounds-checked against the body. */
#ifndef PINHOLE_SERVER_INTERIM_WIRE_H
#define PINHOLE_SERVER_INTERIM_WIRE_H

#include "server/store/store.h"

#include <stddef.h>
#include <stdint.h>

#define PINHOLE_INTERIM_REPORT_HEADER (1u + 1u + 8u + PINHOLE_FINGERPRINT_BYTES + 16u + 8u)
#define PINHOLE_INTERIM_BATCH_HEADER 8u

/** Bytes of one encoded report of collection c. */
size_t pinhole_interim_report_bytes(const pinhole_collection *c);

/** Encode one report of collection c into out[0..pinhole_interim_report_bytes(c)).
 * Errors: PINHOLE_EBUFSIZE (len too small), PINHOLE_EFORMAT (payload_len != payload_bytes). */
int pinhole_interim_report_encode(const pinhole_collection *c, const uint8_t id[16], uint64_t time,
                                  const uint8_t *payload, size_t payload_len, uint8_t *out,
                                  size_t len);

/** Write a batch header for count reports into out[0..8). */
void pinhole_interim_batch_header(uint32_t count, uint8_t out[8]);

/** Append the u32 length prefix of a report of rlen bytes to out[0..4). */
void pinhole_interim_batch_prefix(uint32_t rlen, uint8_t out[4]);

/** Decode a batch body for collection c into r[0..*n): *n receives the report count; r is
 * allocated (free()) when *n > 0. Reports that cannot be used are marked REJECTED with their error:
 * PINHOLE_EVERSION (report version), PINHOLE_EMISMATCH (mechanism, collection id or fingerprint
 * differs), PINHOLE_EFORMAT (report length wrong for the collection), PINHOLE_ERANGE (time beyond
 * 2^62). Every other report is PENDING with payload pointing into body.
 * Whole-batch errors (nothing decoded, *r NULL): PINHOLE_EFORMAT (bad magic, count 0, bytes after
 * the last report), PINHOLE_ETRUNCATED (body ends inside a header or report), PINHOLE_EOVERFLOW
 * (count above max_reports), PINHOLE_ENOMEM. */
int pinhole_interim_batch_decode(const pinhole_collection *c, const uint8_t *body, size_t len,
                                 size_t max_reports, pinhole_ingest_report **r, size_t *n);

#endif
