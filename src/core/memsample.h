/* memsample: what the memory hooks do with an event: count it down, and turn a sampled one into
 * a record for the helper.
 *
 * A sampled allocation or copy captures the allocating thread's own frames (the capture the CPU
 * sampler's handler uses: no GIL, nothing that allocates; a thread with no Python reads the main
 * thread's), and goes into a ring that the helper drains; a sampled allocation's address also
 * enters the set of sampled addresses, so only frees of sampled blocks become events (a second
 * ring). Events of both rings carry one sequence so the helper replays them in order.
 *
 * Owns: the thread-local countdowns (initial-exec TLS, 32 bytes: an unsampled event costs a
 * compare, a subtract and a branch), the session epoch that starts each thread's countdowns
 * afresh at the session's rate, the re-entrancy guard, the two rings and their lock.
 * Never: allocates, or calls anything that can, on the hooks' path; blocks except on its short
 * spinlock around a ring write; computes an estimate (bytesampler's) or walks frames itself
 * (frames_capture_own's).
 * Talks to: alloc_python and alloc_native (the hooks call in), bytesampler (countdown, weight),
 * sampledset (sampled addresses), frames (capture), helper (drains), session (start, stop, fork). */
#ifndef HEATLINE_MEMSAMPLE_H
#define HEATLINE_MEMSAMPLE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "bytesampler.h"
#include "frames.h"
#include "sampledset.h"

enum memory_kind { MEMORY_PYTHON = 0, MEMORY_NATIVE = 1, MEMORY_COPY = 2 };

struct memsample_local {
    int64_t alloc_left; /* bytes of allocations until the next sample */
    int64_t copy_left;
    uint64_t random_state; /* 0 until the thread's first event */
    uint32_t epoch;        /* the session its countdowns were drawn for */
    uint32_t busy;         /* inside a hook's slow path or Python's allocator: nested calls pass */
};

extern __thread struct memsample_local memsample_local __attribute__((tls_model("initial-exec")));
/* The epoch of the session sampling now, or MEMSAMPLE_NOT_SAMPLING. */
extern _Atomic uint32_t memsample_epoch;
/* Frees of sampled blocks are watched while a session runs, sampling or paused (its live blocks
 * must still be seen going). */
extern _Atomic int memsample_watching_frees;

#define MEMSAMPLE_NOT_SAMPLING UINT32_MAX

/* The guard around a forwarded call whose own allocations are not the program's (or are counted
 * once, by the outer call). */
static inline void memsample_guard_enter(void)
{
    memsample_local.busy++;
}

static inline void memsample_guard_leave(void)
{
    memsample_local.busy--;
}

void memsample_alloc_slow(void *address, size_t size, enum memory_kind kind);
void memsample_copy_slow(size_t size);
void memsample_free_slow(void *address);

/* Hot paths, inlined into the hooks. A thread whose epoch is not the session's takes the slow
 * path once, to draw its countdowns at this session's rate (a countdown left from an earlier
 * session at another rate would skew the first sample). `address` NULL (a failed allocation) is
 * no event. */
static inline void memsample_on_alloc(void *address, size_t size, enum memory_kind kind)
{
    if (!address || memsample_local.busy)
        return;
    uint32_t epoch = atomic_load_explicit(&memsample_epoch, memory_order_relaxed);
    if (epoch == memsample_local.epoch) {
        if (bytesampler_count(&memsample_local.alloc_left, size))
            memsample_alloc_slow(address, size, kind);
    } else if (epoch != MEMSAMPLE_NOT_SAMPLING) {
        memsample_alloc_slow(address, size, kind);
    }
}

static inline void memsample_on_copy(size_t size)
{
    if (memsample_local.busy)
        return;
    uint32_t epoch = atomic_load_explicit(&memsample_epoch, memory_order_relaxed);
    if (epoch == memsample_local.epoch) {
        if (bytesampler_count(&memsample_local.copy_left, size))
            memsample_copy_slow(size);
    } else if (epoch != MEMSAMPLE_NOT_SAMPLING) {
        memsample_copy_slow(size);
    }
}

static inline void memsample_on_free(void *address)
{
    if (address && atomic_load_explicit(&memsample_watching_frees, memory_order_relaxed) &&
        !memsample_local.busy && sampledset_may_hold((uintptr_t)address))
        memsample_free_slow(address);
}

/* ---- the helper's side ---- */

#define MEMSAMPLE_SAMPLE_RING 2048 /* powers of two */
#define MEMSAMPLE_FREE_RING 32768

struct memory_sample {
    uint64_t sequence;
    uintptr_t address; /* 0 for a copy */
    double weight;     /* bytes it stands for */
    double variance;   /* its share of the estimate's variance (bytesampler_variance) */
    uint64_t size;     /* the bytes of the event itself */
    uint8_t kind;      /* enum memory_kind */
    uint8_t tracked;   /* an allocation whose free will be seen (0: the sampled set was full) */
    struct frames_stack stack;
};

/* Resets the rings and the sampled set and sets the rate; nothing is sampled yet. Returns 0, or
 * -1 when memory ran out. */
int memsample_start(int64_t rate_bytes);
/* Sampling (under a new epoch the first time after start), or only watching frees (paused). */
void memsample_set_sampling(int sampling);
/* The thread a native thread (one with no Python) allocates for: its line is read at the moment
 * of the sample, through process_vm_readv (the main thread runs on meanwhile). */
void memsample_set_main_thread(uintptr_t thread_state);
/* Everything off, then waits until no hook is inside a slow path. */
void memsample_stop(void);

struct memsample_sink {
    void (*sample)(void *context, const struct memory_sample *sample);
    void (*free)(void *context, uintptr_t address);
    void *context;
};
/* Replays every event written so far, in the order they happened. */
void memsample_drain(const struct memsample_sink *sink);

/* What went uncounted since start: events lost to a full ring, and sampled allocations that did
 * not fit in the sampled set (allocated, never seen live). */
struct memsample_losses {
    uint64_t ring_full;
    uint64_t untracked;
};
struct memsample_losses memsample_losses(void);

/* The calling thread's allocations and copies are never sampled (the helper's own). */
void memsample_ignore_this_thread(void);

/* The child's fork step (session.c calls it): hooks off, the ring lock reset. The lock is not
 * held across the fork: a thread inside another allocator's lock (one that calls memcpy through
 * a patched slot while it holds it) could be in a hook waiting for it while the forking thread,
 * holding it, waits in that allocator's own fork handler. The child never reads the rings (its
 * session is forgotten; a new one resets them). */
void memsample_after_fork_child(void);

#endif
