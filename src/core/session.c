/* session: see session.h. */
#define _GNU_SOURCE
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_native.h"
#include "alloc_python.h"
#include "awaits.h"
#include "codecache.h"
#include "frames.h"
#include "helper.h"
#include "memsample.h"
#include "platform.h"
#include "threads.h"

#define WARNING_SIZE 200
#define MAX_WARNINGS 9
/* How often a child process's document is rewritten while it runs: a child killed with SIGKILL
 * loses at most this much; but never more often than every OUTPUT_COST_FACTOR times what the
 * last write took, so that writing costs the helper at most 2% of a CPU (a profile of 20,000
 * lines takes about 0.1 s to write: benchmarks/flush_cost.py). */
#define OUTPUT_INTERVAL_NS 1000000000LL
#define OUTPUT_COST_FACTOR 50
/* CPU time no thread's clock accounted for is worth a warning above both: sampling can miss a
 * few milliseconds anywhere, and the clocks are read a beat apart at the session's two ends. */
#define UNATTRIBUTED_WARNING_MIN_S 0.01
#define UNATTRIBUTED_WARNING_MIN_FRACTION 0.01

static struct session *session;
static int signal_replaced_last;
static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;

/* ---- the one fork handler (the order is session.h's) ---------------------------------------- */

static void before_fork(void)
{
    alloc_native_before_fork();
}

static void after_fork_parent(void)
{
    alloc_native_after_fork_parent();
}

/* The parent's session memory is left alone (another thread may have held its lock at the
 * fork); the child's view of it is dropped. */
static void after_fork_child(void)
{
    memsample_after_fork_child();
    alloc_native_after_fork_child();
    awaits_after_fork_child();
    session = NULL;
    sampler_set_enabled(0);
}

static void install_fork_handler(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

/* ---- SIGTERM in a process that writes its document to a file -------------------------------- */

/* The signal that asked this process to end, held until the helper has written the document. */
static atomic_int terminate_signal;

static void on_terminate(int signo)
{
    atomic_store_explicit(&terminate_signal, signo, memory_order_relaxed);
}

static int terminate_handler_installed(void)
{
    struct sigaction current;
    return sigaction(SIGTERM, NULL, &current) == 0 && !(current.sa_flags & SA_SIGINFO) &&
           current.sa_handler == on_terminate;
}

/* Only where the default action (death) is in place: a program's own handler stays its own. */
static void hold_terminate_signal(void)
{
    struct sigaction current;
    if (sigaction(SIGTERM, NULL, &current) != 0 || (current.sa_flags & SA_SIGINFO) || current.sa_handler != SIG_DFL)
        return;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_terminate;
    action.sa_flags = SA_RESTART; /* the program's system calls never see it */
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, NULL);
}

static void release_terminate_signal(void)
{
    if (terminate_handler_installed())
        signal(SIGTERM, SIG_DFL);
}

/* ---- starting and stopping the parts ------------------------------------------------------- */

void session_config_free(struct session_config *config)
{
    filter_free(&config->filter);
    string_list_free(&config->argv);
    free(config->program);
    free(config->python_version);
    free(config->heatline_version);
    free(config->output_dir);
    free(config->start_method);
    memset(config, 0, sizeof *config);
}

static void free_session(struct session *s)
{
    helper_free_threads(s);
    live_free(&s->live);
    linetable_free(s->lines);
    stacks_free(s->stacks);
    session_config_free(&s->config);
    free(s->output_path);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s);
}

/* Hooks in place, sampling (or only watching frees while paused). GIL held. */
static int start_memory(struct session *s)
{
    if (live_start(&s->live, s->stacks) < 0 || memsample_start(s->config.memory_sampling_rate_bytes) < 0)
        return -1;
    s->memory = 1;
    memsample_set_main_thread(frames_current_thread_state());
    alloc_python_start();
    alloc_native_start();
    memsample_set_sampling(s->enabled);
    return 0;
}

/* Every hook off and restored. GIL held. */
static void stop_memory(struct session *s)
{
    if (!s->memory)
        return;
    memsample_stop();
    alloc_native_stop();
    alloc_python_stop();
}

/* Undoes a start that failed after the threads got their timers. */
static void abandon(struct session *s)
{
    gpu_stop(s->gpu);
    stop_memory(s);
    helper_delete_timers(s);
    sampler_set_enabled(0);
    sampler_uninstall();
    free_session(s);
}

/* What the sampler counts as the interpreter's code (sampler.h): libpython (or the executable),
 * heatline's own, and the dynamic loader's. A range not found is left out. */
/* Once per process: the interpreter's symbols do not change, the sampler keeps the ranges, and a
 * forked child has them. */
