/* The reverse-mode autodiff tape: forward evaluation on recording, adjoint sweep in backward(). */
#include "server/analytics/autodiff.h"
#include "common/error.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum op {
    OP_LEAF,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_MAX,
    OP_SCALE,
    OP_EXP,
    OP_LOG,
    OP_ERF,
    OP_RELU,
    OP_ABS,
    OP_DOT,
    OP_SUM,
    OP_MATMUL
};

typedef struct node {
    uint8_t op;
    int a, b;
    uint32_t len;
    uint32_t rows, inner, cols; /* matmul shape */
    size_t off;                 /* index of the first value (and adjoint) in val/adj */
    double c;                   /* scale factor */
} node;

struct pinhole_tape {
    double s; /* relu'(0) */
    node *nodes;
    uint32_t count, cap;
    double *val, *adj;
    size_t used, vcap;
};

int pinhole_tape_new(double relu_at_zero, pinhole_tape **out)
{
    if (!out || !isfinite(relu_at_zero))
        return PINHOLE_EINVAL;
    pinhole_tape *t = calloc(1, sizeof *t);
    if (!t)
        return PINHOLE_ENOMEM;
    t->s = relu_at_zero;
    *out = t;
    return PINHOLE_OK;
}

void pinhole_tape_free(pinhole_tape *t)
{
    if (!t)
        return;
    free(t->nodes), free(t->val), free(t->adj);
    free(t);
}

void pinhole_tape_reset(pinhole_tape *t)
{
    t->count = 0;
    t->used = 0;
}

/* Append a node of length len; returns its id or a negative code. */
static int push(pinhole_tape *t, uint8_t op, int a, int b, uint32_t len)
{
    if (len == 0 || len > PINHOLE_TAPE_MAXLEN)
        return PINHOLE_EINVAL;
    if (t->count >= PINHOLE_TAPE_MAXNODES)
        return PINHOLE_EOVERFLOW;
    if (t->count == t->cap) {
        uint32_t cap = t->cap ? 2 * t->cap : 64;
        node *nn = realloc(t->nodes, cap * sizeof *nn);
        if (!nn)
            return PINHOLE_ENOMEM;
        t->nodes = nn, t->cap = cap;
    }
    if (t->used + len > t->vcap) {
        size_t cap = t->vcap ? 2 * t->vcap : 1024;
        while (cap < t->used + len)
            cap *= 2;
        double *v = realloc(t->val, cap * sizeof *v);
        if (!v)
            return PINHOLE_ENOMEM;
        t->val = v;
        double *g = realloc(t->adj, cap * sizeof *g);
        if (!g)
            return PINHOLE_ENOMEM;
        t->adj = g, t->vcap = cap;
    }
    node *nd = &t->nodes[t->count];
    memset(nd, 0, sizeof *nd);
    nd->op = op, nd->a = a, nd->b = b, nd->len = len, nd->off = t->used;
    t->used += len;
    return (int)t->count++;
}

/* Validate an operand id: the negative code itself, or PINHOLE_EINVAL if unknown. */
static int check(const pinhole_tape *t, int id)
{
    if (id < 0)
        return id;
    return (uint32_t)id < t->count ? PINHOLE_OK : PINHOLE_EINVAL;
}

#define VAL(id) (t->val + t->nodes[id].off)
#define ADJ(id) (t->adj + t->nodes[id].off)
#define LEN(id) (t->nodes[id].len)

int pinhole_tape_var(pinhole_tape *t, uint32_t n, const double *x)
{
    if (!t || !x)
        return PINHOLE_EINVAL;
    int id = push(t, OP_LEAF, -1, -1, n);
    if (id >= 0)
        memcpy(VAL(id), x, (size_t)n * sizeof *x);
    return id;
}

int pinhole_tape_fill(pinhole_tape *t, uint32_t n, double c)
{
    if (!t)
        return PINHOLE_EINVAL;
    int id = push(t, OP_LEAF, -1, -1, n);
    if (id >= 0)
        for (uint32_t i = 0; i < n; i++)
            VAL(id)[i] = c;
    return id;
}

static int binary(pinhole_tape *t, uint8_t op, int a, int b)
{
    int rc;
    if (!t)
        return PINHOLE_EINVAL;
    if ((rc = check(t, a)) || (rc = check(t, b)))
        return rc;
    const uint32_t la = LEN(a), lb = LEN(b);
    if (la != lb && la != 1 && lb != 1)
        return PINHOLE_EINVAL;
    const uint32_t n = la > lb ? la : lb;
    int id = push(t, op, a, b, n);
    if (id < 0)
        return id;
    const double *x = VAL(a), *y = VAL(b);
    double *z = VAL(id), s = t->s;
    const uint32_t sa = la == 1 ? 0 : 1, sb = lb == 1 ? 0 : 1;
    for (uint32_t i = 0; i < n; i++) {
        const double u = x[i * sa], v = y[i * sb];
        switch (op) {
        case OP_ADD:
            z[i] = u + v;
            break;
        case OP_SUB:
            z[i] = u - v;
            break;
        case OP_MUL:
            z[i] = u * v;
            break;
        default:
            z[i] = u > v ? u : u < v ? v : (s * u + (1 - s) * v);
            break; /* OP_MAX */
        }
    }
    return id;
}

