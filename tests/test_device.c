/* pinhole_device_report, the one path from a value to report bytes: the same bytes as the
 * randomizer and the framing called by hand, the draw order (payload, then id), the OS id when no
 * id generator is given, and its errors. */
#include "client/device.h"
#include "client/encode.h"
#include "common/error.h"
#include "common/mechanism.h"

#include <criterion/criterion.h>
#include <string.h>

static pinhole_report header_for(uint64_t time)
{
    pinhole_report h = {.collection_id = 42, .time = time};
    for (unsigned i = 0; i < PINHOLE_FINGERPRINT_BYTES; i++)
        h.fingerprint[i] = (uint8_t)(0xa0 + i);
    return h;
}

/* Every mechanism of the table: the bytes equal pinhole_encode from the seed, then 16 id bytes from
 * the same stream, framed by pinhole_report_encode; they decode and check against the header. */
Test(device, same_bytes_as_by_hand)
{
    size_t n;
    const pinhole_mechanism_ops *all = pinhole_mechanism_all(&n);
    for (size_t m = 0; m < n; m++) {
        pinhole_config_params p = {.mechanism = all[m].id, .k = 50, .epsilon = 2};
        pinhole_config c;
        cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_OK, "%s", all[m].name);
        const pinhole_report h = header_for(777);
        for (uint64_t v = 0; v < c.k; v += 7) {
            pinhole_rng a, b;
            pinhole_rng_init_seeded(&a, 1000 + v);
            pinhole_rng_init_seeded(&b, 1000 + v);
            uint8_t got[PINHOLE_REPORT_MAXBYTES], want[PINHOLE_REPORT_MAXBYTES];
            uint8_t payload[PINHOLE_PAYLOAD_MAXBYTES];
            size_t got_len = 0, want_len = 0;
            cr_assert_eq(pinhole_device_report(&c, &h, v, &a, &a, got, sizeof got, &got_len),
                         PINHOLE_OK);
            cr_assert_eq(pinhole_encode(&c, v, &b, payload, c.payload_bytes), PINHOLE_OK);
            pinhole_report r = h;
            r.version = PINHOLE_REPORT_VERSION;
            r.mechanism = (uint8_t)c.mechanism;
            r.payload = payload;
            r.payload_len = (uint32_t)c.payload_bytes;
            pinhole_rng_bytes(&b, r.report_id, sizeof r.report_id);
            cr_assert_eq(pinhole_report_encode(&r, want, sizeof want, &want_len), PINHOLE_OK);
            cr_assert_eq(got_len, pinhole_report_bytes(c.payload_bytes));
            cr_assert_eq(got_len, want_len);
            cr_assert_eq(memcmp(got, want, got_len), 0, "%s value %llu", all[m].name,
                         (unsigned long long)v);
            pinhole_report d;
            cr_assert_eq(pinhole_report_decode(got, got_len, &d), PINHOLE_OK);
            cr_assert_eq(
                pinhole_report_check(&d, 42, h.fingerprint, (uint8_t)c.mechanism, c.payload_bits),
                PINHOLE_OK);
            cr_assert_eq(d.time, 777);
        }
        pinhole_config_free(&c);
    }
}

/* Without an id generator the payload is still the seeded one, the id comes from the OS: two
 * reports from equal seeds share their payload and differ in their id. */
Test(device, os_report_id)
{
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 1000, .epsilon = 3};
    pinhole_config c;
    cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_OK);
    const pinhole_report h = header_for(1);
    uint8_t x[PINHOLE_REPORT_MAXBYTES], y[PINHOLE_REPORT_MAXBYTES];
    size_t xl, yl;
    pinhole_rng a, b;
    pinhole_rng_init_seeded(&a, 9);
    pinhole_rng_init_seeded(&b, 9);
    cr_assert_eq(pinhole_device_report(&c, &h, 123, &a, NULL, x, sizeof x, &xl), PINHOLE_OK);
    cr_assert_eq(pinhole_device_report(&c, &h, 123, &b, NULL, y, sizeof y, &yl), PINHOLE_OK);
    cr_assert_eq(xl, yl);
    cr_assert_eq(
        memcmp(x + PINHOLE_REPORT_HEADERBYTES, y + PINHOLE_REPORT_HEADERBYTES, c.payload_bytes), 0);
    cr_assert_neq(memcmp(x + 32, y + 32, PINHOLE_REPORT_IDBYTES), 0);
    pinhole_config_free(&c);
}

Test(device, errors)
{
    pinhole_config_params p = {.mechanism = PINHOLE_MECH_GRR, .k = 10, .epsilon = 1};
    pinhole_config c;
    cr_assert_eq(pinhole_config_init(&c, &p), PINHOLE_OK);
    const pinhole_report h = header_for(1);
    uint8_t out[PINHOLE_REPORT_MAXBYTES];
    size_t len = 12345;
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 1);
    cr_assert_eq(pinhole_device_report(&c, &h, 10, &rng, &rng, out, sizeof out, &len),
                 PINHOLE_ERANGE);
    cr_assert_eq(pinhole_device_report(&c, &h, 3, &rng, &rng, out,
                                       pinhole_report_bytes(c.payload_bytes) - 1, &len),
                 PINHOLE_EBUFSIZE);
    cr_assert_eq(len, 12345); /* untouched on error */
    pinhole_config_free(&c);
}
