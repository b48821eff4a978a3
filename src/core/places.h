/* places: where a sample happened, as the program sees it.
 *
 * Owns: turning a captured stack into a place (the line and function of the innermost frame of
 * the profiled program, and the whole call stack interned), classifying a code object the first
 * time it is seen (program or library, by its file and the filter) and copying what it holds
 * (file, name, line table) into the code cache.
 * Never: calls Python (code objects are read with process_vm_readv), or decides which files are
 * the program or which frames a stack shows (filter's rules).
 * Talks to: codecache (lookups and inserts), frames (code copies), filter, linetable (entries),
 * stacks (interning), helper, cputime, offcpu (callers). */
#ifndef HEATLINE_PLACES_H
#define HEATLINE_PLACES_H

#include "filter.h"
#include "frames.h"
#include "linetable.h"
#include "stacks.h"

/* Where time and memory go: a line and its function, or nowhere (outside the program) when line
 * is NULL; and the call stack, whether or not it passes through the program (the empty stack,
 * STACKS_ROOT, when zeroed). */
struct place {
    struct line_entry *line;
    struct function_entry *function;
    struct stack_ref stack;
};

struct places {
    struct linetable *lines;
    const struct filter *filter;
    struct stacks *stacks;
};

/* The place of a captured stack: its stack interned, and its innermost frame of the program:
 * returns 1 with the line and function set, or 0 (line and function NULL) when no frame belongs
 * to the program. Helper thread only. */
int places_of(struct places *places, const struct frames_stack *stack, struct place *out);

#endif