int pinhole_tape_add(pinhole_tape *t, int a, int b)
{
    return binary(t, OP_ADD, a, b);
}
int pinhole_tape_sub(pinhole_tape *t, int a, int b)
{
    return binary(t, OP_SUB, a, b);
}
int pinhole_tape_mul(pinhole_tape *t, int a, int b)
{
    return binary(t, OP_MUL, a, b);
}
int pinhole_tape_max(pinhole_tape *t, int a, int b)
{
    return binary(t, OP_MAX, a, b);
}

static int unary(pinhole_tape *t, uint8_t op, int a, double c)
{
    int rc;
    if (!t)
        return PINHOLE_EINVAL;
    if ((rc = check(t, a)))
        return rc;
    const uint32_t n = op == OP_SUM ? 1 : LEN(a);
    int id = push(t, op, a, -1, n);
    if (id < 0)
        return id;
    t->nodes[id].c = c;
    const double *x = VAL(a);
    double *z = VAL(id);
    if (op == OP_SUM) {
        double s = 0;
        for (uint32_t i = 0; i < LEN(a); i++)
            s += x[i];
        z[0] = s;
        return id;
    }
    for (uint32_t i = 0; i < n; i++) {
        switch (op) {
        case OP_SCALE:
            z[i] = c * x[i];
            break;
        case OP_EXP:
            z[i] = exp(x[i]);
            break;
        case OP_LOG:
            z[i] = log(x[i]);
            break;
        case OP_ERF:
            z[i] = erf(x[i]);
            break;
        case OP_RELU:
            z[i] = x[i] > 0 ? x[i] : 0;
            break;
        default:
            z[i] = fabs(x[i]);
            break; /* OP_ABS */
        }
    }
    return id;
}

int pinhole_tape_scale(pinhole_tape *t, int a, double c)
{
    return unary(t, OP_SCALE, a, c);
}
int pinhole_tape_exp(pinhole_tape *t, int a)
{
    return unary(t, OP_EXP, a, 0);
}
int pinhole_tape_log(pinhole_tape *t, int a)
{
    return unary(t, OP_LOG, a, 0);
}
int pinhole_tape_erf(pinhole_tape *t, int a)
{
    return unary(t, OP_ERF, a, 0);
}
int pinhole_tape_relu(pinhole_tape *t, int a)
{
    return unary(t, OP_RELU, a, 0);
}
int pinhole_tape_abs(pinhole_tape *t, int a)
{
    return unary(t, OP_ABS, a, 0);
}
int pinhole_tape_sum(pinhole_tape *t, int a)
{
    return unary(t, OP_SUM, a, 0);
}

int pinhole_tape_dot(pinhole_tape *t, int a, int b)
{
    int rc;
    if (!t)
        return PINHOLE_EINVAL;
    if ((rc = check(t, a)) || (rc = check(t, b)))
        return rc;
    if (LEN(a) != LEN(b))
        return PINHOLE_EINVAL;
    int id = push(t, OP_DOT, a, b, 1);
    if (id < 0)
        return id;
    const double *x = VAL(a), *y = VAL(b);
    double s = 0;
    for (uint32_t i = 0; i < LEN(a); i++)
        s += x[i] * y[i];
    VAL(id)[0] = s;
    return id;
}

int pinhole_tape_matmul(pinhole_tape *t, int a, int b, uint32_t rows, uint32_t inner, uint32_t cols)
{
    int rc;
    if (!t)
        return PINHOLE_EINVAL;
    if ((rc = check(t, a)) || (rc = check(t, b)))
        return rc;
    if (rows == 0 || inner == 0 || cols == 0 || (uint64_t)rows * inner != LEN(a) ||
        (uint64_t)inner * cols != LEN(b) || (uint64_t)rows * cols > PINHOLE_TAPE_MAXLEN)
        return PINHOLE_EINVAL;
    int id = push(t, OP_MATMUL, a, b, rows * cols);
    if (id < 0)
        return id;
    node *nd = &t->nodes[id];
    nd->rows = rows, nd->inner = inner, nd->cols = cols;
    const double *x = VAL(a), *y = VAL(b);
    double *z = VAL(id);
    memset(z, 0, (size_t)rows * cols * sizeof *z);
    for (uint32_t i = 0; i < rows; i++)
        for (uint32_t k = 0; k < inner; k++) {
            const double xik = x[(size_t)i * inner + k];
            const double *yk = y + (size_t)k * cols;
            double *zi = z + (size_t)i * cols;
            for (uint32_t j = 0; j < cols; j++)
                zi[j] += xik * yk[j];
        }
    return id;
}

