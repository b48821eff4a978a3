/* frames: see frames.h. Every version difference of CPython's frames and code objects lives in
 * this file, behind the small vocabulary at its top (top frame, frame fields, code header).
 *
 * Internal headers are needed for _PyInterpreterFrame (3.11+) and the GIL's state; they are only
 * read through copies made by a reader, never written. */
#define Py_BUILD_CORE 1
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_frame.h"
#endif
#include "internal/pycore_runtime.h"
#if PY_VERSION_HEX >= 0x030C0000
#include "internal/pycore_interp.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "frames.h"
#include "platform.h"
#include "threads.h"

/* A stack deeper than this is walked only this far: its outermost frames are then not the root's. */
#define MAX_WALK_DEPTH 4096
/* Even a thread's own newest frames can be unsafe to load: on 3.11 and 3.12 the interpreter
 * publishes a new C-level frame record before setting its current_frame, and the compiler may
 * order a new frame's links as it likes. So the handler reads the first frames through
 * process_vm_readv (about 1 us a read) and only the settled frames below with plain loads. */
#define SAFELY_READ_FRAMES 4
#define MAX_STRING_BYTES 4096
#define MAX_TABLE_BYTES (1 << 20)

/* Whether an object read from memory looks alive. A freed block's first word (ob_refcnt) holds
 * the allocator's free-list link: pymalloc's plain next pointer or NULL, glibc's (mangled)
 * pointer, both far above any live count; immortal objects (3.12+) count about 2^30. A code object
 * that died between a sample and the helper's look at it must not lend its stale fields. */
#define MAX_PLAUSIBLE_REFCOUNT ((Py_ssize_t)1 << 40)

static int looks_alive(const PyObject *object)
{
    return object->ob_refcnt > 0 && object->ob_refcnt < MAX_PLAUSIBLE_REFCOUNT;
}

typedef int (*reader_fn)(void *dst, uintptr_t src, size_t len);

static uint8_t call_opcode[256];
static uintptr_t gil_start, gil_end;
#if PY_VERSION_HEX < 0x030B0000
static int pthread_tid_offset = -1;
#endif

static int read_own(void *dst, uintptr_t src, size_t len)
{
    memcpy(dst, (const void *)src, len);
    return 0;
}

static int read_pointer(reader_fn read, uintptr_t address, uintptr_t *out)
{
    return read(out, address, sizeof *out);
}

/* ---- version vocabulary --------------------------------------------------------------- */

struct raw_frame {
    uintptr_t code;
    uintptr_t previous;
    intptr_t instruction; /* code units from the start of the bytecode; may be -1 */
    int skip;             /* not a frame of Python code the program ran (C-stack entry frames) */
};

struct code_header {
    uintptr_t filename;
    uintptr_t name;
    uintptr_t line_table;
    uintptr_t bytecode; /* address of the first code unit */
    intptr_t code_units;
    intptr_t first_traceable;
    int first_line;
};

static int read_top_frame(reader_fn read, uintptr_t thread_state, uintptr_t *frame)
{
#if PY_VERSION_HEX >= 0x030D0000
    return read_pointer(read, thread_state + offsetof(PyThreadState, current_frame), frame);
#elif PY_VERSION_HEX >= 0x030B0000
    uintptr_t cframe;
    if (read_pointer(read, thread_state + offsetof(PyThreadState, cframe), &cframe) < 0 || !cframe)
        return -1;
    return read_pointer(read, cframe + offsetof(_PyCFrame, current_frame), frame);
#else
    return read_pointer(read, thread_state + offsetof(PyThreadState, frame), frame);
#endif
}

