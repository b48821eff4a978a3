/* threads: the operating system's view of threads (platform part; Linux: threads_linux.c).
 *
 * Owns: listing the process's threads, their CPU clocks, per-thread CPU-time timers aimed at one
 * thread, and why a blocked thread waits. (Memory reads and code segments: platform.h.)
 * Never: knows about Python. Talks to: sampler, helper, offcpu, frames. */
#ifndef HEATLINE_THREADS_H
#define HEATLINE_THREADS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* WAIT_IDLE: blocked in a futex that is not the GIL's (a lock, condition, event, queue or join),
 * in a poll, select or epoll wait, or reading a pipe: waiting for work or for another thread or
 * process. */
enum wait_kind { WAIT_RUNNING = 0, WAIT_GIL = 1, WAIT_BLOCKED = 2, WAIT_IDLE = 3 };

pid_t threads_current_tid(void);
int64_t threads_monotonic_ns(void);

/* The process's thread ids, ascending. Returns the number found (at most `capacity`), or -1. */
long threads_list(pid_t *tids, size_t capacity);

clockid_t threads_cpu_clock(pid_t tid);
/* CPU time (user + kernel) of a thread's clock; -1 when the thread is gone. */
int threads_cpu_time_ns(clockid_t clock, int64_t *out);
/* The calling thread's CPU time (user + kernel, exact) and its kernel part (tick-based);
 * async-signal-safe. */
void threads_own_cpu_ns(int64_t *cpu_ns, int64_t *system_ns);

/* A timer on thread `tid`'s CPU clock that sends `signo` to that thread, carrying `value` in
 * si_value. */
int threads_timer_create(pid_t tid, int signo, void *value, timer_t *out);
/* Arms a timer to expire once, after `interval_ns` more of its clock; async-signal-safe. */
int threads_timer_arm_once(timer_t timer, int64_t interval_ns);
void threads_timer_delete(timer_t timer);

/* Why a thread that is off the CPU waits: `*fd` caches its /proc syscall file (-1 at first;
 * close it with threads_close_wait_file). `in_gil` says whether a futex address is the GIL. */
enum wait_kind threads_wait_kind(pid_t tid, int *fd, int (*in_gil)(uintptr_t address));
/* Closes a file cached by threads_wait_kind or threads_run_delay_ns. */
void threads_close_wait_file(int *fd);

/* Total time the thread has waited on a run queue (ready, but no CPU free), from
 * /proc/self/task/<tid>/schedstat; `*fd` caches the file. -1 if unavailable. */
int threads_run_delay_ns(pid_t tid, int *fd, int64_t *out);

/* Offset of the kernel thread id inside the C library's thread descriptor (what pthread_self()
 * points to), found by looking at two live threads; -1 if it could not be found. */
int threads_pthread_tid_offset(void);

#endif
