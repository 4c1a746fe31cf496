/* pinhole-server settings from flags and config files, validated key by key. */
#include "server/daemon/config.h"
#include "common/error.h"
#include "server/log/log.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pinhole_daemon_config_default(pinhole_daemon_config *c)
{
    memset(c, 0, sizeof *c);
    pinhole_server_options_default(&c->server);
    c->shutdown_grace = 10;
    c->log_level = PINHOLE_LOG_INFO;
}

static int parse_uint(const char *s, unsigned long long lo, unsigned long long hi,
                      unsigned long long *out)
{
    if (!isdigit((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

/* Read a token from the first line of a file and store its hash. */
static int token_file(const char *path, uint8_t hash[PINHOLE_TOKEN_HASH_BYTES], int *have)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return PINHOLE_EIO;
    char line[300];
    const int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!ok)
        return PINHOLE_EIO;
    size_t n = strcspn(line, "\r\n");
    line[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (line[i] <= ' ' || line[i] >= 127)
            return PINHOLE_EINVAL;
    if (n == 0 || n > 256)
        return PINHOLE_EINVAL;
    pinhole_token_hash(line, n, hash);
    sodium_memzero(line, sizeof line);
    *have = 1;
    return PINHOLE_OK;
}

int pinhole_daemon_config_set(pinhole_daemon_config *c, const char *key_in, const char *v,
                              char *err, size_t errlen)
{
    char key[64];
    size_t i = 0;
    for (; key_in[i] && i < sizeof key - 1; i++)
        key[i] = key_in[i] == '-' ? '_' : key_in[i];
    key[i] = '\0';
    pinhole_server_options *o = &c->server;
    unsigned long long x;
#define UINT_KEY(name, lo, hi, field)                                                              \
    if (strcmp(key, name) == 0) {                                                                  \
        if (parse_uint(v, lo, hi, &x) != 0)                                                        \
            goto bad;                                                                              \
        field = x;                                                                                 \
        return PINHOLE_OK;                                                                         \
    }
    UINT_KEY("port", 0, 65535, o->port)
    UINT_KEY("threads", 1, 256, o->threads)
    UINT_KEY("connection_limit", 1, 1000000, o->connection_limit)
    UINT_KEY("connection_timeout", 1, 86400, o->connection_timeout)
    UINT_KEY("connection_memory", 4096, 1u << 30, o->connection_memory)
    UINT_KEY("connections_per_address", 1, 1000000, o->connections_per_address)
    UINT_KEY("log_client_address", 0, 1, o->log_client_address)
    UINT_KEY("check_every_request", 0, 1, o->check_every_request)
    UINT_KEY("min_body_rate", 0, 1u << 30, o->min_body_rate)
    UINT_KEY("body_buffer_bytes", 1024, 1ull << 40, o->body_buffer_bytes)
    UINT_KEY("body_buffer_bytes_per_address", 1024, 1ull << 40, o->body_buffer_bytes_per_address)
    UINT_KEY("max_body_bytes", 64, 1ull << 32, o->max_body_bytes)
    UINT_KEY("max_admin_body_bytes", 1024, 1ull << 32, o->max_admin_body_bytes)
    UINT_KEY("max_batch_reports", 1, 10000000, o->max_batch_reports)
    UINT_KEY("retry_after", 1, 3600, o->retry_after)
    UINT_KEY("job_workers", 1, 64, o->job_workers)
    UINT_KEY("job_time_limit", 1, 604800, o->job_time_limit)
    UINT_KEY("cache_mib", 1, 1 << 20, o->writer.store.cache_mib)
    UINT_KEY("writer_queue_reports", 1, 1ull << 32, o->writer.max_queue_reports)
    UINT_KEY("writer_txn_reports", 1, 1ull << 32, o->writer.max_txn_reports)
    UINT_KEY("flush_reports", 0, 1ull << 32, o->writer.flush_reports)
    UINT_KEY("flush_ms", 0, 10000, o->writer.flush_ms)
    UINT_KEY("max_report_age", 0, UINT32_MAX, o->max_report_age)
    UINT_KEY("max_clock_skew", 0, UINT32_MAX, o->max_clock_skew)
#undef UINT_KEY
    if (strcmp(key, "listen") == 0) {
        if (strlen(v) >= sizeof o->listen)
            goto bad;
        strcpy(o->listen, v);
        return PINHOLE_OK;
    }
    if (strcmp(key, "database") == 0 || strcmp(key, "db") == 0) { /* a path or postgresql:// URL */
        if (strlen(v) == 0 || strlen(v) >= sizeof o->db_path)
            goto bad;
        strcpy(o->db_path, v);
        return PINHOLE_OK;
    }
    if (strcmp(key, "port_file") == 0) {
        if (strlen(v) >= sizeof c->port_file)
            goto bad;
        strcpy(c->port_file, v);
        return PINHOLE_OK;
    }
    if (strcmp(key, "log_file") == 0 || strcmp(key, "generated_tokens_file") == 0) {
        char *dst = key[0] == 'l' ? c->log_file : c->generated_tokens_file;
        if (strlen(v) >= sizeof c->log_file)
            goto bad;
        strcpy(dst, v);
        return PINHOLE_OK;
    }
    if (strcmp(key, "log_level") == 0) {
        const int l = pinhole_log_level_parse(v);
        if (l < 0)
            goto bad;
        c->log_level = l;
        return PINHOLE_OK;
    }
    if (strcmp(key, "synchronous") == 0) {
        if (strcmp(v, "full") == 0)
            o->writer.store.synchronous_normal = 0;
        else if (strcmp(v, "normal") == 0)
            o->writer.store.synchronous_normal = 1;
        else
            goto bad;
        return PINHOLE_OK;
    }
    if (strcmp(key, "checkpoint_interval") == 0 || strcmp(key, "shutdown_grace") == 0 ||
        strcmp(key, "head_timeout") == 0) {
        char *end;
        const double d = strtod(v, &end);
        if (end == v || *end != '\0' || !isfinite(d) || d <= 0 || d > 86400)
            goto bad;
        *(key[0] == 'c'   ? &o->writer.checkpoint_interval
          : key[0] == 'h' ? &o->head_timeout
                          : &c->shutdown_grace) = d;
        return PINHOLE_OK;
    }
    struct {
        const char *role;
        uint8_t *hash;
        int *have;
    } roles[] = {{"admin", o->admin_hash, &o->have_admin},
                 {"analyst", o->analyst_hash, &o->have_analyst},
                 {"uploader", o->uploader_hash, &o->have_uploader}};
    for (size_t r = 0; r < 3; r++) {
        const size_t n = strlen(roles[r].role);
        if (strncmp(key, roles[r].role, n) != 0)
            continue;
        if (strcmp(key + n, "_token_hash") == 0) {
            if (pinhole_token_hash_parse(v, roles[r].hash) != 0)
                goto bad;
            *roles[r].have = 1;
            c->token_path[r][0] = '\0';
            return PINHOLE_OK;
        }
        if (strcmp(key + n, "_token_file") == 0) {
            int rc = strlen(v) < sizeof c->token_path[r]
                         ? token_file(v, roles[r].hash, roles[r].have)
                         : PINHOLE_EINVAL;
            if (rc == PINHOLE_OK)
                strcpy(c->token_path[r], v);
            if (rc != PINHOLE_OK && errlen)
                snprintf(err, errlen,
                         "%s: cannot read a token (1 to 256 visible characters) from %s", key_in,
                         v);
            return rc;
        }
    }
    if (errlen)
        snprintf(err, errlen, "unknown setting '%s'", key_in);
    return PINHOLE_EINVAL;
bad:
    if (errlen)
        snprintf(err, errlen, "%s: bad value '%s'", key_in, v);
    return PINHOLE_EINVAL;
}

int pinhole_daemon_config_file(pinhole_daemon_config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errlen)
            snprintf(err, errlen, "cannot open %s", path);
        return PINHOLE_EIO;
    }
    const int rc = pinhole_daemon_config_stream(c, f, path, err, errlen);
    fclose(f);
    return rc;
}

int pinhole_daemon_config_stream(pinhole_daemon_config *c, FILE *f, const char *path, char *err,
                                 size_t errlen)
{
    char line[4200];
    unsigned lineno = 0;
    int rc = PINHOLE_OK;
    while (rc == PINHOLE_OK && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            if (errlen)
                snprintf(err, errlen, "%s:%u: line too long", path, lineno);
            rc = PINHOLE_EINVAL;
            break;
        }
        char *p = line + strspn(line, " \t");
        p[strcspn(p, "#\r\n")] = '\0';
        size_t n = strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            p[--n] = '\0';
        if (n == 0)
            continue;
        char *eq = strchr(p, '=');
        if (!eq) {
            if (errlen)
                snprintf(err, errlen, "%s:%u: expected key = value", path, lineno);
            rc = PINHOLE_EINVAL;
            break;
        }
        char *k = p, *v = eq + 1;
        *eq = '\0';
        size_t kn = strlen(k);
        while (kn && (k[kn - 1] == ' ' || k[kn - 1] == '\t'))
            k[--kn] = '\0';
        v += strspn(v, " \t");
        char why[256];
        rc = pinhole_daemon_config_set(c, k, v, why, sizeof why);
        if (rc != PINHOLE_OK && errlen)
            snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
    }
    return rc;
}
