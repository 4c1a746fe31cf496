/* Exact privacy of every baseline randomizer: the output distribution enumerated for small k and
 * checked against the realized epsilon. The unary encodings and Subset Selection run as apps run
 * them, their draws taken from an enumerator of every outcome weighted by the thresholds and
 * ranges the code asks for (client/draws.h); the others through the deterministic core their
 * randomizer calls, weighted from the thresholds in their parameters. */
#include "client/grr.h"
#include "client/hpgr.h"
#include "client/hr.h"
#include "client/olh.h"
#include "client/ss.h"
#include "client/unary.h"
#include "common/error.h"
#include "common/ldp.h"

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#define KMAX 16
#define YMAX 64

static long double dist[KMAX][YMAX];

static void clear(void)
{
    memset(dist, 0, sizeof dist);
}

/* Every row sums to 1; the largest ratio P[y|v]/P[y|v'] equals e^eps_realized (up to rounding)
 * and eps_realized <= eps. */
static void check(uint64_t k, uint64_t Y, double eps, double eps_realized, const char *what)
{
    long double worst = 0;
    for (uint64_t v = 0; v < k; v++) {
        long double s = 0;
        for (uint64_t y = 0; y < Y; y++)
            s += dist[v][y];
        cr_assert(fabsl(s - 1) < 1e-15L, "%s: P[.|%llu] sums to %.20Lg", what,
                  (unsigned long long)v, s);
    }
    for (uint64_t y = 0; y < Y; y++)
        for (uint64_t v = 0; v < k; v++)
            for (uint64_t w = 0; w < k; w++) {
                if (dist[v][y] == 0)
                    continue;
                cr_assert(dist[w][y] > 0, "%s: output %llu impossible for %llu but not %llu", what,
                          (unsigned long long)y, (unsigned long long)w, (unsigned long long)v);
                const long double r = logl(dist[v][y] / dist[w][y]);
                if (r > worst)
                    worst = r;
            }
    cr_assert(worst <= (long double)eps_realized + 1e-12L,
              "%s: max log ratio %.15Lg > realized %.15g", what, worst, eps_realized);
    cr_assert(worst >= (long double)eps_realized - 1e-9L,
              "%s: realized %.15g not attained (%.15Lg)", what, eps_realized, worst);
    cr_assert(eps_realized <= eps * (1 + 1e-9), "%s: realized %.15g > eps %g", what, eps_realized,
              eps);
    cr_assert(eps_realized > 0);
}

static const double EPS[] = {0.05, 0.5, 1, 3, 8, 60};
#define NEPS (sizeof EPS / sizeof EPS[0])

Test(privacy, grr)
{
    for (size_t e = 0; e < NEPS; e++) {
        pinhole_grr g;
        cr_assert_eq(pinhole_grr_init(&g, 5, EPS[e]), PINHOLE_OK);
        clear();
        const long double P = pinhole_threshold_prob(g.threshold),
                          Q = pinhole_threshold_comp(g.threshold);
        for (uint64_t v = 0; v < g.k; v++) {
            uint64_t y;
            cr_assert_eq(pinhole_grr_encode_draws(&g, v, 1, 0, &y), PINHOLE_OK);
            dist[v][y] += P;
            for (uint64_t o = 0; o + 1 < g.k; o++) {
                cr_assert_eq(pinhole_grr_encode_draws(&g, v, 0, o, &y), PINHOLE_OK);
                dist[v][y] += Q / (g.k - 1);
            }
        }
        check(g.k, g.k, EPS[e], g.epsilon_realized, "grr");
        cr_assert(fabs(g.p - (double)P) < 1e-18 && fabs(g.r - (double)(Q / 4)) < 1e-18);
    }
}

/* Every path of draws of one run, depth first: each draw takes the choice of the current path
 * (first outcome when the path is new there), records its arity and multiplies the path's
 * probability by the outcome's, from the threshold or range the code passed. */
enum { MAXDEPTH = 64 };
typedef struct path {
    uint64_t choice[MAXDEPTH], arity[MAXDEPTH];
    int len, depth;
    long double weight;
} path;

static uint64_t path_take(path *p, uint64_t arity)
{
    const int d = p->depth++;
    cr_assert(d < MAXDEPTH, "too many draws");
    if (d >= p->len) {
        p->choice[d] = 0;
        p->len = d + 1;
    }
    p->arity[d] = arity;
    return p->choice[d];
}

static int path_bernoulli(void *ctx, uint64_t T)
{
    path *p = ctx;
    const int one = path_take(p, 2) == 0;
    p->weight *= one ? pinhole_threshold_prob(T) : pinhole_threshold_comp(T);
    return one;
}

static uint64_t path_uniform(void *ctx, uint64_t n)
{
    path *p = ctx;
    cr_assert(n >= 1 && n <= 64, "range %llu", (unsigned long long)n);
    p->weight /= n;
    return path_take(p, n);
}

/* Start a run of the current path; after it, path_next moves to the next path (0: all done). */
static void path_start(path *p)
{
    p->depth = 0;
    p->weight = 1;
}

