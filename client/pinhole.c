/* libpinhole's public calls: init, collections, the device's privacy policy and memoization, and
 * reports written into the caller's buffer (<pinhole/pinhole.h>). */
#include "client/pinhole.h"
#include "client/device.h"
#include "client/encode.h"
#include "common/bytes.h"
#include "common/ct.h"
#include "common/rng.h"

#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char MEMO_CONTEXT[] = "pinhole-memo-v1"; /* 15 bytes, without the NUL */

int pinhole_init(void)
{
    return sodium_init() < 0 ? PINHOLE_EUNSUPPORTED : PINHOLE_OK;
}

const char *pinhole_version_string(void)
{
    return PINHOLE_VERSION_STRING;
}
int pinhole_library_version_major(void)
{
    return PINHOLE_LIBRARY_VERSION_MAJOR;
}
int pinhole_library_version_minor(void)
{
    return PINHOLE_LIBRARY_VERSION_MINOR;
}
size_t pinhole_device_secretbytes(void)
{
    return PINHOLE_DEVICE_SECRETBYTES;
}

/* ---- collections ---- */

int pinhole_collection_init_config(pinhole_collection *col, const pinhole_collection_config *cfg)
{
    memset(col, 0, sizeof *col);
    int rc = pinhole_collection_config_fingerprint(cfg, col->fingerprint);
    if (rc != PINHOLE_OK)
        return rc;
    rc = pinhole_config_init(&col->mech, &cfg->params);
    if (rc != PINHOLE_OK) {
        memset(col, 0, sizeof *col);
        return rc;
    }
    col->config = *cfg;
    return PINHOLE_OK;
}

int pinhole_collection_init_signed(pinhole_collection *col, const uint8_t *signed_config,
                                   size_t len,
                                   const uint8_t server_pk[PINHOLE_CONFIG_PUBLICKEYBYTES])
{
    memset(col, 0, sizeof *col);
    pinhole_collection_config cfg;
    int rc = pinhole_collection_config_verify(signed_config, len, server_pk, &cfg);
    if (rc != PINHOLE_OK)
        return rc;
    rc = pinhole_collection_init_config(col, &cfg);
    if (rc == PINHOLE_OK)
        col->verified = 1;
    return rc;
}

int pinhole_collection_init_params(pinhole_collection *col, pinhole_mechanism_id mechanism,
                                   uint64_t k, double epsilon)
{
    memset(col, 0, sizeof *col);
    pinhole_config_params p = {.mechanism = mechanism, .k = k, .epsilon = epsilon};
    pinhole_collection_config cfg;
    int rc = pinhole_collection_config_make(&cfg, 0, &p, 1, 0);
    if (rc != PINHOLE_OK)
        return rc;
    return pinhole_collection_init_config(col, &cfg);
}

void pinhole_collection_clear(pinhole_collection *col)
{
    pinhole_config_free(&col->mech);
    memset(col, 0, sizeof *col);
}

/* The end of a pinhole_collection_new_*(): keep col in *out, or free it if its init failed (the
 * init has then released what it held). */
static int adopt(pinhole_collection *col, int rc, pinhole_collection **out)
{
    if (rc != PINHOLE_OK)
        free(col);
    else
        *out = col;
    return rc;
}

int pinhole_collection_new_signed(pinhole_collection **out, const uint8_t *signed_config,
                                  size_t len, const uint8_t *server_pk)
{
    *out = NULL;
    pinhole_collection *col = malloc(sizeof *col);
    if (!col)
        return PINHOLE_ENOMEM;
    return adopt(col, pinhole_collection_init_signed(col, signed_config, len, server_pk), out);
}

int pinhole_collection_new_params(pinhole_collection **out, pinhole_mechanism_id mechanism,
                                  uint64_t k, double epsilon)
{
    *out = NULL;
    pinhole_collection *col = malloc(sizeof *col);
    if (!col)
        return PINHOLE_ENOMEM;
    return adopt(col, pinhole_collection_init_params(col, mechanism, k, epsilon), out);
}

void pinhole_collection_free(pinhole_collection *col)
{
    if (!col)
        return;
    pinhole_collection_clear(col);
    free(col);
}

uint64_t pinhole_collection_id(const pinhole_collection *col)
{
    return col->config.collection_id;
}

pinhole_mechanism_id pinhole_collection_mechanism(const pinhole_collection *col)
{
    return col->mech.mechanism;
}

uint64_t pinhole_collection_k(const pinhole_collection *col)
{
    return col->mech.k;
}

double pinhole_collection_epsilon(const pinhole_collection *col)
{
    return col->config.params.epsilon;
}

double pinhole_collection_epsilon_permanent(const pinhole_collection *col)
{
    const double p = col->config.params.epsilon_permanent;
    return col->mech.mechanism == PINHOLE_MECH_SUE && p > 0 ? p : col->config.params.epsilon;
}

size_t pinhole_collection_reportbytes(const pinhole_collection *col)
{
    return pinhole_report_bytes(col->mech.payload_bytes);
}

