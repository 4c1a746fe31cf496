/* Exact privacy of a multi-attribute report as apps make it (pinhole_multi_report): the output is
 * (pair p, report y of p's collection) with P[(p, y) | x] = P[p] P_p[y | cell_p(x)]. P_p is the
 * exact output distribution of the pair's PGR randomizer, enumerated over every draw through the
 * core pinhole_pgr_encode() runs (tests/helpers.c); the cell is the one pinhole_multi_cell() gives;
 * P[p] is checked not to depend on x (memoized: the same pair for every x; fresh: uniform by a
 * chi-square test). Then max over (p, y), x, x' of P[(p, y) | x] / P[(p, y) | x'] <= e^eps over
 * every pair of tuples of the tiny domains. */
#include "client/multi.h"
#include "common/error.h"
#include "server/estimate/estimate.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* every tuple of the domains, in mixed radix: tuple number i -> values */
static uint32_t tuple_count(const pinhole_multi *mc)
{
    uint32_t n = 1;
    for (uint32_t j = 0; j < mc->d; j++)
        n *= mc->k[j];
    return n;
}

static void tuple(const pinhole_multi *mc, uint32_t i, uint32_t *x)
{
    for (uint32_t j = 0; j < mc->d; j++) {
        x[j] = i % mc->k[j];
        i /= mc->k[j];
    }
}

