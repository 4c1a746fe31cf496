/* `pinhole demo`: the whole system on real data. Starts pinhole-server on a temporary SQLite file,
 * creates a collection for the SUBTLEX-US words with their labels, simulates devices that encode
 * one word each with the client library and post them over HTTP in batches, queries the
 * histogram, prints the top words with estimate, interval and true count, checks the estimates
 * against the offline estimator on the same reports, and stops the server with SIGTERM. */
#include "common/clock.h"
#include "common/error.h"
#include "server/cli/cli.h"
#include "server/cli/cli_options.h"
#include "proto/batch.h"
#include "server/cli/upload.h"
#include "server/data/countfile.h"
#include "server/estimate/estimate.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

static void demo_usage(FILE *f)
{
    fprintf(f,
            "usage: pinhole demo [--users N] [--epsilon E] [--seed S] [--top N] [--batch N]\n"
            "                    [--connections N] [--counts FILE] [--seal] [--keep]\n"
            "  --users N        simulated devices (default 1000000)\n"
            "  --epsilon E      privacy parameter (default 4)\n"
            "  --seed S         seed of the simulation (default 2026)\n"
            "  --top N          rows of the printed table (default 20)\n"
            "  --batch N        reports per HTTP request (default 1000)\n"
            "  --connections N  parallel uploading connections (default 4)\n"
            "  --counts FILE    label<TAB>count file (default data/subtlex-us.tsv)\n"
            "  --seal           seal every report to the server's key (slower: one X25519 each)\n"
            "  --keep           keep the temporary directory (database, server log)\n"
            "The server binary is found next to this one, or at $PINHOLE_SERVER.\n"
            "pinhole demo --discover ...: discovery of unlisted words, end to end (--help)\n");
}

static void server_path(char *out, size_t len)
{
    const char *env = getenv("PINHOLE_SERVER");
    if (env) {
        snprintf(out, len, "%s", env);
        return;
    }
    char self[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        snprintf(out, len, "pinhole-server");
        return;
    }
    self[n] = '\0';
    snprintf(out, len, "%s/pinhole-server", dirname(self));
}

static void random_token(char out[49])
{
    uint8_t raw[24];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, 49, raw, sizeof raw);
}

/* Start the server; returns its pid or -1. The port is read from dir/port. */
/* Write a token to path, readable by the owner only. 0 on success. */
static int write_secret(const char *path, const char *token)
{
    const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    const size_t len = strlen(token);
    const int ok = write(fd, token, len) == (ssize_t)len;
    return close(fd) == 0 && ok ? 0 : -1;
}