static int read_frame(reader_fn read, uintptr_t address, struct raw_frame *out)
{
#if PY_VERSION_HEX >= 0x030B0000
    _PyInterpreterFrame frame;
    if (read(&frame, address, offsetof(_PyInterpreterFrame, localsplus)) < 0)
        return -1;
    out->previous = (uintptr_t)frame.previous;
#if PY_VERSION_HEX >= 0x030D0000
    out->code = (uintptr_t)frame.f_executable;
    uintptr_t current = (uintptr_t)frame.instr_ptr;
#else
    out->code = (uintptr_t)frame.f_code;
    uintptr_t current = (uintptr_t)frame.prev_instr;
#endif
#if PY_VERSION_HEX >= 0x030C0000
    out->skip = frame.owner == FRAME_OWNED_BY_CSTACK;
#else
    out->skip = 0;
#endif
    /* Stored as an address; made relative once the code object's bytecode address is known. */
    out->instruction = (intptr_t)current;
#else
    PyFrameObject frame;
    if (read(&frame, address, sizeof frame) < 0)
        return -1;
    out->previous = (uintptr_t)frame.f_back;
    out->code = (uintptr_t)frame.f_code;
    out->skip = 0;
#if PY_VERSION_HEX >= 0x030A0000
    out->instruction = frame.f_lasti; /* already in code units */
#else
    out->instruction = frame.f_lasti >= 0 ? frame.f_lasti / 2 : -1; /* bytes */
#endif
#endif
    return 0;
}

/* Only the link to the caller's frame: the walk past a stack's room reads nothing else. */
static int read_previous(reader_fn read, uintptr_t address, uintptr_t *previous)
{
#if PY_VERSION_HEX >= 0x030B0000
    return read_pointer(read, address + offsetof(_PyInterpreterFrame, previous), previous);
#else
    return read_pointer(read, address + offsetof(PyFrameObject, f_back), previous);
#endif
}

static int read_code_header(reader_fn read, uintptr_t address, struct code_header *out)
{
    PyCodeObject code;
#if PY_VERSION_HEX >= 0x030B0000
    size_t length = offsetof(PyCodeObject, co_code_adaptive);
#else
    size_t length = sizeof code;
#endif
    if (read(&code, address, length) < 0 || (uintptr_t)Py_TYPE(&code) != (uintptr_t)&PyCode_Type ||
        !looks_alive((PyObject *)&code))
        return -1;
    out->filename = (uintptr_t)code.co_filename;
    out->first_line = code.co_firstlineno;
#if PY_VERSION_HEX >= 0x030B0000
    out->name = (uintptr_t)code.co_qualname;
    out->line_table = (uintptr_t)code.co_linetable;
    out->bytecode = address + offsetof(PyCodeObject, co_code_adaptive);
    out->code_units = Py_SIZE(&code);
    out->first_traceable = code._co_firsttraceable;
#else
    out->name = (uintptr_t)code.co_name;
#if PY_VERSION_HEX >= 0x030A0000
    out->line_table = (uintptr_t)code.co_linetable;
#else
    out->line_table = (uintptr_t)code.co_lnotab;
#endif
    PyBytesObject bytes;
    if (read(&bytes, (uintptr_t)code.co_code, offsetof(PyBytesObject, ob_sval)) < 0)
        return -1;
    out->bytecode = (uintptr_t)code.co_code + offsetof(PyBytesObject, ob_sval);
    out->code_units = Py_SIZE(&bytes) / 2;
    out->first_traceable = 0;
#endif
    return 0;
}

/* Turns the raw instruction of read_frame into an index, and says whether the frame has not yet
 * started its first traceable instruction (3.11+ "incomplete" frames, which have no line). */
static int normalize_instruction(struct raw_frame *frame, const struct code_header *code)
{
#if PY_VERSION_HEX >= 0x030B0000
    frame->instruction = ((intptr_t)frame->instruction - (intptr_t)code->bytecode) / 2;
    return frame->instruction < code->first_traceable;
#else
    (void)frame;
    (void)code;
    return 0;
#endif
}

uintptr_t frames_current_thread_state(void)
{
    return (uintptr_t)PyGILState_GetThisThreadState();
}

static uintptr_t thread_state_next(uintptr_t thread_state, unsigned long *native_id)
{
    PyThreadState copy;
    if (platform_read_memory(&copy, thread_state, sizeof copy) < 0)
        return 0;
#if PY_VERSION_HEX >= 0x030B0000
    *native_id = copy.native_thread_id;
#else
    /* 3.9 and 3.10 keep only the pthread_t; the kernel id sits inside glibc's descriptor. */
    pid_t tid = 0;
    if (pthread_tid_offset < 0 ||
        platform_read_memory(&tid, copy.thread_id + (uintptr_t)pthread_tid_offset, sizeof tid) < 0)
        tid = 0;
    *native_id = (unsigned long)tid;
#endif
    return (uintptr_t)copy.next;
}

