/* helper: see helper.h. */
#define _GNU_SOURCE
#include "helper.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "awaits.h"
#include "cputime.h"
#include "frames.h"
#include "memsample.h"
#include "offcpu.h"
#include "threads.h"

#define BEAT_NS 10000000LL
/* At most how many beats apart to look again for the PyThreadState of a thread that has none
 * yet (a native thread never gets one). */
#define THREAD_STATE_RETRY_BEATS 50

/* ---- the set of threads ------------------------------------------------------------------ */

static void find_thread_state(struct tracked_thread *thread)
{
    if (thread->thread_state)
        return;
    thread->thread_state = atomic_load_explicit(&thread->sampler.thread_state, memory_order_relaxed);
    if (thread->thread_state || thread->thread_state_retry-- > 0)
        return;
    thread->thread_state = frames_find_thread_state(thread->tid);
    /* Back off for threads that never get one (native threads), up to a limit. */
    thread->thread_state_backoff = thread->thread_state_backoff ? thread->thread_state_backoff * 2 : 1;
    if (thread->thread_state_backoff > THREAD_STATE_RETRY_BEATS)
        thread->thread_state_backoff = THREAD_STATE_RETRY_BEATS;
    thread->thread_state_retry = thread->thread_state_backoff;
}

/* Every Python thread registers itself as it starts (threadstart.c); the scan of
 * /proc/self/task is for the others (started from C). A thread the scan finds while a Python
 * start is in flight may be one that has not registered yet: it waits without a timer (two timers
 * on one thread would sample it twice) until no start is in flight, or this many beats. */
#define CANDIDATE_MAX_BEATS 20
/* Finished threads listed one by one in the document; the ones after are summed in one entry
 * (tid 0), so that a program starting threads without end holds the profiler's memory flat. */
#define FINISHED_THREADS_LISTED 1000

/* Python threads registering with the session now; what a thread reads before it arrives. */
static struct {
    struct session *_Atomic session; /* NULL: closed */
    atomic_int registering;          /* threads inside helper_thread_arrive */
    atomic_int starting;             /* starts in flight: from the parent's start to the arrival */
    pid_t pid;                       /* a forked child is never the session's */
} registry;

/* A record holds its thread's ring of samples, each with room for a whole stack: about 100 KB,
 * most of it written only as samples come. From the allocator, every record was zeroed, hence
 * resident: 1,000 idle threads alive took 100 MB. Mapped pages are zero until written, so an
 * idle thread's record costs the few pages its fields use. */
static struct tracked_thread *allocate_record(void)
{
    void *memory = mmap(NULL, sizeof(struct tracked_thread), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                        -1, 0);
    return memory == MAP_FAILED ? NULL : memory;
}

static void free_record(struct tracked_thread *thread)
{
    munmap(thread, sizeof *thread);
}

static struct tracked_thread *new_record(pid_t tid, int64_t now_ns)
{
    struct tracked_thread *thread = allocate_record();
    if (!thread)
        return NULL;
    thread->tid = tid;
    thread->clock = threads_cpu_clock(tid);
    thread->wait_fd = -1;
    thread->schedstat_fd = -1;
    thread->last_wall_ns = now_ns;
    if (threads_cpu_time_ns(thread->clock, &thread->last_cpu_ns) < 0) {
        free_record(thread);
        return NULL;
    }
    thread->last_awaits_ns = awaits_off_cpu_ns(tid, now_ns, thread->last_cpu_ns);
    return thread;
}

static int give_timer(struct session *s, struct tracked_thread *thread, int64_t now_ns)
{
    int64_t cpu_now_ns;
    timer_t timer;
    if (threads_cpu_time_ns(thread->clock, &cpu_now_ns) < 0 ||
        threads_timer_create(thread->tid, sampler_signal(), thread, &timer) != 0)
        return -1;
    uint64_t seed = (uint64_t)now_ns ^ ((uint64_t)thread->tid << 32) ^ (uint64_t)(uintptr_t)thread;
    sampler_thread_start(&thread->sampler, timer, cpu_now_ns, s->config.cpu_sampling_interval_ns, seed);
    atomic_store(&thread->has_timer, 1);
    return 0;
}

static void delete_timer(struct tracked_thread *thread)
{
    if (atomic_exchange(&thread->has_timer, 0))
        threads_timer_delete(thread->sampler.timer);
}

static void close_files(struct tracked_thread *thread)
{
    threads_close_wait_file(&thread->wait_fd);
    threads_close_wait_file(&thread->schedstat_fd);
}

