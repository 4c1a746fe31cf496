/* Constant-time helpers: masks and selections with no branch, and declassification of values
 * that are public by design (the checked build marks them defined for valgrind memcheck).
 *
 * A mask is 0 or all ones. Every function is branch-free on its arguments (on compilers that keep
 * arithmetic as arithmetic; tests/ct/ checks the compiled randomizer under valgrind). */
#ifndef PINHOLE_COMMON_CT_H
#define PINHOLE_COMMON_CT_H

#include <stddef.h>
#include <stdint.h>

#ifdef PINHOLE_CT_CHECK
#include <valgrind/memcheck.h>
#endif

/** x, through a barrier the optimizer cannot see through: without it clang recognizes the masks
 * below as comparisons and compiles selections on them into branches (tests/ct/ct_check.sh). */
static inline uint32_t pinhole_ct_barrier32(uint32_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    __asm__("" : "+r"(x));
    return x;
#else
    volatile uint32_t v = x;
    return v;
#endif
}

/** All ones if bit i of x is set, else 0. */
static inline uint32_t pinhole_ct_bitmask32(uint32_t x, uint32_t i)
{
    return (uint32_t)0 - pinhole_ct_barrier32((x >> i) & 1);
}

/** All ones if a < b, else 0. */
static inline uint64_t pinhole_ct_lt64(uint64_t a, uint64_t b)
{
    /* the borrow of a - b from the top bits (Hacker's Delight, §2-12), without a comparison */
    const uint32_t borrow = (uint32_t)(((~a & b) | ((~a | b) & (a - b))) >> 63);
    return (uint64_t)0 - pinhole_ct_barrier32(borrow);
}

/** All ones if a < b, else 0 (32-bit). */
static inline uint32_t pinhole_ct_lt32(uint32_t a, uint32_t b)
{
    return (uint32_t)0 - pinhole_ct_barrier32((uint32_t)(((uint64_t)a - b) >> 63));
}

/** All ones if a != 0, else 0. */
static inline uint32_t pinhole_ct_nonzero32(uint32_t a)
{
    return (uint32_t)0 - pinhole_ct_barrier32((uint32_t)(((uint64_t)0 - a) >> 63));
}

/** All ones if a == b, else 0. */
static inline uint32_t pinhole_ct_eq32(uint32_t a, uint32_t b)
{
    return ~pinhole_ct_nonzero32(a ^ b);
}

/** A 32-bit mask (0 or all ones) widened to 64 bits. */
static inline uint64_t pinhole_ct_widen(uint32_t mask)
{
    return ((uint64_t)mask << 32) | mask;
}

/** mask ? a : b, for a mask of 0 or all ones. */
static inline uint32_t pinhole_ct_select32(uint32_t mask, uint32_t a, uint32_t b)
{
    return b ^ (mask & (a ^ b));
}

/** a - d if a >= d, else a. */
static inline uint32_t pinhole_ct_reduce_once(uint32_t a, uint32_t d)
{
    return a - (d & ~pinhole_ct_lt32(a, d));
}

/** Quotient and remainder of x < 2^32 by a public divisor 2 <= d <= 2^16, branch-free: Barrett
 * reduction with mu = floor(2^32 / d) (pinhole_ct_barrett_mu), one correction step. */
static inline uint32_t pinhole_ct_divmod32(uint32_t x, uint32_t d, uint32_t mu, uint32_t *rem)
{
    uint32_t qt = (uint32_t)(((uint64_t)x * mu) >> 32); /* floor(x/d) - 1 <= qt <= floor(x/d) */
    uint32_t r = x - qt * d;                            /* r < 2d */
    uint32_t fix = ~pinhole_ct_lt32(r, d);
    *rem = r - (d & fix);
    return qt + (fix & 1);
}

/** floor(2^32 / d) for the divisor of pinhole_ct_divmod32 (2 <= d <= 2^16; public). */
static inline uint32_t pinhole_ct_barrett_mu(uint32_t d)
{
    return (uint32_t)((UINT64_C(1) << 32) / d);
}

/** Quotient and remainder of x < 2^(16 limbs) by a public divisor 2 <= d <= 2^16, branch-free
 * (one 16-bit long-division step per limb; limbs <= 4 is public, e.g. from a bound on x). */
static inline uint64_t pinhole_ct_divmod64(uint64_t x, uint32_t d, uint32_t mu, int limbs,
                                           uint32_t *rem)
{
    uint64_t qt = 0;
    uint32_t r = 0;
    for (int limb = limbs - 1; limb >= 0; limb--) {
        uint32_t cur = (r << 16) | (uint32_t)((x >> (16 * limb)) & 0xFFFFu); /* r < d <= 2^16 */
        uint32_t qd = pinhole_ct_divmod32(cur, d, mu, &r);
        qt = (qt << 16) | qd;
    }
    *rem = r;
    return qt;
}

/** Declare len bytes at p public: a no-op, except in the constant-time check build
 * (-DPINHOLE_CT_CHECK), where valgrind memcheck is told they are defined. Used only where the
 * value is public by design (the report the randomizer outputs, whether a value is in range). */
static inline void pinhole_ct_declassify(const void *p, size_t len)
{
#ifdef PINHOLE_CT_CHECK
    VALGRIND_MAKE_MEM_DEFINED(p, len);
#else
    (void)p;
    (void)len;
#endif
}

#endif
