/* Multi-attribute collections, device side: pair numbering, cells, the pair draw and the report. */
#include "client/multi.h"
#include "common/error.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char PAIR_CONTEXT[] = "pinhole-multi-pair-v1"; /* without the NUL */

/* Check the attributes and allocate the pairs: PINHOLE_OK, PINHOLE_EINVAL or PINHOLE_ENOMEM. */
static int multi_alloc(pinhole_multi *mc, uint32_t d, const uint32_t *k)
{
    memset(mc, 0, sizeof *mc);
    if (d == 0 || d > PINHOLE_MULTI_DMAX || !k)
        return PINHOLE_EINVAL;
    for (uint32_t j = 0; j < d; j++) {
        if (k[j] < 2 || k[j] > PINHOLE_MULTI_KMAX)
            return PINHOLE_EINVAL;
        for (uint32_t l = 0; l < j; l++)
            if (k[j] * k[l] > PINHOLE_MULTI_CELLMAX)
                return PINHOLE_EINVAL;
    }
    const uint32_t m = d == 1 ? 1 : d * (d - 1) / 2;
    mc->pairs = calloc(m, sizeof *mc->pairs);
    if (!mc->pairs)
        return PINHOLE_ENOMEM;
    mc->d = d;
    mc->npairs = m;
    memcpy(mc->k, k, d * sizeof *k);
    return PINHOLE_OK;
}

/* Cells of pair p's product domain. */
static uint64_t pair_cells(const pinhole_multi *mc, uint32_t p)
{
    uint32_t j = 0, l = 0;
    pinhole_multi_pair(mc, p, &j, &l);
    return mc->d == 1 ? mc->k[0] : (uint64_t)mc->k[j] * mc->k[l];
}

int pinhole_multi_init(pinhole_multi *mc, uint64_t base_id, uint32_t d, const uint32_t *k,
                       pinhole_mechanism_id mechanism, double epsilon)
{
    int rc = multi_alloc(mc, d, k);
    if (rc == PINHOLE_OK && base_id > UINT64_MAX - mc->npairs)
        rc = PINHOLE_EINVAL;
    if (rc != PINHOLE_OK) {
        pinhole_multi_clear(mc);
        return rc;
    }
    mc->base_id = base_id;
    for (uint32_t p = 0; p < mc->npairs; p++) {
        pinhole_config_params par = {
            .mechanism = mechanism, .k = pair_cells(mc, p), .epsilon = epsilon};
        pinhole_collection_config cfg;
        rc = pinhole_collection_config_make(&cfg, base_id + p, &par, 1, 0);
        if (rc == PINHOLE_OK)
            rc = pinhole_collection_init_config(&mc->pairs[p], &cfg);
        if (rc != PINHOLE_OK) {
            pinhole_multi_clear(mc);
            return rc;
        }
    }
    return PINHOLE_OK;
}

int pinhole_multi_init_signed(pinhole_multi *mc, uint32_t d, const uint32_t *k,
                              const uint8_t *const *signed_configs,
                              const uint8_t server_pk[PINHOLE_CONFIG_PUBLICKEYBYTES])
{
    int rc = multi_alloc(mc, d, k);
    for (uint32_t p = 0; rc == PINHOLE_OK && p < mc->npairs; p++) {
        rc = pinhole_collection_init_signed(&mc->pairs[p], signed_configs[p],
                                            PINHOLE_CONFIG_SIGNEDBYTES, server_pk);
        const pinhole_config_params *a = &mc->pairs[p].config.params,
                                    *b = &mc->pairs[0].config.params;
        if (rc == PINHOLE_OK &&
            (a->k != pair_cells(mc, p) || a->mechanism != b->mechanism || a->epsilon != b->epsilon))
            rc = PINHOLE_EINVAL;
    }
    if (rc != PINHOLE_OK)
        pinhole_multi_clear(mc);
    return rc;
}

void pinhole_multi_clear(pinhole_multi *mc)
{
    for (uint32_t p = 0; mc->pairs && p < mc->npairs; p++)
        pinhole_collection_clear(&mc->pairs[p]);
    free(mc->pairs);
    memset(mc, 0, sizeof *mc);
}

int pinhole_multi_pair(const pinhole_multi *mc, uint32_t p, uint32_t *j, uint32_t *l)
{
    if (p >= mc->npairs)
        return PINHOLE_ERANGE;
    if (mc->d == 1) {
        *j = *l = 0;
        return PINHOLE_OK;
    }
    /* pairs (0,1), (0,2), ..., (0,d-1), (1,2), ...: row a holds d - 1 - a pairs */
    uint32_t a = 0;
    while (p >= mc->d - 1 - a) {
        p -= mc->d - 1 - a;
        a++;
    }
    *j = a;
    *l = a + 1 + p;
    return PINHOLE_OK;
}

int pinhole_multi_cell(const pinhole_multi *mc, uint32_t p, const uint32_t *values, uint64_t *cell)
{
    uint32_t j, l;
    if (pinhole_multi_pair(mc, p, &j, &l) != PINHOLE_OK || values[j] >= mc->k[j] ||
        values[l] >= mc->k[l])
        return PINHOLE_ERANGE;
    *cell = mc->d == 1 ? values[0] : (uint64_t)values[j] * mc->k[l] + values[l];
    return PINHOLE_OK;
}

