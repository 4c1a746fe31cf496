/* Estimates files: exact round trip, header, CRLF, optional variance, and every refusal. */
#include "common/error.h"
#include "server/data/estfile.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Write text to a fresh temporary file; the caller unlinks path. */
static void write_tmp(char *path, const char *text)
{
    strcpy(path, "/tmp/pinhole_estfile_XXXXXX");
    const int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    cr_assert(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

static int read_text(const char *text, pinhole_estfile *e, uint64_t *line)
{
    char path[64];
    write_tmp(path, text);
    const int rc = pinhole_estfile_read(path, e, line);
    unlink(path);
    return rc;
}

Test(estfile, round_trip_is_exact)
{
    char path[64];
    strcpy(path, "/tmp/pinhole_estfile_XXXXXX");
    const int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    const double est[4] = {-123.456789012345678, 0.1, 1e-300, 98765432109.87654};
    const double var[4] = {0, 1.0 / 3, 2.5e17, 7};
    const char *labels[4] = {"you", "I", "the word with spaces", "x"};
    fputs("item\testimate\tvariance\textra\n", f);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(pinhole_estfile_write_row(f, labels[i], est[i], &var[i]), PINHOLE_OK);
        fputs("\t42\n", f); /* an extra column, ignored */
    }
    cr_assert_eq(fclose(f), 0);
    pinhole_estfile e;
    uint64_t line;
    cr_assert_eq(pinhole_estfile_read(path, &e, &line), PINHOLE_OK);
    unlink(path);
    cr_assert_eq(e.k, 4);
    cr_assert(e.variance);
    for (int i = 0; i < 4; i++) {
        cr_assert_str_eq(e.labels[i], labels[i]);
        cr_assert_eq(e.estimate[i], est[i], "%.17g vs %.17g", e.estimate[i], est[i]);
        cr_assert_eq(e.variance[i], var[i]);
    }
    pinhole_estfile_free(&e);
    pinhole_estfile_free(&e); /* safe twice */
}

Test(estfile, without_variance_and_with_crlf)
{
    pinhole_estfile e;
    uint64_t line;
    cr_assert_eq(read_text("a\t1.5\r\nb\t-2\r\n", &e, &line), PINHOLE_OK);
    cr_assert_eq(e.k, 2);
    cr_assert_null(e.variance);
    cr_assert_eq(e.estimate[0], 1.5);
    cr_assert_eq(e.estimate[1], -2);
    pinhole_estfile_free(&e);
    /* an empty variance field means none (what a written row without variance looks like) */
    cr_assert_eq(read_text("a\t1\t\tfoo\nb\t2\t\n", &e, &line), PINHOLE_OK);
    cr_assert_null(e.variance);
    pinhole_estfile_free(&e);
}

Test(estfile, refusals_name_the_line)
{
    static const struct {
        const char *text;
        int rc;
        uint64_t line;
    } cases[] = {
        {"a\t1\nb\tx\n", PINHOLE_EFORMAT, 2},    /* not a number */
        {"a\t1\nb\tinf\n", PINHOLE_EFORMAT, 2},  /* not finite */
        {"a\t1\nb\tnan\n", PINHOLE_EFORMAT, 2},  /* not finite */
        {"a\t1\t2\nb\t3\n", PINHOLE_EFORMAT, 2}, /* variance on some lines only */
        {"a\t1\nb\t3\t2\n", PINHOLE_EFORMAT, 2}, /* variance on some lines only */
        {"a\t1\t-2\n", PINHOLE_EFORMAT, 1},      /* negative variance */
        {"a\t1\t1e999\n", PINHOLE_EFORMAT, 1},   /* variance overflows */
        {"a\t1\n\t2\n", PINHOLE_EFORMAT, 2},     /* empty label */
        {"a\t1\nb 2\n", PINHOLE_EFORMAT, 2},     /* no tab */
        {"a\t1\n\n", PINHOLE_EFORMAT, 2},        /* blank line */
        {"item\testimate\n", PINHOLE_EINVAL, 0}, /* header only */
        {"", PINHOLE_EINVAL, 0},                 /* empty file */
        {"h\tx\nh2\ty\n", PINHOLE_EFORMAT, 2},   /* one header at most */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pinhole_estfile e;
        uint64_t line = 99;
        cr_assert_eq(read_text(cases[i].text, &e, &line), cases[i].rc, "case %zu", i);
        cr_assert_eq(line, cases[i].line, "case %zu: line %llu", i, (unsigned long long)line);
        cr_assert_null(e.labels, "nothing to free on error");
    }
    pinhole_estfile e;
    uint64_t line;
    cr_assert_eq(pinhole_estfile_read("/nonexistent/estimates.tsv", &e, &line), PINHOLE_EIO);
}
