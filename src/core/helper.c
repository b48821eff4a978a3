/* helper: see helper.h.
 *
 * How time is split (docs/how-it-works.md has the derivation and error bounds):
 *   - each sample stands for one sampling interval of its thread's CPU time (one sample per
 *     stratum, see sampler.h); the kernel's share of the thread's time since its previous
 *     sample is system time, the rest is Python if the innermost frame was running bytecode in
 *     the interpreter, native if it sat on a call instruction or the thread was running code
 *     outside the interpreter;
 *   - the clocks decide how much time there was: what a thread's CPU clock ran after its last
 *     sample is added to the place of that sample when the thread (or the session) ends;
 *   - off-CPU time = wall - CPU clock - run-queue delay since the previous beat, exact, credited
 *     to the line the thread is blocked on now: GIL wait if it waits on the GIL's futex, system
 *     time otherwise; the run-queue delay is the machine's contention (cpu_wait_s). */
#define _GNU_SOURCE
#include "helper.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc_native.h"
#include "alloc_python.h"
#include "bytesampler.h"
#include "codecache.h"
#include "frames.h"
#include "leaks.h"
#include "linetable.h"
#include "sampler.h"
#include "threads.h"

#define BEAT_NS 10000000LL
/* Off-CPU time of a thread found running at the beat goes to where it was last seen blocked, if
 * that was this recent (a thread alternating short sleeps and work); otherwise to where it last
 * ran. */
#define RECENT_BLOCK_NS 100000000LL
/* At most how many beats apart to look again for the PyThreadState of a thread that has none
 * yet (a native thread never gets one). */
#define THREAD_STATE_RETRY_BEATS 50

/* Where time and memory go: a line and its function, or nowhere (outside the program) when line
 * is NULL. */
struct place {
    struct line_entry *line;
    struct function_entry *function;
};

#define FOOTPRINT_TIMELINE_POINTS 256
/* Sampled live blocks held at most (the byte sampler's own table holds fewer). */
#define LIVE_BLOCKS_LIMIT (1u << 20)

struct tracked_thread {
    struct sampler_thread sampler; /* its address is the timer's si_value */
    pid_t tid;
    clockid_t clock;
    int has_timer; /* its timer is sampler.timer */
    uintptr_t thread_state;
    int thread_state_retry;
    int thread_state_backoff;
    int64_t last_cpu_ns;
    int64_t last_wall_ns;
    int64_t cpu_ns;    /* CPU time while profiling was on */
    int64_t weight_ns; /* CPU time its samples stood for */
    double system_fraction;
    uint8_t last_state;
    struct place last;
    struct place blocked;
    int blocked_valid;
    int blocked_at_last_beat;
    int blocked_kind;
    int64_t blocked_seen_ns;
    int wait_fd;
    int schedstat_fd;
    int run_delay_known;
    int64_t last_run_delay_ns;
    struct counters totals;
};

struct session {
    struct session_config config;
    struct linetable *lines;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t helper;
    int helper_started;
    int stopping;
    int enabled;
    pid_t helper_tid;
    pid_t main_tid;
    size_t python_threads; /* threads with a PyThreadState, at the last beat */
    int64_t last_beat_ns;
    int64_t elapsed_ns;
    int64_t samples;
    int64_t dropped;
    struct counters totals;
    struct counters outside;
    int64_t cpu_wait_ns;
    struct tracked_thread **threads; /* ascending by tid */
    size_t thread_count;
    size_t thread_capacity;
    struct profile_thread *finished;
    size_t finished_count;
    size_t finished_capacity;
    pid_t *scan;
    size_t scan_capacity;
    int signal_replaced;
    /* memory (when config.memory_sampling_rate_bytes > 0) */
    int64_t start_ns;
    int64_t memory_now_ns; /* from start_ns, for the events being drained */
    struct live_table live;
    struct memory_counters memory_totals; /* alloc, python and copy bytes */
    struct memory_counters outside_memory; /* live blocks of no program line */
    double footprint_bytes;
    double peak_bytes;
    int64_t peak_ns;
    int peak_moved;
    const struct line_entry *peak_line;
    struct timeline *footprint;
    uint64_t memory_samples;
    uint64_t memory_dropped; /* lost to a full ring, or not tracked for want of room */
};

