/* A minimal check harness for the tests that must also run on cross targets (32-bit, big-endian)
 * where Criterion is not available: CHECK counts failures, main returns nonzero if any. */
#ifndef PINHOLE_TESTS_CHECK_H
#define PINHOLE_TESTS_CHECK_H

#include <stdio.h>

extern int check_failures;
extern int check_count;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        check_count++;                                                                             \
        if (!(cond)) {                                                                             \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b, what)                                                                   \
    do {                                                                                           \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                            \
        CHECK(check_a_ == check_b_, "%s: %lld != %lld", what, check_a_, check_b_);                 \
    } while (0)

/** Print the summary and return the process exit status (0 if every check passed). */
int check_summary(const char *suite);

#endif
