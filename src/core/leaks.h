/* leaks: the table of sampled live blocks, and the leak likelihood of a line.
 *
 * Owns: address -> (weight, line, function) for every sampled allocation not freed yet. The sum
 * of their weights is the live-heap estimate (the footprint); a free that finds its address
 * removes it. Leak evidence per line: of its sampled allocations, how many were freed.
 * Never: holds more than its limit of entries (an insert beyond it is refused and counted).
 * The helper's table is touched by the helper alone; a fixed table by its owner's lock.
 * Talks to: helper (insert/remove as it drains the byte sampler), linetable (the counters an
 * entry points to), profile (leak_assess). */
#ifndef HEATLINE_LEAKS_H
#define HEATLINE_LEAKS_H

#include <stddef.h>
#include <stdint.h>

#include "linetable.h"

struct live_block {
    uintptr_t address; /* 0: an empty slot */
    double weight;     /* the bytes this sample stands for */
    struct memory_counters *line;     /* NULL when no line of the program allocated it */
    struct memory_counters *function;
};

struct live_table {
    struct live_block *slots;
    size_t capacity; /* a power of two */
    size_t count;
    size_t limit;    /* most entries ever held */
    int fixed;       /* storage given by the owner: never grows, never freed here */
    uint64_t refused;
};

void live_table_init(struct live_table *table, size_t limit);
/* A table in `slots` (zeroed, `capacity` a power of two) that never allocates: it holds at most
 * half of `capacity` blocks. For the byte sampler, whose callers must not allocate. */
void live_table_init_fixed(struct live_table *table, struct live_block *slots, size_t capacity);
/* Empties the table (keeps its storage). */
void live_table_clear(struct live_table *table);
void live_table_free(struct live_table *table);
/* Adds a block; if the address is already there (its free was never seen), that older block is
 * replaced and copied to `*replaced` (returns 1). Returns 0 when added, -1 when refused (full
 * or out of memory). */
int live_table_insert(struct live_table *table, const struct live_block *block, struct live_block *replaced);
/* Removes the block at `address` into `*out`; returns 0 if there was none. */
int live_table_remove(struct live_table *table, uintptr_t address, struct live_block *out);

#define LEAK_MIN_LIKELIHOOD 0.95
/* Growth in the second half of the line's rise that counts, as a share of the peak footprint. */
#define LEAK_MIN_GROWTH_OF_PEAK 0.01
/* The rise must span this share of the run, and this long: a list built by one statement is not
 * a leak, even when it is most of a short run. */
#define LEAK_MIN_SPAN_OF_RUN 0.1
#define LEAK_MIN_RISE_NS 500000000LL

struct leak {
    double likelihood; /* rule of succession over the line's sampled allocations */
    double bytes_per_s;
};

/* Laplace's rule of succession: the probability that the line's next sampled allocation is never
 * freed, given `samples` sampled allocations of which `freed` were freed. */
double leak_likelihood(uint64_t samples, uint64_t freed);

/* Whether the line leaks, judged over its rise: from its first sampled allocation to the last
 * time its live memory stood at its peak (what is freed after that, at the program's teardown
 * say, is no evidence against a leak). It leaks when its allocations until then stayed live
 * (likelihood >= 0.95), the rise lasts half a second and 10% of the run (`end_ns`), and its live memory grew
 * over the second half of the rise by at least 1% of the peak footprint. */
int leak_assess(const struct memory_counters *memory, int64_t end_ns, double peak_footprint_bytes,
                struct leak *out);

#endif
