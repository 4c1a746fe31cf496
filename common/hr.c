/* Hadamard response parameters: output size, threshold, realized epsilon, variance. */
#include "common/hr.h"
#include "common/error.h"
#include "common/grr.h"
#include "common/ldp.h"
#include "common/pgr.h"

#include <string.h>

int pinhole_hr_init(pinhole_hr *g, uint64_t k, double epsilon)
{
    memset(g, 0, sizeof *g);
    if (pinhole_epsilon_check(epsilon) != PINHOLE_OK || k < 2)
        return PINHOLE_EINVAL;
    if (k >= PINHOLE_HR_KMAX)
        return PINHOLE_EOVERFLOW;
    g->k = k;
    g->bits = pinhole_bits_for(k + 1);
    g->K = UINT64_C(1) << g->bits;
    /* |C_v| = |complement| = K/2: randomized response over 2 equal halves */
    g->threshold = pinhole_rr_threshold(epsilon, 2, &g->epsilon_realized);
    g->p = (double)pinhole_threshold_prob(g->threshold);
    g->r = 0.5;
    return PINHOLE_OK;
}

double pinhole_hr_variance(const pinhole_hr *g, double n, double f)
{
    return pinhole_support_variance(g->p, g->r, n, f);
}
