/* platform: what differs between operating systems and processors, behind one header.
 *
 * Owns: reading our own memory without faulting, the instruction address a signal interrupted,
 * the executable segment holding an address, the spin-wait hint, and the relocation types that
 * reach the C library through a slot (the processor's ELF ABI). Linux: platform_linux.c; each
 * processor's constants are in the section for it below.
 * Never: knows about Python or about heatline's parts.
 * Talks to: frames (memory reads), sampler (interrupted address), session (code segments),
 * memsample (spin hint), alloc_native_linux (relocation types). */
#ifndef HEATLINE_PLATFORM_H
#define HEATLINE_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* A range of addresses, [start, end). */
struct code_range {
    uintptr_t start;
    uintptr_t end;
};

/* Copies len bytes from our own address `src`; a bad address gives -1, never a fault. */
int platform_read_memory(void *dst, uintptr_t src, size_t len);
/* Whether platform_read_memory works here (seccomp may forbid process_vm_readv). */
int platform_read_memory_works(void);

/* The instruction address a signal interrupted, from the handler's context argument; 0 if this
 * platform's context is not known. Async-signal-safe. */
uintptr_t platform_interrupted_address(const void *signal_context);

/* The executable segment of the loaded object (library or program) that contains `address`.
 * Returns 0, or -1 if no loaded object has it. */
int platform_code_segment_of(uintptr_t address, uintptr_t *start, uintptr_t *end);

/* The functions of the loaded object that contains `address` whose names `wanted` accepts, from
 * its symbol table (the file's .symtab, or its .dynsym when stripped): their address ranges in
 * `out` (at most `capacity`, in the file's order). Returns how many, or -1 when the object
 * or its symbols could not be read. Reads the file: call it at start only. */
long platform_functions_of(uintptr_t address, int (*wanted)(const char *name), struct code_range *out,
                           size_t capacity);

/* The dynamic loader's code: where __tls_get_addr runs when a shared library reads its
 * thread-local variables (a shared libpython reads its thread state so, while running bytecode).
 * Returns 0, or -1 if it was not found. */
int platform_loader_code(uintptr_t *start, uintptr_t *end);

#if defined(__x86_64__)
#define PLATFORM_RELOCATION_JUMP_SLOT 7 /* R_X86_64_JUMP_SLOT */
#define PLATFORM_RELOCATION_GLOB_DAT 6  /* R_X86_64_GLOB_DAT */
#define PLATFORM_RELOCATION_ABSOLUTE 1  /* R_X86_64_64: patched only with a zero addend */
static inline void platform_spin_pause(void)
{
    __builtin_ia32_pause();
}
#elif defined(__aarch64__)
#define PLATFORM_RELOCATION_JUMP_SLOT 1026 /* R_AARCH64_JUMP_SLOT */
#define PLATFORM_RELOCATION_GLOB_DAT 1025  /* R_AARCH64_GLOB_DAT */
#define PLATFORM_RELOCATION_ABSOLUTE 257   /* R_AARCH64_ABS64 */
static inline void platform_spin_pause(void)
{
    __asm__ __volatile__("yield");
}
#else
#error "heatline supports x86-64 (and has aarch64 constants); add this processor's section"
#endif

#endif
