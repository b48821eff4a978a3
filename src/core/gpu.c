/* gpu: see gpu.h. NVML's types are declared here from its ABI (nvml.h is not needed to build). */
#define _GNU_SOURCE
#include "gpu.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "threads.h"

#define NVML_SUCCESS 0
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_GPU_IS_LOST 15
#define NVML_DEVICE_MIG_ENABLE 1

#define UTIL_INTERVAL_NS 100000000LL /* about 10 Hz */
#define MEMORY_EVERY_POLLS 5         /* memory at about 2 Hz */
/* A process's utilization samples come at the driver's own pace (about every 1/6 s): without a
 * new one, the last stands this long, then the process is taken as idle. */
#define PROCESS_SAMPLE_STANDS_NS 1000000000LL
/* gpu_stop waits this long for an NVML call in progress; a driver that hangs keeps its thread. */
#define STOP_WAIT_NS 1000000000LL
#define PROCESS_SLOTS_FIRST 64
#define PROCESS_SLOTS_MOST 65536
#define MB (1024.0 * 1024.0)

typedef int nvml_return;
typedef void *nvml_device;

struct nvml_utilization {
    unsigned int gpu;
    unsigned int memory;
};

struct nvml_memory {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
};

struct nvml_process_utilization_sample {
    unsigned int pid;
    unsigned long long time_stamp_us;
    unsigned int sm_util;
    unsigned int mem_util;
    unsigned int enc_util;
    unsigned int dec_util;
};

/* nvmlDeviceGetComputeRunningProcesses (v1) fills the first; _v2 and _v3 the second. */
struct nvml_process_info_v1 {
    unsigned int pid;
    unsigned long long used_gpu_memory;
};

struct nvml_process_info_v2 {
    unsigned int pid;
    unsigned long long used_gpu_memory;
    unsigned int gpu_instance_id;
    unsigned int compute_instance_id;
};

/* NVML's "not available" memory figure (NVML_VALUE_NOT_AVAILABLE): no permission to see it. */
#define NVML_VALUE_NOT_AVAILABLE 0xFFFFFFFFFFFFFFFFULL

struct nvml {
    void *library;
    nvml_return (*init)(void);
    nvml_return (*shutdown)(void);
    const char *(*error_string)(nvml_return);
    nvml_return (*device_count)(unsigned int *);
    nvml_return (*device_by_index)(unsigned int, nvml_device *);
    nvml_return (*device_name)(nvml_device, char *, unsigned int);
    nvml_return (*memory_info)(nvml_device, struct nvml_memory *);
    nvml_return (*mig_mode)(nvml_device, unsigned int *, unsigned int *);
    nvml_return (*utilization)(nvml_device, struct nvml_utilization *);
    nvml_return (*process_utilization)(nvml_device, struct nvml_process_utilization_sample *, unsigned int *,
                                       unsigned long long);
    nvml_return (*processes)(nvml_device, unsigned int *, void *);
    size_t process_info_size; /* of the struct `processes` fills */
};

struct device {
    nvml_device handle;
    unsigned long long last_seen_us; /* the newest process sample read */
    double process_util_percent;     /* this process's, from its last sample */
    int64_t process_sample_ns;       /* when that sample was read */
};

struct gpu {
    struct nvml nvml;
    pid_t pid;
    int64_t start_ns;
    size_t device_count;
    struct device devices[GPU_MAX_DEVICES];
    struct gpu_device_info info[GPU_MAX_DEVICES];
    void *process_slots;
    unsigned int process_slot_count;
    int per_process;
    int memory_readable;
    /* published for the helper */
    _Atomic double util_percent;
    _Atomic double mem_mb;
    _Atomic int enabled;
    /* the poller */
    pthread_t thread;
    /* the poller's own CPU time, as it last read it: its clock cannot be read from outside once
     * it has exited (and its id may belong to another thread by then) */
    _Atomic int64_t thread_cpu_ns;
    pid_t thread_id; /* set by the poller as it starts; gpu_start waits for it */
    pthread_mutex_t lock; /* guards what follows, and `stopping` */
    pthread_cond_t wake;
    int stopping;
    int finished; /* the poller has left its loop */
    int opened;   /* NVML started (gpu_stop shuts it down) */
    int ready;    /* ...and the devices found: readings follow */
    unsigned long readings; /* polls that read the utilization */
    char note[GPU_NOTE_BYTES];
    double util_percent_s;
    double util_s;
    int64_t last_util_ns;
    double mem_peak_mb;
    double mem_last_mb;
    int mem_known;
    struct timeline *mem_timeline;
};

