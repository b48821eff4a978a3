/* session: the profiling session and the process lifecycle around it.
 *
 * Owns: starting a session (each part set up, in order, and undone in reverse when a step
 * fails), pausing and resuming it, stopping it, the ONE fork handler of the engine, and
 * assembling the document's input (including its warnings: every failure the parts counted).
 * The session's state is defined here; each part works on its own fields of it:
 *   helper  - the helper thread, its beat, the set of tracked threads;
 *   cputime - crediting CPU samples (totals, outside, samples);
 *   offcpu  - off-CPU time of each thread (blocked places, run-queue delay);
 *   places  - code objects to lines; live - live memory; gpu - the GPU's poller.
 * Fork, in this order: before - alloc_native (patch lock); after, in the parent - alloc_native;
 * after, in the child - memsample (hooks off, ring lock reset; never held across a fork: see
 * memsample.h), alloc_native (patches kept, lock reset), then the session is forgotten: a child
 * has none of the parent's threads, timers or helper, and starts unprofiled (the Python layer
 * starts a new session in it when the run profiles its children).
 * Children's documents: a session with config.output_dir set writes its document there, as
 * PID.json (written to PID.json.tmp, then renamed), as it starts, every second after (or every 50
 * times the last write's time, if longer), and
 * at its end; a SIGTERM that finds the default action in place is held until the helper has
 * written the last one, then the process dies by it as it would have.
 * Never: samples, or knows a part's internals beyond the fields it hands over.
 * Talks to: module (the Python face), every part above, sampler, memsample, alloc_python,
 * alloc_native, profile (writes the document). */
#ifndef HEATLINE_SESSION_H
#define HEATLINE_SESSION_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "filter.h"
#include "gpu.h"
#include "linetable.h"
#include "live.h"
#include "places.h"
#include "profile.h"
#include "sampler.h"

/* The accepted ranges of the two sampling settings: module.c checks them and tells Python. */
#define CPU_SAMPLING_INTERVAL_MIN_S 0.001
#define CPU_SAMPLING_INTERVAL_MAX_S 10.0
#define MEMORY_SAMPLING_RATE_MIN_BYTES 1024LL
#define MEMORY_SAMPLING_RATE_MAX_BYTES (1LL << 40)

struct session_config {
    int64_t cpu_sampling_interval_ns;
    int64_t memory_sampling_rate_bytes; /* 0: memory is not profiled */
    int start_enabled;
    struct filter filter;
    uint8_t call_opcodes[256];
    char *program;
    struct string_list argv;
    char *python_version;
    char *heatline_version;
    /* A process of a run that profiles its children: its documents go to
     * output_dir/PID.json, rewritten while it runs and at its end (NULL: the
     * document is only returned, as in the run's first process). */
    char *output_dir;
    char *start_method;   /* how this process was started, when known; NULL: not known */
    int64_t run_start_ns; /* CLOCK_MONOTONIC when the run's first process started profiling; 0: now */
    int gpu;              /* read the GPU through NVML (gpu.c) */
    int idle;             /* count idle waiting as system time, as any other wait (offcpu.c) */
};

struct tracked_thread {
    struct sampler_thread sampler; /* its address is the timer's si_value */
    pid_t tid;
    clockid_t clock;
    _Atomic int has_timer; /* its timer is sampler.timer; whoever exchanges it to 0 deletes it */
    int candidate_beats;   /* found by the scan, no timer yet: beats it has waited (helper.c) */
    /* a thread that registered itself as it started (threadstart.c, helper_thread_arrive) */
    int registered;
    pid_t registered_pid;        /* the process it registered in: a forked child's copy is not its */
    uintptr_t entry;             /* the code it was started to run: the key of its stand-in place */
    int64_t start_cpu_ns;        /* CPU time it spent starting, before it registered */
    _Atomic int owners;          /* the helper and the thread itself: the last to let go frees it */
    _Atomic int ended;           /* set by the thread, after final_cpu_ns, once its timer is gone */
    int64_t final_cpu_ns;
    struct tracked_thread *next_arrived;
    /* helper: finding its PyThreadState */
    uintptr_t thread_state;
    int thread_state_retry;
    int thread_state_backoff;
    /* cputime */
    int64_t cpu_ns;    /* CPU time while profiling was on */
    int64_t weight_ns; /* CPU time its samples stood for */
    double system_fraction;
    uint8_t last_state;
    int64_t last_weight_ns; /* its last sample's */
    struct place last;
    struct counters totals;
    /* offcpu */
    int64_t last_cpu_ns;
    int64_t last_wall_ns;
    struct place blocked;
    int blocked_valid;
    int blocked_at_last_beat;
    int blocked_kind;
    int64_t blocked_seen_ns;
    int wait_fd;
    int schedstat_fd;
    int run_delay_known;
    int64_t last_run_delay_ns;
    /* off-CPU time of a thread found running, held for one beat (offcpu.c) */
    int64_t pending_off_ns;
    struct place pending_place;
    int pending_kind;
    /* awaits.c: the off-CPU time it spent in an event loop's selector */
    int64_t last_awaits_ns; /* its await clock at the last beat */
    int64_t awaits_held_ns; /* left out of its off-CPU time, not credited by a look yet */
};

