/* stacks: see stacks.h. Both tables are open addressing with linear probing over arrays of ids
 * (nothing is ever removed); entries live in arrays that grow by doubling, so only ids are kept
 * outside. */
#include "stacks.h"

#include <stdlib.h>
#include <string.h>

#define EMPTY UINT32_MAX
#define FIRST_CAPACITY 256

struct node {
    uint32_t parent;
    uint32_t frame;
    struct stack_values values;
};

struct stacks {
    struct stack_frame *frames;
    uint32_t frame_count, frame_capacity, frame_limit;
    uint32_t *frame_slots; /* frame ids; 2x the frames' capacity */
    struct node *nodes;
    uint32_t node_count, node_capacity, limit;
    uint32_t *node_slots;
    uint32_t cut_frame;
    struct stacks_merged merged;
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t frame_hash(const struct stack_frame *frame)
{
    uint64_t a = ((uint64_t)frame->file << 32) | frame->function;
    uint64_t b = ((uint64_t)(uint32_t)frame->first_line << 32) | (uint32_t)frame->line;
    return mix(a ^ mix(b));
}

static uint64_t node_hash(uint32_t parent, uint32_t frame)
{
    return mix(((uint64_t)parent << 32) | frame);
}

static int same_frame(const struct stack_frame *a, const struct stack_frame *b)
{
    return a->file == b->file && a->function == b->function && a->first_line == b->first_line &&
           a->line == b->line;
}

/* Puts `id` in the first free slot from its hash's (`slot_count` a power of two). */
static void put_slot(uint32_t *slots, uint32_t slot_count, uint64_t hash, uint32_t id)
{
    uint32_t i = (uint32_t)hash & (slot_count - 1);
    while (slots[i] != EMPTY)
        i = (i + 1) & (slot_count - 1);
    slots[i] = id;
}

static uint32_t *new_slots(uint32_t count)
{
    uint32_t *slots = malloc(count * sizeof *slots);
    if (slots)
        memset(slots, 0xff, count * sizeof *slots);
    return slots;
}

/* Doubles an entry array and its slots (rehashing every entry with `hash_of`). */
static int grow(void **entries, size_t entry_size, uint32_t **slots, uint32_t count, uint32_t *capacity,
                uint64_t (*hash_of)(const void *entries, uint32_t id))
{
    uint32_t bigger = *capacity ? *capacity * 2 : FIRST_CAPACITY;
    void *grown = realloc(*entries, (size_t)bigger * entry_size);
    if (!grown)
        return -1;
    *entries = grown;
    uint32_t slot_count = bigger * 2;
    uint32_t *fresh = new_slots(slot_count);
    if (!fresh)
        return -1;
    for (uint32_t id = 0; id < count; id++)
        put_slot(fresh, slot_count, hash_of(grown, id), id);
    free(*slots);
    *slots = fresh;
    *capacity = bigger;
    return 0;
}

static uint64_t frame_hash_of(const void *entries, uint32_t id)
{
    return frame_hash(&((const struct stack_frame *)entries)[id]);
}

static uint64_t node_hash_of(const void *entries, uint32_t id)
{
    const struct node *node = &((const struct node *)entries)[id];
    return node_hash(node->parent, node->frame);
}

static uint32_t add_node(struct stacks *stacks, uint32_t parent, uint32_t frame)
{
    if (stacks->node_count == stacks->limit)
        return EMPTY;
    if (stacks->node_count == stacks->node_capacity &&
        grow((void **)&stacks->nodes, sizeof *stacks->nodes, &stacks->node_slots, stacks->node_count,
             &stacks->node_capacity, node_hash_of) < 0)
        return EMPTY;
    uint32_t id = stacks->node_count++;
    memset(&stacks->nodes[id], 0, sizeof stacks->nodes[id]);
    stacks->nodes[id].parent = parent;
    stacks->nodes[id].frame = frame;
    put_slot(stacks->node_slots, stacks->node_capacity * 2, node_hash(parent, frame), id);
    return id;
}

struct stacks *stacks_new(uint32_t limit, uint32_t frame_limit)
{
    struct stacks *stacks = calloc(1, sizeof *stacks);
    if (!stacks)
        return NULL;
    stacks->limit = limit;
    stacks->frame_limit = frame_limit;
    stacks->cut_frame = EMPTY;
    if (add_node(stacks, EMPTY, EMPTY) != STACKS_ROOT) {
        stacks_free(stacks);
        return NULL;
    }
    return stacks;
}

void stacks_free(struct stacks *stacks)
{
    if (!stacks)
        return;
    free(stacks->frames);
    free(stacks->frame_slots);
    free(stacks->nodes);
    free(stacks->node_slots);
    free(stacks);
}

uint32_t stacks_frame(struct stacks *stacks, const struct stack_frame *frame)
{
    if (stacks->frame_capacity) {
        uint32_t mask = stacks->frame_capacity * 2 - 1;
        for (uint32_t i = (uint32_t)frame_hash(frame) & mask; stacks->frame_slots[i] != EMPTY; i = (i + 1) & mask)
            if (same_frame(&stacks->frames[stacks->frame_slots[i]], frame))
                return stacks->frame_slots[i];
    }
    if (stacks->frame_count == stacks->frame_limit)
        return STACKS_NO_FRAME;
    if (stacks->frame_count == stacks->frame_capacity &&
        grow((void **)&stacks->frames, sizeof *stacks->frames, &stacks->frame_slots, stacks->frame_count,
             &stacks->frame_capacity, frame_hash_of) < 0)
        return STACKS_NO_FRAME;
    uint32_t id = stacks->frame_count++;
    stacks->frames[id] = *frame;
    put_slot(stacks->frame_slots, stacks->frame_capacity * 2, frame_hash(frame), id);
    return id;
}

uint32_t stacks_cut_frame(struct stacks *stacks)
{
    if (stacks->cut_frame == EMPTY) {
        struct stack_frame cut = {LINETABLE_NO_ID, LINETABLE_NO_ID, 0, 0, 0};
        stacks->cut_frame = stacks_frame(stacks, &cut);
    }
    return stacks->cut_frame;
}

static uint32_t find_node(const struct stacks *stacks, uint32_t parent, uint32_t frame)
{
    uint32_t mask = stacks->node_capacity * 2 - 1;
    for (uint32_t i = (uint32_t)node_hash(parent, frame) & mask; stacks->node_slots[i] != EMPTY; i = (i + 1) & mask) {
        const struct node *node = &stacks->nodes[stacks->node_slots[i]];
        if (node->parent == parent && node->frame == frame)
            return stacks->node_slots[i];
    }
    return EMPTY;
}

struct stack_ref stacks_intern(struct stacks *stacks, const uint32_t *frames, size_t count)
{
    struct stack_ref ref = {STACKS_ROOT, 0};
    for (size_t i = 0; i < count; i++) {
        uint32_t child = frames[i] == STACKS_NO_FRAME ? EMPTY : find_node(stacks, ref.id, frames[i]);
        if (child == EMPTY && frames[i] != STACKS_NO_FRAME)
            child = add_node(stacks, ref.id, frames[i]);
        if (child == EMPTY) {
            ref.merged = 1;
            break;
        }
        ref.id = child;
    }
    return ref;
}

void stacks_credit_time(struct stacks *stacks, struct stack_ref ref, const struct counters *amount)
{
    counters_add(&stacks->nodes[ref.id].values.time, amount);
    if (ref.merged) {
        stacks->merged.credits++;
        stacks->merged.seconds += counters_all_s(amount);
    }
}

void stacks_count_sample(struct stacks *stacks, struct stack_ref ref)
{
    stacks->nodes[ref.id].values.samples++;
}

void stacks_credit_alloc(struct stacks *stacks, struct stack_ref ref, double bytes)
{
    stacks->nodes[ref.id].values.alloc_bytes += bytes;
    if (ref.merged) {
        stacks->merged.credits++;
        stacks->merged.alloc_bytes += bytes;
    }
}

void stacks_credit_copy(struct stacks *stacks, struct stack_ref ref, double bytes)
{
    stacks->nodes[ref.id].values.copy_bytes += bytes;
    if (ref.merged)
        stacks->merged.credits++;
}

void stacks_change_live(struct stacks *stacks, uint32_t id, double bytes, uint64_t serial, uint64_t peak_serial)
{
    struct stack_values *values = &stacks->nodes[id].values;
    /* Unchanged since the footprint's latest peak: what it holds now is what it held then. */
    if (values->changed_serial <= peak_serial)
        values->peak_live_bytes = values->live_bytes;
    values->live_bytes += bytes;
    values->changed_serial = serial;
}

size_t stacks_count(const struct stacks *stacks)
{
    return stacks->node_count;
}

size_t stacks_frame_count(const struct stacks *stacks)
{
    return stacks->frame_count;
}

const struct stack_frame *stacks_frame_at(const struct stacks *stacks, size_t index)
{
    return &stacks->frames[index];
}

const struct stack_values *stacks_values_at(const struct stacks *stacks, size_t id)
{
    return &stacks->nodes[id].values;
}

size_t stacks_path(const struct stacks *stacks, size_t id, uint32_t *out)
{
    size_t depth = 0;
    for (uint32_t at = (uint32_t)id; at != STACKS_ROOT; at = stacks->nodes[at].parent)
        depth++;
    size_t i = depth;
    for (uint32_t at = (uint32_t)id; at != STACKS_ROOT; at = stacks->nodes[at].parent)
        out[--i] = stacks->nodes[at].frame;
    return depth;
}

double stacks_peak_live_bytes(const struct stacks *stacks, size_t id, uint64_t peak_serial)
{
    const struct stack_values *values = &stacks->nodes[id].values;
    return values->changed_serial <= peak_serial ? values->live_bytes : values->peak_live_bytes;
}

struct stacks_merged stacks_merged(const struct stacks *stacks)
{
    return stacks->merged;
}

uint32_t stacks_limit(const struct stacks *stacks)
{
    return stacks->limit;
}
