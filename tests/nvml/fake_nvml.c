/* A stand-in libnvidia-ml.so.1 for the tests: the real NVML ABI (types, struct layouts, return
 * codes of nvml.h) for the functions heatline's engine calls, with values a test scripts.
 *
 * Environment:
 *   FAKE_NVML_SCRIPT  the script (below); without it: one device at 0%, no memory.
 *   FAKE_NVML_LOG     a log, appended to: "loaded PID TID NS" when the library is loaded, then
 *                     "FUNCTION TID NS" for every call (TID from gettid, NS from CLOCK_MONOTONIC).
 *
 * The script: one statement a line; `#` starts a comment. Times are seconds since nvmlInit
 * (since the library was loaded, before it). DEV is a device index; a later statement of the
 * same kind with a later FROM_S takes over from then on.
 *   devices N                   how many devices (default 1, at most 8)
 *   name DEV TEXT...            a device's name (default "Fake GPU DEV")
 *   total DEV MB                a device's memory (default 16384)
 *   util DEV FROM_S PERCENT     the device's utilization (nvmlDeviceGetUtilizationRates().gpu)
 *   putil DEV FROM_S PERCENT    this process's smUtil (nvmlDeviceGetProcessUtilization)
 *   mem DEV FROM_S MB           this process's usedGpuMemory (running processes)
 *   other DEV PID PERCENT MB    another process on the device: in every sample and process list
 *   statefile PATH              the file holds "PERCENT MB", read at every call: it stands for
 *                               util, putil and mem of every device (a program writes it to say
 *                               what it does now; a missing or empty file reads 0 0)
 *   error FUNCTION CODE [FROM_S]  FUNCTION returns CODE (a number or a name such as GPU_IS_LOST,
 *                               NOT_SUPPORTED, DRIVER_NOT_LOADED), always or from FROM_S on
 *   insufficient_once           the first running-processes call answers INSUFFICIENT_SIZE
 *   block FUNCTION MS           every call of FUNCTION sleeps MS milliseconds first
 *   mig DEV                     MIG mode is on for the device
 * FUNCTION is the exported name, e.g. nvmlDeviceGetProcessUtilization, nvmlInit_v2.
 *
 * Built with -D to play an older driver, which lacks the symbol:
 *   FAKE_NVML_NO_PROCESS_UTILIZATION  nvmlDeviceGetProcessUtilization
 *   FAKE_NVML_NO_PROCESSES_V3         nvmlDeviceGetComputeRunningProcesses_v3
 *   FAKE_NVML_NO_PROCESSES_V2         nvmlDeviceGetComputeRunningProcesses_v2
 *   FAKE_NVML_NO_INIT_V2              nvmlInit_v2 (nvmlInit stays)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef int nvmlReturn_t;
typedef struct fake_device *nvmlDevice_t;

enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_UNINITIALIZED = 1,
    NVML_ERROR_INVALID_ARGUMENT = 2,
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_NO_PERMISSION = 4,
    NVML_ERROR_NOT_FOUND = 6,
    NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_DRIVER_NOT_LOADED = 9,
    NVML_ERROR_TIMEOUT = 10,
    NVML_ERROR_GPU_IS_LOST = 15,
    NVML_ERROR_UNKNOWN = 999,
};

typedef struct {
    unsigned int gpu;
    unsigned int memory;
} nvmlUtilization_t;

typedef struct {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_t;

typedef struct {
    unsigned int pid;
    unsigned long long timeStamp;
    unsigned int smUtil;
    unsigned int memUtil;
    unsigned int encUtil;
    unsigned int decUtil;
} nvmlProcessUtilizationSample_t;

typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;

typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
} nvmlProcessInfo_v2_t;

#define MAX_DEVICES 8
#define MAX_STEPS 64
#define MAX_RULES 32
#define MB (1024ULL * 1024ULL)
#define NO_INSTANCE 0xFFFFFFFFu

struct step {
    double from_s;
    double value;
};

struct series {
    struct step steps[MAX_STEPS];
    int count;
};

struct fake_device {
    int index;
    char name[96];
    double total_mb;
    struct series util, putil, mem;
    unsigned int other_pid;
    double other_percent, other_mb;
    int mig;
};

struct rule {
    char function[64];
    int code;    /* error rules */
    double from_s;
    long block_ms; /* block rules */
};

