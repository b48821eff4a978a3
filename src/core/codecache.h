/* codecache: which code objects belong to the profiled program, looked up by address.
 *
 * Owns: a table from (code address, filename, first line) to the code's class and, for the
 * program's code, its copied line map and names. The signal handler reads it without locks;
 * only the helper writes it, publishing each entry with a release store of its key.
 * Never: frees a table a handler may still be reading before the next session starts.
 * Talks to: sampler and memsample (lookups while capturing), places (inserts). */
#ifndef HEATLINE_CODECACHE_H
#define HEATLINE_CODECACHE_H

#include <stddef.h>
#include <stdint.h>

#include "frames.h"

/* What the helper keeps of a program's code object. */
struct program_code {
    uint32_t file;     /* linetable string ids */
    uint32_t name;
    int32_t first_line;
    int32_t last_line;
    size_t code_units;
    int32_t *lines;    /* line of each code unit */
};

/* Async-signal-safe lookup. `program` receives the entry's program_code when it has one. */
enum code_class codecache_lookup(const struct frame_ref *ref, const struct program_code **program);

/* codecache_lookup as a frames_classify callback (`context` unused): for captures in a signal
 * handler or an allocation hook, which only read the cache. */
enum code_class codecache_classify(const struct frame_ref *ref, void *context);

/* Helper only. `program` (may be NULL for library code) is owned by the cache from here on. */
int codecache_insert(const struct frame_ref *ref, enum code_class class, struct program_code *program);

/* Frees every table and program_code; only while no handler can run (between sessions). */
void codecache_reset(void);

#endif
