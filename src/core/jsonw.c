/* jsonw: see jsonw.h. */
#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonw_init(struct jsonw *w)
{
    memset(w, 0, sizeof *w);
}

void jsonw_free(struct jsonw *w)
{
    free(w->text);
    jsonw_init(w);
}

static void append(struct jsonw *w, const char *bytes, size_t count)
{
    if (w->failed)
        return;
    if (w->length + count + 1 > w->capacity) {
        size_t capacity = w->capacity ? w->capacity : 4096;
        while (w->length + count + 1 > capacity)
            capacity *= 2;
        char *grown = realloc(w->text, capacity);
        if (!grown) {
            w->failed = 1;
            return;
        }
        w->text = grown;
        w->capacity = capacity;
    }
    memcpy(w->text + w->length, bytes, count);
    w->length += count;
    w->text[w->length] = '\0';
}

static void append_text(struct jsonw *w, const char *text)
{
    append(w, text, strlen(text));
}

/* Called before every value or key: a comma if this container already has a member. */
static void separate(struct jsonw *w)
{
    if (w->need_comma[w->depth])
        append(w, ",", 1);
    w->need_comma[w->depth] = 1;
}

static void open_container(struct jsonw *w, const char *bracket)
{
    separate(w);
    append_text(w, bracket);
    if (w->depth + 1 >= JSONW_MAX_DEPTH) {
        w->failed = 1;
        return;
    }
    w->need_comma[++w->depth] = 0;
}

static void close_container(struct jsonw *w, const char *bracket)
{
    append_text(w, bracket);
    if (w->depth > 0)
        w->depth--;
}

void jsonw_begin_object(struct jsonw *w) { open_container(w, "{"); }
void jsonw_end_object(struct jsonw *w) { close_container(w, "}"); }
void jsonw_begin_array(struct jsonw *w) { open_container(w, "["); }
void jsonw_end_array(struct jsonw *w) { close_container(w, "]"); }

/* Length of the valid UTF-8 sequence at `s`, or 0 if it is not one. */
static size_t utf8_sequence(const unsigned char *s)
{
    size_t length;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        length = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        length = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        length = 4;
    else
        return 0;
    for (size_t i = 1; i < length; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return length;
}

static void write_string(struct jsonw *w, const char *text)
{
    append(w, "\"", 1);
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        char escape[8];
        if (*s == '"' || *s == '\\') {
            escape[0] = '\\';
            escape[1] = (char)*s;
            append(w, escape, 2);
            s++;
        } else if (*s < 0x20) {
            snprintf(escape, sizeof escape, "\\u%04x", *s);
            append_text(w, escape);
            s++;
        } else {
            size_t length = utf8_sequence(s);
            if (length == 0) {
                append_text(w, "\\ufffd");
                s++;
            } else {
                append(w, (const char *)s, length);
                s += length;
            }
        }
    }
    append(w, "\"", 1);
}

void jsonw_key(struct jsonw *w, const char *key)
{
    separate(w);
    write_string(w, key);
    append(w, ":", 1);
    /* The value that follows must not add a comma of its own. */
    w->need_comma[w->depth] = 0;
}

void jsonw_string(struct jsonw *w, const char *text)
{
    separate(w);
    write_string(w, text ? text : "");
}

void jsonw_double(struct jsonw *w, double value)
{
    separate(w);
    if (!isfinite(value)) {
        append_text(w, "null");
        return;
    }
    char number[32];
    snprintf(number, sizeof number, "%.9g", value);
    append_text(w, number);
}

void jsonw_int(struct jsonw *w, int64_t value)
{
    separate(w);
    char number[32];
    snprintf(number, sizeof number, "%lld", (long long)value);
    append_text(w, number);
}

void jsonw_bool(struct jsonw *w, int value)
{
    separate(w);
    append_text(w, value ? "true" : "false");
}

void jsonw_null(struct jsonw *w)
{
    separate(w);
    append_text(w, "null");
}
