/* Collection config: canonical binary form, fingerprint (BLAKE2b) and signature (Ed25519). */
#include "proto/config.h"
#include "common/bytes.h"
#include "common/error.h"
#include "common/pgr.h"

#include <math.h>
#include <sodium.h>
#include <string.h>

static const char FP_CONTEXT[] = "pinhole-config-v1-fp";   /* 20 bytes, without the NUL */
static const char SIG_CONTEXT[] = "pinhole-config-v1-sig"; /* 21 bytes */

size_t pinhole_collection_config_bytes(void)
{
    return PINHOLE_CONFIG_BYTES;
}
size_t pinhole_collection_config_encoded_bytes(const pinhole_collection_config *cfg)
{
    return cfg->has_labels ? PINHOLE_CONFIG_V2BYTES : PINHOLE_CONFIG_BYTES;
}

size_t pinhole_collection_config_signed_bytes(const pinhole_collection_config *cfg)
{
    return pinhole_collection_config_encoded_bytes(cfg) + PINHOLE_CONFIG_SIGBYTES;
}

size_t pinhole_collection_config_signedbytes(void)
{
    return PINHOLE_CONFIG_SIGNEDBYTES;
}
size_t pinhole_collection_config_publickeybytes(void)
{
    return PINHOLE_CONFIG_PUBLICKEYBYTES;
}
size_t pinhole_collection_config_secretkeybytes(void)
{
    return PINHOLE_CONFIG_SECRETKEYBYTES;
}

/* The field checks shared by encode and decode; PINHOLE_EFORMAT on a bad field. */
static int check_fields(const pinhole_collection_config *cfg)
{
    const pinhole_config_params *p = &cfg->params;
    if (p->k < 2 || pinhole_epsilon_check(p->epsilon) != PINHOLE_OK || cfg->time_precision == 0)
        return PINHOLE_EFORMAT;
    /* 0 (+0 only: one encoding per config) or a valid epsilon */
    if ((p->epsilon_permanent != 0 || signbit(p->epsilon_permanent)) &&
        pinhole_epsilon_check(p->epsilon_permanent) != PINHOLE_OK)
        return PINHOLE_EFORMAT;
    if (p->mechanism == PINHOLE_MECH_PGR && (p->q < 2 || p->t < 2))
        return PINHOLE_EFORMAT;
    if ((unsigned)p->mechanism == 0 || (unsigned)p->mechanism > 255)
        return PINHOLE_EFORMAT;
    if (cfg->has_labels && cfg->other_item != PINHOLE_NO_OTHER_ITEM && cfg->other_item >= p->k)
        return PINHOLE_EFORMAT;
    return PINHOLE_OK;
}

int pinhole_collection_config_make(pinhole_collection_config *cfg, uint64_t collection_id,
                                   const pinhole_config_params *params, uint32_t time_precision,
                                   uint32_t min_reports)
{
    memset(cfg, 0, sizeof *cfg);
    if (time_precision == 0)
        return PINHOLE_EINVAL;
    pinhole_config c;
    int rc = pinhole_config_init(&c, params);
    if (rc != PINHOLE_OK)
        return rc;
    cfg->collection_id = collection_id;
    cfg->params = *params;
    if (c.mechanism == PINHOLE_MECH_PGR) {
        cfg->params.q = c.u.pgr.q;
        cfg->params.t = c.u.pgr.t;
    }
    cfg->time_precision = time_precision;
    cfg->min_reports = min_reports;
    pinhole_config_free(&c);
    return PINHOLE_OK;
}

int pinhole_collection_config_encode(const pinhole_collection_config *cfg, uint8_t *out)
{
    if (check_fields(cfg) != PINHOLE_OK)
        return PINHOLE_EINVAL;
    uint64_t eps_bits, perm_bits;
    memcpy(&eps_bits, &cfg->params.epsilon, sizeof eps_bits);
    memcpy(&perm_bits, &cfg->params.epsilon_permanent, sizeof perm_bits);
    out[0] = cfg->has_labels ? PINHOLE_CONFIG_V2 : PINHOLE_CONFIG_V1;
    out[1] = (uint8_t)cfg->params.mechanism;
    out[2] = out[3] = 0;
    pinhole_store_le(out + 4, cfg->collection_id, 8);
    pinhole_store_le(out + 12, cfg->params.k, 8);
    pinhole_store_le(out + 20, eps_bits, 8);
    pinhole_store_le(out + 28, cfg->params.q, 4);
    pinhole_store_le(out + 32, cfg->params.t, 4);
    pinhole_store_le(out + 36, cfg->time_precision, 4);
    pinhole_store_le(out + 40, cfg->min_reports, 4);
    pinhole_store_le(out + 44, perm_bits, 8);
    pinhole_store_le(out + 52, cfg->params.pool, 4);
    pinhole_store_le(out + 56, cfg->params.pool_key, 8);
    pinhole_store_le(out + 64, cfg->params.block, 8);
    if (cfg->has_labels) {
        memcpy(out + 72, cfg->labels_hash, PINHOLE_LABELS_HASHBYTES);
        pinhole_store_le(out + 104, cfg->other_item, 8);
    }
    return PINHOLE_OK;
}

/* The canonical length of a config whose first byte is version, 0 for an unknown version. */
static size_t length_of_version(uint8_t version)
{
    return version == PINHOLE_CONFIG_V1   ? PINHOLE_CONFIG_BYTES
           : version == PINHOLE_CONFIG_V2 ? PINHOLE_CONFIG_V2BYTES
                                          : 0;
}

