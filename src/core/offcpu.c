/* offcpu: see offcpu.h. */
#include "offcpu.h"

#include "awaits.h"
#include "cputime.h"
#include "frames.h"
#include "threads.h"

#include <string.h>
#include <unistd.h>

/* Off-CPU time of a thread found running at the beat goes to where it was last seen blocked, if
 * that was this recent (a thread alternating short sleeps and work); otherwise to where it last
 * ran. */
#define RECENT_BLOCK_NS 100000000LL

static void credit_off_cpu(struct session *s, struct tracked_thread *thread, const struct place *place,
                           int kind, int64_t off_ns)
{
    struct counters amount = {0};
    if (kind == WAIT_GIL)
        amount.gil_wait_s = (double)off_ns / 1e9;
    else if (kind == WAIT_IDLE)
        amount.idle_s = (double)off_ns / 1e9;
    else
        amount.system_s = (double)off_ns / 1e9;
    cputime_credit(s, thread, place, &amount);
}

/* Time ready to run with every CPU busy is the machine's contention, not the line's: returns the
 * run-queue delay since the last look (0 the first time, or where schedstat is missing). */
static int64_t run_queue_delay(struct tracked_thread *thread)
{
    int64_t run_delay;
    if (threads_run_delay_ns(thread->tid, &thread->schedstat_fd, &run_delay) != 0)
        return 0;
    int64_t waited = run_delay - thread->last_run_delay_ns;
    thread->last_run_delay_ns = run_delay;
    int known = thread->run_delay_known;
    thread->run_delay_known = 1;
    return known && waited > 0 ? waited : 0;
}

/* Whether this process's main thread is the program's own: in the run's first process and in a
 * program started anew (exec), its waits are where the program waited (its pool.map, its join)
 * and keep their time; in a process multiprocessing started, the main thread is a worker, and
 * waits for work like any worker thread. */
static int main_thread_is_the_programs(const struct session *s)
{
    const char *method = s->config.start_method;
    return !method || strcmp(method, "exec") == 0;
}

/* Idle waiting (WAIT_IDLE: a lock, condition, event, queue, join, selector or pipe wait) stays
 * idle, outside the time, except in the program's main thread and with --idle: there it is
 * system time, as any other wait. */
static int wait_kind_of(const struct session *s, const struct tracked_thread *thread, int kind)
{
    if (kind == WAIT_IDLE && (s->config.idle || (thread->tid == getpid() && main_thread_is_the_programs(s))))
        return WAIT_BLOCKED;
    return kind;
}

void offcpu_credit_wait(struct session *s, struct tracked_thread *thread, const struct place *place, int kind,
                        int64_t off_ns)
{
    credit_off_cpu(s, thread, place, wait_kind_of(s, thread, kind), off_ns);
}

/* Blocked now: the off-CPU time goes where it waits, of the kind of its wait. */
static void credit_blocked(struct session *s, struct tracked_thread *thread, const struct frames_stack *stack,
                           int kind, int64_t off_ns, int64_t now_ns)
{
    struct place place;
    places_of(&s->places, stack, &place);
    kind = wait_kind_of(s, thread, kind);
    if (thread->blocked_at_last_beat &&
        (place.line != thread->blocked.line || place.stack.id != thread->blocked.stack.id)) {
        /* It woke from one wait and entered another since the last beat, at a moment equally
         * likely anywhere in between: half the time to each is unbiased. */
        int64_t before_ns = off_ns / 2;
        credit_off_cpu(s, thread, &thread->blocked, thread->blocked_kind, before_ns);
        off_ns -= before_ns;
    }
    thread->blocked = place;
    thread->blocked_valid = 1;
    thread->blocked_at_last_beat = 1;
    thread->blocked_kind = kind;
    thread->blocked_seen_ns = now_ns;
    credit_off_cpu(s, thread, &place, kind, off_ns);
}

/* Credits the off-CPU time held from the last beat, less the run-queue delay `excess_ns` that
 * the kernel counted only now. */
static void settle_pending(struct session *s, struct tracked_thread *thread, int64_t excess_ns)
{
    int64_t held_ns = thread->pending_off_ns - excess_ns;
    thread->pending_off_ns = 0;
    if (held_ns > 0)
        credit_off_cpu(s, thread, &thread->pending_place, thread->pending_kind, held_ns);
}