static int64_t monotonic_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static void set_note(char *note, size_t size, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(note, size, format, arguments);
    va_end(arguments);
}

static const char *error_text(const struct nvml *nvml, nvml_return code)
{
    static _Thread_local char unknown[32];
    const char *text = nvml->error_string ? nvml->error_string(code) : NULL;
    if (text && text[0])
        return text;
    snprintf(unknown, sizeof unknown, "error %d", code);
    return unknown;
}

/* The first of `names` the library has. */
static void *symbol(void *library, const char *const *names)
{
    for (; *names; names++) {
        void *found = dlsym(library, *names);
        if (found)
            return found;
    }
    return NULL;
}

#define SYMBOL(nvml, field, ...) \
    (*(void **)&(nvml)->field = symbol((nvml)->library, (const char *const[]){__VA_ARGS__, NULL}))

static int load_nvml(struct nvml *nvml, char *note, size_t note_size)
{
    const char *path = getenv("HEATLINE_NVML_LIBRARY");
    if (!path || !path[0])
        path = "libnvidia-ml.so.1";
    nvml->library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!nvml->library) {
        set_note(note, note_size, "no NVIDIA driver: %s could not be loaded", path);
        return -1;
    }
    SYMBOL(nvml, init, "nvmlInit_v2", "nvmlInit");
    SYMBOL(nvml, shutdown, "nvmlShutdown");
    SYMBOL(nvml, error_string, "nvmlErrorString");
    SYMBOL(nvml, device_count, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
    SYMBOL(nvml, device_by_index, "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex");
    SYMBOL(nvml, device_name, "nvmlDeviceGetName");
    SYMBOL(nvml, memory_info, "nvmlDeviceGetMemoryInfo");
    SYMBOL(nvml, mig_mode, "nvmlDeviceGetMigMode");
    SYMBOL(nvml, utilization, "nvmlDeviceGetUtilizationRates");
    SYMBOL(nvml, process_utilization, "nvmlDeviceGetProcessUtilization");
    nvml->process_info_size = sizeof(struct nvml_process_info_v2);
    SYMBOL(nvml, processes, "nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2");
    if (!nvml->processes) {
        SYMBOL(nvml, processes, "nvmlDeviceGetComputeRunningProcesses");
        nvml->process_info_size = sizeof(struct nvml_process_info_v1);
    }
    if (!nvml->init || !nvml->device_count || !nvml->device_by_index ||
        (!nvml->utilization && !nvml->process_utilization)) {
        set_note(note, note_size, "the NVIDIA driver's NVML (%s) lacks the functions heatline needs", path);
        dlclose(nvml->library);
        return -1;
    }
    nvml_return status = nvml->init();
    if (status != NVML_SUCCESS) {
        set_note(note, note_size, "NVML could not start: %s", error_text(nvml, status));
        dlclose(nvml->library);
        return -1;
    }
    return 0;
}

static void unload_nvml(struct nvml *nvml)
{
    if (nvml->shutdown)
        nvml->shutdown();
    dlclose(nvml->library);
}

static int find_devices(struct gpu *gpu, char *note, size_t note_size)
{
    struct nvml *nvml = &gpu->nvml;
    unsigned int count = 0;
    nvml_return status = nvml->device_count(&count);
    if (status != NVML_SUCCESS) {
        set_note(note, note_size, "NVML could not count the GPUs: %s", error_text(nvml, status));
        return -1;
    }
    if (count == 0) {
        set_note(note, note_size, "no GPU: NVML lists no device");
        return -1;
    }
    if (count > GPU_MAX_DEVICES)
        count = GPU_MAX_DEVICES;
    for (unsigned int i = 0; i < count; i++) {
        struct device *device = &gpu->devices[i];
        struct gpu_device_info *info = &gpu->info[i];
        status = nvml->device_by_index(i, &device->handle);
        if (status != NVML_SUCCESS) {
            set_note(note, note_size, "NVML could not open GPU %u: %s", i, error_text(nvml, status));
            return -1;
        }
        unsigned int current = 0, pending = 0;
        if (nvml->mig_mode && nvml->mig_mode(device->handle, &current, &pending) == NVML_SUCCESS &&
            current == NVML_DEVICE_MIG_ENABLE) {
            set_note(note, note_size,
                     "MIG mode is on (GPU %u): NVML reports no utilization per MIG instance", i);
            return -1;
        }
        if (!nvml->device_name || nvml->device_name(device->handle, info->name, sizeof info->name) != NVML_SUCCESS)
            snprintf(info->name, sizeof info->name, "GPU %u", i);
        info->name[sizeof info->name - 1] = '\0';
        struct nvml_memory memory;
        info->memory_total_mb = -1;
        if (nvml->memory_info && nvml->memory_info(device->handle, &memory) == NVML_SUCCESS)
            info->memory_total_mb = (double)memory.total / MB;
    }
    gpu->device_count = count;
    return 0;
}