static struct session *session;
static int signal_replaced_last;
static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;

/* ---- code objects --------------------------------------------------------------------- */

static struct program_code *program_code_from(struct session *s, const struct code_copy *copy)
{
    struct program_code *program = calloc(1, sizeof *program);
    size_t units = copy->code_units ? copy->code_units : 1;
    int32_t *lines = calloc(units, sizeof *lines);
    if (!program || !lines) {
        free(program);
        free(lines);
        return NULL;
    }
    linetable_build_map(copy->format, copy->first_line, copy->table, copy->table_len, lines, units);
    program->file = linetable_intern(s->lines, copy->filename);
    program->name = linetable_intern(s->lines, copy->name);
    program->first_line = copy->first_line;
    program->code_units = units;
    program->lines = lines;
    return program;
}

/* Classifies a code object the cache does not know yet, copying it out of the interpreter. */
static enum code_class resolve_code(struct session *s, const struct frame_ref *ref,
                                    const struct program_code **program)
{
    enum code_class class = codecache_lookup(ref, program);
    if (class != CODE_UNKNOWN)
        return class;
    struct code_copy copy;
    if (frames_copy_code(ref->code, &copy) < 0)
        return CODE_UNKNOWN;
    struct program_code *made = NULL;
    class = CODE_LIBRARY;
    if (copy.first_line == ref->first_line && filter_is_program(&s->config.filter, copy.filename)) {
        made = program_code_from(s, &copy);
        if (made)
            class = CODE_PROGRAM;
    }
    frames_free_code_copy(&copy);
    if (codecache_insert(ref, class, made) < 0) {
        if (made) {
            free(made->lines);
            free(made);
        }
        return CODE_UNKNOWN;
    }
    *program = made;
    return class;
}

static enum code_class classify_resolving(const struct frame_ref *ref, void *context)
{
    const struct program_code *program;
    return resolve_code(context, ref, &program);
}

/* The innermost frame of the program among a sample's frames; 0 if there is none. */
static int place_of(struct session *s, const struct frames_stack *stack, struct place *out)
{
    for (int i = 0; i < stack->count; i++) {
        const struct frame_ref *ref = &stack->refs[i];
        const struct program_code *program = NULL;
        if (resolve_code(s, ref, &program) != CODE_PROGRAM || !program)
            continue;
        size_t unit = (size_t)ref->instruction < program->code_units ? (size_t)ref->instruction : 0;
        out->line = linetable_line(s->lines, program->file, program->lines[unit]);
        out->function = linetable_function(s->lines, program->file, program->name, program->first_line);
        return out->line && out->function;
    }
    out->line = NULL;
    out->function = NULL;
    return 0;
}

/* ---- crediting time ------------------------------------------------------------------- */

static void credit(struct session *s, struct tracked_thread *thread, const struct place *place,
                   const struct counters *amount)
{
    if (place && place->line) {
        counters_add(&place->line->counters, amount);
        counters_add(&place->function->counters, amount);
    } else {
        counters_add(&s->outside, amount);
    }
    counters_add(&thread->totals, amount);
    counters_add(&s->totals, amount);
}

static struct tracked_thread *find_thread(struct session *s, pid_t tid)
{
    for (size_t i = 0; i < s->thread_count; i++)
        if (s->threads[i]->tid == tid)
            return s->threads[i];
    return NULL;
}

/* CPU time split by the kernel's share and by where the thread was. */
static struct counters split_cpu(double seconds, double system_fraction, uint8_t state)
{
    struct counters amount = {0, 0, 0, 0};
    amount.system_s = system_fraction * seconds;
    if (state == SAMPLE_PYTHON)
        amount.python_s = seconds - amount.system_s;
    else
        amount.native_s = seconds - amount.system_s;
    return amount;
}

