/* The one clock of the project: monotonic seconds for durations, deadlines and rates; wall-clock
 * (Unix) seconds for timestamps shown to people or stored; absolute times for
 * pthread_cond_timedwait. */
#ifndef PINHOLE_COMMON_CLOCK_H
#define PINHOLE_COMMON_CLOCK_H

#include <time.h>

/** Monotonic clock in seconds (CLOCK_MONOTONIC: never steps back, unrelated to the date). Use for
 * durations and deadlines. */
double pinhole_clock_mono(void);

/** Wall clock in Unix seconds, with fractions (CLOCK_REALTIME: may step when the date is set). Use
 * for timestamps. */
double pinhole_clock_wall(void);

/** Test and benchmark hook: from now on pinhole_clock_wall() runs `seconds` ahead of the real
 * clock (0 restores it; thread-safe). Lets a test or a benchmark simulate days passing; a server
 * never calls it. */
void pinhole_clock_set_offset(double seconds);

/** The offset pinhole_clock_set_offset() set, in seconds (0 unless a test or benchmark set one).
 * Lets code that takes its time from elsewhere (the PostgreSQL backend uses the database's clock,
 * so that replicas agree) follow the simulated days too. */
double pinhole_clock_offset(void);

/** CPU seconds used by the process so far (CLOCK_PROCESS_CPUTIME_ID). Use for benchmarks. */
double pinhole_clock_cpu(void);

/** The CLOCK_REALTIME instant delay seconds (>= 0) from now, as pthread_cond_timedwait() wants
 * it. */
struct timespec pinhole_clock_after(double delay);

#endif