static int path_next(path *p)
{
    p->len = p->depth; /* the draws this run made */
    while (p->len > 0) {
        const int d = p->len - 1;
        if (++p->choice[d] < p->arity[d])
            return 1;
        p->len--;
    }
    return 0;
}

/* unary: P[output | v] over every path of the code's draws (k <= 8, so the output is one byte) */
static void unary_dist(const pinhole_unary *u)
{
    clear();
    for (uint64_t v = 0; v < u->k; v++) {
        path p = {.len = 0};
        const pinhole_draws d = {path_bernoulli, path_uniform, &p};
        do {
            uint8_t bits[1];
            path_start(&p);
            cr_assert_eq(pinhole_unary_encode_with(u, v, &d, &d, bits), PINHOLE_OK);
            dist[v][bits[0]] += p.weight;
        } while (path_next(&p));
    }
}

Test(privacy, oue)
{
    for (size_t e = 0; e < NEPS; e++) {
        pinhole_unary u;
        cr_assert_eq(pinhole_oue_init(&u, 4, EPS[e]), PINHOLE_OK);
        unary_dist(&u);
        check(4, 16, EPS[e], u.epsilon_realized, "oue");
        cr_assert_eq(u.t_true, UINT64_C(1) << 63);
    }
}

Test(privacy, sue_and_rappor)
{
    for (size_t e = 0; e < NEPS; e++) {
        pinhole_unary u;
        cr_assert_eq(pinhole_sue_init(&u, 4, EPS[e], 0), PINHOLE_OK);
        unary_dist(&u);
        check(4, 16, EPS[e], u.epsilon_realized, "sue");
        /* RAPPOR: one report within eps, the permanent response within 2 eps */
        cr_assert_eq(pinhole_sue_init(&u, 3, EPS[e], 2 * EPS[e]), PINHOLE_OK);
        cr_assert_neq(u.t_irr, 0);
        unary_dist(&u);
        check(3, 8, EPS[e], u.epsilon_realized, "rappor");
        /* the memoized permanent response alone (what all of a device's reports reveal) */
        pinhole_unary perm = u;
        perm.t_irr = 0;
        unary_dist(&perm);
        check(3, 8, 2 * EPS[e], u.epsilon_permanent, "rappor permanent");
    }
}

Test(privacy, olh)
{
    for (size_t e = 0; e < NEPS; e++) {
        pinhole_olh g;
        cr_assert_eq(pinhole_olh_init(&g, 5, EPS[e], 3, 77), PINHOLE_OK);
        const uint64_t Y = (uint64_t)g.S * g.g;
        cr_assert_leq(Y, YMAX);
        clear();
        const long double P = pinhole_threshold_prob(g.threshold),
                          Q = pinhole_threshold_comp(g.threshold);
        for (uint64_t v = 0; v < g.k; v++)
            for (uint32_t s = 0; s < g.S; s++) {
                uint64_t y;
                cr_assert_eq(pinhole_olh_encode_draws(&g, v, s, 1, 0, &y), PINHOLE_OK);
                dist[v][y] += P / g.S;
                for (uint32_t o = 0; o + 1 < g.g; o++) {
                    cr_assert_eq(pinhole_olh_encode_draws(&g, v, s, 0, o, &y), PINHOLE_OK);
                    dist[v][y] += Q / (g.g - 1) / g.S;
                }
            }
        check(g.k, Y, EPS[e], g.epsilon_realized, "olh");
    }
}

/* Hadamard response: one block (b = 8 > k = 6, the basic scheme) and blocks (b = 4: 3 items per
 * block, k = 7 gives 3 blocks, the last partial) */
Test(privacy, hadamard)
{
    const uint64_t cases[2][2] = {{6, 8}, {7, 4}};
    for (size_t e = 0; e < NEPS; e++)
        for (int c = 0; c < 2; c++) {
            pinhole_hr g;
            cr_assert_eq(pinhole_hr_init(&g, cases[c][0], EPS[e], cases[c][1]), PINHOLE_OK);
            cr_assert_eq(g.b, cases[c][1]);
            const uint64_t b = g.b, Y = g.d.B * b;
            cr_assert_leq(Y, YMAX);
            clear();
            const long double Pin = pinhole_threshold_prob(g.d.t_in),
                              Pout = pinhole_threshold_comp(g.d.t_in);
            const long double Ps = g.d.B == 1 ? 1 : pinhole_threshold_prob(g.d.t_same);
            for (uint64_t v = 0; v < g.k; v++) {
                uint64_t y;
                for (int kind = 0; kind < 2; kind++)
                    for (uint64_t y0 = 0; y0 < b; y0++) {
                        cr_assert_eq(pinhole_hr_encode_draws(&g, v, kind, y0, 0, &y), PINHOLE_OK);
                        cr_assert_eq(y / b, v / (b - 1));
                        cr_assert_eq(pinhole_hr_contains(v % (b - 1), y % b), kind == 0);
                        dist[v][y] += (kind == 0 ? Pin : Pout * Ps) / b;
                    }
                for (uint64_t j = 0; j + 1 < g.d.B; j++)
                    for (uint64_t y0 = 0; y0 < b; y0++) {
                        cr_assert_eq(pinhole_hr_encode_draws(&g, v, 2, y0, j, &y), PINHOLE_OK);
                        cr_assert_neq(y / b, v / (b - 1));
                        dist[v][y] += Pout * (1 - Ps) / (g.d.B - 1) / b;
                    }
            }
            check(g.k, Y, EPS[e], g.epsilon_realized, "hr");
            /* two items of one block share exactly b/4 outputs; with one block a user holding
             * another item lands in C_v with probability exactly 1/2 */
            for (uint64_t v = 0; v < g.k; v++)
                for (uint64_t w = 0; w < g.k; w++) {
                    long double s = 0;
                    for (uint64_t y = 0; y < Y; y++)
                        s += (y / b == v / (b - 1) && pinhole_hr_contains(v % (b - 1), y % b))
                                 ? dist[w][y]
                                 : 0;
                    const double want = v == w                       ? g.d.s_in
                                        : v / (b - 1) == w / (b - 1) ? g.d.r_same
                                                                     : g.d.r_other;
                    cr_assert(fabsl(s - want) < 1e-15L);
                    if (g.d.B == 1 && v != w)
                        cr_assert(fabsl(s - 0.5L) < 1e-15L);
                }
        }
}