int pinhole_multi_draw_pair(const pinhole_client *cl, const pinhole_multi *mc, unsigned flags,
                            uint32_t *pair)
{
    const int memoize = (flags & PINHOLE_REPORT_MEMOIZE) != 0;
    if ((flags & ~(unsigned)PINHOLE_REPORT_MEMOIZE) != 0 || (memoize && !cl->has_secret) ||
        mc->npairs == 0)
        return PINHOLE_EINVAL;
    if (!memoize) {
        *pair = randombytes_uniform(mc->npairs);
        return PINHOLE_OK;
    }
    uint8_t h[8];
    crypto_generichash_state st;
    crypto_generichash_init(&st, cl->secret, sizeof cl->secret, sizeof h);
    crypto_generichash_update(&st, (const uint8_t *)PAIR_CONTEXT, sizeof PAIR_CONTEXT - 1);
    crypto_generichash_update(&st, mc->pairs[0].fingerprint, sizeof mc->pairs[0].fingerprint);
    crypto_generichash_final(&st, h, sizeof h);
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | h[i];
    *pair = (uint32_t)(x % mc->npairs);
    sodium_memzero(&st, sizeof st);
    sodium_memzero(h, sizeof h);
    return PINHOLE_OK;
}

/* pinhole_multi_report(), sealed to server_pk when it is not NULL. */
static int multi_report(pinhole_client *cl, const pinhole_multi *mc, const uint32_t *values,
                        uint64_t unix_seconds, unsigned flags, const uint8_t *server_pk,
                        uint8_t *out, size_t cap, size_t *written, uint32_t *pair)
{
    for (uint32_t j = 0; j < mc->d; j++)
        if (values[j] >= mc->k[j])
            return PINHOLE_ERANGE;
    uint32_t p;
    int rc = pinhole_multi_draw_pair(cl, mc, flags, &p);
    if (rc != PINHOLE_OK)
        return rc;
    uint64_t cell;
    rc = pinhole_multi_cell(mc, p, values, &cell);
    if (rc == PINHOLE_OK)
        rc = server_pk ? pinhole_client_report_sealed(cl, &mc->pairs[p], cell, unix_seconds, flags,
                                                      server_pk, out, cap, written)
                       : pinhole_client_report(cl, &mc->pairs[p], cell, unix_seconds, flags, out,
                                               cap, written);
    if (rc == PINHOLE_OK && pair)
        *pair = p;
    return rc;
}

int pinhole_multi_report(pinhole_client *cl, const pinhole_multi *mc, const uint32_t *values,
                         uint64_t unix_seconds, unsigned flags, uint8_t *out, size_t cap,
                         size_t *written, uint32_t *pair)
{
    return multi_report(cl, mc, values, unix_seconds, flags, NULL, out, cap, written, pair);
}

int pinhole_multi_report_sealed(pinhole_client *cl, const pinhole_multi *mc, const uint32_t *values,
                                uint64_t unix_seconds, unsigned flags, const uint8_t *server_pk,
                                uint8_t *out, size_t cap, size_t *written, uint32_t *pair)
{
    return multi_report(cl, mc, values, unix_seconds, flags, server_pk, out, cap, written, pair);
}

/* ---- the public handles (<pinhole/pinhole.h>) ---- */

/* *out = mc when its init returned PINHOLE_OK (rc_alloc), else mc is freed and rc_alloc returned
 * (a failed init leaves nothing to clear). */
static int multi_new(pinhole_multi **out, int rc_alloc, pinhole_multi *mc)
{
    if (rc_alloc != PINHOLE_OK) {
        free(mc);
        return rc_alloc;
    }
    *out = mc;
    return PINHOLE_OK;
}

int pinhole_multi_new_signed(pinhole_multi **out, uint32_t d, const uint32_t *k,
                             const uint8_t *const *signed_configs, const uint8_t *server_pk)
{
    *out = NULL;
    pinhole_multi *mc = malloc(sizeof *mc);
    if (!mc)
        return PINHOLE_ENOMEM;
    return multi_new(out, pinhole_multi_init_signed(mc, d, k, signed_configs, server_pk), mc);
}

int pinhole_multi_new_params(pinhole_multi **out, uint64_t base_id, uint32_t d, const uint32_t *k,
                             pinhole_mechanism_id mechanism, double epsilon)
{
    *out = NULL;
    pinhole_multi *mc = malloc(sizeof *mc);
    if (!mc)
        return PINHOLE_ENOMEM;
    return multi_new(out, pinhole_multi_init(mc, base_id, d, k, mechanism, epsilon), mc);
}

void pinhole_multi_free(pinhole_multi *mc)
{
    if (!mc)
        return;
    pinhole_multi_clear(mc);
    free(mc);
}

uint32_t pinhole_multi_pairs(const pinhole_multi *mc)
{
    return mc->npairs;
}

const pinhole_collection *pinhole_multi_collection(const pinhole_multi *mc, uint32_t p)
{
    return p < mc->npairs ? &mc->pairs[p] : NULL;
}

size_t pinhole_multi_reportbytes(const pinhole_multi *mc)
{
    size_t m = 0;
    for (uint32_t p = 0; p < mc->npairs; p++) {
        const size_t b = pinhole_collection_reportbytes(&mc->pairs[p]);
        m = b > m ? b : m;
    }
    return m;
}
