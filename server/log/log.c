/* JSON Lines logging to stderr or a reopenable file (server/log/log.h). */
#include "server/log/log.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int fd = -1; /* -1: stderr */
static char *path;
static _Atomic int min_level = PINHOLE_LOG_INFO;

static const char *const level_name[] = {"debug", "info", "warn", "error"};

static int open_file(const char *p)
{
    return open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

int pinhole_log_open(const char *p)
{
    if (!p || !*p) {
        pinhole_log_close();
        return PINHOLE_OK;
    }
    char *copy = strdup(p);
    const int nfd = copy ? open_file(p) : -1;
    if (nfd < 0) {
        free(copy);
        return PINHOLE_EIO;
    }
    pthread_mutex_lock(&mu);
    if (fd >= 0)
        close(fd);
    free(path);
    fd = nfd;
    path = copy;
    pthread_mutex_unlock(&mu);
    return PINHOLE_OK;
}

int pinhole_log_reopen(void)
{
    int rc = PINHOLE_OK;
    pthread_mutex_lock(&mu);
    if (path) {
        const int nfd = open_file(path);
        if (nfd < 0) {
            rc = PINHOLE_EIO;
        } else {
            close(fd);
            fd = nfd;
        }
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

void pinhole_log_close(void)
{
    pthread_mutex_lock(&mu);
    if (fd >= 0)
        close(fd);
    fd = -1;
    free(path);
    path = NULL;
    pthread_mutex_unlock(&mu);
}

void pinhole_log_set_level(pinhole_log_level level)
{
    min_level = (int)level;
}

int pinhole_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_name[i]) == 0)
            return i;
    return -1;
}

void pinhole_log(pinhole_log_level level, const char *event, ...)
{
    if ((int)level < min_level || (int)level < 0 || level > PINHOLE_LOG_ERROR)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    const size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);
    json_t *o = json_object();
    if (!o)
        return;
    json_object_set_new(o, "ts", json_string(when));
    json_object_set_new(o, "level", json_string(level_name[level]));
    json_object_set_new(o, "event", json_string(event));
    va_list ap;
    va_start(ap, event);
    for (const char *key; (key = va_arg(ap, const char *)) != NULL;) {
        json_t *v = NULL;
        switch (key[0]) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            /* not UTF-8 (bytes from a client): keep it readable and valid JSON */
            v = s ? json_string(s) : json_null();
            if (s && !v) {
                char safe[256];
                size_t i = 0;
                for (; s[i] && i < sizeof safe - 1; i++)
                    safe[i] = (s[i] & 0x80) ? '?' : s[i];
                safe[i] = '\0';
                v = json_string(safe);
            }
            break;
        }
        case 'i':
            v = json_integer(va_arg(ap, long long));
            break;
        case 'u': {
            const unsigned long long u = va_arg(ap, unsigned long long);
            v = u <= (unsigned long long)INT64_MAX ? json_integer((json_int_t)u)
                                                   : json_real((double)u);
            break;
        }
        case 'f':
            v = json_real(va_arg(ap, double));
            break;
        case 'b':
            v = json_boolean(va_arg(ap, int));
            break;
        default: /* a programming error: say so in the line rather than read a bad argument */
            json_object_set_new(o, "log_error", json_string(key));
            goto out;
        }
        json_object_set_new(o, key + 1, v ? v : json_null());
    }
out:
    va_end(ap);
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(o);
    if (!line)
        return;
    const size_t len = strlen(line);
    char *buf = realloc(line, len + 2);
    if (!buf) {
        free(line);
        return;
    }
    buf[len] = '\n';
    pthread_mutex_lock(&mu);
    const int out = fd >= 0 ? fd : STDERR_FILENO;
    for (size_t done = 0; done < len + 1;) {
        const ssize_t w = write(out, buf + done, len + 1 - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* the log is not worth blocking the server for */
        done += (size_t)w;
    }
    pthread_mutex_unlock(&mu);
    free(buf);
}