uintptr_t frames_find_thread_state(pid_t tid)
{
    /* A thread state made for a new thread carries its creator's ids until the new thread runs,
     * so two states can claim the creator's id: answer only when exactly one does. */
    PyInterpreterState *interpreter = PyInterpreterState_Main();
    uintptr_t thread_state = (uintptr_t)PyInterpreterState_ThreadHead(interpreter);
    uintptr_t found = 0;
    for (int guard = 0; thread_state && guard < 100000; guard++) {
        unsigned long native_id = 0;
        uintptr_t next = thread_state_next(thread_state, &native_id);
        if (native_id == (unsigned long)tid) {
            if (found)
                return 0;
            found = thread_state;
        }
        thread_state = next;
    }
    return found;
}

int frames_init(const uint8_t call_opcodes[256])
{
    memcpy(call_opcode, call_opcodes, sizeof call_opcode);
#if PY_VERSION_HEX >= 0x030C0000
    struct _gil_runtime_state *gil = PyInterpreterState_Main()->ceval.gil;
#else
    struct _gil_runtime_state *gil = &_PyRuntime.ceval.gil;
#endif
    gil_start = (uintptr_t)gil;
    gil_end = gil_start + sizeof *gil;
#if PY_VERSION_HEX < 0x030B0000
    pthread_tid_offset = threads_pthread_tid_offset();
#endif
    return 0;
}

int frames_interpreter_code(uintptr_t *start, uintptr_t *end)
{
    return platform_code_segment_of((uintptr_t)&PyEval_EvalCode, start, end);
}

/* The interpreter's own work to run Python code: calling Python functions and classes (frames
 * pushed and popped, arguments laid out, methods looked up), creating, initializing and freeing
 * objects, attribute lookups, and garbage collection. Names absent from a version are simply not
 * found. (The list came from profiling a class-heavy loop with perf on 3.9-3.13: the functions
 * under its call instructions.) */
