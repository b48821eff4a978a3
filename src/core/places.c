/* places: see places.h. */
#include "places.h"

#include <stdlib.h>

#include "codecache.h"

static struct program_code *program_code_from(struct places *places, const struct code_copy *copy)
{
    struct program_code *program = calloc(1, sizeof *program);
    size_t units = copy->code_units ? copy->code_units : 1;
    int32_t *lines = calloc(units, sizeof *lines);
    if (!program || !lines) {
        free(program);
        free(lines);
        return NULL;
    }
    linetable_build_map(copy->format, copy->first_line, copy->table, copy->table_len, lines, units);
    program->file = linetable_intern(places->lines, copy->filename);
    program->name = linetable_intern(places->lines, copy->name);
    program->first_line = copy->first_line;
    program->code_units = units;
    program->lines = lines;
    return program;
}

/* Classifies a code object the cache does not know yet, copying it out of the interpreter. */
static enum code_class resolve_code(struct places *places, const struct frame_ref *ref,
                                    const struct program_code **program)
{
    enum code_class class = codecache_lookup(ref, program);
    if (class != CODE_UNKNOWN)
        return class;
    struct code_copy copy;
    if (frames_copy_code(ref->code, &copy) < 0)
        return CODE_UNKNOWN;
    struct program_code *made = NULL;
    class = CODE_LIBRARY;
    if (copy.first_line == ref->first_line && filter_is_program(places->filter, copy.filename)) {
        made = program_code_from(places, &copy);
        if (made)
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
    *program = made;
    return class;
}

enum code_class places_classify(const struct frame_ref *ref, void *context)
{
    const struct program_code *program;
    return resolve_code(context, ref, &program);
}

int places_of(struct places *places, const struct frames_stack *stack, struct place *out)
{
    out->line = NULL;
    out->function = NULL;
    for (int i = 0; i < stack->count; i++) {
        const struct frame_ref *ref = &stack->refs[i];
        const struct program_code *program = NULL;
        if (resolve_code(places, ref, &program) != CODE_PROGRAM || !program)
            continue;
        size_t unit = (size_t)ref->instruction < program->code_units ? (size_t)ref->instruction : 0;
        struct line_entry *line = linetable_line(places->lines, program->file, program->lines[unit]);
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
    return 0;
}
