/* filter: which source files are "the program".
 *
 * Owns: the rule of DESIGN.md ("Which code is the program"): files under the program's
 * directory, minus the standard library, site-packages and heatline itself; --profile-all,
 * --profile-only and --profile-exclude change it; and which frames a call stack leaves out.
 * Needs no interpreter (unit-tested).
 * Talks to: places, which asks once per code object. */
#ifndef HEATLINE_FILTER_H
#define HEATLINE_FILTER_H

#include <stddef.h>

struct string_list {
    char **items;
    size_t count;
};

struct filter {
    int profile_all;
    struct string_list program_dirs;     /* directories whose files are the program */
    struct string_list library_dirs;     /* stdlib, site-packages: not the program... */
    struct string_list own_dirs;         /* heatline's own package and launcher script: never the program */
    struct string_list only_patterns;    /* if any: only paths containing one of them */
    struct string_list exclude_patterns; /* never paths containing one of them */
};

int filter_is_program(const struct filter *filter, const char *path);

/* Which frames a call stack shows: all but heatline's own code (its launcher, API wrappers), and
 * runpy's frames when they only ran the program (outermost, around it). */
enum frame_role { FRAME_SHOWN = 0, FRAME_OWN = 1, FRAME_RUNNER = 2 };
enum frame_role filter_frame_role(const struct filter *filter, const char *path);

/* Appends a copy of `text`; returns 0 or -1. */
int string_list_add(struct string_list *list, const char *text);
void string_list_free(struct string_list *list);
void filter_free(struct filter *filter);

#endif
