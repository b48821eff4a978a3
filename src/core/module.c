/* module: heatline._core, the engine's Python face.
 *
 * Owns: turning Python arguments into a session_config and documents into str, and engine
 * failures into Python exceptions with a message a user can act on.
 * Never: holds logic beyond argument checks. Talks to: session, threadstart (in place while a
 * session runs), alloc_native (a count). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc_native.h"
#include "awaits.h"
#include "session.h"
#include "threadstart.h"

#define ERROR_SIZE 256

static int copy_str(PyObject *config, const char *key, char **out)
{
    PyObject *value = PyDict_GetItemString(config, key);
    if (!value || !PyUnicode_Check(value)) {
        PyErr_Format(PyExc_TypeError, "config['%s'] must be a str", key);
        return -1;
    }
    const char *text = PyUnicode_AsUTF8(value);
    if (!text)
        return -1;
    *out = strdup(text);
    if (!*out) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static int copy_str_list(PyObject *config, const char *key, struct string_list *out)
{
    PyObject *value = PyDict_GetItemString(config, key);
    if (!value)
        return 0;
    PyObject *items = PySequence_Fast(value, "must be a list of str");
    if (!items)
        return -1;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(items); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(items, i);
        const char *text = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : NULL;
        if (!text) {
            Py_DECREF(items);
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_TypeError, "config['%s'] must be a list of str", key);
            return -1;
        }
        if (string_list_add(out, text) < 0) {
            Py_DECREF(items);
            PyErr_NoMemory();
            return -1;
        }
    }
    Py_DECREF(items);
    return 0;
}

/* An optional str: absent or None leaves NULL. */
static int copy_optional_str(PyObject *config, const char *key, char **out)
{
    PyObject *value = PyDict_GetItemString(config, key);
    if (!value || value == Py_None)
        return 0;
    return copy_str(config, key, out);
}

static int read_flag(PyObject *config, const char *key, int *out)
{
    PyObject *value = PyDict_GetItemString(config, key);
    if (!value) {
        *out = 0;
        return 0;
    }
    *out = PyObject_IsTrue(value);
    return *out < 0 ? -1 : 0;
}

static int read_call_opcodes(PyObject *config, uint8_t table[256])
{
    memset(table, 0, 256);
    PyObject *value = PyDict_GetItemString(config, "call_opcodes");
    if (!value) {
        PyErr_SetString(PyExc_TypeError, "config['call_opcodes'] is required");
        return -1;
    }
    PyObject *items = PySequence_Fast(value, "config['call_opcodes'] must be a list of int");
    if (!items)
        return -1;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(items); i++) {
        long opcode = PyLong_AsLong(PySequence_Fast_GET_ITEM(items, i));
        if (opcode < 0 || opcode > 255) {
            Py_DECREF(items);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "an opcode must be in 0..255");
            return -1;
        }
        table[opcode] = 1;
    }
    Py_DECREF(items);
    return 0;
}

