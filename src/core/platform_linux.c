/* platform_linux: platform.h on Linux. Everything here is async-signal-safe except
 * platform_code_segment_of (it takes the loader's lock: call it at start only). */
#define _GNU_SOURCE
#include "platform.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <stdio.h>
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
    uintptr_t bias;   /* the object's load address */
    char path[4096];  /* its file ("" for the program: /proc/self/exe) */
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
            search->bias = info->dlpi_addr;
            snprintf(search->path, sizeof search->path, "%s", info->dlpi_name ? info->dlpi_name : "");
            return 1;
        }
    }
    return 0;
}


int platform_code_segment_of(uintptr_t address, uintptr_t *start, uintptr_t *end)
{
    struct segment_search search = {.address = address};
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

/* The section headers of an ELF file mapped at `file` (`size` bytes), with their count; NULL when
 * the file has none, or they lie past its end. */
static const ElfW(Shdr) *section_headers(const uint8_t *file, size_t size, size_t *count)
{
    const ElfW(Ehdr) *header = (const ElfW(Ehdr) *)file;
    if (header->e_shoff == 0 || header->e_shentsize != sizeof(ElfW(Shdr)) ||
        header->e_shoff + (size_t)header->e_shnum * sizeof(ElfW(Shdr)) > size)
        return NULL;
    *count = header->e_shnum;
    return (const ElfW(Shdr) *)(file + header->e_shoff);
}

/* The executable sections whose names `wanted` accepts (the PLT's stubs have no symbols). */
static long wanted_sections(const uint8_t *file, size_t size, uintptr_t bias, int (*wanted)(const char *name),
                            struct code_range *out, size_t capacity)
{
    size_t count;
    const ElfW(Shdr) *sections = section_headers(file, size, &count);
    size_t names_index = ((const ElfW(Ehdr) *)file)->e_shstrndx;
    if (!sections || names_index >= count || sections[names_index].sh_offset + sections[names_index].sh_size > size)
        return 0;
    const char *names = (const char *)file + sections[names_index].sh_offset;
    size_t names_size = sections[names_index].sh_size;
    long found = 0;
    for (size_t i = 0; i < count && (size_t)found < capacity; i++) {
        const ElfW(Shdr) *section = &sections[i];
        if (!(section->sh_flags & SHF_EXECINSTR) || section->sh_name >= names_size ||
            !memchr(names + section->sh_name, 0, names_size - section->sh_name) || !wanted(names + section->sh_name))
            continue;
        out[found++] = (struct code_range){bias + section->sh_addr, bias + section->sh_addr + section->sh_size};
    }
    return found;
}

/* The symbol table of type `type` of an ELF file mapped at `file` (`size` bytes), with its string
 * table; 0, or -1 when it has none. */
static int symbol_table(const uint8_t *file, size_t size, uint32_t type, const ElfW(Sym) **symbols, size_t *count,
                        const char **names, size_t *names_size)
{
    size_t section_count;
    const ElfW(Shdr) *sections = section_headers(file, size, &section_count);
    for (size_t i = 0; sections && i < section_count; i++) {
        const ElfW(Shdr) *table = &sections[i];
        if (table->sh_type != type || table->sh_link >= section_count || table->sh_entsize != sizeof(ElfW(Sym)))
            continue;
        const ElfW(Shdr) *strings = &sections[table->sh_link];
        if (table->sh_offset + table->sh_size > size || strings->sh_offset + strings->sh_size > size)
            return -1;
        *symbols = (const ElfW(Sym) *)(file + table->sh_offset);
        *count = table->sh_size / sizeof(ElfW(Sym));
        *names = (const char *)(file + strings->sh_offset);
        *names_size = strings->sh_size;
        return 0;
    }
    return -1;
}

long platform_functions_of(uintptr_t address, int (*wanted)(const char *name), struct code_range *out,
                           size_t capacity)
{
    struct segment_search search = {.address = address};
    dl_iterate_phdr(find_segment, &search);
    if (!search.found)
        return -1;
    int fd = open(search.path[0] ? search.path : "/proc/self/exe", O_RDONLY | O_CLOEXEC);
    struct stat status;
    if (fd < 0 || fstat(fd, &status) != 0 || (size_t)status.st_size < sizeof(ElfW(Ehdr))) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    size_t size = (size_t)status.st_size;
    const uint8_t *file = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (file == MAP_FAILED)
        return -1;
    const ElfW(Sym) *symbols;
    const char *names;
    size_t count, names_size;
    long found = -1;
    if (memcmp(file, ELFMAG, SELFMAG) == 0 &&
        (symbol_table(file, size, SHT_SYMTAB, &symbols, &count, &names, &names_size) == 0 ||
         symbol_table(file, size, SHT_DYNSYM, &symbols, &count, &names, &names_size) == 0)) {
        found = 0;
        for (size_t i = 0; i < count && (size_t)found < capacity; i++) {
            const ElfW(Sym) *symbol = &symbols[i];
            if (ELF64_ST_TYPE(symbol->st_info) != STT_FUNC || symbol->st_size == 0 || symbol->st_value == 0 ||
                symbol->st_name >= names_size || !memchr(names + symbol->st_name, 0, names_size - symbol->st_name))
                continue;
            if (!wanted(names + symbol->st_name))
                continue;
            uintptr_t start = search.bias + symbol->st_value;
            out[found++] = (struct code_range){start, start + symbol->st_size};
        }
        found += wanted_sections(file, size, search.bias, wanted, out + found, capacity - (size_t)found);
    }
    munmap((void *)file, size);
    return found;
}
