/* Discovery rounds: string checks and the constant-time map into a round's domain. */
#include "common/discovery.h"
#include "common/ct.h"
#include "common/error.h"

#include <string.h>

/* all ones if lo <= b <= hi */
static uint32_t in_range(uint32_t b, uint32_t lo, uint32_t hi)
{
    return ~pinhole_ct_lt32(b, lo) & ~pinhole_ct_lt32(hi, b);
}

int pinhole_discovery_check(const uint8_t *s, size_t len)
{
    if (len == 0)
        return PINHOLE_EINVAL;
    if (len > PINHOLE_DISCOVERY_MAXLEN)
        return PINHOLE_ETOOBIG;
    uint8_t x[PINHOLE_DISCOVERY_MAXLEN] = {0};
    memcpy(x, s, len);
    /* RFC 3629 as a branch-free state machine: need = continuation bytes still expected, each
     * within [lo, hi] (narrowed after E0, ED, F0, F4) */
    uint32_t need = 0, lo = 0x80, hi = 0xBF, err = 0;
    for (uint32_t i = 0; i < PINHOLE_DISCOVERY_MAXLEN; i++) {
        const uint32_t b = x[i];
        const uint32_t active = pinhole_ct_lt32(i, (uint32_t)len);
        const uint32_t cont = pinhole_ct_nonzero32(need);
        const uint32_t cont_ok = in_range(b, lo, hi);
        const uint32_t one = in_range(b, 0x01, 0x7F);
        const uint32_t two = in_range(b, 0xC2, 0xDF);
        const uint32_t three = in_range(b, 0xE0, 0xEF);
        const uint32_t four = in_range(b, 0xF0, 0xF4);
        const uint32_t lead_ok = one | two | three | four;
        const uint32_t lead_need = (two & 1) | (three & 2) | (four & 3);
        const uint32_t lead_lo =
            pinhole_ct_select32(pinhole_ct_eq32(b, 0xE0), 0xA0,
                                pinhole_ct_select32(pinhole_ct_eq32(b, 0xF0), 0x90, 0x80));
        const uint32_t lead_hi =
            pinhole_ct_select32(pinhole_ct_eq32(b, 0xED), 0x9F,
                                pinhole_ct_select32(pinhole_ct_eq32(b, 0xF4), 0x8F, 0xBF));
        err |= active & pinhole_ct_select32(cont, ~cont_ok, ~lead_ok);
        const uint32_t nneed = pinhole_ct_select32(cont, need - (cont & 1), lead_need);
        const uint32_t nlo = pinhole_ct_select32(cont, 0x80, lead_lo);
        const uint32_t nhi = pinhole_ct_select32(cont, 0xBF, lead_hi);
        need = pinhole_ct_select32(active, nneed, need);
        lo = pinhole_ct_select32(active, nlo, lo);
        hi = pinhole_ct_select32(active, nhi, hi);
    }
    err |= pinhole_ct_nonzero32(need);       /* a sequence cut short by the end of the string */
    pinhole_ct_declassify(&err, sizeof err); /* valid or not is public: the caller gets an error */
    return err ? PINHOLE_EFORMAT : PINHOLE_OK;
}

uint32_t pinhole_round_width(const pinhole_round_domain *d)
{
    return d->kind == PINHOLE_ROUND_FINAL ? PINHOLE_DISCOVERY_MAXLEN : d->prefix_len;
}

int pinhole_round_domain_size(const pinhole_round_domain *d, uint64_t *k)
{
    if (d->ncand == 0 || d->ncand > PINHOLE_DISCOVERY_CANDMAX)
        return PINHOLE_EINVAL;
    if (d->kind == PINHOLE_ROUND_EXTEND) {
        if (d->ext < 1 || d->ext > PINHOLE_DISCOVERY_EXTMAX ||
            d->prefix_len > PINHOLE_DISCOVERY_MAXLEN)
            return PINHOLE_EINVAL;
        *k = ((uint64_t)d->ncand << (8 * d->ext)) + 1;
        return PINHOLE_OK;
    }
    if (d->kind == PINHOLE_ROUND_FINAL) {
        if (d->prefix_len != 0 || d->ext != 0)
            return PINHOLE_EINVAL;
        *k = (uint64_t)d->ncand + 1;
        return PINHOLE_OK;
    }
    return PINHOLE_EINVAL;
}