/* The helper lets go of a record: a registered thread still running frees it as it leaves. */
static void release(struct tracked_thread *thread)
{
    close_files(thread);
    if (!thread->registered || atomic_fetch_sub(&thread->owners, 1) == 1)
        free_record(thread);
}

static void remember_finished(struct session *s, const struct tracked_thread *thread)
{
    if (counters_all_s(&thread->totals) <= 0)
        return;
    if (s->finished_count > FINISHED_THREADS_LISTED) {
        counters_add(&s->finished[FINISHED_THREADS_LISTED].totals, &thread->totals);
        return;
    }
    if (s->finished_count == s->finished_capacity) {
        size_t capacity = s->finished_capacity ? s->finished_capacity * 2 : 16;
        if (capacity > FINISHED_THREADS_LISTED + 1)
            capacity = FINISHED_THREADS_LISTED + 1;
        struct profile_thread *grown = realloc(s->finished, capacity * sizeof *grown);
        if (!grown) {
            s->threads_untracked++; /* its time is in the lines and totals, not in the thread list */
            return;
        }
        s->finished = grown;
        s->finished_capacity = capacity;
    }
    s->finished[s->finished_count].tid = s->finished_count == FINISHED_THREADS_LISTED ? 0 : thread->tid;
    s->finished[s->finished_count].totals = thread->totals;
    s->finished_count++;
}

static void retire(struct session *s, struct tracked_thread *thread)
{
    delete_timer(thread);
    offcpu_flush(s, thread);
    cputime_drain(s, thread);
    cputime_credit_remainder(s, thread);
    s->retired_cpu_ns += thread->cpu_ns;
    remember_finished(s, thread);
    release(thread);
}

/* A registered thread that ended: it deleted its timer and read its own clock a last time. */
static void retire_ended(struct session *s, struct tracked_thread *thread)
{
    int64_t cpu_delta = thread->final_cpu_ns - thread->last_cpu_ns;
    if (s->enabled && cpu_delta > 0)
        thread->cpu_ns += cpu_delta;
    offcpu_flush(s, thread);
    cputime_drain(s, thread);
    cputime_credit_final(s, thread);
    s->retired_cpu_ns += thread->cpu_ns;
    remember_finished(s, thread);
    release(thread);
}

static int reserve_threads(struct session *s, size_t count)
{
    if (count <= s->thread_capacity)
        return 0;
    size_t capacity = s->thread_capacity ? s->thread_capacity : 16;
    while (capacity < count)
        capacity *= 2;
    struct tracked_thread **grown = realloc(s->threads, capacity * sizeof *grown);
    if (!grown)
        return -1;
    s->threads = grown;
    s->thread_capacity = capacity;
    return 0;
}

/* The process's thread ids into s->scan; their count, or -1. */
static long scan_threads(struct session *s)
{
    for (;;) {
        long found = threads_list(s->scan, s->scan_capacity);
        if (found < 0 || (size_t)found < s->scan_capacity)
            return found;
        pid_t *grown = realloc(s->scan, s->scan_capacity * 2 * sizeof *grown);
        if (!grown)
            return found; /* the threads past the end wait for a later beat */
        s->scan = grown;
        s->scan_capacity *= 2;
    }
}

static int compare_records(const void *a, const void *b)
{
    pid_t x = (*(struct tracked_thread *const *)a)->tid, y = (*(struct tracked_thread *const *)b)->tid;
    return (x > y) - (x < y);
}

/* The arrivals since the last beat, appended to s->threads (which keeps ascending order once
 * sorted again); returns how many, or -1 (then they are given back to the next beat). */
static long take_arrivals(struct session *s)
{
    struct tracked_thread *arrived = atomic_exchange(&s->arrived, NULL);
    size_t count = 0;
    for (struct tracked_thread *t = arrived; t; t = t->next_arrived)
        count++;
    if (reserve_threads(s, s->thread_count + count) < 0) {
        struct tracked_thread *last = arrived;
        while (last && last->next_arrived)
            last = last->next_arrived;
        if (last) {
            last->next_arrived = atomic_load(&s->arrived);
            while (!atomic_compare_exchange_weak(&s->arrived, &last->next_arrived, arrived))
                ;
        }
        return -1;
    }
    for (struct tracked_thread *t = arrived; t; t = t->next_arrived) {
        s->threads[s->thread_count++] = t;
        if (s->enabled && t->start_cpu_ns > 0) {
            /* Its start (thread state, the GIL) ran no line of the program: outside it. */
            struct counters amount = {.native_s = (double)t->start_cpu_ns / 1e9};
            cputime_credit(s, t, NULL, &amount);
            s->retired_cpu_ns += t->start_cpu_ns;
        }
    }
    return (long)count;
}