static pid_t start_server(const char *bin, const char *dir, const char *admin, const char *analyst,
                          unsigned *port)
{
    char db[PATH_MAX], portfile[PATH_MAX], log[PATH_MAX], admin_file[PATH_MAX],
        analyst_file[PATH_MAX];
    snprintf(db, sizeof db, "%s/demo.db", dir);
    snprintf(portfile, sizeof portfile, "%s/port", dir);
    snprintf(log, sizeof log, "%s/server.log", dir);
    snprintf(admin_file, sizeof admin_file, "%s/admin.token", dir);
    snprintf(analyst_file, sizeof analyst_file, "%s/analyst.token", dir);
    /* the tokens reach the server in 0600 files (never in its environment or on its log) */
    if (write_secret(admin_file, admin) != 0 || write_secret(analyst_file, analyst) != 0)
        return -1;
    fflush(NULL);
    const pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (!freopen(log, "w", stderr))
            _exit(127);
        execl(bin, bin, "--db", db, "--listen", "127.0.0.1", "--port", "0", "--port-file", portfile,
              "--threads", "2", "--admin-token-file", admin_file, "--analyst-token-file",
              analyst_file, (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    for (int i = 0; i < 1500; i++) { /* up to 15 s for the port file */
        FILE *f = fopen(portfile, "r");
        if (f) {
            const int ok = fscanf(f, "%u", port) == 1;
            fclose(f);
            if (ok)
                return pid;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return -1;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static void show_log(const char *dir)
{
    char log[PATH_MAX], line[512];
    snprintf(log, sizeof log, "%s/server.log", dir);
    FILE *f = fopen(log, "r");
    unsigned long requests = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strstr(line, "\"event\":\"request\"")) /* one line per HTTP request: counted only */
            requests++;
        else if (!strstr(line, "token:")) /* never echo the tokens */
            printf("  | %s", line);
    }
    if (requests)
        printf("  | (and %lu request lines, one per HTTP request; --keep keeps server.log)\n",
               requests);
    if (f)
        fclose(f);
}

static void remove_dir(const char *dir)
{
    static const char *const names[] = {"demo.db",       "demo.db-wal",   "demo.db-shm",
                                        "port",          "server.log",    "admin.token",
                                        "analyst.token", "demo.db.tokens"};
    char p[PATH_MAX];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* The collection's name: "subtlex-us-words" for the shipped file, else the count file's base name
 * without its extension ("words" for data/words.tsv). */
static void collection_name(const char *counts, char *name, size_t len)
{
    if (strcmp(counts, cli_default_counts()) == 0) {
        snprintf(name, len, "subtlex-us-words");
        return;
    }
    const char *base = strrchr(counts, '/');
    base = base ? base + 1 : counts;
    const char *dot = strrchr(base, '.');
    const int n = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(name, len, "%.*s", n, *base ? base : "counts");
}

/* POST the collection: the count file's labels, epsilon, a minimum of 1000 reports. */
static long create_collection(cli_http *h, const pinhole_countfile *cf, const char *name,
                              double eps, uint64_t *id)
{
    json_t *labels = json_array();
    for (uint64_t v = 0; labels && v < cf->k; v++)
        json_array_append_new(labels, json_string(cf->labels[v]));
    json_t *spec =
        json_pack("{s:s, s:s, s:f, s:o, s:i, s:i}", "name", name, "mechanism", "pgr", "epsilon",
                  eps, "labels", labels, "min_reports", 1000, "time_precision", 86400);
    char *body = spec ? json_dumps(spec, JSON_COMPACT) : NULL;
    json_decref(spec);
    if (!body)
        return -1;
    cli_response r;
    const int rc =
        cli_http_request(h, "POST", "/v1/collections", "application/json", body, strlen(body), &r);
    free(body);
    if (rc != 0) {
        fprintf(stderr, "pinhole demo: %s\n", r.error);
        return -1;
    }
    json_t *o = json_loads(r.body, 0, NULL);
    if (r.status == 201 && o)
        *id = (uint64_t)json_integer_value(json_object_get(o, "id"));
    else
        fprintf(stderr, "pinhole demo: creating the collection: HTTP %ld %s\n", r.status, r.body);
    json_decref(o);
    free(r.body);
    return r.status;
}

/* Compare the server's estimates (JSON items) with the offline estimator on the same counts. */
static int compare_offline(const char *json, const pinhole_config *cfg, const uint64_t *counts,
                           uint64_t n, size_t *checked)
{
    double *est = malloc(cfg->k * sizeof *est), *var = malloc(cfg->k * sizeof *var);
    json_t *o = json_loads(json, 0, NULL);
    int same = est && var && o && pinhole_estimate(cfg, counts, n, est, var) == PINHOLE_OK &&
               (uint64_t)json_integer_value(json_object_get(o, "n")) == n;
    size_t i;
    json_t *it;
    *checked = 0;
    json_array_foreach(json_object_get(o, "items"), i, it)
    {
        const uint64_t v = (uint64_t)json_integer_value(json_object_get(it, "item"));
        if (!same || v >= cfg->k)
            break;
        same = json_number_value(json_object_get(it, "estimate")) == est[v] &&
               json_number_value(json_object_get(it, "stderr")) == sqrt(var[v]);
        ++*checked;
    }
    json_decref(o);
    free(est);
    free(var);
    return same;
}

int cli_demo(int argc, char **argv)
{
    uint64_t users = 1000000, seed = 2026, top = 20, batch = 1000, conns = 4;
    double eps = 4;
    const char *counts = cli_default_counts();
    int seal = 0, keep = 0;
    if (argc > 1 && strcmp(argv[1], "--discover") == 0)
        return cli_demo_discover(argc - 1, argv + 1);
    const cli_opt opts[] = {
        CLI_OPT("users", CLI_OPT_U64, &users, .min = 1000, .why = "the collection's minimum"),
        CLI_OPT("epsilon", CLI_OPT_EPSILON, &eps),
        CLI_OPT("seed", CLI_OPT_U64, &seed),
        CLI_OPT("top", CLI_OPT_U64, &top, .min = 1),
        CLI_OPT("batch", CLI_OPT_U64, &batch, .min = 1, .max = PINHOLE_BATCH_MAXCOUNT,
                .why = "reports per request"),
        CLI_OPT("connections", CLI_OPT_U64, &conns, .min = 1, .max = 64),
        CLI_OPT("counts", CLI_OPT_STRING, &counts),
        CLI_OPT("seal", CLI_OPT_FLAG, &seal),
        CLI_OPT("keep", CLI_OPT_FLAG, &keep),
        {0}};
    const cli_command cmd = {.name = "demo", .opts = opts, .usage = demo_usage};
    const int p = cli_parse(&cmd, argc, argv);
    if (p != 0)
        return p > 0 ? CLI_OK : CLI_USAGE;
    pinhole_countfile cf;
    uint64_t bad_line;
    const int crc = pinhole_countfile_read(counts, &cf, &bad_line);
    if (crc != PINHOLE_OK) {
        char why[320];
        pinhole_countfile_describe(crc, counts, bad_line, why, sizeof why);
        fprintf(stderr, "pinhole demo: %s\n", why);
        return CLI_FAIL;
    }
    char bin[PATH_MAX], dir[] = "/tmp/pinhole-demo.XXXXXX", admin[49], analyst[49];
    server_path(bin, sizeof bin);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "pinhole demo: cannot create a temporary directory\n");
        pinhole_countfile_free(&cf);
        return CLI_FAIL;
    }
    random_token(admin);
    random_token(analyst);
    int status = CLI_FAIL;
    uint64_t id = 0;
    cli_collection c = {0};
    cli_upload u = {0};
    cli_http h = {0};
    unsigned port = 0;
    const double t0 = pinhole_clock_mono();
    const pid_t pid = start_server(bin, dir, admin, analyst, &port);
    if (pid < 0) {
        fprintf(stderr, "pinhole demo: the server (%s) did not start; its log:\n", bin);
        show_log(dir);
        goto out;
    }
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
    printf("[%6.2f s] pinhole-server (pid %d) listening on %s, database %s/demo.db\n",
           pinhole_clock_mono() - t0, (int)pid, url, dir);
    if (cli_http_global_init() != 0 || cli_http_init(&h, url, admin) != 0)
        goto stop;
    char name[128];
    collection_name(counts, name, sizeof name);
    if (create_collection(&h, &cf, name, eps, &id) != 201)
        goto stop;
    printf("[%6.2f s] created collection %" PRIu64 " \"%s\": %" PRIu64
           " items with labels from %s, "
           "epsilon = %g, minimum 1000 reports\n",
           pinhole_clock_mono() - t0, id, name, cf.k, counts, eps);
    if (cli_fetch_collection(&h, id, NULL, &c) != 0)
        goto stop;
    printf("[%6.2f s] fetched and verified the signed config: PGR q = %u, t = %u, K = %" PRIu64
           ", %u bits per report, realized epsilon %.12g\n",
           pinhole_clock_mono() - t0, c.wire.params.q, c.wire.params.t, c.cfg.counts_len,
           c.cfg.payload_bits, c.cfg.epsilon_realized);
    u = (cli_upload){.url = url,
                     .token = NULL,
                     .collection = id,
                     .coll = &c,
                     .sample = &cf,
                     .users = users,
                     .seed = seed,
                     .batch = (unsigned)batch,
                     .connections = (unsigned)conns,
                     .retries = 8,
                     .seal = seal,
                     .time = (uint64_t)pinhole_clock_wall() / c.wire.time_precision};
    const int up = cli_upload_run(&u);
    printf("[%6.2f s] %" PRIu64 " devices encoded one word each and posted %s reports in batches "
           "of %" PRIu64 " over %" PRIu64 " connections: %.2f s, %.0f reports/s; %" PRIu64
           " accepted, %" PRIu64 " rejected, %" PRIu64 " batches failed\n",
           pinhole_clock_mono() - t0, users, seal ? "sealed" : "plain", batch, conns, u.seconds,
           (double)u.sent / u.seconds, u.accepted, u.rejected, u.failed_batches);
    if (up != 0)
        goto stop;
    cli_http_free(&h);
    if (cli_http_init(&h, url, analyst) != 0)
        goto stop;
    char path[128];
    snprintf(path, sizeof path, "/v1/collections/%" PRIu64 "/histogram?top=%" PRIu64, id, top);
    cli_response r;
    const double tq = pinhole_clock_mono();
    if (cli_http_request(&h, "GET", path, NULL, NULL, 0, &r) != 0 || r.status != 200) {
        fprintf(stderr, "pinhole demo: histogram query failed: %s\n", r.status ? r.body : r.error);
        free(r.body);
        goto stop;
    }
    printf("[%6.2f s] histogram query answered in %.3f s\n\n", pinhole_clock_mono() - t0,
           pinhole_clock_mono() - tq);
    cli_print_histogram(r.body, stdout, u.truth);
    size_t checked;
    const int same = compare_offline(r.body, &c.cfg, u.counts, u.accepted, &checked);
    free(r.body);
    printf("\nserver estimates %s the offline estimator's on the same reports (%zu items compared "
           "bit for bit)\n",
           same ? "equal" : "DIFFER FROM", checked);
    status = same ? CLI_OK : CLI_FAIL;
stop:
    cli_http_free(&h);
    if (pid > 0) {
        kill(pid, SIGTERM);
        int st = 0;
        waitpid(pid, &st, 0);
        const int clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
        printf("[%6.2f s] server stopped with SIGTERM: %s\n", pinhole_clock_mono() - t0,
               clean ? "clean exit" : "UNCLEAN EXIT");
        show_log(dir);
        if (!clean)
            status = CLI_FAIL;
    }
out:
    if (keep)
        printf("kept %s (demo.db, server.log)\n", dir);
    else
        remove_dir(dir);
    free(u.truth);
    free(u.counts);
    cli_collection_free(&c);
    pinhole_countfile_free(&cf);
    return status;
}
