/* linetable: see linetable.h. Each kind of entry lives in a chunked array (chunks never move)
 * indexed by an open-addressing hash of entry numbers. */
#include "linetable.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_ENTRIES 1024

/* A growable array whose elements keep their address. */
struct chunks {
    size_t element_size;
    size_t count;
    size_t chunk_count;
    char **chunk;
};

/* Entry number + 1 per slot; 0 is empty. */
struct index {
    uint32_t *slots;
    size_t capacity;
};

struct string_entry {
    char *text;
    uint64_t hash;
};

struct linetable {
    struct chunks strings, lines, functions;
    struct index string_index, line_index, function_index;
};

static void *chunks_at(const struct chunks *chunks, size_t i)
{
    return chunks->chunk[i / CHUNK_ENTRIES] + (i % CHUNK_ENTRIES) * chunks->element_size;
}

static void *chunks_append(struct chunks *chunks)
{
    if (chunks->count == chunks->chunk_count * CHUNK_ENTRIES) {
        char **grown = realloc(chunks->chunk, (chunks->chunk_count + 1) * sizeof *grown);
        if (!grown)
            return NULL;
        chunks->chunk = grown;
        grown[chunks->chunk_count] = calloc(CHUNK_ENTRIES, chunks->element_size);
        if (!grown[chunks->chunk_count])
            return NULL;
        chunks->chunk_count++;
    }
    return chunks_at(chunks, chunks->count++);
}

static void chunks_free(struct chunks *chunks)
{
    for (size_t i = 0; i < chunks->chunk_count; i++)
        free(chunks->chunk[i]);
    free(chunks->chunk);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static uint64_t hash_text(const char *text)
{
    uint64_t hash = 1469598103934665603ULL;
    for (; *text; text++)
        hash = (hash ^ (uint8_t)*text) * 1099511628211ULL;
    return hash;
}

typedef int (*matches_fn)(const void *entry, const void *key);
typedef uint64_t (*hash_fn)(const void *entry);

/* Finds the entry equal to `key` (hash `hash`) or returns the empty slot where it belongs. */
static uint32_t *index_find(const struct index *index, const struct chunks *chunks, uint64_t hash,
                            const void *key, matches_fn matches)
{
    size_t mask = index->capacity - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        uint32_t *slot = &index->slots[i];
        if (*slot == 0 || matches(chunks_at(chunks, *slot - 1), key))
            return slot;
    }
}

static int index_reserve(struct index *index, const struct chunks *chunks, hash_fn hash)
{
    if ((chunks->count + 1) * 2 <= index->capacity)
        return 0;
    size_t capacity = index->capacity ? index->capacity * 2 : 256;
    uint32_t *slots = calloc(capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t n = 0; n < chunks->count; n++) {
        size_t i = hash(chunks_at(chunks, n)) & (capacity - 1);
        while (slots[i])
            i = (i + 1) & (capacity - 1);
        slots[i] = (uint32_t)n + 1;
    }
    free(index->slots);
    index->slots = slots;
    index->capacity = capacity;
    return 0;
}

/* The number of the entry equal to `key`, adding an empty one (and setting *added) if there is
 * none; -1 when memory ran out. */
static long find_or_add(struct index *index, struct chunks *chunks, uint64_t hash, const void *key,
                        matches_fn matches, hash_fn rehash, int *added)
{
    *added = 0;
    if (index_reserve(index, chunks, rehash) < 0)
        return -1;
    uint32_t *slot = index_find(index, chunks, hash, key, matches);
    if (*slot)
        return (long)*slot - 1;
    if (!chunks_append(chunks))
        return -1;
    *slot = (uint32_t)chunks->count;
    *added = 1;
    return (long)chunks->count - 1;
}

/* ---- strings ---- */

static int string_matches(const void *entry, const void *key)
{
    return strcmp(((const struct string_entry *)entry)->text, key) == 0;
}

static uint64_t string_hash(const void *entry)
{
    return ((const struct string_entry *)entry)->hash;
}

uint32_t linetable_intern(struct linetable *table, const char *text)
{
    uint64_t hash = hash_text(text);
    int added;
    long number = find_or_add(&table->string_index, &table->strings, hash, text, string_matches,
                              string_hash, &added);
    if (number < 0)
        return LINETABLE_NO_ID;
    struct string_entry *entry = chunks_at(&table->strings, (size_t)number);
    if (added) {
        entry->hash = hash;
        entry->text = strdup(text);
        if (!entry->text) {
            /* Keep the slot valid (an empty string matches only "") rather than leave a hole. */
            entry->text = calloc(1, 1);
            return LINETABLE_NO_ID;
        }
    }
    return (uint32_t)number;
}

const char *linetable_string(const struct linetable *table, uint32_t id)
{
    if (id >= table->strings.count)
        return "";
    return ((const struct string_entry *)chunks_at(&table->strings, id))->text;
}

/* ---- lines ---- */

