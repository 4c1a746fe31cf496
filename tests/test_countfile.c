/* Count files: the shipped SUBTLEX file, headers, CRLF, and every malformed kind with its line. */
#include "common/error.h"
#include "server/data/countfile.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static const char *write_tmp(const char *text)
{
    strcpy(path, "/tmp/pinhole-cf-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

Test(countfile, subtlex)
{
    pinhole_countfile cf;
    uint64_t line;
    cr_assert_eq(pinhole_countfile_read(PINHOLE_SOURCE_DIR "/data/subtlex-us.tsv", &cf, &line),
                 PINHOLE_OK);
    cr_assert_eq(cf.k, 74286);
    cr_assert_eq(cf.total, 49719560);
    cr_assert_str_eq(cf.labels[0], "you");
    cr_assert_eq(cf.count[0], 2134713);
    cr_assert_str_eq(cf.labels[1], "I");
    pinhole_countfile_free(&cf);
}

Test(countfile, header_crlf_and_zero_counts)
{
    pinhole_countfile cf;
    uint64_t line;
    cr_assert_eq(
        pinhole_countfile_read(write_tmp("word\tcount\r\na\t5\r\nb\t0\r\nc d\t7\r\n"), &cf, &line),
        PINHOLE_OK);
    cr_assert_eq(cf.k, 3);
    cr_assert_eq(cf.total, 12);
    cr_assert_str_eq(cf.labels[2], "c d");
    pinhole_countfile_free(&cf);
    unlink(path);
    cr_assert_eq(pinhole_countfile_read(write_tmp("x\t1\ny\t2"), &cf, &line),
                 PINHOLE_OK); /* no header, no final newline */
    cr_assert_eq(cf.total, 3);
    pinhole_countfile_free(&cf);
    unlink(path);
}

static void expect_error(const char *text, int rc, uint64_t at)
{
    pinhole_countfile cf;
    uint64_t line = 99;
    cr_assert_eq(pinhole_countfile_read(write_tmp(text), &cf, &line), rc, "input: %s", text);
    cr_assert_eq(line, at, "input: %s: line %llu", text, (unsigned long long)line);
    cr_assert_null(cf.labels);
    unlink(path);
}

Test(countfile, malformed)
{
    expect_error("", PINHOLE_EINVAL, 0);                                  /* empty */
    expect_error("word\tcount\n", PINHOLE_EINVAL, 0);                     /* header only */
    expect_error("a\t0\nb\t0\n", PINHOLE_EINVAL, 0);                      /* total zero */
    expect_error("a\t3\n", PINHOLE_EINVAL, 0);                            /* one item */
    expect_error("a\t3\nb 4\n", PINHOLE_EFORMAT, 2);                      /* no tab */
    expect_error("a\t3\nb\t-4\n", PINHOLE_EFORMAT, 2);                    /* negative */
    expect_error("a\t3\nb\t4x\n", PINHOLE_EFORMAT, 2);                    /* trailing junk */
    expect_error("a\t3\nb\t\n", PINHOLE_EFORMAT, 2);                      /* empty count */
    expect_error("a\t3\n\t4\n", PINHOLE_EFORMAT, 2);                      /* empty label */
    expect_error("a\t3\nb\t4\n\n", PINHOLE_EFORMAT, 3);                   /* blank line */
    expect_error("a\t3\nb\t4\t5\n", PINHOLE_EFORMAT, 2);                  /* three fields */
    expect_error("a\t3\nb\t99999999999999999999\n", PINHOLE_EFORMAT, 2);  /* over 2^63 */
    expect_error("a\t9223372036854775807\nb\t9\n", PINHOLE_EOVERFLOW, 2); /* total over 2^63 */
    /* a first line whose count is a number of another form is a bad count, not a header */
    const char *numeric[] = {"nan", "NaN", "inf",  "-inf", "infinity", "1e400",
                             "1.5", "-3",  "0x10", " 7",   "+5"};
    for (size_t i = 0; i < sizeof numeric / sizeof numeric[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "a\t%s\nb\t4\nc\t5\n", numeric[i]);
        expect_error(text, PINHOLE_EFORMAT, 1);
    }
    pinhole_countfile cf;
    uint64_t line;
    cr_assert_eq(pinhole_countfile_read("/nonexistent/file.tsv", &cf, &line), PINHOLE_EIO);
}

/* The cumulative counts, the draw by token position (exact on every position) and the seeded
 * sampler: an item of count 0 is never drawn, the draws replay pinhole_countfile_draw on the same
 * stream, and item a (count 1 of 4) comes up 1/4 of the time (4,000 draws: sd 27.4, bound 5 sd). */
Test(countfile, cumulative_and_sampler)
{
    pinhole_countfile cf;
    uint64_t line;
    cr_assert_eq(pinhole_countfile_read(write_tmp("a\t1\nb\t0\nc\t3\n"), &cf, &line), PINHOLE_OK);
    unlink(path);
    cr_assert_eq(cf.cum[0], 1);
    cr_assert_eq(cf.cum[1], 1);
    cr_assert_eq(cf.cum[2], 4);
    const uint64_t expect[4] = {0, 2, 2, 2};
    for (uint64_t u = 0; u < 4; u++)
        cr_assert_eq(pinhole_countfile_draw(cf.cum, cf.k, u), expect[u], "u = %llu",
                     (unsigned long long)u);
    pinhole_rng a, b;
    pinhole_rng_init_seeded(&a, 7);
    pinhole_rng_init_seeded(&b, 7);
    uint64_t seen[3] = {0};
    for (int i = 0; i < 4000; i++) {
        const uint64_t v = pinhole_countfile_sample(&cf, &a);
        cr_assert_eq(v, pinhole_countfile_draw(cf.cum, cf.k, pinhole_rng_uniform64(&b, 4)));
        seen[v]++;
    }
    cr_assert_eq(seen[1], 0);
    cr_assert_leq(seen[0] > 1000 ? seen[0] - 1000 : 1000 - seen[0], 137, "a drawn %llu times",
                  (unsigned long long)seen[0]);
    pinhole_countfile_free(&cf);
}
