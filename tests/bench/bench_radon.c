/* The DP's per-block sum along lines for prime q: the direct vector kernel (q^2 ceil(q/8) vector
 * adds) against the O(q^2 log q) projection-slice transform through FFTW. For each q
 * prints one JSON line: microseconds per block of each, whether both are exact, and the FFT's
 * largest distance to the nearest integer on counts near 2^40 (its exactness margin).
 * usage: bench_radon [q ...]   (default 11 53 149 151 257 1021) */
#include "common/clock.h"
#include "common/error.h"
#include "common/rng.h"
#include "server/estimate/pgr_dp.h"

#include <complex.h>
#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The transform: 2-D real DFT of h, then for each direction e the slice beta -> H(beta e, beta),
 * whose inverse 1-D DFT is the line sums of direction e (projection-slice). */
typedef struct fft_lines {
    uint32_t q, qh;
    double *in, *res;
    fftw_complex *spec, *slices;
    fftw_plan fwd, inv;
} fft_lines;

static int fft_init(fft_lines *f, uint32_t q)
{
    f->q = q;
    f->qh = q / 2 + 1;
    f->in = fftw_malloc(sizeof(double) * q * q);
    f->res = fftw_malloc(sizeof(double) * q * q);
    f->spec = fftw_malloc(sizeof(fftw_complex) * q * f->qh);
    f->slices = fftw_malloc(sizeof(fftw_complex) * q * f->qh);
    if (!f->in || !f->res || !f->spec || !f->slices)
        return -1;
    const int n = (int)q;
    f->fwd = fftw_plan_dft_r2c_2d(n, n, f->in, f->spec, FFTW_MEASURE);
    f->inv = fftw_plan_many_dft_c2r(1, &n, n, f->slices, NULL, 1, (int)f->qh, f->res, NULL, 1, n,
                                    FFTW_MEASURE);
    return f->fwd && f->inv ? 0 : -1;
}

static void fft_free(fft_lines *f)
{
    fftw_destroy_plan(f->fwd);
    fftw_destroy_plan(f->inv);
    fftw_free(f->in);
    fftw_free(f->res);
    fftw_free(f->spec);
    fftw_free(f->slices);
}

/* out[e q + u] = round(sum along line (e, u)); *maxerr = largest |x - round(x)| seen. */
static void fft_run(fft_lines *f, const uint64_t *h, uint64_t *out, double *maxerr)
{
    const uint32_t q = f->q, qh = f->qh;
    for (size_t i = 0; i < (size_t)q * q; i++)
        f->in[i] = (double)h[i];
    fftw_execute(f->fwd); /* spec[a qh + b] = sum h[d][w] w^(a d + b w), rows d, columns w */
    for (uint32_t e = 0; e < q; e++) {
        uint32_t a = 0; /* b e mod q */
        for (uint32_t b = 0; b < qh; b++) {
            f->slices[(size_t)e * qh + b] = f->spec[(size_t)a * qh + b];
            a += e;
            if (a >= q)
                a -= q;
        }
    }
    fftw_execute(f->inv); /* unnormalized: q times the line sums */
    double err = 0;
    for (size_t i = 0; i < (size_t)q * q; i++) {
        const double x = f->res[i] / q, r = nearbyint(x);
        if (fabs(x - r) > err)
            err = fabs(x - r);
        out[i] = (uint64_t)r;
    }
    *maxerr = err;
}

/* Exact reference in 64 bits. */
static void direct64(uint32_t q, const uint64_t *h, uint64_t *out)
{
    for (uint32_t e = 0; e < q; e++)
        for (uint32_t u = 0; u < q; u++) {
            uint64_t s = 0;
            for (uint32_t d = 0; d < q; d++)
                s += h[(size_t)d * q + (u + q - (uint32_t)(((uint64_t)d * e) % q)) % q];
            out[(size_t)e * q + u] = s;
        }
}

static int bench_q(uint32_t q, pinhole_rng *rng)
{
    if (q < 2 || q > 4096)
        return 1;
    const size_t n = (size_t)q * q;
    uint32_t *h32 = malloc(n * sizeof *h32), *o32 = malloc(n * sizeof *o32);
    uint64_t *h = malloc(n * sizeof *h), *ref = malloc(n * sizeof *ref), *o = malloc(n * sizeof *o);
    fft_lines f;
    if (!h32 || !o32 || !h || !ref || !o || fft_init(&f, q) != 0)
        return 1;
    /* counts summing to < 2^32 per line for the 32-bit kernel */
    for (size_t i = 0; i < n; i++) {
        h32[i] = pinhole_rng_uniform(rng, (uint32_t)(UINT32_MAX / q));
        h[i] = h32[i];
    }
    direct64(q, h, ref);
    int exact_direct = pinhole_pgr_sum_lines(q, h32, o32) == PINHOLE_OK, exact_fft = 1;
    double err;
    fft_run(&f, h, o, &err);
    for (size_t i = 0; i < n; i++) {
        exact_direct &= o32[i] == ref[i];
        exact_fft &= o[i] == ref[i];
    }
    /* timing: best of 5 rounds of enough blocks for about 50 ms each */
    double td = 1e300, tf = 1e300;
    const unsigned reps = (unsigned)(2e8 / ((double)q * q * q) + 1);
    for (int round = 0; round < 5; round++) {
        double t0 = pinhole_clock_mono();
        for (unsigned r = 0; r < reps; r++)
            pinhole_pgr_sum_lines(q, h32, o32);
        double t1 = pinhole_clock_mono();
        for (unsigned r = 0; r < reps; r++)
            fft_run(&f, h, o, &err);
        double t2 = pinhole_clock_mono();
        if ((t1 - t0) / reps < td)
            td = (t1 - t0) / reps;
        if ((t2 - t1) / reps < tf)
            tf = (t2 - t1) / reps;
    }
    /* exactness margin on counts near 2^40 */
    for (size_t i = 0; i < n; i++)
        h[i] = (UINT64_C(1) << 40) - 1 - pinhole_rng_uniform(rng, 1u << 20);
    direct64(q, h, ref);
    fft_run(&f, h, o, &err);
    int exact40 = 1;
    for (size_t i = 0; i < n; i++)
        exact40 &= o[i] == ref[i];
    printf(
        "{\"bench\":\"sum_lines\",\"q\":%u,\"direct_us\":%.2f,\"fft_us\":%.2f,\"direct_exact\":%s,"
        "\"fft_exact\":%s,\"fft_exact_near_2_40\":%s,\"fft_max_rounding_error_near_2_40\":%.3g}\n",
        q, td * 1e6, tf * 1e6, exact_direct ? "true" : "false", exact_fft ? "true" : "false",
        exact40 ? "true" : "false", err);
    fflush(stdout);
    fft_free(&f);
    free(h32);
    free(o32);
    free(h);
    free(ref);
    free(o);
    return !(exact_direct && exact_fft);
}

int main(int argc, char **argv)
{
    pinhole_rng rng;
    pinhole_rng_init_seeded(&rng, 7);
    const uint32_t def[] = {11, 53, 149, 151, 257, 1021};
    int bad = 0;
    if (argc > 1)
        for (int i = 1; i < argc; i++)
            bad |= bench_q((uint32_t)strtoul(argv[i], NULL, 10), &rng);
    else
        for (size_t i = 0; i < sizeof def / sizeof def[0]; i++)
            bad |= bench_q(def[i], &rng);
    return bad;
}
