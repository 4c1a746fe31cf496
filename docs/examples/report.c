/* Example app: report which of k = 1024 items a device holds, privately, with libpinhole.
 *
 * The device side of the exchange with a Pinhole server (docs/client.md): the server's public
 * keys and the collection's signed config, as GET /v1/keys and GET /v1/collections/7/config
 * answer (here the test vectors of proto/vectors/v1.txt, so that the example runs alone); the
 * config verified with the pinned signing key; the device's privacy policy (at most epsilon 4 per
 * report, a budget of epsilon 10 per day kept in a file); a sealed report into the outbox; its
 * batch "POSTed" with the retry rule (this example has no network: it writes the body to a file
 * that `curl --data-binary @FILE` would send).
 *
 * Build against the installed library:
 *     cc report.c $(pkg-config --cflags --libs libpinhole) -o report
 * Run: ./report BUDGET_FILE VALUE BATCH_FILE
 * (exit status 3 when the privacy policy refuses the report) */
#include <pinhole/pinhole.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* GET /v1/keys: {"config_signing_key": "...", "seal_key": "..."}. Pin the signing key in the app.
 */
static const char SIGNING_KEY_HEX[] =
    "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
static const char SEAL_KEY_HEX[] =
    "30f3af217c81f948b0b340da6b9d4e15b2c7b07e8586ab598b59e444c9a15251";
/* GET /v1/collections/7/config: 136 bytes (shown in hex here); collection 7, PGR, k = 1024, eps 4
 */
static const char SIGNED_CONFIG_HEX[] =
    "010100000700000000000000000400000000000000000000000010404300000003000000100e000064000000000000"
    "00000000000000000000000000000000000000000000000000f73dcdbf5b501f61593e4bc83cdc1b2531f63a2c4cdc"
    "2b2db8e162384067907be8bda96a6785b0a43b49c5c9f45495989ad91023297ea7bcd014f697c65ac602";

/* The budget store: one line "PERIOD SPENT" in a file (an app would use its own storage). */
static int budget_load(void *ctx, uint64_t period, double *spent)
{
    FILE *f = fopen((const char *)ctx, "r");
    unsigned long long p;
    double s;
    *spent = 0;
    if (!f)
        return PINHOLE_OK; /* nothing spent yet */
    if (fscanf(f, "%llu %lf", &p, &s) == 2 && p == period)
        *spent = s;
    fclose(f);
    return PINHOLE_OK;
}

static int budget_store(void *ctx, uint64_t period, double spent)
{
    FILE *f = fopen((const char *)ctx, "w");
    if (!f)
        return PINHOLE_EIO;
    int ok = fprintf(f, "%llu %.17g\n", (unsigned long long)period, spent) > 0;
    return fclose(f) == 0 && ok ? PINHOLE_OK : PINHOLE_EIO;
}

/* POST body to /v1/collections/{id}/reports as application/octet-stream and return the HTTP
 * status, 0 when no answer came. Here: write it to a file and answer 200. */
static int post_batch(const char *path, const uint8_t *body, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0; /* as if the network were down: the batch stays in the outbox */
    const int ok = fwrite(body, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 200 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s BUDGET_FILE VALUE BATCH_FILE\n", argv[0]);
        return 2;
    }
    const uint64_t value = strtoull(argv[2], NULL, 10);
    if (pinhole_init() != PINHOLE_OK)
        return 1;
    printf("libpinhole %s\n", pinhole_version_string());

    /* the server's keys and the signed config, as fetched */
    uint8_t sign_pk[PINHOLE_CONFIG_PUBLICKEYBYTES], seal_pk[PINHOLE_SEAL_PUBLICKEYBYTES];
    uint8_t signed_config[PINHOLE_CONFIG_SIGNEDBYTES];
    size_t config_len = 0;
    int rc = pinhole_hex_decode(SIGNING_KEY_HEX, sign_pk, sizeof sign_pk, NULL);
    if (rc == PINHOLE_OK)
        rc = pinhole_hex_decode(SEAL_KEY_HEX, seal_pk, sizeof seal_pk, NULL);
    if (rc == PINHOLE_OK)
        rc =
            pinhole_hex_decode(SIGNED_CONFIG_HEX, signed_config, sizeof signed_config, &config_len);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "keys: %s\n", pinhole_strerror(rc));
        return 1;
    }

    /* verify the config with the pinned key before anything is encoded */
    pinhole_collection *col = NULL;
    rc = pinhole_collection_new_signed(&col, signed_config, config_len, sign_pk);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "config refused: %s\n", pinhole_strerror(rc));
        return 1;
    }

    /* the device: its privacy policy */
    pinhole_policy policy = {.max_epsilon = 4.0,
                             .budget_epsilon = 10.0,
                             .budget_period = 86400,
                             .load = budget_load,
                             .store = budget_store,
                             .ctx = argv[1]};
    pinhole_client *client = NULL;
    if (pinhole_client_new(&client, &policy, NULL) != PINHOLE_OK) {
        pinhole_collection_free(col);
        return 1;
    }

    /* one sealed report */
    uint8_t sealed[PINHOLE_REPORT_HEADERBYTES + 64 + PINHOLE_SEALBYTES];
    size_t n = 0;
    rc = pinhole_client_report_sealed(client, col, value, (uint64_t)time(NULL), 0, seal_pk, sealed,
                                      sizeof sealed, &n);
    int status = 0;
    if (rc == PINHOLE_EPOLICY) {
        printf("report refused: %s\n", pinhole_strerror(rc));
        status = 3;
    } else if (rc != PINHOLE_OK) {
        fprintf(stderr, "report: %s\n", pinhole_strerror(rc));
        status = 1;
    } else {
        printf("report ready: %zu sealed bytes for collection %llu (k = %llu, epsilon %g)\n", n,
               (unsigned long long)pinhole_collection_id(col),
               (unsigned long long)pinhole_collection_k(col), pinhole_collection_epsilon(col));
        /* the outbox: batches of at most 64 KiB; an app keeps it for the session and posts when
         * it has network */
        pinhole_outbox *outbox = NULL;
        rc = pinhole_outbox_new(&outbox, col, PINHOLE_OUTBOX_SEALED, 65536);
        if (rc == PINHOLE_OK)
            rc = pinhole_outbox_add(outbox, sealed, n, (uint64_t)time(NULL));
        const uint8_t *body;
        size_t len;
        while (rc == PINHOLE_OK && pinhole_outbox_next(outbox, &body, &len)) {
            const int http = post_batch(argv[3], body, len);
            printf("POST /v1/collections/%llu/reports (%zu bytes): %d\n",
                   (unsigned long long)pinhole_collection_id(col), len, http);
            if (pinhole_http_should_retry(http))
                break; /* keep it; the same bytes again later (after Retry-After) are safe */
            pinhole_outbox_done(outbox); /* answered for good */
        }
        if (rc != PINHOLE_OK) {
            fprintf(stderr, "outbox: %s\n", pinhole_strerror(rc));
            status = 1;
        } else {
            printf("reports left in the outbox: %zu\n", pinhole_outbox_pending(outbox));
        }
        pinhole_outbox_free(outbox);
    }
    pinhole_client_free(client);
    pinhole_collection_free(col);
    return status;
}