/* NVML failed mid-run: no more readings; the note says when. Called without the lock. */
static void lose(struct gpu *gpu, const char *what, nvml_return status)
{
    atomic_store_explicit(&gpu->util_percent, -1.0, memory_order_relaxed);
    atomic_store_explicit(&gpu->mem_mb, -1.0, memory_order_relaxed);
    pthread_mutex_lock(&gpu->lock);
    /* Failing before any reading means the GPU cannot be read here at all: no figures, not
     * figures of zero. */
    if (gpu->readings)
        set_note(gpu->note, sizeof gpu->note, "NVML error: %s (%s, %.2f s into the run); GPU figures stop there",
                 error_text(&gpu->nvml, status), what, (double)(monotonic_ns() - gpu->start_ns) / 1e9);
    else
        set_note(gpu->note, sizeof gpu->note, "the GPU cannot be read here: NVML answers \"%s\" (%s)",
                 error_text(&gpu->nvml, status), what);
    gpu->ready = gpu->readings > 0;
    pthread_mutex_unlock(&gpu->lock);
}

/* This process's utilization of one device from its newest samples; -1 on an error. */
static int read_process_util(struct gpu *gpu, struct device *device, int64_t now_ns, double *util, nvml_return *error)
{
    struct nvml *nvml = &gpu->nvml;
    unsigned int count = 0;
    nvml_return status = nvml->process_utilization(device->handle, NULL, &count, device->last_seen_us);
    if (status == NVML_ERROR_INSUFFICIENT_SIZE || (status == NVML_SUCCESS && count > 0)) {
        unsigned int capacity = count + 8;
        struct nvml_process_utilization_sample *samples = calloc(capacity, sizeof *samples);
        if (!samples) {
            *error = NVML_SUCCESS;
            return -1;
        }
        count = capacity;
        status = nvml->process_utilization(device->handle, samples, &count, device->last_seen_us);
        if (status == NVML_SUCCESS) {
            unsigned long long newest_us = device->last_seen_us;
            double own = -1;
            for (unsigned int i = 0; i < count && i < capacity; i++) {
                if (samples[i].time_stamp_us > newest_us)
                    newest_us = samples[i].time_stamp_us;
                if ((pid_t)samples[i].pid == gpu->pid && samples[i].sm_util > own)
                    own = samples[i].sm_util;
            }
            device->last_seen_us = newest_us;
            if (own >= 0) {
                device->process_util_percent = own;
                device->process_sample_ns = now_ns;
            }
        }
        free(samples);
    }
    if (status != NVML_SUCCESS && status != NVML_ERROR_NOT_FOUND && status != NVML_ERROR_INSUFFICIENT_SIZE) {
        *error = status;
        return -1;
    }
    if (now_ns - device->process_sample_ns > PROCESS_SAMPLE_STANDS_NS)
        device->process_util_percent = 0;
    *util = device->process_util_percent;
    return 0;
}

/* Utilization summed over the devices, or -1 (then `error` says why). */
static double read_util(struct gpu *gpu, int64_t now_ns, nvml_return *error)
{
    struct nvml *nvml = &gpu->nvml;
    double total = 0;
    for (size_t i = 0; i < gpu->device_count; i++) {
        double util = 0;
        if (!gpu->per_process) {
            struct nvml_utilization rates;
            *error = nvml->utilization(gpu->devices[i].handle, &rates);
            if (*error != NVML_SUCCESS)
                return -1;
            total += rates.gpu;
        } else if (read_process_util(gpu, &gpu->devices[i], now_ns, &util, error) == 0) {
            total += util;
        } else if (*error == NVML_ERROR_NOT_SUPPORTED && nvml->utilization) {
            /* The driver gives no per-process figures here: the whole device's, from now on. */
            pthread_mutex_lock(&gpu->lock);
            gpu->per_process = 0;
            pthread_mutex_unlock(&gpu->lock);
            return read_util(gpu, now_ns, error);
        } else {
            return -1;
        }
    }
    return total;
}

