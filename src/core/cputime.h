/* cputime: crediting CPU time to lines.
 *
 * Each sample stands for the CPU time of its strata (sampler.h); the kernel's share of the
 * thread's time since its previous sample is system time, the rest is Python if the innermost
 * frame was running bytecode in the interpreter, native if it sat on a call instruction or the
 * thread was running code outside the interpreter. The clocks decide how much time there was:
 * what a thread's CPU clock ran after its last sample goes to the place of that sample when the
 * thread (or the session) ends. A thread with no Python at all (a native library's worker) works
 * for the line the main thread is on: where it waits if it was blocked at the last beat (joining
 * the worker, say), otherwise where it was last sampled.
 * Owns: the session's time totals, its time outside the program, each thread's CPU share, and the
 * stand-in places of threads that ended unsampled.
 * Never: reads frames (places resolves them) or clocks (the sampler and offcpu do).
 * Talks to: helper (drains each thread every beat), places, offcpu (credits through here). */
#ifndef HEATLINE_CPUTIME_H
#define HEATLINE_CPUTIME_H

#include "session.h"

/* `amount` on the place (or outside the program), the thread and the session. */
void cputime_credit(struct session *s, struct tracked_thread *thread, const struct place *place,
                    const struct counters *amount);
/* Credits every sample the thread's handler wrote since the last drain. */
void cputime_drain(struct session *s, struct tracked_thread *thread);
/* What the thread's CPU clock ran beyond its samples, credited where its last sample went. */
void cputime_credit_remainder(struct session *s, struct tracked_thread *thread);
/* A registered thread that ended, its clock read by itself: its whole CPU time is credited, no
 * more, no less. The part its samples did not bring goes where its last sample went; a thread
 * with no sample at all (CPU-time timers fire only at the scheduler's tick, so most threads
 * shorter than a tick end unsampled) works where the last sample of a thread started to run the
 * same code went: its stand-in place. */
void cputime_credit_final(struct session *s, struct tracked_thread *thread);
/* The place a thread with no Python works for. */
struct place cputime_main_thread_place(struct session *s);

#endif
