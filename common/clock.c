/* Monotonic and wall-clock time (common/clock.h). */
#include "common/clock.h"

#include <stdatomic.h>
#include <stdint.h>

static _Atomic int_least64_t offset_ns; /* pinhole_clock_set_offset */

static double seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double pinhole_clock_mono(void)
{
    return seconds(CLOCK_MONOTONIC);
}

double pinhole_clock_wall(void)
{
    return seconds(CLOCK_REALTIME) +
           (double)atomic_load_explicit(&offset_ns, memory_order_relaxed) * 1e-9;
}

void pinhole_clock_set_offset(double s)
{
    atomic_store_explicit(&offset_ns, (int_least64_t)(s * 1e9), memory_order_relaxed);
}

double pinhole_clock_offset(void)
{
    return (double)atomic_load_explicit(&offset_ns, memory_order_relaxed) * 1e-9;
}

double pinhole_clock_cpu(void)
{
    return seconds(CLOCK_PROCESS_CPUTIME_ID);
}

struct timespec pinhole_clock_after(double delay)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (!(delay > 0))
        delay = 0;
    const time_t whole = (time_t)delay;
    ts.tv_sec += whole;
    ts.tv_nsec += (long)((delay - (double)whole) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}