/* This process's GPU memory summed over the devices, or -1 (`error` NOT_SUPPORTED: not readable). */
static double read_memory(struct gpu *gpu, nvml_return *error)
{
    struct nvml *nvml = &gpu->nvml;
    double total_bytes = 0;
    for (size_t i = 0; i < gpu->device_count; i++) {
        nvml_return status;
        unsigned int count;
        for (;;) {
            count = gpu->process_slot_count;
            status = nvml->processes(gpu->devices[i].handle, &count, gpu->process_slots);
            if (status != NVML_ERROR_INSUFFICIENT_SIZE || count <= gpu->process_slot_count ||
                count > PROCESS_SLOTS_MOST)
                break;
            void *grown = realloc(gpu->process_slots, (size_t)count * 2 * gpu->nvml.process_info_size);
            if (!grown)
                break;
            gpu->process_slots = grown;
            gpu->process_slot_count = count * 2;
        }
        if (status != NVML_SUCCESS) {
            *error = status;
            return -1;
        }
        for (unsigned int k = 0; k < count && k < gpu->process_slot_count; k++) {
            const char *slot = (const char *)gpu->process_slots + (size_t)k * gpu->nvml.process_info_size;
            struct nvml_process_info_v1 entry; /* the two first fields, the same in every version */
            memcpy(&entry.pid, slot + offsetof(struct nvml_process_info_v1, pid), sizeof entry.pid);
            memcpy(&entry.used_gpu_memory, slot + offsetof(struct nvml_process_info_v1, used_gpu_memory),
                   sizeof entry.used_gpu_memory);
            if ((pid_t)entry.pid == gpu->pid && entry.used_gpu_memory != NVML_VALUE_NOT_AVAILABLE)
                total_bytes += (double)entry.used_gpu_memory;
        }
    }
    return total_bytes / MB;
}

static void record(struct gpu *gpu, int64_t now_ns, double util, int have_memory, double mem_mb)
{
    pthread_mutex_lock(&gpu->lock);
    gpu->readings++;
    if (util >= 0 && atomic_load_explicit(&gpu->enabled, memory_order_relaxed)) {
        double seconds = (double)(now_ns - gpu->last_util_ns) / 1e9;
        gpu->util_percent_s += util * seconds;
        gpu->util_s += seconds;
    }
    gpu->last_util_ns = now_ns;
    if (have_memory) {
        gpu->mem_known = 1;
        gpu->mem_last_mb = mem_mb;
        if (mem_mb > gpu->mem_peak_mb)
            gpu->mem_peak_mb = mem_mb;
        if (gpu->mem_timeline)
            timeline_record(gpu->mem_timeline, now_ns - gpu->start_ns, mem_mb * MB); /* bytes, as profile.c writes them */
    }
    pthread_mutex_unlock(&gpu->lock);
}

/* Loads NVML and finds the devices, in the poller's own thread: nvmlInit can take a good part
 * of a second on a machine whose driver is not kept loaded, and the program must not wait for it.
 * Returns 0, or -1 with the note set. */
static int open_nvml(struct gpu *gpu)
{
    char note[GPU_NOTE_BYTES] = "";
    if (load_nvml(&gpu->nvml, note, sizeof note) < 0)
        goto failed;
    gpu->process_slots = calloc(gpu->process_slot_count, gpu->nvml.process_info_size);
    gpu->per_process = gpu->nvml.process_utilization != NULL;
    gpu->memory_readable = gpu->nvml.processes != NULL && gpu->process_slots != NULL;
    if (find_devices(gpu, note, sizeof note) < 0) {
        unload_nvml(&gpu->nvml);
        goto failed;
    }
    pthread_mutex_lock(&gpu->lock);
    gpu->opened = 1;
    gpu->ready = 1;
    gpu->last_util_ns = monotonic_ns();
    pthread_mutex_unlock(&gpu->lock);
    return 0;
failed:
    pthread_mutex_lock(&gpu->lock);
    snprintf(gpu->note, sizeof gpu->note, "%s", note);
    pthread_mutex_unlock(&gpu->lock);
    return -1;
}

