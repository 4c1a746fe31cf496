/* One report as a device makes it: randomize, draw the report id, frame. */
#include "client/device.h"
#include "client/encode.h"
#include "common/error.h"

#include <sodium.h>
#include <string.h>

/* Randomize (perm, and inst for an instantaneous step), draw the report id, frame in place. */
static int report(const pinhole_config *mech, const pinhole_report *header, uint64_t value,
                  pinhole_rng *perm, pinhole_rng *inst, pinhole_rng *id_rng, uint8_t *out,
                  size_t cap, size_t *written)
{
    const size_t pb = mech->payload_bytes;
    if (cap < pinhole_report_bytes(pb))
        return PINHOLE_EBUFSIZE;
    /* the payload is randomized where the report will hold it, and framed in place */
    uint8_t *payload = out + PINHOLE_REPORT_HEADERBYTES;
    const int rc = pinhole_encode_memoized(mech, value, perm, inst, payload, pb);
    if (rc != PINHOLE_OK)
        return rc;
    pinhole_report r = {.version = PINHOLE_REPORT_VERSION,
                        .mechanism = (uint8_t)mech->mechanism,
                        .collection_id = header->collection_id,
                        .time = header->time,
                        .payload = payload,
                        .payload_len = (uint32_t)pb};
    memcpy(r.fingerprint, header->fingerprint, sizeof r.fingerprint);
    if (id_rng)
        pinhole_rng_bytes(id_rng, r.report_id, sizeof r.report_id);
    else
        randombytes_buf(r.report_id, sizeof r.report_id);
    return pinhole_report_encode(&r, out, cap, written);
}

int pinhole_device_report(const pinhole_config *mech, const pinhole_report *header, uint64_t value,
                          pinhole_rng *rng, pinhole_rng *id_rng, uint8_t *out, size_t cap,
                          size_t *written)
{
    return report(mech, header, value, rng, rng, id_rng, out, cap, written);
}

int pinhole_device_report_memoized(const pinhole_config *mech, const pinhole_report *header,
                                   uint64_t value, pinhole_rng *perm, pinhole_rng *inst,
                                   pinhole_rng *id_rng, uint8_t *out, size_t cap, size_t *written)
{
    return report(mech, header, value, perm, inst, id_rng, out, cap, written);
}
