/* bytesampler: the geometric byte sampler shared by allocations, frees and copies.
 *
 * Bytes are marked by a Poisson process of mean spacing R (the memory sampling rate): each
 * thread counts down an exponentially distributed number of bytes, and the event whose bytes
 * cross zero is sampled, so an event of s bytes is sampled with probability 1 - exp(-s/R) and
 * stands for s / (1 - exp(-s/R)) bytes: unbiased, whatever the sizes and their order. After a
 * sample the countdown is drawn afresh (the process is memoryless). Allocations and copies count
 * down separately.
 *
 * A sampled allocation or copy reads the allocating thread's own frames (like the CPU sampler's
 * handler: no GIL, nothing that allocates; a thread with no Python reads the main thread's) and enters a ring that the helper drains; a sampled
 * allocation's address also enters a table of sampled live addresses with a counting filter in
 * front, so a free checks one byte, only frees of (maybe) sampled addresses take the lock, and
 * only frees of sampled blocks enter the free ring.
 *
 * Owns: the thread-local countdowns (initial-exec TLS, 32 bytes: an unsampled event costs a
 * subtract and a branch), the mode, the filter, and the two rings (sampled events, and frees of
 * sampled addresses), whose events carry one sequence so the helper replays them in order.
 * Never: allocates, or calls anything that can, on the hooks' path; blocks except on its short
 * spinlock around a ring write.
 * Talks to: alloc_python and alloc_native (the hooks call in), frames and codecache (the line),
 * helper (drains). */
#ifndef HEATLINE_BYTESAMPLER_H
#define HEATLINE_BYTESAMPLER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "frames.h"

enum memory_kind { MEMORY_PYTHON = 0, MEMORY_NATIVE = 1, MEMORY_COPY = 2 };

/* What the hooks do: nothing, only notice frees of sampled blocks (profiling paused: the live
 * blocks must still be seen going), or sample. */
enum bytesampler_mode { BYTESAMPLER_OFF = 0, BYTESAMPLER_FREES = 1, BYTESAMPLER_SAMPLING = 2 };

struct bytesampler_local {
    int64_t alloc_left; /* bytes of allocations until the next sample */
    int64_t copy_left;
    uint64_t random_state; /* 0 until the thread's first event */
    uint32_t busy;         /* inside a hook's slow path or Python's allocator: nested calls pass */
    uint32_t unused;
};

extern __thread struct bytesampler_local bytesampler_local __attribute__((tls_model("initial-exec")));
extern _Atomic int bytesampler_mode;

#define BYTESAMPLER_FILTER_SIZE 65536
extern _Atomic uint8_t bytesampler_filter[BYTESAMPLER_FILTER_SIZE];

static inline size_t bytesampler_filter_slot(uintptr_t address)
{
    return (size_t)((address >> 4) * 0x9E3779B97F4A7C15ULL >> 48); /* 16 bits */
}

void bytesampler_sample_alloc(void *address, size_t size, enum memory_kind kind);
void bytesampler_sample_copy(size_t size);
void bytesampler_note_free(void *address);

/* Hot paths, inlined into the hooks. */
static inline int bytesampler_sampling(void)
{
    return atomic_load_explicit(&bytesampler_mode, memory_order_relaxed) == BYTESAMPLER_SAMPLING &&
           !bytesampler_local.busy;
}

/* `address` NULL (a failed allocation) is no event. */
static inline void bytesampler_on_alloc(void *address, size_t size, enum memory_kind kind)
{
    if (address && bytesampler_sampling() && (bytesampler_local.alloc_left -= (int64_t)size) <= 0)
        bytesampler_sample_alloc(address, size, kind);
}

static inline void bytesampler_on_copy(size_t size)
{
    if (bytesampler_sampling() && (bytesampler_local.copy_left -= (int64_t)size) <= 0)
        bytesampler_sample_copy(size);
}

static inline void bytesampler_on_free(void *address)
{
    if (address && atomic_load_explicit(&bytesampler_mode, memory_order_relaxed) != BYTESAMPLER_OFF &&
        !bytesampler_local.busy &&
        atomic_load_explicit(&bytesampler_filter[bytesampler_filter_slot((uintptr_t)address)],
                             memory_order_relaxed))
        bytesampler_note_free(address);
}

/* ---- the helper's side ---- */

#define BYTESAMPLER_SAMPLE_RING 2048 /* powers of two */
#define BYTESAMPLER_FREE_RING 32768

struct memory_sample {
    uint64_t sequence;
    uintptr_t address; /* 0 for a copy */
    double weight;     /* bytes it stands for */
    uint8_t kind;      /* enum memory_kind */
    uint8_t tracked;   /* an allocation whose free will be seen (0: the table of sampled blocks was full) */
    struct frames_stack stack;
};

struct memory_free {
    uint64_t sequence;
    uintptr_t address;
};

/* Resets the rings, filter and counts, sets the mean rate; the mode stays OFF. Returns 0, or -1
 * when memory ran out. */
int bytesampler_start(int64_t rate_bytes);
void bytesampler_set_mode(enum bytesampler_mode mode);
/* The thread a native thread (one with no Python) allocates for: its line is read at the moment
 * of the sample, through process_vm_readv (the main thread runs on meanwhile). */
void bytesampler_set_main_thread(uintptr_t thread_state);
/* OFF, then waits until no hook is inside a slow path. */
void bytesampler_stop(void);

struct bytesampler_sink {
    void (*sample)(void *context, const struct memory_sample *sample);
    void (*free)(void *context, uintptr_t address);
    void *context;
};
/* Replays every event written so far, in the order they happened. Returns how many events were
 * lost to a full ring since the last call. */
uint64_t bytesampler_drain(const struct bytesampler_sink *sink);


/* The calling thread's allocations and copies are never sampled (the helper's own). */
void bytesampler_ignore_this_thread(void);

/* For fork: hold the ring lock across it; the child's hooks are turned off. */
void bytesampler_before_fork(void);
void bytesampler_after_fork_parent(void);
void bytesampler_after_fork_child(void);

#endif
