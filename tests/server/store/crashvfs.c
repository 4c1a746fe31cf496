/* Power-loss simulation for SQLite: a VFS shim that undoes unsynced writes (crashvfs.h). */
#include "tests/server/store/crashvfs.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What one unsynced write or truncation overwrote: the bytes of [off, off + len) at that moment
 * (only the part below the file's synced size matters: anything beyond is cut off at the crash). */
typedef struct undo {
    sqlite3_int64 off;
    int len;
    unsigned char *data;
    struct undo *next; /* older entry */
} undo;

/* A file as the disk holds it: its size at the last fsync, and the undo log since. */
typedef struct tracked {
    char *name;
    sqlite3_int64 synced;
    undo *log;    /* newest first */
    long pending; /* writes and truncations since the last fsync */
    struct tracked *next;
} tracked;

typedef struct cfile {
    sqlite3_file base;
    tracked *t;   /* NULL for untracked (temporary) files */
    unsigned gen; /* power cycle the handle was opened in */
    sqlite3_file *real;
} cfile;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static sqlite3_vfs *real_vfs;
static sqlite3_vfs crash_vfs;
static tracked *files;
static int crashed;
static unsigned gen;
static int fake_sync;  /* xSync succeeds without syncing: a build without fsync */
static long countdown; /* crash at the countdown-th write, truncation or sync (0: never) */
static long dropped_total;

static void crash_locked(void);

/* Count one write, truncation or sync; true when the power goes now (caller holds mu). */
static int power_fails(void)
{
    if (countdown > 0 && --countdown == 0)
        crash_locked();
    return crashed;
}

static tracked *find(const char *name, int create)
{
    for (tracked *t = files; t; t = t->next)
        if (strcmp(t->name, name) == 0)
            return t;
    if (!create)
        return NULL;
    tracked *t = calloc(1, sizeof *t);
    if (!t || !(t->name = strdup(name))) {
        free(t);
        return NULL;
    }
    t->next = files;
    files = t;
    return t;
}

static void free_log(tracked *t)
{
    while (t->log) {
        undo *u = t->log;
        t->log = u->next;
        free(u->data);
        free(u);
    }
}

/* Remember the synced bytes of [off, off + len) before they are overwritten (caller holds mu). */
static int save(cfile *f, sqlite3_int64 off, sqlite3_int64 len)
{
    if (off >= f->t->synced)
        return SQLITE_OK;
    if (off + len > f->t->synced)
        len = f->t->synced - off;
    undo *u = malloc(sizeof *u);
    if (!u || !(u->data = malloc((size_t)len))) {
        free(u);
        return SQLITE_NOMEM;
    }
    const int rc = f->real->pMethods->xRead(f->real, u->data, (int)len, off);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) { /* a short read fills with zeros */
        free(u->data);
        free(u);
        return rc;
    }
    u->off = off;
    u->len = (int)len;
    u->next = f->t->log;
    f->t->log = u;
    return SQLITE_OK;
}

static int dead(const cfile *f)
{
    return crashed || f->gen != gen;
}

/* The same before a write, truncation or sync, which may be the moment the power goes. */
static int dies(const cfile *f)
{
    return f->gen != gen || power_fails();
}

static int x_close(sqlite3_file *p)
{
    cfile *f = (cfile *)p;
    return f->real->pMethods->xClose(f->real);
}

static int x_read(sqlite3_file *p, void *buf, int amt, sqlite3_int64 off)
{
    cfile *f = (cfile *)p;
    pthread_mutex_lock(&mu);
    const int rc = dead(f) ? SQLITE_IOERR_READ : f->real->pMethods->xRead(f->real, buf, amt, off);
    pthread_mutex_unlock(&mu);
    return rc;
}

