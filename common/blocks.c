/* Block designs: thresholds, realized epsilon, exact variance and estimate (HPGR, Hadamard). */
#include "common/blocks.h"
#include "common/grr.h"
#include "common/ldp.h"

#include <math.h>
#include <string.h>

/* realized output probabilities: supporting, same block not supporting, other block */
static void probs(const pinhole_blocks *d, long double *p1, long double *p2, long double *p3)
{
    const long double Pin = pinhole_threshold_prob(d->t_in), out = pinhole_threshold_comp(d->t_in);
    const long double c = (long double)d->c_set, K = (long double)d->Kb;
    *p1 = Pin / c;
    if (d->B == 1) {
        *p2 = out / (K - c);
        *p3 = *p2;
        return;
    }
    *p2 = out * pinhole_threshold_prob(d->t_same) / (K - c);
    *p3 = out * pinhole_threshold_comp(d->t_same) / ((long double)(d->B - 1) * K);
}

static long double log_ratio(const pinhole_blocks *d)
{
    long double p1, p2, p3;
    probs(d, &p1, &p2, &p3);
    return logl(p1) - logl(p2 < p3 ? p2 : p3);
}

void pinhole_blocks_setup(pinhole_blocks *d, uint64_t k, double epsilon, uint64_t Kb, uint64_t per,
                          uint64_t c, uint64_t c_int)
{
    memset(d, 0, sizeof *d);
    const uint64_t B = (k + per - 1) / per;
    d->k = k;
    d->Kb = Kb;
    d->per = per;
    d->B = B;
    d->c_set = c;
    d->c_int = c_int;
    d->bits = pinhole_bits_for(B * Kb);
    const long double em1 = pinhole_expm1_capped(epsilon);
    const long double cc = (long double)c, K = (long double)Kb;
    const long double D = em1 * cc + (long double)B * K;
    const long double Pin = (em1 + 1) * cc / D, Psame = (K - cc) / ((long double)B * K - cc);
    long double x = floorl(Psame * PINHOLE_TWO64);
    d->t_same = B == 1 ? UINT64_MAX : x < 1 ? 1 : x >= PINHOLE_TWO64 ? UINT64_MAX : (uint64_t)x;
    x = floorl(Pin * PINHOLE_TWO64);
    d->t_in = x < 1 ? 1 : x >= PINHOLE_TWO64 ? UINT64_MAX : (uint64_t)x;
    while (d->t_in > 1 && log_ratio(d) > (long double)epsilon)
        d->t_in -= 1 + (d->t_in >> 52);
    d->epsilon_realized = (double)log_ratio(d);
    long double p1, p2, p3;
    probs(d, &p1, &p2, &p3);
    const long double ci = (long double)c_int;
    d->s_in = (double)(cc * p1);
    d->r_same = (double)(ci * p1 + (cc - ci) * p2);
    d->r_other = (double)(cc * p3);
    d->beta_in = (double)(cc * p1 + (K - cc) * p2);
    d->beta_out = B == 1 ? 0 : (double)(K * p3);
}

/* variance of one user's term 1[supports v] - rho 1[in block b], given those probabilities */
static double term(double a, double bb, double rho)
{
    return a * (1 - a) + rho * rho * bb * (1 - bb) - 2 * rho * a * (1 - bb);
}

static double rho_of(const pinhole_blocks *d)
{
    return d->B == 1 ? 0 : (d->r_same - d->r_other) / (d->beta_in - d->beta_out);
}

double pinhole_blocks_variance_block(const pinhole_blocks *d, double n, double f, double F_b)
{
    const double gap = d->s_in - d->r_same, rho = rho_of(d);
    const double v = f * term(d->s_in, d->beta_in, rho) +
                     (F_b - f) * term(d->r_same, d->beta_in, rho) +
                     (n - F_b) * term(d->r_other, d->beta_out, rho);
    return v / (gap * gap);
}

double pinhole_blocks_variance(const pinhole_blocks *d, double n, double f)
{
    const double Fb = f + (n - f) * ((double)d->per - 1) / ((double)d->k - 1);
    return pinhole_blocks_variance_block(d, n, f, Fb > n ? n : Fb);
}

void pinhole_blocks_estimate(const pinhole_blocks *d, uint64_t b, const uint64_t *T, uint64_t N_b,
                             uint64_t n, double *est)
{
    const double dn = (double)n, gap = d->s_in - d->r_same;
    const double Fb =
        d->B == 1 ? dn : ((double)N_b - dn * d->beta_out) / (d->beta_in - d->beta_out);
    const double base = d->r_other * dn + (d->r_same - d->r_other) * Fb;
    for (uint64_t x = 0; x < d->per && b * d->per + x < d->k; x++)
        est[x] = ((double)T[x] - base) / gap;
}
