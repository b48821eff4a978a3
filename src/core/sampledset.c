/* sampledset: see sampledset.h. Linear probing with backward-shift deletion: no tombstones, so
 * probes stay short however many blocks come and go. */
#define _GNU_SOURCE
#include "sampledset.h"

#include <string.h>
#include <sys/mman.h>

/* Twice the limit: the set is never more than half full. */
#define CAPACITY (2 * (size_t)MEMORY_LIVE_BLOCKS_LIMIT)

_Atomic uint8_t sampledset_filter[SAMPLEDSET_FILTER_SIZE];

static uintptr_t *slots;
static size_t count;

static size_t home_of(uintptr_t address)
{
    uint64_t x = (uint64_t)address;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x & (CAPACITY - 1);
}

static void filter_hold(uintptr_t address)
{
    _Atomic uint8_t *slot = &sampledset_filter[sampledset_filter_slot(address)];
    uint8_t value = atomic_load_explicit(slot, memory_order_relaxed);
    if (value < UINT8_MAX)
        atomic_store_explicit(slot, value + 1, memory_order_relaxed);
}

static void filter_release(uintptr_t address)
{
    _Atomic uint8_t *slot = &sampledset_filter[sampledset_filter_slot(address)];
    uint8_t value = atomic_load_explicit(slot, memory_order_relaxed);
    if (value > 0 && value < UINT8_MAX)
        atomic_store_explicit(slot, value - 1, memory_order_relaxed);
}

int sampledset_init(void)
{
    if (slots)
        return 0;
    void *mapped = mmap(NULL, CAPACITY * sizeof *slots, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mapped == MAP_FAILED)
        return -1;
    slots = mapped;
    count = 0;
    return 0;
}

void sampledset_clear(void)
{
    if (count)
        memset(slots, 0, CAPACITY * sizeof *slots);
    count = 0;
    for (size_t i = 0; i < SAMPLEDSET_FILTER_SIZE; i++)
        atomic_store_explicit(&sampledset_filter[i], 0, memory_order_relaxed);
}

int sampledset_add(uintptr_t address)
{
    size_t i = home_of(address);
    for (; slots[i]; i = (i + 1) & (CAPACITY - 1))
        if (slots[i] == address)
            return 1;
    if (count >= MEMORY_LIVE_BLOCKS_LIMIT)
        return -1;
    slots[i] = address;
    count++;
    filter_hold(address);
    return 0;
}

int sampledset_remove(uintptr_t address)
{
    if (!count)
        return 0;
    size_t mask = CAPACITY - 1;
    size_t i = home_of(address);
    for (; slots[i] != address; i = (i + 1) & mask)
        if (!slots[i])
            return 0;
    size_t hole = i;
    for (size_t j = (i + 1) & mask; slots[j]; j = (j + 1) & mask) {
        size_t home = home_of(slots[j]);
        /* j may move to the hole unless its home lies cyclically in (hole, j]. */
        int home_after_hole = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!home_after_hole) {
            slots[hole] = slots[j];
            hole = j;
        }
    }
    slots[hole] = 0;
    count--;
    filter_release(address);
    return 1;
}

size_t sampledset_count(void)
{
    return count;
}
