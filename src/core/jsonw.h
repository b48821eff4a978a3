/* jsonw: a small JSON text builder for the profile writer.
 *
 * Owns: a growable buffer, escaping of strings (UTF-8 passed through, control characters and
 * invalid bytes escaped), numbers (non-finite ones become null) and commas between members.
 * Needs no interpreter (unit-tested). A failed allocation sets `failed` and later calls do
 * nothing, so a writer checks once at the end. */
#ifndef HEATLINE_JSONW_H
#define HEATLINE_JSONW_H

#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 32

struct jsonw {
    char *text;
    size_t length;
    size_t capacity;
    int failed;
    int depth;
    int need_comma[JSONW_MAX_DEPTH];
};

void jsonw_init(struct jsonw *w);
void jsonw_free(struct jsonw *w);

void jsonw_begin_object(struct jsonw *w);
void jsonw_end_object(struct jsonw *w);
void jsonw_begin_array(struct jsonw *w);
void jsonw_end_array(struct jsonw *w);
/* A member name; the next value call writes its value. */
void jsonw_key(struct jsonw *w, const char *key);

void jsonw_string(struct jsonw *w, const char *text);
void jsonw_double(struct jsonw *w, double value);
void jsonw_int(struct jsonw *w, int64_t value);
void jsonw_bool(struct jsonw *w, int value);
void jsonw_null(struct jsonw *w);

#endif
