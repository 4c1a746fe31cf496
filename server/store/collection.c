/* The server's collection: configured from its parameters, labels indexed. */
#include "server/store/collection.h"
#include "common/error.h"
#include "proto/labels.h"

#include <sodium.h>

#include <stdlib.h>
#include <string.h>

void pinhole_server_collection_free(pinhole_server_collection *c)
{
    pinhole_config_free(&c->cfg);
    free(c->labels_blob);
    free(c->label);
    free(c->labels_list);
    memset(c, 0, sizeof *c);
}

/* The wire config commits to the labels (or to none): the canonical list, kept to serve, and its
 * hash in a version 2 config; the fingerprint follows. Labels the canonical form cannot hold (an
 * empty one) leave a version 1 config. */
static int commit_labels(pinhole_server_collection *c, int commit)
{
    free(c->labels_list);
    c->labels_list = NULL;
    c->labels_list_len = 0;
    c->wire.has_labels = 0;
    const size_t n = commit && c->label
                         ? pinhole_labels_encoded_bytes((const char *const *)c->label, c->params.k)
                         : 0;
    if (n > 0) {
        c->labels_list = malloc(n);
        if (!c->labels_list)
            return PINHOLE_ENOMEM;
        pinhole_labels_encode((const char *const *)c->label, c->params.k, c->labels_list, n,
                              &c->labels_list_len);
        c->wire.has_labels = 1;
        pinhole_labels_hash(c->labels_list, n, c->wire.labels_hash);
        c->wire.other_item = PINHOLE_NO_OTHER_ITEM;
    }
    return pinhole_collection_config_fingerprint(&c->wire, c->fingerprint);
}

int pinhole_server_collection_match_fingerprint(pinhole_server_collection *c,
                                                const uint8_t stored[PINHOLE_FINGERPRINT_BYTES])
{
    if (sodium_memcmp(stored, c->fingerprint, PINHOLE_FINGERPRINT_BYTES) == 0)
        return PINHOLE_OK;
    if (!c->wire.has_labels || commit_labels(c, 0) != PINHOLE_OK ||
        sodium_memcmp(stored, c->fingerprint, PINHOLE_FINGERPRINT_BYTES) != 0) {
        commit_labels(c, 1);
        return PINHOLE_EMISMATCH;
    }
    return PINHOLE_OK; /* stored before labels were committed: keeps its version 1 config */
}

/* Point label[v] at the k NUL-terminated strings of labels_blob[0..len); PINHOLE_EFORMAT unless
 * there are exactly k of them. */
static int index_labels(pinhole_server_collection *c, size_t len)
{
    const uint64_t k = c->params.k;
    c->label = malloc(k * sizeof *c->label);
    if (!c->label)
        return PINHOLE_ENOMEM;
    size_t pos = 0;
    for (uint64_t v = 0; v < k; v++) {
        if (pos >= len)
            return PINHOLE_EFORMAT;
        c->label[v] = c->labels_blob + pos;
        const char *nul = memchr(c->labels_blob + pos, '\0', len - pos);
        if (!nul)
            return PINHOLE_EFORMAT;
        pos = (size_t)(nul - c->labels_blob) + 1;
    }
    return pos == len ? PINHOLE_OK : PINHOLE_EFORMAT;
}

int pinhole_server_collection_set_labels(pinhole_server_collection *c, const void *blob, size_t len)
{
    free(c->labels_blob);
    free(c->label);
    c->label = NULL;
    c->labels_blob = malloc(len ? len : 1);
    if (!c->labels_blob)
        return PINHOLE_ENOMEM;
    memcpy(c->labels_blob, blob, len);
    int rc = index_labels(c, len);
    if (rc == PINHOLE_OK)
        rc = commit_labels(c, 1);
    if (rc != PINHOLE_OK) {
        free(c->labels_blob);
        free(c->label);
        c->labels_blob = NULL;
        c->label = NULL;
    }
    return rc;
}

size_t pinhole_server_collection_labels_len(const pinhole_server_collection *c)
{
    if (!c->label)
        return 0;
    const char *last = c->label[c->params.k - 1];
    return (size_t)(last - c->labels_blob) + strlen(last) + 1;
}

int pinhole_server_collection_init(pinhole_server_collection *c, int64_t id, const char *name,
                                   const pinhole_config_params *p, uint32_t time_precision,
                                   uint32_t min_reports, const char *const *labels, int64_t created)
{
    memset(c, 0, sizeof *c);
    if (!name || strlen(name) > PINHOLE_COLLECTION_NAME_MAX || time_precision == 0 ||
        time_precision > (1u << 31))
        return PINHOLE_EINVAL;
    if (id < 0)
        return PINHOLE_EINVAL;
    int rc = pinhole_collection_config_make(&c->wire, (uint64_t)id, p, time_precision, min_reports);
    if (rc != PINHOLE_OK)
        return rc;
    if ((rc = pinhole_config_init(&c->cfg, &c->wire.params)) != PINHOLE_OK)
        return rc;
    /* every query sums a count vector of counts_len entries in memory: keep it to 1 GiB */
    if (c->cfg.counts_len > PINHOLE_COUNTS_LEN_MAX || c->cfg.k > PINHOLE_K_SERVER_MAX) {
        pinhole_config_free(&c->cfg);
        return PINHOLE_ETOOBIG;
    }
    c->id = id;
    strcpy(c->name, name);
    c->params = c->wire.params; /* q and t resolved to the planner's choice */
    c->time_precision = time_precision;
    c->min_reports = min_reports;
    c->created = created;
    if (labels) {
        size_t len = 0;
        for (uint64_t v = 0; v < p->k; v++)
            len += strlen(labels[v]) + 1;
        c->labels_blob = malloc(len ? len : 1);
        if (!c->labels_blob) {
            pinhole_server_collection_free(c);
            return PINHOLE_ENOMEM;
        }
        size_t pos = 0;
        for (uint64_t v = 0; v < p->k; v++) {
            const size_t l = strlen(labels[v]) + 1;
            memcpy(c->labels_blob + pos, labels[v], l);
            pos += l;
        }
        if ((rc = index_labels(c, len)) != PINHOLE_OK) {
            pinhole_server_collection_free(c);
            return rc;
        }
    }
    if ((rc = commit_labels(c, 1)) != PINHOLE_OK) {
        pinhole_server_collection_free(c);
        return rc;
    }
    return PINHOLE_OK;
}

void pinhole_server_collection_bucket_range(const pinhole_server_collection *c, int64_t from,
                                            int64_t to, int64_t *first, int64_t *last)
{
    const int64_t p = c->time_precision;
    *first = from / p + (from % p != 0);                /* ceil(from / p) */
    *last = to == INT64_MAX ? INT64_MAX : (to - 1) / p; /* last b with b p < to */
}

int pinhole_collection_window_check(const pinhole_server_collection *c, uint64_t time, int64_t now)
{
    /* in seconds: the bucket is [start, start + precision); times past 2^62 are refused on
     * decoding, so start fits in double exactly enough and the comparisons cannot overflow */
    const double start = (double)time * c->time_precision, end = start + c->time_precision;
    if (c->window.max_report_age && end <= (double)now - c->window.max_report_age)
        return PINHOLE_EWINDOW;
    if (c->window.max_clock_skew && start > (double)now + c->window.max_clock_skew)
        return PINHOLE_EWINDOW;
    return PINHOLE_OK;
}
