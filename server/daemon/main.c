/* pinhole-server: the aggregation daemon (run, hash-token, check). */
#include "common/error.h"
#include "server/daemon/config.h"
#include "server/http/httpd.h"

#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: pinhole-server [--config FILE] [--KEY VALUE ...]   run the server\n"
        "       pinhole-server hash-token < TOKEN                  print a token's hash\n"
        "       pinhole-server check [--database FILE|URL]         integrity check and recount\n"
        "Keys (defaults in docs/pinhole-server.conf): listen, port, threads, connection_limit,\n"
        "  connection_timeout, connection_memory, max_body_bytes, max_admin_body_bytes,\n"
        "  max_batch_reports, retry_after, job_workers, job_time_limit, database (an SQLite file,\n"
        "  or a postgresql:// URL; also db), synchronous, "
        "cache_mib, writer_queue_reports,\n"
        "  writer_txn_reports, checkpoint_interval, shutdown_grace, port_file,\n"
        "  {admin,analyst,uploader}_token_{hash,file}.\n"
        "Tokens may also come from the environment: PINHOLE_ADMIN_TOKEN, PINHOLE_ANALYST_TOKEN,\n"
        "  PINHOLE_UPLOADER_TOKEN. Without an admin or analyst token a random one is made for\n"
        "  this run and printed on stderr.\n");
}

static int hash_token(void)
{
    char line[300];
    if (!fgets(line, sizeof line, stdin)) {
        fprintf(stderr, "pinhole-server hash-token: no token on stdin\n");
        return 1;
    }
    const size_t n = strcspn(line, "\r\n");
    uint8_t h[PINHOLE_TOKEN_HASH_BYTES];
    char hex[2 * PINHOLE_TOKEN_HASH_BYTES + 1];
    pinhole_token_hash(line, n, h);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    printf("%s\n", hex);
    return 0;
}

static int check(int argc, char **argv)
{
    const char *db = "pinhole.db";
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--db") == 0 || strcmp(argv[i], "--database") == 0) && i + 1 < argc)
            db = argv[++i];
        else {
            usage(stderr);
            return 2;
        }
    }
    pinhole_store *s;
    const pinhole_store_options ro = {.readonly = 1}; /* safe beside a running server */
    /* a path must exist (opening read-only creates nothing); a URL is the backend's to check */
    if ((!strstr(db, "://") && access(db, R_OK) != 0) ||
        pinhole_store_open(&s, db, &ro) != PINHOLE_OK) {
        fprintf(stderr, "pinhole-server check: cannot open %s as a Pinhole database\n", db);
        return 1;
    }
    uint64_t problems = 0;
    char msg[512];
    int rc = pinhole_store_check(s, &problems, msg, sizeof msg);
    pinhole_store_close(s);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "pinhole-server check: %s\n", pinhole_strerror(rc));
        return 1;
    }
    if (problems) {
        printf("%llu problems; first: %s\n", (unsigned long long)problems, msg);
        return 1;
    }
    printf("ok: integrity_check ok, counts equal a recount of the stored reports\n");
    return 0;
}

/* Tokens from the environment, or a fresh random one for a role left without any. */
static void tokens(pinhole_server_options *o)
{
    struct {
        const char *env, *role;
        uint8_t *hash;
        int *have;
    } t[] = {{"PINHOLE_ADMIN_TOKEN", "admin", o->admin_hash, &o->have_admin},
             {"PINHOLE_ANALYST_TOKEN", "analyst", o->analyst_hash, &o->have_analyst},
             {"PINHOLE_UPLOADER_TOKEN", NULL, o->uploader_hash, &o->have_uploader}};
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(t[i].env);
        if (v && *v && !*t[i].have) {
            pinhole_token_hash(v, strlen(v), t[i].hash);
            *t[i].have = 1;
        }
        if (!*t[i].have && t[i].role) {
            uint8_t raw[24];
            char tok[2 * sizeof raw + 1];
            randombytes_buf(raw, sizeof raw);
            sodium_bin2hex(tok, sizeof tok, raw, sizeof raw);
            pinhole_token_hash(tok, strlen(tok), t[i].hash);
            *t[i].have = 1;
            fprintf(stderr, "pinhole-server: no %s token configured; this run's %s token: %s\n",
                    t[i].role, t[i].role, tok);
        }
    }
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "pinhole-server: libsodium failed to initialise\n");
        return 1;
    }
    if (argc >= 2 && strcmp(argv[1], "hash-token") == 0)
        return hash_token();
    if (argc >= 2 && strcmp(argv[1], "check") == 0)
        return check(argc - 1, argv + 1);
    pinhole_daemon_config cfg;
    pinhole_daemon_config_default(&cfg);
    char err[512];
    for (int i = 1; i < argc; i++) { /* the config file first, so flags override it */
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc &&
            pinhole_daemon_config_file(&cfg, argv[i + 1], err, sizeof err) != PINHOLE_OK) {
            fprintf(stderr, "pinhole-server: %s\n", err);
            return 2;
        }
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "pinhole-server: expected --KEY VALUE, got '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
        if (strcmp(argv[i], "--config") == 0) {
            i++;
            continue;
        }
        if (pinhole_daemon_config_set(&cfg, argv[i] + 2, argv[i + 1], err, sizeof err) !=
            PINHOLE_OK) {
            fprintf(stderr, "pinhole-server: %s\n", err);
            return 2;
        }
        i++;
    }
    tokens(&cfg.server);

    /* Signals go to sigwait() below only: block them before any thread starts. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    pinhole_server *srv;
    int rc = pinhole_server_start(&cfg.server, &srv);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "pinhole-server: cannot start on %s:%u with database %s: %s\n",
                cfg.server.listen, cfg.server.port, cfg.server.db_path,
                rc == PINHOLE_EUNSUPPORTED ? "the HTTP daemon did not start (address in use?)"
                                           : pinhole_strerror(rc));
        return 1;
    }
    const unsigned port = pinhole_server_port(srv);
    if (cfg.port_file[0]) {
        char tmp[sizeof cfg.port_file + 8];
        snprintf(tmp, sizeof tmp, "%s.tmp", cfg.port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, cfg.port_file) != 0)
            fprintf(stderr, "pinhole-server: cannot write the port file %s\n", cfg.port_file);
    }
    fprintf(stderr, "pinhole-server: listening on http://%s:%u/, database %s (synchronous=%s)\n",
            cfg.server.listen, port, cfg.server.db_path,
            cfg.server.writer.store.synchronous_normal ? "NORMAL" : "FULL");
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "pinhole-server: %s: stopping (draining requests, committing the queue)\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
    pinhole_server_stop(srv, cfg.shutdown_grace);
    fprintf(stderr, "pinhole-server: stopped cleanly\n");
    return 0;
}
