/* `pinhole encode`: item indices -> randomized reports with the client library, written as
 * batches (docs/protocol.md §3), optionally sealed to the server's key. */
#include "client/pinhole.h"
#include "server/cli/cli.h"
#include "server/cli/collection_args.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h> /* mkstemp */
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

static void encode_usage(FILE *f)
{
    fprintf(
        f,
        "usage: pinhole encode COLLECTION [options] [VALUES]\n"
        "  Randomizes each value (an item index 0 <= v < k, one per line of the file VALUES;\n"
        "  '-' or none: standard input) into one report, as a device would, and writes the\n"
        "  reports as batches of at most 65536 (and 64 MiB), one after another.\n" CLI_CONFIG_USAGE
        "options:\n"
        "  --out FILE       write the batches here (default: standard output)\n"
        "  --time UNIX      the time the reports stand for (default: now)\n"
        "  --seal-key HEX   seal each report to the server's X25519 public key (64 hex digits)\n"
        "  --secret HEX     device secret (64 hex digits): memoized reports (the same value\n"
        "                   always gives the same payload)\n"
        "  --labels FILE    the collection's label list (GET /v1/collections/ID/labels), checked\n"
        "                   against its config: then each line of VALUES is a label\n");
}

/* Parse the next value line of text (an item index, or with labels a label); 1 with *v, 0 at the
 * end, -1 on a bad line. */
static int next_value(char **cursor, uint64_t *line, const pinhole_labels *lab, uint64_t *v)
{
    for (;;) {
        char *s = *cursor;
        if (*s == '\0')
            return 0;
        char *end = strchr(s, '\n');
        if (end) {
            *end = '\0';
            *cursor = end + 1;
        } else {
            *cursor = s + strlen(s);
        }
        ++*line;
        size_t n = strlen(s);
        if (n && s[n - 1] == '\r')
            s[--n] = '\0';
        if (n == 0)
            continue;
        if (lab) {
            const int rc = pinhole_labels_index(lab, s, n, v);
            if (rc != PINHOLE_OK)
                fprintf(stderr, "pinhole encode: line %llu: '%s': %s\n", (unsigned long long)*line,
                        s,
                        rc == PINHOLE_ENOTFOUND ? "not a label of the collection"
                                                : pinhole_strerror(rc));
            return rc == PINHOLE_OK ? 1 : -1;
        }
        char name[48];
        snprintf(name, sizeof name, "line %llu", (unsigned long long)*line);
        return cli_parse_u64(name, s, v) ? -1 : 1;
    }
}