/* A thread the scan found and nothing registered: a timer now if no Python start is in flight
 * (it cannot be a Python thread yet to arrive), else after CANDIDATE_MAX_BEATS. */
static void consider_timer(struct session *s, struct tracked_thread *thread, int quiet, int64_t now_ns)
{
    if (atomic_load(&thread->has_timer) || (!quiet && ++thread->candidate_beats < CANDIDATE_MAX_BEATS))
        return;
    if (give_timer(s, thread, now_ns) < 0)
        thread->candidate_beats = 0; /* gone, or no timer: the beat retires it, or tries again */
}

/* Listing /proc/self/task costs the kernel about a microsecond a thread: with 1,000 threads
 * alive, listing them every beat took a quarter of a core. Python threads tell the helper when
 * they start and end, and a thread that ended fails its clock's read, so the list is only how
 * threads started from C are found: it is read every beat while at most SCAN_EVERY_BEAT_THREADS
 * are alive, and every (threads / SCAN_EVERY_BEAT_THREADS) beats above that. */
#define SCAN_EVERY_BEAT_THREADS 64

void helper_update_threads(struct session *s, int64_t now_ns)
{
    long found = -1;
    if (s->beats_to_scan > 0) {
        s->beats_to_scan--;
    } else {
        found = scan_threads(s);
        s->beats_to_scan = found / SCAN_EVERY_BEAT_THREADS;
    }
    /* Read after the scan: a Python thread listed there counted itself starting before it
     * existed and pushed its arrival before counting itself done, so when nothing is in flight
     * now, every Python thread the scan listed is among the arrivals taken below. */
    int quiet = atomic_load(&registry.starting) <= 0;
    if (take_arrivals(s) > 0)
        qsort(s->threads, s->thread_count, sizeof *s->threads, compare_records);
    if (found < 0)
        return;
    struct tracked_thread **merged = NULL;
    if (reserve_threads(s, s->thread_count + (size_t)found) < 0 ||
        !(merged = malloc((s->thread_count + (size_t)found + 1) * sizeof *merged))) {
        s->threads_untracked++;
        return;
    }
    size_t count = 0, old = 0;
    long listed_index = 0;
    while (old < s->thread_count || listed_index < found) {
        pid_t tid = listed_index < found ? s->scan[listed_index] : 0;
        if (old < s->thread_count && (listed_index >= found || s->threads[old]->tid < tid))
            tid = s->threads[old]->tid;
        int listed = listed_index < found && s->scan[listed_index] == tid;
        listed_index += listed;
        size_t end = old;
        int registered = 0;
        for (; end < s->thread_count && s->threads[end]->tid == tid; end++)
            registered |= s->threads[end]->registered;
        /* A registered record is the thread's own word: kept until it ends. A record the scan
         * made for the same id is the thread before it registered (or one gone whose id came
         * back): retired. */
        int kept = registered;
        for (; old < end; old++) {
            struct tracked_thread *thread = s->threads[old];
            if (thread->registered) {
                merged[count++] = thread;
            } else if (listed && !kept) {
                consider_timer(s, thread, quiet, now_ns);
                merged[count++] = thread;
                kept = 1;
            } else {
                retire(s, thread);
            }
        }
        if (listed && !kept && tid != s->helper_tid && tid != gpu_thread_id(s->gpu)) {
            struct tracked_thread *thread = new_record(tid, now_ns);
            if (thread) {
                consider_timer(s, thread, quiet, now_ns);
                merged[count++] = thread;
            } else {
                s->threads_untracked++; /* gone before it could be tracked, or no memory */
            }
        }
    }
    memcpy(s->threads, merged, count * sizeof *merged);
    s->thread_count = count;
    free(merged);
}

/* ---- threads registering themselves ------------------------------------------------------- */

/* A registered thread's record, left by the thread as it exits: its key's destructor runs after
 * the thread's function and Python's own teardown of the thread, and also for a thread that
 * pthread_exit ends (a daemon thread at the interpreter's finalization). */
static pthread_key_t leave_key;
static pthread_once_t leave_key_once = PTHREAD_ONCE_INIT;
static int leave_key_made;

static void leave(void *value);

static void make_leave_key(void)
{
    leave_key_made = pthread_key_create(&leave_key, leave) == 0;
}

