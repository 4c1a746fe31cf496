/* The counters and summary of the minimal check harness. */
#include "tests/portable/check.h"

int check_failures = 0;
int check_count = 0;

int check_summary(const char *suite)
{
    printf("%s: %d checks, %d failed\n", suite, check_count, check_failures);
    return check_failures == 0 ? 0 : 1;
}
