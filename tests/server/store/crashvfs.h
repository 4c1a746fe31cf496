/* A test-only SQLite VFS that simulates power loss: it passes every operation to the default VFS
 * and remembers, per file, what each write not yet followed by an fsync of that file overwrote.
 * crashvfs_crash() puts every file back as it was at its last fsync (dropping every unsynced
 * write, including extensions and truncations) and fails every later read, write, sync and
 * delete, as a machine that lost power would; this is the "lose everything not fsynced" crash of
 * SQLite's own crash tests. Used by test_crash.c beside it. */
#ifndef PINHOLE_TESTS_CRASHVFS_H
#define PINHOLE_TESTS_CRASHVFS_H

/** Register the shim as SQLite's default VFS (once per process; later calls only reset it).
 * Returns 0, or -1 when SQLite has no default VFS to wrap. */
int crashvfs_install(void);

/** Power off now (unless already off): restore every tracked file to its content at its last
 * fsync, then fail all further I/O of connections opened before. Thread-safe; returns the number
 * of unsynced writes (and truncations) dropped. */
long crashvfs_crash(void);

/** Crash (as crashvfs_crash) just before the n-th write, truncation or sync from now on, which
 * then fails; n <= 0 disarms. */
void crashvfs_crash_at(long n);

/** With on, every sync reports success without syncing (and without making anything durable):
 * what a server without fsync (SQLite's synchronous=OFF) would do. Until crashvfs_reset(). */
void crashvfs_fake_sync(int on);

/** Whether the power is off; *dropped (when not NULL) receives crashvfs_crash()'s count. */
int crashvfs_crashed(long *dropped);

/** Power back on: forget the tracked files and let I/O through again. Call once every connection
 * opened before the crash is closed. */
void crashvfs_reset(void);

#endif
