/* filter: see filter.h. */
#include "filter.h"

#include <stdlib.h>
#include <string.h>

static int contains_any(const struct string_list *patterns, const char *path)
{
    for (size_t i = 0; i < patterns->count; i++)
        if (patterns->items[i][0] && strstr(path, patterns->items[i]))
            return 1;
    return 0;
}

/* Whether `path` lies inside directory `dir` (given with or without a trailing slash), or is
 * `dir` itself (a file named among the directories: the launcher's script among own_dirs). */
static int is_under(const char *path, const char *dir)
{
    size_t length = strlen(dir);
    while (length > 1 && dir[length - 1] == '/')
        length--;
    if (strncmp(path, dir, length) != 0)
        return 0;
    return path[length] == '/' || path[length] == '\0' || (length == 1 && dir[0] == '/');
}

static const char *longest_containing(const struct string_list *dirs, const char *path)
{
    const char *best = NULL;
    for (size_t i = 0; i < dirs->count; i++)
        if (is_under(path, dirs->items[i]) && (!best || strlen(dirs->items[i]) > strlen(best)))
            best = dirs->items[i];
    return best;
}

int filter_is_program(const struct filter *filter, const char *path)
{
    /* Only an absolute path names a source file. "<string>", "<stdin>", "<frozen os>": code with
     * no source file (exec'd, generated, frozen into the interpreter), whose time belongs to the
     * program line that ran it. Anything else is not a file name at all: a code object that died
     * between a sample and the helper's look at it, its memory reused (the module body of an
     * import is freed as soon as it has run). */
    if (path[0] != '/')
        return 0;
    if (longest_containing(&filter->own_dirs, path) || contains_any(&filter->exclude_patterns, path))
        return 0;
    if (filter->only_patterns.count)
        return contains_any(&filter->only_patterns, path);
    if (filter->profile_all)
        return 1;
    const char *program_dir = longest_containing(&filter->program_dirs, path);
    if (!program_dir)
        return 0;
    /* A library directory excludes the file only if it lies inside the program's directory:
     * a program that itself lives in site-packages (`heatline -m pip`) is still the program. */
    const char *library_dir = longest_containing(&filter->library_dirs, path);
    return !library_dir || strlen(library_dir) <= strlen(program_dir);
}

enum frame_role filter_frame_role(const struct filter *filter, const char *path)
{
    if (longest_containing(&filter->own_dirs, path))
        return FRAME_OWN;
    const char *base = strrchr(path, '/');
    if (strcmp(path, "<frozen runpy>") == 0 ||
        (base && strcmp(base, "/runpy.py") == 0 && longest_containing(&filter->library_dirs, path)))
        return FRAME_RUNNER;
    return FRAME_SHOWN;
}

int string_list_add(struct string_list *list, const char *text)
{
    char *copy = strdup(text);
    char **items = copy ? realloc(list->items, (list->count + 1) * sizeof *items) : NULL;
    if (!items) {
        free(copy);
        return -1;
    }
    items[list->count++] = copy;
    list->items = items;
    return 0;
}

void string_list_free(struct string_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

void filter_free(struct filter *filter)
{
    string_list_free(&filter->program_dirs);
    string_list_free(&filter->library_dirs);
    string_list_free(&filter->own_dirs);
    string_list_free(&filter->only_patterns);
    string_list_free(&filter->exclude_patterns);
}
