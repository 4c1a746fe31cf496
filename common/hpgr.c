/* HPGR parameters: block space, thresholds, realized epsilon, exact variance. */
#include "common/hpgr.h"
#include "common/error.h"

#include <math.h>
#include <string.h>

/* every field but the block's field tables, from the block space S */
static void setup(pinhole_hpgr *g, uint64_t k, double epsilon, const pinhole_pspace *S)
{
    memset(g, 0, sizeof *g);
    g->k = k;
    g->epsilon = epsilon;
    pinhole_blocks_setup(&g->d, k, epsilon, S->K, S->K, pinhole_pspace_c_set(S),
                         pinhole_pspace_c_int(S));
    g->epsilon_realized = g->d.epsilon_realized;
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
            if (ops * (double)h.d.B <= pgr_ops / 2 && var < best) {
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

double pinhole_hpgr_variance_block(const pinhole_hpgr *g, double n, double f, double F_b)
{
    return pinhole_blocks_variance_block(&g->d, n, f, F_b);
}

double pinhole_hpgr_variance(const pinhole_hpgr *g, double n, double f)
{
    return pinhole_blocks_variance(&g->d, n, f);
}
