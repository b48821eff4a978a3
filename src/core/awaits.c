/* awaits: see awaits.h. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "awaits.h"

#include "cputime.h"
#include "frames.h"
#include "memsample.h"
#include "offcpu.h"
#include "session.h"
#include "threads.h"
#include "xorshift.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

/* Threads that run an event loop at once (a thread's clock is given back as it exits). */
#define AWAIT_THREADS 64
/* Tasks a look credits at most (drawn at random among those waiting), and the innermost frames
 * of each task's chain of coroutines that it keeps. */
#define AWAIT_SHARES 32
#define AWAIT_CHAIN_REFS 48
/* Chains of coroutines are followed this deep at most. */
#define AWAIT_MAX_CHAIN 256
/* Looks waiting for the helper (it drains them every beat); when all are taken, the time waited
 * stays with the thread for its next look. */
#define AWAIT_LOOKS 16
/* A look is made once the waits since the last one reach this, or 50 times the last look's
 * cost: looking at many tasks never costs more than 2% of the loop's time. */
#define AWAIT_MIN_THRESHOLD_NS 1000000LL
#define AWAIT_COST_FACTOR 50

struct await_share {
    int64_t ns;
    uint32_t count;
    struct frame_ref refs[AWAIT_CHAIN_REFS]; /* innermost first */
};

/* What one look saw: the time waited since the last one, the loop thread's own stack (below
 * every task's frames), and the waiting tasks' shares; `own` when no task waited. */
struct await_look {
    pid_t tid;
    int own;
    int64_t ns;
    uint32_t share_count;
    struct frames_stack loop;
    struct await_share shares[AWAIT_SHARES];
};

static size_t look_size(uint32_t share_count)
{
    return offsetof(struct await_look, shares) + share_count * sizeof(struct await_share);
}

/* A thread's await clock. The helper reads it at any time (a seqlock: `seq` is odd while the
 * owner writes); the owner's own fields are used with the GIL held. */
struct await_thread {
    _Atomic pid_t tid;
    atomic_uint seq;
    atomic_int waiting;
    _Atomic int64_t start_wall_ns;
    _Atomic int64_t start_cpu_ns;
    _Atomic int64_t done_ns;
    /* the owner's */
    int busy;
    int64_t unrecorded_ns;
    int64_t threshold_ns;
    uint64_t random;
    struct look_scratch *scratch;
};

static struct await_thread records[AWAIT_THREADS];
static atomic_size_t records_used;
static _Thread_local struct await_thread *mine;
static _Thread_local pid_t mine_tid;
static pthread_key_t release_key;
static pthread_once_t release_key_once = PTHREAD_ONCE_INIT;
static int release_key_made;

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static struct await_look *queue; /* AWAIT_LOOKS of them, mapped at the first look */
static size_t queue_head, queue_tail;
static struct await_look *drained; /* the helper's copy of the look it credits */

/* Memory of heatline's own, mapped: never an allocation of the program's. */
static void *map_zeroed(size_t size)
{
    void *memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return memory == MAP_FAILED ? NULL : memory;
}

/* ---- the clocks ------------------------------------------------------------------------------ */

static void release_record(void *value)
{
    struct await_thread *record = value;
    pid_t owner = threads_current_tid();
    atomic_compare_exchange_strong(&record->tid, &owner, 0);
}

static void make_release_key(void)
{
    release_key_made = pthread_key_create(&release_key, release_record) == 0;
}

static void clear_clock(struct await_thread *record)
{
    atomic_fetch_add(&record->seq, 1);
    atomic_store(&record->waiting, 0);
    atomic_store(&record->done_ns, 0);
    atomic_fetch_add(&record->seq, 1);
    record->unrecorded_ns = 0;
    record->threshold_ns = AWAIT_MIN_THRESHOLD_NS;
}

