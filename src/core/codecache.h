/* codecache: what the helper knows of each code object it has met, looked up by address.
 *
 * Owns: a table from (code address, filename, first line) to the code's class (the program's or
 * a library's) and its copied names and line map. Lookups take no lock: each entry is published
 * with a release store of its key, so a reader never sees half an entry. Today only the helper
 * reads and writes it.
 * Never: frees a table a reader may still be probing before the next session starts.
 * Talks to: places (lookups and inserts). */
#ifndef HEATLINE_CODECACHE_H
#define HEATLINE_CODECACHE_H

#include <stddef.h>
#include <stdint.h>

#include "frames.h"

/* What the helper keeps of a code object. */
struct code_info {
    uint32_t file;     /* linetable string ids */
    uint32_t name;
    int32_t first_line;
    uint8_t role;      /* enum frame_role: whether stacks show its frames */
    size_t code_units;
    int32_t *lines;    /* line of each code unit */
};

/* `info` receives the entry's code_info (NULL for code that could not be copied). */
enum code_class codecache_lookup(const struct frame_ref *ref, const struct code_info **info);

/* Helper only. `info` (may be NULL) is owned by the cache from here on. */
int codecache_insert(const struct frame_ref *ref, enum code_class class, struct code_info *info);

/* Frees every table and code_info; only while no handler can run (between sessions). */
void codecache_reset(void);

#endif