static int read_config(PyObject *config, struct session_config *out)
{
    memset(out, 0, sizeof *out);
    PyObject *interval = PyDict_GetItemString(config, "cpu_sampling_interval");
    double seconds = interval ? PyFloat_AsDouble(interval) : -1;
    if (seconds == -1 && PyErr_Occurred())
        return -1;
    if (!(seconds >= CPU_SAMPLING_INTERVAL_MIN_S && seconds <= CPU_SAMPLING_INTERVAL_MAX_S)) {
        PyErr_Format(PyExc_ValueError, "cpu_sampling_interval must be between %g and %g seconds",
                     CPU_SAMPLING_INTERVAL_MIN_S, CPU_SAMPLING_INTERVAL_MAX_S);
        return -1;
    }
    out->cpu_sampling_interval_ns = (int64_t)(seconds * 1e9);
    PyObject *rate = PyDict_GetItemString(config, "memory_sampling_rate");
    if (rate && rate != Py_None) {
        long long bytes = PyLong_AsLongLong(rate);
        if (bytes == -1 && PyErr_Occurred())
            return -1;
        if (bytes < MEMORY_SAMPLING_RATE_MIN_BYTES || bytes > MEMORY_SAMPLING_RATE_MAX_BYTES) {
            PyErr_Format(PyExc_ValueError, "memory_sampling_rate must be between %lld and %lld bytes",
                         (long long)MEMORY_SAMPLING_RATE_MIN_BYTES, (long long)MEMORY_SAMPLING_RATE_MAX_BYTES);
            return -1;
        }
        out->memory_sampling_rate_bytes = bytes;
    }
    if (read_flag(config, "enabled", &out->start_enabled) < 0 || read_flag(config, "gpu", &out->gpu) < 0 ||
        read_flag(config, "idle", &out->idle) < 0 ||
        read_flag(config, "profile_all", &out->filter.profile_all) < 0 ||
        copy_str_list(config, "program_dirs", &out->filter.program_dirs) < 0 ||
        copy_str_list(config, "library_dirs", &out->filter.library_dirs) < 0 ||
        copy_str_list(config, "own_dirs", &out->filter.own_dirs) < 0 ||
        copy_str_list(config, "only_patterns", &out->filter.only_patterns) < 0 ||
        copy_str_list(config, "exclude_patterns", &out->filter.exclude_patterns) < 0 ||
        copy_str_list(config, "argv", &out->argv) < 0 || read_call_opcodes(config, out->call_opcodes) < 0 ||
        copy_str(config, "program", &out->program) < 0 ||
        copy_str(config, "python_version", &out->python_version) < 0 ||
        copy_str(config, "heatline_version", &out->heatline_version) < 0 ||
        copy_optional_str(config, "output_dir", &out->output_dir) < 0 ||
        copy_optional_str(config, "start_method", &out->start_method) < 0)
        return -1;
    PyObject *run_start = PyDict_GetItemString(config, "run_start_ns");
    if (run_start && run_start != Py_None) {
        out->run_start_ns = PyLong_AsLongLong(run_start);
        if (out->run_start_ns == -1 && PyErr_Occurred())
            return -1;
    }
    return 0;
}

static PyObject *core_start(PyObject *module, PyObject *config)
{
    (void)module;
    if (!PyDict_Check(config)) {
        PyErr_SetString(PyExc_TypeError, "start() takes a dict");
        return NULL;
    }
    struct session_config parsed;
    if (read_config(config, &parsed) < 0) {
        session_config_free(&parsed);
        return NULL;
    }
    /* Before the session: it imports selectors, work that is heatline's, not the program's. */
    if (awaits_install() < 0) {
        session_config_free(&parsed);
        return NULL;
    }
    char error[ERROR_SIZE];
    if (session_start(&parsed, error, sizeof error) < 0) {
        awaits_uninstall();
        PyErr_Format(PyExc_RuntimeError, "heatline could not start: %s", error);
        return NULL;
    }
    if (threadstart_install() < 0) {
        awaits_uninstall();
        free(session_stop(NULL, 0));
        return NULL;
    }
    Py_RETURN_NONE;
}

/* A list of (file, name, first_line, last_line), or None. */
static int read_functions(PyObject *value, struct profiled_function **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    if (value == Py_None)
        return 0;
    PyObject *items = PySequence_Fast(value, "functions must be a list of tuples");
    if (!items)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(items);
    *out = calloc((size_t)n + 1, sizeof **out);
    if (!*out) {
        Py_DECREF(items);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *file, *name;
        int first_line, last_line;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(items, i), "ssii", &file, &name, &first_line,
                              &last_line)) {
            Py_DECREF(items);
            return -1;
        }
        struct profiled_function *f = &(*out)[(*count)++];
        f->file = strdup(file);
        f->name = strdup(name);
        f->first_line = first_line;
        f->last_line = last_line;
        if (!f->file || !f->name) {
            Py_DECREF(items);
            PyErr_NoMemory();
            return -1;
        }
    }
    Py_DECREF(items);
    return 0;
}

static void free_functions(struct profiled_function *functions, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(functions[i].file);
        free(functions[i].name);
    }
    free(functions);
}

typedef char *(*document_fn)(const struct profiled_function *, size_t);

/* `release_gil`: other Python threads run while the document is written. Not at stop: stopping
 * puts Python's allocators back (PyMem_SetAllocator copies the allocator's fields one by one),
 * and a thread allocating meanwhile could call the wrapper with the original's context. */
static PyObject *document(PyObject *args, document_fn make, int release_gil)
{
    PyObject *value = Py_None;
    if (!PyArg_ParseTuple(args, "|O", &value))
        return NULL;
    if (!session_is_running()) {
        PyErr_SetString(PyExc_RuntimeError, "heatline is not running");
        return NULL;
    }
    struct profiled_function *functions;
    size_t count;
    if (read_functions(value, &functions, &count) < 0) {
        free_functions(functions, count);
        return NULL;
    }
    char *text;
    if (release_gil) {
        Py_BEGIN_ALLOW_THREADS
        text = make(functions, count);
        Py_END_ALLOW_THREADS
    } else {
        text = make(functions, count);
    }
    free_functions(functions, count);
    if (!text)
        return PyErr_NoMemory();
    PyObject *result = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
    free(text);
    return result;
}