/* The calling thread's clock, claimed at its first wait; NULL when every one is taken. */
static struct await_thread *own_record(void)
{
    if (mine && atomic_load(&mine->tid) == mine_tid)
        return mine;
    pthread_once(&release_key_once, make_release_key);
    pid_t tid = threads_current_tid();
    for (size_t i = 0; i < AWAIT_THREADS; i++) {
        pid_t free_tid = 0;
        if (!atomic_compare_exchange_strong(&records[i].tid, &free_tid, tid))
            continue;
        struct await_thread *record = &records[i];
        clear_clock(record);
        record->busy = 0;
        record->random = ((uint64_t)tid << 32) ^ (uint64_t)threads_monotonic_ns() ^ 0x9E3779B97F4A7C15ULL;
        size_t used = atomic_load(&records_used);
        while (used < i + 1 && !atomic_compare_exchange_weak(&records_used, &used, i + 1))
            ;
        if (release_key_made)
            pthread_setspecific(release_key, record);
        mine = record;
        mine_tid = tid;
        return record;
    }
    return NULL;
}

static int64_t cpu_now_ns(void)
{
    int64_t cpu = 0;
    threads_cpu_time_ns(CLOCK_THREAD_CPUTIME_ID, &cpu);
    return cpu;
}

static void begin_wait(struct await_thread *record)
{
    atomic_fetch_add(&record->seq, 1);
    atomic_store(&record->start_wall_ns, threads_monotonic_ns());
    atomic_store(&record->start_cpu_ns, cpu_now_ns());
    atomic_store(&record->waiting, 1);
    atomic_fetch_add(&record->seq, 1);
}

/* Returns the wait's off-CPU time. */
static int64_t end_wait(struct await_thread *record)
{
    int64_t wall = threads_monotonic_ns() - atomic_load(&record->start_wall_ns);
    int64_t off_ns = wall - (cpu_now_ns() - atomic_load(&record->start_cpu_ns));
    if (off_ns < 0)
        off_ns = 0;
    atomic_fetch_add(&record->seq, 1);
    atomic_store(&record->done_ns, atomic_load(&record->done_ns) + off_ns);
    atomic_store(&record->waiting, 0);
    atomic_fetch_add(&record->seq, 1);
    return off_ns;
}

int64_t awaits_off_cpu_ns(pid_t tid, int64_t now_ns, int64_t cpu_now)
{
    size_t used = atomic_load(&records_used);
    for (size_t i = 0; i < used; i++) {
        struct await_thread *record = &records[i];
        if (atomic_load(&record->tid) != tid)
            continue;
        for (int attempt = 0; attempt < 1000; attempt++) {
            unsigned before = atomic_load(&record->seq);
            if (before & 1)
                continue;
            int64_t done = atomic_load(&record->done_ns);
            int waiting = atomic_load(&record->waiting);
            int64_t start_wall = atomic_load(&record->start_wall_ns);
            int64_t start_cpu = atomic_load(&record->start_cpu_ns);
            if (atomic_load(&record->seq) != before)
                continue;
            int64_t under_way = waiting ? (now_ns - start_wall) - (cpu_now - start_cpu) : 0;
            return done + (under_way > 0 ? under_way : 0);
        }
        return 0;
    }
    return 0;
}

/* ---- looking at the loop's tasks (with the GIL) --------------------------------------------- */

static PyObject *name_all_tasks, *name_current_task, *name_get_running_loop, *name_fut_waiter, *name_get_coro,
    *name_cr_await, *name_gi_yieldfrom, *name_ag_await, *module_asyncio_events, *module_asyncio_tasks;

static int intern_names(void)
{
    if (name_all_tasks)
        return 0;
    name_all_tasks = PyUnicode_InternFromString("all_tasks");
    name_current_task = PyUnicode_InternFromString("current_task");
    name_get_running_loop = PyUnicode_InternFromString("_get_running_loop");
    name_fut_waiter = PyUnicode_InternFromString("_fut_waiter");
    name_get_coro = PyUnicode_InternFromString("get_coro");
    name_cr_await = PyUnicode_InternFromString("cr_await");
    name_gi_yieldfrom = PyUnicode_InternFromString("gi_yieldfrom");
    name_ag_await = PyUnicode_InternFromString("ag_await");
    module_asyncio_events = PyUnicode_InternFromString("asyncio.events");
    module_asyncio_tasks = PyUnicode_InternFromString("asyncio.tasks");
    return name_all_tasks && name_current_task && name_get_running_loop && name_fut_waiter && name_get_coro && name_cr_await &&
                   name_gi_yieldfrom && name_ag_await && module_asyncio_events && module_asyncio_tasks
               ? 0
               : -1;
}