/* A thread with no Python at all (a native library's worker) works for the line the main thread
 * is on: where it waits if it was blocked at the last beat (joining the worker, say), otherwise
 * where it was last sampled. */
static struct place main_thread_place(struct session *s)
{
    struct place none = {NULL, NULL};
    struct tracked_thread *main_thread = find_thread(s, s->main_tid);
    if (!main_thread)
        return none;
    return main_thread->blocked_at_last_beat ? main_thread->blocked : main_thread->last;
}

static void credit_sample(struct session *s, struct tracked_thread *thread,
                          const struct cpu_sample *sample)
{
    if (sample->cpu_ns > 0)
        thread->system_fraction = (double)sample->system_ns / (double)sample->cpu_ns;
    struct counters amount = split_cpu((double)sample->weight_ns / 1e9, thread->system_fraction,
                                       sample->stack.state);
    struct place place = {NULL, NULL};
    int has_python = thread->thread_state ||
                     atomic_load_explicit(&thread->sampler.thread_state, memory_order_relaxed);
    if (sample->stack.state == SAMPLE_NO_PYTHON && !has_python) {
        place = main_thread_place(s);
    } else {
        place_of(s, &sample->stack, &place);
        thread->last = place;
    }
    thread->last_state = sample->stack.state;
    thread->weight_ns += sample->weight_ns;
    s->samples++;
    credit(s, thread, &place, &amount);
}

static void drain(struct session *s, struct tracked_thread *thread)
{
    struct cpu_sample sample;
    while (sampler_pop(&thread->sampler, &sample))
        credit_sample(s, thread, &sample);
}

/* What the thread's CPU clock ran beyond its samples, credited where its last sample went. */
static void credit_remainder(struct session *s, struct tracked_thread *thread)
{
    int64_t remainder_ns = thread->cpu_ns - thread->weight_ns;
    if (remainder_ns <= 0)
        return;
    uint8_t state = thread->weight_ns ? thread->last_state : SAMPLE_PYTHON;
    struct counters amount = split_cpu((double)remainder_ns / 1e9, thread->system_fraction, state);
    thread->weight_ns = thread->cpu_ns;
    credit(s, thread, &thread->last, &amount);
}

/* ---- memory ----------------------------------------------------------------------------- */

static void change_footprint(struct session *s, double delta)
{
    s->footprint_bytes += delta;
    if (s->footprint_bytes < 0)
        s->footprint_bytes = 0;
    timeline_record(s->footprint, s->memory_now_ns, s->footprint_bytes);
    if (s->footprint_bytes > s->peak_bytes) {
        s->peak_bytes = s->footprint_bytes;
        s->peak_ns = s->memory_now_ns;
        s->peak_moved = 1;
    }
}

/* A sampled allocation's bytes, or a sampled copy's, on the counters they belong to. */
static void count_bytes(struct memory_counters *memory, const struct memory_sample *sample)
{
    if (!memory)
        return;
    if (sample->kind == MEMORY_COPY) {
        memory->copy_bytes += sample->weight;
        return;
    }
    memory->alloc_bytes += sample->weight;
    if (sample->kind == MEMORY_PYTHON)
        memory->python_bytes += sample->weight;
}

/* A sampled block now live on a line (or function): leak evidence and live memory. */
static void hold(struct memory_counters *memory, double weight, int64_t now_ns)
{
    if (!memory)
        return;
    if (!memory->samples)
        memory->first_ns = now_ns;
    memory->samples++;
    memory_change_live(memory, weight, now_ns);
}

/* ...and freed. */
static void let_go(struct memory_counters *memory, double weight, int64_t now_ns)
{
    if (!memory)
        return;
    memory->freed++;
    memory_change_live(memory, -weight, now_ns);
}

static void release_block(struct session *s, const struct live_block *block)
{
    let_go(block->line, block->weight, s->memory_now_ns);
    let_go(block->function, block->weight, s->memory_now_ns);
    change_footprint(s, -block->weight);
}