static PyObject *core_stop(PyObject *module, PyObject *args)
{
    (void)module;
    threadstart_uninstall();
    awaits_uninstall();
    return document(args, session_stop, 0);
}

static PyObject *core_snapshot(PyObject *module, PyObject *args)
{
    (void)module;
    return document(args, session_snapshot, 1);
}

static PyObject *core_is_running(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyBool_FromLong(session_is_running());
}

static PyObject *core_set_enabled(PyObject *module, PyObject *value)
{
    (void)module;
    int enabled = PyObject_IsTrue(value);
    if (enabled < 0)
        return NULL;
    session_set_enabled(enabled);
    Py_RETURN_NONE;
}

static PyObject *core_own_threads(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    pid_t tids[4];
    size_t count = session_own_threads(tids, sizeof tids / sizeof *tids);
    PyObject *list = PyList_New((Py_ssize_t)count);
    for (size_t i = 0; list && i < count; i++) {
        PyObject *tid = PyLong_FromLong(tids[i]);
        if (!tid) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, tid);
    }
    return list;
}

static PyObject *core_is_enabled(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyBool_FromLong(session_is_enabled());
}

static PyObject *core_signal_was_replaced(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyBool_FromLong(session_signal_was_replaced());
}

static PyObject *core_hooked_slots(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyLong_FromSize_t(alloc_native_patched_slots());
}

static PyObject *core_monotonic_ns(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return PyLong_FromLongLong((long long)now.tv_sec * 1000000000LL + now.tv_nsec);
}

static PyMethodDef core_methods[] = {
    {"monotonic_ns", core_monotonic_ns, METH_NOARGS,
     "monotonic_ns() -> int: the engine's clock (CLOCK_MONOTONIC), shared by every process of a run."},
    {"hooked_slots", core_hooked_slots, METH_NOARGS,
     "hooked_slots() -> int: relocation slots of loaded libraries that point to heatline's memory hooks now."},
    {"start", core_start, METH_O, "start(config: dict) -> None: start a profiling session."},
    {"stop", core_stop, METH_VARARGS,
     "stop(functions=None) -> str: end the session and return its profile document (JSON)."},
    {"snapshot", core_snapshot, METH_VARARGS,
     "snapshot(functions=None) -> str: the profile document so far (JSON)."},
    {"is_running", core_is_running, METH_NOARGS, "is_running() -> bool"},
    {"set_enabled", core_set_enabled, METH_O, "set_enabled(on: bool) -> None: pause or resume sampling."},
    {"is_enabled", core_is_enabled, METH_NOARGS, "is_enabled() -> bool"},
    {"own_threads", core_own_threads, METH_NOARGS,
     "own_threads() -> list[int]: heatline's own threads (helper, GPU poller); -1 for one whose id is not known yet."},
    {"signal_was_replaced", core_signal_was_replaced, METH_NOARGS,
     "signal_was_replaced() -> bool: whether the program took over the sampler's signal."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "_core", "heatline's measuring engine (C).", -1, core_methods,
    NULL, NULL, NULL, NULL,
};

/* The accepted ranges, so that the launcher checks options against the engine's own limits. */
static int add_ranges(PyObject *module)
{
    PyObject *interval = Py_BuildValue("(dd)", CPU_SAMPLING_INTERVAL_MIN_S, CPU_SAMPLING_INTERVAL_MAX_S);
    PyObject *rate = Py_BuildValue("(LL)", (long long)MEMORY_SAMPLING_RATE_MIN_BYTES,
                                   (long long)MEMORY_SAMPLING_RATE_MAX_BYTES);
    if (!interval || !rate || PyModule_AddObject(module, "CPU_SAMPLING_INTERVAL_RANGE_S", interval) < 0) {
        Py_XDECREF(interval);
        Py_XDECREF(rate);
        return -1;
    }
    if (PyModule_AddObject(module, "MEMORY_SAMPLING_RATE_RANGE_BYTES", rate) < 0) {
        Py_DECREF(rate);
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC PyInit__core(void)
{
    PyObject *module = PyModule_Create(&core_module);
    if (module && add_ranges(module) < 0)
        Py_CLEAR(module);
    return module;
}
