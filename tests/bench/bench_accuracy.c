/* Accuracy of every mechanism on real or Zipf data: measured MSE per item over several runs
 * against the exact variance and the optimum, bits per report, client and server time.
 * Writes one CSV line per (mechanism, epsilon) to stdout.
 *
 * usage: bench_accuracy (--counts FILE | --zipf K S) --users N --runs R --epsilons E1,E2,...
 *                       [--mechanisms m1,m2,...] [--seed S] [--dataset NAME]
 *
 * Each run draws N users at random from the data (their values are the truth), then:
 *  - "full": every report encoded by pinhole_encode (timed: client time per report), folded by
 *    pinhole_accumulate (timed) and estimated by pinhole_estimate (timed);
 *  - "marginal", for the bit-string mechanisms (OUE, SUE, SS) when N k > 2^30: each item's
 *    support total is drawn from its exact distribution, Binomial(f_v, p) + Binomial(N - f_v, r)
 *    (GSL), and estimated by pinhole_estimate. Every item's estimate then has exactly the
 *    distribution it has in the full protocol, so the mean squared error per item has the same
 *    expectation (only the correlation between items, which the mean over items does not see, is
 *    dropped). Client and accumulate times are measured on 2,000 real reports and the accumulate
 *    time is extrapolated to N reports.
 * The theoretical MSE per item is the mean over items of the exact variance given the true counts
 * (OLH: with its seed-pool term; HPGR: with the true block totals). */
