/* awaits: the time an asyncio event loop waits in its selector, credited to the await lines of
 * the tasks it waits for.
 *
 * While a session runs, the `select` method of every selector class of the `selectors` module
 * (what asyncio's event loops wait in) is wrapped. When it is called under a running event loop,
 * the wrapper times the wait (its wall time less the thread's CPU time: the off-CPU time) on a
 * clock of the thread's own that the helper reads. Every so often (when the waits not yet handed
 * over reach a threshold, at least 1 ms and 50 times the cost of the last look), it looks at the
 * loop's tasks: each task suspended on a future is waiting, and the tasks that wait for no other
 * task (not on a Task, a gather, asyncio.wait/wait_for/as_completed or a TaskGroup's exit) share
 * the time waited evenly, each on its innermost awaiting frame (up to AWAIT_SHARES tasks, drawn at
 * random). With no task waiting the time is the loop thread's own wait, where it is blocked.
 * The helper takes that time off the thread's off-CPU time (offcpu.c) and credits the looks'
 * shares as system time that is await time.
 * Owns: the wrapper type, the per-thread wait clocks, the queue of looks, crediting them.
 * Never: imports asyncio (a program that never imported it has no event loop), or runs while a
 * program thread waits in select (only before and after the call).
 * Talks to: module (install, uninstall), session (enabled, fork), frames (a suspended coroutine's
 * frame, the loop thread's own stack), helper (drains), offcpu (the off-CPU time to leave out,
 * the loop thread's own wait), places, cputime (credits). */
#ifndef HEATLINE_AWAITS_H
#define HEATLINE_AWAITS_H

#include <stdint.h>
#include <sys/types.h>

struct session;
struct tracked_thread;

/* With the GIL, before a session starts (importing selectors is heatline's work, not the
 * program's): 0, or -1 with a Python exception. Installed already (in a forked child, say):
 * nothing to do but forget what the last session left waiting. */
int awaits_install(void);
/* With the GIL, before the session stops: the originals back where ours still are. */
void awaits_uninstall(void);
/* In a forked child (the session's fork handler): the other threads' clocks are the parent's. */
void awaits_after_fork_child(void);

/* The off-CPU time thread `tid` has spent waiting in a selector under an event loop so far,
 * including a wait under way (`now_ns` monotonic, `cpu_now_ns` its CPU clock now); 0 for a
 * thread that never did. Any thread. */
int64_t awaits_off_cpu_ns(pid_t tid, int64_t now_ns, int64_t cpu_now_ns);

/* Helper: credits the looks queued since the last drain. */
void awaits_drain(struct session *s);

#endif
