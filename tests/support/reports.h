/* Test support: reports and report batches built by hand for a server collection, as the store
 * takes them (pinhole_ingest_report) and as a device sends them (wire batches, plain or sealed). */
#ifndef PINHOLE_TESTS_SUPPORT_REPORTS_H
#define PINHOLE_TESTS_SUPPORT_REPORTS_H

#include "proto/report.h"
#include "server/store/store.h"

#include <stddef.h>
#include <stdint.h>

/** An ingest report of collection c: id all idbyte, time bucket, payload (c's payload size). */
void test_ingest_report(pinhole_ingest_report *r, const pinhole_server_collection *c,
                        uint8_t idbyte, int64_t bucket, const uint8_t *payload);

/** The wire report of c with id all idbyte, time (precision units) and payload byte value (every
 * payload byte; keep it below the mechanism's alphabet), its fingerprint and id c's. */
pinhole_report test_wire_report(const pinhole_server_collection *c, uint8_t idbyte, uint64_t time,
                                const uint8_t *payload);

/** A batch body holding r[0..n) encoded, sealed to seal_pk when seal_pk is not NULL. Returns the
 * malloc'd body (*len its size); aborts the test on an encoding error. */
uint8_t *test_batch(const pinhole_report *r, size_t n, const uint8_t *seal_pk, size_t *len);

#endif