static int x_write(sqlite3_file *p, const void *buf, int amt, sqlite3_int64 off)
{
    cfile *f = (cfile *)p;
    pthread_mutex_lock(&mu);
    int rc = dies(f) ? SQLITE_IOERR_WRITE : f->t ? save(f, off, amt) : SQLITE_OK;
    if (rc == SQLITE_OK)
        rc = f->real->pMethods->xWrite(f->real, buf, amt, off);
    if (rc == SQLITE_OK && f->t)
        f->t->pending++;
    pthread_mutex_unlock(&mu);
    return rc;
}

static int x_truncate(sqlite3_file *p, sqlite3_int64 size)
{
    cfile *f = (cfile *)p;
    pthread_mutex_lock(&mu);
    int rc = dies(f) ? SQLITE_IOERR_TRUNCATE : SQLITE_OK;
    sqlite3_int64 cur = 0;
    if (rc == SQLITE_OK && f->t &&
        (rc = f->real->pMethods->xFileSize(f->real, &cur)) == SQLITE_OK && size < cur)
        rc = save(f, size, cur - size);
    if (rc == SQLITE_OK)
        rc = f->real->pMethods->xTruncate(f->real, size);
    if (rc == SQLITE_OK && f->t)
        f->t->pending++;
    pthread_mutex_unlock(&mu);
    return rc;
}

