/* Subset Selection randomizer: the value with the right probability plus a uniform subset of
 * the other items, by Floyd's algorithm on the output bit string. */
#include "client/ss.h"
#include "common/error.h"

#include <string.h>

static inline int get_bit(const uint8_t *b, uint64_t i)
{
    return (b[i >> 3] >> (i & 7)) & 1;
}
static inline void set_bit(uint8_t *b, uint64_t i)
{
    b[i >> 3] |= (uint8_t)(1u << (i & 7));
}

/* Floyd's step: j-th candidate t of [0, j] among the k - 1 items other than v (item x >= v is
 * x + 1); if already taken, take j instead. */
static void floyd_step(uint64_t value, uint64_t j, uint64_t t, uint8_t *bits)
{
    const uint64_t a = t < value ? t : t + 1, b = j < value ? j : j + 1;
    set_bit(bits, get_bit(bits, a) ? b : a);
}

static int rng_bernoulli(void *rng, uint64_t T)
{
    return pinhole_rng_bernoulli(rng, T);
}

static uint64_t rng_uniform(void *rng, uint64_t n)
{
    return pinhole_rng_uniform64(rng, n);
}

int pinhole_ss_encode_with(const pinhole_ss *g, uint64_t value, const pinhole_draws *d,
                           uint8_t *bits)
{
    if (value >= g->k)
        return PINHOLE_ERANGE;
    const int include = d->bernoulli(d->ctx, g->threshold);
    const uint64_t N = g->k - 1, m = g->d - (include ? 1 : 0);
    memset(bits, 0, (size_t)((g->k + 7) / 8));
    for (uint64_t j = N - m; j < N; j++) {
        const uint64_t t = d->uniform(d->ctx, j + 1);
        if (t > j)
            return PINHOLE_ERANGE; /* a draw source out of its range */
        floyd_step(value, j, t, bits);
    }
    if (include)
        set_bit(bits, value);
    return PINHOLE_OK;
}

int pinhole_ss_encode(const pinhole_ss *g, uint64_t value, pinhole_rng *rng, uint8_t *bits)
{
    const pinhole_draws d = {rng_bernoulli, rng_uniform, rng};
    return pinhole_ss_encode_with(g, value, &d, bits);
}
