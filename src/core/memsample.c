/* memsample: see memsample.h. */
#define _GNU_SOURCE
#include "memsample.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "platform.h"

__thread struct memsample_local memsample_local __attribute__((tls_model("initial-exec")));
_Atomic uint32_t memsample_epoch = MEMSAMPLE_NOT_SAMPLING;
_Atomic int memsample_watching_frees;

struct memory_free {
    uint64_t sequence;
    uintptr_t address;
};

static uint32_t session_epoch; /* the epoch of the running session, 0 before the first */
static atomic_flag ring_lock = ATOMIC_FLAG_INIT;
static atomic_int in_slow_path;
static _Atomic uintptr_t main_thread_state;
/* Written under ring_lock; the helper reads heads under it too. */
static uint64_t next_sequence;
static uint32_t sample_head, free_head;
static uint32_t sample_tail, free_tail; /* the helper's */
static struct memsample_losses losses;
static struct memory_sample sample_ring[MEMSAMPLE_SAMPLE_RING];
static struct memory_free free_ring[MEMSAMPLE_FREE_RING];

static void lock(void)
{
    while (atomic_flag_test_and_set_explicit(&ring_lock, memory_order_acquire))
        platform_spin_pause();
}

static void unlock(void)
{
    atomic_flag_clear_explicit(&ring_lock, memory_order_release);
}

/* ---- the hooks' slow paths ---- */

static void capture(struct frames_stack *stack)
{
    if (frames_capture_own(stack))
        return;
    uintptr_t main_state = atomic_load_explicit(&main_thread_state, memory_order_relaxed);
    if (main_state && frames_walk_remote(main_state, stack) < 0)
        frames_stack_clear(stack);
}

static void record(uintptr_t address, size_t size, enum memory_kind kind)
{
    struct memory_sample sample;
    sample.address = address;
    sample.weight = bytesampler_weight(size);
    sample.variance = bytesampler_variance(sample.weight, size);
    sample.size = size;
    sample.kind = (uint8_t)kind;
    capture(&sample.stack);
    lock();
    if (sample_head - sample_tail >= MEMSAMPLE_SAMPLE_RING) {
        losses.ring_full++;
    } else {
        sample.sequence = next_sequence++;
        sample.tracked = 0;
        if (address) {
            int added = sampledset_add(address);
            sample.tracked = added >= 0;
            if (added < 0)
                losses.untracked++;
        }
        struct memory_sample *slot = &sample_ring[sample_head & (MEMSAMPLE_SAMPLE_RING - 1)];
        memcpy(slot, &sample, offsetof(struct memory_sample, stack.refs) +
                                  sample.stack.count * sizeof sample.stack.refs[0]);
        sample_head++;
    }
    unlock();
}

/* A thread's first event in this session: its countdowns start now, at this session's rate. The
 * event is sampled only if its bytes also cross the fresh countdown (which keeps its sampling
 * probability exact). Returns whether it was. */
static int starts_thread(struct memsample_local *local, uint32_t epoch, int64_t *left, size_t size)
{
    if (!local->random_state) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        local->random_state = ((uint64_t)(uintptr_t)local ^ (uint64_t)now.tv_nsec << 20 ^ (uint64_t)now.tv_sec ^
                               (uint64_t)getpid() << 44) |
                              1;
    }
    local->epoch = epoch;
    local->alloc_left = bytesampler_draw(&local->random_state);
    local->copy_left = bytesampler_draw(&local->random_state);
    return bytesampler_count(left, size);
}

/* The slow path of an allocation (address != 0) or a copy whose bytes crossed `*left`, or of a
 * thread's first event in a session. */
static void sample(int64_t *left, uintptr_t address, size_t size, enum memory_kind kind)
{
    struct memsample_local *local = &memsample_local;
    uint32_t epoch = atomic_load_explicit(&memsample_epoch, memory_order_relaxed);
    if (epoch == MEMSAMPLE_NOT_SAMPLING)
        return;
    if (epoch != local->epoch && !starts_thread(local, epoch, left, size))
        return;
    memsample_guard_enter();
    atomic_fetch_add_explicit(&in_slow_path, 1, memory_order_acquire);
    *left = bytesampler_draw(&local->random_state);
    record(address, size, kind);
    atomic_fetch_sub_explicit(&in_slow_path, 1, memory_order_release);
    memsample_guard_leave();
}

