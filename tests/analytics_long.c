/* Long checks (`make test-long`, not in the default suite): single_location in the paper's exact
 * setting (Marion et al., ICLR 2025): d = 80, L = 10, noise 0.1, gamma = sqrt(0.5), lambda_t =
 * 2 / (1 + 1e-4 t), step 1e-3, batch 5, 200,000 steps of online projected SGD. */
#include "common/error.h"
#include "server/analytics/single_location.h"

#include <criterion/criterion.h>
#include <math.h>

static double absdot(const double *a, const double *b, uint32_t d)
{
    double s = 0;
    for (uint32_t i = 0; i < d; i++)
        s += a[i] * b[i];
    return fabs(s);
}

Test(single_location_long, paper_setting, .timeout = 3000)
{
    enum { D = 80, L = 10 };
    double ks[D], vs[D], k[D], v[D];
    cr_assert_eq(pinhole_sl_random_task(D, 2025, ks, vs), PINHOLE_OK);
    const pinhole_sl_task task = {D, L, sqrt(0.5), 0.1, ks, vs};
    const pinhole_sl_options o = {
        .steps = 200000, .batch = 5, .step = 1e-3, .lambda0 = 2, .lambda_decay = 1e-4, .seed = 3};
    pinhole_sl_result r;
    cr_assert_eq(pinhole_sl_train_online(&task, &o, k, v, &r), PINHOLE_OK);
    cr_expect_float_eq(r.lambda, 2.0 / 21, 1e-12);
    cr_expect_geq(absdot(k, ks, D), 0.99, "|<k,k*>| = %.4f", absdot(k, ks, D));
    cr_expect_geq(absdot(v, vs, D), 0.99, "|<v,v*>| = %.4f", absdot(v, vs, D));
    double risk, se;
    cr_assert_eq(pinhole_sl_excess_risk(&task, k, v, r.lambda, 100000, 4, &risk, &se), PINHOLE_OK);
    const double oracle = pinhole_sl_oracle_risk(D, L, sqrt(0.5), 2.0 / 21);
    cr_expect_float_eq(oracle, 0.18207, 5e-6);
    cr_expect(fabs(risk - oracle) <= 0.1 * oracle, "risk %.5f +- %.5f, oracle %.5f", risk, se,
              oracle);
}
