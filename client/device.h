/* One report as a device makes it: a value randomized by the collection's mechanism, framed with
 * the collection's header (proto/report.h). The single path of real devices (client/pinhole.c) and
 * of simulated ones (the CLI's uploads, the tests), which seed the generators to replay them. */
#ifndef PINHOLE_CLIENT_DEVICE_H
#define PINHOLE_CLIENT_DEVICE_H

#include "common/mechanism.h"
#include "common/rng.h"
#include "proto/report.h"

#include <stddef.h>
#include <stdint.h>

/** Make one report of `value` (0 <= value < mech->k) for a collection whose mechanism is
 * configured by `mech`. The payload is pinhole_encode(mech, value, rng) (drawn from `rng` first);
 * the report id, PINHOLE_REPORT_IDBYTES bytes, is drawn next from `id_rng`, or from the operating
 * system (randombytes_buf) when id_rng is NULL. Of `header` only the fields naming the collection
 * are read: collection_id, fingerprint and time (in the collection's precision units); version,
 * mechanism, report id and payload are set here. With seeded generators the bytes are the same on
 * every platform; rng and id_rng may be the same generator.
 * On success out[0..*written) holds the encoded report, pinhole_report_bytes(mech->payload_bytes)
 * bytes, whose payload is out + PINHOLE_REPORT_HEADERBYTES. Thread-safe for distinct generators;
 * no allocation. Errors: PINHOLE_EBUFSIZE (cap < pinhole_report_bytes(mech->payload_bytes)), and
 * pinhole_encode's: PINHOLE_ERANGE (value >= k), PINHOLE_EUNSUPPORTED. On error *written is not
 * set and out may hold part of a report (the caller wipes it when that matters). */
int pinhole_device_report(const pinhole_config *mech, const pinhole_report *header, uint64_t value,
                          pinhole_rng *rng, pinhole_rng *id_rng, uint8_t *out, size_t cap,
                          size_t *written);

/** As pinhole_device_report(), for a memoized report: the permanent randomized response drawn
 * from perm (the device's memo stream of (collection, value)) and a mechanism's instantaneous
 * step, if it has one, from inst (fresh randomness): pinhole_encode_memoized(). Same errors. */
int pinhole_device_report_memoized(const pinhole_config *mech, const pinhole_report *header,
                                   uint64_t value, pinhole_rng *perm, pinhole_rng *inst,
                                   pinhole_rng *id_rng, uint8_t *out, size_t cap, size_t *written);

#endif