static const char *const machinery_names[] = {
    /* calls of Python-level callables */
    "type_call", "slot_tp_init", "slot_tp_new", "slot_tp_call", "object_new", "object_init", "_PyObject_MakeTpCall",
    "_PyObject_Call", "PyObject_Call", "_PyObject_Call_Prepend", "_PyObject_FastCallDictTstate",
    "PyObject_Vectorcall", "PyObject_VectorcallDict", "_PyObject_VectorcallTstate", "_PyFunction_Vectorcall",
    "method_vectorcall", "vectorcall_method", "vectorcall_unbound", "vectorcall_maybe", "call_unbound",
    "call_unbound_noarg", "call_method", "_PyEval_Vector", "_PyEvalFramePushAndInit", "_PyEvalFrameClearAndPop",
    "clear_thread_frame", "clear_gen_frame", "_PyEval_EvalFrameDefault", "_PyEval_EvalFrame", "initialize_locals",
    "_PyEval_MakeFrameVector", "_PyEval_EvalCode", "function_code_fastcall", "_PyThreadState_PushFrame",
    "_PyThreadState_PopFrame", "_PyThreadState_BumpFramePointerSlow", "push_chunk", "_PyFrame_New_NoTrack",
    "_PyFrame_New", "frame_alloc",
    /* lookups */
    "lookup_maybe_method", "lookup_method", "_PyType_Lookup", "_PyType_LookupRef", "find_name_in_mro",
    "PyObject_GetAttr", "PyObject_GenericGetAttr", "_PyObject_GenericGetAttrWithDict", "_PyObject_GetMethod",
    "slot_tp_getattr_hook", "slot_tp_getattro", "PyObject_SetAttr", "PyObject_GenericSetAttr",
    "_PyObject_GenericSetAttrWithDict", "_PyObject_StoreInstanceAttribute", "store_instance_attr_lock_held",
    /* objects made and freed */
    "PyType_GenericAlloc", "_PyType_AllocNoTrack", "PyType_GenericNew", "_PyObject_New", "_PyObject_NewVar",
    "PyObject_Init", "_PyObject_InitializeDict", "_PyObject_InitInlineValues", "init_inline_values",
    "_PyObject_MakeDictFromInstanceAttributes", "make_dict_from_instance_attributes", "_Py_Dealloc",
    "_Py_NewReference", "_PyObject_GC_Link", "gc_alloc", "_PyObject_GC_New", "_PyObject_GC_NewVar",
    "PyObject_GC_Del", "PyObject_GC_UnTrack", "PyObject_GC_Track", "_PyObject_Malloc", "_PyObject_Free",
    "_PyObject_Realloc", "_PyObject_Calloc", "PyObject_Malloc", "PyObject_Free", "PyObject_Realloc",
    "PyObject_Calloc", "allocate_from_new_pool", "insert_to_usedpool", "insert_to_freepool", "new_arena",
    "_PyObject_ArenaMmap", "_PyObject_ArenaMunmap", "PyObject_ClearWeakRefs", "clear_slots",
    "_PyObject_ClearManagedDict", "_PyObject_FreeInstanceAttributes", "free_keys_object",
    /* garbage collection */
    "collect", "subtract_refs", "update_refs", "move_unreachable", "delete_garbage", "finalize_garbage",
    "handle_weakrefs", "move_legacy_finalizers", "_PyObject_GC_Malloc",
    /* arguments and results of calls */
    "_Py_CheckFunctionResult", "_PyTuple_FromArray", "tuple_alloc", "PyVectorcall_Function", "PyThreadState_Get",
    "_PyStack_AsDict", "_PyStack_UnpackDict", "_PyStack_UnpackDict_Free", "_PyEval_FrameClearAndPop",
    "_PyObject_SetManagedDict", "PyObject_ClearManagedDict", "_PyType_NewManagedObject",
};
/* (.plt: the stubs through which the interpreter's functions call each other's exported ones) */
static const char *const machinery_prefixes[] = {"pymalloc_", "gc_", "_PyGC_", "visit_", "_PyFrame_", "_PyTrash_", ".plt"};
static const char *const machinery_suffixes[] = {"dealloc", "Dealloc", "_traverse"};

