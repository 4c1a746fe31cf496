/* `pinhole submit`: post reports to a server in batches, with retries: simulated devices drawn from
 * a count file, or encoded reports read from a file. */
#include "common/clock.h"
#include "common/error.h"
#include "proto/batch.h"
#include "proto/report.h"
#include "server/cli/cli.h"
#include "server/cli/cli_options.h"
#include "server/cli/upload.h"
#include "server/data/countfile.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void submit_usage(FILE *f)
{
    fprintf(f,
            "usage: pinhole submit --url URL --collection ID\n"
            "                      (--users N [--counts FILE] [--seed S] | --reports FILE)\n"
            "                      [--batch N] [--connections N] [--retries N] [--seal]\n"
            "                      [--time UNIX_SECONDS] [--server-key HEX] [--ack-log FILE]\n"
            "  --url URL          the server, e.g. http://127.0.0.1:8080\n"
            "  --collection ID    the collection; its signed config is fetched and verified first\n"
            "  --users N          simulate N devices, each with one item drawn from --counts\n"
            "                     (default data/subtlex-us.tsv), encoded with the client library\n"
            "  --seed S           seed of the simulation (default: fresh, printed)\n"
            "  --reports FILE     post the reports of FILE: report batches one after another, as\n"
            "                     'pinhole encode' writes them (plain or sealed; '-': stdin)\n"
            "  --batch N          reports per request (default 1000, at most 65536)\n"
            "  --connections N    parallel connections (default 2)\n"
            "  --retries N        retries per batch on 429, 503 and network errors (default 8)\n"
            "  --seal             seal every report to the server's X25519 key\n"
            "  --time T           report time in Unix seconds (default now)\n"
            "  --server-key HEX   pin the server's Ed25519 config-signing key (default: trust the\n"
            "                     key the server presents at GET /v1/keys)\n"
            "  --ack-log FILE     append every acknowledged report to FILE: hex id, time, hex payload\n"
            "The token (uploader, when the server requires one) comes from PINHOLE_TOKEN.\n");
}

/* Read a file of report batches one after another (as `pinhole encode` writes them): the items'
 * offsets and lengths, and whether they are sealed (every batch of a file must be of one kind). */
static int read_reports(const char *path, uint8_t **buf, size_t **off, size_t **len, uint64_t *n,
                        int *sealed)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return PINHOLE_EIO;
    size_t cap = 1 << 16, size = 0, got;
    uint8_t *b = malloc(cap);
    while (b && (got = fread(b + size, 1, cap - size, f)) > 0) {
        size += got;
        if (size == cap) {
            uint8_t *bigger = realloc(b, cap *= 2);
            if (!bigger)
                free(b);
            b = bigger;
        }
    }
    if (f != stdin)
        fclose(f);
    if (!b)
        return PINHOLE_ENOMEM;
    uint64_t count = 0;
    size_t pos = 0, ocap = 1024;
    size_t *o = malloc(ocap * sizeof *o), *l = malloc(ocap * sizeof *l);
    int rc = o && l ? PINHOLE_OK : PINHOLE_ENOMEM, kind = -1;
    while (rc == PINHOLE_OK && pos < size) {
        pinhole_batch_reader br;
        size_t used;
        if ((rc = pinhole_batch_reader_init_prefix(&br, b + pos, size - pos, &used)) != PINHOLE_OK)
            break;
        if (kind >= 0 && (int)br.kind != kind) {
            rc = PINHOLE_EFORMAT;
            break;
        }
        kind = (int)br.kind;
        const uint8_t *item;
        size_t item_len;
        while (rc == PINHOLE_OK && pinhole_batch_reader_next(&br, &item, &item_len)) {
            if (count == ocap) {
                ocap *= 2;
                size_t *o2 = realloc(o, ocap * sizeof *o);
                if (o2)
                    o = o2;
                size_t *l2 = o2 ? realloc(l, ocap * sizeof *l) : NULL;
                if (!l2) {
                    rc = PINHOLE_ENOMEM;
                    break;
                }
                l = l2;
            }
            o[count] = (size_t)(item - b);
            l[count] = item_len;
            count++;
        }
        pos += used;
    }
    if (rc == PINHOLE_OK && count == 0)
        rc = PINHOLE_EFORMAT;
    if (rc != PINHOLE_OK) {
        free(b);
        free(o);
        free(l);
        return rc;
    }
    *buf = b;
    *off = o;
    *len = l;
    *n = count;
    *sealed = kind == PINHOLE_BATCH_SEALED;
    return PINHOLE_OK;
}

