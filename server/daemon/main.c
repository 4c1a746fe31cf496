/* pinhole-server: the aggregation daemon (run, hash-token, check). */
#include "common/error.h"
#include "server/daemon/config.h"
#include "server/http/httpd.h"
#include "server/log/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: pinhole-server [--config FILE] [--KEY VALUE ...]   run the server\n"
        "       pinhole-server hash-token < TOKEN                  print a token's hash\n"
        "       pinhole-server check [--database FILE|URL]         integrity check and recount\n"
        "       pinhole-server signing-key show|prepare|activate|retire [--database FILE]\n"
        "                                   rotate the config-signing key (docs/operations.md)\n"
        "       pinhole-server sealing-key show|prepare|activate|retire [--database FILE]\n"
        "                                   rotate the report-sealing key (docs/operations.md)\n"
        "Keys (defaults in docs/pinhole-server.conf): listen, port, threads, connection_limit,\n"
        "  connection_timeout, connection_memory, max_body_bytes, max_admin_body_bytes,\n"
        "  max_batch_reports, retry_after, job_workers, job_time_limit, database (an SQLite file,\n"
        "  or a postgresql:// URL; also db), synchronous, "
        "cache_mib, writer_queue_reports,\n"
        "  writer_txn_reports, checkpoint_interval, shutdown_grace, port_file, log_file,\n"
        "  log_level, generated_tokens_file, {admin,analyst,uploader}_token_{hash,file}.\n"
        "Tokens may also come from the environment (PINHOLE_ADMIN_TOKEN, PINHOLE_ANALYST_TOKEN,\n"
        "  PINHOLE_UPLOADER_TOKEN; prefer token files). Without an admin or analyst token a "
        "random\n"
        "  one is made for this run and written to generated_tokens_file (mode 0600).\n"
        "SIGHUP reopens log_file and reads the token files again; SIGTERM and SIGINT stop\n"
        "  the server.\n");
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
    /* safe beside a running server; writes nothing, so it also checks a database left with its
     * WAL on a full disk */
    const pinhole_store_options ro = {.readonly = 1, .write_nothing = 1};
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

/* `pinhole-server signing-key|sealing-key OP [--database FILE|URL]`: a key rotation step. */
static int rotate_key(int argc, char **argv, pinhole_key_family family)
{
    static const char *const ops[] = {"show", "prepare", "activate", "retire"};
    const char *db = "pinhole.db";
    int op = -1;
    for (int i = 0; argc > 1 && i < 4; i++)
        if (strcmp(argv[1], ops[i]) == 0)
            op = i;
    if (op < 0 || !(argc == 2 || (argc == 4 && (strcmp(argv[2], "--db") == 0 ||
                                                strcmp(argv[2], "--database") == 0)))) {
        usage(stderr);
        return 2;
    }
    if (argc == 4)
        db = argv[3];
    pinhole_store *s;
    if ((!strstr(db, "://") && access(db, W_OK) != 0) ||
        pinhole_store_open(&s, db, NULL) != PINHOLE_OK) {
        fprintf(stderr, "pinhole-server %s: cannot open %s as a Pinhole database\n", argv[0], db);
        return 1;
    }
    uint8_t pk[3][PINHOLE_KEY_PUBLICBYTES];
    int have[3];
    const int rc = pinhole_store_rotate_key(s, family, (pinhole_key_op)op, pk, have);
    pinhole_store_close(s);
    if (rc != PINHOLE_OK) {
        fprintf(stderr, "pinhole-server %s %s: %s\n", argv[0], ops[op],
                rc == PINHOLE_ENOTFOUND ? "no next key prepared (run prepare first)"
                : rc == PINHOLE_EPOLICY
                    ? "a previous key is still kept (run retire first, once its overlap is over)"
                    : pinhole_strerror(rc));
        return 1;
    }
    static const char *const role[3] = {"current", "next", "previous"};
    for (int i = 0; i < 3; i++) {
        char hex[2 * PINHOLE_KEY_PUBLICBYTES + 1];
        sodium_bin2hex(hex, sizeof hex, pk[i], sizeof pk[i]);
        printf("%-8s %s\n", role[i], have[i] ? hex : "-");
    }
    if (op >= 2 || (op == 1 && family == PINHOLE_KEY_SEALING)) /* a prepared sealing key opens */
        printf("restart the server (every replica) for the change to take effect\n");
    return 0;
}

