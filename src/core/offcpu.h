/* offcpu: time a thread spends off the CPU, measured by the helper at each beat.
 *
 * Off-CPU time = wall - CPU clock - run-queue delay since the previous beat, exact, credited to
 * the line the thread is blocked on now: GIL wait if it waits on the GIL's futex, system time
 * otherwise; the run-queue delay is the machine's contention (cpu_wait_s), nobody's line. The
 * kernel adds a wait on the run queue to the thread's delay only once the thread runs again, so
 * the off-CPU time of a thread found running (likely ready and waiting for a CPU) is held for one
 * beat: the delay the next beat sees is taken off it first, then off that beat's own.
 * Owns: each thread's last clocks, where it was last seen blocked and why, its run-queue delay.
 * Never: reads another thread's frames with plain loads (process_vm_readv only), or sends a
 * signal to a thread (a blocked system call is never interrupted by heatline).
 * Talks to: helper (calls it per thread per beat), threads (clocks, wait kind, schedstat),
 * frames (remote walk), places, cputime (credits). */
#ifndef HEATLINE_OFFCPU_H
#define HEATLINE_OFFCPU_H

#include "session.h"

/* Measures and credits the thread's off-CPU time since the last beat. Returns -1 when the thread
 * is gone (or its id names another thread now). */
int offcpu_measure(struct session *s, struct tracked_thread *thread, int64_t now_ns);
/* Credits `off_ns` of a wait of kind `kind` (enum wait_kind) at `place`, by the rules of
 * idle waiting (awaits.c: an event loop's own wait, with no task waiting). */
void offcpu_credit_wait(struct session *s, struct tracked_thread *thread, const struct place *place, int kind,
                        int64_t off_ns);
/* Credits what is still held (at stop, or when the thread ends), after the await looks queued
 * since the beat (awaits_drain). */
void offcpu_flush(struct session *s, struct tracked_thread *thread);

#endif
