/* alloc_python: Python's allocations, seen through PyMem_SetAllocator.
 *
 * Owns: wrappers around the RAW, MEM and OBJ domains' allocators. Each forwards to the allocator
 * it found (no header is added to any block, so blocks cross start and stop freely) and tells the
 * byte sampler about the bytes. RAW is wrapped too: it is Python's allocator for memory that
 * needs no GIL (and for pymalloc's large blocks, which arrive nested in an OBJ call and are
 * counted once, by the outer call); what goes through any domain is Python memory, and the
 * native hooks below it never count it again.
 * Never: counts a block twice, or frees its bookkeeping while a wrapper may still be reached.
 * Talks to: memsample (every wrapper); session (start, stop, with the GIL held). */
#ifndef HEATLINE_ALLOC_PYTHON_H
#define HEATLINE_ALLOC_PYTHON_H

/* Installs the wrappers (GIL held). */
void alloc_python_start(void);
/* Puts the original allocators back where a wrapper is still the domain's allocator; a wrapper
 * that something else (tracemalloc) wrapped in turn stays, forwarding only (GIL held). */
void alloc_python_stop(void);

#endif