static void set_machinery(void)
{
    static int read;
    static struct code_range ranges[SAMPLER_MACHINERY_RANGES];
    if (read)
        return;
    read = 1;
    long count = frames_interpreter_machinery(ranges, SAMPLER_MACHINERY_RANGES - 1);
    /* A shared libpython reads its thread state through the loader (3.12+): its own work. */
    if (count > 0 && platform_loader_code(&ranges[count].start, &ranges[count].end) == 0)
        count++;
    sampler_set_machinery(ranges, count > 0 ? (size_t)count : 0);
}

static void set_interpreter_code(void)
{
    struct code_range ranges[SAMPLER_INTERPRETER_RANGES];
    size_t count = 0;
    if (frames_interpreter_code(&ranges[count].start, &ranges[count].end) == 0)
        count++;
    else
        ranges[count++] = (struct code_range){0, UINTPTR_MAX}; /* unknown: every address is */
    if (platform_code_segment_of((uintptr_t)&session_start, &ranges[count].start, &ranges[count].end) == 0)
        count++;
    if (platform_loader_code(&ranges[count].start, &ranges[count].end) == 0)
        count++;
    sampler_set_interpreter_code(ranges, count);
    set_machinery();
}

static void write_output(struct session *s, int complete);

static int set_output_path(struct session *s)
{
    size_t size = strlen(s->config.output_dir) + 32;
    s->output_path = malloc(size);
    if (!s->output_path)
        return -1;
    snprintf(s->output_path, size, "%s/%lld.json", s->config.output_dir, (long long)getpid());
    return 0;
}

static struct session *new_session(struct session_config *config)
{
    struct session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->config = *config;
    memset(config, 0, sizeof *config);
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &attributes);
    pthread_condattr_destroy(&attributes);
    s->lines = linetable_new();
    s->stacks = stacks_new(STACKS_LIMIT, STACKS_FRAME_LIMIT);
    s->places.lines = s->lines;
    s->places.filter = &s->config.filter;
    s->places.stacks = s->stacks;
    s->scan_capacity = 256;
    s->scan = malloc(s->scan_capacity * sizeof *s->scan);
    s->helper_tid = -1;
    if (!s->lines || !s->stacks || !s->scan) {
        free_session(s);
        return NULL;
    }
    return s;
}

int session_start(struct session_config *config, char *error, size_t error_size)
{
    if (session) {
        session_config_free(config);
        snprintf(error, error_size, "a profiling session is already running");
        return -1;
    }
    if (!platform_read_memory_works()) {
        session_config_free(config);
        snprintf(error, error_size, "process_vm_readv is not permitted here (seccomp?)");
        return -1;
    }
    if (sampler_install(error, error_size) < 0) {
        session_config_free(config);
        return -1;
    }
    pthread_once(&fork_handler_once, install_fork_handler);
    struct session *s = new_session(config);
    if (!s || frames_init(s->config.call_opcodes) < 0) {
        if (s)
            free_session(s);
        else
            session_config_free(config);
        sampler_uninstall();
        snprintf(error, error_size, "could not set up the profiler (out of memory?)");
        return -1;
    }
    codecache_reset();
    set_interpreter_code();
    s->main_tid = threads_current_tid();
    s->enabled = s->config.start_enabled;
    s->last_beat_ns = threads_monotonic_ns();
    s->start_ns = s->last_beat_ns;
    s->ppid = getppid();
    if (s->config.output_dir && set_output_path(s) < 0) {
        abandon(s);
        snprintf(error, error_size, "could not set up the profiler (out of memory?)");
        return -1;
    }
    sampler_set_enabled(s->enabled);
    helper_start_clocks(s);
    helper_update_threads(s, s->last_beat_ns);
    if (s->config.memory_sampling_rate_bytes > 0 && start_memory(s) < 0) {
        abandon(s);
        snprintf(error, error_size, "could not set up memory profiling (out of memory?)");
        return -1;
    }
    if (s->config.gpu)
        s->gpu = gpu_start(s->start_ns, s->gpu_note, sizeof s->gpu_note);
    else
        snprintf(s->gpu_note, sizeof s->gpu_note, "GPU profiling turned off (--no-gpu)");
    if (helper_start(s) < 0) {
        abandon(s);
        snprintf(error, error_size, "could not start the helper thread");
        return -1;
    }
    helper_open_arrivals(s);
    if (s->output_path) {
        hold_terminate_signal();
        /* The run knows of the process from its start, whatever happens to it later. */
        pthread_mutex_lock(&s->lock);
        write_output(s, 0);
        s->next_output_ns = s->last_beat_ns + OUTPUT_INTERVAL_NS;
        pthread_mutex_unlock(&s->lock);
    }
    session = s;
    return 0;
}

