/* Every PINHOLE_E* code has its own text. */
#include "common/error.h"

#include <criterion/criterion.h>
#include <string.h>

Test(error, every_code_has_distinct_text)
{
    const char *unknown = pinhole_strerror(12345);
    cr_assert_str_eq(unknown, "unknown error");
    cr_assert_str_eq(pinhole_strerror(PINHOLE_OK), "success");
    for (int a = -1; a >= PINHOLE_ELAST; a--) {
        cr_assert_str_neq(pinhole_strerror(a), unknown, "code %d has no text", a);
        for (int b = a - 1; b >= PINHOLE_ELAST; b--)
            cr_assert_str_neq(pinhole_strerror(a), pinhole_strerror(b), "codes %d and %d", a, b);
    }
    cr_assert_str_eq(pinhole_strerror(PINHOLE_ELAST - 1), unknown);
}
