/* leaks: see leaks.h. An open-addressing table with linear probing and backward-shift deletion
 * (no tombstones, so lookups stay short however many blocks come and go). */
#include "leaks.h"

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

void live_table_init(struct live_table *table, size_t limit)
{
    memset(table, 0, sizeof *table);
    table->limit = limit;
}

void live_table_init_fixed(struct live_table *table, struct live_block *slots, size_t capacity)
{
    memset(table, 0, sizeof *table);
    table->slots = slots;
    table->capacity = capacity;
    table->limit = capacity / 2;
    table->fixed = 1;
}

void live_table_clear(struct live_table *table)
{
    if (table->count)
        memset(table->slots, 0, table->capacity * sizeof *table->slots);
    table->count = 0;
    table->refused = 0;
}

void live_table_free(struct live_table *table)
{
    if (!table->fixed)
        free(table->slots);
    memset(table, 0, sizeof *table);
}

static int grow(struct live_table *table)
{
    if (table->fixed)
        return -1;
    size_t capacity = table->capacity ? table->capacity * 2 : FIRST_CAPACITY;
    struct live_block *slots = calloc(capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < table->capacity; i++) {
        if (!table->slots[i].address)
            continue;
        size_t j = slot_of(table->slots[i].address, capacity);
        while (slots[j].address)
            j = (j + 1) & (capacity - 1);
        slots[j] = table->slots[i];
    }
    free(table->slots);
    table->slots = slots;
    table->capacity = capacity;
    return 0;
}

int live_table_insert(struct live_table *table, const struct live_block *block, struct live_block *replaced)
{
    if ((table->count + 1) * 2 > table->capacity && !table->fixed && grow(table) < 0) {
        table->refused++;
        return -1;
    }
    size_t mask = table->capacity - 1;
    size_t i = slot_of(block->address, table->capacity);
    for (; table->slots[i].address; i = (i + 1) & mask) {
        if (table->slots[i].address == block->address) {
            *replaced = table->slots[i];
            table->slots[i] = *block;
            return 1;
        }
    }
    if (table->count >= table->limit) {
        table->refused++;
        return -1;
    }
    table->slots[i] = *block;
    table->count++;
    return 0;
}

int live_table_remove(struct live_table *table, uintptr_t address, struct live_block *out)
{
    if (!table->count)
        return 0;
    size_t mask = table->capacity - 1;
    size_t i = slot_of(address, table->capacity);
    for (; table->slots[i].address != address; i = (i + 1) & mask)
        if (!table->slots[i].address)
            return 0;
    *out = table->slots[i];
    /* Backward shift: pull later members of the probe run into the hole. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; table->slots[j].address; j = (j + 1) & mask) {
        size_t home = slot_of(table->slots[j].address, table->capacity);
        /* j may move to the hole unless its home lies cyclically in (hole, j]. */
        int home_after_hole = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!home_after_hole) {
            table->slots[hole] = table->slots[j];
            hole = j;
        }
    }
    memset(&table->slots[hole], 0, sizeof table->slots[hole]);
    table->count--;
    return 1;
}

double leak_likelihood(uint64_t samples, uint64_t freed)
{
    if (freed > samples)
        freed = samples;
    return (double)(samples - freed + 1) / (double)(samples + 2);
}

int leak_assess(const struct memory_counters *memory, int64_t end_ns, double peak_footprint_bytes,
                struct leak *out)
{
    double likelihood = leak_likelihood(memory->peak_samples, memory->peak_freed);
    int64_t rise_ns = memory->peak_ns - memory->first_ns;
    if (likelihood < LEAK_MIN_LIKELIHOOD || rise_ns < LEAK_MIN_RISE_NS ||
        (double)rise_ns < LEAK_MIN_SPAN_OF_RUN * (double)end_ns)
        return 0;
    int64_t middle_ns = memory->first_ns + rise_ns / 2;
    double growth = memory->peak_bytes - timeline_value_at(memory->timeline, middle_ns);
    if (growth <= 0 || growth < LEAK_MIN_GROWTH_OF_PEAK * peak_footprint_bytes)
        return 0;
    out->likelihood = likelihood;
    out->bytes_per_s = growth / ((double)(memory->peak_ns - middle_ns) / 1e9);
    return 1;
}
