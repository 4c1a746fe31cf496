/* topk_prob: perturbed top-k probabilities, smoothed max and Jacobian, against closed forms. */
#include "common/error.h"
#include "server/analytics/topk_prob.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double euler_gamma = 0.57721566490153286061;
static const double pi = 3.14159265358979323846;

static double normal_cdf(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0));
}

/* |p_hat - p| within z binomial standard errors of m samples. */
static int close_binomial(double phat, double p, uint64_t m, double z)
{
    return fabs(phat - p) <= z * sqrt(p * (1 - p) / (double)m) + 1e-15;
}

Test(topk_prob, gumbel_argmax_is_softmax_and_max_is_logsumexp)
{
    const double theta[4] = {1, .5, 0, -.5}, eps = .7;
    const double sigma[4] = {eps, eps, eps, eps};
    const uint64_t m = 1u << 18;
    double soft[4], lse = 0, mx = 1 / eps;
    for (int i = 0; i < 4; i++)
        lse += exp(theta[i] / eps - mx);
    lse = mx + log(lse);
    for (int i = 0; i < 4; i++)
        soft[i] = exp(theta[i] / eps - lse);
    const double exact_max = eps * lse + eps * euler_gamma;
    cr_assert(fabs(exact_max - 1.83336) < 5e-6, "closed form %.8f", exact_max);

    pinhole_topk_options o = {.top = 1, .samples = m, .noise = PINHOLE_NOISE_GUMBEL, .seed = 7};
    double prob[4];
    uint64_t hits[4];
    pinhole_topk_result r;
    cr_assert_eq(pinhole_topk_prob(theta, sigma, 4, &o, prob, hits, NULL, &r, NULL), PINHOLE_OK);
    /* chi-square with 3 degrees of freedom: P[X2 > 18.47] = 0.0004 */
    const double x2 = chi_square(hits, soft, 4, m);
    cr_assert(x2 < 18.47, "chi-square %g; probs %g %g %g %g vs %g %g %g %g", x2, prob[0], prob[1],
              prob[2], prob[3], soft[0], soft[1], soft[2], soft[3]);
    /* the max of Gumbels is Gumbel with the same scale: sd eps pi / sqrt 6 */
    const double se = eps * pi / sqrt(6.0) / sqrt((double)m);
    cr_assert(fabs(r.max_se / se - 1) < 0.02, "se %g vs %g", r.max_se, se);
    cr_assert(fabs(r.max_mean - exact_max) < 4 * se, "smoothed max %.6f vs %.6f (se %.2g)",
              r.max_mean, exact_max, se);
    cr_assert_eq(r.samples, m);
}

Test(topk_prob, gumbel_jacobian_is_softmax_jacobian)
{
    const double theta[4] = {1, .5, 0, -.5}, eps = .7;
    const double sigma[4] = {eps, eps, eps, eps};
    const uint64_t m = 1u << 18;
    double soft[4], s = 0;
    for (int i = 0; i < 4; i++)
        s += soft[i] = exp(theta[i] / eps);
    for (int i = 0; i < 4; i++)
        soft[i] /= s;
    pinhole_topk_options o = {.top = 1, .samples = m, .noise = PINHOLE_NOISE_GUMBEL, .seed = 8};
    double J[16];
    cr_assert_eq(pinhole_topk_prob(theta, sigma, 4, &o, NULL, NULL, J, NULL, NULL), PINHOLE_OK);
    /* J = (diag p - p p^T) / eps; each entry is a mean of terms with variance <= 1/eps^2 */
    const double tol = 5 / (eps * sqrt((double)m));
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            const double want = ((i == j) * soft[i] - soft[i] * soft[j]) / eps;
            cr_assert(fabs(J[i * 4 + j] - want) < tol, "J[%d][%d] %g vs %g", i, j, J[i * 4 + j],
                      want);
        }
}

