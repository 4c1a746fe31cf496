/* HPGR parameters: block space, thresholds, realized epsilon, exact variance. */
#include "common/hpgr.h"
#include "common/error.h"
#include "common/grr.h"
#include "common/ldp.h"

#include <math.h>
#include <string.h>

/* realized output probabilities: in (per hyperplane through the point), same block out, other */
static void probs(const pinhole_hpgr *g, long double *p1, long double *p2, long double *p3)
{
    const long double Pin = pinhole_threshold_prob(g->t_in), out = pinhole_threshold_comp(g->t_in);
    const long double c = (long double)g->c_set, K = (long double)g->Kb;
    *p1 = Pin / c;
    if (g->B == 1) {
        *p2 = out / (K - c);
        *p3 = *p2;
        return;
    }
    *p2 = out * pinhole_threshold_prob(g->t_same) / (K - c);
    *p3 = out * pinhole_threshold_comp(g->t_same) / ((long double)(g->B - 1) * K);
}

static long double log_ratio(const pinhole_hpgr *g)
{
    long double p1, p2, p3;
    probs(g, &p1, &p2, &p3);
    return logl(p1) - logl(p2 < p3 ? p2 : p3);
}

/* every field but the block's field tables, from the block space S */
static void setup(pinhole_hpgr *g, uint64_t k, double epsilon, const pinhole_pspace *S)
{
    memset(g, 0, sizeof *g);
    const uint64_t Kb = S->K, B = (k + Kb - 1) / Kb;
    g->k = k;
    g->epsilon = epsilon;
    g->Kb = Kb;
    g->B = B;
    g->c_set = pinhole_pspace_c_set(S);
    g->c_int = pinhole_pspace_c_int(S);
    g->bits = pinhole_bits_for(B * Kb);
    const long double em1 = pinhole_expm1_capped(epsilon);
    const long double c = (long double)g->c_set, K = (long double)Kb;
    const long double D = em1 * c + (long double)B * K;
    const long double Pin = (em1 + 1) * c / D, Psame = (K - c) / ((long double)B * K - c);
    long double x = floorl(Psame * PINHOLE_TWO64);
    g->t_same = B == 1 ? UINT64_MAX : x < 1 ? 1 : x >= PINHOLE_TWO64 ? UINT64_MAX : (uint64_t)x;
    x = floorl(Pin * PINHOLE_TWO64);
    g->t_in = x < 1 ? 1 : x >= PINHOLE_TWO64 ? UINT64_MAX : (uint64_t)x;
    while (g->t_in > 1 && log_ratio(g) > (long double)epsilon)
        g->t_in -= 1 + (g->t_in >> 52);
    g->epsilon_realized = (double)log_ratio(g);
    long double p1, p2, p3;
    probs(g, &p1, &p2, &p3);
    const long double ci = (long double)g->c_int;
    g->s_in = (double)(c * p1);
    g->r_same = (double)(ci * p1 + (c - ci) * p2);
    g->r_other = (double)(c * p3);
    g->beta_in = (double)(c * p1 + (K - c) * p2);
    g->beta_out = B == 1 ? 0 : (double)(K * p3);
}

/* The default block space: the lowest variance (other users spread evenly) among prime powers
 * q <= 4096 and t with B >= 2 blocks whose estimated reconstruction cost is at most half of PGR's
 * default; PGR's own (q, t) (one block) when there is none or when that variance is more than
 * twice PGR's. */
static void default_space(uint64_t k, double epsilon, const pinhole_pgr *p, uint32_t *q,
                          uint32_t *t)
{
    double pgr_ops, bytes;
    pinhole_pgr_cost(p->q, p->t, p->K, k, &pgr_ops, &bytes);
    double best = 2 * pinhole_pgr_variance(p, 1, 0);
    *q = p->q;
    *t = p->t;
    for (uint32_t qq = 2; qq <= 4096; qq++) {
        if (!pinhole_gf_is_prime_power(qq, NULL, NULL))
            continue;
        for (uint32_t tt = 2; tt <= PINHOLE_T_MAX; tt++) {
            pinhole_pspace S;
            if (pinhole_pspace_init(&S, qq, tt) != PINHOLE_OK || S.K >= k)
                break;
            pinhole_hpgr h;
            setup(&h, k, epsilon, &S);
            double ops;
            pinhole_pgr_cost(qq, tt, S.K, S.K, &ops, &bytes);
            const double var = pinhole_hpgr_variance(&h, 1, 0);
            if (ops * (double)h.B <= pgr_ops / 2 && var < best) {
                best = var;
                *q = qq;
                *t = tt;
            }
        }
    }
}

int pinhole_hpgr_init(pinhole_hpgr *g, uint64_t k, double epsilon, uint32_t q, uint32_t t)
{
    memset(g, 0, sizeof *g);
    if (pinhole_epsilon_check(epsilon) != PINHOLE_OK || k < 2 || k > PINHOLE_K_MAX)
        return PINHOLE_EINVAL;
    int rc;
    if (q == 0 || t == 0) {
        pinhole_pgr p;
        if ((rc = pinhole_pgr_init(&p, k, epsilon, q, 0)) != PINHOLE_OK)
            return rc;
        if (q == 0 && t == 0)
            default_space(k, epsilon, &p, &q, &t);
        else if (t == 0)
            t = p.t > 2 ? p.t - 1 : 2;
        else
            q = p.q;
        pinhole_pgr_free(&p);
    }
    if (t < 2 || q > PINHOLE_GF_QMAX || !pinhole_gf_is_prime_power(q, NULL, NULL))
        return PINHOLE_EINVAL;
    pinhole_pspace S;
    if ((rc = pinhole_pspace_init(&S, q, t)) != PINHOLE_OK)
        return rc;
    if ((k + S.K - 1) / S.K > PINHOLE_K_MAX / S.K)
        return PINHOLE_EOVERFLOW;
    setup(g, k, epsilon, &S);
    if ((rc = pinhole_pgr_init(&g->block, S.K, epsilon, q, t)) != PINHOLE_OK) {
        memset(g, 0, sizeof *g);
        return rc;
    }
    return PINHOLE_OK;
}

void pinhole_hpgr_free(pinhole_hpgr *g)
{
    pinhole_pgr_free(&g->block);
}

/* variance of one user's term a 1[supports v] - rho 1[in block b], given those probabilities */
static double term(double a, double bb, double rho)
{
    return a * (1 - a) + rho * rho * bb * (1 - bb) - 2 * rho * a * (1 - bb);
}

double pinhole_hpgr_variance_block(const pinhole_hpgr *g, double n, double f, double F_b)
{
    const double gap = g->s_in - g->r_same;
    const double rho = g->B == 1 ? 0 : (g->r_same - g->r_other) / (g->beta_in - g->beta_out);
    const double v = f * term(g->s_in, g->beta_in, rho) +
                     (F_b - f) * term(g->r_same, g->beta_in, rho) +
                     (n - F_b) * term(g->r_other, g->beta_out, rho);
    return v / (gap * gap);
}

double pinhole_hpgr_variance(const pinhole_hpgr *g, double n, double f)
{
    const double Fb = f + (n - f) * ((double)g->Kb - 1) / ((double)g->k - 1);
    return pinhole_hpgr_variance_block(g, n, f, Fb > n ? n : Fb);
}
