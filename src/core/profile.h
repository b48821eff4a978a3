/* profile: the profile document's writer (JSON, schema heatline-profile/1).
 *
 * Owns: turning a session's counters into the document defined in docs/profile-format.md:
 * names, units, nulls for what was not measured, percentages, source text of each line.
 * Never: is read back by C; reports read the document, not the engine.
 * Talks to: helper (gives it a profile_input), linetable (reads). */
#ifndef HEATLINE_PROFILE_H
#define HEATLINE_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "filter.h"
#include "linetable.h"

#define PROFILE_SCHEMA "heatline-profile/1"

struct profile_thread {
    int64_t tid;
    struct counters totals;
};

/* A function the user decorated with @profile: the report keeps only its lines. */
struct profiled_function {
    char *file;
    char *name;
    int32_t first_line;
    int32_t last_line;
};

struct profile_input {
    const char *program;
    const struct string_list *argv;
    const char *python_version;
    const char *heatline_version;
    int64_t pid;
    double elapsed_s;
    double cpu_sampling_interval_s;
    int64_t samples;
    int64_t dropped_samples;
    struct counters totals;
    double outside_program_s;
    double cpu_wait_s;
    const struct linetable *lines;
    const struct profile_thread *threads;
    size_t thread_count;
    int restricted; /* 1 when some function was decorated: keep only `functions` */
    const struct profiled_function *functions;
    size_t function_count;
    /* memory: all of it is written as null when `memory` is 0 */
    int memory;
    int64_t memory_sampling_rate_bytes;
    int64_t memory_samples;
    int64_t memory_dropped;
    const struct memory_counters *memory_totals; /* alloc, python and copy bytes */
    int64_t end_ns;                              /* now, from the start of the session */
    const struct timeline *footprint;
    double footprint_bytes;
    double peak_bytes;
    int64_t peak_ns;
    const struct line_entry *peak_line;
};

/* The document as a NUL-terminated string (malloc'd), or NULL when memory ran out. */
char *profile_write(const struct profile_input *input);

#endif
