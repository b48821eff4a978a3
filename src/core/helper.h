/* helper: the profiling session and its helper thread.
 *
 * Owns: the session (its threads, counters and clocks) and the helper thread that, on a
 * wall-clock beat, finds new threads and gives each a CPU-time timer, drains the sampler's rings
 * into the line table, and measures each thread's time off the CPU (wall minus CPU clock),
 * crediting it to the line the thread is blocked on, read with process_vm_readv. With memory on,
 * it also drains the byte sampler into the lines and the live table. CPU time, allocations and copies of a thread with no Python (a
 * native library's worker) go to the main thread's line: such threads work for the Python code
 * that started the job, and the main thread is where that code usually runs. (Allocations read
 * that line when they happen; CPU samples take where the main thread waited at the last beat if
 * it was blocked, where it was last sampled otherwise.)
 * Never: reads another thread's frames with plain loads, or sends a signal to a thread that is
 * not running (blocked system calls are never interrupted by heatline).
 * Talks to: module (start/stop), sampler, frames, codecache, linetable, profile. */
#ifndef HEATLINE_HELPER_H
#define HEATLINE_HELPER_H

#include <stddef.h>
#include <stdint.h>

#include "filter.h"
#include "profile.h"

struct session_config {
    int64_t cpu_sampling_interval_ns;
    int64_t memory_sampling_rate_bytes; /* 0: memory is not profiled */
    int start_enabled;
    struct filter filter;
    uint8_t call_opcodes[256];
    char *program;
    struct string_list argv;
    char *python_version;
    char *heatline_version;
};

/* Frees what a session_config holds (and leaves it zeroed). */
void session_config_free(struct session_config *config);

/* Takes ownership of `config` (also on failure). Called with the GIL held. Returns 0, or -1 with
 * a message in `error`. */
int helper_start(struct session_config *config, char *error, size_t error_size);
int helper_is_running(void);
void helper_set_enabled(int enabled);
int helper_is_enabled(void);
/* The document so far (malloc'd JSON), or NULL. */
char *helper_snapshot(const struct profiled_function *functions, size_t count, int restricted);
/* Ends the session and returns its document (malloc'd JSON), or NULL. */
char *helper_stop(const struct profiled_function *functions, size_t count, int restricted);
/* 1 if the program replaced the sampler's signal handler during the session. */
int helper_signal_was_replaced(void);

#endif