static int x_sync(sqlite3_file *p, int flags)
{
    cfile *f = (cfile *)p;
    pthread_mutex_lock(&mu);
    int rc = dies(f)     ? SQLITE_IOERR_FSYNC
             : fake_sync ? SQLITE_OK
                         : f->real->pMethods->xSync(f->real, flags);
    sqlite3_int64 size;
    if (rc == SQLITE_OK && !fake_sync && f->t &&
        f->real->pMethods->xFileSize(f->real, &size) == SQLITE_OK) {
        free_log(f->t); /* everything written so far is on disk now */
        f->t->synced = size;
        f->t->pending = 0;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static int x_file_size(sqlite3_file *p, sqlite3_int64 *size)
{
    cfile *f = (cfile *)p;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int x_lock(sqlite3_file *p, int l)
{
    cfile *f = (cfile *)p;
    return f->real->pMethods->xLock(f->real, l);
}

static int x_unlock(sqlite3_file *p, int l)
{
    cfile *f = (cfile *)p;
    return f->real->pMethods->xUnlock(f->real, l);
}

static int x_check_reserved(sqlite3_file *p, int *out)
{
    cfile *f = (cfile *)p;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int x_file_control(sqlite3_file *p, int op, void *arg)
{
    cfile *f = (cfile *)p;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int x_sector_size(sqlite3_file *p)
{
    cfile *f = (cfile *)p;
    return f->real->pMethods->xSectorSize(f->real);
}

static int x_device(sqlite3_file *p)
{
    cfile *f = (cfile *)p;
    /* promise nothing that would let SQLite skip a sync */
    return f->real->pMethods->xDeviceCharacteristics(f->real) &
           ~(SQLITE_IOCAP_SEQUENTIAL | SQLITE_IOCAP_SAFE_APPEND | SQLITE_IOCAP_ATOMIC |
             SQLITE_IOCAP_BATCH_ATOMIC);
}

static int x_shm_map(sqlite3_file *p, int page, int size, int extend, void volatile **out)
{
    cfile *f = (cfile *)p;
    return f->real->pMethods->xShmMap(f->real, page, size, extend, out);
}

static int x_shm_lock(sqlite3_file *p, int offset, int n, int flags)
{
    cfile *f = (cfile *)p;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void x_shm_barrier(sqlite3_file *p)
{
    cfile *f = (cfile *)p;
    f->real->pMethods->xShmBarrier(f->real);
}

static int x_shm_unmap(sqlite3_file *p, int del)
{
    cfile *f = (cfile *)p;
    return f->real->pMethods->xShmUnmap(f->real, del);
}

/* Version 2: shared memory for WAL, no memory-mapped reads (every read goes through x_read). */
static const sqlite3_io_methods methods = {
    2,           x_close,   x_read,     x_write,          x_truncate,     x_sync,
    x_file_size, x_lock,    x_unlock,   x_check_reserved, x_file_control, x_sector_size,
    x_device,    x_shm_map, x_shm_lock, x_shm_barrier,    x_shm_unmap,    NULL,
    NULL};

static int x_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *p, int flags, int *out)
{
    (void)vfs;
    cfile *f = (cfile *)p;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(f + 1);
    int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out);
    if (rc != SQLITE_OK)
        return rc;
    pthread_mutex_lock(&mu);
    f->gen = gen;
    if (name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL))) {
        tracked *t = find(name, 0);
        sqlite3_int64 size = 0;
        if (!t && (t = find(name, 1)) != NULL &&
            f->real->pMethods->xFileSize(f->real, &size) == SQLITE_OK)
            t->synced = size; /* what existed before is on disk */
        f->t = t;
        if (!t)
            rc = SQLITE_NOMEM;
    }
    pthread_mutex_unlock(&mu);
    if (rc != SQLITE_OK) {
        f->real->pMethods->xClose(f->real);
        return rc;
    }
    p->pMethods = &methods;
    return SQLITE_OK;
}

static int x_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    pthread_mutex_lock(&mu);
    int rc = crashed ? SQLITE_IOERR_DELETE : real_vfs->xDelete(real_vfs, name, sync_dir);
    tracked *t;
    if (rc == SQLITE_OK && (t = find(name, 0)) != NULL) {
        free_log(t);
        t->synced = 0;
        t->pending = 0;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

int crashvfs_install(void)
{
    if (!real_vfs) {
        sqlite3_initialize();
        if (!(real_vfs = sqlite3_vfs_find(NULL)))
            return -1;
        crash_vfs = *real_vfs; /* xAccess, xFullPathname, randomness, time: the real ones */
        crash_vfs.pNext = NULL;
        crash_vfs.zName = "crashvfs";
        crash_vfs.szOsFile = (int)sizeof(cfile) + real_vfs->szOsFile;
        crash_vfs.xOpen = x_open;
        crash_vfs.xDelete = x_delete;
        if (sqlite3_vfs_register(&crash_vfs, 1) != SQLITE_OK)
            return -1;
    }
    crashvfs_reset();
    return 0;
}

long crashvfs_crash(void)
{
    pthread_mutex_lock(&mu);
    if (!crashed)
        crash_locked();
    const long n = dropped_total;
    pthread_mutex_unlock(&mu);
    return n;
}

void crashvfs_fake_sync(int on)
{
    pthread_mutex_lock(&mu);
    fake_sync = on;
    pthread_mutex_unlock(&mu);
}

void crashvfs_crash_at(long n)
{
    pthread_mutex_lock(&mu);
    countdown = n;
    pthread_mutex_unlock(&mu);
}

int crashvfs_crashed(long *dropped)
{
    pthread_mutex_lock(&mu);
    const int c = crashed;
    if (dropped)
        *dropped = dropped_total;
    pthread_mutex_unlock(&mu);
    return c;
}

static void crash_locked(void)
{
    long dropped = 0;
    crashed = 1;
    countdown = 0;
    for (tracked *t = files; t; t = t->next) {
        dropped += t->pending;
        t->pending = 0;
        const int fd = open(t->name, O_WRONLY);
        if (fd < 0)
            continue;
        for (undo *u = t->log; u; u = u->next) /* newest first */
            if (pwrite(fd, u->data, (size_t)u->len, (off_t)u->off) != (ssize_t)u->len)
                abort(); /* the simulation itself failed: no result would mean anything */
        if (ftruncate(fd, (off_t)t->synced) != 0)
            abort();
        close(fd);
        free_log(t);
    }
    dropped_total = dropped;
}

void crashvfs_reset(void)
{
    pthread_mutex_lock(&mu);
    while (files) {
        tracked *t = files;
        files = t->next;
        free_log(t);
        free(t->name);
        free(t);
    }
    crashed = 0;
    fake_sync = 0;
    countdown = 0;
    dropped_total = 0;
    gen++;
    pthread_mutex_unlock(&mu);
}
