/* threads_linux: the Linux implementation of threads.h.
 *
 * CPU-time timers are checked by the kernel at the scheduler tick, so an interval below the tick
 * expires at the next tick. Reading /proc and creating timers are for the helper only; the
 * signal handler calls threads_own_cpu_ns, threads_timer_arm_once and
 * threads_interrupted_address, which are async-signal-safe. */
#define _GNU_SOURCE
#include "threads.h"
#include "platform.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* The kernel's encoding of a thread's CPU clock (what pthread_getcpuclockid computes), usable for
 * any thread id of our process, not only for threads we hold a pthread_t for. */
#define CPUCLOCK_PERTHREAD 4
#define CPUCLOCK_SCHED 2

pid_t threads_current_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

int64_t threads_monotonic_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

static int compare_tids(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

long threads_list(pid_t *tids, size_t capacity)
{
    DIR *dir = opendir("/proc/self/task");
    if (!dir)
        return -1;
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL && count < capacity) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
            continue;
        tids[count++] = (pid_t)atoi(entry->d_name);
    }
    closedir(dir);
    qsort(tids, count, sizeof *tids, compare_tids);
    return (long)count;
}

clockid_t threads_cpu_clock(pid_t tid)
{
    return (clockid_t)((~(unsigned)tid << 3) | CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED);
}

int threads_cpu_time_ns(clockid_t clock, int64_t *out)
{
    struct timespec value;
    if (clock_gettime(clock, &value) != 0)
        return -1;
    *out = (int64_t)value.tv_sec * 1000000000 + value.tv_nsec;
    return 0;
}

void threads_own_cpu_ns(int64_t *cpu_ns, int64_t *system_ns)
{
    struct timespec now;
    struct rusage usage;
    *cpu_ns = clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) == 0
                  ? (int64_t)now.tv_sec * 1000000000 + now.tv_nsec
                  : 0;
    *system_ns = getrusage(RUSAGE_THREAD, &usage) == 0
                     ? (int64_t)usage.ru_stime.tv_sec * 1000000000 + (int64_t)usage.ru_stime.tv_usec * 1000
                     : 0;
}

int threads_timer_create(pid_t tid, int signo, void *value, timer_t *out)
{
    struct sigevent event;
    memset(&event, 0, sizeof event);
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = signo;
    event.sigev_value.sival_ptr = value;
    event.sigev_notify_thread_id = tid;
    return timer_create(threads_cpu_clock(tid), &event, out);
}

int threads_timer_arm_once(timer_t timer, int64_t interval_ns)
{
    struct itimerspec spec = {{0, 0}, {0, 0}};
    spec.it_value.tv_sec = interval_ns / 1000000000;
    spec.it_value.tv_nsec = interval_ns % 1000000000;
    return timer_settime(timer, 0, &spec, NULL);
}

void threads_timer_delete(timer_t timer)
{
    timer_delete(timer);
}

/* The system calls that wait for a file descriptor to become ready: what a thread waiting for
 * work blocks in (a selector, multiprocessing's wait on its workers' pipes). */
static int waits_for_readiness(long number)
{
    switch (number) {
    case SYS_poll:
    case SYS_ppoll:
    case SYS_select:
    case SYS_pselect6:
    case SYS_epoll_wait:
    case SYS_epoll_pwait:
#ifdef SYS_epoll_pwait2
    case SYS_epoll_pwait2:
#endif
        return 1;
    default:
        return 0;
    }
}

/* Whether `fd` is a pipe: a thread blocked reading one waits for another thread or process (a
 * multiprocessing queue, a pool's results), not for a device, a file or the network. */
static int reads_a_pipe(long fd)
{
    char path[48], target[16];
    snprintf(path, sizeof path, "/proc/self/fd/%ld", fd);
    ssize_t length = readlink(path, target, sizeof target - 1);
    return length >= 5 && strncmp(target, "pipe:", 5) == 0;
}

static int open_task_file(pid_t tid, const char *name, int *fd)
{
    if (*fd >= 0)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/%s", (int)tid, name);
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    return *fd < 0 ? -1 : 0;
}

enum wait_kind threads_wait_kind(pid_t tid, int *fd, int (*in_gil)(uintptr_t address))
{
    if (open_task_file(tid, "syscall", fd) < 0)
        return WAIT_BLOCKED;
    char text[128];
    ssize_t got = pread(*fd, text, sizeof text - 1, 0);
    if (got <= 0)
        return WAIT_BLOCKED;
    text[got] = '\0';
    if (strncmp(text, "running", 7) == 0)
        return WAIT_RUNNING;
    char *end;
    long number = strtol(text, &end, 10);
    if (number == SYS_futex) {
        uintptr_t address = (uintptr_t)strtoull(end, NULL, 16);
        return in_gil(address) ? WAIT_GIL : WAIT_IDLE;
    }
    if (waits_for_readiness(number) || (number == SYS_read && reads_a_pipe(strtol(end, NULL, 16))))
        return WAIT_IDLE;
    return WAIT_BLOCKED;
}

int threads_run_delay_ns(pid_t tid, int *fd, int64_t *out)
{
    char text[96];
    if (open_task_file(tid, "schedstat", fd) < 0)
        return -1;
    ssize_t got = pread(*fd, text, sizeof text - 1, 0);
    if (got <= 0)
        return -1;
    text[got] = '\0';
    char *end;
    strtoull(text, &end, 10); /* time on the CPU */
    unsigned long long waited = strtoull(end, &end, 10);
    *out = (int64_t)waited;
    return 0;
}

void threads_close_wait_file(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* glibc keeps the kernel id in its thread descriptor; find where by looking for our own id in
 * ours, then check that the same offset holds a second thread's id. */
static int find_tid_offset(uintptr_t descriptor, pid_t tid, int start)
{
    for (int offset = start; offset < 2048; offset += (int)sizeof(pid_t)) {
        pid_t value;
        if (platform_read_memory(&value, descriptor + (uintptr_t)offset, sizeof value) < 0)
            return -1;
        if (value == tid)
            return offset;
    }
    return -1;
}

struct tid_probe {
    int offset;
    int confirmed;
};

static void *confirm_offset(void *argument)
{
    struct tid_probe *probe = argument;
    pid_t value;
    uintptr_t self = (uintptr_t)pthread_self();
    probe->confirmed = platform_read_memory(&value, self + (uintptr_t)probe->offset, sizeof value) == 0 &&
                       value == threads_current_tid();
    return NULL;
}

int threads_pthread_tid_offset(void)
{
    uintptr_t self = (uintptr_t)pthread_self();
    pid_t tid = threads_current_tid();
    for (int start = 0; start < 2048;) {
        int offset = find_tid_offset(self, tid, start);
        if (offset < 0)
            return -1;
        struct tid_probe probe = {offset, 0};
        pthread_t other;
        if (pthread_create(&other, NULL, confirm_offset, &probe) != 0)
            return -1;
        pthread_join(other, NULL);
        if (probe.confirmed)
            return offset;
        start = offset + (int)sizeof(pid_t);
    }
    return -1;
}

