/* alloc_native: native allocations and copies, seen by patching the relocation slots through
 * which every loaded object calls the C library.
 *
 * Owns: the hooks (malloc, calloc, realloc, reallocarray, free, posix_memalign, aligned_alloc,
 * memalign, valloc, pvalloc; memcpy, memmove, mempcpy, __memcpy_chk, __memmove_chk) and the one
 * table of them, used both to patch and to restore; the dlsym hook that patches objects loaded
 * since the last look before any lookup in them (CPython finds PyInit_* with dlsym, so an
 * extension is patched before its init runs). Each hook calls the real function through this
 * module's own relocations, which are never patched.
 * Never: calls anything that can allocate or lock before the byte sampler's guard; unloads (slots
 * point here); walks the loaded objects from a fork handler (the loader's lock may be held).
 * Talks to: bytesampler (every hook), the platform's patcher (alloc_native_linux.c), helper. */
#ifndef HEATLINE_ALLOC_NATIVE_H
#define HEATLINE_ALLOC_NATIVE_H

#include <stddef.h>

struct native_hook {
    const char *name;
    void *hook;
    void *original; /* the real function, as this module's own relocation resolved it */
};

extern const struct native_hook native_hooks[];
extern const size_t native_hook_count;

/* Patches every loaded object. Returns 0. */
int alloc_native_start(void);
/* Puts every slot that still holds a hook back to the real function. */
void alloc_native_stop(void);
/* Patches the objects loaded since the last look. Only the dlsym hook calls it: there, the
 * objects of the handle being searched are loaded and relocated. (A walk from another thread
 * could meet an object still being relocated by dlopen, whose slots the loader then overwrites.) */
void alloc_native_patch_new_objects(void);
/* How many relocation slots hold a hook now (a test's and a reader's check). */
size_t alloc_native_patched_slots(void);

/* The platform's patcher (alloc_native_linux.c). `restore`: hooks back to originals.
 * `only_new`: skip objects already seen. Returns the number of slots written. */
size_t native_patch_objects(const struct native_hook *hooks, size_t count, int restore, int only_new);
/* Whether objects were loaded or unloaded since the last patch_objects. */
int native_objects_changed(void);
size_t native_count_patched(const struct native_hook *hooks, size_t count);

#endif
