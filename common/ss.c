/* Subset Selection parameters: subset size, inclusion threshold, realized epsilon, variance. */
#include "common/ss.h"
#include "common/error.h"
#include "common/ldp.h"
#include "common/mechanism.h"
#include "common/pgr.h"

#include <math.h>
#include <string.h>

static void set_d(pinhole_ss *g, uint64_t d, double epsilon)
{
    const uint64_t k = g->k;
    g->d = d;
    /* ratio of P[Z | v] over P[Z | v'] for v in Z, v' not: p/(1-p) * (k - d)/d, i.e. randomized
     * response over m = k/d outcomes */
    g->threshold =
        pinhole_rr_threshold(epsilon, (long double)k / (long double)d, &g->epsilon_realized);
    const long double p = pinhole_threshold_prob(g->threshold);
    g->p = (double)p;
    g->r = (double)((p * (long double)(d - 1) + (1 - p) * (long double)d) / (long double)(k - 1));
}

int pinhole_ss_init(pinhole_ss *g, uint64_t k, double epsilon)
{
    memset(g, 0, sizeof *g);
    if (pinhole_epsilon_check(epsilon) != PINHOLE_OK || k < 2)
        return PINHOLE_EINVAL;
    if (k > 8 * (uint64_t)PINHOLE_PAYLOAD_MAXBYTES)
        return PINHOLE_EOVERFLOW;
    g->k = k;
    const double x = (double)k / ((double)pinhole_expm1_capped(epsilon) + 2);
    uint64_t lo = (uint64_t)floor(x), hi = lo + 1;
    if (lo < 1)
        lo = 1;
    if (hi > k - 1)
        hi = k - 1;
    if (lo > hi)
        lo = hi;
    set_d(g, hi, epsilon);
    const double vhi = pinhole_ss_variance(g, 1, 0);
    if (lo != hi) {
        set_d(g, lo, epsilon);
        if (pinhole_ss_variance(g, 1, 0) > vhi)
            set_d(g, hi, epsilon);
    }
    return PINHOLE_OK;
}

double pinhole_ss_variance(const pinhole_ss *g, double n, double f)
{
    return pinhole_support_variance(g->p, g->r, n, f);
}
