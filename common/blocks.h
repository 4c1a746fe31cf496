/* Block designs shared by HPGR and Hadamard response: items split into B blocks; a report is
 * (block j, output y) among Kb outputs per block; item x (block b, position x mod per) supports c
 * outputs of its block, two items of one block share c_int of them. The randomizer outputs (j, y)
 * with probability proportional to e^eps if it supports the user's item, else 1: with probability
 * t_in/2^64 a uniform supporting output; otherwise, with probability t_same/2^64, a uniform
 * non-supporting output of its block, else a uniform output of a uniform other block.
 *
 * The unbiased estimate removes the same-block term with the unbiased block total
 * F_b = (N_b - n beta_out)/(beta_in - beta_out):
 *   f_v = (T_v - r_other n - (r_same - r_other) F_b) / (s_in - r_same).
 * Its exact variance is the sum over users of Var(1[supports v] - rho 1[in block b]) divided by
 * (s_in - r_same)^2, rho = (r_same - r_other)/(beta_in - beta_out), and depends on F_b.
 * Source: the blocked constructions of Feldman, Nelson, Nguyen, Talwar, ICML 2022, §5 (HPGR) and
 * Acharya, Sun, Zhang, AISTATS 2019, §4 (Hadamard response for general epsilon). */
#ifndef PINHOLE_COMMON_BLOCKS_H
#define PINHOLE_COMMON_BLOCKS_H

#include <stdint.h>

typedef struct pinhole_blocks {
    uint64_t k;
    uint64_t Kb;              /* outputs per block */
    uint64_t per;             /* items per block (the last block may hold fewer) */
    uint64_t B;               /* blocks, ceil(k / per) */
    uint64_t c_set;           /* outputs supporting one item */
    uint64_t c_int;           /* outputs supporting two items of one block */
    uint64_t t_in;            /* P[a supporting output] = t_in / 2^64 */
    uint64_t t_same;          /* given not: P[the user's block] = t_same/2^64 (B = 1: 2^64 - 1) */
    double epsilon_realized;  /* log of the largest ratio of output probabilities */
    double s_in;              /* P[report supports v | v] */
    double r_same, r_other;   /* P[report supports v | w in v's block / in another block] */
    double beta_in, beta_out; /* P[report in block b | user in block b / in another block] */
    uint32_t bits;            /* ceil(log2(B Kb)) */
} pinhole_blocks;

/** Fill d for k items, per items per block, Kb outputs per block of which c support an item and
 * c_int two items; thresholds as small as needed for the realized epsilon to stay <= epsilon.
 * The caller has checked epsilon, k >= 2, 1 <= c_int < c < Kb (c_int = 0 allowed when per = 1),
 * and that B Kb fits in 62 bits. */
void pinhole_blocks_setup(pinhole_blocks *d, uint64_t k, double epsilon, uint64_t Kb, uint64_t per,
                          uint64_t c, uint64_t c_int);

/** Exact variance (counts^2) of an item's estimate from n reports, f holding the item and F_b
 * holding an item of its block (f <= F_b <= n). */
double pinhole_blocks_variance_block(const pinhole_blocks *d, double n, double f, double F_b);

/** The variance when the other users are spread evenly over the items:
 * F_b = f + (n - f)(per - 1)/(k - 1). */
double pinhole_blocks_variance(const pinhole_blocks *d, double n, double f);

/** Unbiased estimates est[x] for the items x of block b (x < per and b per + x < k), from their
 * support totals T[x] (counts), the block's report total N_b and n. */
void pinhole_blocks_estimate(const pinhole_blocks *d, uint64_t b, const uint64_t *T, uint64_t N_b,
                             uint64_t n, double *est);

#endif