int session_is_running(void)
{
    return session != NULL;
}

void session_set_enabled(int enabled)
{
    if (!session)
        return;
    pthread_mutex_lock(&session->lock);
    session->enabled = enabled != 0;
    sampler_set_enabled(session->enabled);
    gpu_set_enabled(session->gpu, session->enabled);
    if (session->memory)
        memsample_set_sampling(session->enabled);
    pthread_mutex_unlock(&session->lock);
}

int session_is_enabled(void)
{
    return session && session->enabled;
}

size_t session_own_threads(pid_t *tids, size_t max)
{
    size_t count = 0;
    if (!session)
        return 0;
    if (count < max)
        tids[count++] = session->helper_tid > 0 ? session->helper_tid : -1;
    if (session->gpu && count < max)
        tids[count++] = gpu_thread_id(session->gpu);
    return count;
}

/* ---- the document ------------------------------------------------------------------------- */

struct warnings {
    char text[MAX_WARNINGS][WARNING_SIZE];
    const char *items[MAX_WARNINGS];
    size_t count;
};

static void warn(struct warnings *w, const char *format, unsigned long long count)
{
    if (!count || w->count == MAX_WARNINGS)
        return;
    snprintf(w->text[w->count], WARNING_SIZE, format, count);
    w->items[w->count] = w->text[w->count];
    w->count++;
}

/* Every failure a part counted, one line each. */
static void collect_warnings(const struct session *s, const struct memsample_losses *losses, struct warnings *w)
{
    w->count = 0;
    warn(w, "%llu CPU samples were lost: a thread's ring was full when its timer fired", (unsigned long long)s->dropped);
    warn(w, "%llu threads could not be tracked (no timer, or out of memory): their time is missing",
         s->threads_untracked + atomic_load(&s->arrivals_untracked));
    double unattributed_s = (double)helper_unattributed_cpu_ns(s) / 1e9;
    double process_s = (double)s->process_cpu_ns / 1e9;
    if (unattributed_s > UNATTRIBUTED_WARNING_MIN_S && unattributed_s > UNATTRIBUTED_WARNING_MIN_FRACTION * process_s &&
        w->count < MAX_WARNINGS) {
        snprintf(w->text[w->count], WARNING_SIZE,
                 "%.3f s of CPU time (%.1f%% of the process's) is in no line: threads that ended unseen "
                 "(started outside Python's threading), or threads' last moments as they exit",
                 unattributed_s, 100 * unattributed_s / process_s);
        w->items[w->count] = w->text[w->count];
        w->count++;
    }
    warn(w, "the program replaced heatline's sampling signal handler: CPU samples after that were lost",
         (unsigned long long)s->signal_replaced);
    char stacks_format[WARNING_SIZE];
    snprintf(stacks_format, sizeof stacks_format,
             "%%llu times, time or memory went to a caller's stack instead of its own: the program ran "
             "through more than %u distinct call stacks (stacks.merged)",
             STACKS_LIMIT);
    warn(w, stacks_format, (unsigned long long)stacks_merged(s->stacks).credits);
    if (!s->memory)
        return;
    warn(w, "%llu memory events were lost: the hooks' ring was full", losses->ring_full);
    char format[WARNING_SIZE];
    snprintf(format, sizeof format,
             "%%llu sampled allocations were counted but never tracked as live: more than %u sampled "
             "blocks were live at once",
             MEMORY_LIVE_BLOCKS_LIMIT);
    warn(w, format, losses->untracked + s->live.untracked);
    warn(w, "%llu relocation slots could not be patched or restored (mprotect refused): some native "
            "memory may be unseen",
         alloc_native_patch_failures());
}

