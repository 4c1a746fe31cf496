/* OLH parameters: hash range, pool size, keep threshold, realized epsilon, variance. */
#include "common/olh.h"
#include "common/error.h"
#include "common/grr.h"
#include "common/ldp.h"
#include "common/pgr.h"

#include <math.h>
#include <string.h>

int pinhole_olh_init(pinhole_olh *g, uint64_t k, double epsilon, uint32_t pool, uint64_t pool_key)
{
    memset(g, 0, sizeof *g);
    if (pinhole_epsilon_check(epsilon) != PINHOLE_OK || k < 2 || k > PINHOLE_K_MAX ||
        pool > PINHOLE_OLH_POOLMAX)
        return PINHOLE_EINVAL;
    const double e = (double)pinhole_expm1_capped(epsilon) + 1;
    double gg = floor(e + 0.5) + 1;
    const double gmax = k < PINHOLE_OLH_GMAX ? (double)k : PINHOLE_OLH_GMAX;
    if (gg > gmax)
        gg = gmax;
    if (gg < 2)
        gg = 2;
    g->g = (uint32_t)gg;
    uint32_t S = pool;
    if (S == 0) {
        S = PINHOLE_OLH_POOLMAX;
        while (S > 1 &&
               ((double)S * (double)k > 0x1p28 || (uint64_t)S * g->g > PINHOLE_OLH_COUNTSMAX))
            S /= 2;
    }
    if ((uint64_t)S * g->g > PINHOLE_OLH_COUNTSMAX)
        return PINHOLE_EOVERFLOW;
    g->k = k;
    g->S = S;
    g->pool_key = pool_key;
    g->threshold = pinhole_rr_threshold(epsilon, (long double)g->g, &g->epsilon_realized);
    g->p = (double)pinhole_threshold_prob(g->threshold);
    g->r = 1.0 / g->g;
    g->bits = pinhole_bits_for((uint64_t)S * g->g);
    return PINHOLE_OK;
}

double pinhole_olh_variance(const pinhole_olh *g, double n, double f)
{
    return pinhole_support_variance(g->p, g->r, n, f);
}

double pinhole_olh_pool_variance(const pinhole_olh *g, double sum_f_fm1)
{
    return sum_f_fm1 / ((double)(g->g - 1) * g->S);
}
