/* Unary encoding randomizers: one exact Bernoulli draw per bit, the true bit drawn separately. */
#include "client/unary.h"
#include "common/error.h"

#include <string.h>

static int lazy_bernoulli(void *rng, uint64_t T)
{
    return pinhole_rng_bernoulli_lazy(rng, T);
}

/* The report: bit v of the permanent response drawn with t_true, every other bit with t_noise
 * (from perm), then, with an instantaneous step, each bit kept with t_irr (from inst). */
static inline void encode(const pinhole_unary *u, uint64_t value, const pinhole_draws *perm,
                          const pinhole_draws *inst, uint8_t *bits)
{
    memset(bits, 0, (size_t)((u->k + 7) / 8));
    for (uint64_t i = 0; i < u->k; i++) {
        int b = perm->bernoulli(perm->ctx, i == value ? u->t_true : u->t_noise);
        if (u->t_irr && !inst->bernoulli(inst->ctx, u->t_irr))
            b = !b;
        bits[i >> 3] |= (uint8_t)(b << (i & 7));
    }
}

int pinhole_unary_encode(const pinhole_unary *u, uint64_t value, pinhole_rng *rng, uint8_t *bits)
{
    return pinhole_unary_encode_split(u, value, rng, rng, bits);
}

int pinhole_unary_encode_split(const pinhole_unary *u, uint64_t value, pinhole_rng *perm,
                               pinhole_rng *inst, uint8_t *bits)
{
    const pinhole_draws p = {lazy_bernoulli, NULL, perm}, i = {lazy_bernoulli, NULL, inst};
    return pinhole_unary_encode_with(u, value, &p, &i, bits);
}

int pinhole_unary_encode_with(const pinhole_unary *u, uint64_t value, const pinhole_draws *perm,
                              const pinhole_draws *inst, uint8_t *bits)
{
    if (value >= u->k)
        return PINHOLE_ERANGE;
    encode(u, value, perm, inst, bits);
    return PINHOLE_OK;
}

/* draws from an array of 64-bit uniforms, one per draw */
typedef struct uniforms {
    const uint64_t *u;
    uint64_t next;
} uniforms;

static int uniform_below(void *ctx, uint64_t T)
{
    uniforms *d = ctx;
    return d->u[d->next++] < T;
}

int pinhole_unary_encode_draws(const pinhole_unary *u, uint64_t value, const uint64_t *perm,
                               const uint64_t *irr, uint8_t *bits)
{
    if (value >= u->k)
        return PINHOLE_ERANGE;
    uniforms p = {perm, 0}, i = {irr, 0};
    const pinhole_draws dp = {uniform_below, NULL, &p}, di = {uniform_below, NULL, &i};
    encode(u, value, &dp, &di, bits);
    return PINHOLE_OK;
}
