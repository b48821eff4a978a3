/* sampler: see sampler.h.
 *
 * Why a real-time signal: SIGPROF and SIGALRM belong to programs (and to other profilers); a
 * real-time signal nobody handles cannot collide with them, and each timer's signal is queued
 * with its own si_value (the thread's record). */
#define _GNU_SOURCE
#include "sampler.h"

#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "platform.h"
#include "threads.h"
#include "xorshift.h"

/* Start the search a few signals above SIGRTMIN: glibc and some libraries take the first ones. */
#define FIRST_CANDIDATE_OFFSET 3

static int signal_number = -1;
static struct sigaction previous_action;
static atomic_int enabled;
static atomic_int handlers_running;
static struct code_range interpreter_code[SAMPLER_INTERPRETER_RANGES];
static size_t interpreter_code_count;

static int in_interpreter_code(uintptr_t address)
{
    for (size_t i = 0; i < interpreter_code_count; i++)
        if (address >= interpreter_code[i].start && address < interpreter_code[i].end)
            return 1;
    return 0;
}

static struct code_range machinery[SAMPLER_MACHINERY_RANGES]; /* ascending, not overlapping */
static size_t machinery_count;

static int in_machinery(uintptr_t address)
{
    size_t low = 0, high = machinery_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (address < machinery[middle].start)
            high = middle;
        else if (address >= machinery[middle].end)
            low = middle + 1;
        else
            return 1;
    }
    return 0;
}

static int compare_ranges(const void *a, const void *b)
{
    const struct code_range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

void sampler_set_machinery(const struct code_range *ranges, size_t count)
{
    machinery_count = count < SAMPLER_MACHINERY_RANGES ? count : SAMPLER_MACHINERY_RANGES;
    memcpy(machinery, ranges, machinery_count * sizeof *ranges);
    qsort(machinery, machinery_count, sizeof *machinery, compare_ranges);
}

/* Arms the timer for a random moment in the stratum after `stratum`. */
static void arm_next(struct sampler_thread *thread, int64_t stratum, int64_t cpu_now_ns)
{
    int64_t offset = (int64_t)(xorshift_next(&thread->random_state) % (uint64_t)thread->interval_ns);
    int64_t deadline = thread->origin_ns + (stratum + 1) * thread->interval_ns + offset;
    threads_timer_arm_once(thread->timer, deadline > cpu_now_ns ? deadline - cpu_now_ns : 1);
}

void sampler_thread_start(struct sampler_thread *thread, timer_t timer, int64_t cpu_now_ns,
                          int64_t interval_ns, uint64_t seed)
{
    thread->timer = timer;
    thread->interval_ns = interval_ns;
    thread->origin_ns = cpu_now_ns;
    thread->last_stratum = -1;
    thread->random_state = seed | 1;
    thread->last_cpu_ns = cpu_now_ns;
    thread->last_system_ns = -1;
    arm_next(thread, -1, cpu_now_ns);
}

static void on_timer_signal(int signo, siginfo_t *info, void *ucontext)
{
    (void)signo;
    atomic_fetch_add_explicit(&handlers_running, 1, memory_order_acquire);
    int saved_errno = errno;
    struct sampler_thread *self = info->si_code == SI_TIMER ? info->si_value.sival_ptr : NULL;
    if (self) {
        int64_t cpu_ns, system_ns;
        threads_own_cpu_ns(&cpu_ns, &system_ns);
        int64_t cpu_delta = cpu_ns - self->last_cpu_ns;
        int64_t system_delta = self->last_system_ns < 0 ? 0 : system_ns - self->last_system_ns;
        self->last_cpu_ns = cpu_ns;
        self->last_system_ns = system_ns;
        int64_t stratum = (cpu_ns - self->origin_ns) / self->interval_ns;
        int64_t strata = stratum > self->last_stratum ? stratum - self->last_stratum : 1;
        self->last_stratum = stratum;
        arm_next(self, stratum, cpu_ns);
        uint32_t head = atomic_load_explicit(&self->head, memory_order_relaxed);
        uint32_t tail = atomic_load_explicit(&self->tail, memory_order_acquire);
        if (!atomic_load_explicit(&enabled, memory_order_relaxed)) {
            /* paused: the deltas above were consumed so the next sample starts from now */
        } else if (head - tail >= SAMPLER_RING_CAPACITY) {
            atomic_fetch_add_explicit(&self->dropped, 1, memory_order_relaxed);
        } else {
            struct cpu_sample *record = &self->ring[head & (SAMPLER_RING_CAPACITY - 1)];
            record->weight_ns = strata * self->interval_ns;
            record->cpu_ns = cpu_delta > 0 ? cpu_delta : 0;
            record->system_ns = system_delta < 0 ? 0 : system_delta > cpu_delta ? cpu_delta : system_delta;
            uintptr_t thread_state = frames_capture_own(&record->stack);
            if (thread_state) {
                atomic_store_explicit(&self->thread_state, thread_state, memory_order_relaxed);
                uintptr_t address = platform_interrupted_address(ucontext);
                if (record->stack.state == SAMPLE_PYTHON && address && !in_interpreter_code(address))
                    record->stack.state = SAMPLE_NATIVE;
                else if (record->stack.state == SAMPLE_NATIVE && address && in_machinery(address))
                    record->stack.state = SAMPLE_PYTHON; /* the interpreter calling Python code */
            }
            atomic_store_explicit(&self->head, head + 1, memory_order_release);
        }
    }
    errno = saved_errno;
    atomic_fetch_sub_explicit(&handlers_running, 1, memory_order_release);
}

int sampler_install(char *error, size_t error_size)
{
    if (signal_number > 0)
        return signal_number;
    for (int candidate = SIGRTMIN + FIRST_CANDIDATE_OFFSET; candidate <= SIGRTMAX; candidate++) {
        struct sigaction current;
        if (sigaction(candidate, NULL, &current) != 0)
            continue;
        if (!(current.sa_flags & SA_SIGINFO) && current.sa_handler != SIG_DFL)
            continue;
        if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction != NULL)
            continue;
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = on_timer_signal;
        action.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&action.sa_mask);
        if (sigaction(candidate, &action, &previous_action) != 0)
            continue;
        signal_number = candidate;
        return candidate;
    }
    snprintf(error, error_size, "no free real-time signal for the CPU sampler (all of %d..%d are handled)",
             SIGRTMIN + FIRST_CANDIDATE_OFFSET, SIGRTMAX);
    return -1;
}

