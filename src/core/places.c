/* places: see places.h. */
#include "places.h"

#include <stdlib.h>

#include "codecache.h"

_Static_assert(FRAMES_MAX_REFS == STACKS_MAX_DEPTH && FRAMES_OUTER_REFS == STACKS_OUTER_FRAMES,
               "a captured stack and a stored one keep the same frames");

static struct code_info *code_info_from(struct places *places, const struct code_copy *copy)
{
    struct code_info *info = calloc(1, sizeof *info);
    size_t units = copy->code_units ? copy->code_units : 1;
    int32_t *lines = calloc(units, sizeof *lines);
    if (!info || !lines) {
        free(info);
        free(lines);
        return NULL;
    }
    linetable_build_map(copy->format, copy->first_line, copy->table, copy->table_len, lines, units);
    info->file = linetable_intern(places->lines, copy->filename);
    info->name = linetable_intern(places->lines, copy->name);
    info->first_line = copy->first_line;
    info->role = (uint8_t)filter_frame_role(places->filter, copy->filename);
    info->code_units = units;
    info->lines = lines;
    return info;
}

/* Classifies a code object the cache does not know yet, copying it out of the interpreter. */
static enum code_class resolve_code(struct places *places, const struct frame_ref *ref,
                                    const struct code_info **info)
{
    enum code_class class = codecache_lookup(ref, info);
    if (class != CODE_UNKNOWN)
        return class;
    struct code_copy copy;
    if (frames_copy_code(ref->code, &copy) < 0)
        return CODE_UNKNOWN;
    struct code_info *made = NULL;
    class = CODE_LIBRARY;
    /* Another first line: the code object died and its address holds another one now. */
    if (copy.first_line == ref->first_line) {
        made = code_info_from(places, &copy);
        if (made && filter_is_program(places->filter, copy.filename))
            class = CODE_PROGRAM;
    }
    frames_free_code_copy(&copy);
    if (codecache_insert(ref, class, made) < 0) {
        if (made) {
            free(made->lines);
            free(made);
        }
        return CODE_UNKNOWN;
    }
    *info = made;
    return class;
}

static int32_t line_of(const struct code_info *info, const struct frame_ref *ref)
{
    size_t unit = (size_t)ref->instruction < info->code_units ? (size_t)ref->instruction : 0;
    return info->lines[unit];
}

int places_of(struct places *places, const struct frames_stack *stack, struct place *out)
{
    out->line = NULL;
    out->function = NULL;
    uint32_t frames[FRAMES_MAX_REFS + 1] = {0};
    size_t count = 0;
    const struct code_info *program = NULL;
    const struct frame_ref *program_ref = NULL;
    /* Root first. The frames that ran the program are left out only while they are the root. */
    int at_root = 1;
    for (int i = stack->count - 1; i >= 0; i--) {
        if (stack->cut && i == FRAMES_INNER_REFS - 1) {
            frames[count++] = stacks_cut_frame(places->stacks);
            at_root = 0;
        }
        const struct frame_ref *ref = &stack->refs[i];
        const struct code_info *info = NULL;
        enum code_class class = resolve_code(places, ref, &info);
        if (!info || info->role == FRAME_OWN || (info->role == FRAME_RUNNER && at_root))
            continue; /* a frame that cannot be named is left out, its callees kept */
        at_root = 0;
        struct stack_frame frame = {info->file, info->name, info->first_line, line_of(info, ref),
                                    class == CODE_PROGRAM};
        frames[count++] = stacks_frame(places->stacks, &frame);
        if (class == CODE_PROGRAM) {
            program = info;
            program_ref = ref;
        }
    }
    out->stack = stacks_intern(places->stacks, frames, count);
    if (!program)
        return 0;
    struct line_entry *line = linetable_line(places->lines, program->file, line_of(program, program_ref));
    struct function_entry *function =
        linetable_function(places->lines, program->file, program->name, program->first_line);
    if (!line || !function)
        return 0;
    if (!line->function)
        line->function = function;
    out->line = line;
    out->function = function;
    return 1;
}
