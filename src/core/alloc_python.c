/* alloc_python: see alloc_python.h. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "alloc_python.h"
#include "memsample.h"

struct domain {
    PyMemAllocatorDomain domain;
    enum memory_kind kind; /* what the domain's blocks are for */
    PyMemAllocatorEx original;
    int installed; /* our wrapper is somewhere in the domain's chain */
};

/* RAW is native: what reaches it directly is an extension's buffer (NumPy 2.5's array data) or
 * the interpreter's own state, never an object. pymalloc's big blocks also end up in RAW, but
 * from inside an OBJ or MEM call, whose wrapper has already counted them as Python: the nested
 * RAW call finds the thread busy and passes uncounted. */
static struct domain domains[] = {
    {PYMEM_DOMAIN_RAW, MEMORY_NATIVE, {0}, 0},
    {PYMEM_DOMAIN_MEM, MEMORY_PYTHON, {0}, 0},
    {PYMEM_DOMAIN_OBJ, MEMORY_PYTHON, {0}, 0},
};
#define DOMAIN_COUNT (sizeof domains / sizeof domains[0])

static void *domain_malloc(void *context, size_t size)
{
    struct domain *d = context;
    memsample_guard_enter();
    void *block = d->original.malloc(d->original.ctx, size);
    memsample_guard_leave();
    memsample_on_alloc(block, size, d->kind);
    return block;
}

static void *domain_calloc(void *context, size_t count, size_t size)
{
    struct domain *d = context;
    memsample_guard_enter();
    void *block = d->original.calloc(d->original.ctx, count, size);
    memsample_guard_leave();
    memsample_on_alloc(block, count * size, d->kind);
    return block;
}

static void *domain_realloc(void *context, void *old, size_t size)
{
    struct domain *d = context;
    memsample_on_free(old);
    memsample_guard_enter();
    void *block = d->original.realloc(d->original.ctx, old, size);
    memsample_guard_leave();
    memsample_on_alloc(block, size, d->kind);
    return block;
}

/* No guard around the forwarded free: a free nested in it (pymalloc handing a large block to
 * RAW, RAW to the C library) finds the block already gone from the sampled set, which is all a
 * free ever does. */
static void domain_free(void *context, void *block)
{
    struct domain *d = context;
    memsample_on_free(block);
    d->original.free(d->original.ctx, block);
}

static int is_ours(const PyMemAllocatorEx *allocator, const struct domain *d)
{
    return allocator->malloc == domain_malloc && allocator->ctx == d;
}

void alloc_python_start(void)
{
    for (size_t i = 0; i < DOMAIN_COUNT; i++) {
        struct domain *d = &domains[i];
        if (d->installed)
            continue; /* still in the chain from an earlier session, under someone's wrapper */
        PyMem_GetAllocator(d->domain, &d->original);
        PyMemAllocatorEx wrapper = {d, domain_malloc, domain_calloc, domain_realloc, domain_free};
        PyMem_SetAllocator(d->domain, &wrapper);
        d->installed = 1;
    }
}

void alloc_python_stop(void)
{
    for (size_t i = 0; i < DOMAIN_COUNT; i++) {
        struct domain *d = &domains[i];
        PyMemAllocatorEx current;
        PyMem_GetAllocator(d->domain, &current);
        if (d->installed && is_ours(&current, d)) {
            PyMem_SetAllocator(d->domain, &d->original);
            d->installed = 0;
        }
    }
}