static void hold(struct tracked_thread *thread, const struct place *place, int kind, int64_t off_ns)
{
    thread->pending_off_ns = off_ns;
    thread->pending_place = *place;
    thread->pending_kind = kind;
}

void offcpu_flush(struct session *s, struct tracked_thread *thread)
{
    settle_pending(s, thread, 0);
    /* Waits in an event loop's selector: the looks queued since the beat began go to their tasks,
     * and what no look handed over is the loop thread's own wait. */
    awaits_drain(s);
    if (thread->awaits_held_ns > 0 && s->enabled)
        offcpu_credit_wait(s, thread, thread->blocked_valid ? &thread->blocked : &thread->last, WAIT_IDLE,
                           thread->awaits_held_ns);
    thread->awaits_held_ns = 0;
}

int offcpu_measure(struct session *s, struct tracked_thread *thread, int64_t now_ns)
{
    int64_t cpu;
    if (threads_cpu_time_ns(thread->clock, &cpu) < 0)
        return -1;
    int64_t cpu_delta = cpu - thread->last_cpu_ns;
    int64_t off_ns = (now_ns - thread->last_wall_ns) - cpu_delta;
    thread->last_cpu_ns = cpu;
    thread->last_wall_ns = now_ns;
    if (cpu_delta < 0)
        return -1; /* the id now names another thread */
    /* Waits in an event loop's selector are credited by awaits.c, to the tasks that waited. */
    int64_t awaited = awaits_off_cpu_ns(thread->tid, now_ns, cpu);
    int64_t awaited_delta = awaited - thread->last_awaits_ns;
    thread->last_awaits_ns = awaited;
    /* A native library's idle workers wait for work, not for the program. */
    if (!thread->thread_state) {
        if (s->enabled)
            thread->cpu_ns += cpu_delta;
        return 0;
    }
    /* The delay the kernel reports now is of waits that ended since the last look, the oldest
     * first: those of the time held from the last beat, then this beat's. The kernel adds a
     * wait for a CPU to it when the thread gets one: a thread that has not run since the last
     * look has nothing new there, and its file is not read (with 1,000 idle threads alive,
     * reading every one's each beat took 40% of a core). */
    int64_t waited = cpu_delta > 0 ? run_queue_delay(thread) : 0;
    int64_t held_part = waited < thread->pending_off_ns ? waited : thread->pending_off_ns;
    settle_pending(s, thread, held_part);
    off_ns -= waited - held_part;
    if (!s->enabled)
        return 0;
    if (awaited_delta > 0) { /* (below 0: its clock was given to a new thread of the same id) */
        off_ns -= awaited_delta;
        thread->awaits_held_ns += awaited_delta;
    }
    s->cpu_wait_ns += waited;
    thread->cpu_ns += cpu_delta;
    if (off_ns <= 0)
        return 0;
    if (cpu_delta == 0 && thread->blocked_at_last_beat) {
        /* Blocked at the last look and not run since: its frames and its wait are unchanged.
         * (One found running then and not run since waits for a CPU: held below.) */
        credit_off_cpu(s, thread, &thread->blocked, thread->blocked_kind, off_ns);
        return 0;
    }
    struct frames_stack stack;
    int readable = frames_walk_remote(thread->thread_state, &stack) == 0;
    int64_t cpu_after;
    int still = threads_cpu_time_ns(thread->clock, &cpu_after) == 0 && cpu_after == cpu;
    if (readable && still) {
        int kind = threads_wait_kind(thread->tid, &thread->wait_fd, frames_address_in_gil);
        if (kind != WAIT_RUNNING) {
            credit_blocked(s, thread, &stack, kind, off_ns, now_ns);
            return 0;
        }
    }
    thread->blocked_at_last_beat = 0;
    /* Running now: the short waits since the last beat happened where it was last seen
     * blocked, if that was recent, and were of that kind. Otherwise they happened where it last
     * ran: a thread running bytecode blocks nowhere but on the GIL (threads taking turns), one in
     * native code may have waited for anything. Either way, held until the next beat. */
    if (thread->blocked_valid && now_ns - thread->blocked_seen_ns < RECENT_BLOCK_NS)
        hold(thread, &thread->blocked, thread->blocked_kind, off_ns);
    else
        hold(thread, &thread->last,
             thread->last_state == SAMPLE_PYTHON && s->python_threads > 1 ? WAIT_GIL : WAIT_BLOCKED, off_ns);
    return 0;
}