size_t pinhole_collection_sealedbytes(const pinhole_collection *col)
{
    return pinhole_collection_reportbytes(col) + PINHOLE_SEALBYTES;
}

int pinhole_collection_has_labels(const pinhole_collection *col)
{
    return col->config.has_labels;
}

/* ---- the device ---- */

static int bad_epsilon_bound(double x)
{
    return !isfinite(x) || x < 0;
}

int pinhole_client_init(pinhole_client *cl, const pinhole_policy *policy,
                        const uint8_t *device_secret)
{
    memset(cl, 0, sizeof *cl);
    if (policy) {
        if (bad_epsilon_bound(policy->max_epsilon) || bad_epsilon_bound(policy->budget_epsilon))
            return PINHOLE_EINVAL;
        if (policy->budget_epsilon > 0 &&
            (policy->budget_period == 0 || !policy->load || !policy->store))
            return PINHOLE_EINVAL;
        cl->policy = *policy;
    }
    if (device_secret) {
        memcpy(cl->secret, device_secret, PINHOLE_DEVICE_SECRETBYTES);
        cl->has_secret = 1;
    }
    if (pthread_mutex_init(&cl->lock, NULL) != 0) {
        sodium_memzero(cl, sizeof *cl);
        return PINHOLE_ENOMEM;
    }
    return PINHOLE_OK;
}

void pinhole_client_clear(pinhole_client *cl)
{
    pthread_mutex_destroy(&cl->lock);
    sodium_memzero(cl, sizeof *cl);
}

int pinhole_client_new(pinhole_client **out, const pinhole_policy *policy,
                       const uint8_t *device_secret)
{
    *out = NULL;
    pinhole_client *cl = malloc(sizeof *cl);
    if (!cl)
        return PINHOLE_ENOMEM;
    int rc = pinhole_client_init(cl, policy, device_secret);
    if (rc != PINHOLE_OK) {
        free(cl);
        return rc;
    }
    *out = cl;
    return PINHOLE_OK;
}

void pinhole_client_free(pinhole_client *cl)
{
    if (!cl)
        return;
    pinhole_client_clear(cl);
    free(cl);
}

/* Charge epsilon to the budget of the period holding unix_seconds: load, check, store, under the
 * client's mutex so that concurrent reports cannot both spend the last of the budget. */
static int charge_budget(pinhole_client *cl, double epsilon, uint64_t unix_seconds)
{
    const pinhole_policy *p = &cl->policy;
    if (p->budget_epsilon <= 0)
        return PINHOLE_OK;
    const uint64_t period = unix_seconds / p->budget_period;
    pthread_mutex_lock(&cl->lock);
    double spent = 0;
    int rc = p->load(p->ctx, period, &spent);
    if (rc == PINHOLE_OK && (!isfinite(spent) || spent < 0))
        rc = PINHOLE_EFORMAT; /* a corrupt store must not reopen the budget */
    if (rc == PINHOLE_OK && spent + epsilon > p->budget_epsilon)
        rc = PINHOLE_EPOLICY;
    if (rc == PINHOLE_OK)
        rc = p->store(p->ctx, period, spent + epsilon);
    pthread_mutex_unlock(&cl->lock);
    return rc > 0 ? PINHOLE_EIO : rc;
}

/* The rng of one report: fresh from the OS, or the memoized stream of (collection, value). */
static void report_rng(const pinhole_client *cl, const pinhole_collection *col, uint64_t value,
                       int memoize, pinhole_rng *rng)
{
    if (!memoize) {
        pinhole_rng_init_system(rng);
        return;
    }
    uint8_t v[8], key[32];
    pinhole_store_le(v, value, 8);
    crypto_generichash_state st;
    crypto_generichash_init(&st, cl->secret, sizeof cl->secret, sizeof key);
    crypto_generichash_update(&st, (const uint8_t *)MEMO_CONTEXT, sizeof MEMO_CONTEXT - 1);
    crypto_generichash_update(&st, col->fingerprint, sizeof col->fingerprint);
    crypto_generichash_update(&st, v, sizeof v);
    crypto_generichash_final(&st, key, sizeof key);
    /* The key is a pseudo-random function of the value under the device secret: without the
     * secret it is independent of the value, so the randomizer's rejection loops may branch on
     * the stream it keys (as they do on a fresh stream). */
    pinhole_ct_declassify(key, sizeof key);
    pinhole_rng_init_key(rng, key);
    sodium_memzero(key, sizeof key);
    sodium_memzero(v, sizeof v);
    sodium_memzero(&st, sizeof st);
}

