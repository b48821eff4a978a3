/* bytesampler: see bytesampler.h. */
#define _GNU_SOURCE
#include "bytesampler.h"

#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "codecache.h"
#include "leaks.h"
#include "xorshift.h"

__thread struct bytesampler_local bytesampler_local __attribute__((tls_model("initial-exec")));
_Atomic int bytesampler_mode;
_Atomic uint8_t bytesampler_filter[BYTESAMPLER_FILTER_SIZE];

static double rate = 1 << 20;
static atomic_flag ring_lock = ATOMIC_FLAG_INIT;
static atomic_int in_slow_path;
static uint64_t next_sequence;
static _Atomic uintptr_t main_thread_state;
/* Written under ring_lock; the helper reads heads under it too. */
static uint32_t sample_head, free_head;
static uint32_t sample_tail, free_tail; /* the helper's */
static uint64_t lost;
static struct memory_sample sample_ring[BYTESAMPLER_SAMPLE_RING];
static struct memory_free free_ring[BYTESAMPLER_FREE_RING];
/* The exact addresses of sampled blocks not freed yet (under ring_lock), behind the filter: a
 * free enters the free ring only for a sampled block, once, however often the allocator reuses
 * its address before the helper drains. Fixed storage: the hooks never allocate. */
#define SAMPLED_SLOTS (1u << 18)
static struct live_table sampled;

static void lock(void)
{
    while (atomic_flag_test_and_set_explicit(&ring_lock, memory_order_acquire))
        __builtin_ia32_pause();
}

static void unlock(void)
{
    atomic_flag_clear_explicit(&ring_lock, memory_order_release);
}

/* A sampled event of `size` bytes stands for this many: size / P(sampled). */
static double weight(double size)
{
    return size > 0 ? size / -expm1(-size / rate) : 0;
}

/* ---- the hooks' slow paths ---- */

/* An exponential countdown of mean `rate` bytes. */
static int64_t draw(struct bytesampler_local *local)
{
    double uniform = (double)((xorshift_next(&local->random_state) >> 11) + 1) * 0x1.0p-53; /* (0, 1] */
    return (int64_t)(-rate * log(uniform)) + 1;
}

/* A thread's first event: its countdowns start now. The event was not sampled unless its bytes
 * also cross the fresh countdown (which keeps the sampling probability exact). */
static int starts_thread(struct bytesampler_local *local, int64_t *left, size_t size)
{
    if (local->random_state)
        return 0;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    local->random_state = ((uint64_t)(uintptr_t)local ^ (uint64_t)now.tv_nsec << 20 ^ (uint64_t)now.tv_sec) | 1;
    local->alloc_left = draw(local);
    local->copy_left = draw(local);
    *left -= (int64_t)size;
    return *left > 0;
}

/* The filter counts the sampled blocks of each slot; a slot that reaches 255 stays set (its
 * frees then always check the table: slower, never wrong). Under ring_lock. */
static void filter_hold(uintptr_t address)
{
    _Atomic uint8_t *count = &bytesampler_filter[bytesampler_filter_slot(address)];
    uint8_t value = atomic_load_explicit(count, memory_order_relaxed);
    if (value < UINT8_MAX)
        atomic_store_explicit(count, value + 1, memory_order_relaxed);
}

static void filter_release(uintptr_t address)
{
    _Atomic uint8_t *count = &bytesampler_filter[bytesampler_filter_slot(address)];
    uint8_t value = atomic_load_explicit(count, memory_order_relaxed);
    if (value > 0 && value < UINT8_MAX)
        atomic_store_explicit(count, value - 1, memory_order_relaxed);
}

static enum code_class classify_cached(const struct frame_ref *ref, void *context)
{
    (void)context;
    return codecache_lookup(ref, NULL);
}

static void record(uintptr_t address, size_t size, enum memory_kind kind)
{
    struct memory_sample sample;
    sample.address = address;
    sample.weight = weight((double)size);
    sample.kind = (uint8_t)kind;
    uintptr_t thread_state = frames_current_thread_state();
    uintptr_t main_state = atomic_load_explicit(&main_thread_state, memory_order_relaxed);
    if (thread_state) {
        frames_walk_own(thread_state, classify_cached, NULL, &sample.stack);
    } else if (!main_state || frames_walk_remote(main_state, classify_cached, NULL, &sample.stack) < 0) {
        sample.stack.state = SAMPLE_NO_PYTHON;
        sample.stack.count = 0;
        sample.stack.resolved = 0;
    }
    lock();
    if (sample_head - sample_tail >= BYTESAMPLER_SAMPLE_RING) {
        lost++;
    } else {
        sample.sequence = next_sequence++;
        sample.tracked = 0;
        if (address) {
            struct live_block block = {address, sample.weight, NULL, NULL}, replaced;
            int inserted = live_table_insert(&sampled, &block, &replaced);
            sample.tracked = inserted >= 0;
            if (inserted == 0)
                filter_hold(address);
        }
        struct memory_sample *slot = &sample_ring[sample_head & (BYTESAMPLER_SAMPLE_RING - 1)];
        memcpy(slot, &sample, offsetof(struct memory_sample, stack.refs) +
                                  sample.stack.count * sizeof sample.stack.refs[0]);
        sample_head++;
    }
    unlock();
}