void helper_open_arrivals(struct session *s)
{
    pthread_once(&leave_key_once, make_leave_key);
    registry.pid = getpid();
    atomic_store(&registry.session, s);
}

void helper_close_arrivals(void)
{
    atomic_store(&registry.session, NULL);
    /* A thread that read the session before it closed is still making its record. */
    while (atomic_load(&registry.registering) > 0) {
        struct timespec pause = {0, 100000};
        nanosleep(&pause, NULL);
    }
}

void helper_thread_starting(void)
{
    atomic_fetch_add(&registry.starting, 1);
}

void helper_thread_start_abandoned(void)
{
    atomic_fetch_sub(&registry.starting, 1);
}

void helper_thread_arrive(uintptr_t entry, uintptr_t thread_state)
{
    atomic_fetch_add(&registry.registering, 1);
    struct session *s = atomic_load(&registry.session);
    struct tracked_thread *thread = NULL;
    if (s && getpid() == registry.pid) {
        memsample_guard_enter(); /* the record is heatline's memory, not the program's */
        int64_t now_ns = threads_monotonic_ns();
        thread = new_record(threads_current_tid(), now_ns);
        if (thread && give_timer(s, thread, now_ns) < 0) {
            free_record(thread);
            thread = NULL;
        }
        memsample_guard_leave();
        if (thread && (!leave_key_made || pthread_setspecific(leave_key, thread) != 0)) {
            delete_timer(thread);
            free_record(thread);
            thread = NULL;
        }
        if (thread) {
            thread->registered = 1;
            thread->registered_pid = registry.pid;
            thread->entry = entry;
            thread->start_cpu_ns = thread->last_cpu_ns;
            atomic_store(&thread->owners, 2);
            atomic_store_explicit(&thread->sampler.thread_state, thread_state, memory_order_relaxed);
            thread->next_arrived = atomic_load(&s->arrived);
            while (!atomic_compare_exchange_weak(&s->arrived, &thread->next_arrived, thread))
                ;
        } else {
            atomic_fetch_add(&s->arrivals_untracked, 1);
        }
    }
    atomic_fetch_sub(&registry.registering, 1);
    atomic_fetch_sub(&registry.starting, 1);
}

static void leave(void *value)
{
    struct tracked_thread *thread = value;
    if (getpid() != thread->registered_pid)
        return; /* in a forked child the timer is not ours, the record the parent's */
    /* A signal the timer queued before it was deleted is delivered to this thread, the one it
     * aims at, before timer_delete returns: no handler touches the record after this. */
    delete_timer(thread);
    int64_t system_ns;
    threads_own_cpu_ns(&thread->final_cpu_ns, &system_ns);
    atomic_store_explicit(&thread->ended, 1, memory_order_release);
    if (atomic_fetch_sub(&thread->owners, 1) == 1)
        free_record(thread); /* the session is gone */
}

/* ---- the process's CPU time ----------------------------------------------------------------- */

static void account_process_cpu(struct session *s)
{
    int64_t process_ns, helper_ns = s->last_helper_cpu_ns;
    if (threads_cpu_time_ns(CLOCK_PROCESS_CPUTIME_ID, &process_ns) < 0)
        return;
    if (s->helper_exited)
        helper_ns = s->helper_final_cpu_ns;
    else if (s->helper_tid > 0)
        threads_cpu_time_ns(threads_cpu_clock(s->helper_tid), &helper_ns);
    int64_t poller_ns = s->last_gpu_poller_cpu_ns;
    gpu_thread_cpu_ns(s->gpu, &poller_ns);
    if (s->enabled) {
        s->process_cpu_ns += process_ns - s->last_process_cpu_ns;
        /* The GPU poller's time is heatline's own, like the helper's. */
        s->helper_cpu_ns += helper_ns - s->last_helper_cpu_ns + poller_ns - s->last_gpu_poller_cpu_ns;
    }
    s->last_process_cpu_ns = process_ns;
    s->last_helper_cpu_ns = helper_ns;
    s->last_gpu_poller_cpu_ns = poller_ns;
}

void helper_start_clocks(struct session *s)
{
    threads_cpu_time_ns(CLOCK_PROCESS_CPUTIME_ID, &s->last_process_cpu_ns);
}

int64_t helper_unattributed_cpu_ns(const struct session *s)
{
    int64_t tracked_ns = s->retired_cpu_ns;
    for (size_t i = 0; i < s->thread_count; i++)
        tracked_ns += s->threads[i]->cpu_ns;
    int64_t unattributed_ns = s->process_cpu_ns - s->helper_cpu_ns - tracked_ns;
    return unattributed_ns > 0 ? unattributed_ns : 0;
}