static char *write_document(struct session *s, const struct profiled_function *functions, size_t function_count,
                            int complete)
{
    size_t thread_total = s->finished_count + s->thread_count;
    struct profile_thread *threads = calloc(thread_total + 1, sizeof *threads);
    if (!threads)
        return NULL;
    if (s->finished_count) /* memcpy's source must not be NULL, even for 0 bytes */
        memcpy(threads, s->finished, s->finished_count * sizeof *threads);
    size_t n = s->finished_count;
    for (size_t i = 0; i < s->thread_count; i++) {
        const struct tracked_thread *thread = s->threads[i];
        if (counters_all_s(&thread->totals) > 0) {
            threads[n].tid = thread->tid;
            threads[n].totals = thread->totals;
            n++;
        }
    }
    struct warnings warnings;
    struct memsample_losses losses = s->memory ? memsample_losses() : (struct memsample_losses){0, 0};
    collect_warnings(s, &losses, &warnings);
    struct gpu_summary gpu;
    gpu_summarize(s->gpu, s->gpu_note, &gpu);
    struct profile_input input = {
        .program = s->config.program,
        .argv = &s->config.argv,
        .python_version = s->config.python_version,
        .heatline_version = s->config.heatline_version,
        .process =
            {
                .pid = getpid(),
                .ppid = s->ppid,
                .start_method = s->config.start_method,
                .start_s = s->config.run_start_ns ? (double)(s->start_ns - s->config.run_start_ns) / 1e9 : 0.0,
                .cpu_s = (double)(s->process_cpu_ns - s->helper_cpu_ns) / 1e9,
                .complete = complete,
            },
        .elapsed_s = (double)s->elapsed_ns / 1e9,
        .cpu_sampling_interval_s = (double)s->config.cpu_sampling_interval_ns / 1e9,
        .samples = s->samples,
        .dropped_samples = s->dropped,
        .totals = s->totals,
        .outside_program_s = counters_total_s(&s->outside),
        .cpu_wait_s = (double)s->cpu_wait_ns / 1e9,
        .unattributed_cpu_s = (double)helper_unattributed_cpu_ns(s) / 1e9,
        .lines = s->lines,
        .stacks = s->stacks,
        .threads = threads,
        .thread_count = n,
        .functions = functions,
        .function_count = function_count,
        .warnings = warnings.items,
        .warning_count = warnings.count,
        .memory = s->memory,
        .memory_sampling_rate_bytes = s->config.memory_sampling_rate_bytes,
        .live = &s->live,
        .memory_dropped = losses.ring_full + losses.untracked + s->live.untracked,
        /* The beat's clock: the same reading ends elapsed_s and every timeline. */
        .end_ns = s->last_beat_ns - s->start_ns,
        .gpu = &gpu,
    };
    char *document = profile_write(&input);
    gpu_summary_release(&gpu);
    free(threads);
    return document;
}

char *session_snapshot(const struct profiled_function *functions, size_t count)
{
    if (!session)
        return NULL;
    pthread_mutex_lock(&session->lock);
    char *document = write_document(session, functions, count, 0);
    pthread_mutex_unlock(&session->lock);
    return document;
}

/* The document to config.output_dir: written whole to a temporary name, then renamed, so a
 * reader never sees half of one. A failure (the run's directory is gone) is not the program's. */
static void write_output(struct session *s, int complete)
{
    char *document = write_document(s, NULL, 0, complete);
    size_t size = strlen(s->output_path) + 8;
    char *temporary = malloc(size);
    if (!document || !temporary) {
        free(document);
        free(temporary);
        return;
    }
    snprintf(temporary, size, "%s.tmp", s->output_path);
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        size_t length = strlen(document), done = 0;
        while (done < length) {
            ssize_t n = write(fd, document + done, length - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            done += (size_t)n;
        }
        close(fd);
        if (done == length)
            rename(temporary, s->output_path);
        else
            unlink(temporary);
    }
    free(temporary);
    free(document);
}

void session_after_beat(struct session *s)
{
    if (!s->output_path)
        return;
    int signo = atomic_exchange_explicit(&terminate_signal, 0, memory_order_relaxed);
    if (signo) {
        write_output(s, 1);
        /* As it would have without heatline: the default action, for the whole process. */
        signal(signo, SIG_DFL);
        kill(getpid(), signo);
        return;
    }
    if (s->last_beat_ns >= s->next_output_ns) {
        int64_t started_ns = threads_monotonic_ns();
        write_output(s, 0);
        int64_t cost_ns = threads_monotonic_ns() - started_ns;
        int64_t interval_ns = OUTPUT_COST_FACTOR * cost_ns;
        s->next_output_ns = s->last_beat_ns + (interval_ns > OUTPUT_INTERVAL_NS ? interval_ns : OUTPUT_INTERVAL_NS);
    }
}

char *session_stop(const struct profiled_function *functions, size_t count)
{
    struct session *s = session;
    if (!s)
        return NULL;
    helper_close_arrivals();
    helper_stop(s);
    /* The last beat counts the time up to now; then no handler may run while rings are read. */
    helper_beat(s);
    stop_memory(s);
    sampler_set_enabled(0);
    helper_delete_timers(s);
    sampler_uninstall();
    helper_finish_threads(s);
    /* What the hooks wrote before they stopped, at the last beat's time. */
    helper_drain_memory(s, s->last_beat_ns);
    char *document = write_document(s, functions, count, 1);
    if (s->output_path) {
        write_output(s, 1);
        release_terminate_signal();
    }
    signal_replaced_last = s->signal_replaced;
    session = NULL;
    gpu_stop(s->gpu);
    free_session(s);
    codecache_reset();
    return document;
}

int session_signal_was_replaced(void)
{
    return session ? session->signal_replaced : signal_replaced_last;
}
