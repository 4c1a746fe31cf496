/* pinhole-server settings: the documented example config holds exactly the defaults; flags and
 * files are validated key by key; token files keep only the hash. */
#include "common/error.h"
#include "server/daemon/config.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
}

TestSuite(daemon_config, .init = setup);

static void same(const pinhole_daemon_config *a, const pinhole_daemon_config *b)
{
    const pinhole_server_options *x = &a->server, *y = &b->server;
    cr_assert_str_eq(x->listen, y->listen);
    cr_assert_eq(x->port, y->port);
    cr_assert_eq(x->threads, y->threads);
    cr_assert_eq(x->connection_limit, y->connection_limit);
    cr_assert_eq(x->connection_timeout, y->connection_timeout);
    cr_assert_eq(x->connection_memory, y->connection_memory);
    cr_assert(x->head_timeout == y->head_timeout);
    cr_assert_eq(x->connections_per_address, y->connections_per_address);
    cr_assert_eq(x->log_client_address, y->log_client_address);
    cr_assert_eq(x->check_every_request, y->check_every_request);
    cr_assert_eq(x->min_body_rate, y->min_body_rate);
    cr_assert_eq(x->body_buffer_bytes, y->body_buffer_bytes);
    cr_assert_eq(x->body_buffer_bytes_per_address, y->body_buffer_bytes_per_address);
    cr_assert_eq(x->max_body_bytes, y->max_body_bytes);
    cr_assert_eq(x->max_admin_body_bytes, y->max_admin_body_bytes);
    cr_assert_eq(x->max_batch_reports, y->max_batch_reports);
    cr_assert_eq(x->retry_after, y->retry_after);
    cr_assert_eq(x->job_workers, y->job_workers);
    cr_assert_eq(x->job_time_limit, y->job_time_limit);
    cr_assert_str_eq(x->db_path, y->db_path);
    cr_assert_eq(x->writer.max_queue_reports, y->writer.max_queue_reports);
    cr_assert_eq(x->writer.max_txn_reports, y->writer.max_txn_reports);
    cr_assert(x->writer.checkpoint_interval == y->writer.checkpoint_interval);
    cr_assert_eq(x->writer.store.synchronous_normal, y->writer.store.synchronous_normal);
    cr_assert_eq(x->writer.store.cache_mib ? x->writer.store.cache_mib : 64,
                 y->writer.store.cache_mib ? y->writer.store.cache_mib : 64);
    cr_assert_eq(x->have_admin + x->have_analyst + x->have_uploader,
                 y->have_admin + y->have_analyst + y->have_uploader);
    cr_assert_str_eq(a->port_file, b->port_file);
    cr_assert(a->shutdown_grace == b->shutdown_grace);
    cr_assert_str_eq(a->log_file, b->log_file);
    cr_assert_eq(a->log_level, b->log_level);
    cr_assert_str_eq(a->generated_tokens_file, b->generated_tokens_file);
}

Test(daemon_config, example_file_states_every_default)
{
    pinhole_daemon_config def, file;
    pinhole_daemon_config_default(&def);
    pinhole_daemon_config_default(&file);
    char err[256] = "";
    cr_assert_eq(pinhole_daemon_config_file(&file, PINHOLE_SOURCE_DIR "/docs/pinhole-server.conf",
                                            err, sizeof err),
                 PINHOLE_OK, "%s", err);
    same(&file, &def);
    /* and every key of the example file is one the parser knows (a changed default would show) */
    pinhole_daemon_config changed = def;
    cr_assert_eq(pinhole_daemon_config_set(&changed, "connection-timeout", "5", err, sizeof err),
                 PINHOLE_OK);
    cr_assert_eq(changed.server.connection_timeout, 5);
}

Test(daemon_config, bad_values_are_refused)
{
    pinhole_daemon_config c;
    pinhole_daemon_config_default(&c);
    char err[256];
    const char *bad[][2] = {{"port", "70000"},
                            {"port", "-1"},
                            {"threads", "0"},
                            {"synchronous", "off"},
                            {"checkpoint_interval", "0"},
                            {"admin_token_hash", "abc"},
                            {"colour", "blue"},
                            {"log_level", "verbose"},
                            {"max_body_bytes", "12x"},
                            {"connection_timeout", ""}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(pinhole_daemon_config_set(&c, bad[i][0], bad[i][1], err, sizeof err),
                     PINHOLE_EINVAL, "%s = %s", bad[i][0], bad[i][1]);
    cr_assert_eq(
        pinhole_daemon_config_set(&c, "admin_token_file", "/nonexistent/x", err, sizeof err),
        PINHOLE_EIO);
    char path[] = "/tmp/pinhole-conf-XXXXXX";
    const int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("port = 9000\nthis line has no equals sign\n", f);
    fclose(f);
    cr_assert_eq(pinhole_daemon_config_file(&c, path, err, sizeof err), PINHOLE_EINVAL);
    cr_assert(strstr(err, ":2:") != NULL, "%s", err);
    unlink(path);
}

Test(daemon_config, token_file_keeps_the_hash)
{
    char path[] = "/tmp/pinhole-token-XXXXXX";
    const int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "s3cret-token\n", 13), 13);
    close(fd);
    pinhole_daemon_config c;
    pinhole_daemon_config_default(&c);
    char err[256];
    cr_assert_eq(pinhole_daemon_config_set(&c, "analyst-token-file", path, err, sizeof err),
                 PINHOLE_OK);
    unlink(path);
    uint8_t h[PINHOLE_TOKEN_HASH_BYTES];
    pinhole_token_hash("s3cret-token", 12, h);
    cr_assert_eq(c.server.have_analyst, 1);
    cr_assert_eq(memcmp(c.server.analyst_hash, h, sizeof h), 0);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    pinhole_daemon_config d;
    pinhole_daemon_config_default(&d);
    cr_assert_eq(pinhole_daemon_config_set(&d, "uploader_token_hash", hex, err, sizeof err),
                 PINHOLE_OK);
    cr_assert_eq(memcmp(d.server.uploader_hash, h, sizeof h), 0);
    cr_assert_eq(d.server.have_uploader, 1);
}
