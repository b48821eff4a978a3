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
 * Talks to: memsample (every hook), the platform's patcher (alloc_native_linux.c), session. */
#ifndef HEATLINE_ALLOC_NATIVE_H
#define HEATLINE_ALLOC_NATIVE_H

#include <stddef.h>

struct native_hook {
    const char *name;
    void *hook;
    void *original; /* the real function, as this module's own relocation resolved it */
};

/* Patches every loaded object. */
void alloc_native_start(void);
/* Puts every slot that still holds a hook back to the real function. */
void alloc_native_stop(void);
/* How many relocation slots hold a hook now (a test's and a reader's check). */
size_t alloc_native_patched_slots(void);
/* Slots that could not be written (mprotect refused), since the process started. */
size_t alloc_native_patch_failures(void);

/* Fork steps, called by session's one fork handler: the patch lock is held across the fork. */
void alloc_native_before_fork(void);
void alloc_native_after_fork_parent(void);
void alloc_native_after_fork_child(void);

/* ---- the platform's patcher (alloc_native_linux.c), called with the patch lock held ---- */

enum native_walk {
    NATIVE_PATCH_ALL,  /* every loaded object */
    NATIVE_PATCH_NEW,  /* objects loaded since the last patching walk */
    NATIVE_RESTORE,    /* hooks back to the real functions */
    NATIVE_COUNT,      /* only count the slots holding a hook */
};
/* Returns the number of slots written (counted, for NATIVE_COUNT); slots that could not be
 * written are added to `*failed`. */
size_t native_walk_objects(const struct native_hook *hooks, size_t count, enum native_walk what, size_t *failed);
/* Whether objects were loaded or unloaded since the last patching walk. */
int native_objects_changed(void);

#endif
