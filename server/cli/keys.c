/* `pinhole keygen` and `pinhole sign-config`: the server's key pairs and signed collection
 * configs for clients (docs/protocol.md §4.3, §5). */
#include "client/pinhole.h"
#include "proto/config_json.h"
#include "server/cli/cli.h"
#include "server/cli/collection_args.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void keygen_usage(FILE *f)
{
    fprintf(f, "usage: pinhole keygen\n"
               "  Prints a new Ed25519 key pair (signing configs) and X25519 key pair (sealing\n"
               "  reports) as hex, one 'name value' per line. Keep the secret keys secret.\n");
}

int cli_keygen(int argc, char **argv)
{
    const cli_opt none[] = {{0}};
    const cli_command cmd = {.name = "keygen", .opts = none, .usage = keygen_usage};
    const int r = cli_parse(&cmd, argc, argv);
    if (r != 0)
        return r > 0 ? CLI_OK : CLI_USAGE;
    uint8_t spk[PINHOLE_CONFIG_PUBLICKEYBYTES], ssk[PINHOLE_CONFIG_SECRETKEYBYTES];
    uint8_t bpk[PINHOLE_SEAL_PUBLICKEYBYTES], bsk[PINHOLE_SEAL_SECRETKEYBYTES];
    pinhole_collection_config_keypair(spk, ssk);
    pinhole_seal_keypair(bpk, bsk);
    const struct {
        const char *name;
        const uint8_t *key;
        size_t len;
    } rows[] = {{"sign_public_key", spk, sizeof spk},
                {"sign_secret_key", ssk, sizeof ssk},
                {"seal_public_key", bpk, sizeof bpk},
                {"seal_secret_key", bsk, sizeof bsk}};
    for (size_t i = 0; i < 4; i++) {
        printf("%s ", rows[i].name);
        cli_print_hex(stdout, rows[i].key, rows[i].len);
        printf("\n");
    }
    sodium_memzero(ssk, sizeof ssk);
    sodium_memzero(bsk, sizeof bsk);
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

static void sign_usage(FILE *f)
{
    fprintf(f,
            "usage: pinhole sign-config COLLECTION --sign-key HEX [--out FILE] [--json FILE]\n"
            "  Writes the signed binary config (136 bytes) of the collection, signed with the\n"
            "  server's Ed25519 secret key (128 hex digits, from 'pinhole keygen'); --json also\n"
            "  writes its JSON form.\n" CLI_CONFIG_USAGE);
}

int cli_sign_config(int argc, char **argv)
{
    cli_config_args ca = {.cmd = "sign-config"};
    const char *out = NULL, *json = NULL, *key_hex = NULL;
    const cli_opt opts[] = {CLI_CONFIG_OPTS(&ca),
                            CLI_OPT("sign-key", CLI_OPT_STRING, &key_hex),
                            CLI_OPT("out", CLI_OPT_STRING, &out),
                            CLI_OPT("json", CLI_OPT_STRING, &json),
                            {0}};
    const cli_command cmd = {.name = "sign-config", .opts = opts, .usage = sign_usage};
    const int r = cli_parse(&cmd, argc, argv);
    if (r != 0)
        return r > 0 ? CLI_OK : CLI_USAGE;
    uint8_t sk[PINHOLE_CONFIG_SECRETKEYBYTES], signed_cfg[PINHOLE_CONFIG_SIGNED_MAXBYTES];
    pinhole_collection_config cfg;
    if (!key_hex) {
        fprintf(stderr, "pinhole sign-config: --sign-key is required\n");
        return CLI_USAGE;
    }
    if (cli_parse_hex("sign-config", "--sign-key", key_hex, sk, sizeof sk) ||
        cli_config_make(&ca, &cfg))
        return CLI_USAGE;
    int rc = pinhole_collection_config_sign(&cfg, sk, signed_cfg);
    sodium_memzero(sk, sizeof sk);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "pinhole sign-config: %s\n", pinhole_strerror(rc));
        return CLI_FAIL;
    }
    if (cli_write_file("sign-config", out, signed_cfg,
                       pinhole_collection_config_signed_bytes(&cfg)))
        return CLI_FAIL;
    if (json) {
        char *text = pinhole_collection_config_to_json(&cfg, &rc);
        int bad = !text || cli_write_file("sign-config", json, (const uint8_t *)text, strlen(text));
        free(text);
        if (bad) {
            fprintf(stderr, "pinhole sign-config: no JSON form: %s\n", pinhole_strerror(rc));
            return CLI_FAIL;
        }
    }
    return CLI_OK;
}
