/* live: live memory, from the sampled allocations and frees the hooks recorded.
 *
 * Owns: the one table of sampled live blocks (address -> weight, variance, line, function), the
 * footprint (the weighted sum of live blocks) with its timeline and peak, the line holding the
 * most at the peak, and the memory totals. Holding a block puts its weight on its line's and
 * function's live memory and leak evidence; letting it go takes it off.
 * Never: resolves frames (it is given the line's and function's counters), or holds more than
 * MEMORY_LIVE_BLOCKS_LIMIT blocks (the hooks' sampled set refuses first, and says so).
 * Talks to: helper (feeds it drained events with their places), linetable (counters), session
 * (start, stop, the document's input). */
#ifndef HEATLINE_LIVE_H
#define HEATLINE_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "linetable.h"
#include "memsample.h"

struct live_block {
    uintptr_t address; /* 0: an empty slot */
    double weight;     /* the bytes this sample stands for */
    double variance;
    double size;       /* the bytes of the block itself */
    struct memory_counters *line;     /* NULL when no line of the program allocated it */
    struct memory_counters *function;
};

struct live_memory {
    struct live_block *slots;
    size_t capacity; /* a power of two */
    size_t count;
    int64_t now_ns;  /* from the session's start: the time of the events being fed */
    struct memory_counters totals;  /* alloc, python and copy bytes of every sample */
    struct memory_counters outside; /* samples of no program line */
    double footprint_bytes;
    double peak_bytes;
    int64_t peak_ns;
    int peak_moved;
    const struct line_entry *peak_line;
    struct timeline *footprint;
    uint64_t samples;
    uint64_t untracked; /* sampled allocations whose free would go unseen (table full, no memory) */
};

#define FOOTPRINT_TIMELINE_POINTS 256

/* Returns 0, or -1 when memory ran out. */
int live_start(struct live_memory *live);
void live_free(struct live_memory *live);

/* A sampled allocation or copy, made on `line` and `function` (NULL: outside the program). */
void live_add(struct live_memory *live, struct memory_counters *line, struct memory_counters *function,
              const struct memory_sample *sample);
/* A free of a sampled block. */
void live_remove(struct live_memory *live, uintptr_t address);
/* After a batch of events: the line holding the most at a new peak. */
void live_settle(struct live_memory *live, const struct linetable *lines);

#endif
