/* Reverse-mode automatic differentiation over scalars and vectors, with explicit conservative
 * derivatives for the nonsmooth operations.
 *
 * A tape records operations as they are evaluated; pinhole_tape_backward() then propagates the
 * adjoint of one scalar output back to every node. Nodes are named by int ids (>= 0); every
 * operation returns the new node's id or a negative PINHOLE_E* code, and an operation given a
 * negative id returns that code unchanged, so a whole expression can be built and its error checked
 * once at the end (like NaN propagation).
 *
 * Shapes: a node holds a vector of length >= 1 (a scalar is length 1). Elementwise binary
 * operations need equal lengths, or one operand of length 1, which is broadcast.
 *
 * Nonsmooth points. relu, abs and max are differentiated with fixed choices at their kinks:
 * relu'(0) = s (the tape's parameter), abs'(0) = 0, and d max(a, b) = (s, 1 - s) when a = b (that
 * is, max(a, b) = b + relu(a - b) and abs(x) = relu(x) + relu(-x), differentiated by the chain
 * rule). Backpropagation through such a program does NOT always return the derivative, even where
 * the function is differentiable: it returns an element of a conservative field (Bolte & Pauwels,
 * "Conservative set valued fields, automatic differentiation, stochastic gradient methods and deep
 * learning", Math. Program. 2021). Example: relu(x) - relu(-x) = x has derivative 1, but backprop
 * returns 2s at x = 0. Such fields agree with the derivative almost everywhere and integrate along
 * paths like a gradient, which is what the trainers' stochastic gradient methods need.
 *
 * Memory: the tape owns its storage and grows it as needed; pinhole_tape_reset() forgets all nodes
 * but keeps the memory, so a training loop allocates only in its first step. Value and gradient
 * pointers returned by the accessors stay valid until the next operation on the tape. A tape is not
 * thread-safe; use one per thread. */
#ifndef PINHOLE_SERVER_ANALYTICS_AUTODIFF_H
#define PINHOLE_SERVER_ANALYTICS_AUTODIFF_H

#include <stdint.h>

typedef struct pinhole_tape pinhole_tape;

/** Maximum length of one node and maximum number of nodes on a tape. */
#define PINHOLE_TAPE_MAXLEN (1u << 26)
#define PINHOLE_TAPE_MAXNODES (1u << 26)

/** A new empty tape whose relu has the conservative derivative relu'(0) = relu_at_zero (any finite
 * s; s in [0, 1] keeps it inside Clarke's subdifferential). Errors: PINHOLE_EINVAL (s not finite,
 * out NULL), PINHOLE_ENOMEM. */
int pinhole_tape_new(double relu_at_zero, pinhole_tape **out);

/** Free a tape and everything on it (NULL is fine). */
void pinhole_tape_free(pinhole_tape *t);

/** Forget every node (ids restart at 0); keep the memory. */
void pinhole_tape_reset(pinhole_tape *t);

/** A leaf holding x[0..n): an input whose gradient backward() computes. Errors: PINHOLE_EINVAL
 * (n = 0 or > PINHOLE_TAPE_MAXLEN, x NULL), PINHOLE_ENOMEM, PINHOLE_EOVERFLOW (too many nodes). */
int pinhole_tape_var(pinhole_tape *t, uint32_t n, const double *x);

/** A leaf holding n copies of c (for constants like 1 or a label). Errors as pinhole_tape_var. */
int pinhole_tape_fill(pinhole_tape *t, uint32_t n, double c);

/** Elementwise a + b, a - b, a * b (equal lengths, or one of length 1 broadcast). Errors: the
 * negative id given, PINHOLE_EINVAL (unknown id, lengths differ), PINHOLE_ENOMEM,
 * PINHOLE_EOVERFLOW. */
int pinhole_tape_add(pinhole_tape *t, int a, int b);
int pinhole_tape_sub(pinhole_tape *t, int a, int b);
int pinhole_tape_mul(pinhole_tape *t, int a, int b);

/** Elementwise max(a, b); at ties the adjoint splits (s, 1 - s) with s = relu'(0). Errors as add.
 */
int pinhole_tape_max(pinhole_tape *t, int a, int b);

/** c * a for a constant c. Errors as add. */
int pinhole_tape_scale(pinhole_tape *t, int a, double c);

/** Elementwise exp, log (natural; log of x <= 0 gives -inf/NaN as in C, derivative 1/x), erf
 * (derivative 2/sqrt(pi) exp(-x^2)), relu (max(x, 0), derivative s at 0) and abs (derivative 0 at
 * 0). Errors: the negative id given, PINHOLE_EINVAL (unknown id), PINHOLE_ENOMEM,
 * PINHOLE_EOVERFLOW. */
int pinhole_tape_exp(pinhole_tape *t, int a);
int pinhole_tape_log(pinhole_tape *t, int a);
int pinhole_tape_erf(pinhole_tape *t, int a);
int pinhole_tape_relu(pinhole_tape *t, int a);
int pinhole_tape_abs(pinhole_tape *t, int a);

/** Scalars: <a, b> (equal lengths) and the sum of a's entries. Errors as add. */
int pinhole_tape_dot(pinhole_tape *t, int a, int b);
int pinhole_tape_sum(pinhole_tape *t, int a);

/** Matrix product A B with A of shape rows x inner and B of shape inner x cols, both row-major
 * (node lengths rows*inner and inner*cols); the result has length rows*cols. A matrix-vector
 * product is cols = 1. Errors as add (PINHOLE_EINVAL also for a zero or inconsistent shape). */
int pinhole_tape_matmul(pinhole_tape *t, int a, int b, uint32_t rows, uint32_t inner,
                        uint32_t cols);

/** Reverse sweep from the scalar node out: afterwards pinhole_tape_grad(t, i) holds d out / d node
 * i (a conservative-field element, see above) for every node. Errors: the negative id given,
 * PINHOLE_EINVAL (unknown id, out not a scalar). */
int pinhole_tape_backward(pinhole_tape *t, int out);

/** The value (length in *n if n != NULL) of node id, or NULL for an unknown id. */
const double *pinhole_tape_value(const pinhole_tape *t, int id, uint32_t *n);

/** The adjoint of node id after the last backward(), or NULL for an unknown id. */
const double *pinhole_tape_grad(const pinhole_tape *t, int id, uint32_t *n);

#endif