static void on_memory_sample(void *context, const struct memory_sample *sample)
{
    struct session *s = context;
    struct place place = {NULL, NULL};
    if (sample->stack.state == SAMPLE_NO_PYTHON)
        place = main_thread_place(s);
    else
        place_of(s, &sample->stack, &place);
    struct memory_counters *line = place.line ? &place.line->memory : &s->outside_memory;
    struct memory_counters *function = place.line ? &place.function->memory : NULL;
    s->memory_samples++;
    count_bytes(line, sample);
    count_bytes(function, sample);
    count_bytes(&s->memory_totals, sample);
    if (sample->kind == MEMORY_COPY)
        return;
    struct live_block block = {sample->address, sample->weight, line, function}, replaced;
    int inserted = sample->tracked ? live_table_insert(&s->live, &block, &replaced) : -1;
    if (inserted < 0) {
        s->memory_dropped++; /* its free would go unseen: allocated, never live */
        return;
    }
    if (inserted == 1)
        release_block(s, &replaced); /* its free went unseen (a path no hook reaches) */
    hold(line, sample->weight, s->memory_now_ns);
    hold(function, sample->weight, s->memory_now_ns);
    change_footprint(s, sample->weight);
}

static void on_memory_free(void *context, uintptr_t address)
{
    struct session *s = context;
    struct live_block block;
    if (live_table_remove(&s->live, address, &block))
        release_block(s, &block);
}

/* The line holding the most live memory now (NULL when no program line holds any, or less than
 * the blocks outside the program). */
static const struct line_entry *largest_line(const struct session *s)
{
    const struct line_entry *largest = NULL;
    double most = s->outside_memory.live_bytes;
    size_t count = linetable_line_count(s->lines);
    for (size_t i = 0; i < count; i++) {
        const struct line_entry *line = linetable_line_at(s->lines, i);
        if (line->memory.live_bytes > most) {
            most = line->memory.live_bytes;
            largest = line;
        }
    }
    return largest;
}

static void drain_memory(struct session *s)
{
    if (!s->footprint)
        return;
    s->memory_now_ns = threads_monotonic_ns() - s->start_ns;
    struct bytesampler_sink sink = {on_memory_sample, on_memory_free, s};
    s->memory_dropped += bytesampler_drain(&sink);
    if (s->peak_moved) {
        s->peak_line = largest_line(s);
        s->peak_moved = 0;
    }
}

/* ---- off-CPU time ---------------------------------------------------------------------- */

static void credit_off_cpu(struct session *s, struct tracked_thread *thread, const struct place *place,
                           int kind, int64_t off_ns)
{
    struct counters amount = {0, 0, 0, 0};
    if (kind == WAIT_GIL)
        amount.gil_wait_s = (double)off_ns / 1e9;
    else
        amount.system_s = (double)off_ns / 1e9;
    credit(s, thread, place, &amount);
}

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