/* Accumulate the adjoint of node id into its operands. */
static void reverse(pinhole_tape *t, int id)
{
    const node *nd = &t->nodes[id];
    const double *g = ADJ(id), *z = VAL(id);
    const uint32_t n = nd->len;
    const double s = t->s;
    if (nd->op == OP_LEAF)
        return;
    const int a = nd->a, b = nd->b;
    const double *x = VAL(a);
    double *ga = ADJ(a);
    switch (nd->op) {
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_MAX: {
        const double *y = VAL(b);
        double *gb = ADJ(b);
        const uint32_t sa = LEN(a) == 1 ? 0 : 1, sb = LEN(b) == 1 ? 0 : 1;
        for (uint32_t i = 0; i < n; i++) {
            double da, db; /* d z_i / d x, d z_i / d y */
            const double u = x[i * sa], v = y[i * sb];
            switch (nd->op) {
            case OP_ADD:
                da = 1, db = 1;
                break;
            case OP_SUB:
                da = 1, db = -1;
                break;
            case OP_MUL:
                da = v, db = u;
                break;
            default: /* max(u, v) = v + relu(u - v) */
                da = u > v ? 1 : u < v ? 0 : s;
                db = 1 - da;
                break;
            }
            ga[i * sa] += g[i] * da;
            gb[i * sb] += g[i] * db;
        }
        break;
    }
    case OP_SCALE:
        for (uint32_t i = 0; i < n; i++)
            ga[i] += nd->c * g[i];
        break;
    case OP_EXP:
        for (uint32_t i = 0; i < n; i++)
            ga[i] += g[i] * z[i];
        break;
    case OP_LOG:
        for (uint32_t i = 0; i < n; i++)
            ga[i] += g[i] / x[i];
        break;
    case OP_ERF:
        for (uint32_t i = 0; i < n; i++)
            ga[i] += g[i] * 1.1283791670955126 * exp(-x[i] * x[i]); /* 2/sqrt(pi) */
        break;
    case OP_RELU:
        for (uint32_t i = 0; i < n; i++)
            ga[i] += g[i] * (x[i] > 0 ? 1 : x[i] < 0 ? 0 : s);
        break;
    case OP_ABS: /* abs(x) = relu(x) + relu(-x): s - s = 0 at the kink */
        for (uint32_t i = 0; i < n; i++)
            ga[i] += g[i] * (x[i] > 0 ? 1 : x[i] < 0 ? -1 : 0);
        break;
    case OP_SUM:
        for (uint32_t i = 0; i < LEN(a); i++)
            ga[i] += g[0];
        break;
    case OP_DOT: {
        const double *y = VAL(b);
        double *gb = ADJ(b);
        for (uint32_t i = 0; i < LEN(a); i++) {
            ga[i] += g[0] * y[i];
            gb[i] += g[0] * x[i];
        }
        break;
    }
    case OP_MATMUL: { /* Z = X Y: dX += dZ Y^T, dY += X^T dZ */
        const uint32_t rows = nd->rows, inner = nd->inner, cols = nd->cols;
        const double *y = VAL(b);
        double *gb = ADJ(b);
        for (uint32_t i = 0; i < rows; i++) {
            const double *gi = g + (size_t)i * cols;
            for (uint32_t k = 0; k < inner; k++) {
                const double *yk = y + (size_t)k * cols;
                double *gbk = gb + (size_t)k * cols;
                const double xik = x[(size_t)i * inner + k];
                double s_ik = 0;
                for (uint32_t j = 0; j < cols; j++) {
                    s_ik += gi[j] * yk[j];
                    gbk[j] += xik * gi[j];
                }
                ga[(size_t)i * inner + k] += s_ik;
            }
        }
        break;
    }
    default:
        break;
    }
}

int pinhole_tape_backward(pinhole_tape *t, int out)
{
    int rc;
    if (!t)
        return PINHOLE_EINVAL;
    if ((rc = check(t, out)))
        return rc;
    if (LEN(out) != 1)
        return PINHOLE_EINVAL;
    memset(t->adj, 0, t->used * sizeof *t->adj);
    ADJ(out)[0] = 1;
    for (int id = out; id >= 0; id--)
        reverse(t, id);
    return PINHOLE_OK;
}

const double *pinhole_tape_value(const pinhole_tape *t, int id, uint32_t *n)
{
    if (!t || id < 0 || (uint32_t)id >= t->count)
        return NULL;
    if (n)
        *n = LEN(id);
    return VAL(id);
}

const double *pinhole_tape_grad(const pinhole_tape *t, int id, uint32_t *n)
{
    if (!t || id < 0 || (uint32_t)id >= t->count)
        return NULL;
    if (n)
        *n = LEN(id);
    return ADJ(id);
}