static int is_machinery(const char *name)
{
    size_t length = strlen(name);
    for (size_t i = 0; i < sizeof machinery_names / sizeof *machinery_names; i++)
        if (strcmp(name, machinery_names[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof machinery_prefixes / sizeof *machinery_prefixes; i++)
        if (strncmp(name, machinery_prefixes[i], strlen(machinery_prefixes[i])) == 0)
            return 1;
    for (size_t i = 0; i < sizeof machinery_suffixes / sizeof *machinery_suffixes; i++) {
        size_t suffix = strlen(machinery_suffixes[i]);
        if (length > suffix && strcmp(name + length - suffix, machinery_suffixes[i]) == 0)
            return 1;
    }
    return 0;
}

long frames_interpreter_machinery(struct code_range *out, size_t capacity)
{
    return platform_functions_of((uintptr_t)&PyEval_EvalCode, is_machinery, out, capacity);
}

int frames_address_in_gil(uintptr_t address)
{
    return address >= gil_start && address < gil_end;
}

/* ---- walking ---------------------------------------------------------------------------- */

static int opcode_calls(reader_fn read, const struct code_header *code, intptr_t instruction)
{
    uint8_t opcode;
    if (instruction < 0 || instruction >= code->code_units ||
        read(&opcode, code->bytecode + (uintptr_t)instruction * 2, 1) < 0)
        return 0;
    return call_opcode[opcode];
}

/* The frame at `address` as a ref: 1, or 0 for a frame that runs no code of the program's
 * (C-stack entry frames, frames not started yet), or -1 when it cannot be read. */
static int read_ref(reader_fn read, uintptr_t address, uintptr_t *previous, struct frame_ref *ref,
                    struct code_header *code)
{
    struct raw_frame frame;
    if (read_frame(read, address, &frame) < 0)
        return -1;
    *previous = frame.previous;
    if (frame.skip)
        return 0;
    /* Every frame of the chain runs a code object: anything else means the chain was read
     * mid-update (see SAFELY_READ_FRAMES), and following it further would load garbage. */
    if (!frame.code || read_code_header(read, frame.code, code) < 0)
        return -1;
    if (normalize_instruction(&frame, code))
        return 0;
    *ref = (struct frame_ref){frame.code, code->filename, code->first_line,
                              (int32_t)(frame.instruction < 0 ? 0 : frame.instruction)};
    return 1;
}

/* A stack deeper than the refs' room: the refs past the inner part, then the frames at the
 * `beyond` addresses seen after the room was full (the last FRAMES_OUTER_REFS kept in `outer`),
 * give the outermost frames. */
static void cut_middle(reader_fn read, struct frames_stack *out, const uintptr_t *outer, size_t beyond)
{
    struct frame_ref tail[FRAMES_MAX_REFS - FRAMES_INNER_REFS + FRAMES_OUTER_REFS];
    size_t count = 0;
    for (size_t i = FRAMES_INNER_REFS; i < out->count; i++)
        tail[count++] = out->refs[i];
    size_t kept = beyond < FRAMES_OUTER_REFS ? beyond : FRAMES_OUTER_REFS;
    for (size_t i = beyond - kept; i < beyond; i++) {
        uintptr_t previous;
        struct code_header code;
        if (read_ref(read, outer[i % FRAMES_OUTER_REFS], &previous, &tail[count], &code) == 1)
            count++;
    }
    size_t keep = count < FRAMES_OUTER_REFS ? count : FRAMES_OUTER_REFS;
    memcpy(&out->refs[FRAMES_INNER_REFS], &tail[count - keep], keep * sizeof *tail);
    out->count = (uint8_t)(FRAMES_INNER_REFS + keep);
    out->cut = 1;
}

static int walk(reader_fn settled_read, uintptr_t thread_state, struct frames_stack *out)
{
    frames_stack_clear(out);
    uintptr_t address;
    if (!thread_state || read_top_frame(platform_read_memory, thread_state, &address) < 0)
        return -1;
    uintptr_t outer[FRAMES_OUTER_REFS];
    size_t beyond = 0;
    for (int depth = 0; address && depth < MAX_WALK_DEPTH; depth++) {
        reader_fn read = depth < SAFELY_READ_FRAMES ? platform_read_memory : settled_read;
        if (out->count == FRAMES_MAX_REFS) {
            /* Past the room only the chain is followed (one load a frame): which frames are the
             * outermost is known at its end, and only those are read then. */
            outer[beyond++ % FRAMES_OUTER_REFS] = address;
            if (read_previous(read, address, &address) < 0)
                return -1;
            continue;
        }
        struct frame_ref ref;
        struct code_header code;
        int found = read_ref(read, address, &address, &ref, &code);
        if (found < 0)
            return -1;
        if (!found)
            continue;
        if (!out->count)
            out->state = opcode_calls(read, &code, ref.instruction) ? SAMPLE_NATIVE : SAMPLE_PYTHON;
        out->refs[out->count++] = ref;
    }
    if (beyond)
        cut_middle(settled_read, out, outer, beyond);
    return 0;
}

void frames_walk_own(uintptr_t thread_state, struct frames_stack *out)
{
    walk(read_own, thread_state, out);
}

uintptr_t frames_capture_own(struct frames_stack *out)
{
    uintptr_t thread_state = frames_current_thread_state();
    if (thread_state)
        frames_walk_own(thread_state, out);
    else
        frames_stack_clear(out);
    return thread_state;
}

int frames_walk_remote(uintptr_t thread_state, struct frames_stack *out)
{
    return walk(platform_read_memory, thread_state, out);
}

/* ---- suspended generators and coroutines ------------------------------------------------- */

int frames_generator_ref(struct _object *generator, struct frame_ref *out)
{
    if (!PyGen_Check(generator) && !PyCoro_CheckExact(generator) && !PyAsyncGen_CheckExact(generator))
        return 0;
    PyGenObject *gen = (PyGenObject *)generator;
#if PY_VERSION_HEX >= 0x030B0000
    /* Created (never started) is below suspended; running and finished are at or above 0. */
    if (gen->gi_frame_state <= FRAME_CREATED || gen->gi_frame_state >= FRAME_EXECUTING)
        return 0;
    uintptr_t address = (uintptr_t)&gen->gi_iframe;
#else
    if (!gen->gi_frame || gen->gi_frame->f_lasti < 0)
        return 0;
    uintptr_t address = (uintptr_t)gen->gi_frame;
#endif
    uintptr_t previous;
    struct code_header code;
    return read_ref(read_own, address, &previous, out, &code) == 1;
}

/* ---- copying a code object ---------------------------------------------------------------- */

static size_t put_utf8(char *out, uint32_t c)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Copies a str into a new UTF-8 string; compact strings (every str made since 3.3 unless an
 * extension built it the legacy way) keep their characters right after the header. */
static char *copy_string(uintptr_t address)
{
    PyUnicodeObject header;
    if (platform_read_memory(&header, address, sizeof header) < 0)
        return NULL;
    PyASCIIObject *ascii = &header._base._base;
    if ((uintptr_t)Py_TYPE(ascii) != (uintptr_t)&PyUnicode_Type || !looks_alive((PyObject *)ascii))
        return NULL;
    size_t length = (size_t)ascii->length;
    if (length > MAX_STRING_BYTES)
        length = MAX_STRING_BYTES;
    unsigned kind = ascii->state.kind;
    if (kind != 1 && kind != 2 && kind != 4)
        return NULL;
    uintptr_t data;
    if (ascii->state.compact)
        data = address + (ascii->state.ascii ? sizeof(PyASCIIObject) : sizeof(PyCompactUnicodeObject));
    else
        data = (uintptr_t)header.data.any;
    uint8_t *raw = malloc(length * kind + 1);
    char *text = malloc(length * 4 + 1);
    if (!raw || !text || platform_read_memory(raw, data, length * kind) < 0) {
        free(raw);
        free(text);
        return NULL;
    }
    size_t used = 0;
    for (size_t i = 0; i < length; i++) {
        uint32_t c;
        if (kind == 1) {
            c = raw[i];
        } else if (kind == 2) {
            uint16_t unit;
            memcpy(&unit, raw + 2 * i, sizeof unit);
            c = unit;
        } else {
            memcpy(&c, raw + 4 * i, sizeof c);
        }
        used += put_utf8(text + used, c);
    }
    text[used] = '\0';
    free(raw);
    return text;
}

static uint8_t *copy_bytes(uintptr_t address, size_t *length)
{
    PyBytesObject header;
    if (platform_read_memory(&header, address, offsetof(PyBytesObject, ob_sval)) < 0 ||
        (uintptr_t)Py_TYPE(&header) != (uintptr_t)&PyBytes_Type || !looks_alive((PyObject *)&header))
        return NULL;
    size_t size = (size_t)Py_SIZE(&header);
    if (size > MAX_TABLE_BYTES)
        return NULL;
    uint8_t *data = malloc(size + 1);
    if (!data || platform_read_memory(data, address + offsetof(PyBytesObject, ob_sval), size) < 0) {
        free(data);
        return NULL;
    }
    *length = size;
    return data;
}

int frames_copy_code(uintptr_t address, struct code_copy *out)
{
    memset(out, 0, sizeof *out);
    struct code_header code;
    if (read_code_header(platform_read_memory, address, &code) < 0)
        return -1;
    out->first_line = code.first_line;
    out->code_units = (size_t)code.code_units;
#if PY_VERSION_HEX >= 0x030B0000
    out->format = LINETABLE_LOCATIONS;
#elif PY_VERSION_HEX >= 0x030A0000
    out->format = LINETABLE_310;
#else
    out->format = LINETABLE_LNOTAB;
#endif
    out->filename = copy_string(code.filename);
    out->name = copy_string(code.name);
    out->table = copy_bytes(code.line_table, &out->table_len);
    if (!out->filename || !out->name || !out->table) {
        frames_free_code_copy(out);
        return -1;
    }
    return 0;
}

void frames_free_code_copy(struct code_copy *copy)
{
    free(copy->filename);
    free(copy->name);
    free(copy->table);
    memset(copy, 0, sizeof *copy);
}
