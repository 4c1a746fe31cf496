/* Finite-field construction: prime-power test, the canonical modulus and log/antilog tables. */
#include "common/gf.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

int pinhole_gf_is_prime_power(uint32_t q, uint32_t *p, uint32_t *m)
{
    if (q < 2)
        return 0;
    uint32_t f = 0;
    for (uint32_t d = 2; (uint64_t)d * d <= q; d++) {
        if (q % d == 0) {
            f = d;
            break;
        }
    }
    if (f == 0)
        f = q; /* q is prime */
    uint32_t e = 0, r = q;
    while (r % f == 0) {
        r /= f;
        e++;
    }
    if (r != 1)
        return 0;
    if (p)
        *p = f;
    if (m)
        *m = e;
    return 1;
}

/* Polynomials over GF(p) as coefficient arrays, lowest degree first, of fixed capacity. */
enum { POLY_CAP = 2 * PINHOLE_GF_MMAX + 2 };

static void to_digits(uint32_t a, uint32_t p, uint32_t m, uint32_t *d)
{
    for (uint32_t i = 0; i < m; i++) {
        d[i] = a % p;
        a /= p;
    }
}

static uint32_t from_digits(const uint32_t *d, uint32_t p, uint32_t m)
{
    uint32_t a = 0;
    for (uint32_t i = m; i-- > 0;)
        a = a * p + d[i];
    return a;
}

/* Remainder of a (degree < na) modulo the monic polynomial g of degree dg, in place. */
static void poly_mod_monic(uint32_t *a, uint32_t na, const uint32_t *g, uint32_t dg, uint32_t p)
{
    for (uint32_t i = na; i-- > dg;) {
        uint32_t c = a[i];
        if (c == 0)
            continue;
        for (uint32_t j = 0; j <= dg; j++) {
            /* a[i - dg + j] -= c * g[j] */
            uint32_t s = (c * g[j]) % p;
            a[i - dg + j] = (a[i - dg + j] + p - s) % p;
        }
    }
}

/* Is x^m + sum_{i<m} low_i x^i irreducible over GF(p)? Trial division by every monic polynomial
 * of degree 1..m/2 (at most about 2 sqrt(q) divisors for q <= 2^16). */
static int poly_irreducible(const uint32_t *f, uint32_t m, uint32_t p)
{
    uint32_t g[POLY_CAP], r[POLY_CAP];
    for (uint32_t dg = 1; dg <= m / 2; dg++) {
        uint32_t count = 1;
        for (uint32_t i = 0; i < dg; i++)
            count *= p;
        for (uint32_t low = 0; low < count; low++) {
            to_digits(low, p, dg, g);
            g[dg] = 1;
            memcpy(r, f, (m + 1) * sizeof *r);
            poly_mod_monic(r, m + 1, g, dg, p);
            int zero = 1;
            for (uint32_t i = 0; i < dg; i++)
                zero &= r[i] == 0;
            if (zero)
                return 0;
        }
    }
    return 1;
}

/* Multiplication without tables: schoolbook product reduced by the modulus f (monic, degree m). */
static uint32_t slow_mul(const pinhole_gf *F, const uint32_t *f, uint32_t a, uint32_t b)
{
    if (F->m == 1)
        return (uint32_t)(((uint64_t)a * b) % F->p);
    uint32_t da[PINHOLE_GF_MMAX], db[PINHOLE_GF_MMAX], prod[POLY_CAP] = {0};
    to_digits(a, F->p, F->m, da);
    to_digits(b, F->p, F->m, db);
    for (uint32_t i = 0; i < F->m; i++)
        for (uint32_t j = 0; j < F->m; j++)
            prod[i + j] = (prod[i + j] + da[i] * db[j]) % F->p;
    poly_mod_monic(prod, 2 * F->m - 1, f, F->m, F->p);
    return from_digits(prod, F->p, F->m);
}

static uint32_t slow_pow(const pinhole_gf *F, const uint32_t *f, uint32_t a, uint32_t e)
{
    uint32_t r = 1;
    while (e) {
        if (e & 1)
            r = slow_mul(F, f, r, a);
        a = slow_mul(F, f, a, a);
        e >>= 1;
    }
    return r;
}

int pinhole_gf_init(pinhole_gf *F, uint32_t q)
{
    memset(F, 0, sizeof *F);
    uint32_t p, m;
    if (q > PINHOLE_GF_QMAX || !pinhole_gf_is_prime_power(q, &p, &m))
        return PINHOLE_EINVAL;
    F->q = q;
    F->p = p;
    F->m = m;
    F->pw[0] = 1;
    for (uint32_t i = 1; i <= PINHOLE_GF_MMAX; i++)
        F->pw[i] = i <= m ? F->pw[i - 1] * p : 0;

    uint32_t f[POLY_CAP] = {0};
    if (m >= 2) {
        for (uint32_t low = 0; low < q; low++) {
            to_digits(low, p, m, f);
            f[m] = 1;
            if (f[0] != 0 && poly_irreducible(f, m, p)) {
                F->modulus = low;
                break;
            }
        }
    }

    /* Smallest primitive element: g^((q-1)/r) != 1 for every prime r dividing q - 1. */
    uint32_t primes[32], np = 0, n = q - 1;
    for (uint32_t d = 2; (uint64_t)d * d <= n; d++) {
        if (n % d == 0) {
            primes[np++] = d;
            while (n % d == 0)
                n /= d;
        }
    }
    if (n > 1)
        primes[np++] = n;
    uint32_t g = 1;
    if (q > 2) {
        for (g = 2; g < q; g++) {
            int ok = 1;
            for (uint32_t i = 0; i < np && ok; i++)
                ok = slow_pow(F, f, g, (q - 1) / primes[i]) != 1;
            if (ok)
                break;
        }
    }
    F->generator = g;

    F->exp = malloc(2 * (size_t)(q - 1) * sizeof *F->exp);
    F->log = calloc(q, sizeof *F->log);
    if (!F->exp || !F->log) {
        pinhole_gf_free(F);
        return PINHOLE_ENOMEM;
    }
    uint32_t x = 1;
    for (uint32_t i = 0; i < q - 1; i++) {
        F->exp[i] = (uint16_t)x;
        F->exp[i + q - 1] = (uint16_t)x;
        F->log[x] = (uint16_t)i;
        x = slow_mul(F, f, x, g);
    }
    return PINHOLE_OK;
}

void pinhole_gf_free(pinhole_gf *F)
{
    free(F->exp);
    free(F->log);
    F->exp = NULL;
    F->log = NULL;
}