static struct {
    int loaded;
    int log_fd;
    int initialized;
    int64_t epoch_ns;
    int device_count;
    struct fake_device devices[MAX_DEVICES];
    char statefile[512];
    struct rule errors[MAX_RULES];
    int error_count;
    struct rule blocks[MAX_RULES];
    int block_count;
    int insufficient_once;
} fake = {.log_fd = -1};

static int64_t monotonic_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static double elapsed_s(void)
{
    return (double)(monotonic_ns() - fake.epoch_ns) / 1e9;
}

static void log_line(const char *format, ...)
{
    if (fake.log_fd < 0)
        return;
    char line[256];
    va_list arguments;
    va_start(arguments, format);
    int length = vsnprintf(line, sizeof line - 1, format, arguments);
    va_end(arguments);
    if (length < 0)
        return;
    if ((size_t)length > sizeof line - 2)
        length = (int)sizeof line - 2;
    line[length++] = '\n';
    /* One write of one line to a file opened O_APPEND: lines of threads never interleave. */
    if (write(fake.log_fd, line, (size_t)length) < 0)
        return;
}

static const struct {
    const char *name;
    int code;
} code_names[] = {
    {"SUCCESS", NVML_SUCCESS},
    {"UNINITIALIZED", NVML_ERROR_UNINITIALIZED},
    {"INVALID_ARGUMENT", NVML_ERROR_INVALID_ARGUMENT},
    {"NOT_SUPPORTED", NVML_ERROR_NOT_SUPPORTED},
    {"NO_PERMISSION", NVML_ERROR_NO_PERMISSION},
    {"NOT_FOUND", NVML_ERROR_NOT_FOUND},
    {"INSUFFICIENT_SIZE", NVML_ERROR_INSUFFICIENT_SIZE},
    {"DRIVER_NOT_LOADED", NVML_ERROR_DRIVER_NOT_LOADED},
    {"TIMEOUT", NVML_ERROR_TIMEOUT},
    {"GPU_IS_LOST", NVML_ERROR_GPU_IS_LOST},
    {"UNKNOWN", NVML_ERROR_UNKNOWN},
};

static int parse_code(const char *text)
{
    for (size_t i = 0; i < sizeof code_names / sizeof *code_names; i++)
        if (strcmp(text, code_names[i].name) == 0)
            return code_names[i].code;
    return atoi(text);
}

static void add_step(struct series *series, double from_s, double value)
{
    if (series->count < MAX_STEPS)
        series->steps[series->count++] = (struct step){from_s, value};
}

/* The value of the step with the latest start at or before t (0 before the first). */
static double value_at(const struct series *series, double t)
{
    double value = 0, latest = -1e300;
    for (int i = 0; i < series->count; i++)
        if (series->steps[i].from_s <= t && series->steps[i].from_s >= latest) {
            latest = series->steps[i].from_s;
            value = series->steps[i].value;
        }
    return value;
}

static struct fake_device *device_at(int index)
{
    return index >= 0 && index < MAX_DEVICES ? &fake.devices[index] : NULL;
}

