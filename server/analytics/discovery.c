/* Discovery rounds on the server: plan, threshold from the oracle's variance, candidate growth. */
#include "server/analytics/discovery.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/bytes.h"
#include "server/analytics/histogram.h"
#include "server/estimate/estimate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W PINHOLE_DISCOVERY_MAXLEN

double pinhole_normal_upper_quantile(double tail)
{
    double lo = -40, hi = 40;
    for (int i = 0; i < 200; i++) {
        const double mid = 0.5 * (lo + hi);
        if (0.5 * erfc(mid / sqrt(2.0)) > tail)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

int pinhole_discovery_oracle(pinhole_mechanism_id oracle, uint64_t k, double epsilon,
                             pinhole_config_params *cp)
{
    *cp = (pinhole_config_params){.mechanism = oracle, .k = k, .epsilon = epsilon};
    if (oracle != PINHOLE_MECH_PGR)
        return PINHOLE_OK;
    const pinhole_pgr_plan_options opt = {.max_seconds = PINHOLE_DISCOVERY_PGR_SECONDS,
                                          .threads = PINHOLE_DISCOVERY_THREADS};
    pinhole_pgr_choice choice;
    size_t n;
    int err = pinhole_pgr_plan(k, epsilon, &opt, &choice, 1, &n, NULL);
    if (err != PINHOLE_OK)
        return err;
    cp->q = choice.q;
    cp->t = choice.t;
    return PINHOLE_OK;
}

void pinhole_discovery_free(pinhole_discovery_state *st)
{
    free(st->table);
    free(st->found);
    free(st->results);
    memset(st, 0, sizeof *st);
}

static int open_extend(pinhole_discovery_state *st, uint8_t *table, uint32_t ncand,
                       uint32_t prefix_len)
{
    const uint32_t ext = prefix_len == 0 ? st->p.ext0 : st->p.ext;
    free(st->table);
    st->table = table;
    st->domain = (pinhole_round_domain){
        .kind = PINHOLE_ROUND_EXTEND,
        .prefix_len = prefix_len,
        .ext = ext < st->p.depth - prefix_len ? ext : st->p.depth - prefix_len,
        .ncand = ncand,
        .table = table};
    return PINHOLE_OK;
}

int pinhole_discovery_start(pinhole_discovery_state *st, const pinhole_discovery_params *p)
{
    memset(st, 0, sizeof *st);
    pinhole_discovery_params q = *p;
    if (q.oracle == 0)
        q.oracle = PINHOLE_MECH_PGR;
    if (q.depth == 0)
        q.depth = 8;
    if (q.ext0 == 0)
        q.ext0 = 2;
    if (q.ext == 0)
        q.ext = 1;
    if (q.keep == 0)
        q.keep = 256;
    if (q.final_fraction == 0)
        q.final_fraction = 0.25;
    if (q.false_positives == 0)
        q.false_positives = 10;
    if (!(isfinite(q.epsilon) && q.epsilon > 0) || q.devices < 2 ||
        q.depth > PINHOLE_DISCOVERY_MAXLEN || q.ext0 > PINHOLE_DISCOVERY_EXTMAX ||
        q.ext > PINHOLE_DISCOVERY_EXTMAX || q.ext0 > q.depth ||
        q.keep > PINHOLE_DISCOVERY_CANDMAX || !(q.final_fraction > 0 && q.final_fraction < 1) ||
        !(q.false_positives > 0) ||
        (q.oracle != PINHOLE_MECH_PGR && q.oracle != PINHOLE_MECH_GRR &&
         q.oracle != PINHOLE_MECH_OLH))
        return PINHOLE_EINVAL;
    st->p = q;
    st->rounds = 1 + (q.depth - q.ext0 + q.ext - 1) / q.ext;
    st->per_round = (uint64_t)((1 - q.final_fraction) * (double)q.devices / st->rounds);
    if (st->per_round == 0)
        return PINHOLE_EINVAL;
    uint8_t *t = malloc(1);
    if (!t)
        return PINHOLE_ENOMEM;
    return open_extend(st, t, 1, 0);
}

uint64_t pinhole_discovery_wanted(const pinhole_discovery_state *st)
{
    if (st->done)
        return 0;
    if (st->domain.kind == PINHOLE_ROUND_EXTEND)
        return st->per_round;
    return st->p.devices > st->used ? st->p.devices - st->used : 0;
}

int pinhole_discovery_round_config(const pinhole_discovery_state *st, uint64_t collection_id,
                                   pinhole_round_config *rc)
{
    memset(rc, 0, sizeof *rc);
    uint64_t k;
    if (st->done || pinhole_round_domain_size(&st->domain, &k) != PINHOLE_OK)
        return PINHOLE_EINVAL;
    pinhole_config_params cp;
    int err = pinhole_discovery_oracle(st->p.oracle, k, st->p.epsilon, &cp);
    if (err != PINHOLE_OK)
        return err;
    err = pinhole_collection_config_make(&rc->oracle, collection_id, &cp, 1, 0);
    if (err != PINHOLE_OK)
        return err;
    rc->round = st->round;
    rc->domain = st->domain;
    return PINHOLE_OK;
}

/* items of an extension round a device string can map to: per candidate, the segments made of j
 * nonzero bytes then zeros, j = 0..ext (j = 0 only after a nonempty prefix) */
static double valid_items(const pinhole_round_domain *d)
{
    double per = d->prefix_len > 0 ? 1 : 0, pw = 1;
    for (uint32_t j = 1; j <= d->ext; j++) {
        pw *= 255;
        per += pw;
    }
    return per * d->ncand;
}

typedef struct scored {
    double est;
    uint64_t item;
} scored;

static int by_estimate(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->est != y->est)
        return x->est > y->est ? -1 : 1;
    return x->item < y->item ? -1 : x->item > y->item;
}

static int by_item(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    return x->item < y->item ? -1 : x->item > y->item;
}

static int cmp_entry(const void *a, const void *b)
{
    return memcmp(a, b, W);
}

static int add_found(pinhole_discovery_state *st, const uint8_t *s, size_t len)
{
    if (st->nfound == PINHOLE_DISCOVERY_CANDMAX)
        return PINHOLE_OK; /* the final table is full: later, rarer strings are dropped */
    if (pinhole_discovery_check(s, len) != PINHOLE_OK)
        return PINHOLE_OK; /* no device holds it (a prefix cut inside a character, a false
                              positive's stray bytes) */
    for (uint32_t i = 0; i < st->nfound; i++)
        if (memcmp(st->found + (size_t)i * W, s, len) == 0 &&
            (len == W || st->found[(size_t)i * W + len] == 0))
            return PINHOLE_OK;
    if (st->nfound == st->capfound) {
        const uint32_t cap = st->capfound ? 2 * st->capfound : 64;
        uint8_t *f = realloc(st->found, (size_t)cap * W);
        if (!f)
            return PINHOLE_ENOMEM;
        st->found = f;
        st->capfound = cap;
    }
    uint8_t *e = st->found + (size_t)st->nfound++ * W;
    memset(e, 0, W);
    memcpy(e, s, len);
    return PINHOLE_OK;
}

/* the final round: every complete candidate, sorted */
static void open_final(pinhole_discovery_state *st)
{
    qsort(st->found, st->nfound, W, cmp_entry);
    st->domain = (pinhole_round_domain){
        .kind = PINHOLE_ROUND_FINAL, .ncand = st->nfound, .table = st->found};
}

static int advance_extend(pinhole_discovery_state *st, const pinhole_config *c, const double *est,
                          uint64_t n, pinhole_discovery_round_log *lg)
{
    const pinhole_round_domain *d = &st->domain;
    lg->z = pinhole_normal_upper_quantile(st->p.false_positives / valid_items(d));
    lg->threshold = lg->z * sqrt(pinhole_config_variance(c, (double)n, 0));
    const uint64_t items = c->k - 1;
    scored *pass = NULL;
    size_t npass = 0, cap = 0;
    uint8_t buf[W + PINHOLE_DISCOVERY_EXTMAX];
    int err = PINHOLE_OK;
    for (uint64_t v = 0; v < items; v++) {
        if (!(est[v] > lg->threshold))
            continue;
        size_t len;
        int complete;
        if (pinhole_round_item(d, v, buf, &len, &complete) != PINHOLE_OK)
            continue; /* no device string maps there */
        lg->passed++;
        if (complete) {
            if ((err = add_found(st, buf, len)) != PINHOLE_OK)
                break;
            lg->complete++;
            continue;
        }
        if (npass == cap) {
            cap = cap ? 2 * cap : 256;
            scored *q = realloc(pass, cap * sizeof *q);
            if (!q) {
                err = PINHOLE_ENOMEM;
                break;
            }
            pass = q;
        }
        pass[npass++] = (scored){est[v], v};
    }
    if (err != PINHOLE_OK) {
        free(pass);
        return err;
    }
    qsort(pass, npass, sizeof *pass, by_estimate);
    const uint32_t keep = npass < st->p.keep ? (uint32_t)npass : st->p.keep;
    /* items in increasing order are strings in increasing order: the kept ones, in item order,
     * make a sorted table */
    qsort(pass, keep, sizeof *pass, by_item);
    const uint32_t plen = d->prefix_len + d->ext;
    uint8_t *table = malloc((size_t)(keep ? keep : 1) * plen);
    if (!table) {
        free(pass);
        return PINHOLE_ENOMEM;
    }
    for (uint32_t i = 0; i < keep; i++) {
        size_t len;
        int complete;
        pinhole_round_item(d, pass[i].item, buf, &len, &complete);
        memcpy(table + (size_t)i * plen, buf, plen);
    }
    free(pass);
    lg->kept = keep;
    if (keep > 0 && plen < st->p.depth) {
        open_extend(st, table, keep, plen);
        return PINHOLE_OK;
    }
    /* the prefixes reached the depth (or none is left): they are candidates as strings too */
    for (uint32_t i = 0; i < keep && err == PINHOLE_OK; i++)
        err = add_found(st, table + (size_t)i * plen, plen);
    free(table);
    free(st->table);
    st->table = NULL;
    if (err != PINHOLE_OK)
        return err;
    if (st->nfound == 0) { /* nothing found: no final round */
        st->done = 1;
        return PINHOLE_OK;
    }
    open_final(st);
    return PINHOLE_OK;
}

static int advance_final(pinhole_discovery_state *st, const pinhole_config *c, const double *est,
                         const double *var, uint64_t n, pinhole_discovery_round_log *lg)
{
    const pinhole_round_domain *d = &st->domain;
    lg->z = pinhole_normal_upper_quantile(PINHOLE_DISCOVERY_FINAL_ALPHA / d->ncand);
    lg->threshold = lg->z * sqrt(pinhole_config_variance(c, (double)n, 0));
    pinhole_discovery_result *res = calloc(d->ncand, sizeof *res);
    if (!res)
        return PINHOLE_ENOMEM;
    /* the round's devices are a uniform subset of the N: scale by N / n, and add the variance of
     * subsampling without replacement, N^2 p (1 - p) (1/n - 1/N), p the estimated share */
    const double N = (double)(st->used + n), scale = N / (double)n;
    for (uint32_t i = 0; i < d->ncand; i++) {
        const uint8_t *e = d->table + (size_t)i * W;
        const uint8_t *z = memchr(e, 0, W);
        const size_t len = z ? (size_t)(z - e) : W;
        memcpy(res[i].s, e, len);
        res[i].s[len] = 0;
        double p = est[i] / (double)n;
        p = p < 0 ? 0 : p > 1 ? 1 : p;
        res[i].estimate = scale * est[i];
        res[i].sd = sqrt(scale * scale * var[i] + N * N * p * (1 - p) * (1 / (double)n - 1 / N));
        res[i].significant = est[i] > lg->threshold;
        lg->passed += (uint32_t)res[i].significant;
    }
    /* by decreasing estimate, ties by string */
    for (uint32_t i = 1; i < d->ncand; i++) { /* insertion sort: a few hundred strings */
        pinhole_discovery_result x = res[i];
        uint32_t j = i;
        while (j > 0 && (res[j - 1].estimate < x.estimate ||
                         (res[j - 1].estimate == x.estimate && strcmp(res[j - 1].s, x.s) > 0))) {
            res[j] = res[j - 1];
            j--;
        }
        res[j] = x;
    }
    st->results = res;
    st->nresults = d->ncand;
    st->done = 1;
    return PINHOLE_OK;
}

int pinhole_discovery_advance(pinhole_discovery_state *st, const pinhole_config *c,
                              const uint64_t *counts, uint64_t n)
{
    uint64_t k;
    if (st->done || pinhole_round_domain_size(&st->domain, &k) != PINHOLE_OK || c->k != k ||
        c->mechanism != st->p.oracle)
        return PINHOLE_EINVAL;
    const double t0 = pinhole_clock_mono();
    double *est = malloc(k * sizeof *est), *var = malloc(k * sizeof *var);
    if (!est || !var) {
        free(est);
        free(var);
        return PINHOLE_ENOMEM;
    }
    const int final = st->domain.kind == PINHOLE_ROUND_FINAL;
    int err = pinhole_estimate(c, counts, n, est, final ? var : NULL);
    pinhole_discovery_round_log lg = {.round = st->round,
                                      .kind = st->domain.kind,
                                      .prefix_len = st->domain.prefix_len,
                                      .ext = st->domain.ext,
                                      .ncand = st->domain.ncand,
                                      .k = k,
                                      .devices = n};
    if (err == PINHOLE_OK)
        err = final ? advance_final(st, c, est, var, n, &lg) : advance_extend(st, c, est, n, &lg);
    free(est);
    free(var);
    if (err != PINHOLE_OK)
        return err;
    lg.seconds = pinhole_clock_mono() - t0;
    st->log[st->nlog++] = lg;
    st->used += n;
    st->round++;
    return PINHOLE_OK;
}

int pinhole_discovery_reach(const pinhole_discovery_state *st, double power, double *share,
                            double *final_rel)
{
    if (!(power >= 0.5 && power < 1) || st->done || st->round != 0)
        return PINHOLE_EINVAL;
    uint64_t k;
    if (pinhole_round_domain_size(&st->domain, &k) != PINHOLE_OK)
        return PINHOLE_EINVAL;
    pinhole_config c;
    pinhole_config_params cp;
    int err = pinhole_discovery_oracle(st->p.oracle, k, st->p.epsilon, &cp);
    if (err == PINHOLE_OK)
        err = pinhole_config_init(&c, &cp);
    if (err != PINHOLE_OK)
        return err;
    const double v0 = pinhole_config_variance(&c, 1, 0);
    pinhole_config_free(&c);
    const double z =
        pinhole_normal_upper_quantile(st->p.false_positives / valid_items(&st->domain));
    const double zp = pinhole_normal_upper_quantile(1 - power);
    *share = (z + zp) * sqrt(v0 / (double)st->per_round);
    *final_rel = sqrt(v0 / (st->p.final_fraction * (double)st->p.devices)) / *share;
    return PINHOLE_OK;
}

/* ---- persistence ---- */

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
    int err;
} wbuf;