struct session {
    struct session_config config;
    struct linetable *lines;
    struct stacks *stacks;
    struct places places;
    /* the helper */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t helper;
    int stopping;
    pid_t helper_tid;
    pid_t main_tid;
    struct tracked_thread **threads; /* ascending by tid */
    size_t thread_count;
    long beats_to_scan; /* beats until /proc/self/task is listed again (helper_update_threads) */
    size_t thread_capacity;
    struct profile_thread *finished;
    size_t finished_count;
    size_t finished_capacity;
    pid_t *scan;
    size_t scan_capacity;
    struct tracked_thread *_Atomic arrived; /* registered since the last beat, newest first */
    uint64_t threads_untracked; /* a thread the helper could not give a timer, or memory */
    _Atomic uint64_t arrivals_untracked; /* the same, for a thread that could not register */
    /* where a thread that ended unsampled worked, by what it was started to run (cputime.c) */
    struct stand_in *stand_ins;
    size_t stand_in_count;
    size_t stand_in_capacity;
    size_t python_threads;      /* threads with a PyThreadState, at the last beat */
    /* time */
    int enabled;
    int64_t start_ns;
    int64_t last_beat_ns;
    int64_t elapsed_ns; /* enabled time up to the last beat */
    int64_t samples;
    int64_t dropped;
    struct counters totals;
    struct counters outside;
    int64_t cpu_wait_ns;
    /* CPU time no thread's clock accounted for: the process's, less the helper's, less the
     * tracked threads' (all while enabled) */
    int64_t process_cpu_ns;
    int64_t helper_cpu_ns;
    int64_t retired_cpu_ns; /* CPU time of the threads already retired, and of threads' starts */
    int64_t last_process_cpu_ns;
    int64_t last_helper_cpu_ns;
    int64_t helper_final_cpu_ns; /* the helper's own clock as it exited */
    int helper_exited;
    int signal_replaced;
    /* this process */
    pid_t ppid;
    char *output_path;        /* config.output_dir/PID.json, or NULL */
    int64_t next_output_ns;   /* when the helper writes it next */
    /* memory, when config.memory_sampling_rate_bytes > 0 */
    int memory;
    struct live_memory live;
    /* the GPU: NULL when not read, and then gpu_note says why */
    struct gpu *gpu;
    char gpu_note[GPU_NOTE_BYTES];
    int64_t last_gpu_poller_cpu_ns;
};

/* Frees what a session_config holds (and leaves it zeroed). */
void session_config_free(struct session_config *config);

/* Takes ownership of `config` (also on failure). Called with the GIL held. Returns 0, or -1 with
 * a message in `error`. */
int session_start(struct session_config *config, char *error, size_t error_size);
int session_is_running(void);
void session_set_enabled(int enabled);
int session_is_enabled(void);
/* The threads of the running session that are heatline's own (the helper, the GPU poller), as
 * thread ids; -1 for one started whose id is not known yet. Returns how many (at most `max`). */
size_t session_own_threads(pid_t *tids, size_t max);
/* The document so far (malloc'd JSON), or NULL. `functions`: the @profile-decorated functions,
 * listed in the document (reports restrict to them). */
char *session_snapshot(const struct profiled_function *functions, size_t count);
/* Ends the session and returns its document (malloc'd JSON), or NULL. Called with the GIL held
 * (Python's allocators are put back). */
char *session_stop(const struct profiled_function *functions, size_t count);
/* Called by the helper after each beat, with the session's lock held: writes the document to
 * config.output_dir when due, and ends the process as SIGTERM would once its last document is
 * written. */
void session_after_beat(struct session *s);
/* 1 if the program replaced the sampler's signal handler during the (last) session. */
int session_signal_was_replaced(void);

#endif
