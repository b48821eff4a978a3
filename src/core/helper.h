/* helper: the helper thread and its beat.
 *
 * On a wall-clock beat the helper finds new threads and gives each a CPU-time timer (gone ones
 * are retired, their time kept), drains the sampler's rings into the lines (cputime), measures
 * each thread's time off the CPU (offcpu), and, with memory on, drains the memory hooks' events
 * into live memory at the places they happened. The beat's clock is the session's: elapsed time,
 * and the time of every memory event, is read at the beat.
 * Owns: the thread set (tracked_thread records, ascending by tid), finding each thread's
 * PyThreadState, the beat, and the helper thread's start and stop.
 * Never: reads another thread's frames with plain loads; takes the program's signals (it blocks
 * them all); allocates on a hook's path (its own allocations are never sampled).
 * Talks to: session (its state, under its lock), sampler (timers, rings), cputime, offcpu,
 * memsample (drains), live, places, threads. */
#ifndef HEATLINE_HELPER_H
#define HEATLINE_HELPER_H

#include "session.h"

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
