/* helper: the helper thread and its beat.
 *
 * On a wall-clock beat the helper finds new threads and gives each a CPU-time timer (gone ones
 * are retired, their time kept), drains the sampler's rings into the lines (cputime), measures
 * each thread's time off the CPU (offcpu), and, with memory on, drains the memory hooks' events
 * into live memory at the places they happened. The beat's clock is the session's: elapsed time,
 * and the time of every memory event, is read at the beat.
 * Python threads register themselves as they start (threadstart.c calls helper_thread_arrive; a
 * thread-specific key's destructor sees it leave): their records arrive through a lock-free list merged at the next beat,
 * and a record is freed by the last of the helper and its thread to let go of it. The scan of
 * /proc/self/task finds the other threads (started from C); the process's CPU clock, less the
 * helper's and the tracked threads', tells how much CPU time went to threads never seen.
 * Owns: the thread set (tracked_thread records, ascending by tid; a registered record and a new
 * thread that reuses its id are two records), the registry of arriving threads, finding each
 * thread's PyThreadState, the beat, the process's unattributed CPU time, and the helper thread's
 * start and stop.
 * Never: reads another thread's frames with plain loads; takes the program's signals (it blocks
 * them all); allocates on a hook's path (its own allocations are never sampled).
 * Talks to: session (its state, under its lock), threadstart (arrivals), sampler (timers, rings),
 * cputime, offcpu, memsample (drains, and its guard around a record made in a program thread),
 * live, places, threads. */
#ifndef HEATLINE_HELPER_H
#define HEATLINE_HELPER_H

#include "session.h"

/* Threads registering themselves (threadstart.c): accepted from open to close; close waits
 * for a registration under way. */
void helper_open_arrivals(struct session *s);
void helper_close_arrivals(void);
/* In the starting thread, before the new one exists: a Python start is in flight... */
void helper_thread_starting(void);
/* ...and, if the new thread never arrives, no longer is. */
void helper_thread_start_abandoned(void);
/* In the new thread, before its first bytecode: its record and CPU-time timer, handed to the
 * helper's next beat (the start is no longer in flight, taken or not). `entry`: the code it was
 * started to run; `thread_state`: its PyThreadState. As the thread exits, it deletes its timer
 * and reads its own clock a last time; the helper retires the record at its next beat. */
void helper_thread_arrive(uintptr_t entry, uintptr_t thread_state);
/* The process's CPU clock at the session's start, ... */
void helper_start_clocks(struct session *s);
/* ... and the CPU time since, while enabled, that no tracked thread's clock (nor the helper's)
 * accounted for: threads that ended unseen. */
int64_t helper_unattributed_cpu_ns(const struct session *s);

/* Matches the tracked threads against the process's threads: new ones get a timer, gone ones
 * are retired. */
void helper_update_threads(struct session *s, int64_t now_ns);
/* One beat: new and gone threads, samples into lines, off-CPU time, memory events. Called with
 * the session's lock held (or once the helper is gone). */
void helper_beat(struct session *s);
/* Replays the memory hooks' events into live memory, as of `now_ns` (monotonic). */
void helper_drain_memory(struct session *s, int64_t now_ns);
/* Starts the helper thread; returns 0 or -1. */
int helper_start(struct session *s);
/* Stops and joins the helper thread. */
void helper_stop(struct session *s);
/* Deletes every thread's timer (at stop, or when a start is undone). */
void helper_delete_timers(struct session *s);
/* Drains every thread's ring and credits the CPU time its clock ran beyond its samples (at
 * stop, once no handler can run). */
void helper_finish_threads(struct session *s);
/* Frees the thread records (and closes their files). */
void helper_free_threads(struct session *s);

#endif