int pinhole_client_report(pinhole_client *cl, const pinhole_collection *col, uint64_t value,
                          uint64_t unix_seconds, unsigned flags, uint8_t *out, size_t cap,
                          size_t *written)
{
    const int memoize = (flags & PINHOLE_REPORT_MEMOIZE) != 0;
    if ((flags & ~(unsigned)PINHOLE_REPORT_MEMOIZE) != 0 || (memoize && !cl->has_secret))
        return PINHOLE_EINVAL;
    const pinhole_config *c = &col->mech;
    const size_t n = pinhole_report_bytes(c->payload_bytes);
    if (cap < n)
        return PINHOLE_EBUFSIZE;
    uint64_t in_range = pinhole_ct_lt64(value, c->k) & 1;
    pinhole_ct_declassify(&in_range, sizeof in_range); /* validity of the value is public */
    if (!in_range)
        return PINHOLE_ERANGE;
    const double eps = col->config.params.epsilon;
    if (cl->policy.max_epsilon > 0 && eps > cl->policy.max_epsilon)
        return PINHOLE_EPOLICY;

    pinhole_rng rng, inst;
    report_rng(cl, col, value, memoize, &rng);
    pinhole_report header = {.collection_id = col->config.collection_id,
                             .time = unix_seconds / col->config.time_precision};
    memcpy(header.fingerprint, col->fingerprint, sizeof header.fingerprint);
    /* the report id comes from the OS even when the payload is memoized */
    size_t len = 0;
    int rc;
    if (memoize) { /* the permanent response memoized, an instantaneous step fresh */
        pinhole_rng_init_system(&inst);
        rc = pinhole_device_report_memoized(c, &header, value, &rng, &inst, NULL, out, cap, &len);
        pinhole_rng_wipe(&inst);
    } else {
        rc = pinhole_device_report(c, &header, value, &rng, NULL, out, cap, &len);
    }
    pinhole_rng_wipe(&rng);
    if (rc == PINHOLE_OK)
        rc = charge_budget(cl, eps, unix_seconds);
    if (rc != PINHOLE_OK) {
        sodium_memzero(out, n);
        return rc;
    }
    *written = len;
    return PINHOLE_OK;
}

int pinhole_client_report_sealed(pinhole_client *cl, const pinhole_collection *col, uint64_t value,
                                 uint64_t unix_seconds, unsigned flags, const uint8_t *server_pk,
                                 uint8_t *out, size_t cap, size_t *written)
{
    if (cap < pinhole_collection_sealedbytes(col))
        return PINHOLE_EBUFSIZE;
    /* the report goes to the tail of out and is sealed in place (crypto_box_seal writes the
     * ciphertext exactly over its input, which libsodium allows) */
    size_t n = 0;
    int rc = pinhole_client_report(cl, col, value, unix_seconds, flags, out + PINHOLE_SEALBYTES,
                                   cap - PINHOLE_SEALBYTES, &n);
    if (rc != PINHOLE_OK)
        return rc;
    rc = pinhole_report_seal(out + PINHOLE_SEALBYTES, n, server_pk, out, cap, written);
    if (rc != PINHOLE_OK)
        sodium_memzero(out, cap < n + PINHOLE_SEALBYTES ? cap : n + PINHOLE_SEALBYTES);
    return rc;
}

int pinhole_client_report_batch(pinhole_client *cl, const pinhole_collection *col,
                                const uint64_t *values, size_t n, uint64_t unix_seconds,
                                unsigned flags, uint8_t *out, size_t cap, size_t *written)
{
    *written = 0;
    if (flags != 0)
        return PINHOLE_EINVAL;
    const pinhole_config *c = &col->mech;
    const size_t rb = pinhole_report_bytes(c->payload_bytes);
    if (n > SIZE_MAX / rb || cap < n * rb)
        return PINHOLE_EBUFSIZE;
    const double eps = col->config.params.epsilon;
    if (cl->policy.max_epsilon > 0 && eps > cl->policy.max_epsilon)
        return PINHOLE_EPOLICY;
    pinhole_rng rng;
    pinhole_rng_init_system(&rng); /* one keystream for every draw of the batch */
    int rc = pinhole_encode_batch(c, values, n, &rng, out + PINHOLE_REPORT_HEADERBYTES, rb);
    if (rc == PINHOLE_OK)
        rc = charge_budget(cl, eps * (double)n, unix_seconds);
    for (size_t i = 0; i < n && rc == PINHOLE_OK; i++) {
        uint8_t *o = out + i * rb;
        pinhole_report r = {.version = PINHOLE_REPORT_VERSION,
                            .mechanism = (uint8_t)c->mechanism,
                            .collection_id = col->config.collection_id,
                            .time = unix_seconds / col->config.time_precision,
                            .payload = o + PINHOLE_REPORT_HEADERBYTES,
                            .payload_len = c->payload_bytes};
        memcpy(r.fingerprint, col->fingerprint, sizeof r.fingerprint);
        pinhole_rng_bytes(&rng, r.report_id, sizeof r.report_id); /* fresh keystream bytes */
        size_t w = 0;
        rc = pinhole_report_encode(&r, o, rb, &w);
    }
    pinhole_rng_wipe(&rng);
    if (rc != PINHOLE_OK) {
        sodium_memzero(out, cap < n * rb ? cap : n * rb);
        return rc;
    }
    *written = n * rb;
    return PINHOLE_OK;
}
