/* Finite fields GF(q) for every prime power q <= 2^16 (docs/design.md, "PGR").
 *
 * Elements are integers 0..q-1: an element of GF(p) is its residue; an element sum c_i x^i of
 * GF(p^m) is the integer sum c_i p^i, reduced modulo the fixed modulus: the monic irreducible
 * x^m + sum_{i<m} a_i x^i whose integer sum a_i p^i is the smallest. Every implementation of the
 * wire format must agree on this choice.
 *
 * Multiplication and inversion go through log/antilog tables built once by pinhole_gf_init();
 * after that a pinhole_gf is read-only and may be shared between threads. */
#ifndef PINHOLE_COMMON_GF_H
#define PINHOLE_COMMON_GF_H

#include <stdint.h>

#define PINHOLE_GF_QMAX 65536u /* largest field order supported */
#define PINHOLE_GF_MMAX 16u    /* largest extension degree (2^16) */

typedef struct pinhole_gf {
    uint32_t q;         /* field order p^m */
    uint32_t p;         /* characteristic */
    uint32_t m;         /* extension degree */
    uint32_t modulus;   /* integer sum a_i p^i of the modulus' low coefficients (m >= 2), else 0 */
    uint32_t generator; /* the primitive element the tables are built on */
    uint16_t
        *exp; /* exp[i] = generator^i, 2(q-1) entries so exp[log a + log b] needs no reduction */
    uint16_t *log;                    /* log[a] for a != 0; log[0] is unused */
    uint32_t pw[PINHOLE_GF_MMAX + 1]; /* p^i, for digit-wise addition in extension fields */
} pinhole_gf;

/** If q = p^m is a prime power with p prime and m >= 1, store p and m and return 1; else 0.
 * q = 0 and q = 1 are not prime powers. */
int pinhole_gf_is_prime_power(uint32_t q, uint32_t *p, uint32_t *m);

/** Build GF(q). Allocates the tables (about 6q bytes).
 * Errors: PINHOLE_EINVAL if q is not a prime power or q > PINHOLE_GF_QMAX; PINHOLE_ENOMEM. */
int pinhole_gf_init(pinhole_gf *F, uint32_t q);

/** Free the tables of a field built by pinhole_gf_init(); safe on a zeroed struct. */
void pinhole_gf_free(pinhole_gf *F);

/** a + b. */
static inline uint32_t pinhole_gf_add(const pinhole_gf *F, uint32_t a, uint32_t b)
{
    if (F->m == 1) {
        uint32_t s = a + b;
        return s >= F->p ? s - F->p : s;
    }
    if (F->p == 2)
        return a ^ b;
    uint32_t r = 0;
    for (uint32_t i = 0; i < F->m; i++) {
        uint32_t d = (a / F->pw[i]) % F->p + (b / F->pw[i]) % F->p;
        if (d >= F->p)
            d -= F->p;
        r += d * F->pw[i];
    }
    return r;
}

/** -a. */
static inline uint32_t pinhole_gf_neg(const pinhole_gf *F, uint32_t a)
{
    if (F->m == 1)
        return a ? F->p - a : 0;
    if (F->p == 2)
        return a;
    uint32_t r = 0;
    for (uint32_t i = 0; i < F->m; i++) {
        uint32_t d = (a / F->pw[i]) % F->p;
        r += (d ? F->p - d : 0) * F->pw[i];
    }
    return r;
}

/** a - b. */
static inline uint32_t pinhole_gf_sub(const pinhole_gf *F, uint32_t a, uint32_t b)
{
    return pinhole_gf_add(F, a, pinhole_gf_neg(F, b));
}

/** a * b. */
static inline uint32_t pinhole_gf_mul(const pinhole_gf *F, uint32_t a, uint32_t b)
{
    if (a == 0 || b == 0)
        return 0;
    return F->exp[(uint32_t)F->log[a] + F->log[b]];
}

/** a^-1 for a != 0 (returns 0 for a = 0, which has no inverse). */
static inline uint32_t pinhole_gf_inv(const pinhole_gf *F, uint32_t a)
{
    if (a == 0)
        return 0;
    return F->exp[(F->q - 1 - F->log[a]) % (F->q - 1)];
}

/** a / b for b != 0. */
static inline uint32_t pinhole_gf_div(const pinhole_gf *F, uint32_t a, uint32_t b)
{
    return pinhole_gf_mul(F, a, pinhole_gf_inv(F, b));
}

#endif
