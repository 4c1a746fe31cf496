/* libFuzzer harness: discovery round configs on arbitrary bytes — the canonical decoder (a decoded
 * config must re-encode identically), the signed form (with a fixed key), the round map and its
 * inverse over the decoded table, and the device string check on the raw bytes. */
#include "common/discovery.h"
#include "common/error.h"
#include "proto/discovery.h"

#include "fuzz_keys.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t pk[32], sk[64];
    fuzz_keys(pk, sk);
    /* the string check must agree with itself on a copy and never read past size */
    (void)pinhole_discovery_check(data, size);
    pinhole_round_config rc;
    if (pinhole_round_config_decode(data, size, &rc) == PINHOLE_OK) {
        uint8_t *out = malloc(size + PINHOLE_ROUND_SIGBYTES);
        size_t n;
        if (!out || pinhole_round_config_encode(&rc, out, size, &n) != PINHOLE_OK || n != size ||
            memcmp(out, data, size) != 0)
            abort();
        /* signed by the fixed key: verifies and decodes to the same table */
        pinhole_round_config back;
        if (pinhole_round_config_sign(&rc, sk, out, size + PINHOLE_ROUND_SIGBYTES, &n) !=
                PINHOLE_OK ||
            pinhole_round_config_verify(out, n, pk, &back) != PINHOLE_OK ||
            back.domain.ncand != rc.domain.ncand)
            abort();
        free(out);
        /* every table entry (padded as a string) maps to an item that names it back */
        uint64_t k;
        if (pinhole_round_domain_size(&rc.domain, &k) != PINHOLE_OK)
            abort();
        const uint32_t w = pinhole_round_width(&rc.domain);
        for (uint32_t i = 0; i < rc.domain.ncand && i < 64; i++) {
            uint8_t s[PINHOLE_DISCOVERY_MAXLEN + PINHOLE_DISCOVERY_EXTMAX];
            size_t len = w;
            memcpy(s, rc.domain.table + (size_t)i * w, w);
            if (rc.domain.kind == PINHOLE_ROUND_FINAL) {
                const uint8_t *z = memchr(s, 0, w);
                len = z ? (size_t)(z - s) : w;
            } else {
                s[len++] = 'x'; /* one more byte for the segment */
                if (len > PINHOLE_DISCOVERY_MAXLEN)
                    continue;
            }
            if (pinhole_discovery_check(s, len) != PINHOLE_OK)
                continue; /* extension prefixes may end inside a character */
            uint64_t v;
            pinhole_round_map(&rc.domain, s, len, &v);
            uint8_t name[PINHOLE_DISCOVERY_MAXLEN + PINHOLE_DISCOVERY_EXTMAX];
            size_t nlen;
            int complete;
            if (v >= k - 1 ||
                pinhole_round_item(&rc.domain, v, name, &nlen, &complete) != PINHOLE_OK)
                abort();
            if (nlen > len || memcmp(name, s, nlen) != 0)
                abort();
        }
    }
    if (size > PINHOLE_ROUND_SIGBYTES) {
        pinhole_round_config v;
        (void)pinhole_round_config_verify(data, size, pk, &v);
    }
    return 0;
}