static void publish_own_cpu_time(struct gpu *gpu)
{
    struct timespec spent;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spent) == 0)
        atomic_store_explicit(&gpu->thread_cpu_ns, (int64_t)spent.tv_sec * 1000000000LL + spent.tv_nsec,
                              memory_order_relaxed);
}

static void *poll_gpu(void *argument)
{
    struct gpu *gpu = argument;
    pthread_mutex_lock(&gpu->lock);
    gpu->thread_id = threads_current_tid();
    pthread_cond_broadcast(&gpu->wake);
    pthread_mutex_unlock(&gpu->lock);
    int opened = open_nvml(gpu) == 0;
    for (unsigned long poll = 0; opened; poll++) {
        int64_t now_ns = monotonic_ns();
        nvml_return error = NVML_SUCCESS;
        double util = read_util(gpu, now_ns, &error);
        if (util < 0) {
            lose(gpu, "reading utilization", error);
            break;
        }
        atomic_store_explicit(&gpu->util_percent, util, memory_order_relaxed);
        int have_memory = 0;
        double mem_mb = -1;
        if (gpu->memory_readable && poll % MEMORY_EVERY_POLLS == 0) {
            mem_mb = read_memory(gpu, &error);
            if (mem_mb >= 0) {
                have_memory = 1;
                atomic_store_explicit(&gpu->mem_mb, mem_mb, memory_order_relaxed);
            } else if (error == NVML_ERROR_NOT_SUPPORTED || error == NVML_SUCCESS) {
                gpu->memory_readable = 0; /* utilization goes on without it */
                pthread_mutex_lock(&gpu->lock);
                if (!gpu->note[0])
                    set_note(gpu->note, sizeof gpu->note, "this process's GPU memory is not readable here (%s)",
                             error == NVML_SUCCESS ? "out of memory" : error_text(&gpu->nvml, error));
                pthread_mutex_unlock(&gpu->lock);
            } else {
                lose(gpu, "reading process memory", error);
                break;
            }
        }
        record(gpu, now_ns, util, have_memory, mem_mb);
        publish_own_cpu_time(gpu);
        pthread_mutex_lock(&gpu->lock);
        struct timespec until;
        int64_t wake_ns = now_ns + UTIL_INTERVAL_NS;
        until.tv_sec = (time_t)(wake_ns / 1000000000LL);
        until.tv_nsec = (long)(wake_ns % 1000000000LL);
        while (!gpu->stopping && pthread_cond_timedwait(&gpu->wake, &gpu->lock, &until) != ETIMEDOUT)
            ;
        int stopping = gpu->stopping;
        pthread_mutex_unlock(&gpu->lock);
        if (stopping)
            break;
    }
    publish_own_cpu_time(gpu);
    pthread_mutex_lock(&gpu->lock);
    gpu->finished = 1;
    pthread_cond_broadcast(&gpu->wake);
    pthread_mutex_unlock(&gpu->lock);
    return NULL;
}

static void free_gpu(struct gpu *gpu)
{
    pthread_mutex_destroy(&gpu->lock);
    pthread_cond_destroy(&gpu->wake);
    free(gpu->mem_timeline);
    free(gpu->process_slots);
    free(gpu);
}

struct gpu *gpu_start(int64_t start_ns, char *note, size_t note_size)
{
    struct gpu *gpu = calloc(1, sizeof *gpu);
    if (!gpu) {
        set_note(note, note_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&gpu->lock, NULL);
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&gpu->wake, &attributes);
    pthread_condattr_destroy(&attributes);
    gpu->pid = getpid();
    gpu->start_ns = start_ns;
    gpu->last_util_ns = monotonic_ns();
    atomic_init(&gpu->util_percent, -1.0);
    atomic_init(&gpu->mem_mb, -1.0);
    atomic_init(&gpu->enabled, 1);
    atomic_init(&gpu->thread_cpu_ns, 0);
    gpu->mem_timeline = timeline_new(GPU_TIMELINE_POINTS);
    gpu->process_slot_count = PROCESS_SLOTS_FIRST;
    /* Like the helper, the poller must never take the sampler's signal, nor the program's. */
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous);
    int failed = !gpu->mem_timeline || pthread_create(&gpu->thread, NULL, poll_gpu, gpu) != 0;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (failed) {
        set_note(note, note_size, "could not start the GPU poller thread (out of memory?)");
        free_gpu(gpu);
        return NULL;
    }
    /* Known before the helper's next scan, so that the helper never takes it for a program thread. */
    pthread_mutex_lock(&gpu->lock);
    while (!gpu->thread_id)
        pthread_cond_wait(&gpu->wake, &gpu->lock);
    pthread_mutex_unlock(&gpu->lock);
    return gpu;
}

