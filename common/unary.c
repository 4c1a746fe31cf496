/* Unary encoding parameters (OUE, SUE/RAPPOR): thresholds, realized epsilon, variance. */
#include "common/unary.h"
#include "common/error.h"
#include "common/ldp.h"
#include "common/mechanism.h"
#include "common/pgr.h"

#include <math.h>
#include <string.h>

static int check(uint64_t k, double epsilon)
{
    if (pinhole_epsilon_check(epsilon) != PINHOLE_OK || k < 2)
        return PINHOLE_EINVAL;
    if (k > 8 * (uint64_t)PINHOLE_PAYLOAD_MAXBYTES)
        return PINHOLE_EOVERFLOW;
    return PINHOLE_OK;
}

int pinhole_oue_init(pinhole_unary *u, uint64_t k, double epsilon)
{
    memset(u, 0, sizeof *u);
    int rc = check(k, epsilon);
    if (rc != PINHOLE_OK)
        return rc;
    /* noise bit 1 with probability (2^64 - T)/2^64, T the 2-outcome keep threshold, so that
     * (1 - r)/r = T/(2^64 - T) <= e^eps; the true bit is 1 with probability exactly 1/2 */
    const uint64_t T = pinhole_rr_threshold(epsilon, 2, &u->epsilon_realized);
    u->k = k;
    u->t_true = UINT64_C(1) << 63;
    u->t_noise = (uint64_t)(0 - T); /* 2^64 - T */
    u->epsilon_permanent = u->epsilon_realized;
    u->p = 0.5;
    u->r = (double)pinhole_threshold_prob(u->t_noise);
    return PINHOLE_OK;
}

/* the flip probability rho of the composed symmetric channels (permanent then instantaneous) */
static long double composed_flip(uint64_t t_perm, uint64_t t_irr)
{
    const long double P0 = pinhole_threshold_comp(t_perm), I = pinhole_threshold_prob(t_irr);
    return P0 * I + (1 - P0) * (1 - I);
}

int pinhole_sue_init(pinhole_unary *u, uint64_t k, double epsilon, double epsilon_permanent)
{
    memset(u, 0, sizeof *u);
    int rc = check(k, epsilon);
    if (rc != PINHOLE_OK)
        return rc;
    if (!isfinite(epsilon_permanent) || epsilon_permanent < 0 ||
        (epsilon_permanent > 0 && epsilon_permanent < epsilon))
        return PINHOLE_EINVAL;
    u->k = k;
    const int irr = epsilon_permanent > epsilon;
    const double eperm = irr ? epsilon_permanent : epsilon;
    double half;
    /* symmetric: ratio of a report y for v against v' is ((1 - rho)/rho)^2, so each bit gets eps/2
     */
    const uint64_t T = pinhole_rr_threshold(eperm / 2, 2, &half);
    u->t_true = T;
    u->t_noise = (uint64_t)(0 - T);
    u->epsilon_permanent = 2 * half;
    if (!irr) {
        u->epsilon_realized = u->epsilon_permanent;
        u->p = (double)pinhole_threshold_prob(T);
        u->r = (double)pinhole_threshold_comp(T);
        return PINHOLE_OK;
    }
    /* instantaneous keep probability I so the composed flip rho reaches 1/(e^{eps/2} + 1):
     * rho = P0 I + (1 - P0)(1 - I)  =>  I = (1 - P0 - rho)/(1 - 2 P0) */
    const long double P0 = pinhole_threshold_comp(T);
    const long double rho = 1 / (expl((long double)fmin(epsilon, PINHOLE_EPSILON_CAP) / 2) + 1);
    const long double I = (1 - P0 - rho) / (1 - 2 * P0);
    long double x = floorl(I * PINHOLE_TWO64);
    uint64_t Ti = x >= PINHOLE_TWO64 ? UINT64_MAX : x < 1 ? 1 : (uint64_t)x;
    long double fl = composed_flip(T, Ti);
    while (Ti > (UINT64_C(1) << 63) && 2 * logl((1 - fl) / fl) > (long double)epsilon) {
        Ti -= 1 + (Ti >> 52);
        fl = composed_flip(T, Ti);
    }
    u->t_irr = Ti;
    u->epsilon_realized = (double)(2 * logl((1 - fl) / fl));
    u->p = (double)(1 - fl);
    u->r = (double)fl;
    return PINHOLE_OK;
}

double pinhole_unary_variance(const pinhole_unary *u, double n, double f)
{
    return pinhole_support_variance(u->p, u->r, n, f);
}