/* Returns -1 when the thread is gone. */
static int measure_off_cpu(struct session *s, struct tracked_thread *thread, int64_t now)
{
    int64_t cpu;
    if (threads_cpu_time_ns(thread->clock, &cpu) < 0)
        return -1;
    int64_t cpu_delta = cpu - thread->last_cpu_ns;
    int64_t off_ns = (now - thread->last_wall_ns) - cpu_delta;
    thread->last_cpu_ns = cpu;
    thread->last_wall_ns = now;
    if (cpu_delta < 0)
        return -1; /* the id now names another thread */
    find_thread_state(thread);
    /* A native library's idle workers wait for work, not for the program. */
    if (!thread->thread_state) {
        if (s->enabled)
            thread->cpu_ns += cpu_delta;
        return 0;
    }
    /* Time ready to run with every CPU busy is the machine's contention, not the line's. */
    int64_t run_delay;
    if (threads_run_delay_ns(thread->tid, &thread->schedstat_fd, &run_delay) == 0) {
        int64_t waited = run_delay - thread->last_run_delay_ns;
        thread->last_run_delay_ns = run_delay;
        if (waited > 0 && thread->run_delay_known) {
            off_ns -= waited;
            if (s->enabled)
                s->cpu_wait_ns += waited;
        }
        thread->run_delay_known = 1;
    }
    if (!s->enabled)
        return 0;
    thread->cpu_ns += cpu_delta;
    if (off_ns <= 0)
        return 0;
    if (cpu_delta == 0 && thread->blocked_valid) {
        /* Not run since the last look: its frames and its wait are unchanged. */
        credit_off_cpu(s, thread, &thread->blocked, thread->blocked_kind, off_ns);
        return 0;
    }
    struct frames_stack stack;
    int readable = frames_walk_remote(thread->thread_state, classify_resolving, s, &stack) == 0;
    int64_t cpu_after;
    int still = threads_cpu_time_ns(thread->clock, &cpu_after) == 0 && cpu_after == cpu;
    if (readable && still) {
        int kind = threads_wait_kind(thread->tid, &thread->wait_fd, frames_address_in_gil);
        if (kind != WAIT_RUNNING) {
            struct place place;
            place_of(s, &stack, &place);
            if (thread->blocked_at_last_beat && place.line != thread->blocked.line) {
                /* It woke from one wait and entered another since the last beat, at a moment
                 * equally likely anywhere in between: half the time to each is unbiased. */
                int64_t before_ns = off_ns / 2;
                credit_off_cpu(s, thread, &thread->blocked, thread->blocked_kind, before_ns);
                off_ns -= before_ns;
            }
            thread->blocked = place;
            thread->blocked_valid = 1;
            thread->blocked_at_last_beat = 1;
            thread->blocked_kind = kind;
            thread->blocked_seen_ns = now;
            credit_off_cpu(s, thread, &place, kind, off_ns);
            return 0;
        }
    }
    thread->blocked_at_last_beat = 0;
    /* Running now: the short waits since the last beat happened where it was last seen
     * blocked, if that was recent, and were of that kind. Otherwise they happened where it last
     * ran: a thread running bytecode blocks nowhere but on the GIL (threads taking turns), one in
     * native code may have waited for anything. */
    if (thread->blocked_valid && now - thread->blocked_seen_ns < RECENT_BLOCK_NS)
        credit_off_cpu(s, thread, &thread->blocked, thread->blocked_kind, off_ns);
    else
        credit_off_cpu(s, thread, &thread->last,
                       thread->last_state == SAMPLE_PYTHON && s->python_threads > 1 ? WAIT_GIL
                                                                                    : WAIT_BLOCKED,
                       off_ns);
    return 0;
}

/* ---- the set of threads ------------------------------------------------------------------ */

static struct tracked_thread *track(struct session *s, pid_t tid, int64_t now)
{
    struct tracked_thread *thread = calloc(1, sizeof *thread);
    if (!thread)
        return NULL;
    thread->tid = tid;
    thread->clock = threads_cpu_clock(tid);
    thread->wait_fd = -1;
    thread->schedstat_fd = -1;
    thread->last_wall_ns = now;
    timer_t timer;
    if (threads_cpu_time_ns(thread->clock, &thread->last_cpu_ns) < 0 ||
        threads_timer_create(tid, sampler_signal(), thread, &timer) != 0) {
        free(thread);
        return NULL;
    }
    thread->has_timer = 1;
    uint64_t seed = (uint64_t)now ^ ((uint64_t)tid << 32) ^ (uint64_t)(uintptr_t)thread;
    sampler_thread_start(&thread->sampler, timer, thread->last_cpu_ns, s->config.cpu_sampling_interval_ns,
                         seed);
    return thread;
}

