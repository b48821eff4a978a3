/* helper: see helper.h. */
#define _GNU_SOURCE
#include "helper.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static struct tracked_thread *track(struct session *s, pid_t tid, int64_t now_ns)
{
    struct tracked_thread *thread = calloc(1, sizeof *thread);
    if (!thread)
        return NULL;
    thread->tid = tid;
    thread->clock = threads_cpu_clock(tid);
    thread->wait_fd = -1;
    thread->schedstat_fd = -1;
    thread->last_wall_ns = now_ns;
    timer_t timer;
    if (threads_cpu_time_ns(thread->clock, &thread->last_cpu_ns) < 0 ||
        threads_timer_create(tid, sampler_signal(), thread, &timer) != 0) {
        free(thread);
        return NULL;
    }
    thread->has_timer = 1;
    uint64_t seed = (uint64_t)now_ns ^ ((uint64_t)tid << 32) ^ (uint64_t)(uintptr_t)thread;
    sampler_thread_start(&thread->sampler, timer, thread->last_cpu_ns, s->config.cpu_sampling_interval_ns, seed);
    return thread;
}

static void close_files(struct tracked_thread *thread)
{
    threads_close_wait_file(&thread->wait_fd);
    threads_close_wait_file(&thread->schedstat_fd);
}

static void remember_finished(struct session *s, const struct tracked_thread *thread)
{
    if (counters_total_s(&thread->totals) + thread->totals.gil_wait_s <= 0)
        return;
    if (s->finished_count == s->finished_capacity) {
        size_t capacity = s->finished_capacity ? s->finished_capacity * 2 : 16;
        struct profile_thread *grown = realloc(s->finished, capacity * sizeof *grown);
        if (!grown) {
            s->threads_untracked++; /* its time is in the lines and totals, not in the thread list */
            return;
        }
        s->finished = grown;
        s->finished_capacity = capacity;
    }
    s->finished[s->finished_count].tid = thread->tid;
    s->finished[s->finished_count].totals = thread->totals;
    s->finished_count++;
}

static void retire(struct session *s, struct tracked_thread *thread)
{
    if (thread->has_timer)
        threads_timer_delete(thread->sampler.timer);
    offcpu_flush(s, thread);
    cputime_drain(s, thread);
    cputime_credit_remainder(s, thread);
    close_files(thread);
    remember_finished(s, thread);
    free(thread);
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

void helper_update_threads(struct session *s, int64_t now_ns)
{
    long found = scan_threads(s);
    if (found < 0)
        return;
    struct tracked_thread **merged = NULL;
    if (reserve_threads(s, s->thread_count + (size_t)found) < 0 ||
        !(merged = malloc((s->thread_count + (size_t)found + 1) * sizeof *merged))) {
        s->threads_untracked++;
        return;
    }
    size_t count = 0, old = 0;
    for (long i = 0; i < found; i++) {
        pid_t tid = s->scan[i];
        while (old < s->thread_count && s->threads[old]->tid < tid)
            retire(s, s->threads[old++]);
        if (old < s->thread_count && s->threads[old]->tid == tid) {
            merged[count++] = s->threads[old++];
        } else if (tid != s->helper_tid) {
            struct tracked_thread *thread = track(s, tid, now_ns);
            if (thread)
                merged[count++] = thread;
            else
                s->threads_untracked++; /* gone before it could be tracked, or no timer */
        }
    }
    while (old < s->thread_count)
        retire(s, s->threads[old++]);
    memcpy(s->threads, merged, count * sizeof *merged);
    s->thread_count = count;
    free(merged);
}

/* ---- memory events ------------------------------------------------------------------------ */

static void on_memory_sample(void *context, const struct memory_sample *sample)
{
    struct session *s = context;
    struct place place = {NULL, NULL};
    if (sample->stack.state == SAMPLE_NO_PYTHON)
        place = cputime_main_thread_place(s);
    else
        places_of(&s->places, &sample->stack, &place);
    live_add(&s->live, place.line ? &place.line->memory : NULL, place.line ? &place.function->memory : NULL,
             sample);
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
    s->live.now_ns = now_ns - s->start_ns;
    struct memsample_sink sink = {on_memory_sample, on_memory_free, s};
    memsample_drain(&sink);
    live_settle(&s->live, s->lines);
}

/* ---- the beat ------------------------------------------------------------------------------ */

void helper_beat(struct session *s)
{
    int64_t now_ns = threads_monotonic_ns();
    helper_update_threads(s, now_ns);
    size_t kept = 0, python_threads = 0;
    for (size_t i = 0; i < s->thread_count; i++) {
        struct tracked_thread *thread = s->threads[i];
        cputime_drain(s, thread);
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
        struct timespec own;
        if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &own) == 0)
            s->helper_cpu_ns = (int64_t)own.tv_sec * 1000000000LL + own.tv_nsec;
        session_after_beat(s);
    }
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
    for (size_t i = 0; i < s->thread_count; i++) {
        struct tracked_thread *thread = s->threads[i];
        if (thread->has_timer) {
            threads_timer_delete(thread->sampler.timer);
            thread->has_timer = 0;
        }
    }
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
    for (size_t i = 0; i < s->thread_count; i++) {
        close_files(s->threads[i]);
        free(s->threads[i]);
    }
    free(s->threads);
    free(s->finished);
    free(s->scan);
    s->threads = NULL;
    s->finished = NULL;
    s->scan = NULL;
    s->thread_count = s->finished_count = 0;
}
