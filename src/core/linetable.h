/* linetable: the per-line and per-function counters of a session, and its interned strings.
 *
 * Owns: (file, line) -> counters and (file, function) -> counters (time and memory, with the
 * bounded timelines of memory), in one process, with no Python objects. Entries never move once created, so the helper may keep pointers to them.
 * Never: grows beyond the program's lines and functions (one entry each), or takes a lock: only
 * the helper writes, and readers (the profile writer) run while the helper is paused or gone.
 * Talks to: helper (writes), profile (reads). */
#ifndef HEATLINE_LINETABLE_H
#define HEATLINE_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

#define LINETABLE_NO_ID UINT32_MAX

struct counters {
    double python_s;
    double native_s;
    double system_s;
    double gil_wait_s;
    double idle_s; /* blocked waiting for work or for another thread (offcpu.c): outside the time */
    double await_s; /* the part of system_s an asyncio task waited on its await (awaits.c) */
};

/* A value over the run, bounded: each point is the highest value reached in one bucket of
 * `spacing_ns`; when the points would overflow `capacity`, the spacing doubles and buckets merge.
 * A bucket without a point held the value the bucket before it ended with: when that differs
 * from its highest, a point for the next bucket carries it (`settled`). */
struct timeline_point {
    int64_t t_ns; /* the bucket's start, from the start of the session */
    double value;
};

struct timeline {
    double last_value; /* the value after the latest change */
    int64_t spacing_ns;
    uint32_t count;
    uint32_t capacity;
    struct timeline_point points[];
};

#define TIMELINE_FIRST_SPACING_NS 10000000LL
/* Points the writer adds after the stored ones (a settled point and the end): `capacity` counts
 * them, so a written timeline never has more than `capacity` points. */
#define TIMELINE_WRITER_POINTS 2

/* NULL when memory ran out. */
struct timeline *timeline_new(uint32_t capacity);
void timeline_record(struct timeline *timeline, int64_t t_ns, double value);
/* Where the last point's bucket ended at a value other than its highest: the point (the next
 * bucket's start, that value) that says so, if it lies before `end_ns`. Returns 0 otherwise. */
int timeline_settled(const struct timeline *timeline, int64_t end_ns, struct timeline_point *out);
/* The value held at `t_ns` (0 before the first point). */
double timeline_value_at(const struct timeline *timeline, int64_t t_ns);

/* What a line (or function) did with memory; bytes are estimates from weighted samples. */
struct memory_counters {
    double alloc_bytes;   /* allocated, Python and native */
    double python_bytes;  /* the part through Python's allocator */
    double copy_bytes;
    double transient_bytes; /* the part of alloc_bytes in small blocks freed at once (live.c) */
    double transient_python_bytes; /* the part of transient_bytes through Python's allocator */
    double live_bytes;    /* allocated here and not freed yet */
    double live_variance; /* the estimated variance of live_bytes (bytesampler_variance) */
    double live_sampled_bytes; /* the sizes of the sampled live blocks: certainly live */
    double peak_bytes;    /* highest live_bytes */
    double supported_peak_bytes; /* the peak shown: see memory_change_live */
    double live_byte_ns;  /* integral of live_bytes over time, up to live_since_ns */
    int64_t live_since_ns;
    int64_t first_ns;     /* the first sampled allocation */
    uint64_t samples;     /* sampled allocations... */
    uint64_t freed;       /* ...and how many of them were freed */
    int64_t peak_ns;      /* the last time live_bytes stood at its peak... */
    uint64_t peak_samples; /* ...and the samples and frees until then */
    uint64_t peak_freed;
    struct timeline *timeline; /* live_bytes over the run; NULL until the first allocation */
};

/* Points of a line's or function's timeline, at most. */
#define MEMORY_TIMELINE_POINTS 64

/* A change of live memory: its estimate (weights), the estimate's variance, and the sizes of the
 * sampled blocks themselves. */
struct live_change {
    double bytes;
    double variance;
    double sampled_bytes;
};

/* Live memory changes by `change` at `now_ns` (from the session's start). The highest value of a
 * noisy estimate overshoots the true highest (one sampled 32-byte object stands for a whole
 * sampling interval while it lives), so the peak shown is the highest value the samples support:
 * the estimate less one standard deviation, or the sampled blocks' own sizes, whichever is more
 * (docs/how-it-works.md#peaks). */
void memory_change_live(struct memory_counters *memory, struct live_change change, int64_t now_ns);
/* Time-averaged live bytes over [0, end_ns]. */
double memory_average_bytes(const struct memory_counters *memory, int64_t end_ns);
int memory_measured(const struct memory_counters *memory);

/* The GPU while a line (or function) ran: readings weighted by the seconds credited to it. */
struct gpu_counters {
    double util_s;         /* seconds credited while utilization was known... */
    double util_percent_s; /* ...and the utilization times those seconds */
    double mem_s;          /* the same for this process's GPU memory */
    double mem_mb_s;
    double mem_peak_mb;    /* the highest reading while it ran */
};

/* `seconds` credited while the GPU read `util_percent` and `mem_mb` (negative: not known). */
void gpu_counters_add(struct gpu_counters *counters, double util_percent, double mem_mb, double seconds);

struct function_entry;

struct line_entry {
    uint32_t file;
    int32_t line;
    struct counters counters;
    struct memory_counters memory;
    struct gpu_counters gpu;
    const struct function_entry *function; /* the function it was first seen in */
};

struct function_entry {
    uint32_t file;
    uint32_t name;
    int32_t first_line;
    struct counters counters;
    struct memory_counters memory;
    struct gpu_counters gpu;
};

struct linetable;

struct linetable *linetable_new(void);
void linetable_free(struct linetable *table);

/* The id of `text` (copied on first sight), or LINETABLE_NO_ID when memory ran out. */
uint32_t linetable_intern(struct linetable *table, const char *text);
const char *linetable_string(const struct linetable *table, uint32_t id);

/* The entry of a line or function, created at zero on first use; NULL when memory ran out. */
struct line_entry *linetable_line(struct linetable *table, uint32_t file, int32_t line);
struct function_entry *linetable_function(struct linetable *table, uint32_t file, uint32_t name,
                                          int32_t first_line);

size_t linetable_line_count(const struct linetable *table);
const struct line_entry *linetable_line_at(const struct linetable *table, size_t index);
size_t linetable_function_count(const struct linetable *table);
const struct function_entry *linetable_function_at(const struct linetable *table, size_t index);

void counters_add(struct counters *into, const struct counters *amount);
double counters_total_s(const struct counters *counters);
/* Every second credited: the time, GIL wait and idle waiting. */
double counters_all_s(const struct counters *counters);

#endif
