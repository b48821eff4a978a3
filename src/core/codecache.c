/* codecache: see codecache.h. Open addressing with linear probing; a slot's key is written last
 * (release) and read first (acquire), so a reader sees either an empty slot or a whole entry.
 * Growth copies into a table twice the size and publishes it; the old one stays readable until
 * codecache_reset, since a handler may be probing it at that moment. */
#include "codecache.h"

#include <stdatomic.h>
#include <stdlib.h>

#define INITIAL_CAPACITY 4096

struct entry {
    _Atomic uintptr_t code;
    uintptr_t filename;
    int32_t first_line;
    uint8_t class;
    struct code_info *program;
};

struct table {
    size_t capacity; /* a power of two */
    size_t count;
    struct table *retired; /* the table this one replaced */
    struct entry entries[];
};

static _Atomic(struct table *) current_table;

static size_t slot_of(uintptr_t code, size_t capacity)
{
    uint64_t mixed = (uint64_t)code * 0x9E3779B97F4A7C15ULL;
    return (size_t)(mixed >> 32) & (capacity - 1);
}

enum code_class codecache_lookup(const struct frame_ref *ref, const struct code_info **program)
{
    struct table *table = atomic_load_explicit(&current_table, memory_order_acquire);
    if (!table)
        return CODE_UNKNOWN;
    size_t mask = table->capacity - 1;
    for (size_t i = slot_of(ref->code, table->capacity), probes = 0; probes < table->capacity;
         i = (i + 1) & mask, probes++) {
        struct entry *entry = &table->entries[i];
        uintptr_t code = atomic_load_explicit(&entry->code, memory_order_acquire);
        if (code == 0)
            return CODE_UNKNOWN;
        if (code == ref->code && entry->filename == ref->filename &&
            entry->first_line == ref->first_line) {
            if (program)
                *program = entry->program;
            return (enum code_class)entry->class;
        }
    }
    return CODE_UNKNOWN;
}

static struct table *new_table(size_t capacity)
{
    struct table *table = calloc(1, sizeof *table + capacity * sizeof(struct entry));
    if (table)
        table->capacity = capacity;
    return table;
}

static void place(struct table *table, uintptr_t code, uintptr_t filename, int32_t first_line,
                  uint8_t class, struct code_info *program)
{
    size_t mask = table->capacity - 1;
    size_t i = slot_of(code, table->capacity);
    while (atomic_load_explicit(&table->entries[i].code, memory_order_relaxed) != 0)
        i = (i + 1) & mask;
    struct entry *entry = &table->entries[i];
    entry->filename = filename;
    entry->first_line = first_line;
    entry->class = class;
    entry->program = program;
    atomic_store_explicit(&entry->code, code, memory_order_release);
    table->count++;
}

static int grow(struct table *old)
{
    struct table *table = new_table(old->capacity * 2);
    if (!table)
        return -1;
    for (size_t i = 0; i < old->capacity; i++) {
        struct entry *entry = &old->entries[i];
        uintptr_t code = atomic_load_explicit(&entry->code, memory_order_relaxed);
        if (code)
            place(table, code, entry->filename, entry->first_line, entry->class, entry->program);
    }
    table->retired = old;
    atomic_store_explicit(&current_table, table, memory_order_release);
    return 0;
}

int codecache_insert(const struct frame_ref *ref, enum code_class class, struct code_info *program)
{
    struct table *table = atomic_load_explicit(&current_table, memory_order_relaxed);
    if (!table) {
        table = new_table(INITIAL_CAPACITY);
        if (!table)
            return -1;
        atomic_store_explicit(&current_table, table, memory_order_release);
    }
    if ((table->count + 1) * 2 > table->capacity) {
        if (grow(table) < 0)
            return -1;
        table = atomic_load_explicit(&current_table, memory_order_relaxed);
    }
    place(table, ref->code, ref->filename, ref->first_line, (uint8_t)class, program);
    return 0;
}

void codecache_reset(void)
{
    struct table *table = atomic_exchange(&current_table, NULL);
    if (table) {
        for (size_t i = 0; i < table->capacity; i++) {
            struct code_info *program = table->entries[i].program;
            if (program && atomic_load_explicit(&table->entries[i].code, memory_order_relaxed)) {
                free(program->lines);
                free(program);
            }
        }
    }
    while (table) {
        struct table *retired = table->retired;
        free(table);
        table = retired;
    }
}
