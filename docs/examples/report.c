/* Example app: report which of k = 1024 items a device holds, privately, with libpinhole.
 *
 * It plays both sides so that it runs alone: the "server" makes its keys and a signed collection
 * config; the "device" verifies the config, applies its privacy policy (at most epsilon 4 per
 * report, a budget of epsilon 10 per day kept in a file), and writes a sealed report. A real app
 * fetches the signed config and the server's public keys over HTTPS instead.
 *
 * Build against the installed library:
 *     cc report.c $(pkg-config --cflags --libs libpinhole) -o report
 * Run: ./report BUDGET_FILE VALUE */
#include <pinhole.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s BUDGET_FILE VALUE\n", argv[0]);
        return 2;
    }
    const uint64_t value = strtoull(argv[2], NULL, 10);
    if (pinhole_init() != PINHOLE_OK)
        return 1;
    printf("libpinhole %s\n", pinhole_version_string());

    /* --- server side: keys and a signed config for collection 42 (k = 1024, epsilon = 4) --- */
    uint8_t sign_pk[PINHOLE_CONFIG_PUBLICKEYBYTES], sign_sk[PINHOLE_CONFIG_SECRETKEYBYTES];
    uint8_t seal_pk[PINHOLE_SEAL_PUBLICKEYBYTES], seal_sk[PINHOLE_SEAL_SECRETKEYBYTES];
    pinhole_collection_config_keypair(sign_pk, sign_sk);
    pinhole_seal_keypair(seal_pk, seal_sk);
    pinhole_config_params params = {.mechanism = PINHOLE_MECH_PGR, .k = 1024, .epsilon = 4.0};
    pinhole_collection_config cfg;
    uint8_t signed_config[PINHOLE_CONFIG_SIGNEDBYTES];
    int rc = pinhole_collection_config_make(&cfg, 42, &params, 3600, 100);
    if (rc == PINHOLE_OK)
        rc = pinhole_collection_config_sign(&cfg, sign_sk, signed_config);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "server: %s\n", pinhole_strerror(rc));
        return 1;
    }

    /* --- device side --- */
    pinhole_collection col;
    rc = pinhole_collection_init_signed(&col, signed_config, sizeof signed_config, sign_pk);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "config refused: %s\n", pinhole_strerror(rc));
        return 1;
    }
    pinhole_policy policy = {.max_epsilon = 4.0,
                             .budget_epsilon = 10.0,
                             .budget_period = 86400,
                             .load = budget_load,
                             .store = budget_store,
                             .ctx = argv[1]};
    pinhole_client client;
    if (pinhole_client_init(&client, &policy, NULL) != PINHOLE_OK)
        return 1;
    uint8_t sealed[PINHOLE_REPORT_HEADERBYTES + 64 + PINHOLE_SEALBYTES];
    size_t n = 0;
    rc = pinhole_client_report_sealed(&client, &col, value, (uint64_t)time(NULL), 0, seal_pk,
                                      sealed, sizeof sealed, &n);
    if (rc != PINHOLE_OK) {
        printf("report refused: %s\n", pinhole_strerror(rc));
        pinhole_collection_free(&col);
        return 3;
    }
    printf("sealed report: %zu bytes (q = %u, t = %u, %u payload bits)\n", n, cfg.params.q,
           cfg.params.t, col.mech.payload_bits);

    /* --- server side again: open and check the report --- */
    uint8_t opened[PINHOLE_REPORT_HEADERBYTES + 64];
    size_t m = 0;
    pinhole_report report;
    rc = pinhole_report_open(sealed, n, seal_pk, seal_sk, opened, sizeof opened, &m);
    if (rc == PINHOLE_OK)
        rc = pinhole_report_decode(opened, m, &report);
    if (rc == PINHOLE_OK)
        rc = pinhole_report_check(&report, 42, col.fingerprint, PINHOLE_MECH_PGR,
                                  col.mech.payload_bits);
    printf("server: %s\n", rc == PINHOLE_OK ? "report accepted" : pinhole_strerror(rc));
    pinhole_collection_free(&col);
    return rc == PINHOLE_OK ? 0 : 1;
}
