/* Report batches as the server receives them: proto/batch.h framing around plain reports or
 * reports sealed to the server's key (proto/seal.h), each decoded (proto/report.h) and checked
 * against its collection (id, fingerprint, mechanism, payload size) before it reaches the store. */
#ifndef PINHOLE_SERVER_SERVICE_INGEST_H
#define PINHOLE_SERVER_SERVICE_INGEST_H

#include "server/store/store.h"

#include <stddef.h>
#include <stdint.h>

/* Distinct report times (collection precision units) one batch may hold; reports with further
 * times are rejected (PINHOLE_ERANGE). */
#define PINHOLE_BATCH_MAX_BUCKETS 16

/** Decode a batch body for collection c into r[0..*n) (allocated, free() it); sealed reports are
 * opened with keys (the current sealing key, else the other live ones) into *arena (allocated or
 * NULL, free() it after the reports), which their payloads point into; plain reports' payloads
 * point into body. A report that cannot be used is marked REJECTED with its error: the errors of
 * pinhole_report_open (PINHOLE_ESIGNATURE: no live key opens it, e.g. one sealed to a retired
 * key ...), pinhole_report_decode (PINHOLE_ETRUNCATED,
 * PINHOLE_EVERSION, PINHOLE_EFORMAT, PINHOLE_ETOOBIG), pinhole_report_check (PINHOLE_EMISMATCH:
 * other collection, fingerprint or mechanism; PINHOLE_EFORMAT: payload size or padding), and
 * PINHOLE_ERANGE (time at or above 2^62, or a time beyond the batch's first
 * PINHOLE_BATCH_MAX_BUCKETS distinct ones), PINHOLE_EWINDOW (a time outside the collection's
 * report window at the wall clock's now). Every other report is PENDING.
 * Whole-batch errors (nothing allocated): those of pinhole_batch_reader_init (PINHOLE_ETRUNCATED,
 * PINHOLE_EVERSION, PINHOLE_EFORMAT, PINHOLE_ETOOBIG), PINHOLE_EFORMAT (an empty batch, or
 * bytes after its last item),
 * PINHOLE_ETOOBIG (more than max_reports reports), PINHOLE_ENOMEM. */
int pinhole_ingest_decode(const pinhole_server_collection *c, const pinhole_server_keys *keys,
                          const uint8_t *body, size_t len, size_t max_reports,
                          pinhole_ingest_report **r, size_t *n, uint8_t **arena);

#endif