/* Write the generated tokens made[i] (empty: none for that role) to path, mode 0600: to path.tmp,
 * fsynced, then renamed over path, so that a failed write leaves an earlier file as it was.
 * Returns 0, or -1 with errno set. */
static int write_tokens(const char *path, const char *const role[2], char made[2][64])
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    const int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    FILE *f = fchmod(fd, 0600) == 0 ? fdopen(fd, "w") : NULL;
    int ok = f != NULL;
    for (size_t i = 0; ok && i < 2; i++)
        if (made[i][0])
            ok = fprintf(f, "%s %s\n", role[i], made[i]) > 0;
    ok = ok && fflush(f) == 0 && fsync(fd) == 0;
    const int saved = errno;
    ok = (f ? fclose(f) == 0 : close(fd) == 0) && ok;
    if (ok && rename(tmp, path) == 0)
        return 0;
    const int err = ok ? errno : saved ? saved : EIO;
    unlink(tmp);
    errno = err;
    return -1;
}

/* Read the tokens a previous run wrote to path (lines "ROLE TOKEN") for the roles with need[i]
 * set, only from a regular file of this user that nobody else may read; each token found sets
 * hash[i] and clears need[i]. Returns how many were found. */
static int reuse_tokens(const char *path, const char *const role[2], int need[2], uint8_t *hash[2])
{
    const int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    if (fd < 0)
        return 0;
    FILE *f =
        fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_uid == geteuid() && !(sb.st_mode & 077)
            ? fdopen(fd, "r")
            : NULL;
    if (!f) {
        close(fd);
        return 0;
    }
    char line[256];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        char *sp = strchr(line, ' ');
        if (!sp)
            continue;
        *sp = '\0';
        char *tok = sp + 1;
        tok[strcspn(tok, "\r\n")] = '\0';
        for (size_t i = 0; i < 2; i++)
            if (need[i] && *tok && strcmp(line, role[i]) == 0) {
                pinhole_token_hash(tok, strlen(tok), hash[i]);
                need[i] = 0;
                found++;
            }
    }
    sodium_memzero(line, sizeof line);
    fclose(f);
    return found;
}

/* Tokens from the environment (wiped from this process's memory once hashed, so they no longer
 * show in /proc/PID/environ), or a fresh random one for a role left without any, written to a
 * 0600 file and never to the log. When that file cannot be written because the disk is full
 * (ENOSPC, EDQUOT), the server still starts (read-only, as it does on a full disk): a token that
 * an earlier run left in the file stays in force, and a role with none there has no token for
 * this run (its routes answer 401), never a token that nobody can read. Returns 0, or -1 when the
 * token file cannot be written for another reason. */