/* asyncio's functions the wrapper calls, looked up once asyncio is imported (never importing it)
 * and kept until the session ends: each select under a loop calls two of them. */
struct asyncio_function {
    PyObject **module_name;
    PyObject **name;
    PyObject *function;
};
static struct asyncio_function get_running_loop = {&module_asyncio_events, &name_get_running_loop, NULL};
static struct asyncio_function current_task = {&module_asyncio_tasks, &name_current_task, NULL};
static struct asyncio_function all_tasks = {&module_asyncio_tasks, &name_all_tasks, NULL};

/* `function(argument)` (no argument when NULL), or NULL with no error set when asyncio is not
 * imported or the call failed. */
static PyObject *call_asyncio(struct asyncio_function *f, PyObject *argument)
{
    if (!f->function) {
        PyObject *module = PyImport_GetModule(*f->module_name);
        f->function = module ? PyObject_GetAttr(module, *f->name) : NULL;
        Py_XDECREF(module);
        if (!f->function) {
            PyErr_Clear();
            return NULL;
        }
    }
    PyObject *result = PyObject_CallFunctionObjArgs(f->function, argument, NULL);
    if (!result)
        PyErr_Clear();
    return result;
}

/* The event loop running in this thread (a new reference), or NULL; NULL too while one of its
 * tasks runs: a selector a coroutine calls itself blocks the loop, and that wait is the
 * coroutine's line's, not the waiting tasks'. */
static PyObject *running_loop(void)
{
    PyObject *loop = call_asyncio(&get_running_loop, NULL);
    if (loop == Py_None) {
        Py_DECREF(loop);
        return NULL;
    }
    PyObject *task = loop ? call_asyncio(&current_task, loop) : NULL;
    if (task && task != Py_None) {
        Py_DECREF(task);
        Py_DECREF(loop);
        return NULL;
    }
    Py_XDECREF(task);
    return loop;
}

static int ends_with(const char *text, Py_ssize_t length, const char *suffix)
{
    size_t suffix_length = strlen(suffix);
    return (size_t)length >= suffix_length && memcmp(text + length - suffix_length, suffix, suffix_length) == 0;
}

/* asyncio's own functions that wait for other tasks (asyncio.wait, wait_for, as_completed and a
 * TaskGroup's exit), and the local variable that holds those tasks (NULL: none to be found). A
 * task suspended in one passes its wait down to the tasks it waits for. */
static const struct {
    const char *function;
    const char *tasks_local;
    const char *tasks_attribute; /* of the local, when it is not the tasks itself */
} waits_for_tasks[] = {
    {"wait", "fs", NULL},        {"_wait", "fs", NULL},          {"wait_for", "fut", NULL},
    {"_wait_for_one", NULL, NULL}, {"__aexit__", "self", "_tasks"}, {"_aexit", "self", "_tasks"},
};
#define WAITS_FOR_TASKS (sizeof waits_for_tasks / sizeof *waits_for_tasks)

/* Which of waits_for_tasks a frame runs, or -1. */
static int waiting_for_tasks(const struct frame_ref *ref)
{
    PyCodeObject *code = (PyCodeObject *)ref->code;
    int found = -1;
    for (size_t i = 0; i < WAITS_FOR_TASKS && found < 0; i++)
        if (PyUnicode_CompareWithASCIIString(code->co_name, waits_for_tasks[i].function) == 0)
            found = (int)i;
    if (found < 0)
        return -1;
    Py_ssize_t length;
    const char *file = PyUnicode_AsUTF8AndSize(code->co_filename, &length);
    if (!file) {
        PyErr_Clear();
        return -1;
    }
    return ends_with(file, length, "asyncio/tasks.py") || ends_with(file, length, "asyncio/taskgroups.py") ? found
                                                                                                           : -1;
}

