/* Simulated discovery collections over a word-count file: PGR rounds, the baselines, the bound. */
#include "server/analytics/discovery_sim.h"
#include "client/discovery.h"
#include "client/encode.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/ldp.h"
#include "common/olh.h"
#include "common/rng.h"
#include "server/estimate/estimate.h"

#include <sodium.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pinhole_dsim_out_free(pinhole_dsim_out *out)
{
    free(out->results);
    free(out->truth);
    memset(out, 0, sizeof *out);
}

/* The simulated population: word draws, their tally, and a sorted label index for the truth. */
typedef struct population {
    const pinhole_countfile *cf;
    uint64_t *cum;    /* cumulative counts */
    uint64_t *pop;    /* devices drawn per word */
    uint8_t *bad;     /* 1 if the device code refuses the word */
    uint64_t *sorted; /* word indices by label */
    pinhole_rng rng;
} population;

static const pinhole_countfile *g_cf; /* for the qsort comparator (single-threaded use) */

static int by_label(const void *a, const void *b)
{
    return strcmp(g_cf->labels[*(const uint64_t *)a], g_cf->labels[*(const uint64_t *)b]);
}

static void pop_free(population *P)
{
    free(P->cum);
    free(P->pop);
    free(P->bad);
    free(P->sorted);
    pinhole_rng_wipe(&P->rng);
}

static int pop_init(population *P, const pinhole_countfile *cf, uint64_t seed)
{
    memset(P, 0, sizeof *P);
    P->cf = cf;
    P->cum = malloc(cf->k * sizeof *P->cum);
    P->pop = calloc(cf->k, sizeof *P->pop);
    P->bad = malloc(cf->k);
    P->sorted = malloc(cf->k * sizeof *P->sorted);
    if (!P->cum || !P->pop || !P->bad || !P->sorted) {
        pop_free(P);
        return PINHOLE_ENOMEM;
    }
    uint64_t c = 0;
    for (uint64_t i = 0; i < cf->k; i++) {
        c += cf->count[i];
        P->cum[i] = c;
        P->sorted[i] = i;
        P->bad[i] = pinhole_discovery_check((const uint8_t *)cf->labels[i],
                                            strlen(cf->labels[i])) != PINHOLE_OK;
    }
    g_cf = cf;
    qsort(P->sorted, cf->k, sizeof *P->sorted, by_label);
    pinhole_rng_init_seeded(&P->rng, seed);
    return PINHOLE_OK;
}

static uint64_t pop_draw(population *P)
{
    const uint64_t w =
        pinhole_countfile_draw(P->cum, P->cf->k, pinhole_rng_uniform64(&P->rng, P->cf->total));
    P->pop[w]++;
    return w;
}

