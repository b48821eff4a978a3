/* gpu: the GPU's utilization and this process's GPU memory, read through NVML.
 *
 * Owns: loading libnvidia-ml.so.1 with dlopen (HEATLINE_NVML_LIBRARY names another), resolving
 * each NVML symbol it uses as optional (versioned names first), and the poller thread that reads
 * utilization about 10 times a second and this process's GPU memory twice a second; the latest
 * reading, published for the helper to weigh the time it credits; the run's GPU summary (mean
 * utilization, memory peak and timeline, devices, and why figures are missing: `note`).
 * Never: calls NVML from a signal handler or a program thread (NVML takes a driver lock, and
 * some calls take milliseconds): only its own thread does, and gpu_start/gpu_stop; never holds
 * its lock across an NVML call; never fails a run: whatever goes wrong becomes the note.
 * Talks to: session (start, stop, summary), cputime (the latest reading), profile (through
 * struct gpu_summary, plain data). */
#ifndef HEATLINE_GPU_H
#define HEATLINE_GPU_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "linetable.h"

#define GPU_NOTE_BYTES 200
#define GPU_MAX_DEVICES 16
#define GPU_TIMELINE_POINTS 256

struct gpu;

/* The latest values; a negative one is not known (not measured, or no longer). */
struct gpu_reading {
    double util_percent; /* summed over the devices */
    double mem_mb;       /* this process's, summed over the devices */
};

struct gpu_device_info {
    char name[96];
    double memory_total_mb; /* < 0: not known */
};

/* What the document says of the GPU: plain data for profile.c. */
struct gpu_summary {
    int available;
    int per_process;
    char note[GPU_NOTE_BYTES]; /* "" when there is nothing to say */
    size_t device_count;
    struct gpu_device_info devices[GPU_MAX_DEVICES];
    int util_known;
    double util_mean_percent;
    int mem_known;
    double mem_peak_mb;
    double mem_last_mb;
    struct timeline *mem_timeline; /* a copy (gpu_summary_release frees it); NULL: no memory reading */
};

/* Starts reading the GPU, `start_ns` the session's start (CLOCK_MONOTONIC). NULL when no GPU
 * can be read, with the reason in `note`. */
struct gpu *gpu_start(int64_t start_ns, char *note, size_t note_size);
/* The latest reading; lock-free, for the helper. `gpu` may be NULL (nothing known). */
void gpu_latest(struct gpu *gpu, struct gpu_reading *out);
/* Whether utilization counts toward the run's mean (profiling on or paused). */
void gpu_set_enabled(struct gpu *gpu, int enabled);
/* Fills `out`; `gpu` may be NULL (then `note_if_none` says why). */
void gpu_summarize(struct gpu *gpu, const char *note_if_none, struct gpu_summary *out);
void gpu_summary_release(struct gpu_summary *summary);
/* The poller thread's id (the helper neither tracks nor credits it: it is heatline's), and its
 * CPU time so far; 0 and -1 when `gpu` is NULL. */
pid_t gpu_thread_id(const struct gpu *gpu);
int gpu_thread_cpu_ns(const struct gpu *gpu, int64_t *cpu_ns);
/* Stops the poller (waiting at most a second for an NVML call to return) and lets NVML go. */
void gpu_stop(struct gpu *gpu);

#endif
