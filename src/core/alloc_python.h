/* alloc_python: Python's allocations, seen through PyMem_SetAllocator.
 *
 * Owns: wrappers around the RAW, MEM and OBJ domains' allocators. Each forwards to the allocator
 * it found (no header is added to any block, so blocks cross start and stop freely) and tells the
 * byte sampler about the bytes, and what they are for. OBJ and MEM back Python objects and their
 * parts: Python memory, whoever calls them. RAW is native: extensions take plain buffers from it
 * (NumPy 2.5's array data), as they would from malloc; pymalloc's big blocks reach it too, but
 * nested in an OBJ or MEM call, which counts them once, as Python. The native hooks below a
 * domain never count its blocks again.
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
