/* live: see live.h. The table is open addressing with linear probing and backward-shift
 * deletion (no tombstones, so lookups stay short however many blocks come and go). */
#include "live.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_CAPACITY 1024

static size_t slot_of(uintptr_t address, size_t capacity)
{
    uint64_t x = (uint64_t)address;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x & (capacity - 1);
}

int live_start(struct live_memory *live, struct stacks *stacks)
{
    memset(live, 0, sizeof *live);
    live->stacks = stacks;
    live->footprint = timeline_new(FOOTPRINT_TIMELINE_POINTS);
    return live->footprint ? 0 : -1;
}

void live_free(struct live_memory *live)
{
    free(live->slots);
    free(live->footprint);
    free(live->outside.timeline);
    memset(live, 0, sizeof *live);
}

static int grow(struct live_memory *live)
{
    size_t capacity = live->capacity ? live->capacity * 2 : FIRST_CAPACITY;
    struct live_block *slots = calloc(capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < live->capacity; i++) {
        if (!live->slots[i].address)
            continue;
        size_t j = slot_of(live->slots[i].address, capacity);
        while (slots[j].address)
            j = (j + 1) & (capacity - 1);
        slots[j] = live->slots[i];
    }
    free(live->slots);
    live->slots = slots;
    live->capacity = capacity;
    return 0;
}

/* Adds a block; an address already there (its free went unseen: a path no hook reaches) gives
 * its older block to `*replaced` (returns 1). Returns 0 when added, -1 when memory ran out. */
static int insert(struct live_memory *live, const struct live_block *block, struct live_block *replaced)
{
    if ((live->count + 1) * 2 > live->capacity && grow(live) < 0)
        return -1;
    size_t mask = live->capacity - 1;
    size_t i = slot_of(block->address, live->capacity);
    for (; live->slots[i].address; i = (i + 1) & mask) {
        if (live->slots[i].address == block->address) {
            *replaced = live->slots[i];
            live->slots[i] = *block;
            return 1;
        }
    }
    live->slots[i] = *block;
    live->count++;
    return 0;
}

/* Takes the block at `address` out into `*out`; 0 if there was none. */
static int take(struct live_memory *live, uintptr_t address, struct live_block *out)
{
    if (!live->count)
        return 0;
    size_t mask = live->capacity - 1;
    size_t i = slot_of(address, live->capacity);
    for (; live->slots[i].address != address; i = (i + 1) & mask)
        if (!live->slots[i].address)
            return 0;
    *out = live->slots[i];
    size_t hole = i;
    for (size_t j = (i + 1) & mask; live->slots[j].address; j = (j + 1) & mask) {
        size_t home = slot_of(live->slots[j].address, live->capacity);
        /* j may move to the hole unless its home lies cyclically in (hole, j]. */
        int home_after_hole = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!home_after_hole) {
            live->slots[hole] = live->slots[j];
            hole = j;
        }
    }
    memset(&live->slots[hole], 0, sizeof live->slots[hole]);
    live->count--;
    return 1;
}

static void change_footprint(struct live_memory *live, double delta)
{
    live->footprint_bytes += delta;
    if (live->footprint_bytes < 0)
        live->footprint_bytes = 0;
    timeline_record(live->footprint, live->now_ns, live->footprint_bytes);
    if (live->footprint_bytes > live->peak_bytes) {
        live->peak_bytes = live->footprint_bytes;
        live->peak_ns = live->now_ns;
        live->peak_serial = live->serial;
        live->peak_moved = 1;
    }
}

/* A sampled allocation's bytes, or a sampled copy's, on the counters they belong to. */
static void count_bytes(struct memory_counters *memory, const struct memory_sample *sample)
{
    if (!memory)
        return;
    if (sample->kind == MEMORY_COPY) {
        memory->copy_bytes += sample->weight;
        return;
    }
    memory->alloc_bytes += sample->weight;
    if (sample->kind == MEMORY_PYTHON)
        memory->python_bytes += sample->weight;
}

