/* Constant-time arithmetic in GF(q), for the randomizer's value path (docs/design.md, "PGR" and
 * "Privacy as run").
 *
 * Same element encoding and modulus as common/gf.h, but without log/antilog tables: no branch
 * and no memory index depends on an element. Prime fields reduce with Barrett
 * (pinhole_ct_divmod32); binary extension fields multiply carry-less with masked shifts;
 * odd-characteristic extension fields work on base-p digits. Inversion is a^(q-2) by
 * square-and-multiply over the public exponent. Slower than the tables (tests/bench/ measures it),
 * used where the user's value flows.
 *
 * A pinhole_gf_ct is read-only after pinhole_gf_ct_init() and may be shared between threads; it
 * owns no memory. */
#ifndef PINHOLE_COMMON_GF_CT_H
#define PINHOLE_COMMON_GF_CT_H

#include "common/ct.h"
#include "common/gf.h"

#include <stdint.h>

typedef struct pinhole_gf_ct {
    uint32_t q, p, m;
    uint32_t mu_p;    /* floor(2^32 / p) for Barrett reduction modulo p */
    uint32_t modulus; /* p = 2: the modulus' low bits (x^m implied) */
    uint32_t
        negf[PINHOLE_GF_MMAX]; /* odd p, m >= 2: -a_i mod p for the modulus' low coefficients */
    uint32_t pw[PINHOLE_GF_MMAX + 1]; /* p^i */
} pinhole_gf_ct;

/** Describe the field F for constant-time use (copies its public parameters). */
void pinhole_gf_ct_init(pinhole_gf_ct *C, const pinhole_gf *F);

/* The extension-field cases, out of line; the prime-field cases are inline below. */
uint32_t pinhole_gf_ct_add_ext(const pinhole_gf_ct *C, uint32_t a, uint32_t b);
uint32_t pinhole_gf_ct_sub_ext(const pinhole_gf_ct *C, uint32_t a, uint32_t b);
uint32_t pinhole_gf_ct_mul_ext(const pinhole_gf_ct *C, uint32_t a, uint32_t b);

/** a + b. (The branch is on the public field, never on a or b.) */
static inline uint32_t pinhole_gf_ct_add(const pinhole_gf_ct *C, uint32_t a, uint32_t b)
{
    if (C->m == 1)
        return pinhole_ct_reduce_once(a + b, C->p);
    return C->p == 2 ? a ^ b : pinhole_gf_ct_add_ext(C, a, b);
}

/** a - b. */
static inline uint32_t pinhole_gf_ct_sub(const pinhole_gf_ct *C, uint32_t a, uint32_t b)
{
    if (C->m == 1)
        return pinhole_ct_reduce_once(a + C->p - b, C->p);
    return C->p == 2 ? a ^ b : pinhole_gf_ct_sub_ext(C, a, b);
}

/** a * b. */
static inline uint32_t pinhole_gf_ct_mul(const pinhole_gf_ct *C, uint32_t a, uint32_t b)
{
    if (C->m != 1)
        return pinhole_gf_ct_mul_ext(C, a, b);
    uint32_t r; /* a, b < p <= 65521: the product fits in 32 bits */
    (void)pinhole_ct_divmod32(a * b, C->p, C->mu_p, &r);
    return r;
}

/** a^-1 for a != 0; 0 for a = 0. */
uint32_t pinhole_gf_ct_inv(const pinhole_gf_ct *C, uint32_t a);

#endif
