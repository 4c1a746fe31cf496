/* Test support: temporary database files. */
#include "tests/support/tmpdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void test_tmpdb_make(test_tmpdb *t)
{
    strcpy(t->dir, "/tmp/pinhole-test.XXXXXX");
    if (!mkdtemp(t->dir)) {
        perror("mkdtemp");
        abort();
    }
    snprintf(t->path, sizeof t->path, "%s/t.db", t->dir);
}

void test_tmpdb_remove(test_tmpdb *t)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char p[160];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", t->path, suffix[i]);
        unlink(p);
    }
    rmdir(t->dir);
}
