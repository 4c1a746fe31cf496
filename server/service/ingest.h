/* Report batches as the server receives them: proto/batch.h framing around plain reports or
 * reports sealed to the server's key (proto/seal.h), decoded as the body streams in, each report
 * decoded (proto/report.h) and checked against its collection (id, fingerprint, mechanism,
 * payload size) before it reaches the store. */
#ifndef PINHOLE_SERVER_SERVICE_INGEST_H
#define PINHOLE_SERVER_SERVICE_INGEST_H

#include "server/store/store.h"

#include <stddef.h>
#include <stdint.h>

/* Distinct report times (collection precision units) one batch may hold; reports with further
 * times are rejected (PINHOLE_ERANGE). */
#define PINHOLE_BATCH_MAX_BUCKETS 16

/** A batch body decoded as it arrives, chunk by chunk (pinhole_ingest_stream_feed): the framing
 * is checked byte by byte, so a malformed batch is refused at its first bad byte, and each report
 * is decoded and checked as soon as its last byte arrives. Held meanwhile: a record per report
 * (its outcome, time, id and payload: 18 + payload_bytes bytes) and at most one report not yet
 * complete. An item longer than any report of the collection can be (plain: 56 + payload_bytes,
 * sealed: 48 more) is rejected unread, PINHOLE_ETOOBIG. */
typedef struct pinhole_ingest_stream pinhole_ingest_stream;

/** Start decoding a batch for collection c; sealed reports are opened with keys (the current
 * sealing key, else the other live ones; both must outlive the stream); the report window is
 * checked at the wall clock's now. Errors: PINHOLE_ENOMEM (*out NULL). Free with
 * pinhole_ingest_stream_free. */
int pinhole_ingest_stream_new(pinhole_ingest_stream **out, const pinhole_server_collection *c,
                              const pinhole_server_keys *keys, size_t max_reports);

/** Decode the next len bytes of the body. Returns PINHOLE_OK, or the batch's first whole-batch
 * error, which every later call repeats (the rest of the body is ignored): PINHOLE_EVERSION (the
 * first byte), PINHOLE_EFORMAT (unknown kind, reserved bytes nonzero, no report at all, an item of
 * length 0, bytes after the last item), PINHOLE_ETOOBIG (count above PINHOLE_BATCH_MAXCOUNT or
 * max_reports, an item longer than its kind allows), PINHOLE_ENOMEM. */
int pinhole_ingest_stream_feed(pinhole_ingest_stream *st, const uint8_t *data, size_t len);

/** Bytes the stream holds now (records and the incomplete report's buffers). */
size_t pinhole_ingest_stream_held(const pinhole_ingest_stream *st);

/** The body has ended: r[0..*n) receives the reports (allocated, free() it) and *arena the
 * records their payloads point into (free() it after the reports). A report that cannot be used
 * is marked REJECTED with its error: the errors of pinhole_report_open (PINHOLE_ESIGNATURE: no
 * live sealing key opens it, e.g. one sealed to a retired key ...),
 * pinhole_report_decode (PINHOLE_ETRUNCATED, PINHOLE_EVERSION, PINHOLE_EFORMAT, PINHOLE_ETOOBIG),
 * pinhole_report_check (PINHOLE_EMISMATCH: other collection, fingerprint or mechanism;
 * PINHOLE_EFORMAT: payload size or padding), PINHOLE_ETOOBIG (longer than any report of the
 * collection), PINHOLE_ERANGE (time at or above 2^62, or a time beyond the batch's first
 * PINHOLE_BATCH_MAX_BUCKETS distinct ones), PINHOLE_EWINDOW (a time outside the collection's
 * report window). Every other report is PENDING. Whole-batch errors (nothing allocated): those of
 * pinhole_ingest_stream_feed, PINHOLE_ETRUNCATED (the body ended before its last item),
 * PINHOLE_ENOMEM. */
int pinhole_ingest_stream_finish(pinhole_ingest_stream *st, pinhole_ingest_report **r, size_t *n,
                                 uint8_t **arena);

/** Free a stream (safe on NULL). */
void pinhole_ingest_stream_free(pinhole_ingest_stream *st);

/** Decode a whole batch body at once: pinhole_ingest_stream_new, _feed (all of body), _finish,
 * with their errors and results. */
int pinhole_ingest_decode(const pinhole_server_collection *c, const pinhole_server_keys *keys,
                          const uint8_t *body, size_t len, size_t max_reports,
                          pinhole_ingest_report **r, size_t *n, uint8_t **arena);

#endif
