/* linetable: the per-line and per-function counters of a session, and its interned strings.
 *
 * Owns: (file, line) -> counters and (file, function) -> counters, in one process, with no
 * Python objects. Entries never move once created, so the helper may keep pointers to them.
 * Never: grows beyond the program's lines and functions (one entry each), or takes a lock: only
 * the helper writes, and readers (the profile writer) run while the helper is paused or gone.
 * Talks to: helper (writes), profile (reads). */
#ifndef HEATLINE_LINETABLE_H
#define HEATLINE_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

#define LINETABLE_NO_ID UINT32_MAX

struct counters {
    double python_s;
    double native_s;
    double system_s;
    double gil_wait_s;
};

struct line_entry {
    uint32_t file;
    int32_t line;
    struct counters counters;
};

struct function_entry {
    uint32_t file;
    uint32_t name;
    int32_t first_line;
    struct counters counters;
};

struct linetable;

struct linetable *linetable_new(void);
void linetable_free(struct linetable *table);

/* The id of `text` (copied on first sight), or LINETABLE_NO_ID when memory ran out. */
uint32_t linetable_intern(struct linetable *table, const char *text);
const char *linetable_string(const struct linetable *table, uint32_t id);

/* The counters of a line or function, created at zero on first use; NULL when memory ran out. */
struct counters *linetable_line(struct linetable *table, uint32_t file, int32_t line);
struct counters *linetable_function(struct linetable *table, uint32_t file, uint32_t name,
                                    int32_t first_line);

size_t linetable_line_count(const struct linetable *table);
const struct line_entry *linetable_line_at(const struct linetable *table, size_t index);
size_t linetable_function_count(const struct linetable *table);
const struct function_entry *linetable_function_at(const struct linetable *table, size_t index);

void counters_add(struct counters *into, const struct counters *amount);
double counters_total_s(const struct counters *counters);

#endif
