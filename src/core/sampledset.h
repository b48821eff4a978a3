/* sampledset: the hooks' set of sampled addresses not freed yet, with a counting filter in front.
 *
 * A free checks one filter byte; only frees of (maybe) sampled addresses look in the set, and
 * only a free that finds its address there is an event: once per sampled block, however often
 * the allocator reuses the address before the helper looks.
 * Owns: the filter (one byte per slot, counting the sampled addresses hashed there; a count that
 * reaches 255 stays set: slower, never wrong) and a fixed open-addressing set of addresses.
 * Never: allocates after sampledset_init (storage is mapped once), or locks: its caller holds
 * memsample's ring lock around every change.
 * Talks to: memsample (its only caller). The helper's table of live blocks is live.c's. */
#ifndef HEATLINE_SAMPLEDSET_H
#define HEATLINE_SAMPLEDSET_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* The most sampled blocks tracked at once, for the hooks' set and the helper's live table alike:
 * a sampled allocation beyond it is counted, its free never seen (the document says so). */
#define MEMORY_LIVE_BLOCKS_LIMIT (1u << 18)

#define SAMPLEDSET_FILTER_SIZE 65536
extern _Atomic uint8_t sampledset_filter[SAMPLEDSET_FILTER_SIZE];

static inline size_t sampledset_filter_slot(uintptr_t address)
{
    return (size_t)((address >> 4) * 0x9E3779B97F4A7C15ULL >> 48); /* 16 bits */
}

/* Whether `address` may be in the set (a free that must look); lock-free. */
static inline int sampledset_may_hold(uintptr_t address)
{
    return atomic_load_explicit(&sampledset_filter[sampledset_filter_slot(address)], memory_order_relaxed) != 0;
}

/* Maps the storage (once); returns 0, or -1 when memory ran out. */
int sampledset_init(void);
/* Empties the set and the filter. */
void sampledset_clear(void);
/* 0: added; 1: already there (its free went unseen); -1: the set is full. */
int sampledset_add(uintptr_t address);
/* 1 if `address` was there (and is gone now), 0 otherwise. */
int sampledset_remove(uintptr_t address);
size_t sampledset_count(void);

#endif