/* The coroutine or generator that `coroutine` awaits (a new reference), or NULL. */
static PyObject *awaited_by(PyObject *coroutine)
{
    PyObject *name = PyCoro_CheckExact(coroutine)       ? name_cr_await
                     : PyGen_Check(coroutine)           ? name_gi_yieldfrom
                     : PyAsyncGen_CheckExact(coroutine) ? name_ag_await
                                                        : NULL;
    if (!name)
        return NULL;
    PyObject *next = PyObject_GetAttr(coroutine, name);
    if (!next)
        PyErr_Clear();
    if (next == Py_None) {
        Py_DECREF(next);
        return NULL;
    }
    return next;
}

/* What one look works with: which task waits for which (child to parent, an open-addressing
 * table cleared after each look through the list of slots it used), and the waiting tasks kept. */
#define LINK_SLOTS 8192
#define LINKS_MAX (LINK_SLOTS / 2)
/* Tasks a waiting task's stack goes up through, to the one its wait began in. */
#define AWAIT_MAX_PARENTS 16

struct look_work {
    PyObject *child[LINK_SLOTS];
    PyObject *parent[LINK_SLOTS];
    uint32_t used[LINKS_MAX];
    size_t used_count;
    PyObject *kept[AWAIT_SHARES]; /* borrowed: the set of all tasks holds them */
};

static size_t link_slot(const struct look_work *work, const PyObject *child)
{
    size_t slot = (size_t)(((uintptr_t)child >> 4) * 0x9E3779B97F4A7C15ULL >> 51) % LINK_SLOTS;
    while (work->child[slot] && work->child[slot] != child)
        slot = (slot + 1) % LINK_SLOTS;
    return slot;
}

static void link_child(struct look_work *work, PyObject *child, PyObject *parent)
{
    if (work->used_count == LINKS_MAX || child == Py_None)
        return;
    size_t slot = link_slot(work, child);
    if (work->child[slot])
        return;
    work->child[slot] = child;
    work->parent[slot] = parent;
    work->used[work->used_count++] = (uint32_t)slot;
}

static PyObject *parent_of(const struct look_work *work, const PyObject *child)
{
    size_t slot = link_slot(work, child);
    return work->child[slot] ? work->parent[slot] : NULL;
}

static void clear_links(struct look_work *work)
{
    for (size_t i = 0; i < work->used_count; i++)
        work->child[work->used[i]] = NULL;
    work->used_count = 0;
}

/* Links every task of `children` (one task, or an iterable of them) to `parent`. */
static void link_children(struct look_work *work, PyObject *children, PyObject *parent)
{
    if (PyObject_HasAttr(children, name_get_coro)) {
        link_child(work, children, parent);
        return;
    }
    PyObject *iterator = PyObject_GetIter(children);
    PyObject *child;
    while (iterator && (child = PyIter_Next(iterator))) {
        link_child(work, child, parent); /* the set of all tasks keeps a waiting one alive */
        Py_DECREF(child);
    }
    Py_XDECREF(iterator);
    PyErr_Clear();
}

/* The tasks a frame of waits_for_tasks[which] waits for, from its locals (a new reference), or
 * NULL. */
static PyObject *tasks_waited_for(PyObject *coroutine, int which)
{
    if (!waits_for_tasks[which].tasks_local)
        return NULL;
    PyObject *frame = PyObject_GetAttrString(coroutine, PyCoro_CheckExact(coroutine) ? "cr_frame" : "gi_frame");
    PyObject *locals = frame && frame != Py_None ? PyObject_GetAttrString(frame, "f_locals") : NULL;
    PyObject *value = locals ? PyMapping_GetItemString(locals, waits_for_tasks[which].tasks_local) : NULL;
    Py_XDECREF(locals);
    Py_XDECREF(frame);
    if (value && waits_for_tasks[which].tasks_attribute)
        Py_SETREF(value, PyObject_GetAttrString(value, waits_for_tasks[which].tasks_attribute));
    if (!value)
        PyErr_Clear();
    return value;
}

