/* alloc_native_linux: the ELF side of alloc_native (Linux): walks the loaded objects with
 * dl_iterate_phdr and rewrites their JUMP_SLOT, GLOB_DAT and zero-addend absolute 64-bit slots
 * (the processor's relocation types come from platform.h) that name a hooked function.
 *
 * A slot is patched only if it holds the real function (as this module's own relocation resolved
 * it) or, for a symbol the object does not define, its own lazy-binding stub: a library with a
 * private allocator, or an old symbol version, keeps its own. A slot is restored only if it still
 * holds the hook. Slots in RELRO pages are written between two mprotect calls that open and close
 * exactly the pages the loader protected. Skipped: the dynamic loader (it allocates through
 * private pointers), the vDSO, and this module (its slots are how hooks reach the real
 * functions). Called with alloc_native's patch lock held. */
#define _GNU_SOURCE
#include "alloc_native.h"
#include "platform.h"

#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

struct walk {
    const struct native_hook *hooks;
    size_t count;
    enum native_walk what;
    size_t written;
    size_t failed;
};

struct object {
    uintptr_t base;
    uintptr_t low, high;             /* its loaded segments */
    uintptr_t relro_start, relro_end; /* pages the loader made read-only */
    const ElfW(Sym) *symbols;
    const char *strings;
};

static unsigned long long last_adds, last_subs;
static uintptr_t *seen;
static size_t seen_count, seen_capacity;

static int read_counts(struct dl_phdr_info *info, size_t size, void *data)
{
    unsigned long long *counts = data;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        counts[0] = info->dlpi_adds;
        counts[1] = info->dlpi_subs;
    }
    return 1; /* the counts are the same in every entry: one is enough */
}

int native_objects_changed(void)
{
    unsigned long long counts[2] = {0, 0};
    dl_iterate_phdr(read_counts, counts);
    return counts[0] != __atomic_load_n(&last_adds, __ATOMIC_RELAXED) ||
           counts[1] != __atomic_load_n(&last_subs, __ATOMIC_RELAXED);
}

/* Whether the object at `base` was seen by an earlier walk; remembers it. */
static int already_seen(uintptr_t base)
{
    for (size_t i = 0; i < seen_count; i++)
        if (seen[i] == base)
            return 1;
    if (seen_count == seen_capacity) {
        size_t capacity = seen_capacity ? seen_capacity * 2 : 64;
        uintptr_t *grown = realloc(seen, capacity * sizeof *grown);
        if (!grown)
            return 0;
        seen = grown;
        seen_capacity = capacity;
    }
    seen[seen_count++] = base;
    return 0;
}

static uintptr_t dynamic_pointer(const struct object *object, ElfW(Addr) value)
{
    /* The loader relocates most dynamic entries in place, but not all (the vDSO's, some
     * objects'): a value below the load base is still relative. */
    return value < object->base ? object->base + value : value;
}

static int is_skipped(const struct dl_phdr_info *info, const struct object *object)
{
    unsigned long loader = getauxval(AT_BASE), vdso = getauxval(AT_SYSINFO_EHDR);
    if ((loader && info->dlpi_addr == loader) || (vdso && info->dlpi_addr == vdso))
        return 1;
    if (info->dlpi_name && strncmp(info->dlpi_name, "linux-vdso", 10) == 0)
        return 1;
    uintptr_t self = (uintptr_t)&native_walk_objects;
    return self >= object->low && self < object->high;
}

static uintptr_t page_size(void)
{
    static uintptr_t size;
    if (!size)
        size = (uintptr_t)sysconf(_SC_PAGESIZE);
    return size;
}

/* Returns 0, or -1 when the page could not be opened for the write (the slot keeps its value). */
static int write_slot(const struct object *object, void **slot, void *value)
{
    uintptr_t address = (uintptr_t)slot;
    int protected = address >= object->relro_start && address < object->relro_end;
    void *page = (void *)(address & ~(page_size() - 1));
    if (protected && mprotect(page, page_size(), PROT_READ | PROT_WRITE) != 0)
        return -1;
    __atomic_store_n(slot, value, __ATOMIC_RELEASE);
    if (protected)
        mprotect(page, page_size(), PROT_READ);
    return 0;
}

static void write_counted(struct walk *walk, const struct object *object, void **slot, void *value)
{
    if (write_slot(object, slot, value) == 0)
        walk->written++;
    else
        walk->failed++;
}

static const struct native_hook *hook_named(const struct walk *walk, const char *name)
{
    for (size_t i = 0; i < walk->count; i++)
        if (name[0] == walk->hooks[i].name[0] && strcmp(name, walk->hooks[i].name) == 0)
            return &walk->hooks[i];
    return NULL;
}