static void parse_statement(char *line)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char word[64], text[512];
    int dev, count, consumed = 0;
    double a, b, c;
    if (sscanf(line, " %63s%n", word, &consumed) != 1)
        return;
    const char *rest = line + consumed;
    struct fake_device *device;
    if (strcmp(word, "devices") == 0 && sscanf(rest, "%d", &count) == 1) {
        fake.device_count = count < 0 ? 0 : count > MAX_DEVICES ? MAX_DEVICES : count;
    } else if (strcmp(word, "name") == 0 && sscanf(rest, "%d %n", &dev, &consumed) == 1 && (device = device_at(dev))) {
        snprintf(device->name, sizeof device->name, "%s", rest + consumed);
        device->name[strcspn(device->name, "\r\n")] = '\0';
    } else if (strcmp(word, "total") == 0 && sscanf(rest, "%d %lf", &dev, &a) == 2 && (device = device_at(dev))) {
        device->total_mb = a;
    } else if (strcmp(word, "util") == 0 && sscanf(rest, "%d %lf %lf", &dev, &a, &b) == 3 && (device = device_at(dev))) {
        add_step(&device->util, a, b);
    } else if (strcmp(word, "putil") == 0 && sscanf(rest, "%d %lf %lf", &dev, &a, &b) == 3 && (device = device_at(dev))) {
        add_step(&device->putil, a, b);
    } else if (strcmp(word, "mem") == 0 && sscanf(rest, "%d %lf %lf", &dev, &a, &b) == 3 && (device = device_at(dev))) {
        add_step(&device->mem, a, b);
    } else if (strcmp(word, "other") == 0 && sscanf(rest, "%d %lf %lf %lf", &dev, &a, &b, &c) == 4 &&
               (device = device_at(dev))) {
        device->other_pid = (unsigned int)a;
        device->other_percent = b;
        device->other_mb = c;
    } else if (strcmp(word, "statefile") == 0 && sscanf(rest, " %511s", text) == 1) {
        snprintf(fake.statefile, sizeof fake.statefile, "%s", text);
    } else if (strcmp(word, "error") == 0 && fake.error_count < MAX_RULES) {
        struct rule *rule = &fake.errors[fake.error_count];
        char code[64];
        int fields = sscanf(rest, " %63s %63s %lf", rule->function, code, &a);
        if (fields >= 2) {
            rule->code = parse_code(code);
            rule->from_s = fields == 3 ? a : -1e300;
            fake.error_count++;
        }
    } else if (strcmp(word, "block") == 0 && fake.block_count < MAX_RULES) {
        struct rule *rule = &fake.blocks[fake.block_count];
        if (sscanf(rest, " %63s %ld", rule->function, &rule->block_ms) == 2)
            fake.block_count++;
    } else if (strcmp(word, "insufficient_once") == 0) {
        fake.insufficient_once = 1;
    } else if (strcmp(word, "mig") == 0 && sscanf(rest, "%d", &dev) == 1 && (device = device_at(dev))) {
        device->mig = 1;
    } else {
        fprintf(stderr, "fake NVML: a script line it does not read: %s\n", line);
    }
}

__attribute__((constructor)) static void load(void)
{
    fake.epoch_ns = monotonic_ns();
    fake.device_count = 1;
    for (int i = 0; i < MAX_DEVICES; i++) {
        fake.devices[i].index = i;
        snprintf(fake.devices[i].name, sizeof fake.devices[i].name, "Fake GPU %d", i);
        fake.devices[i].total_mb = 16384;
    }
    const char *log_path = getenv("FAKE_NVML_LOG");
    if (log_path && log_path[0])
        fake.log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const char *script_path = getenv("FAKE_NVML_SCRIPT");
    FILE *script = script_path && script_path[0] ? fopen(script_path, "r") : NULL;
    if (script) {
        char line[1024];
        while (fgets(line, sizeof line, script))
            parse_statement(line);
        fclose(script);
    }
    fake.loaded = 1;
    log_line("loaded %d %d %lld", (int)getpid(), (int)gettid(), (long long)monotonic_ns());
}