static int generator_like(PyObject *object)
{
    return PyCoro_CheckExact(object) || PyGen_Check(object) || PyAsyncGen_CheckExact(object);
}

/* The frames of `task`'s chain of coroutines, from the outermost, into `ring` (the innermost
 * AWAIT_CHAIN_REFS of them). With `work`, a chain that ends in a frame of asyncio's that waits for
 * other tasks (on a future of its own, not on a coroutine it runs: 3.12's wait_for awaits the
 * coroutine it was given) links those tasks to the task: returns -1 then. Otherwise returns how
 * many frames. */
static long walk_chain(PyObject *task, struct frame_ref *ring, struct look_work *work)
{
    PyObject *coroutine = PyObject_CallMethodObjArgs(task, name_get_coro, NULL);
    if (!coroutine)
        PyErr_Clear();
    long seen = 0;
    for (int depth = 0; coroutine && depth < AWAIT_MAX_CHAIN; depth++) {
        PyObject *next = awaited_by(coroutine);
        struct frame_ref ref;
        if (frames_generator_ref(coroutine, &ref)) {
            int which = work && !(next && generator_like(next)) ? waiting_for_tasks(&ref) : -1;
            if (which >= 0) {
                PyObject *children = tasks_waited_for(coroutine, which);
                if (children)
                    link_children(work, children, task);
                Py_XDECREF(children);
                Py_XDECREF(next);
                Py_DECREF(coroutine);
                return -1;
            }
            ring[seen++ % AWAIT_CHAIN_REFS] = ref;
        }
        Py_DECREF(coroutine);
        coroutine = next;
    }
    Py_XDECREF(coroutine);
    return seen;
}

/* Appends the innermost frames of `ring` (`seen` frames walked), innermost first. */
static void append_chain(struct await_share *share, const struct frame_ref *ring, long seen)
{
    for (long i = seen - 1; i >= 0 && i >= seen - AWAIT_CHAIN_REFS && share->count < AWAIT_CHAIN_REFS; i--)
        share->refs[share->count++] = ring[i % AWAIT_CHAIN_REFS];
}

/* Whether `task` waits on a future of its own (1), passes its wait down to other tasks (0: it
 * awaits a task, a gather, or asyncio's waits for tasks; they are linked to it), or does not
 * wait (0). */
static int waits_itself(PyObject *task, struct look_work *work)
{
    PyObject *waiter = PyObject_GetAttr(task, name_fut_waiter);
    if (!waiter) {
        PyErr_Clear();
        return 0;
    }
    int waits = 0;
    if (waiter == Py_None) {
        waits = 0;
    } else if (PyObject_HasAttr(waiter, name_get_coro)) {
        link_child(work, waiter, task);
    } else if (strcmp(Py_TYPE(waiter)->tp_name, "_GatheringFuture") == 0) {
        PyObject *children = PyObject_GetAttrString(waiter, "_children");
        if (children)
            link_children(work, children, task);
        else
            PyErr_Clear();
        Py_XDECREF(children);
    } else {
        struct frame_ref ring[AWAIT_CHAIN_REFS];
        waits = walk_chain(task, ring, work) >= 0;
    }
    Py_DECREF(waiter);
    return waits;
}

/* The stack of a kept waiting task: its chain, then the chains of the tasks waiting for it. */
static void task_stack(const struct look_work *work, PyObject *task, struct await_share *share)
{
    struct frame_ref ring[AWAIT_CHAIN_REFS];
    share->count = 0;
    for (int level = 0; task && level < AWAIT_MAX_PARENTS && share->count < AWAIT_CHAIN_REFS; level++) {
        append_chain(share, ring, walk_chain(task, ring, NULL));
        task = parent_of(work, task);
    }
}

