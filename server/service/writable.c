/* Read-only service while the store's disk is full: entering that state at open, and the probe
 * thread that opens the store for writing again once space was freed (the writer, a writable
 * admin handle, the job runner's workers), after which readers reopen as normal handles. */
#include "common/clock.h"
#include "common/error.h"
#include "server/log/log.h"
#include "server/service/internal.h"

#include <errno.h>
#include <time.h>

/* Seconds between two attempts to open the store for writing, by default. */
#define PROBE_INTERVAL_S 5.0

static double probe_interval(const pinhole_service *s)
{
    return s->opt.writable_probe_interval > 0 ? s->opt.writable_probe_interval : PROBE_INTERVAL_S;
}

int pinhole_service_readonly(pinhole_service *s)
{
    return atomic_load(&s->readonly);
}

void pinhole_service_go_readonly(pinhole_service *s)
{
    if (s->writer_started) {
        pinhole_writer_stop(&s->writer);
        pinhole_writer_release(&s->writer);
        s->writer_started = 0;
    }
    atomic_store(&s->readonly, 1);
}

/* One attempt to make the service writable; PINHOLE_OK once it is. SQLite shares one
 * shared-memory WAL index per file within a process, and a write_nothing handle opened it
 * read-only: a handle opened for writing beside it could not write. So every handle of this
 * process is closed first (the readers once idle, the admin handle, the job runner's), and all wait
 * meanwhile; when the attempt fails they are opened read-only again. */
static int try_writable(pinhole_service *s)
{
    pthread_mutex_lock(&s->pool_mu);
    for (;;) {
        unsigned busy = 0;
        for (unsigned i = 0; i < s->nreaders; i++)
            busy += (unsigned)s->readers[i].busy;
        if (!busy)
            break;
        pthread_cond_wait(&s->pool_cv, &s->pool_mu);
    }
    for (unsigned i = 0; i < s->nreaders; i++) { /* reopened on their next use */
        pinhole_store_close(s->readers[i].store);
        s->readers[i].store = NULL;
    }
    pthread_mutex_lock(&s->admin_mu);
    pinhole_store_close(s->admin);
    s->admin = NULL;
    pinhole_jobs_pause(s->jobs);
    int rc = pinhole_writer_start(&s->writer, s->store_url, &s->opt.writer);
    const int writer = rc == PINHOLE_OK;
    if (rc == PINHOLE_OK)
        rc = pinhole_store_open(&s->admin, s->store_url, &s->opt.writer.store);
    if (rc == PINHOLE_OK)
        rc = pinhole_jobs_resume(s->jobs, 1);
    if (rc == PINHOLE_OK) {
        s->writer_started = 1;
        atomic_store(&s->readonly, 0); /* after the writer is up: submitters may use it now */
    } else {
        /* back to read-only: the writable handles go first (nothing submitted to the writer: it
         * is only used once readonly is cleared) */
        pinhole_store_close(s->admin);
        s->admin = NULL;
        if (writer) {
            pinhole_writer_stop(&s->writer);
            pinhole_writer_release(&s->writer);
        }
        pinhole_store_options ro = s->opt.writer.store;
        ro.readonly = ro.write_nothing = 1;
        /* the admin handle must exist for the calls that take admin_mu: keep trying (it opened
         * read-only at start, so this fails only if the file went away) */
        for (int tries = 0; pinhole_store_open(&s->admin, s->store_url, &ro) != PINHOLE_OK;
             tries++) {
            if (tries == 0)
                pinhole_log(PINHOLE_LOG_ERROR, "store_read_only", "serror",
                            "the store cannot be opened even for reading", NULL);
            nanosleep(&(struct timespec){.tv_sec = 1}, NULL);
        }
        pinhole_jobs_resume(s->jobs, 0);
    }
    pthread_mutex_unlock(&s->admin_mu);
    pthread_mutex_unlock(&s->pool_mu);
    return rc;
}

static void *probe_main(void *arg)
{
    pinhole_service *s = arg;
    pthread_mutex_lock(&s->probe_mu);
    while (!s->probe_stop) {
        const struct timespec until = pinhole_clock_after(probe_interval(s));
        int w = 0;
        while (!s->probe_stop && w != ETIMEDOUT)
            w = pthread_cond_timedwait(&s->probe_cv, &s->probe_mu, &until);
        if (s->probe_stop)
            break;
        /* under probe_mu: pinhole_service_probe_stop() waits for an attempt under way */
        const int rc = try_writable(s);
        if (rc == PINHOLE_OK) {
            pinhole_log(PINHOLE_LOG_INFO, "store_writable", "snote",
                        "space was freed: writes are accepted again", NULL);
            break;
        }
        if (rc != PINHOLE_ENOSPACE)
            pinhole_log(PINHOLE_LOG_ERROR, "store_writable", "serror", pinhole_strerror(rc), NULL);
    }
    pthread_mutex_unlock(&s->probe_mu);
    return NULL;
}

int pinhole_service_probe_start(pinhole_service *s)
{
    if (!pinhole_service_readonly(s))
        return PINHOLE_OK;
    pinhole_log(PINHOLE_LOG_WARN, "store_read_only", "sreason",
                "disk full: the store cannot be opened for writing", "snote",
                "reads are served as last committed; writes (reports, collections, jobs) are "
                "refused with 503 until space is freed; no job runs",
                "fretry_seconds", probe_interval(s), NULL);
    if (pthread_create(&s->probe, NULL, probe_main, s) != 0)
        return PINHOLE_ENOMEM;
    s->probe_started = 1;
    return PINHOLE_OK;
}

void pinhole_service_probe_stop(pinhole_service *s)
{
    if (!s->probe_started)
        return;
    pthread_mutex_lock(&s->probe_mu);
    s->probe_stop = 1;
    pthread_cond_signal(&s->probe_cv);
    pthread_mutex_unlock(&s->probe_mu);
    pthread_join(s->probe, NULL);
    s->probe_started = 0;
}
