/* stacks: the call stacks of a session, interned, with what each one cost.
 *
 * Owns: the frames table ((file, function, first line, line) -> frame id), the stack table (a
 * tree: a stack is its caller's stack plus one frame, so a stack is one node and its frames are
 * the path from the root), and each stack's own values: time by kind, CPU samples, bytes
 * allocated and copied, bytes live now and at the footprint's peak. Both tables are bounded:
 * once full, a stack is credited to its longest prefix held, and the amount so merged is
 * counted for the document.
 * Never: grows past its limits, resolves frames (places gives it frame ids), or is touched by
 * more than one thread (the helper; the writer reads it while the helper is stopped).
 * Talks to: places (interning), cputime and offcpu (time, through cputime_credit), live (bytes,
 * live bytes and the peak), profile (reads it for the document). */
#ifndef HEATLINE_STACKS_H
#define HEATLINE_STACKS_H

#include <stddef.h>
#include <stdint.h>

#include "linetable.h"

/* The empty stack (a thread with no Python frame): always there, id 0. */
#define STACKS_ROOT 0u
#define STACKS_NO_FRAME UINT32_MAX
#define STACKS_LIMIT 65536
#define STACKS_FRAME_LIMIT 65536
/* The frames a stack keeps (docs/profile-format.md, "stacks"): a deeper one keeps its
 * STACKS_OUTER_FRAMES outermost and its innermost, with the cut frame between them. */
#define STACKS_MAX_DEPTH 128
#define STACKS_OUTER_FRAMES 32

struct stack_frame {
    uint32_t file;     /* linetable string ids; file LINETABLE_NO_ID: the cut frame */
    uint32_t function;
    int32_t first_line;
    int32_t line;
    uint8_t program;
};

struct stack_values {
    struct counters time;
    uint64_t samples;
    double alloc_bytes;
    double copy_bytes;
    double live_bytes;
    double peak_live_bytes; /* live_bytes when the footprint last peaked, if it changed since */
    uint64_t changed_serial; /* the live event that last changed live_bytes */
};

/* Where a credit went: a stack, and whether the table was full and it is a shorter one. */
struct stack_ref {
    uint32_t id;
    uint8_t merged;
};

/* What went to a shorter stack because a table was full. */
struct stacks_merged {
    uint64_t credits;
    double seconds;
    double alloc_bytes;
};

struct stacks;

/* NULL when memory ran out. `limit`: the most stacks (STACKS_LIMIT; tests pass less). */
struct stacks *stacks_new(uint32_t limit, uint32_t frame_limit);
void stacks_free(struct stacks *stacks);

/* The id of a frame, or STACKS_NO_FRAME when the frames table is full (or memory ran out). */
uint32_t stacks_frame(struct stacks *stacks, const struct stack_frame *frame);
/* The frame that stands for the frames cut out of a deep stack. */
uint32_t stacks_cut_frame(struct stacks *stacks);

/* The stack of `frames` (root first): the longest prefix held when a table is full or a frame
 * is STACKS_NO_FRAME (then `merged` is set). */
struct stack_ref stacks_intern(struct stacks *stacks, const uint32_t *frames, size_t count);

void stacks_credit_time(struct stacks *stacks, struct stack_ref ref, const struct counters *amount);
void stacks_count_sample(struct stacks *stacks, struct stack_ref ref);
void stacks_credit_alloc(struct stacks *stacks, struct stack_ref ref, double bytes);
void stacks_credit_copy(struct stacks *stacks, struct stack_ref ref, double bytes);
/* Live bytes of a stack change at live event `serial`; the footprint peaked last at event
 * `peak_serial`. */
void stacks_change_live(struct stacks *stacks, uint32_t id, double bytes, uint64_t serial, uint64_t peak_serial);

/* ---- reading, for the document ---- */
size_t stacks_count(const struct stacks *stacks);
size_t stacks_frame_count(const struct stacks *stacks);
const struct stack_frame *stacks_frame_at(const struct stacks *stacks, size_t index);
const struct stack_values *stacks_values_at(const struct stacks *stacks, size_t id);
/* The stack's frame ids, root first, into `out` (room for STACKS_MAX_DEPTH + 1); returns how
 * many. */
size_t stacks_path(const struct stacks *stacks, size_t id, uint32_t *out);
/* Its live bytes when the footprint last peaked (at live event `peak_serial`). */
double stacks_peak_live_bytes(const struct stacks *stacks, size_t id, uint64_t peak_serial);
struct stacks_merged stacks_merged(const struct stacks *stacks);
uint32_t stacks_limit(const struct stacks *stacks);

#endif