/* The loop's waiting tasks into `look`: at most AWAIT_SHARES of them, each waiting task equally
 * likely to be kept (reservoir sampling). Returns how many were waiting. */
static size_t waiting_tasks(struct await_thread *record, PyObject *loop, struct await_look *look,
                            struct look_work *work)
{
    PyObject *tasks = call_asyncio(&all_tasks, loop);
    PyObject *iterator = tasks ? PyObject_GetIter(tasks) : NULL;
    if (!iterator) {
        Py_XDECREF(tasks);
        PyErr_Clear();
        return 0;
    }
    size_t waiting = 0;
    PyObject *task;
    while ((task = PyIter_Next(iterator))) {
        if (waits_itself(task, work)) {
            size_t slot = waiting < AWAIT_SHARES ? waiting : xorshift_next(&record->random) % (waiting + 1);
            if (slot < AWAIT_SHARES)
                work->kept[slot] = task;
            waiting++;
        }
        Py_DECREF(task);
    }
    PyErr_Clear();
    Py_DECREF(iterator);
    size_t kept = waiting < AWAIT_SHARES ? waiting : AWAIT_SHARES;
    for (size_t i = 0; i < kept; i++)
        task_stack(work, work->kept[i], &look->shares[i]);
    clear_links(work);
    Py_DECREF(tasks);
    return waiting;
}

static int push(const struct await_look *look)
{
    pthread_mutex_lock(&queue_lock);
    if (!queue)
        queue = map_zeroed(AWAIT_LOOKS * sizeof *queue);
    int pushed = queue && queue_head - queue_tail < AWAIT_LOOKS;
    if (pushed)
        memcpy(&queue[queue_head++ % AWAIT_LOOKS], look, look_size(look->share_count));
    pthread_mutex_unlock(&queue_lock);
    return pushed ? 0 : -1;
}

struct look_scratch {
    struct await_look look;
    struct look_work work;
};

/* Hands the waits not handed over yet to the helper, split among the tasks waiting now. */
static void look(struct await_thread *record, PyObject *loop)
{
    int64_t began_ns = threads_monotonic_ns();
    if (!record->scratch && !(record->scratch = map_zeroed(sizeof *record->scratch)))
        return;
    struct await_look *look = &record->scratch->look;
    memsample_guard_enter(); /* the look's own objects are heatline's */
    look->tid = mine_tid;
    look->ns = record->unrecorded_ns;
    frames_capture_own(&look->loop);
    size_t waiting = waiting_tasks(record, loop, look, &record->scratch->work);
    memsample_guard_leave();
    look->own = waiting == 0;
    look->share_count = waiting == 0 ? 0 : waiting < AWAIT_SHARES ? (uint32_t)waiting : AWAIT_SHARES;
    for (uint32_t i = 0; i < look->share_count; i++)
        look->shares[i].ns = look->ns / look->share_count + (i == 0 ? look->ns % look->share_count : 0);
    if (push(look) == 0)
        record->unrecorded_ns = 0;
    int64_t threshold_ns = (threads_monotonic_ns() - began_ns) * AWAIT_COST_FACTOR;
    record->threshold_ns = threshold_ns > AWAIT_MIN_THRESHOLD_NS ? threshold_ns : AWAIT_MIN_THRESHOLD_NS;
}

/* ---- the wrapper ----------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *function; /* the selector's own select */
} AwaitingSelect;

static PyObject *awaiting_call(PyObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *function = ((AwaitingSelect *)self)->function;
    struct await_thread *record = session_is_enabled() ? own_record() : NULL;
    PyObject *loop = record && !record->busy ? running_loop() : NULL;
    if (!loop)
        return PyObject_Call(function, args, kwargs);
    record->busy = 1;
    begin_wait(record);
    PyObject *result = PyObject_Call(function, args, kwargs);
    record->unrecorded_ns += end_wait(record);
    if (result && record->unrecorded_ns >= record->threshold_ns && session_is_enabled())
        look(record, loop);
    record->busy = 0;
    Py_DECREF(loop);
    return result;
}