static uint64_t line_key_hash(uint32_t file, int32_t line)
{
    return mix(((uint64_t)file << 32) | (uint32_t)line);
}

static int line_matches(const void *entry, const void *key)
{
    const struct line_entry *a = entry, *b = key;
    return a->file == b->file && a->line == b->line;
}

static uint64_t line_hash(const void *entry)
{
    const struct line_entry *e = entry;
    return line_key_hash(e->file, e->line);
}

struct line_entry *linetable_line(struct linetable *table, uint32_t file, int32_t line)
{
    struct line_entry key = {.file = file, .line = line};
    int added;
    long number = find_or_add(&table->line_index, &table->lines, line_key_hash(file, line), &key,
                              line_matches, line_hash, &added);
    if (number < 0)
        return NULL;
    struct line_entry *entry = chunks_at(&table->lines, (size_t)number);
    if (added) {
        entry->file = file;
        entry->line = line;
    }
    return entry;
}

/* ---- functions ---- */

static uint64_t function_key_hash(uint32_t file, uint32_t name, int32_t first_line)
{
    return mix(((uint64_t)file << 32 | (uint32_t)first_line) ^ mix(name));
}

static int function_matches(const void *entry, const void *key)
{
    const struct function_entry *a = entry, *b = key;
    return a->file == b->file && a->name == b->name && a->first_line == b->first_line;
}

static uint64_t function_hash(const void *entry)
{
    const struct function_entry *e = entry;
    return function_key_hash(e->file, e->name, e->first_line);
}

struct function_entry *linetable_function(struct linetable *table, uint32_t file, uint32_t name,
                                          int32_t first_line)
{
    struct function_entry key = {.file = file, .name = name, .first_line = first_line};
    int added;
    long number = find_or_add(&table->function_index, &table->functions,
                              function_key_hash(file, name, first_line), &key, function_matches,
                              function_hash, &added);
    if (number < 0)
        return NULL;
    struct function_entry *entry = chunks_at(&table->functions, (size_t)number);
    if (added)
        *entry = key;
    return entry;
}

/* ---- the table ---- */

struct linetable *linetable_new(void)
{
    struct linetable *table = calloc(1, sizeof *table);
    if (!table)
        return NULL;
    table->strings.element_size = sizeof(struct string_entry);
    table->lines.element_size = sizeof(struct line_entry);
    table->functions.element_size = sizeof(struct function_entry);
    return table;
}

void linetable_free(struct linetable *table)
{
    if (!table)
        return;
    for (size_t i = 0; i < table->strings.count; i++)
        free(((struct string_entry *)chunks_at(&table->strings, i))->text);
    for (size_t i = 0; i < table->lines.count; i++)
        free(((struct line_entry *)chunks_at(&table->lines, i))->memory.timeline);
    for (size_t i = 0; i < table->functions.count; i++)
        free(((struct function_entry *)chunks_at(&table->functions, i))->memory.timeline);
    chunks_free(&table->strings);
    chunks_free(&table->lines);
    chunks_free(&table->functions);
    free(table->string_index.slots);
    free(table->line_index.slots);
    free(table->function_index.slots);
    free(table);
}

size_t linetable_line_count(const struct linetable *table)
{
    return table->lines.count;
}

const struct line_entry *linetable_line_at(const struct linetable *table, size_t index)
{
    return chunks_at(&table->lines, index);
}

size_t linetable_function_count(const struct linetable *table)
{
    return table->functions.count;
}

const struct function_entry *linetable_function_at(const struct linetable *table, size_t index)
{
    return chunks_at(&table->functions, index);
}

void counters_add(struct counters *into, const struct counters *amount)
{
    into->python_s += amount->python_s;
    into->native_s += amount->native_s;
    into->system_s += amount->system_s;
    into->gil_wait_s += amount->gil_wait_s;
    into->idle_s += amount->idle_s;
    into->await_s += amount->await_s;
}

double counters_total_s(const struct counters *counters)
{
    return counters->python_s + counters->native_s + counters->system_s;
}

double counters_all_s(const struct counters *counters)
{
    return counters_total_s(counters) + counters->gil_wait_s + counters->idle_s;
}

/* ---- memory ---- */

struct timeline *timeline_new(uint32_t capacity)
{
    struct timeline *timeline = calloc(1, sizeof *timeline + capacity * sizeof *timeline->points);
    if (!timeline)
        return NULL;
    timeline->spacing_ns = TIMELINE_FIRST_SPACING_NS;
    timeline->capacity = capacity;
    return timeline;
}

/* Doubles the spacing until the points leave room for a new one and the writer's, merging
 * buckets. */
