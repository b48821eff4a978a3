/* threadstart: see threadstart.h. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "threadstart.h"

#include "frames.h"
#include "helper.h"

/* ---- the stand-in -------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *function;
    uintptr_t entry;
    int called; /* one never called (the start failed, or the thread never ran) ends its start */
} StandIn;

static PyObject *stand_in_call(PyObject *object, PyObject *args, PyObject *kwargs)
{
    StandIn *self = (StandIn *)object;
    if (!self->called) {
        self->called = 1;
        helper_thread_arrive(self->entry, frames_current_thread_state());
    }
    return PyObject_Call(self->function, args, kwargs);
}

static void stand_in_dealloc(PyObject *object)
{
    StandIn *self = (StandIn *)object;
    if (!self->called)
        helper_thread_start_abandoned();
    Py_XDECREF(self->function);
    PyObject_Free(self);
}

/* "Unhandled exception in thread started by ..." names the thread's own function. */
static PyObject *stand_in_repr(PyObject *object)
{
    return PyObject_Repr(((StandIn *)object)->function);
}

static PyTypeObject stand_in_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "heatline._core.ThreadStart",
    .tp_basicsize = sizeof(StandIn),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_call = stand_in_call,
    .tp_dealloc = stand_in_dealloc,
    .tp_repr = stand_in_repr,
};

/* The code object of a callable (a function or a bound method), or NULL (borrowed). */
static PyObject *code_of(PyObject *callable)
{
    if (callable && PyMethod_Check(callable))
        callable = PyMethod_GET_FUNCTION(callable);
    return callable && PyFunction_Check(callable) ? PyFunction_GET_CODE(callable) : NULL;
}

/* What a thread is started to run, as the key of its stand-in place (cputime.c): for a
 * threading.Thread (whose start function is its _bootstrap method) its target, or its run
 * method; otherwise the function itself. */
static uintptr_t entry_of(PyObject *function)
{
    PyObject *code = NULL;
    if (PyMethod_Check(function)) {
        PyObject *owner = PyMethod_GET_SELF(function);
        PyObject *target = PyObject_GetAttrString(owner, "_target");
        if (!target || target == Py_None) {
            Py_XDECREF(target);
            PyErr_Clear();
            target = PyObject_GetAttrString(owner, "run");
        }
        PyErr_Clear();
        code = code_of(target);
        Py_XDECREF(target); /* the thread object holds it while the thread lives */
    }
    if (!code)
        code = code_of(function);
    return (uintptr_t)(code ? code : function);
}

/* ---- the start functions ------------------------------------------------------------------- */

/* One start function of _thread, and the names threading caches it under. */
struct start_function {
    const char *name;
    const char *threading_name;
    PyMethodDef definition;
    PyObject *original;
    PyObject *replacement;
};

static PyObject *start_new_thread(PyObject *self, PyObject *args, PyObject *kwargs);
static PyObject *start_joinable_thread(PyObject *self, PyObject *args, PyObject *kwargs);

static struct start_function starts[] = {
    {"start_new_thread", "_start_new_thread",
     {"start_new_thread", (PyCFunction)(void (*)(void))start_new_thread, METH_VARARGS | METH_KEYWORDS, NULL},
     NULL, NULL},
    {"start_joinable_thread", "_start_joinable_thread",
     {"start_joinable_thread", (PyCFunction)(void (*)(void))start_joinable_thread, METH_VARARGS | METH_KEYWORDS, NULL},
     NULL, NULL},
};
#define START_FUNCTIONS (sizeof starts / sizeof starts[0])

static int installed;