static PyObject *awaiting_get(PyObject *self, PyObject *instance, PyObject *owner)
{
    (void)owner;
    if (!instance || instance == Py_None) {
        Py_INCREF(self);
        return self;
    }
    return PyMethod_New(self, instance);
}

static void awaiting_dealloc(PyObject *self)
{
    Py_XDECREF(((AwaitingSelect *)self)->function);
    Py_TYPE(self)->tp_free(self);
}

static PyObject *awaiting_repr(PyObject *self)
{
    return PyUnicode_FromFormat("<heatline await timer of %R>", ((AwaitingSelect *)self)->function);
}

static PyTypeObject awaiting_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "heatline._core.AwaitingSelect",
    .tp_basicsize = sizeof(AwaitingSelect),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_call = awaiting_call,
    .tp_descr_get = awaiting_get,
    .tp_dealloc = awaiting_dealloc,
    .tp_repr = awaiting_repr,
};

/* ---- installing it ----------------------------------------------------------------------- */

#define WRAPPED_CLASSES 8

static struct wrapped {
    PyObject *selector_class;
    PyObject *original;
    PyObject *wrapper;
} wrapped[WRAPPED_CLASSES];
static size_t wrapped_count;

/* The class's own `select` (a new reference), or NULL. */
static PyObject *own_select(PyObject *selector_class)
{
    PyObject *attributes = PyObject_GetAttrString(selector_class, "__dict__");
    PyObject *select = attributes ? PyMapping_GetItemString(attributes, "select") : NULL;
    Py_XDECREF(attributes);
    if (!select)
        PyErr_Clear();
    return select;
}

static int wrap(PyObject *selector_class)
{
    PyObject *original = own_select(selector_class);
    if (!original || Py_TYPE(original) == &awaiting_type || wrapped_count == WRAPPED_CLASSES) {
        Py_XDECREF(original);
        return 0;
    }
    AwaitingSelect *wrapper = PyObject_New(AwaitingSelect, &awaiting_type);
    if (!wrapper) {
        Py_DECREF(original);
        return -1;
    }
    Py_INCREF(original);
    wrapper->function = original;
    if (PyObject_SetAttrString(selector_class, "select", (PyObject *)wrapper) < 0) {
        Py_DECREF(wrapper);
        Py_DECREF(original);
        return -1;
    }
    Py_INCREF(selector_class);
    wrapped[wrapped_count++] = (struct wrapped){selector_class, original, (PyObject *)wrapper};
    return 0;
}

static void forget_waits(void)
{
    pthread_mutex_lock(&queue_lock);
    queue_tail = queue_head;
    pthread_mutex_unlock(&queue_lock);
    for (size_t i = 0; i < AWAIT_THREADS; i++) {
        records[i].unrecorded_ns = 0;
        records[i].threshold_ns = AWAIT_MIN_THRESHOLD_NS;
    }
}

int awaits_install(void)
{
    forget_waits();
    if (wrapped_count)
        return 0;
    if (intern_names() < 0 || PyType_Ready(&awaiting_type) < 0)
        return -1;
    PyObject *selectors = PyImport_ImportModule("selectors");
    PyObject *base = selectors ? PyObject_GetAttrString(selectors, "BaseSelector") : NULL;
    if (!base) {
        /* No selectors here: nothing an event loop waits in to time. */
        Py_XDECREF(selectors);
        PyErr_Clear();
        return 0;
    }
    PyObject *names = PyObject_Dir(selectors);
    int failed = !names;
    for (Py_ssize_t i = 0; names && !failed && i < PyList_GET_SIZE(names); i++) {
        PyObject *value = PyObject_GetAttr(selectors, PyList_GET_ITEM(names, i));
        if (!value) {
            failed = 1;
            break;
        }
        if (PyType_Check(value) && value != base && PyObject_IsSubclass(value, base) == 1)
            failed = wrap(value) < 0;
        Py_DECREF(value);
    }
    PyErr_Clear();
    Py_XDECREF(names);
    Py_DECREF(base);
    Py_DECREF(selectors);
    if (failed) {
        awaits_uninstall();
        PyErr_SetString(PyExc_RuntimeError, "heatline could not time the selectors' waits");
        return -1;
    }
    return 0;
}