Test(topk_prob, two_items_gaussian_closed_form)
{
    const double theta[2] = {0.3, 0}, sigma[2] = {1.0, 1.0};
    const uint64_t m = 1u << 18;
    pinhole_topk_options o = {.top = 1, .samples = m, .noise = PINHOLE_NOISE_GAUSSIAN, .seed = 9};
    double prob[2], J[4];
    cr_assert_eq(pinhole_topk_prob(theta, sigma, 2, &o, prob, NULL, J, NULL, NULL), PINHOLE_OK);
    const double p = normal_cdf(0.3 / (1.0 * sqrt(2.0)));
    cr_assert(close_binomial(prob[0], p, m, 5), "%g vs %g", prob[0], p);
    cr_assert_eq(prob[0] + prob[1], 1.0);
    /* d/dtheta_1 Phi((theta_1 - theta_2)/(sigma sqrt 2)) = phi(.)/(sigma sqrt 2) */
    const double z = 0.3 / sqrt(2.0), dens = exp(-z * z / 2) / sqrt(2 * pi) / sqrt(2.0);
    const double tol = 5 / sqrt((double)m);
    cr_assert(fabs(J[0] - dens) < tol && fabs(J[1] + dens) < tol, "J %g %g vs +-%g", J[0], J[1],
              dens);
}

Test(topk_prob, equal_theta_gives_k_over_d_and_sums_to_k)
{
    enum { D = 10, TOP = 3 };
    double theta[D], sigma[D], prob[D];
    uint64_t hits[D];
    for (int i = 0; i < D; i++)
        theta[i] = 5, sigma[i] = 2;
    const uint64_t m = 1u << 16;
    for (int noise = 0; noise < 2; noise++) {
        pinhole_topk_options o = {.top = TOP, .samples = m, .noise = noise, .seed = 10};
        cr_assert_eq(pinhole_topk_prob(theta, sigma, D, &o, prob, hits, NULL, NULL, NULL),
                     PINHOLE_OK);
        double s = 0;
        uint64_t h = 0;
        for (int i = 0; i < D; i++) {
            cr_assert(close_binomial(prob[i], (double)TOP / D, m, 5), "item %d: %g", i, prob[i]);
            s += prob[i];
            h += hits[i];
        }
        cr_assert_eq(h, TOP * m);
        cr_assert_eq(s, (double)TOP, "m a power of two: the probabilities sum to k exactly");
    }
    /* any m: integer hits sum to k m exactly; the doubles to k up to rounding */
    pinhole_topk_options o = {.top = TOP, .samples = 1000, .seed = 11};
    cr_assert_eq(pinhole_topk_prob(theta, sigma, D, &o, prob, hits, NULL, NULL, NULL), PINHOLE_OK);
    uint64_t h = 0;
    double s = 0;
    for (int i = 0; i < D; i++)
        h += hits[i], s += prob[i];
    cr_assert_eq(h, TOP * 1000);
    cr_assert(fabs(s - TOP) < 1e-12);
}

Test(topk_prob, no_noise_selects_exact_top_k_with_ties)
{
    enum { D = 2000 };
    double *theta = malloc(D * sizeof *theta), *sigma = calloc(D, sizeof *sigma);
    double *prob = malloc(D * sizeof *prob);
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 12);
    for (int i = 0; i < D; i++) /* many ties */
        theta[i] = (double)pinhole_rng_uniform(&rng, 300);
    static const uint64_t tops[] = {1, 2, 17, 100, 1000, 1999, 2000};
    for (size_t c = 0; c < sizeof tops / sizeof tops[0]; c++) {
        pinhole_topk_options o = {.top = tops[c], .samples = 3, .seed = 1};
        pinhole_topk_result r;
        cr_assert_eq(pinhole_topk_prob(theta, sigma, D, &o, prob, NULL, NULL, &r, NULL),
                     PINHOLE_OK);
        /* item i is in the top k iff fewer than k items come before it (larger, or equal with a
         * smaller index) */
        double mx = theta[0];
        for (int i = 0; i < D; i++) {
            uint64_t ahead = 0;
            for (int j = 0; j < D; j++)
                ahead += theta[j] > theta[i] || (theta[j] == theta[i] && j < i);
            cr_assert_eq(prob[i], ahead < tops[c] ? 1.0 : 0.0, "top %llu item %d",
                         (unsigned long long)tops[c], i);
            mx = theta[i] > mx ? theta[i] : mx;
        }
        cr_assert_eq(r.max_mean, mx);
        cr_assert_eq(r.max_se, 0);
    }
    free(theta), free(sigma), free(prob);
}

