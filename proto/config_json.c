/* Collection config <-> JSON text (jansson), with the binary form's checks. */
#include "proto/config_json.h"
#include "common/error.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

char *pinhole_collection_config_to_json(const pinhole_collection_config *cfg, int *err)
{
    int e = PINHOLE_EINVAL;
    char *text = NULL;
    uint8_t bytes[PINHOLE_CONFIG_V2BYTES];
    const pinhole_mechanism_ops *ops = pinhole_mechanism_find(cfg->params.mechanism);
    if (ops && cfg->collection_id <= INT64_MAX && cfg->params.k <= INT64_MAX &&
        cfg->params.block <= INT64_MAX &&
        pinhole_collection_config_encode(cfg, bytes) == PINHOLE_OK) {
        json_t *o =
            json_pack("{s:i, s:I, s:s, s:I, s:f, s:I, s:I, s:I, s:I}", "version", (int)bytes[0],
                      "collection_id", (json_int_t)cfg->collection_id, "mechanism", ops->name, "k",
                      (json_int_t)cfg->params.k, "epsilon", cfg->params.epsilon, "q",
                      (json_int_t)cfg->params.q, "t", (json_int_t)cfg->params.t, "time_precision",
                      (json_int_t)cfg->time_precision, "min_reports", (json_int_t)cfg->min_reports);
        /* the mechanisms' extra parameters appear only when set */
        const pinhole_config_params *p = &cfg->params;
        char key_hex[17];
        snprintf(key_hex, sizeof key_hex, "%016llx", (unsigned long long)p->pool_key);
        if (o && p->epsilon_permanent != 0)
            json_object_set_new(o, "epsilon_permanent", json_real(p->epsilon_permanent));
        if (o && p->pool != 0)
            json_object_set_new(o, "pool", json_integer((json_int_t)p->pool));
        if (o && p->pool_key != 0)
            json_object_set_new(o, "pool_key", json_string(key_hex));
        if (o && p->block != 0)
            json_object_set_new(o, "block", json_integer((json_int_t)p->block));
        char hash_hex[2 * PINHOLE_LABELS_HASHBYTES + 1];
        sodium_bin2hex(hash_hex, sizeof hash_hex, cfg->labels_hash, sizeof cfg->labels_hash);
        if (o && cfg->has_labels)
            json_object_set_new(o, "labels_hash", json_string(hash_hex));
        if (o && cfg->has_labels && cfg->other_item != PINHOLE_NO_OTHER_ITEM)
            json_object_set_new(o, "other_item", json_integer((json_int_t)cfg->other_item));
        if (o)
            text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
        json_decref(o);
        e = text ? PINHOLE_OK : PINHOLE_ENOMEM;
    }
    if (err)
        *err = e;
    return text;
}

/* An integer member in [0, max]; PINHOLE_EFORMAT if missing, not an integer or out of range. */
static int get_uint(json_t *o, const char *key, uint64_t max, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
        return PINHOLE_EFORMAT;
    *out = (uint64_t)json_integer_value(v);
    return PINHOLE_OK;
}