int pinhole_collection_config_decode(const uint8_t *in, size_t len, pinhole_collection_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    if (len == 0)
        return PINHOLE_ETRUNCATED;
    const size_t want = length_of_version(in[0]);
    if (want == 0)
        return PINHOLE_EVERSION;
    if (len < want)
        return PINHOLE_ETRUNCATED;
    if (len > want)
        return PINHOLE_ETOOBIG;
    if (in[2] != 0 || in[3] != 0 || in[1] == 0)
        return PINHOLE_EFORMAT;
    pinhole_collection_config c = {0};
    const uint64_t eps_bits = pinhole_load_le(in + 20, 8);
    c.params.mechanism = (pinhole_mechanism_id)in[1];
    c.collection_id = pinhole_load_le(in + 4, 8);
    c.params.k = pinhole_load_le(in + 12, 8);
    memcpy(&c.params.epsilon, &eps_bits, sizeof eps_bits);
    c.params.q = (uint32_t)pinhole_load_le(in + 28, 4);
    c.params.t = (uint32_t)pinhole_load_le(in + 32, 4);
    c.time_precision = (uint32_t)pinhole_load_le(in + 36, 4);
    c.min_reports = (uint32_t)pinhole_load_le(in + 40, 4);
    const uint64_t perm_bits = pinhole_load_le(in + 44, 8);
    memcpy(&c.params.epsilon_permanent, &perm_bits, sizeof perm_bits);
    c.params.pool = (uint32_t)pinhole_load_le(in + 52, 4);
    c.params.pool_key = pinhole_load_le(in + 56, 8);
    c.params.block = pinhole_load_le(in + 64, 8);
    if (in[0] == PINHOLE_CONFIG_V2) {
        c.has_labels = 1;
        memcpy(c.labels_hash, in + 72, PINHOLE_LABELS_HASHBYTES);
        c.other_item = pinhole_load_le(in + 104, 8);
    }
    int rc = check_fields(&c);
    if (rc != PINHOLE_OK)
        return rc;
    if (pinhole_mechanism_find(c.params.mechanism) == NULL)
        return PINHOLE_EUNSUPPORTED;
    *cfg = c;
    return PINHOLE_OK;
}

int pinhole_collection_config_fingerprint(const pinhole_collection_config *cfg,
                                          uint8_t out[PINHOLE_FINGERPRINT_BYTES])
{
    uint8_t bytes[PINHOLE_CONFIG_V2BYTES];
    int rc = pinhole_collection_config_encode(cfg, bytes);
    if (rc != PINHOLE_OK)
        return rc;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, PINHOLE_FINGERPRINT_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)FP_CONTEXT, sizeof FP_CONTEXT - 1);
    crypto_generichash_update(&st, bytes, pinhole_collection_config_encoded_bytes(cfg));
    crypto_generichash_final(&st, out, PINHOLE_FINGERPRINT_BYTES);
    return PINHOLE_OK;
}

void pinhole_collection_config_keypair(uint8_t pk[PINHOLE_CONFIG_PUBLICKEYBYTES],
                                       uint8_t sk[PINHOLE_CONFIG_SECRETKEYBYTES])
{
    crypto_sign_keypair(pk, sk);
}

/* The signed message: the context string followed by the n canonical config bytes; its length. */
static size_t sig_message(const uint8_t *config, size_t n,
                          uint8_t msg[sizeof SIG_CONTEXT - 1 + PINHOLE_CONFIG_V2BYTES])
{
    memcpy(msg, SIG_CONTEXT, sizeof SIG_CONTEXT - 1);
    memcpy(msg + sizeof SIG_CONTEXT - 1, config, n);
    return sizeof SIG_CONTEXT - 1 + n;
}

int pinhole_collection_config_sign(const pinhole_collection_config *cfg,
                                   const uint8_t sk[PINHOLE_CONFIG_SECRETKEYBYTES], uint8_t *out)
{
    int rc = pinhole_collection_config_encode(cfg, out);
    if (rc != PINHOLE_OK)
        return rc;
    const size_t n = pinhole_collection_config_encoded_bytes(cfg);
    uint8_t msg[sizeof SIG_CONTEXT - 1 + PINHOLE_CONFIG_V2BYTES];
    const size_t m = sig_message(out, n, msg);
    crypto_sign_detached(out + n, NULL, msg, m, sk);
    return PINHOLE_OK;
}

int pinhole_collection_config_verify(const uint8_t *in, size_t len,
                                     const uint8_t pk[PINHOLE_CONFIG_PUBLICKEYBYTES],
                                     pinhole_collection_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    if (len == 0)
        return PINHOLE_ETRUNCATED;
    /* an unknown version is verified as version 1 and refused by the decoder after the check */
    const size_t n = in[0] == PINHOLE_CONFIG_V2 ? PINHOLE_CONFIG_V2BYTES : PINHOLE_CONFIG_BYTES;
    if (len < n + PINHOLE_CONFIG_SIGBYTES)
        return PINHOLE_ETRUNCATED;
    if (len > n + PINHOLE_CONFIG_SIGBYTES)
        return PINHOLE_ETOOBIG;
    uint8_t msg[sizeof SIG_CONTEXT - 1 + PINHOLE_CONFIG_V2BYTES];
    const size_t m = sig_message(in, n, msg);
    if (crypto_sign_verify_detached(in + n, msg, m, pk) != 0)
        return PINHOLE_ESIGNATURE;
    return pinhole_collection_config_decode(in, n, cfg);
}