static int tokens(pinhole_daemon_config *cfg)
{
    pinhole_server_options *o = &cfg->server;
    struct {
        const char *env, *role;
        uint8_t *hash;
        int *have;
    } t[] = {{"PINHOLE_ADMIN_TOKEN", "admin", o->admin_hash, &o->have_admin},
             {"PINHOLE_ANALYST_TOKEN", "analyst", o->analyst_hash, &o->have_analyst},
             {"PINHOLE_UPLOADER_TOKEN", "uploader", o->uploader_hash, &o->have_uploader}};
    char made[2][64] = {"", ""};
    for (size_t i = 0; i < 3; i++) {
        char *v = getenv(t[i].env);
        if (v && *v) {
            if (!*t[i].have) {
                pinhole_token_hash(v, strlen(v), t[i].hash);
                *t[i].have = 1;
            }
            pinhole_log(PINHOLE_LOG_WARN, "token_from_environment", "svariable", t[i].env, "snote",
                        "other processes of this user may read it; prefer a token file", NULL);
            sodium_memzero(v, strlen(v)); /* the process's copy, which /proc/PID/environ shows */
        }
        if (!*t[i].have && i < 2) {
            uint8_t raw[24];
            randombytes_buf(raw, sizeof raw);
            sodium_bin2hex(made[i], sizeof made[i], raw, sizeof raw);
            pinhole_token_hash(made[i], strlen(made[i]), t[i].hash);
            *t[i].have = 1;
        }
    }
    if (!made[0][0] && !made[1][0])
        return 0;
    char path[sizeof cfg->generated_tokens_file + 8];
    if (cfg->generated_tokens_file[0])
        snprintf(path, sizeof path, "%s", cfg->generated_tokens_file);
    else
        snprintf(path, sizeof path, "%s.tokens", o->db_path);
    const char *const role[2] = {t[0].role, t[1].role};
    const int rc = write_tokens(path, role, made);
    const int err = errno;
    int need[2] = {made[0][0] != 0, made[1][0] != 0};
    sodium_memzero(made, sizeof made);
    if (rc == 0) {
        pinhole_log(
            PINHOLE_LOG_WARN, "generated_tokens", "sfile", path, "snote",
            "no admin or analyst token configured: random ones for this run are in the file", NULL);
        return 0;
    }
    if (err != ENOSPC && err != EDQUOT) {
        pinhole_log(PINHOLE_LOG_ERROR, "generated_tokens", "sfile", path, "serror", strerror(err),
                    NULL);
        return -1;
    }
    uint8_t *hash[2] = {t[0].hash, t[1].hash};
    const int reused = reuse_tokens(path, role, need, hash);
    for (size_t i = 0; i < 2; i++)
        if (need[i]) { /* a token nobody can read would only look like access control */
            sodium_memzero(t[i].hash, PINHOLE_TOKEN_HASH_BYTES);
            *t[i].have = 0;
        }
    pinhole_log(need[0] || need[1] ? PINHOLE_LOG_ERROR : PINHOLE_LOG_WARN, "generated_tokens",
                "sfile", path, "serror", strerror(err), "ureused", (unsigned long long)reused,
                "sno_token",
                need[0] && need[1] ? "admin,analyst"
                : need[0]          ? "admin"
                : need[1]          ? "analyst"
                                   : NULL,
                "snote",
                need[0] || need[1]
                    ? "disk full: the generated tokens could not be written; a role listed in "
                      "no_token has no token this run and its routes answer 401: free space and "
                      "restart, or configure token files"
                    : "disk full: the new tokens could not be written; the ones in the file, "
                      "written by an earlier run, stay in force",
                NULL);
    return 0;
}