int pinhole_round_domain_check(const pinhole_round_domain *d)
{
    uint64_t k;
    int rc = pinhole_round_domain_size(d, &k);
    if (rc != PINHOLE_OK)
        return rc;
    const uint32_t w = pinhole_round_width(d);
    if (w == 0) /* the first round: one candidate, the empty prefix */
        return d->ncand == 1 ? PINHOLE_OK : PINHOLE_EFORMAT;
    for (uint32_t i = 0; i < d->ncand; i++) {
        const uint8_t *e = d->table + (size_t)i * w;
        if (i > 0 && memcmp(e - w, e, w) >= 0)
            return PINHOLE_EFORMAT;
        if (d->kind == PINHOLE_ROUND_EXTEND) {
            if (memchr(e, 0, w))
                return PINHOLE_EFORMAT;
            continue;
        }
        const uint8_t *z = memchr(e, 0, w);
        const size_t len = z ? (size_t)(z - e) : w;
        if (pinhole_discovery_check(e, len) != PINHOLE_OK)
            return PINHOLE_EFORMAT;
        for (size_t j = len; j < w; j++)
            if (e[j] != 0)
                return PINHOLE_EFORMAT;
    }
    return PINHOLE_OK;
}

void pinhole_round_map(const pinhole_round_domain *d, const uint8_t *s, size_t len, uint64_t *value)
{
    uint8_t x[PINHOLE_DISCOVERY_PADLEN] = {0};
    memcpy(x, s, len <= PINHOLE_DISCOVERY_MAXLEN ? len : PINHOLE_DISCOVERY_MAXLEN);
    const uint32_t w = pinhole_round_width(d);
    /* every entry compared in full; the index of the (single) match selected with a mask */
    uint64_t found = 0, idx = 0;
    for (uint32_t i = 0; i < d->ncand; i++) {
        const uint8_t *e = d->table + (size_t)i * w;
        uint32_t diff = 0;
        for (uint32_t j = 0; j < w; j++)
            diff |= (uint32_t)(e[j] ^ x[j]);
        const uint64_t m = pinhole_ct_widen(~pinhole_ct_nonzero32(diff));
        found |= m;
        idx |= m & i;
    }
    uint64_t item = idx;
    if (d->kind == PINHOLE_ROUND_EXTEND) {
        uint64_t seg = 0;
        for (uint32_t j = 0; j < d->ext; j++) /* positions are public */
            seg = (seg << 8) | x[d->prefix_len + j];
        item = (idx << (8 * d->ext)) | seg;
    }
    const uint64_t other =
        d->kind == PINHOLE_ROUND_EXTEND ? ((uint64_t)d->ncand << (8 * d->ext)) : (uint64_t)d->ncand;
    *value = (found & item) | (~found & other);
}

int pinhole_round_item(const pinhole_round_domain *d, uint64_t item, uint8_t *out, size_t *len,
                       int *complete)
{
    uint64_t k;
    int rc = pinhole_round_domain_size(d, &k);
    if (rc != PINHOLE_OK)
        return rc;
    if (item + 1 >= k)
        return PINHOLE_ERANGE;
    const uint32_t w = pinhole_round_width(d);
    if (d->kind == PINHOLE_ROUND_FINAL) {
        const uint8_t *e = d->table + (size_t)item * w;
        const uint8_t *z = memchr(e, 0, w);
        *len = z ? (size_t)(z - e) : w;
        memcpy(out, e, *len);
        *complete = 1;
        return PINHOLE_OK;
    }
    const uint64_t i = item >> (8 * d->ext);
    const uint64_t seg = item & ((UINT64_C(1) << (8 * d->ext)) - 1);
    if (w > 0)
        memcpy(out, d->table + (size_t)i * w, w);
    size_t n = w;
    int ended = 0;
    for (uint32_t j = 0; j < d->ext; j++) {
        const uint8_t b = (uint8_t)(seg >> (8 * (d->ext - 1 - j)));
        if (b == 0)
            ended = 1;
        else if (ended)
            return PINHOLE_EFORMAT;
        else
            out[n++] = b;
    }
    if (n == 0) /* the empty string: no device holds it */
        return PINHOLE_EFORMAT;
    *len = n;
    *complete = ended;
    return PINHOLE_OK;
}
