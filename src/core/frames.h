/* frames: reading CPython frames and code objects, 3.9-3.13.
 *
 * Owns: where a thread's top frame is, a frame's (code, instruction, is-in-call), which frames
 * to skip, where a deep stack is cut, copying what a code object holds (file, name, line table) and where the GIL lives.
 * It is the ONLY place with `#if PY_VERSION_HEX`.
 * Never: reads another thread's frames with plain loads. A thread reads its own frames (from its
 * signal handler) with plain loads; the helper reads other threads' frames with
 * process_vm_readv, where a stale pointer gives EFAULT instead of SIGSEGV.
 * Talks to: sampler and memsample (frames_capture_own), offcpu and places (remote walks, code
 * copies). */
#ifndef HEATLINE_FRAMES_H
#define HEATLINE_FRAMES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "frames_linetable.h"

/* A frame as the helper needs it. (code, filename, first_line) identify the code object: a
 * freed code object's address can be reused, and a lookup by address alone would then answer
 * for the wrong function. */
struct frame_ref {
    uintptr_t code;
    uintptr_t filename;
    int32_t first_line;
    int32_t instruction; /* index of the current instruction, in 2-byte code units */
};

enum code_class { CODE_UNKNOWN = 0, CODE_PROGRAM = 1, CODE_LIBRARY = 2 };

enum sample_state { SAMPLE_NO_PYTHON = 0, SAMPLE_PYTHON = 1, SAMPLE_NATIVE = 2 };

/* The most frames a captured stack keeps. A deeper stack keeps its FRAMES_INNER_REFS innermost
 * and its FRAMES_OUTER_REFS outermost frames, and says it was cut between them: what a reader
 * wants of a deep recursion is where it started and where it is now. */
#define FRAMES_MAX_REFS 128
#define FRAMES_OUTER_REFS 32
#define FRAMES_INNER_REFS (FRAMES_MAX_REFS - FRAMES_OUTER_REFS - 1)

/* The frames of one sample, innermost first: every frame of Python code, the program's and the
 * libraries'. With `cut`, frames are missing between refs[FRAMES_INNER_REFS - 1] and
 * refs[FRAMES_INNER_REFS]. */
struct frames_stack {
    uint8_t state; /* enum sample_state, from the innermost frame */
    uint8_t count;
    uint8_t cut;
    struct frame_ref refs[FRAMES_MAX_REFS];
};

/* What the helper copies out of a program's code object when it first sees it. */
struct code_copy {
    char *filename;
    char *name; /* co_qualname on 3.11+, co_name before */
    int first_line;
    enum linetable_format format;
    uint8_t *table;
    size_t table_len;
    size_t code_units;
};

/* Once per start, with the GIL held: `call_opcodes[op]` is 1 for every opcode that calls. */
int frames_init(const uint8_t call_opcodes[256]);

/* The calling thread's PyThreadState, or 0; async-signal-safe, valid while the GIL is released. */
uintptr_t frames_current_thread_state(void);

/* The calling thread's own frames, with plain loads: only from that thread (its signal handler). */
void frames_walk_own(uintptr_t thread_state, struct frames_stack *out);

/* The calling thread's own stack, captured the one way the CPU sampler's handler and the memory
 * hooks both use: returns its PyThreadState, or 0 for a thread with no Python (then `out` is
 * empty, state SAMPLE_NO_PYTHON). Async-signal-safe. */
uintptr_t frames_capture_own(struct frames_stack *out);

/* An empty stack of a thread with no Python. */
static inline void frames_stack_clear(struct frames_stack *stack)
{
    stack->state = SAMPLE_NO_PYTHON;
    stack->count = 0;
    stack->cut = 0;
}

/* Another thread's frames, through process_vm_readv. Returns 0, or -1 if a read failed. */
int frames_walk_remote(uintptr_t thread_state, struct frames_stack *out);

/* The PyThreadState of the main interpreter whose thread has kernel id `tid`, or 0 when none or
 * several claim it (a new thread's state names its creator until the thread starts). */
uintptr_t frames_find_thread_state(pid_t tid);

/* The frame of a suspended generator, coroutine or async generator `generator` (a PyObject):
 * returns 1 with `out` set, or 0 when it is none of these, not started, running or finished.
 * Called with the GIL held, by the thread that holds it. */
struct _object;
int frames_generator_ref(struct _object *generator, struct frame_ref *out);

/* Copies a code object's file, name and line table (process_vm_readv). Returns 0 or -1. */
int frames_copy_code(uintptr_t code, struct code_copy *out);
void frames_free_code_copy(struct code_copy *copy);

/* The interpreter's machine code (libpython, or the python executable when it is linked in):
 * code running elsewhere is native, whatever the current bytecode. Returns 0 or -1. */
int frames_interpreter_code(uintptr_t *start, uintptr_t *end);

/* The functions of the interpreter's machine code that do its own work to run Python code (calling
 * Python functions and classes, making and freeing objects, attribute lookups, garbage
 * collection), from its symbol table: time there is Python time even under a call instruction;
 * time in the interpreter's other functions under a call instruction is a builtin's (sorted,
 * str.join): native. Returns how many ranges (at most `capacity`), or -1 when the symbols could
 * not be read. Reads the file: at start only. */
struct code_range;
long frames_interpreter_machinery(struct code_range *out, size_t capacity);

/* Whether `address` lies inside the interpreter's GIL state (futex waits there are GIL waits). */
int frames_address_in_gil(uintptr_t address);

#endif