void awaits_uninstall(void)
{
    for (size_t i = 0; i < wrapped_count; i++) {
        struct wrapped *entry = &wrapped[i];
        PyObject *current = own_select(entry->selector_class);
        if (current == entry->wrapper && PyObject_SetAttrString(entry->selector_class, "select", entry->original) < 0)
            PyErr_Clear();
        Py_XDECREF(current);
        Py_DECREF(entry->selector_class);
        Py_DECREF(entry->original);
        Py_DECREF(entry->wrapper);
    }
    wrapped_count = 0;
    Py_CLEAR(get_running_loop.function);
    Py_CLEAR(current_task.function);
    Py_CLEAR(all_tasks.function);
}

void awaits_after_fork_child(void)
{
    pthread_mutex_init(&queue_lock, NULL);
    queue_head = queue_tail = 0;
    for (size_t i = 0; i < AWAIT_THREADS; i++) {
        atomic_store(&records[i].tid, 0);
        atomic_store(&records[i].seq, 0);
        atomic_store(&records[i].waiting, 0);
        atomic_store(&records[i].done_ns, 0);
    }
    atomic_store(&records_used, 0);
}

/* ---- crediting the looks (the helper) -------------------------------------------------------- */

/* The tracked thread of id `tid`: the one alive, or one that ended (its last looks are credited
 * as it retires). */
static struct tracked_thread *find_thread(struct session *s, pid_t tid)
{
    struct tracked_thread *ended = NULL;
    for (size_t i = 0; i < s->thread_count; i++) {
        struct tracked_thread *thread = s->threads[i];
        if (thread->tid != tid)
            continue;
        if (!atomic_load(&thread->ended))
            return thread;
        ended = ended ? ended : thread;
    }
    return ended;
}

static void credit_look(struct session *s, const struct await_look *look)
{
    struct tracked_thread *thread = find_thread(s, look->tid);
    if (!thread || !s->enabled)
        return;
    thread->awaits_held_ns -= look->ns;
    struct place place;
    if (look->own) {
        places_of(&s->places, &look->loop, &place);
        offcpu_credit_wait(s, thread, &place, WAIT_IDLE, look->ns);
        return;
    }
    struct frames_stack stack;
    for (uint32_t i = 0; i < look->share_count; i++) {
        const struct await_share *share = &look->shares[i];
        size_t below = look->loop.count;
        if (below > FRAMES_MAX_REFS - share->count)
            below = FRAMES_MAX_REFS - share->count;
        memcpy(stack.refs, share->refs, share->count * sizeof *share->refs);
        memcpy(stack.refs + share->count, look->loop.refs, below * sizeof *look->loop.refs);
        stack.count = (uint8_t)(share->count + below);
        stack.state = SAMPLE_PYTHON;
        stack.cut = 0;
        places_of(&s->places, &stack, &place);
        double seconds = (double)share->ns / 1e9;
        struct counters amount = {.system_s = seconds, .await_s = seconds};
        cputime_credit(s, thread, &place, &amount);
    }
}

void awaits_drain(struct session *s)
{
    for (;;) {
        pthread_mutex_lock(&queue_lock);
        if (!drained)
            drained = map_zeroed(sizeof *drained);
        int found = queue && drained && queue_tail != queue_head;
        if (found) {
            const struct await_look *next = &queue[queue_tail++ % AWAIT_LOOKS];
            memcpy(drained, next, look_size(next->share_count));
        }
        pthread_mutex_unlock(&queue_lock);
        if (!found)
            return;
        credit_look(s, drained);
    }
}
