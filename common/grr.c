/* k-RR parameters: the keep threshold, realized epsilon and exact variance. */
#include "common/grr.h"
#include "common/error.h"
#include "common/ldp.h"
#include "common/pgr.h"

#include <string.h>

uint32_t pinhole_bits_for(uint64_t m)
{
    uint32_t b = 0;
    while (b < 64 && (UINT64_C(1) << b) < m)
        b++;
    return b;
}

int pinhole_grr_init(pinhole_grr *g, uint64_t k, double epsilon)
{
    memset(g, 0, sizeof *g);
    if (pinhole_epsilon_check(epsilon) != PINHOLE_OK || k < 2 || k > PINHOLE_K_MAX)
        return PINHOLE_EINVAL;
    g->k = k;
    g->threshold = pinhole_rr_threshold(epsilon, (long double)k, &g->epsilon_realized);
    g->p = (double)pinhole_threshold_prob(g->threshold);
    g->r = (double)(pinhole_threshold_comp(g->threshold) / (long double)(k - 1));
    g->bits = pinhole_bits_for(k);
    return PINHOLE_OK;
}

double pinhole_grr_variance(const pinhole_grr *g, double n, double f)
{
    return pinhole_support_variance(g->p, g->r, n, f);
}
