/* Collection-config options and file/hex helpers of the wire-format subcommands. */
#include "server/cli/collection_args.h"
#include "common/explain.h"
#include "proto/config_json.h"
#include "server/cli/cli.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int from_params(const cli_config_args *c, pinhole_collection_config *cfg)
{
    if (c->k < 2 || !c->have_epsilon) {
        fprintf(stderr,
                "pinhole %s: give --k (at least 2) and --epsilon, or --config, or "
                "--config-json\n",
                c->cmd);
        return -1;
    }
    const pinhole_mechanism_ops *ops =
        pinhole_mechanism_by_name(c->mechanism ? c->mechanism : "pgr");
    if (!ops) {
        fprintf(stderr, "pinhole %s: unknown mechanism '%s'\n", c->cmd, c->mechanism);
        return -1;
    }
    pinhole_config_params p = {.mechanism = ops->id,
                               .k = c->k,
                               .epsilon = c->epsilon,
                               .q = (uint32_t)c->q,
                               .t = (uint32_t)c->t};
    char why[256];
    int rc = pinhole_config_explain(&p, why, sizeof why);
    if (rc == PINHOLE_OK)
        rc = pinhole_collection_config_make(cfg, c->collection, &p,
                                            c->precision ? (uint32_t)c->precision : 1,
                                            (uint32_t)c->min_reports);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "pinhole %s: parameters refused: %s\n", c->cmd,
                why[0] ? why : pinhole_strerror(rc));
        return -1;
    }
    return 0;
}

int cli_config_make(const cli_config_args *c, pinhole_collection_config *cfg)
{
    if (!!c->config + !!c->config_json > 1) {
        fprintf(stderr, "pinhole %s: give one of --config and --config-json\n", c->cmd);
        return -1;
    }
    if (c->config) {
        uint8_t pk[PINHOLE_CONFIG_PUBLICKEYBYTES], *data;
        size_t len;
        if (!c->verify_key) {
            fprintf(stderr,
                    "pinhole %s: --config needs --verify-key (the server's Ed25519 public "
                    "key)\n",
                    c->cmd);
            return -1;
        }
        if (cli_parse_hex(c->cmd, "--verify-key", c->verify_key, pk, sizeof pk) ||
            cli_read_file(c->cmd, c->config, &data, &len))
            return -1;
        int rc = pinhole_collection_config_verify(data, len, pk, cfg);
        free(data);
        if (rc != PINHOLE_OK) {
            fprintf(stderr, "pinhole %s: %s: config refused: %s\n", c->cmd, c->config,
                    pinhole_strerror(rc));
            return -1;
        }
        return 0;
    }
    if (c->config_json) {
        uint8_t *data;
        size_t len;
        if (cli_read_file(c->cmd, c->config_json, &data, &len))
            return -1;
        int rc = pinhole_collection_config_from_json((const char *)data, len, cfg);
        free(data);
        char why[256] = "";
        if (rc == PINHOLE_OK) /* e.g. an HR block larger than one block: refused, not shrunk */
            rc = pinhole_config_explain(&cfg->params, why, sizeof why);
        if (rc != PINHOLE_OK) {
            fprintf(stderr, "pinhole %s: %s: config refused: %s\n", c->cmd, c->config_json,
                    why[0] ? why : pinhole_strerror(rc));
            return -1;
        }
        return 0;
    }
    return from_params(c, cfg);
}

int cli_config_collection(const cli_config_args *c, pinhole_collection *col)
{
    pinhole_collection_config cfg;
    if (cli_config_make(c, &cfg))
        return -1;
    int rc = pinhole_collection_init_config(col, &cfg);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "pinhole %s: the config's parameters do not build: %s\n", c->cmd,
                pinhole_strerror(rc));
        return -1;
    }
    col->verified = c->config != NULL;
    return 0;
}

int cli_read_file(const char *cmd, const char *path, uint8_t **data, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "pinhole %s: %s: %s\n", cmd, path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - 1 - n, f);
        if (n < cap - 1)
            break;
        uint8_t *nb = realloc(b, cap * 2);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    int err = !b || ferror(f);
    if (f != stdin)
        fclose(f);
    if (err) {
        free(b);
        fprintf(stderr, "pinhole %s: %s: read error or out of memory\n", cmd, path);
        return -1;
    }
    b[n] = 0;
    *data = b;
    *len = n;
    return 0;
}

int cli_write_file(const char *cmd, const char *path, const uint8_t *data, size_t len)
{
    const int out = !path || strcmp(path, "-") == 0;
    FILE *f = out ? stdout : fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "pinhole %s: %s: %s\n", cmd, path, strerror(errno));
        return -1;
    }
    int bad = fwrite(data, 1, len, f) != len;
    bad |= out ? fflush(f) != 0 : fclose(f) != 0;
    if (bad) {
        fprintf(stderr, "pinhole %s: %s: write error\n", cmd, out ? "standard output" : path);
        return -1;
    }
    return 0;
}

int cli_parse_hex(const char *cmd, const char *name, const char *hex, uint8_t *out, size_t len)
{
    size_t got = 0;
    if (strlen(hex) != 2 * len ||
        sodium_hex2bin(out, len, hex, strlen(hex), NULL, &got, NULL) != 0 || got != len) {
        fprintf(stderr, "pinhole %s: %s: expected %zu hex digits\n", cmd, name, 2 * len);
        return -1;
    }
    return 0;
}

void cli_print_hex(void *f, const uint8_t *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        fprintf((FILE *)f, "%02x", b[i]);
}