int sampler_signal(void)
{
    return signal_number;
}

int sampler_still_installed(void)
{
    struct sigaction current;
    return signal_number > 0 && sigaction(signal_number, NULL, &current) == 0 &&
           (current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_timer_signal;
}

void sampler_uninstall(void)
{
    if (signal_number < 0)
        return;
    /* A real-time signal's default action kills the process: a signal still queued from a
     * deleted timer must meet SIG_IGN (which also discards the queue), never SIG_DFL. */
    if (sampler_still_installed()) {
        struct sigaction ignore;
        memset(&ignore, 0, sizeof ignore);
        ignore.sa_handler = SIG_IGN;
        sigaction(signal_number, &ignore, NULL);
        while (atomic_load_explicit(&handlers_running, memory_order_acquire) > 0) {
            struct timespec pause = {0, 100000};
            nanosleep(&pause, NULL);
        }
        sigaction(signal_number, &previous_action, NULL);
    }
    signal_number = -1;
}

void sampler_set_interpreter_code(const struct code_range *ranges, size_t count)
{
    interpreter_code_count = count < SAMPLER_INTERPRETER_RANGES ? count : SAMPLER_INTERPRETER_RANGES;
    for (size_t i = 0; i < interpreter_code_count; i++)
        interpreter_code[i] = ranges[i];
}

void sampler_set_enabled(int value)
{
    atomic_store_explicit(&enabled, value != 0, memory_order_relaxed);
}

int sampler_is_enabled(void)
{
    return atomic_load_explicit(&enabled, memory_order_relaxed);
}

int sampler_pop(struct sampler_thread *thread, struct cpu_sample *out)
{
    uint32_t tail = atomic_load_explicit(&thread->tail, memory_order_relaxed);
    uint32_t head = atomic_load_explicit(&thread->head, memory_order_acquire);
    if (tail == head)
        return 0;
    /* A record holds room for the deepest stack; most use a few of its frames. */
    const struct cpu_sample *record = &thread->ring[tail & (SAMPLER_RING_CAPACITY - 1)];
    memcpy(out, record, offsetof(struct cpu_sample, stack.refs) + record->stack.count * sizeof record->stack.refs[0]);
    atomic_store_explicit(&thread->tail, tail + 1, memory_order_release);
    return 1;
}