static uint64_t pop_truth(const population *P, const char *s)
{
    size_t lo = 0, hi = P->cf->k;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        const int c = strcmp(P->cf->labels[P->sorted[mid]], s);
        if (c == 0)
            return P->pop[P->sorted[mid]];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* ---- the discovery rounds ---- */

static int run_round(population *P, pinhole_discovery_state *st, pinhole_dsim_out *out)
{
    pinhole_round_config rc;
    int err = pinhole_discovery_round_config(st, st->round + 1, &rc);
    if (err != PINHOLE_OK)
        return err;
    pinhole_discovery_round dr;
    if ((err = pinhole_discovery_round_init(&dr, &rc)) != PINHOLE_OK)
        return err;
    const pinhole_config *c = &dr.col.mech;
    uint64_t *memo = malloc(P->cf->k * sizeof *memo);
    uint64_t *counts = calloc(c->counts_len, sizeof *counts);
    uint8_t *payload = malloc(c->payload_bytes);
    if (!memo || !counts || !payload) {
        err = PINHOLE_ENOMEM;
        goto done;
    }
    for (uint64_t i = 0; i < P->cf->k; i++)
        memo[i] = UINT64_MAX;
    const uint64_t wanted = pinhole_discovery_wanted(st);
    uint64_t n = 0;
    for (uint64_t i = 0; i < wanted; i++) {
        const uint64_t w = pop_draw(P);
        if (P->bad[w]) {
            out->refused++;
            continue;
        }
        if (memo[w] == UINT64_MAX) { /* the device's map, once per distinct string */
            const char *s = P->cf->labels[w];
            if ((err = pinhole_discovery_value(&dr, (const uint8_t *)s, strlen(s), &memo[w])) !=
                PINHOLE_OK)
                goto done;
        }
        if ((err = pinhole_encode(c, memo[w], &P->rng, payload, c->payload_bytes)) != PINHOLE_OK ||
            (err = pinhole_accumulate(c, payload, c->payload_bytes, counts)) != PINHOLE_OK)
            goto done;
        n++;
    }
    err = pinhole_discovery_advance(st, c, counts, n);
done:
    free(memo);
    free(counts);
    free(payload);
    pinhole_discovery_round_clear(&dr);
    return err;
}

/* one round through the wire: signed config, the app's report call, the server's checks */
static int run_round_wire(population *P, pinhole_discovery_state *st, pinhole_dsim_out *out)
{
    uint8_t pk[PINHOLE_CONFIG_PUBLICKEYBYTES], sk[PINHOLE_CONFIG_SECRETKEYBYTES];
    pinhole_collection_config_keypair(pk, sk);
    pinhole_round_config rc;
    int err = pinhole_discovery_round_config(st, st->round + 1, &rc);
    if (err != PINHOLE_OK)
        return err;
    const size_t cap = pinhole_round_config_bytes(&rc) + PINHOLE_ROUND_SIGBYTES;
    uint8_t *signed_cfg = malloc(cap), fp[PINHOLE_FINGERPRINT_BYTES];
    uint64_t *counts = NULL;
    pinhole_config sc = {0};
    pinhole_discovery_round dr = {0};
    pinhole_client cl;
    int have_client = 0;
    size_t len;
    if (!signed_cfg) {
        err = PINHOLE_ENOMEM;
        goto done;
    }
    /* server: sign; devices: verify and build; server: its own oracle from its config */
    if ((err = pinhole_round_config_sign(&rc, sk, signed_cfg, cap, &len)) != PINHOLE_OK ||
        (err = pinhole_discovery_round_init_signed(&dr, signed_cfg, len, pk)) != PINHOLE_OK ||
        (err = pinhole_config_init(&sc, &rc.oracle.params)) != PINHOLE_OK ||
        (err = pinhole_collection_config_fingerprint(&rc.oracle, fp)) != PINHOLE_OK)
        goto done;
    out->wire_bytes += len;
    counts = calloc(sc.counts_len, sizeof *counts);
    if (!counts) {
        err = PINHOLE_ENOMEM;
        goto done;
    }
    if ((err = pinhole_client_init(&cl, NULL, NULL)) != PINHOLE_OK)
        goto done;
    have_client = 1;
    const uint64_t wanted = pinhole_discovery_wanted(st);
    uint64_t n = 0;
    for (uint64_t i = 0; i < wanted; i++) {
        const uint64_t w = pop_draw(P);
        const char *s = P->cf->labels[w];
        uint8_t buf[PINHOLE_REPORT_HEADERBYTES + 16];
        size_t written;
        int rc2 = pinhole_discovery_report(&cl, &dr, (const uint8_t *)s, strlen(s), 0, 0, buf,
                                           sizeof buf, &written);
        if (rc2 == PINHOLE_EINVAL || rc2 == PINHOLE_ETOOBIG || rc2 == PINHOLE_EFORMAT) {
            out->refused++; /* the device's string is refused on the device: no report */
            continue;
        }
        if (rc2 != PINHOLE_OK) {
            err = rc2;
            goto done;
        }
        out->wire_bytes += written;
        pinhole_report rep;
        if ((err = pinhole_report_decode(buf, written, &rep)) != PINHOLE_OK ||
            (err = pinhole_report_check(&rep, rc.oracle.collection_id, fp, (uint8_t)sc.mechanism,
                                        sc.payload_bits)) != PINHOLE_OK ||
            (err = pinhole_accumulate(&sc, rep.payload, rep.payload_len, counts)) != PINHOLE_OK)
            goto done;
        n++;
    }
    err = pinhole_discovery_advance(st, &sc, counts, n);
done:
    sodium_memzero(sk, sizeof sk);
    free(signed_cfg);
    free(counts);
    pinhole_config_free(&sc);
    pinhole_discovery_round_clear(&dr);
    if (have_client)
        pinhole_client_clear(&cl);
    return err;
}

static int run_rounds(population *P, const pinhole_dsim_params *p, pinhole_dsim_out *out)
{
    pinhole_discovery_state st;
    int err = pinhole_discovery_start(&st, &p->rounds);
    if (err != PINHOLE_OK)
        return err;
    while (!st.done && err == PINHOLE_OK)
        err = p->wire ? run_round_wire(P, &st, out) : run_round(P, &st, out);
    if (err == PINHOLE_OK) {
        out->results = st.results;
        out->nresults = st.nresults;
        st.results = NULL;
        memcpy(out->log, st.log, st.nlog * sizeof *st.log);
        out->nlog = st.nlog;
    }
    pinhole_discovery_free(&st);
    return err;
}

/* a baseline's round in the log: its domain (k evaluated items), devices and server seconds */
static void log_round(pinhole_dsim_out *out, pinhole_round_kind kind, uint32_t prefix_len,
                      uint64_t k, uint64_t devices, double seconds)
{
    pinhole_discovery_round_log *lg = &out->log[out->nlog];
    memset(lg, 0, sizeof *lg);
    lg->round = out->nlog++;
    lg->kind = kind;
    lg->prefix_len = prefix_len;
    lg->ncand = (uint32_t)k;
    lg->k = k;
    lg->devices = devices;
    lg->seconds = seconds;
}

/* ---- PEM ---- */

static uint64_t mix64(uint64_t x) /* a bijection of 64-bit words (splitmix64's finalizer) */
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

/* the first m = 8 depth bits of the zero-padded string, as an integer */
static uint64_t prefix_bits(const char *s, uint32_t depth)
{
    uint64_t x = 0;
    size_t len = strlen(s);
    for (uint32_t i = 0; i < depth; i++)
        x = (x << 8) | (i < len ? (uint8_t)s[i] : 0);
    return x;
}

typedef struct pem_cand {
    uint64_t prefix;
    double est;
} pem_cand;

static int by_est(const void *a, const void *b)
{
    const pem_cand *x = a, *y = b;
    if (x->est != y->est)
        return x->est > y->est ? -1 : 1;
    return x->prefix < y->prefix ? -1 : x->prefix > y->prefix;
}

static int pem_group(population *P, const pinhole_dsim_params *p, uint32_t bits, uint32_t m,
                     uint64_t devices, pem_cand *cand, size_t ncand, double *var0, double *scale_n,
                     pinhole_dsim_out *out)
{
    pinhole_config c;
    uint32_t pool = p->pem_pool;
    int err;
    for (;;) { /* the largest pool within the count limit */
        pinhole_config_params cp = {.mechanism = PINHOLE_MECH_OLH,
                                    .k = UINT64_C(1) << 62,
                                    .epsilon = p->rounds.epsilon,
                                    .pool = pool,
                                    .pool_key = p->seed};
        err = pinhole_config_init(&c, &cp);
        if (!(err == PINHOLE_EOVERFLOW && pool > 1))
            break;
        pool /= 2;
    }
    if (err != PINHOLE_OK)
        return err;
    uint64_t *counts = calloc(c.counts_len, sizeof *counts);
    uint8_t *payload = malloc(c.payload_bytes);
    uint64_t *T = malloc(ncand * sizeof *T);
    if (!counts || !payload || !T) {
        err = PINHOLE_ENOMEM;
        goto done;
    }
    uint64_t n = 0;
    for (uint64_t i = 0; i < devices; i++) {
        const uint64_t w = pop_draw(P);
        if (P->bad[w]) {
            out->refused++;
            continue;
        }
        const uint64_t v = mix64(prefix_bits(P->cf->labels[w], m / 8) >> (m - bits)) >> 2;
        if ((err = pinhole_encode(&c, v, &P->rng, payload, c.payload_bytes)) != PINHOLE_OK ||
            (err = pinhole_accumulate(&c, payload, c.payload_bytes, counts)) != PINHOLE_OK)
            goto done;
        n++;
    }
    if (n == 0) {
        err = PINHOLE_ENOREPORTS;
        goto done;
    }
    const double t0 = pinhole_clock_mono();
    const pinhole_olh *o = &c.u.olh;
    memset(T, 0, ncand * sizeof *T);
    uint64_t *hv = malloc(ncand * sizeof *hv);
    if (!hv) {
        err = PINHOLE_ENOMEM;
        goto done;
    }
    for (size_t j = 0; j < ncand; j++)
        hv[j] = mix64(cand[j].prefix) >> 2;
    for (uint32_t s = 0; s < o->S; s++) {
        const uint64_t *row = counts + (uint64_t)s * o->g;
        for (size_t j = 0; j < ncand; j++)
            T[j] += row[pinhole_olh_hash(o, s, hv[j])];
    }
    free(hv);
    for (size_t j = 0; j < ncand; j++)
        cand[j].est = ((double)T[j] - o->r * (double)n) / (o->p - o->r);
    qsort(cand, ncand, sizeof *cand, by_est);
    *var0 = pinhole_olh_variance(o, (double)n, 0);
    *scale_n = (double)n;
    log_round(out, PINHOLE_ROUND_EXTEND, bits /* bits, for PEM */, ncand, n,
              pinhole_clock_mono() - t0);
done:
    free(counts);
    free(payload);
    free(T);
    pinhole_config_free(&c);
    return err;
}

/* a string from the top `m` bits; 0 if no device string is that (empty, a zero inside, bad UTF-8)
 */
static int pem_string(uint64_t prefix, uint32_t m, char *out)
{
    size_t len = 0;
    int ended = 0;
    for (uint32_t i = 0; i < m / 8; i++) {
        const uint8_t b = (uint8_t)(prefix >> (m - 8 - 8 * i));
        if (b == 0)
            ended = 1;
        else if (ended)
            return 0;
        else
            out[len++] = (char)b;
    }
    out[len] = 0;
    return len > 0 && pinhole_discovery_check((const uint8_t *)out, len) == PINHOLE_OK;
}

static int run_pem(population *P, const pinhole_dsim_params *p, pinhole_dsim_out *out)
{
    const uint32_t depth = p->rounds.depth ? p->rounds.depth : 8;
    if (depth > 8)
        return PINHOLE_EINVAL;
    const uint32_t m = 8 * depth, top = p->pem_top ? p->pem_top : 128;
    uint32_t s0 = 0;
    while ((UINT64_C(1) << s0) < top)
        s0++;
    uint32_t eta = p->pem_eta;
    if (eta == 0)
        while (((uint64_t)top << (eta + 1)) <= (UINT64_C(1) << 15))
            eta++;
    if (eta == 0 || s0 + eta > 24 || s0 >= m)
        return PINHOLE_EINVAL;
    const uint32_t groups = (m - s0 + eta - 1) / eta;
    pinhole_dsim_params q = *p;
    if (q.pem_pool == 0)
        q.pem_pool = 16384;
    pem_cand *cand = NULL, *kept = NULL;
    size_t nkept = 0;
    uint32_t prev = 0;
    double var0 = 0, n_last = 0;
    int err = PINHOLE_OK;
    for (uint32_t j = 0; j < groups && err == PINHOLE_OK; j++) {
        const uint32_t bits = s0 + (j + 1) * eta < m ? s0 + (j + 1) * eta : m;
        const uint64_t devices =
            j + 1 < groups
                ? p->rounds.devices / groups
                : p->rounds.devices - (uint64_t)(groups - 1) * (p->rounds.devices / groups);
        size_t ncand;
        if (j == 0) {
            ncand = (size_t)1 << bits;
            cand = malloc(ncand * sizeof *cand);
            if (!cand) {
                err = PINHOLE_ENOMEM;
                break;
            }
            for (size_t i = 0; i < ncand; i++)
                cand[i].prefix = i;
        } else {
            const uint32_t d = bits - prev;
            ncand = nkept << d;
            cand = malloc(ncand * sizeof *cand);
            if (!cand) {
                err = PINHOLE_ENOMEM;
                break;
            }
            for (size_t i = 0; i < nkept; i++)
                for (size_t x = 0; x < ((size_t)1 << d); x++)
                    cand[(i << d) | x].prefix = (kept[i].prefix << d) | x;
        }
        err = pem_group(P, &q, bits, m, devices, cand, ncand, &var0, &n_last, out);
        free(kept);
        kept = cand;
        cand = NULL;
        nkept = ncand < top ? ncand : top;
        prev = bits;
    }
    if (err == PINHOLE_OK) {
        out->results = calloc(nkept ? nkept : 1, sizeof *out->results);
        if (!out->results)
            err = PINHOLE_ENOMEM;
    }
    if (err == PINHOLE_OK) {
        const double N = (double)p->rounds.devices, scale = N / n_last;
        const double z =
            pinhole_normal_upper_quantile(PINHOLE_DISCOVERY_FINAL_ALPHA / (double)nkept);
        for (size_t i = 0; i < nkept; i++) {
            pinhole_discovery_result *r = &out->results[out->nresults];
            if (!pem_string(kept[i].prefix, m, r->s))
                continue;
            double f = kept[i].est / n_last;
            f = f < 0 ? 0 : f > 1 ? 1 : f;
            r->estimate = scale * kept[i].est;
            r->sd = sqrt(scale * scale * var0 + N * N * f * (1 - f) * (1 / n_last - 1 / N));
            r->significant = kept[i].est > z * sqrt(var0);
            out->nresults++;
        }
    }
    free(kept);
    free(cand);
    return err;
}

/* ---- the upper bound: closed-domain PGR over the true dictionary ---- */

static int by_result(const void *a, const void *b)
{
    const pinhole_discovery_result *x = a, *y = b;
    if (x->estimate != y->estimate)
        return x->estimate > y->estimate ? -1 : 1;
    return strcmp(x->s, y->s);
}

static int run_closed(population *P, const pinhole_dsim_params *p, pinhole_dsim_out *out)
{
    const uint64_t k = P->cf->k;
    pinhole_config c;
    pinhole_config_params cp;
    int err = pinhole_discovery_oracle(PINHOLE_MECH_PGR, k, p->rounds.epsilon, &cp);
    if (err == PINHOLE_OK)
        err = pinhole_config_init(&c, &cp);
    if (err != PINHOLE_OK)
        return err;
    uint64_t *counts = calloc(c.counts_len, sizeof *counts);
    uint8_t *payload = malloc(c.payload_bytes);
    double *est = malloc(k * sizeof *est), *var = malloc(k * sizeof *var);
    out->results = calloc(k, sizeof *out->results);
    if (!counts || !payload || !est || !var || !out->results) {
        err = PINHOLE_ENOMEM;
        goto done;
    }
    uint64_t n = 0;
    for (uint64_t i = 0; i < p->rounds.devices; i++) {
        const uint64_t w = pop_draw(P);
        if ((err = pinhole_encode(&c, w, &P->rng, payload, c.payload_bytes)) != PINHOLE_OK ||
            (err = pinhole_accumulate(&c, payload, c.payload_bytes, counts)) != PINHOLE_OK)
            goto done;
        n++;
    }
    const double t0 = pinhole_clock_mono();
    if ((err = pinhole_estimate(&c, counts, n, est, var)) != PINHOLE_OK)
        goto done;
    const double thr = pinhole_normal_upper_quantile(PINHOLE_DISCOVERY_FINAL_ALPHA / (double)k) *
                       sqrt(pinhole_config_variance(&c, n, 0));
    for (uint64_t w = 0; w < k; w++) {
        pinhole_discovery_result *r = &out->results[w];
        snprintf(r->s, sizeof r->s, "%s", P->cf->labels[w]);
        r->estimate = est[w];
        r->sd = sqrt(var[w]);
        r->significant = est[w] > thr;
    }
    out->nresults = (uint32_t)k;
    qsort(out->results, k, sizeof *out->results, by_result);
    log_round(out, PINHOLE_ROUND_FINAL, 0, k, n, pinhole_clock_mono() - t0);
done:
    free(counts);
    free(payload);
    free(est);
    free(var);
    pinhole_config_free(&c);
    return err;
}

int pinhole_dsim_run(const pinhole_countfile *cf, const pinhole_dsim_params *p,
                     pinhole_dsim_out *out)
{
    memset(out, 0, sizeof *out);
    if (p->rounds.devices < 2 || !(isfinite(p->rounds.epsilon) && p->rounds.epsilon > 0))
        return PINHOLE_EINVAL;
    population P;
    int err = pop_init(&P, cf, p->seed);
    if (err != PINHOLE_OK)
        return err;
    const double t0 = pinhole_clock_mono();
    switch (p->method) {
    case PINHOLE_DSIM_ROUNDS:
        err = run_rounds(&P, p, out);
        break;
    case PINHOLE_DSIM_PEM:
        err = run_pem(&P, p, out);
        break;
    case PINHOLE_DSIM_CLOSED:
        err = run_closed(&P, p, out);
        break;
    default:
        err = PINHOLE_EINVAL;
    }
    if (err == PINHOLE_OK) {
        out->truth = calloc(out->nresults ? out->nresults : 1, sizeof *out->truth);
        if (!out->truth)
            err = PINHOLE_ENOMEM;
    }
    if (err == PINHOLE_OK)
        for (uint32_t i = 0; i < out->nresults; i++)
            out->truth[i] = pop_truth(&P, out->results[i].s);
    out->devices = p->rounds.devices;
    out->seconds = pinhole_clock_mono() - t0;
    pop_free(&P);
    if (err != PINHOLE_OK)
        pinhole_dsim_out_free(out);
    return err;
}

void pinhole_dsim_topm(const pinhole_countfile *cf, const pinhole_dsim_out *out, uint32_t m,
                       double *recall, double *precision)
{
    /* the true top-m: indices of the m largest counts (ties by file order) */
    uint64_t *top = malloc((size_t)m * sizeof *top);
    uint32_t nt = 0;
    if (!top) {
        *recall = *precision = 0;
        return;
    }
    for (uint64_t w = 0; w < cf->k; w++) { /* insertion into a sorted array of m */
        uint32_t j = nt < m ? nt++ : m;
        if (j == m && cf->count[w] <= cf->count[top[m - 1]])
            continue;
        if (j == m)
            j = m - 1;
        while (j > 0 && cf->count[top[j - 1]] < cf->count[w]) {
            top[j] = top[j - 1];
            j--;
        }
        top[j] = w;
    }
    const uint32_t nr = out->nresults < m ? out->nresults : m;
    uint32_t hit = 0;
    for (uint32_t i = 0; i < nr; i++)
        for (uint32_t j = 0; j < nt; j++)
            if (strcmp(out->results[i].s, cf->labels[top[j]]) == 0) {
                hit++;
                break;
            }
    *recall = nt ? (double)hit / nt : 1;
    *precision = nr ? (double)hit / nr : 1;
    free(top);
}
