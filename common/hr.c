/* Hadamard response parameters: block size, thresholds, realized epsilon, variance. */
#include "common/hr.h"
#include "common/error.h"
#include "common/grr.h"
#include "common/pgr.h"

#include <math.h>
#include <string.h>

static void setup(pinhole_hr *g, uint64_t k, double epsilon, uint64_t b)
{
    g->k = k;
    g->b = b;
    pinhole_blocks_setup(&g->d, k, epsilon, b, b - 1, b / 2, b / 4);
    g->epsilon_realized = g->d.epsilon_realized;
}

int pinhole_hr_init(pinhole_hr *g, uint64_t k, double epsilon, uint64_t b)
{
    memset(g, 0, sizeof *g);
    if (pinhole_epsilon_check(epsilon) != PINHOLE_OK || k < 2 ||
        (b != 0 && (b < 4 || (b & (b - 1)) != 0)))
        return PINHOLE_EINVAL;
    if (k >= PINHOLE_HR_KMAX)
        return PINHOLE_EOVERFLOW;
    const uint64_t bmax = UINT64_C(1) << pinhole_bits_for(k + 1); /* one block */
    if (b == 0) {
        double best = INFINITY;
        for (uint64_t bb = 4; bb <= (bmax < 4 ? 4 : bmax); bb *= 2) {
            pinhole_hr h;
            setup(&h, k, epsilon, bb);
            const double v = pinhole_hr_variance(&h, 1, 0);
            if (v < best && h.d.B * bb <= PINHOLE_HR_KMAX) {
                best = v;
                b = bb;
            }
        }
    }
    if (b > (bmax < 4 ? 4 : bmax))
        b = bmax < 4 ? 4 : bmax; /* more outputs than one block needs change nothing */
    if (((k + b - 2) / (b - 1)) * b > PINHOLE_HR_KMAX)
        return PINHOLE_EOVERFLOW;
    setup(g, k, epsilon, b);
    return PINHOLE_OK;
}

double pinhole_hr_variance(const pinhole_hr *g, double n, double f)
{
    return pinhole_blocks_variance(&g->d, n, f);
}
