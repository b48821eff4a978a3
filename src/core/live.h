/* live: live memory, from the sampled allocations and frees the hooks recorded.
 *
 * Owns: the one table of sampled live blocks (address -> weight, variance, line, function,
 * stack), the footprint (the weighted sum of live blocks) with its timeline and peak, the line
 * holding the most at the peak, and the memory totals. Holding a block puts its weight on its
 * line's and function's live memory and leak evidence, and on its stack's live bytes; letting it
 * go takes it off. Live events are numbered, so a stack's bytes at the peak are known.
 * Never: resolves frames (it is given the line's and function's counters), or holds more than
 * MEMORY_LIVE_BLOCKS_LIMIT blocks (the hooks' sampled set refuses first, and says so).
 * Talks to: helper (feeds it drained events with their places), linetable (counters), stacks
 * (bytes and live bytes by stack), session (start, stop, the document's input). */
#ifndef HEATLINE_LIVE_H
#define HEATLINE_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "linetable.h"
#include "memsample.h"
#include "stacks.h"

struct live_block {
    uintptr_t address; /* 0: an empty slot */
    double weight;     /* the bytes this sample stands for */
    double variance;
    double size;       /* the bytes of the block itself */
    struct memory_counters *line;     /* NULL when no line of the program allocated it */
    struct memory_counters *function;
    uint32_t stack;
    int python;          /* allocated through Python's allocator */
    uint64_t born_batch; /* the batch of events it was allocated in */
};

/* A block under LIVE_TRANSIENT_MAX_BYTES whose free comes in the batch of events its
 * allocation came in, or in the next one (the helper feeds a batch every 10 ms beat: freed
 * within 10-20 ms), is transient: the integers of `i += 1`, a temporary tuple. Its bytes stay in
 * the allocated volume and are also counted apart, so that a report can rank lines by what they
 * allocate that lasts. */
#define LIVE_TRANSIENT_BATCHES 1
#define LIVE_TRANSIENT_MAX_BYTES 65536

struct live_memory {
    struct live_block *slots;
    size_t capacity; /* a power of two */
    size_t count;
    int64_t now_ns;  /* from the session's start: the time of the events being fed */
    uint64_t batch;  /* the batch being fed: live_begin_batch counts them */
    struct memory_counters totals;  /* alloc, python and copy bytes of every sample */
    struct memory_counters outside; /* samples of no program line */
    double footprint_bytes;
    double peak_bytes;
    int64_t peak_ns;
    uint64_t serial;      /* live events so far (a block held or let go) */
    uint64_t peak_serial; /* the event after which the footprint last peaked */
    int peak_moved;
    const struct line_entry *peak_line;
    struct timeline *footprint;
    struct stacks *stacks;
    uint64_t samples;
    uint64_t untracked; /* sampled allocations whose free would go unseen (table full, no memory) */
};

#define FOOTPRINT_TIMELINE_POINTS 256

/* Returns 0, or -1 when memory ran out. */
int live_start(struct live_memory *live, struct stacks *stacks);
void live_free(struct live_memory *live);

/* The events that follow are those the helper drained at `now_ns` (from the session's start). */
void live_begin_batch(struct live_memory *live, int64_t now_ns);
/* A sampled allocation or copy, made on `line` and `function` (NULL: outside the program), in
 * `stack`. */
void live_add(struct live_memory *live, struct memory_counters *line, struct memory_counters *function,
              struct stack_ref stack, const struct memory_sample *sample);
/* A free of a sampled block. */
void live_remove(struct live_memory *live, uintptr_t address);
/* After a batch of events: the line holding the most at a new peak. */
void live_settle(struct live_memory *live, const struct linetable *lines);

#endif