int cli_encode(int argc, char **argv)
{
    cli_config_args ca = {.cmd = "encode"};
    const char *out = NULL, *values = "-", *seal_hex = NULL, *secret_hex = NULL,
               *labels_file = NULL;
    uint64_t now = (uint64_t)time(NULL);
    const cli_opt opts[] = {CLI_CONFIG_OPTS(&ca),
                            CLI_OPT("out", CLI_OPT_STRING, &out),
                            CLI_OPT("time", CLI_OPT_U64, &now),
                            CLI_OPT("seal-key", CLI_OPT_STRING, &seal_hex),
                            CLI_OPT("secret", CLI_OPT_STRING, &secret_hex),
                            CLI_OPT("labels", CLI_OPT_STRING, &labels_file),
                            {0}};
    size_t npos = 0;
    const cli_command cmd = {.name = "encode",
                             .opts = opts,
                             .usage = encode_usage,
                             .pos = &values, /* the values file, the one positional word */
                             .max_pos = 1,
                             .npos = &npos};
    const int r = cli_parse(&cmd, argc, argv);
    if (r != 0)
        return r > 0 ? CLI_OK : CLI_USAGE;
    uint8_t seal_pk[PINHOLE_SEAL_PUBLICKEYBYTES], secret[PINHOLE_DEVICE_SECRETBYTES];
    if ((seal_hex && cli_parse_hex("encode", "--seal-key", seal_hex, seal_pk, sizeof seal_pk)) ||
        (secret_hex && cli_parse_hex("encode", "--secret", secret_hex, secret, sizeof secret)))
        return CLI_USAGE;
    pinhole_collection col;
    if (cli_config_collection(&ca, &col))
        return CLI_USAGE;
    pinhole_client cl;
    pinhole_client_init(&cl, NULL, secret_hex ? secret : NULL);
    const unsigned flags = secret_hex ? PINHOLE_REPORT_MEMOIZE : 0;

    uint8_t *text = NULL, *list = NULL;
    size_t text_len, list_len;
    int status = CLI_FAIL;
    pinhole_labels *lab = NULL;
    const size_t item_max =
        seal_hex ? pinhole_collection_sealedbytes(&col) : pinhole_collection_reportbytes(&col);
    /* reports per batch: the count limit, or fewer when reports are large (unary payloads of k
     * bits), so that one batch stays within 64 MiB */
    size_t per_batch = ((size_t)64 << 20) / (item_max + PINHOLE_BATCH_ITEMHEADERBYTES);
    per_batch = per_batch < 1                        ? 1
                : per_batch > PINHOLE_BATCH_MAXCOUNT ? PINHOLE_BATCH_MAXCOUNT
                                                     : per_batch;
    const size_t batch_cap = pinhole_batch_bytes(per_batch, item_max);
    uint8_t *item = malloc(item_max), *batch = batch_cap ? malloc(batch_cap) : NULL;
    FILE *f = NULL;
    char *tmp = NULL; /* the temporary file beside --out */
    if (!item || !batch) {
        fprintf(stderr, "pinhole encode: out of memory\n");
        goto done;
    }
    if (cli_read_file("encode", values, &text, &text_len))
        goto done;
    if (labels_file) {
        if (cli_read_file("encode", labels_file, &list, &list_len))
            goto done;
        const int rc = pinhole_labels_new(&lab, &col, list, list_len);
        if (rc != PINHOLE_OK) {
            fprintf(stderr, "pinhole encode: %s: %s\n", labels_file,
                    rc == PINHOLE_ENOTFOUND    ? "the collection's config commits to no labels"
                    : rc == PINHOLE_ESIGNATURE ? "not the label list the collection's config "
                                                 "commits to"
                                               : pinhole_strerror(rc));
            goto done;
        }
    }
    /* A file is written whole or not at all: the batches go to a temporary file beside it,
     * renamed over --out only once every report was made (a refused value or time leaves
     * whatever --out held before, never a truncated or partial file). */
    if (out && strcmp(out, "-") != 0) {
        if (!(tmp = malloc(strlen(out) + sizeof ".partial-XXXXXX"))) {
            fprintf(stderr, "pinhole encode: out of memory\n");
            goto done;
        }
        sprintf(tmp, "%s.partial-XXXXXX", out);
        const int fd = mkstemp(tmp);
        const mode_t mask = umask(0); /* mkstemp's 0600 widened to what fopen would make */
        umask(mask);
        if (fd < 0 || fchmod(fd, 0666 & ~mask) != 0 || !(f = fdopen(fd, "wb"))) {
            perror(tmp);
            if (fd >= 0) {
                close(fd);
                unlink(tmp);
            }
            free(tmp);
            tmp = NULL;
            goto done;
        }
    } else {
        f = stdout;
    }
    char *cursor = (char *)text;
    uint64_t line = 0, v, reports = 0, batches = 0;
    int more = 1;
    while (more) {
        pinhole_batch_writer w;
        pinhole_batch_writer_init(&w, seal_hex ? PINHOLE_BATCH_SEALED : PINHOLE_BATCH_PLAIN, batch,
                                  batch_cap);
        while (w.count < per_batch && (more = next_value(&cursor, &line, lab, &v)) == 1) {
            size_t n = 0;
            int rc = seal_hex ? pinhole_client_report_sealed(&cl, &col, v, now, flags, seal_pk,
                                                             item, item_max, &n)
                              : pinhole_client_report(&cl, &col, v, now, flags, item, item_max, &n);
            if (rc == PINHOLE_OK)
                rc = pinhole_batch_writer_add(&w, item, n);
            if (rc != PINHOLE_OK) {
                fprintf(stderr, "pinhole encode: line %llu: value %llu: %s\n",
                        (unsigned long long)line, (unsigned long long)v, pinhole_strerror(rc));
                goto done;
            }
            reports++;
        }
        if (more < 0)
            goto done;
        if (w.count == 0 && batches > 0)
            break;
        size_t written;
        pinhole_batch_writer_finish(&w, &written);
        if (fwrite(batch, 1, written, f) != written) {
            fprintf(stderr, "pinhole encode: write error\n");
            goto done;
        }
        batches++;
    }
    if ((f == stdout ? fflush(f) : fclose(f)) != 0) {
        f = NULL;
        fprintf(stderr, "pinhole encode: write error\n");
        goto done;
    }
    f = NULL;
    if (tmp && rename(tmp, out) != 0) {
        perror(out);
        goto done;
    }
    fprintf(stderr,
            "pinhole encode: %llu reports in %llu batches for collection %llu (k = %llu, epsilon = "
            "%g, q = %u, t = %u, %u payload bits%s), fingerprint ",
            (unsigned long long)reports, (unsigned long long)batches,
            (unsigned long long)col.config.collection_id, (unsigned long long)col.config.params.k,
            col.config.params.epsilon, col.config.params.q, col.config.params.t,
            col.mech.payload_bits, seal_hex ? ", sealed" : "");
    cli_print_hex(stderr, col.fingerprint, sizeof col.fingerprint);
    fputc('\n', stderr);
    status = CLI_OK;
done:
    if (f && f != stdout)
        fclose(f);
    if (tmp) {
        if (status != CLI_OK)
            unlink(tmp);
        free(tmp);
    }
    free(text);
    free(list);
    pinhole_labels_free(lab);
    free(item);
    free(batch);
    pinhole_client_clear(&cl);
    sodium_memzero(secret, sizeof secret);
    pinhole_collection_clear(&col);
    return status;
}