/* Warn about a secret-holding file that others than its owner may read. */
static void check_private(const char *path, const char *what)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && (sb.st_mode & 077)) {
        char mode[8];
        snprintf(mode, sizeof mode, "%03o", (unsigned)(sb.st_mode & 0777));
        pinhole_log(PINHOLE_LOG_WARN, "file_mode", "sfile", path, "swhat", what, "smode", mode,
                    "snote", "readable by others than its owner; chmod 600 it", NULL);
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
    if (argc >= 2 && strcmp(argv[1], "signing-key") == 0)
        return rotate_key(argc - 1, argv + 1, PINHOLE_KEY_SIGNING);
    if (argc >= 2 && strcmp(argv[1], "sealing-key") == 0)
        return rotate_key(argc - 1, argv + 1, PINHOLE_KEY_SEALING);
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
    pinhole_log_set_level((pinhole_log_level)cfg.log_level);
    if (pinhole_log_open(cfg.log_file) != PINHOLE_OK) {
        fprintf(stderr, "pinhole-server: cannot open the log file %s\n", cfg.log_file);
        return 2;
    }
    if (tokens(&cfg) != 0)
        return 2;

    /* Signals go to sigwait() below only: block them before any thread starts. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    pinhole_server *srv;
    int rc = pinhole_server_start(&cfg.server, &srv);
    if (rc != PINHOLE_OK) {
        pinhole_log(PINHOLE_LOG_ERROR, "start_failed", "slisten", cfg.server.listen, "uport",
                    (unsigned long long)cfg.server.port, "sdb", cfg.server.db_path, "serror",
                    rc == PINHOLE_EUNSUPPORTED ? "the HTTP daemon did not start (address in use?)"
                                               : pinhole_strerror(rc),
                    NULL);
        pinhole_log_close();
        return 1;
    }
    const unsigned port = pinhole_server_port(srv);
    if (cfg.port_file[0]) {
        char tmp[sizeof cfg.port_file + 8];
        snprintf(tmp, sizeof tmp, "%s.tmp", cfg.port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, cfg.port_file) != 0)
            pinhole_log(PINHOLE_LOG_ERROR, "port_file", "sfile", cfg.port_file, NULL);
    }
    char side[sizeof cfg.server.db_path + 8];
    check_private(cfg.server.db_path, "database (holds the server's secret keys)");
    for (int i = 0; i < 2; i++) {
        snprintf(side, sizeof side, "%s%s", cfg.server.db_path, i ? "-shm" : "-wal");
        check_private(side, "database");
    }
    for (int i = 0; i < 3; i++)
        if (cfg.token_path[i][0])
            check_private(cfg.token_path[i], "token file");
    pinhole_log(PINHOLE_LOG_INFO, "listening", "slisten", cfg.server.listen, "uport",
                (unsigned long long)port, "sdb", cfg.server.db_path, "ssynchronous",
                cfg.server.writer.store.synchronous_normal ? "normal" : "full", NULL);
    int sig = 0;
    for (;;) {
        sigwait(&set, &sig);
        if (sig != SIGHUP)
            break;
        /* log rotation: reopen the file; token rotation: read the token files again (all or
         * nothing: when one cannot be read, every old token stays) */
        const int ok = pinhole_log_reopen() == PINHOLE_OK;
        static pinhole_daemon_config fresh;
        static const char *const key[3] = {"admin_token_file", "analyst_token_file",
                                           "uploader_token_file"};
        fresh = cfg;
        int files = 0, tokens_ok = 1;
        for (int r = 0; r < 3 && tokens_ok; r++)
            if (cfg.token_path[r][0]) {
                files++;
                tokens_ok = pinhole_daemon_config_set(&fresh, key[r], cfg.token_path[r], err,
                                                      sizeof err) == PINHOLE_OK;
            }
        if (tokens_ok && files)
            pinhole_server_set_tokens(srv, &fresh.server);
        sodium_memzero(&fresh.server, sizeof fresh.server);
        pinhole_log(ok && tokens_ok ? PINHOLE_LOG_INFO : PINHOLE_LOG_ERROR, "sighup",
                    "blog_reopened", ok, "utoken_files_reloaded",
                    (unsigned long long)(tokens_ok ? files : 0), "serror", tokens_ok ? NULL : err,
                    NULL);
    }
    pinhole_log(PINHOLE_LOG_INFO, "stopping", "ssignal", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                "snote", "draining requests, committing the queue", NULL);
    pinhole_server_stop(srv, cfg.shutdown_grace);
    /* The final checkpoint folds the WAL into the database file and truncates it; when it could
     * not (disk full, I/O error), the file alone is not a complete copy: say so. */
    struct stat sb;
    snprintf(side, sizeof side, "%s-wal", cfg.server.db_path);
    if (stat(side, &sb) == 0 && sb.st_size > 0)
        pinhole_log(PINHOLE_LOG_WARN, "stopped", "bclean", 0, "swal", side, "uwal_bytes",
                    (unsigned long long)sb.st_size, "snote",
                    "the WAL was not checkpointed (disk full?): the database file alone is not a "
                    "complete copy; back up with sqlite3's .backup, or copy or move the database "
                    "together with its -wal file",
                    NULL);
    else
        pinhole_log(PINHOLE_LOG_INFO, "stopped", "bclean", 1, NULL);
    pinhole_log_close();
    return 0;
}