static void remember_finished(struct session *s, const struct tracked_thread *thread)
{
    if (counters_total_s(&thread->totals) + thread->totals.gil_wait_s <= 0)
        return;
    if (s->finished_count == s->finished_capacity) {
        size_t capacity = s->finished_capacity ? s->finished_capacity * 2 : 16;
        struct profile_thread *grown = realloc(s->finished, capacity * sizeof *grown);
        if (!grown)
            return;
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
    drain(s, thread);
    credit_remainder(s, thread);
    threads_close_wait_file(&thread->wait_fd);
    threads_close_wait_file(&thread->schedstat_fd);
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

/* Matches the tracked threads against the process's threads: new ones get a timer, gone ones
 * are retired. Both lists are ascending by tid. */
static void update_threads(struct session *s, int64_t now)
{
    long found;
    for (;;) {
        found = threads_list(s->scan, s->scan_capacity);
        if (found < 0)
            return;
        if ((size_t)found < s->scan_capacity)
            break;
        pid_t *grown = realloc(s->scan, s->scan_capacity * 2 * sizeof *grown);
        if (!grown)
            break;
        s->scan = grown;
        s->scan_capacity *= 2;
    }
    if (reserve_threads(s, s->thread_count + (size_t)found) < 0)
        return;
    struct tracked_thread **merged = malloc((s->thread_count + (size_t)found + 1) * sizeof *merged);
    if (!merged)
        return;
    size_t count = 0, old = 0;
    for (long i = 0; i < found; i++) {
        pid_t tid = s->scan[i];
        while (old < s->thread_count && s->threads[old]->tid < tid)
            retire(s, s->threads[old++]);
        if (old < s->thread_count && s->threads[old]->tid == tid) {
            merged[count++] = s->threads[old++];
        } else if (tid != s->helper_tid) {
            struct tracked_thread *thread = track(s, tid, now);
            if (thread)
                merged[count++] = thread;
        }
    }
    while (old < s->thread_count)
        retire(s, s->threads[old++]);
    memcpy(s->threads, merged, count * sizeof *merged);
    s->thread_count = count;
    free(merged);
}

/* One beat: new and gone threads, samples into lines, off-CPU time. Called with the lock. */
static void beat(struct session *s)
{
    int64_t now = threads_monotonic_ns();
    update_threads(s, now);
    size_t kept = 0, python_threads = 0;
    for (size_t i = 0; i < s->thread_count; i++) {
        struct tracked_thread *thread = s->threads[i];
        drain(s, thread);
        s->dropped += (int64_t)atomic_exchange(&thread->sampler.dropped, 0);
        if (measure_off_cpu(s, thread, now) < 0) {
            retire(s, thread);
            continue;
        }
        s->threads[kept++] = thread;
        python_threads += thread->thread_state != 0;
    }
    s->thread_count = kept;
    s->python_threads = python_threads;
    drain_memory(s);
    if (s->enabled)
        s->elapsed_ns += now - s->last_beat_ns;
    s->last_beat_ns = now;
    if (!sampler_still_installed())
        s->signal_replaced = 1;
}

static void *helper_main(void *argument)
{
    struct session *s = argument;
    bytesampler_ignore_this_thread(); /* what the helper allocates is heatline's, not the program's */
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
        if (!s->stopping)
            beat(s);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ---- the session ----------------------------------------------------------------------- */

void session_config_free(struct session_config *config)
{
    filter_free(&config->filter);
    string_list_free(&config->argv);
    free(config->program);
    free(config->python_version);
    free(config->heatline_version);
    memset(config, 0, sizeof *config);
}

static void free_session(struct session *s)
{
    for (size_t i = 0; i < s->thread_count; i++) {
        threads_close_wait_file(&s->threads[i]->wait_fd);
        threads_close_wait_file(&s->threads[i]->schedstat_fd);
        free(s->threads[i]);
    }
    free(s->threads);
    free(s->finished);
    free(s->scan);
    free(s->footprint);
    live_table_free(&s->live);
    free(s->outside_memory.timeline);
    linetable_free(s->lines);
    session_config_free(&s->config);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s);
}

/* A forked child has none of the parent's threads, timers or helper: it starts unprofiled. The
 * parent's session memory is left alone (another thread may have held its lock at the fork). */
static void forget_session_in_child(void)
{
    session = NULL;
    sampler_set_enabled(0);
}

static void install_fork_handler(void)
{
    pthread_atfork(NULL, NULL, forget_session_in_child);
}

/* Hooks in place, sampling (or only watching frees while paused). GIL held. */
static int start_memory(struct session *s)
{
    s->footprint = timeline_new(FOOTPRINT_TIMELINE_POINTS);
    if (!s->footprint)
        return -1;
    live_table_init(&s->live, LIVE_BLOCKS_LIMIT);
    if (bytesampler_start(s->config.memory_sampling_rate_bytes) < 0)
        return -1;
    bytesampler_set_main_thread(frames_current_thread_state());
    alloc_python_start();
    alloc_native_start();
    bytesampler_set_mode(s->enabled ? BYTESAMPLER_SAMPLING : BYTESAMPLER_FREES);
    return 0;
}

/* Every hook off and restored; what they wrote before is drained. GIL held. */
static void stop_memory(struct session *s)
{
    if (!s->footprint)
        return;
    bytesampler_stop();
    alloc_native_stop();
    alloc_python_stop();
    drain_memory(s);
}

/* Undoes a start that failed after the threads got their timers. */
static void abandon(struct session *s)
{
    stop_memory(s);
    for (size_t i = 0; i < s->thread_count; i++)
        threads_timer_delete(s->threads[i]->sampler.timer);
    sampler_set_enabled(0);
    sampler_uninstall();
    free_session(s);
}

int helper_start(struct session_config *config, char *error, size_t error_size)
{
    if (session) {
        session_config_free(config);
        snprintf(error, error_size, "a profiling session is already running");
        return -1;
    }
    if (!threads_remote_read_works()) {
        session_config_free(config);
        snprintf(error, error_size, "process_vm_readv is not permitted here (seccomp?)");
        return -1;
    }
    if (sampler_install(error, error_size) < 0) {
        session_config_free(config);
        return -1;
    }
    pthread_once(&fork_handler_once, install_fork_handler);
    struct session *s = calloc(1, sizeof *s);
    if (!s) {
        session_config_free(config);
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    s->config = *config;
    memset(config, 0, sizeof *config);
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &attributes);
    pthread_condattr_destroy(&attributes);
    s->lines = linetable_new();
    s->scan_capacity = 256;
    s->scan = malloc(s->scan_capacity * sizeof *s->scan);
    if (!s->lines || !s->scan || frames_init(s->config.call_opcodes) < 0) {
        free_session(s);
        sampler_uninstall();
        snprintf(error, error_size, "could not set up the profiler (out of memory?)");
        return -1;
    }
    codecache_reset();
    uintptr_t code_start = 0, code_end = UINTPTR_MAX, own_start = 0, own_end = 0;
    frames_interpreter_code(&code_start, &code_end);
    threads_code_segment_of((uintptr_t)&helper_start, &own_start, &own_end);
    sampler_set_interpreter_code(code_start, code_end, own_start, own_end);
    s->main_tid = threads_current_tid();
    s->helper_tid = -1;
    s->enabled = s->config.start_enabled;
    s->last_beat_ns = threads_monotonic_ns();
    s->start_ns = s->last_beat_ns;
    sampler_set_enabled(s->enabled);
    update_threads(s, s->last_beat_ns);
    if (s->config.memory_sampling_rate_bytes > 0 && start_memory(s) < 0) {
        abandon(s);
        snprintf(error, error_size, "could not set up memory profiling (out of memory?)");
        return -1;
    }

    /* The helper must never take the sampler's signal, nor the program's signals. */
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous);
    int failed = pthread_create(&s->helper, NULL, helper_main, s);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (failed) {
        abandon(s);
        snprintf(error, error_size, "could not start the helper thread");
        return -1;
    }
    s->helper_started = 1;
    session = s;
    return 0;
}

int helper_is_running(void)
{
    return session != NULL;
}

void helper_set_enabled(int enabled)
{
    if (!session)
        return;
    pthread_mutex_lock(&session->lock);
    session->enabled = enabled != 0;
    sampler_set_enabled(session->enabled);
    if (session->footprint)
        bytesampler_set_mode(session->enabled ? BYTESAMPLER_SAMPLING : BYTESAMPLER_FREES);
    pthread_mutex_unlock(&session->lock);
}

int helper_is_enabled(void)
{
    return session && session->enabled;
}

static char *write_document(struct session *s, const struct profiled_function *functions,
                            size_t function_count, int restricted)
{
    size_t thread_total = s->finished_count + s->thread_count;
    struct profile_thread *threads = calloc(thread_total + 1, sizeof *threads);
    if (!threads)
        return NULL;
    memcpy(threads, s->finished, s->finished_count * sizeof *threads);
    size_t n = s->finished_count;
    for (size_t i = 0; i < s->thread_count; i++) {
        const struct tracked_thread *thread = s->threads[i];
        if (counters_total_s(&thread->totals) + thread->totals.gil_wait_s > 0) {
            threads[n].tid = thread->tid;
            threads[n].totals = thread->totals;
            n++;
        }
    }
    struct profile_input input = {
        .program = s->config.program,
        .argv = &s->config.argv,
        .python_version = s->config.python_version,
        .heatline_version = s->config.heatline_version,
        .pid = getpid(),
        .elapsed_s = (double)s->elapsed_ns / 1e9,
        .cpu_sampling_interval_s = (double)s->config.cpu_sampling_interval_ns / 1e9,
        .samples = s->samples,
        .dropped_samples = s->dropped,
        .totals = s->totals,
        .outside_program_s = counters_total_s(&s->outside),
        .cpu_wait_s = (double)s->cpu_wait_ns / 1e9,
        .lines = s->lines,
        .threads = threads,
        .thread_count = n,
        .restricted = restricted,
        .functions = functions,
        .function_count = function_count,
        .memory = s->footprint != NULL,
        .memory_sampling_rate_bytes = s->config.memory_sampling_rate_bytes,
        .memory_samples = (int64_t)s->memory_samples,
        .memory_dropped = (int64_t)s->memory_dropped,
        .memory_totals = &s->memory_totals,
        .end_ns = threads_monotonic_ns() - s->start_ns,
        .footprint = s->footprint,
        .footprint_bytes = s->footprint_bytes,
        .peak_bytes = s->peak_bytes,
        .peak_ns = s->peak_ns,
        .peak_line = s->peak_line,
    };
    char *document = profile_write(&input);
    free(threads);
    return document;
}

char *helper_snapshot(const struct profiled_function *functions, size_t count, int restricted)
{
    if (!session)
        return NULL;
    pthread_mutex_lock(&session->lock);
    char *document = write_document(session, functions, count, restricted);
    pthread_mutex_unlock(&session->lock);
    return document;
}

char *helper_stop(const struct profiled_function *functions, size_t count, int restricted)
{
    struct session *s = session;
    if (!s)
        return NULL;
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->helper, NULL);

    /* The last beat counts the time up to now; then no handler may run while rings are read. */
    beat(s);
    stop_memory(s);
    sampler_set_enabled(0);
    for (size_t i = 0; i < s->thread_count; i++) {
        threads_timer_delete(s->threads[i]->sampler.timer);
        s->threads[i]->has_timer = 0;
    }
    sampler_uninstall();
    for (size_t i = 0; i < s->thread_count; i++) {
        drain(s, s->threads[i]);
        credit_remainder(s, s->threads[i]);
    }
    char *document = write_document(s, functions, count, restricted);
    signal_replaced_last = s->signal_replaced;
    session = NULL;
    free_session(s);
    codecache_reset();
    return document;
}

int helper_signal_was_replaced(void)
{
    return session ? session->signal_replaced : signal_replaced_last;
}
