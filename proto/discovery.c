/* Round configs of discovery collections: canonical form and Ed25519 signature. */
#include "proto/discovery.h"
#include "common/bytes.h"
#include "common/error.h"

#include <sodium.h>
#include <string.h>

static const char SIG_CONTEXT[] = "pinhole-round-v1-sig"; /* 20 bytes, without the NUL */

size_t pinhole_round_config_bytes(const pinhole_round_config *rc)
{
    uint64_t k;
    if (pinhole_round_domain_size(&rc->domain, &k) != PINHOLE_OK)
        return 0;
    return PINHOLE_ROUND_HEADERBYTES + (size_t)rc->domain.ncand * pinhole_round_width(&rc->domain);
}

int pinhole_round_config_check(const pinhole_round_config *rc)
{
    uint64_t k;
    if (pinhole_round_domain_size(&rc->domain, &k) != PINHOLE_OK || rc->oracle.params.k != k)
        return PINHOLE_EINVAL;
    return pinhole_round_domain_check(&rc->domain);
}

int pinhole_round_config_encode(const pinhole_round_config *rc, uint8_t *out, size_t cap,
                                size_t *written)
{
    int err = pinhole_round_config_check(rc);
    if (err != PINHOLE_OK)
        return err;
    const size_t n = pinhole_round_config_bytes(rc);
    if (cap < n)
        return PINHOLE_EBUFSIZE;
    out[0] = PINHOLE_ROUND_VERSION;
    out[1] = (uint8_t)rc->domain.kind;
    out[2] = out[3] = 0;
    pinhole_store_le(out + 4, rc->round, 4);
    pinhole_store_le(out + 8, rc->domain.prefix_len, 4);
    pinhole_store_le(out + 12, rc->domain.ext, 4);
    pinhole_store_le(out + 16, rc->domain.ncand, 4);
    pinhole_store_le(out + 20, 0, 4);
    err = pinhole_collection_config_encode(&rc->oracle, out + 24);
    if (err != PINHOLE_OK)
        return err;
    if (n > PINHOLE_ROUND_HEADERBYTES) /* the first round's table is empty */
        memcpy(out + PINHOLE_ROUND_HEADERBYTES, rc->domain.table, n - PINHOLE_ROUND_HEADERBYTES);
    *written = n;
    return PINHOLE_OK;
}

int pinhole_round_config_decode(const uint8_t *in, size_t len, pinhole_round_config *rc)
{
    memset(rc, 0, sizeof *rc);
    if (len == 0)
        return PINHOLE_ETRUNCATED;
    if (in[0] != PINHOLE_ROUND_VERSION)
        return PINHOLE_EVERSION;
    if (len < PINHOLE_ROUND_HEADERBYTES)
        return PINHOLE_ETRUNCATED;
    if (in[2] != 0 || in[3] != 0 || pinhole_load_le(in + 20, 4) != 0)
        return PINHOLE_EFORMAT;
    pinhole_round_config r = {0};
    r.round = (uint32_t)pinhole_load_le(in + 4, 4);
    r.domain.kind = (pinhole_round_kind)in[1];
    r.domain.prefix_len = (uint32_t)pinhole_load_le(in + 8, 4);
    r.domain.ext = (uint32_t)pinhole_load_le(in + 12, 4);
    r.domain.ncand = (uint32_t)pinhole_load_le(in + 16, 4);
    uint64_t k;
    if (pinhole_round_domain_size(&r.domain, &k) != PINHOLE_OK)
        return PINHOLE_EFORMAT;
    const size_t n = pinhole_round_config_bytes(&r);
    if (len < n)
        return PINHOLE_ETRUNCATED;
    if (len > n)
        return PINHOLE_ETOOBIG;
    r.domain.table = in + PINHOLE_ROUND_HEADERBYTES;
    if (pinhole_round_domain_check(&r.domain) != PINHOLE_OK)
        return PINHOLE_EFORMAT;
    int err = pinhole_collection_config_decode(in + 24, PINHOLE_CONFIG_BYTES, &r.oracle);
    if (err != PINHOLE_OK)
        return err;
    if (r.oracle.params.k != k)
        return PINHOLE_EFORMAT;
    *rc = r;
    return PINHOLE_OK;
}

/* The signed message: the context string, then the digest of the canonical bytes. */
static void sig_message(const uint8_t *bytes, size_t n, uint8_t msg[sizeof SIG_CONTEXT - 1 + 32])
{
    memcpy(msg, SIG_CONTEXT, sizeof SIG_CONTEXT - 1);
    crypto_generichash(msg + sizeof SIG_CONTEXT - 1, 32, bytes, n, NULL, 0);
}

int pinhole_round_config_sign(const pinhole_round_config *rc,
                              const uint8_t sk[PINHOLE_CONFIG_SECRETKEYBYTES], uint8_t *out,
                              size_t cap, size_t *written)
{
    size_t n;
    const size_t need = pinhole_round_config_bytes(rc) + PINHOLE_ROUND_SIGBYTES;
    if (need > PINHOLE_ROUND_SIGBYTES && cap < need)
        return PINHOLE_EBUFSIZE;
    int err = pinhole_round_config_encode(rc, out, cap, &n);
    if (err != PINHOLE_OK)
        return err;
    uint8_t msg[sizeof SIG_CONTEXT - 1 + 32];
    sig_message(out, n, msg);
    crypto_sign_detached(out + n, NULL, msg, sizeof msg, sk);
    *written = n + PINHOLE_ROUND_SIGBYTES;
    return PINHOLE_OK;
}

int pinhole_round_config_verify(const uint8_t *in, size_t len,
                                const uint8_t pk[PINHOLE_CONFIG_PUBLICKEYBYTES],
                                pinhole_round_config *rc)
{
    memset(rc, 0, sizeof *rc);
    if (len < PINHOLE_ROUND_HEADERBYTES + PINHOLE_ROUND_SIGBYTES)
        return PINHOLE_ETRUNCATED;
    const size_t n = len - PINHOLE_ROUND_SIGBYTES;
    uint8_t msg[sizeof SIG_CONTEXT - 1 + 32];
    sig_message(in, n, msg);
    if (crypto_sign_verify_detached(in + n, msg, sizeof msg, pk) != 0)
        return PINHOLE_ESIGNATURE;
    return pinhole_round_config_decode(in, n, rc);
}