/* ---- memory events ------------------------------------------------------------------------ */

static void on_memory_sample(void *context, const struct memory_sample *sample)
{
    struct session *s = context;
    struct place place = {0};
    if (sample->stack.state == SAMPLE_NO_PYTHON)
        place = cputime_main_thread_place(s);
    else
        places_of(&s->places, &sample->stack, &place);
    live_add(&s->live, place.line ? &place.line->memory : NULL, place.line ? &place.function->memory : NULL,
             place.stack, sample);
}

static void on_memory_free(void *context, uintptr_t address)
{
    struct session *s = context;
    live_remove(&s->live, address);
}

void helper_drain_memory(struct session *s, int64_t now_ns)
{
    if (!s->memory)
        return;
    live_begin_batch(&s->live, now_ns - s->start_ns);
    struct memsample_sink sink = {on_memory_sample, on_memory_free, s};
    memsample_drain(&sink);
    live_settle(&s->live, s->lines);
}

/* ---- the beat ------------------------------------------------------------------------------ */

void helper_beat(struct session *s)
{
    int64_t now_ns = threads_monotonic_ns();
    helper_update_threads(s, now_ns);
    awaits_drain(s);
    size_t kept = 0, python_threads = 0;
    for (size_t i = 0; i < s->thread_count; i++) {
        struct tracked_thread *thread = s->threads[i];
        cputime_drain(s, thread);
        if (thread->registered && atomic_load_explicit(&thread->ended, memory_order_acquire)) {
            retire_ended(s, thread);
            continue;
        }
        find_thread_state(thread);
        if (offcpu_measure(s, thread, now_ns) < 0) {
            retire(s, thread);
            continue;
        }
        s->threads[kept++] = thread;
        python_threads += thread->thread_state != 0;
    }
    s->thread_count = kept;
    s->python_threads = python_threads;
    helper_drain_memory(s, now_ns);
    account_process_cpu(s);
    if (s->enabled)
        s->elapsed_ns += now_ns - s->last_beat_ns;
    s->last_beat_ns = now_ns;
    if (!sampler_still_installed())
        s->signal_replaced = 1;
}

static void *helper_main(void *argument)
{
    struct session *s = argument;
    memsample_ignore_this_thread(); /* what the helper allocates is heatline's, not the program's */
    pthread_mutex_lock(&s->lock);
    s->helper_tid = threads_current_tid();
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!s->stopping) {
        next.tv_nsec += BEAT_NS;
        while (next.tv_nsec >= 1000000000) {
            next.tv_nsec -= 1000000000;
            next.tv_sec++;
        }
        while (!s->stopping && pthread_cond_timedwait(&s->wake, &s->lock, &next) == 0)
            ;
        if (s->stopping)
            break;
        helper_beat(s);
        session_after_beat(s);
    }
    int64_t system_ns;
    threads_own_cpu_ns(&s->helper_final_cpu_ns, &system_ns);
    s->helper_exited = 1;
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int helper_start(struct session *s)
{
    /* The helper must never take the sampler's signal, nor the program's signals. */
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous);
    int failed = pthread_create(&s->helper, NULL, helper_main, s);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    return failed ? -1 : 0;
}

void helper_stop(struct session *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->helper, NULL);
}

void helper_delete_timers(struct session *s)
{
    for (size_t i = 0; i < s->thread_count; i++)
        delete_timer(s->threads[i]);
}

void helper_finish_threads(struct session *s)
{
    for (size_t i = 0; i < s->thread_count; i++) {
        offcpu_flush(s, s->threads[i]);
        cputime_drain(s, s->threads[i]);
        cputime_credit_remainder(s, s->threads[i]);
    }
}

void helper_free_threads(struct session *s)
{
    for (size_t i = 0; i < s->thread_count; i++)
        release(s->threads[i]);
    struct tracked_thread *arrived = atomic_exchange(&s->arrived, NULL);
    while (arrived) {
        struct tracked_thread *next = arrived->next_arrived;
        release(arrived);
        arrived = next;
    }
    free(s->threads);
    free(s->finished);
    free(s->scan);
    free(s->stand_ins);
    s->stand_ins = NULL;
    s->threads = NULL;
    s->finished = NULL;
    s->scan = NULL;
    s->thread_count = s->finished_count = 0;
}