/* Logs the call, blocks if told, and returns the error the script forces on it now (or 0). */
static int enter(const char *function)
{
    log_line("%s %d %lld", function, (int)gettid(), (long long)monotonic_ns());
    for (int i = 0; i < fake.block_count; i++)
        if (strcmp(fake.blocks[i].function, function) == 0) {
            struct timespec pause = {fake.blocks[i].block_ms / 1000, (fake.blocks[i].block_ms % 1000) * 1000000L};
            while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
                ;
        }
    double t = elapsed_s();
    for (int i = 0; i < fake.error_count; i++)
        if (strcmp(fake.errors[i].function, function) == 0 && t >= fake.errors[i].from_s)
            return fake.errors[i].code;
    return NVML_SUCCESS;
}

/* What a device does now: the state file's figures when there is one, else the script's. */
static void now_state(const struct fake_device *device, double *util, double *putil, double *mem_mb)
{
    if (fake.statefile[0]) {
        double percent = 0, mb = 0;
        FILE *file = fopen(fake.statefile, "r");
        if (file) {
            if (fscanf(file, "%lf %lf", &percent, &mb) != 2)
                percent = mb = 0;
            fclose(file);
        }
        *util = *putil = percent;
        *mem_mb = mb;
        return;
    }
    double t = elapsed_s();
    *util = value_at(&device->util, t);
    *putil = value_at(&device->putil, t);
    *mem_mb = value_at(&device->mem, t);
}

static int valid_device(nvmlDevice_t device)
{
    return device && device >= fake.devices && device < fake.devices + fake.device_count;
}

static nvmlReturn_t init(const char *function)
{
    int forced = enter(function);
    if (forced)
        return forced;
    fake.initialized = 1;
    fake.epoch_ns = monotonic_ns();
    return NVML_SUCCESS;
}

#ifndef FAKE_NVML_NO_INIT_V2
nvmlReturn_t nvmlInit_v2(void)
{
    return init("nvmlInit_v2");
}
#endif

nvmlReturn_t nvmlInit(void)
{
    return init("nvmlInit");
}

nvmlReturn_t nvmlShutdown(void)
{
    int forced = enter("nvmlShutdown");
    if (forced)
        return forced;
    if (!fake.initialized)
        return NVML_ERROR_UNINITIALIZED;
    fake.initialized = 0;
    return NVML_SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t result)
{
    static const struct {
        int code;
        const char *text;
    } texts[] = {
        {NVML_SUCCESS, "Success"},
        {NVML_ERROR_UNINITIALIZED, "Uninitialized"},
        {NVML_ERROR_INVALID_ARGUMENT, "Invalid Argument"},
        {NVML_ERROR_NOT_SUPPORTED, "Not Supported"},
        {NVML_ERROR_NO_PERMISSION, "Insufficient Permissions"},
        {NVML_ERROR_NOT_FOUND, "Not Found"},
        {NVML_ERROR_INSUFFICIENT_SIZE, "Insufficient Size"},
        {NVML_ERROR_DRIVER_NOT_LOADED, "Driver Not Loaded"},
        {NVML_ERROR_TIMEOUT, "Timeout"},
        {NVML_ERROR_GPU_IS_LOST, "GPU is lost"},
    };
    log_line("nvmlErrorString %d %lld", (int)gettid(), (long long)monotonic_ns());
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        if (texts[i].code == result)
            return texts[i].text;
    return "Unknown Error";
}

static nvmlReturn_t device_count(const char *function, unsigned int *count)
{
    int forced = enter(function);
    if (forced)
        return forced;
    if (!fake.initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!count)
        return NVML_ERROR_INVALID_ARGUMENT;
    *count = (unsigned int)fake.device_count;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count)
{
    return device_count("nvmlDeviceGetCount_v2", count);
}

nvmlReturn_t nvmlDeviceGetCount(unsigned int *count)
{
    return device_count("nvmlDeviceGetCount", count);
}