static int from_object(json_t *o, pinhole_collection_config *cfg)
{
    static const char *const keys[] = {"version",     "collection_id",
                                       "mechanism",   "k",
                                       "epsilon",     "q",
                                       "t",           "time_precision",
                                       "min_reports", "epsilon_permanent",
                                       "pool",        "pool_key",
                                       "block",       "labels_hash",
                                       "other_item"};
    const size_t required =
        9; /* the first nine; the mechanisms' extra parameters may be left out */
    if (!json_is_object(o))
        return PINHOLE_EFORMAT;
    const char *key;
    json_t *value;
    json_object_foreach(o, key, value)
    {
        size_t i = 0;
        while (i < sizeof keys / sizeof keys[0] && strcmp(keys[i], key) != 0)
            i++;
        if (i == sizeof keys / sizeof keys[0])
            return PINHOLE_EFORMAT; /* an unknown key */
    }
    for (size_t i = 0; i < required; i++)
        if (!json_object_get(o, keys[i]))
            return PINHOLE_EFORMAT;
    uint64_t version, id, k, q, t, prec, minr;
    if (get_uint(o, "version", UINT32_MAX, &version) != PINHOLE_OK)
        return PINHOLE_EFORMAT;
    if (version != PINHOLE_CONFIG_V1 && version != PINHOLE_CONFIG_V2)
        return PINHOLE_EVERSION;
    /* version 2 has the labels hash (and may have the other item); version 1 neither */
    json_t *labels_hash = json_object_get(o, "labels_hash"),
           *other = json_object_get(o, "other_item");
    if ((version == PINHOLE_CONFIG_V2) != (labels_hash != NULL) || (other && !labels_hash))
        return PINHOLE_EFORMAT;
    json_t *mech = json_object_get(o, "mechanism");
    json_t *eps = json_object_get(o, "epsilon");
    if (get_uint(o, "collection_id", INT64_MAX, &id) || get_uint(o, "k", INT64_MAX, &k) ||
        get_uint(o, "q", UINT32_MAX, &q) || get_uint(o, "t", UINT32_MAX, &t) ||
        get_uint(o, "time_precision", UINT32_MAX, &prec) ||
        get_uint(o, "min_reports", UINT32_MAX, &minr) || !json_is_string(mech) ||
        !json_is_number(eps))
        return PINHOLE_EFORMAT;
    const pinhole_mechanism_ops *ops = pinhole_mechanism_by_name(json_string_value(mech));
    if (!ops)
        return PINHOLE_EUNSUPPORTED;
    pinhole_collection_config c = {0};
    c.collection_id = id;
    c.params.mechanism = ops->id;
    c.params.k = k;
    c.params.epsilon = json_number_value(eps);
    c.params.q = (uint32_t)q;
    c.params.t = (uint32_t)t;
    c.time_precision = (uint32_t)prec;
    c.min_reports = (uint32_t)minr;
    json_t *perm = json_object_get(o, "epsilon_permanent"),
           *pool_key = json_object_get(o, "pool_key");
    uint64_t pool = 0, block = 0;
    if ((perm && !json_is_number(perm)) ||
        (json_object_get(o, "pool") && get_uint(o, "pool", UINT32_MAX, &pool)) ||
        (json_object_get(o, "block") && get_uint(o, "block", INT64_MAX, &block)))
        return PINHOLE_EFORMAT;
    if (pool_key) {
        const char *hex = json_string_value(pool_key);
        size_t got = 0;
        uint8_t kb[8];
        if (!hex || strlen(hex) != 16 || sodium_hex2bin(kb, 8, hex, 16, NULL, &got, NULL) != 0 ||
            got != 8)
            return PINHOLE_EFORMAT;
        for (int i = 0; i < 8; i++)
            c.params.pool_key = c.params.pool_key << 8 | kb[i]; /* big-endian hex, as printed */
    }
    c.params.epsilon_permanent = perm ? json_number_value(perm) : 0;
    c.params.pool = (uint32_t)pool;
    c.params.block = block;
    if (labels_hash) {
        const char *hex = json_string_value(labels_hash);
        size_t got = 0;
        c.has_labels = 1;
        c.other_item = PINHOLE_NO_OTHER_ITEM;
        if (!hex || strlen(hex) != 2 * PINHOLE_LABELS_HASHBYTES ||
            sodium_hex2bin(c.labels_hash, sizeof c.labels_hash, hex, strlen(hex), NULL, &got,
                           NULL) != 0 ||
            got != sizeof c.labels_hash)
            return PINHOLE_EFORMAT;
        if (other && get_uint(o, "other_item", INT64_MAX, &c.other_item))
            return PINHOLE_EFORMAT;
    }
    /* the binary form is the reference: run its decoder's checks on the encoding */
    uint8_t bytes[PINHOLE_CONFIG_V2BYTES];
    if (pinhole_collection_config_encode(&c, bytes) != PINHOLE_OK)
        return PINHOLE_EFORMAT;
    return pinhole_collection_config_decode(bytes, pinhole_collection_config_encoded_bytes(&c),
                                            cfg);
}

int pinhole_collection_config_from_json(const char *text, size_t len,
                                        pinhole_collection_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    json_error_t jerr;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o)
        return PINHOLE_EFORMAT;
    int rc = from_object(o, cfg);
    json_decref(o);
    if (rc != PINHOLE_OK)
        memset(cfg, 0, sizeof *cfg);
    return rc;
}