/* The original with the function (always the first argument) in a stand-in. */
static PyObject *start_through(struct start_function *start, PyObject *args, PyObject *kwargs)
{
    PyObject *function = PyTuple_GET_SIZE(args) > 0 ? PyTuple_GET_ITEM(args, 0) : NULL;
    if (!function || !PyCallable_Check(function))
        return PyObject_Call(start->original, args, kwargs); /* its own error */
    PyObject *shifted = PyTuple_GetSlice(args, 0, PyTuple_GET_SIZE(args));
    StandIn *stand_in = shifted ? PyObject_New(StandIn, &stand_in_type) : NULL;
    if (!stand_in) {
        Py_XDECREF(shifted);
        return NULL;
    }
    Py_INCREF(function);
    stand_in->function = function;
    stand_in->entry = entry_of(function);
    stand_in->called = 0;
    helper_thread_starting(); /* before the thread exists: see helper_update_threads */
    PyTuple_SET_ITEM(shifted, 0, (PyObject *)stand_in);
    Py_DECREF(function); /* the slice's reference, now the stand-in's place */
    PyObject *result = PyObject_Call(start->original, shifted, kwargs);
    Py_DECREF(shifted);
    return result;
}

static PyObject *start_new_thread(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    return start_through(&starts[0], args, kwargs);
}

static PyObject *start_joinable_thread(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    return start_through(&starts[1], args, kwargs);
}

/* module.name = value, where module.name is `expected` now. */
static int swap_attribute(PyObject *module, const char *name, PyObject *expected, PyObject *value)
{
    PyObject *current = PyObject_GetAttrString(module, name);
    if (!current) {
        PyErr_Clear();
        return 0;
    }
    int result = current == expected ? PyObject_SetAttrString(module, name, value) : 0;
    Py_DECREF(current);
    return result;
}

/* threading, if the program imported it (it is not imported for it). */
static PyObject *imported_threading(void)
{
    PyObject *modules = PyImport_GetModuleDict();
    PyObject *threading = PyDict_GetItemString(modules, "threading");
    Py_XINCREF(threading);
    return threading;
}

/* Ours back to the originals. Both are kept: a copy of ours taken meanwhile still works. */
static void put_back(PyObject *thread_module, PyObject *threading)
{
    for (size_t i = 0; i < START_FUNCTIONS; i++) {
        struct start_function *start = &starts[i];
        if (!start->replacement)
            continue;
        if (swap_attribute(thread_module, start->name, start->replacement, start->original) < 0 ||
            (threading && swap_attribute(threading, start->threading_name, start->replacement, start->original) < 0))
            PyErr_Clear(); /* a module that refuses the original back keeps a working wrapper */
    }
}

int threadstart_install(void)
{
    if (installed)
        return 0;
    if (PyType_Ready(&stand_in_type) < 0)
        return -1;
    PyObject *thread_module = PyImport_ImportModule("_thread");
    if (!thread_module)
        return -1;
    PyObject *threading = imported_threading();
    int failed = 0;
    for (size_t i = 0; i < START_FUNCTIONS && !failed; i++) {
        struct start_function *start = &starts[i];
        PyObject *current = PyObject_GetAttrString(thread_module, start->name);
        if (!current) {
            PyErr_Clear(); /* start_joinable_thread is 3.13's */
            continue;
        }
        if (current == start->replacement) { /* left in place by a session that could not put it back */
            Py_DECREF(current);
            continue;
        }
        Py_XSETREF(start->original, current);
        if (!start->replacement)
            start->replacement = PyCFunction_NewEx(&start->definition, NULL, NULL);
        failed = !start->replacement ||
                 swap_attribute(thread_module, start->name, start->original, start->replacement) < 0 ||
                 (threading &&
                  swap_attribute(threading, start->threading_name, start->original, start->replacement) < 0);
    }
    if (failed)
        put_back(thread_module, threading);
    Py_XDECREF(threading);
    Py_DECREF(thread_module);
    installed = !failed;
    return failed ? -1 : 0;
}

void threadstart_uninstall(void)
{
    if (!installed)
        return;
    PyObject *thread_module = PyImport_ImportModule("_thread");
    PyObject *threading = imported_threading();
    if (thread_module)
        put_back(thread_module, threading);
    else
        PyErr_Clear();
    Py_XDECREF(threading);
    Py_XDECREF(thread_module);
    installed = 0;
}
