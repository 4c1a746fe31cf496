/* Randomized response thresholds, realized epsilon, and the support-set estimate and variance. */
#include "common/ldp.h"
#include "common/pgr.h"

#include <math.h>

long double pinhole_expm1_capped(double epsilon)
{
    return expm1l((long double)fmin(epsilon, PINHOLE_EPSILON_CAP));
}

double pinhole_rr_epsilon(uint64_t T, long double m)
{
    return (double)(logl((long double)T) - logl(PINHOLE_TWO64 - (long double)T) + logl(m - 1));
}

uint64_t pinhole_rr_threshold(double epsilon, long double m, double *epsilon_realized)
{
    const long double em1 = pinhole_expm1_capped(epsilon);
    const long double p = (em1 + 1) / (em1 + m);
    const long double x = floorl(p * PINHOLE_TWO64);
    uint64_t T = x >= PINHOLE_TWO64 ? UINT64_MAX : x < 1 ? 1 : (uint64_t)x;
    if (m >
        1) /* never exceed the requested epsilon: step down until the realized ratio is within */
        while (T > 1 && pinhole_rr_epsilon(T, m) > epsilon)
            T -= 1 + (T >> 52);
    if (epsilon_realized)
        *epsilon_realized = m > 1 ? pinhole_rr_epsilon(T, m) : 0;
    return T;
}

double pinhole_support_variance(double p, double r, double n, double f)
{
    const double gap = p - r;
    return (f * p * (1 - p) + (n - f) * r * (1 - r)) / (gap * gap);
}

void pinhole_support_estimate(const uint64_t *T, uint64_t k, uint64_t n, double p, double r,
                              double *est)
{
    const double gap = p - r, rn = r * (double)n;
    for (uint64_t v = 0; v < k; v++)
        est[v] = ((double)T[v] - rn) / gap;
}