/* A sampled block now live on a line (or function): leak evidence and live memory. */
static void hold(struct memory_counters *memory, const struct live_block *block, int64_t now_ns)
{
    if (!memory)
        return;
    if (!memory->samples)
        memory->first_ns = now_ns;
    memory->samples++;
    memory_change_live(memory, (struct live_change){block->weight, block->variance, block->size}, now_ns);
}

/* ...and freed. */
static void let_go(struct memory_counters *memory, const struct live_block *block, int64_t now_ns)
{
    if (!memory)
        return;
    memory->freed++;
    memory_change_live(memory, (struct live_change){-block->weight, -block->variance, -block->size}, now_ns);
}

static void change_stack(struct live_memory *live, uint32_t stack, double bytes)
{
    stacks_change_live(live->stacks, stack, bytes, ++live->serial, live->peak_serial);
}

static void release(struct live_memory *live, const struct live_block *block)
{
    let_go(block->line, block, live->now_ns);
    let_go(block->function, block, live->now_ns);
    change_stack(live, block->stack, -block->weight);
    change_footprint(live, -block->weight);
}

void live_begin_batch(struct live_memory *live, int64_t now_ns)
{
    live->now_ns = now_ns;
    live->batch++;
}

void live_add(struct live_memory *live, struct memory_counters *line, struct memory_counters *function,
              struct stack_ref stack, const struct memory_sample *sample)
{
    if (!line)
        line = &live->outside;
    live->samples++;
    count_bytes(line, sample);
    count_bytes(function, sample);
    count_bytes(&live->totals, sample);
    if (sample->kind == MEMORY_COPY)
        stacks_credit_copy(live->stacks, stack, sample->weight);
    else
        stacks_credit_alloc(live->stacks, stack, sample->weight);
    if (sample->kind == MEMORY_COPY || !sample->tracked)
        return; /* an untracked block: allocated, never live (the hooks counted it) */
    struct live_block block = {sample->address, sample->weight, sample->variance, (double)sample->size,
                               line, function, stack.id, sample->kind == MEMORY_PYTHON, live->batch};
    struct live_block replaced;
    int inserted = insert(live, &block, &replaced);
    if (inserted < 0) {
        live->untracked++;
        return;
    }
    if (inserted == 1)
        release(live, &replaced);
    hold(line, &block, live->now_ns);
    hold(function, &block, live->now_ns);
    change_stack(live, stack.id, sample->weight);
    change_footprint(live, sample->weight);
}

static void count_transient(struct memory_counters *memory, const struct live_block *block)
{
    if (!memory)
        return;
    memory->transient_bytes += block->weight;
    if (block->python)
        memory->transient_python_bytes += block->weight;
}

void live_remove(struct live_memory *live, uintptr_t address)
{
    struct live_block block;
    if (!take(live, address, &block))
        return;
    if (block.size < LIVE_TRANSIENT_MAX_BYTES && live->batch - block.born_batch <= LIVE_TRANSIENT_BATCHES) {
        count_transient(block.line, &block);
        count_transient(block.function, &block);
        count_transient(&live->totals, &block);
    }
    release(live, &block);
}

/* The line holding the most live memory now (NULL when no program line holds any, or less than
 * the blocks outside the program). */
static const struct line_entry *largest_line(const struct live_memory *live, const struct linetable *lines)
{
    const struct line_entry *largest = NULL;
    double most = live->outside.live_bytes;
    size_t count = linetable_line_count(lines);
    for (size_t i = 0; i < count; i++) {
        const struct line_entry *line = linetable_line_at(lines, i);
        if (line->memory.live_bytes > most) {
            most = line->memory.live_bytes;
            largest = line;
        }
    }
    return largest;
}

void live_settle(struct live_memory *live, const struct linetable *lines)
{
    if (live->peak_moved) {
        live->peak_line = largest_line(live, lines);
        live->peak_moved = 0;
    }
}