static void timeline_coarsen(struct timeline *timeline)
{
    while (timeline->count + TIMELINE_WRITER_POINTS >= timeline->capacity) {
        timeline->spacing_ns *= 2;
        uint32_t kept = 0;
        for (uint32_t i = 0; i < timeline->count; i++) {
            struct timeline_point point = timeline->points[i];
            point.t_ns -= point.t_ns % timeline->spacing_ns;
            if (kept && timeline->points[kept - 1].t_ns == point.t_ns) {
                if (point.value > timeline->points[kept - 1].value)
                    timeline->points[kept - 1].value = point.value;
            } else {
                timeline->points[kept++] = point;
            }
        }
        timeline->count = kept;
    }
}

int timeline_settled(const struct timeline *timeline, int64_t end_ns, struct timeline_point *out)
{
    if (!timeline->count)
        return 0;
    const struct timeline_point *last = &timeline->points[timeline->count - 1];
    out->t_ns = last->t_ns + timeline->spacing_ns;
    out->value = timeline->last_value;
    return timeline->last_value != last->value && out->t_ns < end_ns;
}

static void append_point(struct timeline *timeline, int64_t t_ns, double value);

void timeline_record(struct timeline *timeline, int64_t t_ns, double value)
{
    if (t_ns < 0)
        t_ns = 0;
    struct timeline_point settled;
    if (timeline_settled(timeline, t_ns - t_ns % timeline->spacing_ns, &settled))
        append_point(timeline, settled.t_ns, settled.value);
    append_point(timeline, t_ns, value);
    timeline->last_value = value;
}

/* Folds the value into the last point when it falls in that point's bucket. */
static int merge_into_last(struct timeline *timeline, int64_t t_ns, double value)
{
    if (!timeline->count)
        return 0;
    struct timeline_point *last = &timeline->points[timeline->count - 1];
    if (t_ns - t_ns % timeline->spacing_ns > last->t_ns)
        return 0;
    if (value > last->value)
        last->value = value;
    return 1;
}

static void append_point(struct timeline *timeline, int64_t t_ns, double value)
{
    if (merge_into_last(timeline, t_ns, value))
        return;
    if (timeline->count + TIMELINE_WRITER_POINTS >= timeline->capacity) {
        timeline_coarsen(timeline);
        if (merge_into_last(timeline, t_ns, value))
            return;
    }
    timeline->points[timeline->count].t_ns = t_ns - t_ns % timeline->spacing_ns;
    timeline->points[timeline->count].value = value;
    timeline->count++;
}

double timeline_value_at(const struct timeline *timeline, int64_t t_ns)
{
    double value = 0;
    for (uint32_t i = 0; timeline && i < timeline->count && timeline->points[i].t_ns <= t_ns; i++)
        value = timeline->points[i].value;
    return value;
}

void memory_change_live(struct memory_counters *memory, struct live_change change, int64_t now_ns)
{
    if (now_ns > memory->live_since_ns) {
        memory->live_byte_ns += memory->live_bytes * (double)(now_ns - memory->live_since_ns);
        memory->live_since_ns = now_ns;
    }
    memory->live_bytes += change.bytes;
    memory->live_variance += change.variance;
    memory->live_sampled_bytes += change.sampled_bytes;
    if (memory->live_bytes <= 0)
        memory->live_bytes = memory->live_variance = memory->live_sampled_bytes = 0;
    double supported = memory->live_bytes - sqrt(memory->live_variance > 0 ? memory->live_variance : 0);
    if (supported < memory->live_sampled_bytes)
        supported = memory->live_sampled_bytes;
    if (supported > memory->supported_peak_bytes)
        memory->supported_peak_bytes = supported;
    if (memory->live_bytes >= memory->peak_bytes && memory->live_bytes > 0) {
        memory->peak_bytes = memory->live_bytes;
        memory->peak_ns = now_ns;
        memory->peak_samples = memory->samples;
        memory->peak_freed = memory->freed;
    }
    if (!memory->timeline)
        memory->timeline = timeline_new(MEMORY_TIMELINE_POINTS);
    if (memory->timeline)
        timeline_record(memory->timeline, now_ns, memory->live_bytes);
}

double memory_average_bytes(const struct memory_counters *memory, int64_t end_ns)
{
    if (end_ns <= 0)
        return memory->live_bytes;
    double integral = memory->live_byte_ns;
    if (end_ns > memory->live_since_ns)
        integral += memory->live_bytes * (double)(end_ns - memory->live_since_ns);
    return integral / (double)end_ns;
}

int memory_measured(const struct memory_counters *memory)
{
    return memory->alloc_bytes > 0 || memory->copy_bytes > 0;
}

void gpu_counters_add(struct gpu_counters *counters, double util_percent, double mem_mb, double seconds)
{
    if (seconds <= 0)
        return;
    if (util_percent >= 0) {
        counters->util_s += seconds;
        counters->util_percent_s += util_percent * seconds;
    }
    if (mem_mb >= 0) {
        counters->mem_s += seconds;
        counters->mem_mb_s += mem_mb * seconds;
        if (mem_mb > counters->mem_peak_mb)
            counters->mem_peak_mb = mem_mb;
    }
}