int cli_submit(int argc, char **argv)
{
    const char *url = NULL, *counts = cli_default_counts(), *reports = NULL, *key = NULL,
               *ack = NULL;
    uint64_t coll = 0, users = 0, seed = 0, batch = 1000, conns = 2, retries = 8, when = 0;
    int have_coll = 0, have_seed = 0, seal = 0, have_time = 0;
    const cli_opt opts[] = {CLI_OPT("url", CLI_OPT_STRING, &url),
                            CLI_OPT("collection", CLI_OPT_U64, &coll, .given = &have_coll),
                            CLI_OPT("users", CLI_OPT_U64, &users, .min = 1),
                            CLI_OPT("counts", CLI_OPT_STRING, &counts),
                            CLI_OPT("seed", CLI_OPT_U64, &seed, .given = &have_seed),
                            CLI_OPT("reports", CLI_OPT_STRING, &reports),
                            CLI_OPT("batch", CLI_OPT_U64, &batch, .min = 1,
                                    .max = PINHOLE_BATCH_MAXCOUNT, .why = "reports per request"),
                            CLI_OPT("connections", CLI_OPT_U64, &conns, .min = 1, .max = 256),
                            CLI_OPT("retries", CLI_OPT_U64, &retries, .max = 1000),
                            CLI_OPT("seal", CLI_OPT_FLAG, &seal),
                            CLI_OPT("time", CLI_OPT_U64, &when, .given = &have_time),
                            CLI_OPT("server-key", CLI_OPT_STRING, &key),
                            CLI_OPT("ack-log", CLI_OPT_STRING, &ack),
                            {0}};
    const cli_command cmd = {.name = "submit", .opts = opts, .usage = submit_usage};
    const int p = cli_parse(&cmd, argc, argv);
    if (p != 0)
        return p > 0 ? CLI_OK : CLI_USAGE;
    if (!url || !have_coll || (users == 0) == (reports == NULL)) {
        fprintf(stderr, "pinhole submit: --url, --collection and exactly one of --users N "
                        "or --reports FILE are required\n");
        submit_usage(stderr);
        return CLI_USAGE;
    }
    if (!have_seed)
        randombytes_buf(&seed, sizeof seed);
    if (!have_time)
        when = (uint64_t)pinhole_clock_wall();
    if (cli_http_global_init() != 0)
        return CLI_FAIL;
    cli_http h;
    cli_collection c;
    const char *token = getenv("PINHOLE_TOKEN");
    if (cli_http_init(&h, url, token) != 0) {
        fprintf(stderr, "pinhole submit: bad --url or token\n");
        return CLI_USAGE;
    }
    int rc = cli_fetch_collection(&h, coll, key, &c);
    cli_http_free(&h);
    if (rc != 0)
        return CLI_FAIL;
    cli_upload u = {.url = url,
                    .token = token,
                    .collection = coll,
                    .coll = &c,
                    .batch = (unsigned)batch,
                    .connections = (unsigned)conns,
                    .retries = (unsigned)retries,
                    .seal = seal,
                    .time = when / c.wire.time_precision};
    pinhole_countfile cf = {0};
    uint8_t *file = NULL;
    size_t *off = NULL, *len = NULL;
    FILE *ackf = NULL;
    int status = CLI_FAIL;
    if (reports) {
        int sealed = 0;
        rc = read_reports(reports, &file, &off, &len, &u.nreports, &sealed);
        if (rc != PINHOLE_OK) {
            fprintf(stderr, "pinhole submit: %s: %s\n", reports, pinhole_strerror(rc));
            goto out;
        }
        u.file = file;
        u.offset = off;
        u.len = len;
        u.file_sealed = sealed;
        if (sealed && seal) {
            fprintf(stderr, "pinhole submit: %s holds sealed reports already; drop --seal\n",
                    reports);
            goto out;
        }
    } else {
        uint64_t bad_line;
        rc = pinhole_countfile_read(counts, &cf, &bad_line);
        if (rc != PINHOLE_OK) {
            char why[320];
            pinhole_countfile_describe(rc, counts, bad_line, why, sizeof why);
            fprintf(stderr, "pinhole submit: %s\n", why);
            goto out;
        }
        if (cf.k != c.wire.params.k) {
            fprintf(stderr, "pinhole submit: %s has %llu items but the collection has k = %llu\n",
                    counts, (unsigned long long)cf.k, (unsigned long long)c.wire.params.k);
            goto out;
        }
        u.sample = &cf;
        u.users = users;
        u.seed = seed;
        printf("simulating %llu devices (seed %llu)\n", (unsigned long long)users,
               (unsigned long long)seed);
    }
    if (ack && !(ackf = fopen(ack, "a"))) {
        fprintf(stderr, "pinhole submit: cannot open %s\n", ack);
        goto out;
    }
    u.ack_log = ackf;
    rc = cli_upload_run(&u);
    printf("sent %llu reports in %.2f s (%.0f reports/s): %llu accepted, %llu duplicates "
           "(already stored), %llu rejected, %llu batches failed\n",
           (unsigned long long)u.sent, u.seconds, (double)u.sent / u.seconds,
           (unsigned long long)u.accepted, (unsigned long long)u.duplicates,
           (unsigned long long)u.rejected, (unsigned long long)u.failed_batches);
    status = rc == 0 ? CLI_OK : CLI_FAIL;
out:
    if (ackf)
        fclose(ackf);
    free(u.truth);
    free(u.counts);
    free(file);
    free(off);
    free(len);
    pinhole_countfile_free(&cf);
    cli_collection_free(&c);
    return status;
}