static void put(wbuf *b, const void *x, size_t n)
{
    if (b->err || n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->err = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, x, n);
    b->len += n;
}

static void put_u(wbuf *b, uint64_t x, size_t n)
{
    uint8_t t[8];
    pinhole_store_le(t, x, n);
    put(b, t, n);
}

static void put_f(wbuf *b, double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    put_u(b, u, 8);
}

typedef struct rbuf {
    const uint8_t *p;
    size_t len, off;
    int err;
} rbuf;

static uint64_t get_u(rbuf *b, size_t n)
{
    if (b->err || b->len - b->off < n) {
        b->err = 1;
        return 0;
    }
    const uint64_t x = pinhole_load_le(b->p + b->off, n);
    b->off += n;
    return x;
}

static double get_f(rbuf *b)
{
    const uint64_t u = get_u(b, 8);
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static const uint8_t *get_bytes(rbuf *b, size_t n)
{
    if (b->err || b->len - b->off < n) {
        b->err = 1;
        return NULL;
    }
    const uint8_t *p = b->p + b->off;
    b->off += n;
    return p;
}

int pinhole_discovery_save(const pinhole_discovery_state *st, uint8_t **out, size_t *len)
{
    wbuf b = {0};
    put(&b, "PHDS", 4);
    put_u(&b, 1, 4);
    const pinhole_discovery_params *p = &st->p;
    put_u(&b, p->oracle, 4);
    put_f(&b, p->epsilon);
    put_u(&b, p->devices, 8);
    put_u(&b, p->depth, 4);
    put_u(&b, p->ext0, 4);
    put_u(&b, p->ext, 4);
    put_u(&b, p->keep, 4);
    put_f(&b, p->final_fraction);
    put_f(&b, p->false_positives);
    put_u(&b, st->round, 4);
    put_u(&b, (uint64_t)st->done, 1);
    put_u(&b, st->used, 8);
    put_u(&b, st->nfound, 4);
    put(&b, st->found, (size_t)st->nfound * W);
    const int open_extend = !st->done && st->domain.kind == PINHOLE_ROUND_EXTEND;
    put_u(&b, st->done ? 0 : (uint64_t)st->domain.kind, 1);
    if (open_extend) {
        put_u(&b, st->domain.prefix_len, 4);
        put_u(&b, st->domain.ext, 4);
        put_u(&b, st->domain.ncand, 4);
        put(&b, st->domain.table, (size_t)st->domain.ncand * st->domain.prefix_len);
    }
    put_u(&b, st->nlog, 4);
    for (uint32_t i = 0; i < st->nlog; i++) {
        const pinhole_discovery_round_log *l = &st->log[i];
        put_u(&b, l->round, 4);
        put_u(&b, l->kind, 1);
        put_u(&b, l->prefix_len, 4);
        put_u(&b, l->ext, 4);
        put_u(&b, l->ncand, 4);
        put_u(&b, l->k, 8);
        put_u(&b, l->devices, 8);
        put_f(&b, l->z);
        put_f(&b, l->threshold);
        put_u(&b, l->passed, 4);
        put_u(&b, l->kept, 4);
        put_u(&b, l->complete, 4);
        put_f(&b, l->seconds);
    }
    put_u(&b, st->nresults, 4);
    for (uint32_t i = 0; i < st->nresults; i++) {
        const pinhole_discovery_result *r = &st->results[i];
        put(&b, r->s, sizeof r->s);
        put_f(&b, r->estimate);
        put_f(&b, r->sd);
        put_u(&b, (uint64_t)r->significant, 1);
    }
    if (b.err) {
        free(b.p);
        return PINHOLE_ENOMEM;
    }
    *out = b.p;
    *len = b.len;
    return PINHOLE_OK;
}

int pinhole_discovery_load(pinhole_discovery_state *st, const uint8_t *in, size_t len)
{
    memset(st, 0, sizeof *st);
    rbuf b = {.p = in, .len = len};
    const uint8_t *magic = get_bytes(&b, 4);
    if (!magic || memcmp(magic, "PHDS", 4) != 0 || get_u(&b, 4) != 1)
        return PINHOLE_EFORMAT;
    pinhole_discovery_params p = {0};
    p.oracle = (pinhole_mechanism_id)get_u(&b, 4);
    p.epsilon = get_f(&b);
    p.devices = get_u(&b, 8);
    p.depth = (uint32_t)get_u(&b, 4);
    p.ext0 = (uint32_t)get_u(&b, 4);
    p.ext = (uint32_t)get_u(&b, 4);
    p.keep = (uint32_t)get_u(&b, 4);
    p.final_fraction = get_f(&b);
    p.false_positives = get_f(&b);
    if (b.err || p.oracle == 0 || p.depth == 0 || p.ext0 == 0 || p.ext == 0 || p.keep == 0 ||
        p.final_fraction == 0 || p.false_positives == 0)
        return PINHOLE_EFORMAT;
    int err = pinhole_discovery_start(st, &p); /* checks the parameters, plans, opens round 0 */
    if (err != PINHOLE_OK)
        return err == PINHOLE_ENOMEM ? err : PINHOLE_EFORMAT;
    st->round = (uint32_t)get_u(&b, 4);
    st->done = (int)get_u(&b, 1);
    st->used = get_u(&b, 8);
    const uint64_t nfound = get_u(&b, 4);
    const uint8_t *found = nfound <= PINHOLE_DISCOVERY_CANDMAX ? get_bytes(&b, nfound * W) : NULL;
    const uint64_t kind = get_u(&b, 1);
    if (b.err || (nfound && !found) || st->done > 1 || (st->done ? kind != 0 : kind == 0))
        goto bad;
    if (nfound) {
        st->found = malloc(nfound * W);
        if (!st->found) {
            err = PINHOLE_ENOMEM;
            goto fail;
        }
        memcpy(st->found, found, nfound * W);
        st->nfound = st->capfound = (uint32_t)nfound;
    }
    if (kind == PINHOLE_ROUND_EXTEND) {
        const uint32_t plen = (uint32_t)get_u(&b, 4), ext = (uint32_t)get_u(&b, 4);
        const uint32_t ncand = (uint32_t)get_u(&b, 4);
        const uint8_t *t = ncand <= PINHOLE_DISCOVERY_CANDMAX && plen <= W
                               ? get_bytes(&b, (size_t)ncand * plen)
                               : NULL;
        if (b.err || !t)
            goto bad;
        uint8_t *table = malloc((size_t)ncand * plen + 1);
        if (!table) {
            err = PINHOLE_ENOMEM;
            goto fail;
        }
        memcpy(table, t, (size_t)ncand * plen);
        free(st->table);
        st->table = table;
        st->domain = (pinhole_round_domain){.kind = PINHOLE_ROUND_EXTEND,
                                            .prefix_len = plen,
                                            .ext = ext,
                                            .ncand = ncand,
                                            .table = table};
    } else if (kind == PINHOLE_ROUND_FINAL) {
        free(st->table);
        st->table = NULL;
        st->domain = (pinhole_round_domain){
            .kind = PINHOLE_ROUND_FINAL, .ncand = st->nfound, .table = st->found};
    } else if (kind != 0)
        goto bad;
    if (!st->done && pinhole_round_domain_check(&st->domain) != PINHOLE_OK)
        goto bad;
    const uint64_t nlog = get_u(&b, 4);
    if (b.err || nlog > sizeof st->log / sizeof st->log[0])
        goto bad;
    for (uint32_t i = 0; i < nlog; i++) {
        pinhole_discovery_round_log *l = &st->log[i];
        l->round = (uint32_t)get_u(&b, 4);
        l->kind = (pinhole_round_kind)get_u(&b, 1);
        l->prefix_len = (uint32_t)get_u(&b, 4);
        l->ext = (uint32_t)get_u(&b, 4);
        l->ncand = (uint32_t)get_u(&b, 4);
        l->k = get_u(&b, 8);
        l->devices = get_u(&b, 8);
        l->z = get_f(&b);
        l->threshold = get_f(&b);
        l->passed = (uint32_t)get_u(&b, 4);
        l->kept = (uint32_t)get_u(&b, 4);
        l->complete = (uint32_t)get_u(&b, 4);
        l->seconds = get_f(&b);
    }
    st->nlog = (uint32_t)nlog;
    const uint64_t nres = get_u(&b, 4);
    if (b.err || nres > PINHOLE_DISCOVERY_CANDMAX || (nres && !st->done))
        goto bad;
    if (nres) {
        st->results = calloc(nres, sizeof *st->results);
        if (!st->results) {
            err = PINHOLE_ENOMEM;
            goto fail;
        }
    }
    for (uint32_t i = 0; i < nres; i++) {
        pinhole_discovery_result *r = &st->results[i];
        const uint8_t *s = get_bytes(&b, sizeof r->s);
        if (!s)
            goto bad;
        memcpy(r->s, s, sizeof r->s);
        r->s[sizeof r->s - 1] = 0;
        r->estimate = get_f(&b);
        r->sd = get_f(&b);
        r->significant = (int)get_u(&b, 1);
    }
    st->nresults = (uint32_t)nres;
    if (b.err || b.off != len)
        goto bad;
    return PINHOLE_OK;
bad:
    err = PINHOLE_EFORMAT;
fail:
    pinhole_discovery_free(st);
    return err;
}

json_t *pinhole_discovery_json(const pinhole_discovery_state *st)
{
    json_t *log = json_array(), *o = NULL;
    if (!log)
        return NULL;
    for (uint32_t i = 0; i < st->nlog; i++) {
        const pinhole_discovery_round_log *l = &st->log[i];
        if (json_array_append_new(
                log, json_pack("{s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:f}", "round",
                               (json_int_t)l->round, "kind",
                               l->kind == PINHOLE_ROUND_FINAL ? "final" : "extend", "prefix_len",
                               (json_int_t)l->prefix_len, "ext", (json_int_t)l->ext, "candidates",
                               (json_int_t)l->ncand, "k", (json_int_t)l->k, "devices",
                               (json_int_t)l->devices, "threshold", l->threshold, "kept",
                               (json_int_t)l->kept, "complete", (json_int_t)l->complete, "seconds",
                               l->seconds)) != 0)
            goto fail;
    }
    o = json_pack("{s:f, s:I, s:I, s:b, s:o}", "epsilon", st->p.epsilon, "devices",
                  (json_int_t)st->p.devices, "rounds", (json_int_t)st->rounds, "done", st->done,
                  "log", log);
    log = NULL;
    if (!o ||
        json_object_set_new(o, "open_round",
                            st->done ? json_null() : json_integer((json_int_t)st->round)) != 0)
        goto fail;
    if (st->done) {
        json_t *res = json_array();
        if (!res || json_object_set_new(o, "results", res) != 0)
            goto fail;
        for (uint32_t i = 0; i < st->nresults; i++) {
            const pinhole_discovery_result *r = &st->results[i];
            if (json_array_append_new(res, json_pack("{s:s, s:f, s:f, s:f, s:f, s:b}", "string",
                                                     r->s, "estimate", r->estimate, "stderr", r->sd,
                                                     "low", r->estimate - PINHOLE_Z95 * r->sd,
                                                     "high", r->estimate + PINHOLE_Z95 * r->sd,
                                                     "significant", r->significant)) != 0)
                goto fail;
        }
    }
    return o;
fail:
    json_decref(log);
    json_decref(o);
    return NULL;
}
