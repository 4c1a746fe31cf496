/* `pinhole inspect`: decode a file of batches (opening sealed reports), print every report and
 * check it against a collection config, as a server's ingest would. */
#include "client/pinhole.h"
#include "common/bytes.h"
#include "server/cli/cli.h"
#include "server/cli/collection_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void inspect_usage(FILE *f)
{
    fprintf(
        f,
        "usage: pinhole inspect [COLLECTION] [options] FILE\n"
        "  Decodes the batches in FILE ('-': standard input) and prints one line per report:\n"
        "  collection, time, report id, payload (hex; PGR: also the hyperplane index) and the\n"
        "  verdict. With a collection, each report is also checked against it (collection id,\n"
        "  fingerprint, mechanism, payload size). Exit status 1 if any report is "
        "refused.\n" CLI_CONFIG_USAGE "options:\n"
        "  --seal-key HEX --open-key HEX   the server's X25519 key pair, to open sealed reports\n"
        "  --quiet                         print only the summary\n");
}

int cli_inspect(int argc, char **argv)
{
    cli_config_args ca = {.cmd = "inspect"};
    const char *path = NULL, *pk_hex = NULL, *sk_hex = NULL;
    int quiet = 0;
    const cli_opt opts[] = {CLI_CONFIG_OPTS(&ca),
                            CLI_OPT("seal-key", CLI_OPT_STRING, &pk_hex),
                            CLI_OPT("open-key", CLI_OPT_STRING, &sk_hex),
                            CLI_OPT("quiet", CLI_OPT_FLAG, &quiet),
                            {0}};
    size_t npos = 0;
    const cli_command cmd = {.name = "inspect",
                             .opts = opts,
                             .usage = inspect_usage,
                             .pos = &path, /* the batches file */
                             .max_pos = 1,
                             .npos = &npos};
    const int r = cli_parse(&cmd, argc, argv);
    if (r != 0)
        return r > 0 ? CLI_OK : CLI_USAGE;
    if (!path) {
        inspect_usage(stderr);
        return CLI_USAGE;
    }
    uint8_t pk[PINHOLE_SEAL_PUBLICKEYBYTES], sk[PINHOLE_SEAL_SECRETKEYBYTES];
    const int can_open = pk_hex && sk_hex;
    if ((pk_hex && cli_parse_hex("inspect", "--seal-key", pk_hex, pk, sizeof pk)) ||
        (sk_hex && cli_parse_hex("inspect", "--open-key", sk_hex, sk, sizeof sk)))
        return CLI_USAGE;
    const int check = ca.config || ca.config_json || ca.k;
    pinhole_collection col = {0};
    if (check && cli_config_collection(&ca, &col))
        return CLI_USAGE;
    uint8_t *data;
    size_t len;
    if (cli_read_file("inspect", path, &data, &len)) {
        pinhole_collection_clear(&col);
        return CLI_FAIL;
    }
    uint8_t *opened = malloc(PINHOLE_REPORT_MAXBYTES);
    uint64_t total = 0, refused = 0, batches = 0;
    size_t pos = 0;
    int status = CLI_OK;
    while (opened && pos < len) {
        pinhole_batch_reader r;
        size_t used;
        int rc = pinhole_batch_reader_init_prefix(&r, data + pos, len - pos, &used);
        if (rc != PINHOLE_OK) {
            fprintf(stderr, "pinhole inspect: batch at byte %zu refused: %s\n", pos,
                    pinhole_strerror(rc));
            status = CLI_FAIL;
            break;
        }
        const uint8_t *item;
        size_t item_len;
        while (pinhole_batch_reader_next(&r, &item, &item_len) == 1) {
            total++;
            const uint8_t *rep = item;
            size_t rep_len = item_len;
            pinhole_report report;
            rc = PINHOLE_OK;
            if (r.kind == PINHOLE_BATCH_SEALED) {
                rc = can_open ? pinhole_report_open(item, item_len, pk, sk, opened,
                                                    PINHOLE_REPORT_MAXBYTES, &rep_len)
                              : PINHOLE_EUNSUPPORTED;
                rep = opened;
            }
            if (rc == PINHOLE_OK)
                rc = pinhole_report_decode(rep, rep_len, &report);
            if (rc == PINHOLE_OK && check)
                rc = pinhole_report_check(&report, col.config.collection_id, col.fingerprint,
                                          (uint8_t)col.mech.mechanism, col.mech.payload_bits);
            if (rc == PINHOLE_OK && check && col.mech.mechanism == PINHOLE_MECH_PGR &&
                pinhole_load_le(report.payload, report.payload_len) >= col.mech.u.pgr.K)
                rc = PINHOLE_ERANGE;
            refused += rc != PINHOLE_OK;
            if (quiet)
                continue;
            printf("%llu.%llu ", (unsigned long long)batches, (unsigned long long)total);
            if (rc == PINHOLE_OK || (rc != PINHOLE_EUNSUPPORTED && report.version)) {
                printf("collection=%llu time=%llu mechanism=%u id=",
                       (unsigned long long)report.collection_id, (unsigned long long)report.time,
                       report.mechanism);
                cli_print_hex(stdout, report.report_id, sizeof report.report_id);
                printf(" payload=");
                cli_print_hex(stdout, report.payload, report.payload_len);
                if (report.mechanism == PINHOLE_MECH_PGR && report.payload_len <= 8)
                    printf(" hyperplane=%llu",
                           (unsigned long long)pinhole_load_le(report.payload, report.payload_len));
                printf(" ");
            }
            printf("%s\n", rc == PINHOLE_OK             ? (check ? "accepted" : "decoded")
                           : rc == PINHOLE_EUNSUPPORTED ? "sealed (give --seal-key and --open-key)"
                                                        : pinhole_strerror(rc));
        }
        pos += used;
        batches++;
    }
    printf("%llu reports in %llu batches: %llu %s, %llu refused\n", (unsigned long long)total,
           (unsigned long long)batches, (unsigned long long)(total - refused),
           check ? "accepted" : "decoded", (unsigned long long)refused);
    if (refused)
        status = CLI_FAIL;
    free(opened);
    free(data);
    pinhole_collection_clear(&col);
    return status;
}