/* The slow path of an allocation (address != 0) or a copy whose bytes crossed `*left`. */
static void sample(int64_t *left, uintptr_t address, size_t size, enum memory_kind kind)
{
    struct bytesampler_local *local = &bytesampler_local;
    if (starts_thread(local, left, size))
        return;
    local->busy++;
    atomic_fetch_add_explicit(&in_slow_path, 1, memory_order_acquire);
    *left = draw(local);
    if (atomic_load_explicit(&bytesampler_mode, memory_order_relaxed) == BYTESAMPLER_SAMPLING)
        record(address, size, kind);
    atomic_fetch_sub_explicit(&in_slow_path, 1, memory_order_release);
    local->busy--;
}

void bytesampler_sample_alloc(void *address, size_t size, enum memory_kind kind)
{
    sample(&bytesampler_local.alloc_left, (uintptr_t)address, size, kind);
}

void bytesampler_sample_copy(size_t size)
{
    sample(&bytesampler_local.copy_left, 0, size, MEMORY_COPY);
}

void bytesampler_note_free(void *address)
{
    atomic_fetch_add_explicit(&in_slow_path, 1, memory_order_acquire);
    lock();
    struct live_block block;
    /* Not found: another block shares the filter slot. */
    if (live_table_remove(&sampled, (uintptr_t)address, &block)) {
        filter_release((uintptr_t)address);
        if (free_head - free_tail >= BYTESAMPLER_FREE_RING) {
            lost++;
        } else {
            struct memory_free *slot = &free_ring[free_head & (BYTESAMPLER_FREE_RING - 1)];
            slot->sequence = next_sequence++;
            slot->address = (uintptr_t)address;
            free_head++;
        }
    }
    unlock();
    atomic_fetch_sub_explicit(&in_slow_path, 1, memory_order_release);
}

/* ---- the helper's side ---- */

int bytesampler_start(int64_t rate_bytes)
{
    if (!sampled.slots) {
        void *slots = mmap(NULL, SAMPLED_SLOTS * sizeof *sampled.slots, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (slots == MAP_FAILED)
            return -1;
        live_table_init_fixed(&sampled, slots, SAMPLED_SLOTS);
    }
    lock();
    live_table_clear(&sampled);
    rate = (double)rate_bytes;
    sample_head = sample_tail = free_head = free_tail = 0;
    lost = 0;
    for (size_t i = 0; i < BYTESAMPLER_FILTER_SIZE; i++)
        atomic_store_explicit(&bytesampler_filter[i], 0, memory_order_relaxed);
    unlock();
    return 0;
}

void bytesampler_set_main_thread(uintptr_t thread_state)
{
    atomic_store_explicit(&main_thread_state, thread_state, memory_order_relaxed);
}

void bytesampler_set_mode(enum bytesampler_mode mode)
{
    atomic_store_explicit(&bytesampler_mode, (int)mode, memory_order_release);
}

void bytesampler_stop(void)
{
    bytesampler_set_mode(BYTESAMPLER_OFF);
    while (atomic_load_explicit(&in_slow_path, memory_order_acquire) > 0) {
        struct timespec pause = {0, 100000};
        nanosleep(&pause, NULL);
    }
}

uint64_t bytesampler_drain(const struct bytesampler_sink *sink)
{
    lock();
    uint32_t samples_end = sample_head, frees_end = free_head;
    uint32_t samples_at = sample_tail, frees_at = free_tail;
    uint64_t lost_now = lost;
    lost = 0;
    unlock();
    /* Both rings hold events in sequence order: merge them. Slots below the heads read above are
     * complete, and no producer writes them until the tails move past. */
    while (samples_at != samples_end || frees_at != frees_end) {
        const struct memory_sample *sample =
            samples_at != samples_end ? &sample_ring[samples_at & (BYTESAMPLER_SAMPLE_RING - 1)] : NULL;
        const struct memory_free *freed =
            frees_at != frees_end ? &free_ring[frees_at & (BYTESAMPLER_FREE_RING - 1)] : NULL;
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
    return lost_now;
}

void bytesampler_ignore_this_thread(void)
{
    bytesampler_local.busy = 1;
}

void bytesampler_before_fork(void)
{
    lock();
}

void bytesampler_after_fork_parent(void)
{
    unlock();
}

void bytesampler_after_fork_child(void)
{
    atomic_flag_clear(&ring_lock);
    atomic_store_explicit(&bytesampler_mode, BYTESAMPLER_OFF, memory_order_relaxed);
    atomic_store_explicit(&in_slow_path, 0, memory_order_relaxed);
}
