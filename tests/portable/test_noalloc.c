/* Reporting allocates nothing: malloc, calloc and realloc are wrapped at link time
 * (-Wl,--wrap=...) and counted around pinhole_client_report() and its sealed form, plain and
 * memoized, and pinhole_client_report_batch(), with a budget, and around
 * pinhole_discovery_report(); collection and round set-up, which do allocate, are outside the
 * window. */
#include "client/discovery.h"
#include "client/pinhole.h"
#include "tests/portable/check.h"

#include <stddef.h>
#include <stdlib.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);

static int counting;
static long allocations;

void *__wrap_malloc(size_t n)
{
    allocations += counting;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    allocations += counting;
    return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    allocations += counting;
    return __real_realloc(p, n);
}

static int load(void *ctx, uint64_t period, double *spent)
{
    (void)period;
    *spent = *(double *)ctx;
    return PINHOLE_OK;
}

static int store(void *ctx, uint64_t period, double spent)
{
    (void)period;
    *(double *)ctx = spent;
    return PINHOLE_OK;
}

int main(void)
{
    CHECK_EQ_INT(pinhole_init(), PINHOLE_OK, "init");
    pinhole_collection col;
    CHECK_EQ_INT(pinhole_collection_init_params(&col, PINHOLE_MECH_PGR, 74286, 2.0), PINHOLE_OK,
                 "collection");
    CHECK(allocations == 0 && !counting, "the window is closed during set-up");
    double spent = 0;
    pinhole_policy policy = {.max_epsilon = 4,
                             .budget_epsilon = 1e9,
                             .budget_period = 86400,
                             .load = load,
                             .store = store,
                             .ctx = &spent};
    uint8_t secret[32] = {7}, pk[32], sk[32], buf[256];
    pinhole_seal_keypair(pk, sk);
    pinhole_client cl;
    pinhole_client_init(&cl, &policy, secret);
    /* a control: the counter sees the library's own allocations (building a collection's field
     * tables), so the wrapping reaches code inside libpinhole */
    pinhole_collection other;
    counting = 1;
    CHECK_EQ_INT(pinhole_collection_init_params(&other, PINHOLE_MECH_PGR, 1000, 1.0), PINHOLE_OK,
                 "control collection");
    counting = 0;
    CHECK(allocations > 0, "the wrapper saw %ld allocations building a collection", allocations);
    pinhole_collection_clear(&other);
    allocations = 0;
    counting = 1;
    size_t n;
    int ok = 1;
    for (uint64_t v = 0; v < 2000; v++) {
        const unsigned flags = v % 2 ? PINHOLE_REPORT_MEMOIZE : 0;
        ok &= pinhole_client_report(&cl, &col, v * 37, 1000 + v, flags, buf, sizeof buf, &n) ==
              PINHOLE_OK;
        ok &= pinhole_client_report_sealed(&cl, &col, v * 37, 1000 + v, flags, pk, buf, sizeof buf,
                                           &n) == PINHOLE_OK;
    }
    static uint8_t many[200 * 64];
    uint64_t values[200];
    for (int i = 0; i < 200; i++)
        values[i] = (uint64_t)i * 311;
    ok &= pinhole_client_report_batch(&cl, &col, values, 200, 5000, 0, many, sizeof many, &n) ==
          PINHOLE_OK;
    counting = 0;
    CHECK(ok, "every report made");
    CHECK_EQ_INT(allocations, 0, "allocations while reporting");
    pinhole_collection_clear(&col);

    /* discovery: a device string reported into an extension round (set-up outside the window) */
    static const uint8_t table[4] = {'a', 'b', 'c', 'd'};
    pinhole_round_config rc = {
        .domain = {
            .kind = PINHOLE_ROUND_EXTEND, .prefix_len = 2, .ext = 1, .ncand = 2, .table = table}};
    pinhole_config_params cp = {.mechanism = PINHOLE_MECH_PGR, .k = 2 * 256 + 1, .epsilon = 2.0};
    CHECK_EQ_INT(pinhole_collection_config_make(&rc.oracle, 5, &cp, 1, 0), PINHOLE_OK,
                 "round config");
    pinhole_discovery_round round;
    CHECK_EQ_INT(pinhole_discovery_round_init(&round, &rc), PINHOLE_OK, "round");
    static const char *const words[] = {"abc", "cd", "cdxyz", "zz", "ab\xc3\xa9"};
    allocations = 0;
    counting = 1;
    ok = 1;
    for (uint64_t i = 0; i < 500; i++) {
        const char *w = words[i % 5];
        size_t len = 0;
        while (w[len])
            len++;
        ok &= pinhole_discovery_report(&cl, &round, (const uint8_t *)w, len, 1000 + i, 0, buf,
                                       sizeof buf, &n) == PINHOLE_OK;
    }
    counting = 0;
    CHECK(ok, "every discovery report made");
    CHECK_EQ_INT(allocations, 0, "allocations while reporting a string");
    pinhole_discovery_round_clear(&round);
    return check_summary("test_noalloc");
}
