/* sampler: the CPU sampler's signal handler and the per-thread rings it fills.
 *
 * Sampling is stratified in each thread's CPU time: the thread's CPU time is cut into strata of
 * one sampling interval, and each stratum gets one sample at a random moment inside it (the
 * handler arms the thread's timer for the next one). Each sample stands for its stratum (or for
 * the strata that passed since the previous sample, when the kernel's tick is longer than the
 * interval): unbiased, with the low variance of periodic sampling, and no periodic program can
 * fall in step with the samples.
 *
 * Owns: the signal (a real-time signal chosen at start, see sampler_install), the handler that
 * runs in the sampled thread when its CPU-time timer expires, and the single-producer,
 * single-consumer ring of each thread. The handler reads its own thread's frames with plain
 * loads (the whole stack, see frames.h) and pushes one record.
 * Never: allocates, locks, or calls Python in the handler.
 * Talks to: frames (from the handler); helper (creates timers, drains rings). */
#ifndef HEATLINE_SAMPLER_H
#define HEATLINE_SAMPLER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "frames.h"
#include "platform.h"

#define SAMPLER_RING_CAPACITY 32 /* a power of two; the helper drains every beat */

struct cpu_sample {
    int64_t weight_ns; /* the CPU time this sample stands for: whole strata */
    int64_t cpu_ns;    /* the thread's CPU time since its previous sample... */
    int64_t system_ns; /* ...and the kernel's part of it */
    struct frames_stack stack;
};

/* What the handler of one thread writes; the helper owns the rest of that thread's record. */
struct sampler_thread {
    _Atomic uint32_t head; /* next record to write: the handler's */
    _Atomic uint32_t tail; /* next record to read: the helper's */
    timer_t timer;           /* set before the timer is first armed */
    int64_t interval_ns;
    int64_t origin_ns;       /* the thread's CPU time where stratum 0 begins */
    int64_t last_stratum;    /* handler only from the first arming on */
    uint64_t random_state;
    int64_t last_cpu_ns;
    int64_t last_system_ns;  /* -1 until the first sample: the kernel part is then unknown */
    _Atomic uintptr_t thread_state;
    _Atomic uint64_t dropped; /* samples lost to a full ring */
    struct cpu_sample ring[SAMPLER_RING_CAPACITY];
};

/* Chooses a real-time signal nobody handles and installs the handler. Returns the signal number,
 * or -1 with a message in `error`. */
int sampler_install(char *error, size_t error_size);
/* The installed signal's number, or -1. */
int sampler_signal(void);
/* Whether the handler is still ours (the program may have replaced it). */
int sampler_still_installed(void);
/* Ignores the signal (discarding any still queued), waits for running handlers, and restores the
 * disposition found at install. Only once every timer is deleted. */
void sampler_uninstall(void);

/* Where the interpreter's own machine code lies: a sample interrupted outside it is native even
 * when the current bytecode is not a call (`a @ b` on NumPy arrays runs in NumPy). Code that runs
 * for the interpreter counts as its own: heatline's memory hooks under Python's allocator, and
 * the dynamic loader's __tls_get_addr, through which a shared libpython (3.12+) reads its
 * thread state while it runs bytecode. At most SAMPLER_INTERPRETER_RANGES ranges. */
#define SAMPLER_INTERPRETER_RANGES 4
void sampler_set_interpreter_code(const struct code_range *ranges, size_t count);
/* The interpreter's functions that do its own work to run Python code (frames.h,
 * frames_interpreter_machinery): a sample on a call instruction interrupted in one of them is
 * Python time, not the native time of a builtin the line called. At most SAMPLER_MACHINERY_RANGES;
 * none known (0): every sample on a call instruction is native, as before symbols were read. */
#define SAMPLER_MACHINERY_RANGES 2048
void sampler_set_machinery(const struct code_range *ranges, size_t count);

void sampler_set_enabled(int enabled);
int sampler_is_enabled(void);

/* Helper side, before the timer first fires: the thread's CPU clock now, the interval and a
 * seed; then arms the timer for the first sample. */
void sampler_thread_start(struct sampler_thread *thread, timer_t timer, int64_t cpu_now_ns,
                          int64_t interval_ns, uint64_t seed);

/* Helper side: copies the oldest record out; returns 0 when the ring is empty. */
int sampler_pop(struct sampler_thread *thread, struct cpu_sample *out);

#endif