static void walk_relocations(struct walk *walk, const struct object *object, const ElfW(Rela) *relocations,
                             size_t bytes)
{
    size_t count = bytes / sizeof *relocations;
    for (size_t i = 0; i < count; i++) {
        const ElfW(Rela) *r = &relocations[i];
        unsigned type = ELF64_R_TYPE(r->r_info);
        size_t symbol = ELF64_R_SYM(r->r_info);
        if (!symbol || !(type == PLATFORM_RELOCATION_JUMP_SLOT || type == PLATFORM_RELOCATION_GLOB_DAT ||
                         (type == PLATFORM_RELOCATION_ABSOLUTE && r->r_addend == 0)))
            continue;
        const ElfW(Sym) *sym = &object->symbols[symbol];
        const struct native_hook *hook = hook_named(walk, object->strings + sym->st_name);
        if (!hook)
            continue;
        void **slot = (void **)(object->base + r->r_offset);
        void *current = __atomic_load_n(slot, __ATOMIC_RELAXED);
        if (walk->what == NATIVE_COUNT) {
            walk->written += current == hook->hook;
        } else if (walk->what == NATIVE_RESTORE) {
            if (current == hook->hook)
                write_counted(walk, object, slot, hook->original);
        } else {
            int lazy_stub = sym->st_shndx == SHN_UNDEF && (uintptr_t)current >= object->low &&
                            (uintptr_t)current < object->high;
            if (current == hook->original || lazy_stub)
                write_counted(walk, object, slot, hook->hook);
        }
    }
}

static int walk_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct walk *walk = data;
    struct object object = {.base = info->dlpi_addr, .low = UINTPTR_MAX};
    const ElfW(Dyn) *dynamic = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD) {
            if (start < object.low)
                object.low = start;
            if (start + ph->p_memsz > object.high)
                object.high = start + ph->p_memsz;
        } else if (ph->p_type == PT_DYNAMIC) {
            dynamic = (const ElfW(Dyn) *)start;
        } else if (ph->p_type == PT_GNU_RELRO) {
            object.relro_start = start & ~(page_size() - 1);
            object.relro_end = (start + ph->p_memsz) & ~(page_size() - 1);
        }
    }
    if (!dynamic || is_skipped(info, &object))
        return 0;
    int patching = walk->what == NATIVE_PATCH_ALL || walk->what == NATIVE_PATCH_NEW;
    if (patching && already_seen(object.base) && walk->what == NATIVE_PATCH_NEW)
        return 0;
    const ElfW(Rela) *plt = NULL, *other = NULL;
    size_t plt_bytes = 0, other_bytes = 0;
    int plt_is_rela = 1;
    for (const ElfW(Dyn) *d = dynamic; d->d_tag != DT_NULL; d++) {
        switch (d->d_tag) {
        case DT_SYMTAB: object.symbols = (const ElfW(Sym) *)dynamic_pointer(&object, d->d_un.d_ptr); break;
        case DT_STRTAB: object.strings = (const char *)dynamic_pointer(&object, d->d_un.d_ptr); break;
        case DT_JMPREL: plt = (const ElfW(Rela) *)dynamic_pointer(&object, d->d_un.d_ptr); break;
        case DT_PLTRELSZ: plt_bytes = d->d_un.d_val; break;
        case DT_PLTREL: plt_is_rela = d->d_un.d_val == DT_RELA; break;
        case DT_RELA: other = (const ElfW(Rela) *)dynamic_pointer(&object, d->d_un.d_ptr); break;
        case DT_RELASZ: other_bytes = d->d_un.d_val; break;
        default: break;
        }
    }
    if (!object.symbols || !object.strings)
        return 0;
    if (plt && plt_is_rela)
        walk_relocations(walk, &object, plt, plt_bytes);
    if (other)
        walk_relocations(walk, &object, other, other_bytes);
    return 0;
}

size_t native_walk_objects(const struct native_hook *hooks, size_t count, enum native_walk what, size_t *failed)
{
    if (what == NATIVE_PATCH_ALL || what == NATIVE_PATCH_NEW) {
        unsigned long long counts[2] = {0, 0};
        dl_iterate_phdr(read_counts, counts);
        if (what == NATIVE_PATCH_ALL || counts[1] != last_subs)
            seen_count = 0; /* something was unloaded (an address may be reused): look at all */
        __atomic_store_n(&last_adds, counts[0], __ATOMIC_RELAXED);
        __atomic_store_n(&last_subs, counts[1], __ATOMIC_RELAXED);
    }
    struct walk walk = {hooks, count, what, 0, 0};
    dl_iterate_phdr(walk_object, &walk);
    *failed += walk.failed;
    return walk.written;
}
