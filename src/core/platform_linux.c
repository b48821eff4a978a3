/* platform_linux: platform.h on Linux. Everything here is async-signal-safe except
 * platform_code_segment_of (it takes the loader's lock: call it at start only). */
#define _GNU_SOURCE
#include "platform.h"

#include <dlfcn.h>
#include <link.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

int platform_read_memory(void *dst, uintptr_t src, size_t len)
{
    struct iovec local = {dst, len};
    struct iovec remote = {(void *)src, len};
    ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    return got == (ssize_t)len ? 0 : -1;
}

int platform_read_memory_works(void)
{
    static const uint64_t probe = 0x6865617466696e65ULL;
    uint64_t copy = 0;
    return platform_read_memory(&copy, (uintptr_t)&probe, sizeof copy) == 0 && copy == probe;
}

uintptr_t platform_interrupted_address(const void *signal_context)
{
    const ucontext_t *context = signal_context;
#if defined(__x86_64__)
    return (uintptr_t)context->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)context->uc_mcontext.pc;
#else
    (void)context;
    return 0;
#endif
}

struct segment_search {
    uintptr_t address;
    uintptr_t start;
    uintptr_t end;
    int found;
};

static int find_segment(struct dl_phdr_info *info, size_t size, void *argument)
{
    (void)size;
    struct segment_search *search = argument;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        if (header->p_type != PT_LOAD || !(header->p_flags & PF_X))
            continue;
        uintptr_t start = info->dlpi_addr + header->p_vaddr;
        uintptr_t end = start + header->p_memsz;
        if (search->address >= start && search->address < end) {
            search->start = start;
            search->end = end;
            search->found = 1;
            return 1;
        }
    }
    return 0;
}


int platform_code_segment_of(uintptr_t address, uintptr_t *start, uintptr_t *end)
{
    struct segment_search search = {address, 0, 0, 0};
    dl_iterate_phdr(find_segment, &search);
    if (!search.found)
        return -1;
    *start = search.start;
    *end = search.end;
    return 0;
}

int platform_loader_code(uintptr_t *start, uintptr_t *end)
{
    void *tls_get_addr = dlsym(RTLD_DEFAULT, "__tls_get_addr");
    return tls_get_addr ? platform_code_segment_of((uintptr_t)tls_get_addr, start, end) : -1;
}