Test(topk_prob, same_seed_same_output)
{
    enum { D = 500 };
    double theta[D], sigma[D], a[D], b[D], c[D];
    for (int i = 0; i < D; i++)
        theta[i] = sin(i), sigma[i] = 0.3 + 0.001 * i;
    pinhole_topk_options o = {.top = 20, .samples = 200, .seed = 42};
    pinhole_topk_result ra, rb;
    cr_assert_eq(pinhole_topk_prob(theta, sigma, D, &o, a, NULL, NULL, &ra, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_topk_prob(theta, sigma, D, &o, b, NULL, NULL, &rb, NULL), PINHOLE_OK);
    cr_assert_eq(memcmp(a, b, sizeof a), 0);
    cr_assert_eq(memcmp(&ra, &rb, sizeof ra), 0);
    o.seed = 43;
    cr_assert_eq(pinhole_topk_prob(theta, sigma, D, &o, c, NULL, NULL, NULL, NULL), PINHOLE_OK);
    cr_assert_neq(memcmp(a, c, sizeof a), 0);
}

static int cancel_now(void *ctx, double f)
{
    (void)ctx, (void)f;
    return 1;
}

Test(topk_prob, errors_and_cancel)
{
    double theta[3] = {1, 2, 3}, sigma[3] = {1, 1, 1}, p[3], J[9];
    pinhole_topk_options o = {.top = 1, .samples = 10};
    cr_assert_eq(pinhole_topk_prob(theta, sigma, 0, &o, p, NULL, NULL, NULL, NULL), PINHOLE_EINVAL);
    o.top = 0;
    cr_assert_eq(pinhole_topk_prob(theta, sigma, 3, &o, p, NULL, NULL, NULL, NULL), PINHOLE_EINVAL);
    o.top = 4;
    cr_assert_eq(pinhole_topk_prob(theta, sigma, 3, &o, p, NULL, NULL, NULL, NULL), PINHOLE_EINVAL);
    o.top = 1;
    o.noise = (pinhole_noise)7;
    cr_assert_eq(pinhole_topk_prob(theta, sigma, 3, &o, p, NULL, NULL, NULL, NULL), PINHOLE_EINVAL);
    o.noise = PINHOLE_NOISE_GAUSSIAN;
    theta[1] = NAN;
    cr_assert_eq(pinhole_topk_prob(theta, sigma, 3, &o, p, NULL, NULL, NULL, NULL), PINHOLE_EINVAL);
    theta[1] = 2;
    sigma[2] = -1;
    cr_assert_eq(pinhole_topk_prob(theta, sigma, 3, &o, p, NULL, NULL, NULL, NULL), PINHOLE_EINVAL);
    sigma[2] = 0;
    cr_assert_eq(pinhole_topk_prob(theta, sigma, 3, &o, p, NULL, NULL, NULL, NULL), PINHOLE_OK);
    cr_assert_eq(pinhole_topk_prob(theta, sigma, 3, &o, p, NULL, J, NULL, NULL), PINHOLE_EINVAL);
    pinhole_progress stop = {cancel_now, NULL};
    cr_assert_eq(pinhole_topk_prob(theta, sigma, 3, &o, p, NULL, NULL, NULL, &stop),
                 PINHOLE_ECANCELED);
}
