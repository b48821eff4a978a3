/* alloc_native: see alloc_native.h. */
#define _GNU_SOURCE
#include "alloc_native.h"

#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memsample.h"

/* Fortified copies, declared by no public header. */
void *__memcpy_chk(void *destination, const void *source, size_t size, size_t destination_size);
void *__memmove_chk(void *destination, const void *source, size_t size, size_t destination_size);

static pthread_mutex_t patch_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int patching;      /* a session's hooks are in place */
static atomic_int inherited_patches; /* a forked child whose parent was patching */
static size_t patch_failures;        /* under patch_lock */

/* ---- allocations ---- */

static void *hook_malloc(size_t size)
{
    void *block = malloc(size);
    memsample_on_alloc(block, size, MEMORY_NATIVE);
    return block;
}

static void *hook_calloc(size_t count, size_t size)
{
    void *block = calloc(count, size);
    memsample_on_alloc(block, count * size, MEMORY_NATIVE);
    return block;
}

static void *hook_realloc(void *old, size_t size)
{
    memsample_on_free(old);
    void *block = realloc(old, size);
    memsample_on_alloc(block, size, MEMORY_NATIVE);
    return block;
}

static void *hook_reallocarray(void *old, size_t count, size_t size)
{
    memsample_on_free(old);
    void *block = reallocarray(old, count, size);
    memsample_on_alloc(block, count * size, MEMORY_NATIVE);
    return block;
}

static void hook_free(void *block)
{
    memsample_on_free(block);
    free(block);
}

static int hook_posix_memalign(void **out, size_t alignment, size_t size)
{
    int result = posix_memalign(out, alignment, size);
    if (result == 0)
        memsample_on_alloc(*out, size, MEMORY_NATIVE);
    return result;
}

static void *hook_aligned_alloc(size_t alignment, size_t size)
{
    void *block = aligned_alloc(alignment, size);
    memsample_on_alloc(block, size, MEMORY_NATIVE);
    return block;
}

static void *hook_memalign(size_t alignment, size_t size)
{
    void *block = memalign(alignment, size);
    memsample_on_alloc(block, size, MEMORY_NATIVE);
    return block;
}

static void *hook_valloc(size_t size)
{
    void *block = valloc(size);
    memsample_on_alloc(block, size, MEMORY_NATIVE);
    return block;
}

static void *hook_pvalloc(size_t size)
{
    void *block = pvalloc(size);
    memsample_on_alloc(block, size, MEMORY_NATIVE);
    return block;
}

/* ---- copies ---- */

static void *hook_memcpy(void *destination, const void *source, size_t size)
{
    memsample_on_copy(size);
    return memcpy(destination, source, size);
}

static void *hook_memmove(void *destination, const void *source, size_t size)
{
    memsample_on_copy(size);
    return memmove(destination, source, size);
}

static void *hook_mempcpy(void *destination, const void *source, size_t size)
{
    memsample_on_copy(size);
    return mempcpy(destination, source, size);
}

static void *hook_memcpy_chk(void *destination, const void *source, size_t size, size_t destination_size)
{
    memsample_on_copy(size);
    return __memcpy_chk(destination, source, size, destination_size);
}

static void *hook_memmove_chk(void *destination, const void *source, size_t size, size_t destination_size)
{
    memsample_on_copy(size);
    return __memmove_chk(destination, source, size, destination_size);
}

/* ---- the loader ---- */

/* Objects loaded since the last look are patched before the lookup, which then runs as if called
 * by our caller: the call must stay a tail call (a jump), or dlsym(RTLD_NEXT, ...) would search
 * from this module. The build checks it (tests/test_memory_hooks.py). */
static void patch_new_objects(void);

__attribute__((optimize("O2", "optimize-sibling-calls"))) static void *hook_dlsym(void *handle, const char *symbol)
{
    if (atomic_load_explicit(&patching, memory_order_relaxed) && native_objects_changed())
        patch_new_objects();
    return dlsym(handle, symbol);
}

#define HOOK(name) {#name, (void *)hook_##name, (void *)name}
static const struct native_hook native_hooks[] = {
    HOOK(malloc),
    HOOK(calloc),
    HOOK(realloc),
    HOOK(reallocarray),
    HOOK(free),
    HOOK(posix_memalign),
    HOOK(aligned_alloc),
    HOOK(memalign),
    HOOK(valloc),
    HOOK(pvalloc),
    HOOK(memcpy),
    HOOK(memmove),
    HOOK(mempcpy),
    {"__memcpy_chk", (void *)hook_memcpy_chk, (void *)__memcpy_chk},
    {"__memmove_chk", (void *)hook_memmove_chk, (void *)__memmove_chk},
    HOOK(dlsym),
};
static const size_t native_hook_count = sizeof native_hooks / sizeof native_hooks[0];

/* ---- patching ---- */

void alloc_native_before_fork(void)
{
    pthread_mutex_lock(&patch_lock);
}

void alloc_native_after_fork_parent(void)
{
    pthread_mutex_unlock(&patch_lock);
}

/* The child keeps the patched slots (valid: they point here) with the hooks turned off, and
 * never walks the loaded objects here: another parent thread may have held the loader's lock. */
void alloc_native_after_fork_child(void)
{
    if (atomic_load(&patching))
        atomic_store(&inherited_patches, 1);
    pthread_mutex_init(&patch_lock, NULL);
}

void alloc_native_start(void)
{
    pthread_mutex_lock(&patch_lock);
    /* A forked child of a patching parent has every slot patched already: it need not (and
     * should not, see after_fork_child) walk again. */
    if (!atomic_exchange(&inherited_patches, 0))
        native_walk_objects(native_hooks, native_hook_count, NATIVE_PATCH_ALL, &patch_failures);
    atomic_store(&patching, 1);
    pthread_mutex_unlock(&patch_lock);
}

void alloc_native_stop(void)
{
    pthread_mutex_lock(&patch_lock);
    atomic_store(&patching, 0);
    native_walk_objects(native_hooks, native_hook_count, NATIVE_RESTORE, &patch_failures);
    pthread_mutex_unlock(&patch_lock);
}

/* Only the dlsym hook patches new objects: there, the objects of the handle being searched are
 * loaded and relocated. (A walk from another thread could meet an object still being relocated
 * by dlopen, whose slots the loader then overwrites.) */
static void patch_new_objects(void)
{
    pthread_mutex_lock(&patch_lock);
    if (atomic_load(&patching))
        native_walk_objects(native_hooks, native_hook_count, NATIVE_PATCH_NEW, &patch_failures);
    pthread_mutex_unlock(&patch_lock);
}

size_t alloc_native_patched_slots(void)
{
    pthread_mutex_lock(&patch_lock);
    size_t count = native_walk_objects(native_hooks, native_hook_count, NATIVE_COUNT, &patch_failures);
    pthread_mutex_unlock(&patch_lock);
    return count;
}

size_t alloc_native_patch_failures(void)
{
    pthread_mutex_lock(&patch_lock);
    size_t count = patch_failures;
    pthread_mutex_unlock(&patch_lock);
    return count;
}