#include "client/encode.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/mechanism.h"
#include "common/rng.h"
#include "server/data/countfile.h"
#include "server/estimate/estimate.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t draw(const double *cdf, uint64_t k, double u)
{
    uint64_t lo = 0, hi = k - 1;
    while (lo < hi) {
        const uint64_t mid = lo + (hi - lo) / 2;
        if (cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* the block design of HPGR and Hadamard response, whose variance depends on the block totals */
static const pinhole_blocks *blocks_of(const pinhole_config *c)
{
    return c->mechanism == PINHOLE_MECH_HPGR ? &c->u.hpgr.d
           : c->mechanism == PINHOLE_MECH_HR ? &c->u.hr.d
                                             : NULL;
}

static double exact_variance(const pinhole_config *c, const uint64_t *f, uint64_t n, uint64_t v,
                             double sum_ffm1, const double *Fb)
{
    const pinhole_blocks *d = blocks_of(c);
    if (d)
        return pinhole_blocks_variance_block(d, (double)n, (double)f[v], Fb[v / d->per]);
    double var = pinhole_config_variance(c, (double)n, (double)f[v]);
    if (c->mechanism == PINHOLE_MECH_OLH)
        var += pinhole_olh_pool_variance(&c->u.olh, sum_ffm1 - (double)f[v] * ((double)f[v] - 1));
    return var;
}

static int support_probs(const pinhole_config *c, double *p, double *r)
{
    if (c->mechanism == PINHOLE_MECH_OUE || c->mechanism == PINHOLE_MECH_SUE) {
        *p = c->u.unary.p, *r = c->u.unary.r;
        return 1;
    }
    if (c->mechanism == PINHOLE_MECH_SS) {
        *p = c->u.ss.p, *r = c->u.ss.r;
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *counts_path = NULL, *dataset = NULL;
    const char *mechs = "pgr,grr,oue,sue,olh,hr,ss,hpgr", *epsl = "0.5,1,2,3,4,5,8";
    uint64_t zk = 0, users = 0, runs = 5, seed = 2026;
    double zs = 1.1;
    for (int i = 1; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--counts"))
            counts_path = argv[++i];
        else if (!strcmp(argv[i], "--zipf") && i + 2 < argc) {
            zk = strtoull(argv[++i], NULL, 10);
            zs = strtod(argv[++i], NULL);
        } else if (!strcmp(argv[i], "--users"))
            users = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--runs"))
            runs = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--epsilons"))
            epsl = argv[++i];
        else if (!strcmp(argv[i], "--mechanisms"))
            mechs = argv[++i];
        else if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--dataset"))
            dataset = argv[++i];
        else {
            fprintf(stderr, "bench_accuracy: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if ((!counts_path && zk < 2) || users == 0 || runs < 2 || sodium_init() < 0) {
        fprintf(stderr, "usage: bench_accuracy (--counts FILE | --zipf K S) --users N --runs R "
                        "[--epsilons ...] [--mechanisms ...] [--seed S] [--dataset NAME]\n");
        return 2;
    }
    /* the data as a CDF over items */
    uint64_t k;
    double *cdf;
    if (counts_path) {
        pinhole_countfile cf;
        uint64_t line;
        if (pinhole_countfile_read(counts_path, &cf, &line) != PINHOLE_OK) {
            fprintf(stderr, "bench_accuracy: cannot read %s\n", counts_path);
            return 1;
        }
        k = cf.k;
        cdf = malloc(k * sizeof *cdf);
        uint64_t acc = 0;
        for (uint64_t v = 0; v < k; v++)
            cdf[v] = (double)(acc += cf.count[v]) / (double)cf.total;
        pinhole_countfile_free(&cf);
    } else {
        k = zk;
        cdf = malloc(k * sizeof *cdf);
        double acc = 0;
        for (uint64_t v = 0; v < k; v++)
            cdf[v] = acc += pow((double)(v + 1), -zs);
        for (uint64_t v = 0; v < k; v++)
            cdf[v] /= acc;
    }
    cdf[k - 1] = 1.0;
    if (!dataset)
        dataset = counts_path ? "counts" : "zipf";

    uint64_t *f = malloc(k * sizeof *f), *values = malloc(users * sizeof *values);
    double *est = malloc(k * sizeof *est), *Fb = malloc(k * sizeof *Fb);
    gsl_rng *grng = gsl_rng_alloc(gsl_rng_mt19937);
    printf(
        "dataset,k,n,mechanism,epsilon,epsilon_realized,runs,mode,mse,mse_se,theory,mse_over_"
        "theory,"
        "optimum,mse_over_optimum,bits,client_us_per_report,server_accumulate_s,server_estimate_s,"
        "server_s,accumulate_note\n");
    char *mlist = strdup(mechs);
    for (char *save1 = NULL, *mn = strtok_r(mlist, ",", &save1); mn;
         mn = strtok_r(NULL, ",", &save1)) {
        const pinhole_mechanism_ops *ops = pinhole_mechanism_by_name(mn);
        if (!ops) {
            fprintf(stderr, "bench_accuracy: unknown mechanism %s\n", mn);
            return 2;
        }
        char *elist = strdup(epsl);
        for (char *save2 = NULL, *es = strtok_r(elist, ",", &save2); es;
             es = strtok_r(NULL, ",", &save2)) {
            const double eps = strtod(es, NULL);
            pinhole_config_params par = {.mechanism = ops->id, .k = k, .epsilon = eps};
            pinhole_config c;
            int rc = pinhole_config_init(&c, &par);
            if (rc != PINHOLE_OK) {
                fprintf(stderr, "bench_accuracy: %s eps %g: %s\n", mn, eps, pinhole_strerror(rc));
                continue;
            }
            double p_sup = 0, r_sup = 0;
            const int marginal =
                support_probs(&c, &p_sup, &r_sup) && (double)users * (double)k > 0x1p30;
            const uint64_t sample = marginal ? (users < 2000 ? users : 2000) : users;
            uint8_t *buf = malloc(sample * c.payload_bytes);
            uint64_t *counts = malloc(c.counts_len * sizeof *counts);
            double mse_sum = 0, mse_sum2 = 0, theory_sum = 0, t_client = 0, t_acc = 0, t_est = 0;
            pinhole_rng rng;
            pinhole_rng_init_seeded(&rng, seed);
            gsl_rng_set(grng, (unsigned long)seed);
            for (uint64_t run = 0; run < runs; run++) {
                if (c.mechanism == PINHOLE_MECH_OLH) { /* a fresh public seed pool per collection */
                    pinhole_config_free(&c);
                    par.pool_key = seed * 7919 + run;
                    pinhole_config_init(&c, &par);
                }
                memset(f, 0, k * sizeof *f);
                for (uint64_t i = 0; i < users; i++)
                    f[values[i] = draw(cdf, k, pinhole_rng_unit(&rng))]++;
                memset(counts, 0, c.counts_len * sizeof *counts);
                double t0 = pinhole_clock_mono();
                for (uint64_t i = 0; i < sample; i++)
                    pinhole_encode(&c, values[i], &rng, buf + i * c.payload_bytes, c.payload_bytes);
                double t1 = pinhole_clock_mono();
                for (uint64_t i = 0; i < sample; i++)
                    pinhole_accumulate(&c, buf + i * c.payload_bytes, c.payload_bytes, counts);
                double t2 = pinhole_clock_mono();
                t_client += (t1 - t0) / (double)sample;
                t_acc += (t2 - t1) * (double)users / (double)sample;
                if (marginal)
                    for (uint64_t v = 0; v < k; v++)
                        counts[v] = gsl_ran_binomial(grng, p_sup, (unsigned)f[v]) +
                                    gsl_ran_binomial(grng, r_sup, (unsigned)(users - f[v]));
                t2 = pinhole_clock_mono();
                rc = pinhole_estimate(&c, counts, users, est, NULL);
                t_est += pinhole_clock_mono() - t2;
                if (rc != PINHOLE_OK) {
                    fprintf(stderr, "bench_accuracy: %s: estimate: %s\n", mn, pinhole_strerror(rc));
                    return 1;
                }
                double sum_ffm1 = 0;
                for (uint64_t v = 0; v < k; v++)
                    sum_ffm1 += (double)f[v] * ((double)f[v] - 1);
                const pinhole_blocks *d = blocks_of(&c);
                for (uint64_t b = 0; d && b < d->B; b++) {
                    Fb[b] = 0;
                    for (uint64_t v = b * d->per; v < k && v < (b + 1) * d->per; v++)
                        Fb[b] += (double)f[v];
                }
                double se = 0, th = 0;
                for (uint64_t v = 0; v < k; v++) {
                    const double d = est[v] - (double)f[v];
                    se += d * d;
                    th += exact_variance(&c, f, users, v, sum_ffm1, Fb);
                }
                mse_sum += se / (double)k;
                mse_sum2 += (se / (double)k) * (se / (double)k);
                theory_sum += th / (double)k;
            }
            const double R = (double)runs, mse = mse_sum / R;
            const double mse_se = sqrt(fmax(0, (mse_sum2 / R - mse * mse) * R / (R - 1)) / R);
            const double theory = theory_sum / R,
                         opt = (double)users * pinhole_variance_optimum(eps);
            printf("%s,%llu,%llu,%s,%g,%.10g,%llu,%s,%.6g,%.3g,%.6g,%.5f,%.6g,%.5f,%u,%.4g,%.4g,%."
                   "4g,%.4g,%s\n",
                   dataset, (unsigned long long)k, (unsigned long long)users, mn, eps,
                   c.epsilon_realized, (unsigned long long)runs, marginal ? "marginal" : "full",
                   mse, mse_se, theory, mse / theory, opt, mse / opt, c.payload_bits,
                   t_client / R * 1e6, t_acc / R, t_est / R, (t_acc + t_est) / R,
                   marginal ? "extrapolated from 2000 reports" : "measured");
            fflush(stdout);
            free(buf);
            free(counts);
            pinhole_config_free(&c);
        }
        free(elist);
    }
    free(mlist);
    gsl_rng_free(grng);
    free(f);
    free(values);
    free(est);
    free(Fb);
    free(cdf);
    return 0;
}