void gpu_latest(struct gpu *gpu, struct gpu_reading *out)
{
    if (!gpu) {
        out->util_percent = -1;
        out->mem_mb = -1;
        return;
    }
    out->util_percent = atomic_load_explicit(&gpu->util_percent, memory_order_relaxed);
    out->mem_mb = atomic_load_explicit(&gpu->mem_mb, memory_order_relaxed);
}

pid_t gpu_thread_id(const struct gpu *gpu)
{
    return gpu ? gpu->thread_id : 0;
}

int gpu_thread_cpu_ns(const struct gpu *gpu, int64_t *cpu_ns)
{
    if (!gpu)
        return -1;
    *cpu_ns = atomic_load_explicit(&gpu->thread_cpu_ns, memory_order_relaxed);
    return 0;
}


void gpu_set_enabled(struct gpu *gpu, int enabled)
{
    if (gpu)
        atomic_store_explicit(&gpu->enabled, enabled, memory_order_relaxed);
}

void gpu_summarize(struct gpu *gpu, const char *note_if_none, struct gpu_summary *out)
{
    memset(out, 0, sizeof *out);
    if (!gpu) {
        snprintf(out->note, sizeof out->note, "%s", note_if_none ? note_if_none : "");
        return;
    }
    pthread_mutex_lock(&gpu->lock);
    out->available = gpu->ready;
    snprintf(out->note, sizeof out->note, "%s", gpu->note);
    if (!gpu->ready) {
        if (!out->note[0])
            set_note(out->note, sizeof out->note, "the GPU was not read: NVML had not started when profiling ended");
        pthread_mutex_unlock(&gpu->lock);
        return;
    }
    out->per_process = gpu->per_process;
    out->device_count = gpu->device_count;
    memcpy(out->devices, gpu->info, gpu->device_count * sizeof *out->devices);
    out->util_known = gpu->util_s > 0;
    out->util_mean_percent = gpu->util_s > 0 ? gpu->util_percent_s / gpu->util_s : 0;
    out->mem_known = gpu->mem_known;
    out->mem_peak_mb = gpu->mem_peak_mb;
    out->mem_last_mb = gpu->mem_last_mb;
    if (gpu->mem_known) {
        size_t bytes = sizeof *gpu->mem_timeline + gpu->mem_timeline->capacity * sizeof(struct timeline_point);
        out->mem_timeline = malloc(bytes);
        if (out->mem_timeline)
            memcpy(out->mem_timeline, gpu->mem_timeline, bytes);
    }
    pthread_mutex_unlock(&gpu->lock);
}

void gpu_summary_release(struct gpu_summary *summary)
{
    free(summary->mem_timeline);
    summary->mem_timeline = NULL;
}

void gpu_stop(struct gpu *gpu)
{
    if (!gpu)
        return;
    pthread_mutex_lock(&gpu->lock);
    gpu->stopping = 1;
    pthread_cond_broadcast(&gpu->wake);
    struct timespec until;
    int64_t deadline_ns = monotonic_ns() + STOP_WAIT_NS;
    until.tv_sec = (time_t)(deadline_ns / 1000000000LL);
    until.tv_nsec = (long)(deadline_ns % 1000000000LL);
    while (!gpu->finished && pthread_cond_timedwait(&gpu->wake, &gpu->lock, &until) != ETIMEDOUT)
        ;
    int finished = gpu->finished;
    pthread_mutex_unlock(&gpu->lock);
    if (!finished) {
        /* An NVML call that never returns: its thread keeps the gpu (and the library) for good. */
        pthread_detach(gpu->thread);
        return;
    }
    pthread_join(gpu->thread, NULL);
    if (gpu->opened)
        unload_nvml(&gpu->nvml);
    free_gpu(gpu);
}
