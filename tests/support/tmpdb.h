/* Test support: a temporary database file in a fresh directory, removed with its WAL files. */
#ifndef PINHOLE_TESTS_SUPPORT_TMPDB_H
#define PINHOLE_TESTS_SUPPORT_TMPDB_H

typedef struct test_tmpdb {
    char dir[64];   /* /tmp/pinhole-test.XXXXXX */
    char path[128]; /* dir/t.db (not created: the store creates it) */
} test_tmpdb;

/** Make the directory and the path (aborts the test on failure). */
void test_tmpdb_make(test_tmpdb *t);

/** Remove the database, its -wal and -shm files, and the directory. */
void test_tmpdb_remove(test_tmpdb *t);

#endif