void memsample_alloc_slow(void *address, size_t size, enum memory_kind kind)
{
    sample(&memsample_local.alloc_left, (uintptr_t)address, size, kind);
}

void memsample_copy_slow(size_t size)
{
    sample(&memsample_local.copy_left, 0, size, MEMORY_COPY);
}

void memsample_free_slow(void *address)
{
    atomic_fetch_add_explicit(&in_slow_path, 1, memory_order_acquire);
    lock();
    /* Not found: another block shares the filter slot. */
    if (sampledset_remove((uintptr_t)address)) {
        if (free_head - free_tail >= MEMSAMPLE_FREE_RING) {
            losses.ring_full++;
        } else {
            struct memory_free *slot = &free_ring[free_head & (MEMSAMPLE_FREE_RING - 1)];
            slot->sequence = next_sequence++;
            slot->address = (uintptr_t)address;
            free_head++;
        }
    }
    unlock();
    atomic_fetch_sub_explicit(&in_slow_path, 1, memory_order_release);
}

/* ---- the helper's side ---- */

int memsample_start(int64_t rate_bytes)
{
    if (sampledset_init() < 0)
        return -1;
    lock();
    sampledset_clear();
    bytesampler_set_rate((double)rate_bytes);
    sample_head = sample_tail = free_head = free_tail = 0;
    memset(&losses, 0, sizeof losses);
    unlock();
    /* A new epoch: every thread draws its countdowns again, at this rate. */
    if (++session_epoch == MEMSAMPLE_NOT_SAMPLING || session_epoch == 0)
        session_epoch = 1;
    atomic_store_explicit(&memsample_watching_frees, 1, memory_order_release);
    return 0;
}

void memsample_set_main_thread(uintptr_t thread_state)
{
    atomic_store_explicit(&main_thread_state, thread_state, memory_order_relaxed);
}

void memsample_set_sampling(int sampling)
{
    atomic_store_explicit(&memsample_epoch, sampling ? session_epoch : MEMSAMPLE_NOT_SAMPLING,
                          memory_order_release);
}

void memsample_stop(void)
{
    atomic_store_explicit(&memsample_epoch, MEMSAMPLE_NOT_SAMPLING, memory_order_release);
    atomic_store_explicit(&memsample_watching_frees, 0, memory_order_release);
    while (atomic_load_explicit(&in_slow_path, memory_order_acquire) > 0) {
        struct timespec pause = {0, 100000};
        nanosleep(&pause, NULL);
    }
}

void memsample_drain(const struct memsample_sink *sink)
{
    lock();
    uint32_t samples_end = sample_head, frees_end = free_head;
    uint32_t samples_at = sample_tail, frees_at = free_tail;
    unlock();
    /* Both rings hold events in sequence order: merge them. Slots below the heads read above are
     * complete, and no producer writes them until the tails move past. */
    while (samples_at != samples_end || frees_at != frees_end) {
        const struct memory_sample *sample =
            samples_at != samples_end ? &sample_ring[samples_at & (MEMSAMPLE_SAMPLE_RING - 1)] : NULL;
        const struct memory_free *freed =
            frees_at != frees_end ? &free_ring[frees_at & (MEMSAMPLE_FREE_RING - 1)] : NULL;
        if (sample && (!freed || sample->sequence < freed->sequence)) {
            sink->sample(sink->context, sample);
            samples_at++;
        } else {
            sink->free(sink->context, freed->address);
            frees_at++;
        }
    }
    lock();
    sample_tail = samples_at;
    free_tail = frees_at;
    unlock();
}

struct memsample_losses memsample_losses(void)
{
    lock();
    struct memsample_losses now = losses;
    unlock();
    return now;
}

void memsample_ignore_this_thread(void)
{
    memsample_guard_enter();
}

void memsample_after_fork_child(void)
{
    atomic_flag_clear(&ring_lock);
    atomic_store_explicit(&memsample_epoch, MEMSAMPLE_NOT_SAMPLING, memory_order_relaxed);
    atomic_store_explicit(&memsample_watching_frees, 0, memory_order_relaxed);
    atomic_store_explicit(&in_slow_path, 0, memory_order_relaxed);
    /* The forking thread's random state is every forked child's copy: each draws its own, or
     * all children would sample the same allocations (seen: a line's MB in four forked workers
     * spread four times wider than its sampling error). */
    memsample_local.random_state = 0;
}
