/* Bit-string reports: accumulate set bits, estimate by the support-set formula. */
#include "server/estimate/unary.h"
#include "common/error.h"
#include "common/ldp.h"

int pinhole_bits_accumulate(uint64_t k, const uint8_t *bits, uint64_t *counts)
{
    const uint64_t nbytes = (k + 7) / 8;
    if ((k & 7) && (bits[nbytes - 1] >> (k & 7)))
        return PINHOLE_ERANGE;
    for (uint64_t i = 0; i < nbytes; i++) {
        unsigned x = bits[i];
        while (x) {
#if defined(__GNUC__)
            const unsigned j = (unsigned)__builtin_ctz(x);
#else
            unsigned j = 0;
            while (!((x >> j) & 1))
                j++;
#endif
            counts[8 * i + j]++;
            x &= x - 1;
        }
    }
    return PINHOLE_OK;
}

int pinhole_bits_estimate(uint64_t k, double p, double r, const uint64_t *counts, uint64_t n,
                          double *est)
{
    if (n == 0)
        return PINHOLE_ENOREPORTS;
    for (uint64_t v = 0; v < k; v++)
        if (counts[v] > n)
            return PINHOLE_EINVAL;
    pinhole_support_estimate(counts, k, n, p, r, est);
    return PINHOLE_OK;
}