static nvmlReturn_t handle_by_index(const char *function, unsigned int index, nvmlDevice_t *device)
{
    int forced = enter(function);
    if (forced)
        return forced;
    if (!fake.initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!device || index >= (unsigned int)fake.device_count)
        return NVML_ERROR_INVALID_ARGUMENT;
    *device = &fake.devices[index];
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
    return handle_by_index("nvmlDeviceGetHandleByIndex_v2", index, device);
}

nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t *device)
{
    return handle_by_index("nvmlDeviceGetHandleByIndex", index, device);
}

/* The checks every device call makes after its scripted error. */
static nvmlReturn_t device_call(const char *function, nvmlDevice_t device)
{
    int forced = enter(function);
    if (forced)
        return forced;
    if (!fake.initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!valid_device(device))
        return NVML_ERROR_INVALID_ARGUMENT;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length)
{
    nvmlReturn_t status = device_call("nvmlDeviceGetName", device);
    if (status)
        return status;
    if (!name)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (strlen(device->name) + 1 > length)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(name, device->name, strlen(device->name) + 1);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *current, unsigned int *pending)
{
    nvmlReturn_t status = device_call("nvmlDeviceGetMigMode", device);
    if (status)
        return status;
    if (!current || !pending)
        return NVML_ERROR_INVALID_ARGUMENT;
    *current = *pending = (unsigned int)device->mig;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory)
{
    nvmlReturn_t status = device_call("nvmlDeviceGetMemoryInfo", device);
    if (status)
        return status;
    if (!memory)
        return NVML_ERROR_INVALID_ARGUMENT;
    double util, putil, mem_mb;
    now_state(device, &util, &putil, &mem_mb);
    memory->total = (unsigned long long)(device->total_mb * MB);
    memory->used = (unsigned long long)((mem_mb + device->other_mb) * MB);
    if (memory->used > memory->total)
        memory->used = memory->total;
    memory->free = memory->total - memory->used;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization)
{
    nvmlReturn_t status = device_call("nvmlDeviceGetUtilizationRates", device);
    if (status)
        return status;
    if (!utilization)
        return NVML_ERROR_INVALID_ARGUMENT;
    double util, putil, mem_mb;
    now_state(device, &util, &putil, &mem_mb);
    utilization->gpu = (unsigned int)util;
    utilization->memory = (unsigned int)(util / 2);
    return NVML_SUCCESS;
}

#ifndef FAKE_NVML_NO_PROCESS_UTILIZATION
/* Samples newer than lastSeenTimeStamp: one per process on the device, stamped now (µs of the
 * real-time clock, as the driver's are); with samples NULL, the count it would fill. */
nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t device, nvmlProcessUtilizationSample_t *samples,
                                             unsigned int *count, unsigned long long lastSeenTimeStamp)
{
    nvmlReturn_t status = device_call("nvmlDeviceGetProcessUtilization", device);
    if (status)
        return status;
    if (!count)
        return NVML_ERROR_INVALID_ARGUMENT;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    unsigned long long stamp = (unsigned long long)now.tv_sec * 1000000ULL + (unsigned long long)now.tv_nsec / 1000;
    if (stamp <= lastSeenTimeStamp)
        return NVML_ERROR_NOT_FOUND;
    unsigned int needed = device->other_pid ? 2 : 1;
    if (!samples || *count < needed) {
        *count = needed;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    double util, putil, mem_mb;
    now_state(device, &util, &putil, &mem_mb);
    unsigned int filled = 0;
    if (device->other_pid)
        samples[filled++] = (nvmlProcessUtilizationSample_t){device->other_pid, stamp,
                                                             (unsigned int)device->other_percent, 0, 0, 0};
    samples[filled++] = (nvmlProcessUtilizationSample_t){(unsigned int)getpid(), stamp, (unsigned int)putil,
                                                         (unsigned int)(putil / 2), 0, 0};
    *count = filled;
    return NVML_SUCCESS;
}
#endif

/* The running processes, written as `Info` structs: another process first when scripted, then
 * this one when it holds memory. */
#define RUNNING_PROCESSES(Info, function, device, count, infos)                                        \
    do {                                                                                               \
        nvmlReturn_t status_ = device_call(function, device);                                          \
        if (status_)                                                                                   \
            return status_;                                                                            \
        if (!(count))                                                                                  \
            return NVML_ERROR_INVALID_ARGUMENT;                                                        \
        double util_, putil_, mem_mb_;                                                                 \
        now_state(device, &util_, &putil_, &mem_mb_);                                                  \
        unsigned int needed_ = (device->other_pid ? 1u : 0u) + (mem_mb_ > 0 ? 1u : 0u);                \
        if (fake.insufficient_once) {                                                                  \
            fake.insufficient_once = 0;                                                                \
            if (needed_ == 0)                                                                          \
                needed_ = 1;                                                                           \
            *(count) = needed_ + 64; /* more than any first buffer, as when many processes run */     \
            return NVML_ERROR_INSUFFICIENT_SIZE;                                                       \
        }                                                                                              \
        if (*(count) < needed_ || (needed_ > 0 && !(infos))) {                                        \
            *(count) = needed_;                                                                        \
            return NVML_ERROR_INSUFFICIENT_SIZE;                                                       \
        }                                                                                              \
        unsigned int filled_ = 0;                                                                      \
        if (device->other_pid)                                                                         \
            (infos)[filled_++] = (Info){.pid = device->other_pid,                                      \
                                        .usedGpuMemory = (unsigned long long)(device->other_mb * MB)}; \
        if (mem_mb_ > 0)                                                                               \
            (infos)[filled_++] = (Info){.pid = (unsigned int)getpid(),                                 \
                                        .usedGpuMemory = (unsigned long long)(mem_mb_ * MB)};          \
        *(count) = filled_;                                                                            \
        return NVML_SUCCESS;                                                                           \
    } while (0)

#if !defined FAKE_NVML_NO_PROCESSES_V3 || !defined FAKE_NVML_NO_PROCESSES_V2
/* The v2 struct's instance ids: "none" on a device without MIG. */
static void no_instances(nvmlProcessInfo_v2_t *infos, unsigned int count)
{
    for (unsigned int i = 0; infos && i < count; i++)
        infos[i].gpuInstanceId = infos[i].computeInstanceId = NO_INSTANCE;
}
#endif

#ifndef FAKE_NVML_NO_PROCESSES_V3
static nvmlReturn_t processes_v3(nvmlDevice_t device, unsigned int *count, nvmlProcessInfo_v2_t *infos)
{
    RUNNING_PROCESSES(nvmlProcessInfo_v2_t, "nvmlDeviceGetComputeRunningProcesses_v3", device, count, infos);
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *count,
                                                     nvmlProcessInfo_v2_t *infos)
{
    nvmlReturn_t status = processes_v3(device, count, infos);
    if (status == NVML_SUCCESS)
        no_instances(infos, *count);
    return status;
}
#endif

#ifndef FAKE_NVML_NO_PROCESSES_V2
static nvmlReturn_t processes_v2(nvmlDevice_t device, unsigned int *count, nvmlProcessInfo_v2_t *infos)
{
    RUNNING_PROCESSES(nvmlProcessInfo_v2_t, "nvmlDeviceGetComputeRunningProcesses_v2", device, count, infos);
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device, unsigned int *count,
                                                     nvmlProcessInfo_v2_t *infos)
{
    nvmlReturn_t status = processes_v2(device, count, infos);
    if (status == NVML_SUCCESS)
        no_instances(infos, *count);
    return status;
}
#endif

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device, unsigned int *count,
                                                  nvmlProcessInfo_v1_t *infos)
{
    RUNNING_PROCESSES(nvmlProcessInfo_v1_t, "nvmlDeviceGetComputeRunningProcesses", device, count, infos);
}
