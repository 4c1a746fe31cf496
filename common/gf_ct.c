/* Constant-time GF(q) arithmetic: Barrett for GF(p), carry-less for GF(2^m), digits for GF(p^m). */
#include "common/gf_ct.h"
#include "common/ct.h"

#include <string.h>

void pinhole_gf_ct_init(pinhole_gf_ct *C, const pinhole_gf *F)
{
    memset(C, 0, sizeof *C);
    C->q = F->q;
    C->p = F->p;
    C->m = F->m;
    C->mu_p = pinhole_ct_barrett_mu(F->p);
    C->modulus = F->modulus;
    for (uint32_t i = 0; i <= PINHOLE_GF_MMAX; i++)
        C->pw[i] = F->pw[i];
    if (F->p != 2 && F->m >= 2) {
        uint32_t a = F->modulus; /* public: the modulus is fixed by q */
        for (uint32_t i = 0; i < F->m; i++) {
            uint32_t d = a % F->p;
            a /= F->p;
            C->negf[i] = d ? F->p - d : 0;
        }
    }
}

static inline uint32_t mod_p(const pinhole_gf_ct *C, uint32_t x)
{
    uint32_t r;
    (void)pinhole_ct_divmod32(x, C->p, C->mu_p, &r);
    return r;
}

/* base-p digits of a < q */
static void to_digits(const pinhole_gf_ct *C, uint32_t a, uint32_t *d)
{
    for (uint32_t i = 0; i < C->m; i++)
        a = pinhole_ct_divmod32(a, C->p, C->mu_p, &d[i]);
}

static uint32_t from_digits(const pinhole_gf_ct *C, const uint32_t *d)
{
    uint32_t a = 0;
    for (uint32_t i = 0; i < C->m; i++)
        a += d[i] * C->pw[i];
    return a;
}

/* Digit-wise a + b (negate = 0) or a - b (negate = 1) in an extension field of odd characteristic;
 * negate is public. */
static uint32_t add_digits(const pinhole_gf_ct *C, uint32_t a, uint32_t b, int negate)
{
    uint32_t da[PINHOLE_GF_MMAX], db[PINHOLE_GF_MMAX];
    to_digits(C, a, da);
    to_digits(C, b, db);
    for (uint32_t i = 0; i < C->m; i++) {
        const uint32_t d = negate ? pinhole_ct_reduce_once(C->p - db[i], C->p) : db[i];
        da[i] = pinhole_ct_reduce_once(da[i] + d, C->p);
    }
    return from_digits(C, da);
}

uint32_t pinhole_gf_ct_add_ext(const pinhole_gf_ct *C, uint32_t a, uint32_t b)
{
    return C->p == 2 ? a ^ b : add_digits(C, a, b, 0);
}

uint32_t pinhole_gf_ct_sub_ext(const pinhole_gf_ct *C, uint32_t a, uint32_t b)
{
    return C->p == 2 ? a ^ b : add_digits(C, a, b, 1);
}

uint32_t pinhole_gf_ct_mul_ext(const pinhole_gf_ct *C, uint32_t a, uint32_t b)
{
    const uint32_t m = C->m;
    if (C->p == 2) {
        uint32_t r = 0; /* carry-less product, degree <= 2m - 2 <= 30 */
        for (uint32_t i = 0; i < m; i++)
            r ^= (a << i) & pinhole_ct_bitmask32(b, i);
        const uint32_t f = (UINT32_C(1) << m) | C->modulus;
        for (uint32_t i = 2 * m - 1; i-- > m;)
            r ^= (f << (i - m)) & pinhole_ct_bitmask32(r, i);
        return r;
    }
    /* odd p, m >= 2: p^2 <= 2^16, so sums of m <= 16 digit products stay below 2^21 */
    uint32_t da[PINHOLE_GF_MMAX], db[PINHOLE_GF_MMAX], prod[2 * PINHOLE_GF_MMAX] = {0};
    to_digits(C, a, da);
    to_digits(C, b, db);
    for (uint32_t i = 0; i < m; i++)
        for (uint32_t j = 0; j < m; j++)
            prod[i + j] += da[i] * db[j];
    for (uint32_t i = 0; i < 2 * m - 1; i++)
        prod[i] = mod_p(C, prod[i]);
    /* x^m = -sum a_j x^j: fold the top coefficients down, highest first */
    for (uint32_t i = 2 * m - 1; i-- > m;) {
        const uint32_t c = prod[i];
        for (uint32_t j = 0; j < m; j++)
            prod[i - m + j] = mod_p(C, prod[i - m + j] + c * C->negf[j]);
    }
    return from_digits(C, prod);
}

uint32_t pinhole_gf_ct_inv(const pinhole_gf_ct *C, uint32_t a)
{
    if (C->q == 2)
        return a;
    /* a^(q-2): the exponent is public, so its bits may steer the loop */
    uint32_t e = C->q - 2, r = 1, x = a;
    while (e) {
        uint32_t y = pinhole_gf_ct_mul(C, r, x);
        r = (e & 1) ? y : r;
        x = pinhole_gf_ct_mul(C, x, x);
        e >>= 1;
    }
    return r;
}