/* The largest ratio P[(p, y) | x] / P[(p, y) | x'] with P[p] = 1/npairs. */
static long double worst_ratio(const pinhole_multi *mc)
{
    const uint32_t nx = tuple_count(mc);
    long double worst = 0;
    for (uint32_t p = 0; p < mc->npairs; p++) {
        const pinhole_config *c = &mc->pairs[p].mech;
        cr_assert_eq(c->mechanism, PINHOLE_MECH_PGR);
        const pinhole_pgr *g = &c->u.pgr;
        long double *P = malloc(nx * g->K * sizeof *P);
        uint32_t x[PINHOLE_MULTI_DMAX];
        for (uint32_t i = 0; i < nx; i++) {
            tuple(mc, i, x);
            uint64_t cell;
            cr_assert_eq(pinhole_multi_cell(mc, p, x, &cell), PINHOLE_OK);
            cr_assert_eq(pgr_output_distribution(g, cell, P + (size_t)i * g->K), 0);
            long double total = 0;
            for (uint64_t y = 0; y < g->K; y++)
                total += P[(size_t)i * g->K + y] /= mc->npairs;
            cr_assert_lt(fabsl(total - 1.0L / mc->npairs), 1e-12L);
        }
        for (uint64_t y = 0; y < g->K; y++) {
            long double lo = INFINITY, hi = 0;
            for (uint32_t i = 0; i < nx; i++) {
                const long double v = P[(size_t)i * g->K + y];
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
            cr_assert_gt(lo, 0);
            worst = hi / lo > worst ? hi / lo : worst;
        }
        free(P);
    }
    return worst;
}

/* The report pinhole_multi_report() writes is a report of the drawn pair's collection: its id,
 * fingerprint and mechanism, a payload the pair's estimator accepts, of a cell whose exact
 * probability is positive. */
static void check_report(pinhole_client *cl, const pinhole_multi *mc, const uint32_t *x,
                         unsigned flags, uint32_t *pair)
{
    uint8_t out[PINHOLE_REPORT_MAXBYTES];
    size_t len = 0;
    cr_assert_eq(pinhole_multi_report(cl, mc, x, 1000, flags, out, sizeof out, &len, pair),
                 PINHOLE_OK);
    const pinhole_collection *col = &mc->pairs[*pair];
    cr_assert_eq(len, pinhole_collection_reportbytes(col));
    pinhole_report r;
    cr_assert_eq(pinhole_report_decode(out, len, &r), PINHOLE_OK);
    cr_assert_eq(r.collection_id, col->config.collection_id);
    if (mc->base_id)
        cr_assert_eq(r.collection_id, mc->base_id + *pair);
    cr_assert_eq(memcmp(r.fingerprint, col->fingerprint, sizeof r.fingerprint), 0);
    uint64_t *counts = calloc(col->mech.counts_len, sizeof *counts);
    cr_assert_eq(pinhole_accumulate(&col->mech, r.payload, r.payload_len, counts), PINHOLE_OK);
    free(counts);
}

static void check_collection(uint32_t d, const uint32_t *k, double eps)
{
    pinhole_multi mc;
    cr_assert_eq(pinhole_multi_init(&mc, 500, d, k, PINHOLE_MECH_PGR, eps), PINHOLE_OK);
    const long double worst = worst_ratio(&mc);
    const long double bound = expl((long double)eps);
    cr_assert_leq(worst, bound * (1 + 1e-12L), "d=%u eps=%g: ratio %Lg > e^eps %Lg", d, eps, worst,
                  bound);
    /* the bound is attained by the realized epsilon of the pairs' randomizers */
    double realized = 0;
    for (uint32_t p = 0; p < mc.npairs; p++)
        realized = fmax(realized, mc.pairs[p].mech.epsilon_realized);
    cr_assert_geq(worst, expl((long double)realized) * (1 - 1e-9L));

    /* the pair does not depend on the values: memoized, one pair per device secret whatever x */
    const uint32_t nx = tuple_count(&mc);
    uint32_t x[PINHOLE_MULTI_DMAX];
    for (uint8_t s = 0; s < 8; s++) {
        uint8_t secret[PINHOLE_DEVICE_SECRETBYTES];
        memset(secret, s + 1, sizeof secret);
        pinhole_client cl;
        cr_assert_eq(pinhole_client_init(&cl, NULL, secret), PINHOLE_OK);
        uint32_t first = UINT32_MAX;
        for (uint32_t i = 0; i < nx; i++) {
            tuple(&mc, i, x);
            uint32_t p;
            check_report(&cl, &mc, x, PINHOLE_REPORT_MEMOIZE, &p);
            if (first == UINT32_MAX)
                first = p;
            cr_assert_eq(p, first, "a memoized device's pair changed with its values");
        }
        pinhole_client_clear(&cl);
    }
    pinhole_multi_clear(&mc);
}

Test(multi_privacy, exact_ratio_tiny_domains)
{
    cr_assert_eq(pinhole_init(), PINHOLE_OK);
    const uint32_t k3[] = {2, 3, 2}, k2[] = {3, 3}, k1[] = {5};
    const double eps[] = {0.1, 0.5, 1.0, 3.0};
    for (size_t e = 0; e < sizeof eps / sizeof eps[0]; e++) {
        check_collection(3, k3, eps[e]);
        check_collection(2, k2, eps[e]);
        check_collection(1, k1, eps[e]);
    }
}

/* Fresh reports: for each x the drawn pairs are uniform (chi-square over 3 pairs, 6000 reports,
 * threshold 27.6 = the 1e-6 upper quantile with 2 degrees of freedom: a false alarm once in a
 * million runs per tuple). */
Test(multi_privacy, fresh_pairs_uniform_for_every_tuple)
{
    cr_assert_eq(pinhole_init(), PINHOLE_OK);
    const uint32_t k[] = {2, 3, 2};
    pinhole_multi mc;
    cr_assert_eq(pinhole_multi_init(&mc, 7, 3, k, PINHOLE_MECH_PGR, 1.0), PINHOLE_OK);
    pinhole_client cl;
    cr_assert_eq(pinhole_client_init(&cl, NULL, NULL), PINHOLE_OK);
    const double prob[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
    uint32_t x[3];
    for (uint32_t i = 0; i < tuple_count(&mc); i++) {
        tuple(&mc, i, x);
        uint64_t seen[3] = {0, 0, 0};
        for (int r = 0; r < 6000; r++) {
            uint32_t p;
            check_report(&cl, &mc, x, 0, &p);
            seen[p]++;
        }
        cr_assert_lt(chi_square(seen, prob, 3, 6000), 27.6, "tuple %u", i);
    }
    pinhole_multi_clear(&mc);
}

Test(multi_privacy, errors)
{
    cr_assert_eq(pinhole_init(), PINHOLE_OK);
    pinhole_multi mc;
    const uint32_t bad1[] = {1, 3}, bad2[] = {100, 100}, ok[] = {4, 5, 6};
    cr_assert_eq(pinhole_multi_init(&mc, 0, 0, ok, PINHOLE_MECH_PGR, 1), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_multi_init(&mc, 0, 2, bad1, PINHOLE_MECH_PGR, 1), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_multi_init(&mc, 0, 2, bad2, PINHOLE_MECH_PGR, 1), PINHOLE_EINVAL);
    cr_assert_eq(pinhole_multi_init(&mc, UINT64_MAX - 1, 3, ok, PINHOLE_MECH_PGR, 1),
                 PINHOLE_EINVAL);
    cr_assert_eq(pinhole_multi_init(&mc, 0, 3, ok, PINHOLE_MECH_PGR, NAN), PINHOLE_EINVAL);
    pinhole_multi_clear(&mc); /* safe after a failed init */
    cr_assert_eq(pinhole_multi_init(&mc, 0, 3, ok, PINHOLE_MECH_PGR, 1), PINHOLE_OK);
    uint32_t j, l;
    cr_assert_eq(pinhole_multi_pair(&mc, 2, &j, &l), PINHOLE_OK);
    cr_assert(j == 1 && l == 2);
    cr_assert_eq(pinhole_multi_pair(&mc, 3, &j, &l), PINHOLE_ERANGE);
    const uint32_t x[] = {3, 4, 6};
    uint64_t cell;
    cr_assert_eq(pinhole_multi_cell(&mc, 0, x, &cell), PINHOLE_OK);
    cr_assert_eq(cell, 3 * 5 + 4);
    cr_assert_eq(pinhole_multi_cell(&mc, 1, x, &cell), PINHOLE_ERANGE);
    pinhole_client cl;
    cr_assert_eq(pinhole_client_init(&cl, NULL, NULL), PINHOLE_OK);
    uint8_t out[PINHOLE_REPORT_MAXBYTES];
    size_t len;
    uint32_t p;
    /* a value out of range is refused even when the drawn pair would not read it */
    cr_assert_eq(pinhole_multi_report(&cl, &mc, x, 0, 0, out, sizeof out, &len, &p),
                 PINHOLE_ERANGE);
    const uint32_t y[] = {3, 4, 5};
    cr_assert_eq(
        pinhole_multi_report(&cl, &mc, y, 0, PINHOLE_REPORT_MEMOIZE, out, sizeof out, &len, &p),
        PINHOLE_EINVAL, "memoize without a device secret");
    cr_assert_eq(pinhole_multi_report(&cl, &mc, y, 0, 0, out, 10, &len, &p), PINHOLE_EBUFSIZE);
    pinhole_multi_clear(&mc);
}

/* From the server's signed configs: any ids in pair order, each verified; a config of the wrong
 * size, epsilon or signature is refused. */
Test(multi_privacy, from_signed_configs)
{
    cr_assert_eq(pinhole_init(), PINHOLE_OK);
    uint8_t pk[PINHOLE_CONFIG_PUBLICKEYBYTES], sk[PINHOLE_CONFIG_SECRETKEYBYTES];
    pinhole_collection_config_keypair(pk, sk);
    const uint32_t k[] = {2, 3, 4};
    const uint64_t ids[] = {11, 17, 23}, cells[] = {6, 8, 12};
    uint8_t signed_cfg[4][PINHOLE_CONFIG_SIGNEDBYTES];
    const uint8_t *ptr[3] = {signed_cfg[0], signed_cfg[1], signed_cfg[2]};
    for (int p = 0; p < 4; p++) {
        /* 0..2 the pairs; 3 pair 2 with another epsilon */
        pinhole_config_params par = {
            .mechanism = PINHOLE_MECH_PGR, .k = cells[p % 3], .epsilon = p == 3 ? 2.0 : 1.0};
        pinhole_collection_config cfg;
        cr_assert_eq(pinhole_collection_config_make(&cfg, ids[p % 3], &par, 1, 0), PINHOLE_OK);
        cr_assert_eq(pinhole_collection_config_sign(&cfg, sk, signed_cfg[p]), PINHOLE_OK);
    }
    pinhole_multi mc;
    cr_assert_eq(pinhole_multi_init_signed(&mc, 3, k, ptr, pk), PINHOLE_OK);
    pinhole_client cl;
    cr_assert_eq(pinhole_client_init(&cl, NULL, NULL), PINHOLE_OK);
    const uint32_t x[] = {1, 2, 3};
    for (int r = 0; r < 20; r++) {
        uint32_t p;
        check_report(&cl, &mc, x, 0, &p); /* id and fingerprint of the drawn pair's config */
        cr_assert_eq(mc.pairs[p].config.collection_id, ids[p]);
        cr_assert(mc.pairs[p].verified);
    }
    pinhole_multi_clear(&mc);
    const uint8_t *swapped[3] = {signed_cfg[1], signed_cfg[0], signed_cfg[2]};
    cr_assert_eq(pinhole_multi_init_signed(&mc, 3, k, swapped, pk), PINHOLE_EINVAL, "k of a pair");
    const uint8_t *other_eps[3] = {signed_cfg[0], signed_cfg[1], signed_cfg[3]};
    cr_assert_eq(pinhole_multi_init_signed(&mc, 3, k, other_eps, pk), PINHOLE_EINVAL, "epsilon");
    signed_cfg[1][PINHOLE_CONFIG_BYTES] ^= 1;
    cr_assert_eq(pinhole_multi_init_signed(&mc, 3, k, ptr, pk), PINHOLE_ESIGNATURE);
    pinhole_multi_clear(&mc);
}