/* Subset Selection: P[output | v] over every path of the code's draws (k <= 6) */
static void ss_dist(const pinhole_ss *g)
{
    clear();
    for (uint64_t v = 0; v < g->k; v++) {
        path p = {.len = 0};
        const pinhole_draws d = {path_bernoulli, path_uniform, &p};
        do {
            uint8_t bits[1];
            path_start(&p);
            cr_assert_eq(pinhole_ss_encode_with(g, v, &d, bits), PINHOLE_OK);
            unsigned pc = 0;
            for (unsigned x = bits[0]; x; x &= x - 1)
                pc++;
            cr_assert_eq(pc, g->d);
            dist[v][bits[0]] += p.weight;
        } while (path_next(&p));
    }
}

Test(privacy, subset_selection)
{
    for (size_t e = 0; e < NEPS; e++) {
        pinhole_ss g;
        cr_assert_eq(pinhole_ss_init(&g, 6, EPS[e]), PINHOLE_OK);
        ss_dist(&g);
        check(g.k, 64, EPS[e], g.epsilon_realized, "ss");
        /* every subset of size d is equally likely given inclusion: uniform Floyd */
        const long double a = dist[0][(1u << g.d) - 1];
        for (unsigned y = 0; y < 64; y++) {
            unsigned pc = 0;
            for (unsigned x = y; x; x &= x - 1)
                pc++;
            if (pc == g.d && (y & 1))
                cr_assert(fabsl(dist[0][y] - a) < 1e-18L);
        }
    }
}

Test(privacy, hpgr)
{
    for (size_t e = 0; e < NEPS; e++) {
        pinhole_hpgr g;
        /* q = 2, t = 3: blocks of K' = 7 points, c_set = 3; k = 10 gives B = 2 (last block partial)
         */
        cr_assert_eq(pinhole_hpgr_init(&g, 10, EPS[e], 2, 3), PINHOLE_OK);
        cr_assert_eq(g.d.Kb, 7);
        cr_assert_eq(g.d.B, 2);
        const uint64_t Y = g.d.B * g.d.Kb;
        clear();
        const long double Pin = pinhole_threshold_prob(g.d.t_in),
                          Pout = pinhole_threshold_comp(g.d.t_in);
        const long double Ps = pinhole_threshold_prob(g.d.t_same),
                          Po = pinhole_threshold_comp(g.d.t_same);
        for (uint64_t v = 0; v < g.k; v++) {
            uint64_t y;
            /* kind 0 (s = 0) and kind 1 (s = 1): the 4 free-coordinate vectors, zero u rejected */
            for (int kind = 0; kind < 2; kind++) {
                uint64_t ys[4];
                int nvalid = 0;
                for (uint32_t f = 0; f < 4; f++) {
                    const uint32_t fc[2] = {f & 1, f >> 1};
                    int rc = pinhole_hpgr_encode_draws(&g, v, kind, (uint32_t)kind, fc, 0, 0, &y);
                    if (rc == PINHOLE_OK)
                        ys[nvalid++] = y;
                    else
                        cr_assert_eq(rc, PINHOLE_EINVAL);
                }
                cr_assert_eq(nvalid, kind == 0 ? 3 : 4); /* c_set = 3 in, 4 out */
                for (int i = 0; i < nvalid; i++)
                    dist[v][ys[i]] += (kind == 0 ? Pin : Pout * Ps) / nvalid;
            }
            for (uint64_t h = 0; h < g.d.Kb; h++) {
                cr_assert_eq(pinhole_hpgr_encode_draws(&g, v, 2, 0, NULL, 0, h, &y), PINHOLE_OK);
                cr_assert_neq(y / g.d.Kb, v / g.d.Kb);
                dist[v][y] += Pout * Po / g.d.Kb;
            }
        }
        check(g.k, Y, EPS[e], g.epsilon_realized, "hpgr");
        pinhole_hpgr_free(&g);
    }
}
