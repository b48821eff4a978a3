/* places: where a sample happened, as the program sees it.
 *
 * Owns: turning a captured stack into a place (the line and function of the innermost frame of
 * the profiled program), classifying a code object the first time it is seen (program or
 * library, by its file and the filter) and copying what the program's code objects hold (file,
 * name, line table) into the code cache.
 * Never: calls Python (code objects are read with process_vm_readv), or decides which files are
 * the program (filter's rule).
 * Talks to: codecache (lookups and inserts), frames (code copies), filter, linetable (entries),
 * helper, cputime, offcpu (callers). */
#ifndef HEATLINE_PLACES_H
#define HEATLINE_PLACES_H

#include "filter.h"
#include "frames.h"
#include "linetable.h"

/* Where time and memory go: a line and its function, or nowhere (outside the program) when line
 * is NULL. */
struct place {
    struct line_entry *line;
    struct function_entry *function;
};

struct places {
    struct linetable *lines;
    const struct filter *filter;
};

/* The innermost frame of the program among a stack's frames: 1 with `*out` set, or 0 (out
 * empty) when no frame belongs to the program. Helper thread only. */
int places_of(struct places *places, const struct frames_stack *stack, struct place *out);

/* A frames_classify callback (context: struct places) that resolves code the cache does not
 * know yet: for walks made by the helper. */
enum code_class places_classify(const struct frame_ref *ref, void *context);

#endif
