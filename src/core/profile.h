/* profile: the profile document's writer (JSON, schema heatline-profile/1).
 *
 * Owns: turning a session's counters into the document defined in docs/profile-format.md:
 * names, units, nulls for what was not measured, percentages, source text of each line.
 * The document is lossless: every line and function with a measurement, the decorated
 * functions listed; views (the @profile restriction, the reduced profile) are the reports'.
 * Never: is read back by C; reports read the document, not the engine; filters for a view.
 * Talks to: session (gives it a profile_input), linetable, live and stacks (reads), leaks (the
 * rule). */
#ifndef HEATLINE_PROFILE_H
#define HEATLINE_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "filter.h"
#include "gpu.h"
#include "linetable.h"
#include "live.h"
#include "stacks.h"

#define PROFILE_SCHEMA "heatline-profile/1"

struct profile_thread {
    int64_t tid;
    struct counters totals;
};

/* A function the user decorated with @profile: listed in the document; reports may keep only
 * its lines. */
struct profiled_function {
    char *file;
    char *name;
    int32_t first_line;
    int32_t last_line;
};

/* The process a document describes (its entry in `processes`). */
struct profile_process {
    int64_t pid;
    int64_t ppid;
    const char *start_method; /* how it was started, when known ("fork", "spawn", ...); NULL: not */
    double start_s;           /* when its profiling started, in seconds after the run's first process's */
    double cpu_s;             /* CPU time of its threads while profiled (heatline's helper not included) */
    int complete;             /* 0: written while it ran (it may have been killed before its last one) */
};

struct profile_input {
    const char *program;
    const struct string_list *argv;
    const char *python_version;
    const char *heatline_version;
    struct profile_process process;
    double elapsed_s;
    double cpu_sampling_interval_s;
    int64_t samples;
    int64_t dropped_samples;
    struct counters totals;
    double outside_program_s;
    double cpu_wait_s;
    double unattributed_cpu_s;
    const struct linetable *lines;
    const struct stacks *stacks;
    const struct profile_thread *threads;
    size_t thread_count;
    const struct profiled_function *functions; /* NULL: none decorated (written as null) */
    size_t function_count;
    const char *const *warnings; /* one line each */
    size_t warning_count;
    /* memory: all of it is written as null when `memory` is 0 */
    int memory;
    int64_t memory_sampling_rate_bytes;
    const struct live_memory *live;
    uint64_t memory_dropped; /* events lost to a full ring, and sampled blocks never tracked */
    int64_t end_ns; /* the end of the session's time, from its start: the end of every timeline */
    const struct gpu_summary *gpu; /* NULL: not measured, nothing to say */
};

/* The document as a NUL-terminated string (malloc'd), or NULL when memory ran out. */
char *profile_write(const struct profile_input *input);

#endif
