/* profile: see profile.h. The names written here are the contract of docs/profile-format.md. */
#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "leaks.h"

#define MAX_SOURCE_BYTES (64 << 20)
#define NO_SAMPLE_MESSAGE "the program finished before any sample was taken"

#define MB (1024.0 * 1024.0)

static const char *const memory_line_fields[] = {
    "alloc_mb", "python_alloc_fraction", "transient_mb", "transient_python_mb", "peak_mb", "avg_mb", "timeline", "copy_mb", "copy_mb_s", "leak",
};
/* GPU columns: null where the GPU was not measured (never 0). */
static const char *const gpu_line_fields[] = {"gpu_percent", "gpu_mem_avg_mb", "gpu_mem_peak_mb"};

struct source {
    char *text;
    char **lines; /* lines[i] is line i + 1 */
    size_t count;
};

static void source_load(struct source *source, const char *path)
{
    memset(source, 0, sizeof *source);
    FILE *file = path[0] == '<' ? NULL : fopen(path, "rb");
    if (!file)
        return;
    size_t capacity = 1 << 16, length = 0;
    char *text = malloc(capacity);
    size_t got;
    while (text && (got = fread(text + length, 1, capacity - length - 1, file)) > 0) {
        length += got;
        if (length + 1 == capacity) {
            char *grown = capacity < MAX_SOURCE_BYTES ? realloc(text, capacity * 2) : NULL;
            if (!grown)
                break;
            text = grown;
            capacity *= 2;
        }
    }
    fclose(file);
    if (!text)
        return;
    text[length] = '\0';
    size_t capacity_lines = 1;
    for (size_t i = 0; i < length; i++)
        capacity_lines += text[i] == '\n';
    source->lines = malloc(capacity_lines * sizeof *source->lines);
    if (!source->lines) {
        free(text);
        return;
    }
    source->text = text;
    for (char *cursor = text;;) {
        source->lines[source->count++] = cursor;
        char *end = strchr(cursor, '\n');
        if (!end)
            break;
        *end = '\0';
        if (end > cursor && end[-1] == '\r')
            end[-1] = '\0';
        cursor = end + 1;
    }
}

static const char *source_line(const struct source *source, int32_t line)
{
    if (line < 1 || (size_t)line > source->count)
        return "";
    return source->lines[line - 1];
}

static void source_free(struct source *source)
{
    free(source->text);
    free(source->lines);
}

/* ---- choosing what to write ---- */

struct file_group {
    uint32_t file;
    const char *path;
    struct counters totals;
    size_t first_line, line_count;         /* a run in the sorted line array */
    size_t first_function, function_count; /* a run in the sorted function array */
};

static const struct linetable *sorting_table;

static int compare_lines(const void *a, const void *b)
{
    const struct line_entry *x = *(const struct line_entry *const *)a;
    const struct line_entry *y = *(const struct line_entry *const *)b;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

static int compare_functions(const void *a, const void *b)
{
    const struct function_entry *x = *(const struct function_entry *const *)a;
    const struct function_entry *y = *(const struct function_entry *const *)b;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    if (x->first_line != y->first_line)
        return (x->first_line > y->first_line) - (x->first_line < y->first_line);
    return strcmp(linetable_string(sorting_table, x->name), linetable_string(sorting_table, y->name));
}

static int compare_groups(const void *a, const void *b)
{
    const struct file_group *x = a, *y = b;
    double tx = counters_total_s(&x->totals), ty = counters_total_s(&y->totals);
    if (tx != ty)
        return tx < ty ? 1 : -1;
    return strcmp(x->path, y->path);
}

static int measured(const struct counters *c, const struct memory_counters *m, int memory)
{
    return counters_all_s(c) > 0 || (memory && memory_measured(m));
}

/* ---- writing ---- */

static void write_counters(struct jsonw *w, const struct counters *c, double total_s)
{
    jsonw_key(w, "python_s");
    jsonw_double(w, c->python_s);
    jsonw_key(w, "native_s");
    jsonw_double(w, c->native_s);
    jsonw_key(w, "system_s");
    jsonw_double(w, c->system_s);
    jsonw_key(w, "gil_wait_s");
    jsonw_double(w, c->gil_wait_s);
    jsonw_key(w, "idle_s");
    jsonw_double(w, c->idle_s);
    jsonw_key(w, "await_s");
    jsonw_double(w, c->await_s);
    if (total_s < 0)
        return;
    double scale = total_s > 0 ? 100.0 / total_s : 0;
    jsonw_key(w, "python_percent");
    jsonw_double(w, c->python_s * scale);
    jsonw_key(w, "native_percent");
    jsonw_double(w, c->native_s * scale);
    jsonw_key(w, "system_percent");
    jsonw_double(w, c->system_s * scale);
    jsonw_key(w, "gil_wait_percent");
    jsonw_double(w, c->gil_wait_s * scale);
}

static void write_nulls(struct jsonw *w, const char *const *keys, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        jsonw_key(w, keys[i]);
        jsonw_null(w);
    }
}

static void write_point(struct jsonw *w, int64_t t_ns, double bytes)
{
    jsonw_begin_array(w);
    jsonw_double(w, (double)t_ns / 1e9);
    jsonw_double(w, bytes / MB);
    jsonw_end_array(w);
}

/* [[t_s, mb], ...], ending with the value now when the last point is older. */
static void write_timeline(struct jsonw *w, const struct timeline *timeline, double now_bytes, int64_t end_ns)
{
    jsonw_begin_array(w);
    int64_t last_ns = -1;
    for (uint32_t i = 0; timeline && i < timeline->count; i++) {
        write_point(w, timeline->points[i].t_ns, timeline->points[i].value);
        last_ns = timeline->points[i].t_ns;
    }
    struct timeline_point settled;
    if (timeline && timeline_settled(timeline, end_ns, &settled)) {
        write_point(w, settled.t_ns, settled.value);
        last_ns = settled.t_ns;
    }
    if (last_ns < end_ns)
        write_point(w, end_ns, now_bytes);
    jsonw_end_array(w);
}

/* alloc_mb, python_alloc_fraction (null when nothing was allocated) and the transient part. */
static void write_allocated(struct jsonw *w, const struct memory_counters *m)
{
    jsonw_key(w, "alloc_mb");
    jsonw_double(w, m->alloc_bytes / MB);
    jsonw_key(w, "python_alloc_fraction");
    if (m->alloc_bytes > 0)
        jsonw_double(w, m->python_bytes / m->alloc_bytes);
    else
        jsonw_null(w);
    jsonw_key(w, "transient_mb");
    jsonw_double(w, m->transient_bytes / MB);
    jsonw_key(w, "transient_python_mb");
    jsonw_double(w, m->transient_python_bytes / MB);
}

/* The memory and GPU fields of a line or function; `leak` NULL when it does not leak. */
static int gpu_measured(const struct profile_input *input)
{
    return input->gpu && input->gpu->available;
}

/* gpu_percent, gpu_mem_avg_mb and gpu_mem_peak_mb: the readings weighted by the line's time. */
static void write_line_gpu(struct jsonw *w, const struct profile_input *input, const struct gpu_counters *g)
{
    if (!gpu_measured(input)) {
        write_nulls(w, gpu_line_fields, sizeof gpu_line_fields / sizeof *gpu_line_fields);
        return;
    }
    jsonw_key(w, "gpu_percent");
    jsonw_double(w, g->util_s > 0 ? g->util_percent_s / g->util_s : 0);
    jsonw_key(w, "gpu_mem_avg_mb");
    if (input->gpu->mem_known)
        jsonw_double(w, g->mem_s > 0 ? g->mem_mb_s / g->mem_s : 0);
    else
        jsonw_null(w);
    jsonw_key(w, "gpu_mem_peak_mb");
    if (input->gpu->mem_known)
        jsonw_double(w, g->mem_peak_mb);
    else
        jsonw_null(w);
}

static void write_line_memory(struct jsonw *w, const struct profile_input *input, const struct memory_counters *m,
                              const struct leak *leak)
{
    if (!input->memory) {
        write_nulls(w, memory_line_fields, sizeof memory_line_fields / sizeof *memory_line_fields);
    } else {
        write_allocated(w, m);
        /* The peak shown is the one the samples support (linetable.h), and never below the
         * average, which is unbiased and which the true peak cannot be under. */
        double average = memory_average_bytes(m, input->end_ns);
        jsonw_key(w, "peak_mb");
        jsonw_double(w, (m->supported_peak_bytes > average ? m->supported_peak_bytes : average) / MB);
        jsonw_key(w, "avg_mb");
        jsonw_double(w, average / MB);
        jsonw_key(w, "timeline");
        if (m->timeline)
            write_timeline(w, m->timeline, m->live_bytes, input->end_ns);
        else
            jsonw_null(w);
        jsonw_key(w, "copy_mb");
        jsonw_double(w, m->copy_bytes / MB);
        jsonw_key(w, "copy_mb_s");
        jsonw_double(w, input->elapsed_s > 0 ? m->copy_bytes / MB / input->elapsed_s : 0);
        jsonw_key(w, "leak");
        if (leak) {
            jsonw_begin_object(w);
            jsonw_key(w, "likelihood");
            jsonw_double(w, leak->likelihood);
            jsonw_key(w, "mb_s");
            jsonw_double(w, leak->bytes_per_s / MB);
            jsonw_end_object(w);
        } else {
            jsonw_null(w);
        }
    }
}

static void write_string_list(struct jsonw *w, const struct string_list *list)
{
    jsonw_begin_array(w);
    for (size_t i = 0; list && i < list->count; i++)
        jsonw_string(w, list->items[i]);
    jsonw_end_array(w);
}

/* The device names, joined with ", " (NULL when there is none). */
static char *device_names(const struct gpu_summary *gpu)
{
    size_t bytes = 1;
    for (size_t i = 0; i < gpu->device_count; i++)
        bytes += strlen(gpu->devices[i].name) + 2;
    char *names = malloc(bytes);
    if (!names)
        return NULL;
    names[0] = '\0';
    for (size_t i = 0; i < gpu->device_count; i++) {
        if (i)
            strcat(names, ", ");
        strcat(names, gpu->devices[i].name);
    }
    return names;
}

static void write_gpu(struct jsonw *w, const struct profile_input *input)
{
    const struct gpu_summary *gpu = input->gpu;
    int available = gpu_measured(input);
    jsonw_begin_object(w);
    jsonw_key(w, "available");
    jsonw_bool(w, available);
    jsonw_key(w, "device");
    char *names = available && gpu->device_count ? device_names(gpu) : NULL;
    if (names)
        jsonw_string(w, names);
    else
        jsonw_null(w);
    free(names);
    jsonw_key(w, "devices");
    jsonw_begin_array(w);
    for (size_t i = 0; available && i < gpu->device_count; i++) {
        jsonw_begin_object(w);
        jsonw_key(w, "index");
        jsonw_int(w, (int64_t)i);
        jsonw_key(w, "name");
        jsonw_string(w, gpu->devices[i].name);
        jsonw_key(w, "memory_total_mb");
        if (gpu->devices[i].memory_total_mb >= 0)
            jsonw_double(w, gpu->devices[i].memory_total_mb);
        else
            jsonw_null(w);
        jsonw_end_object(w);
    }
    jsonw_end_array(w);
    jsonw_key(w, "per_process");
    jsonw_bool(w, available && gpu->per_process);
    jsonw_key(w, "note");
    if (gpu && gpu->note[0])
        jsonw_string(w, gpu->note);
    else
        jsonw_null(w);
    jsonw_key(w, "timeline");
    if (available && gpu->mem_timeline)
        write_timeline(w, gpu->mem_timeline, gpu->mem_last_mb * MB, input->end_ns);
    else
        jsonw_null(w);
    jsonw_end_object(w);
}

static void write_header(struct jsonw *w, const struct profile_input *input)
{
    jsonw_key(w, "schema");
    jsonw_string(w, PROFILE_SCHEMA);
    jsonw_key(w, "program");
    jsonw_string(w, input->program);
    jsonw_key(w, "argv");
    write_string_list(w, input->argv);
    jsonw_key(w, "python_version");
    jsonw_string(w, input->python_version);
    jsonw_key(w, "heatline_version");
    jsonw_string(w, input->heatline_version);
    jsonw_key(w, "elapsed_s");
    jsonw_double(w, input->elapsed_s);
    jsonw_key(w, "cpu_sampling_interval_s");
    jsonw_double(w, input->cpu_sampling_interval_s);
    jsonw_key(w, "memory_sampling_rate_bytes");
    if (input->memory)
        jsonw_int(w, input->memory_sampling_rate_bytes);
    else
        jsonw_null(w);
    jsonw_key(w, "gpu");
    write_gpu(w, input);
    jsonw_key(w, "samples");
    jsonw_begin_object(w);
    jsonw_key(w, "cpu");
    jsonw_int(w, input->samples);
    jsonw_key(w, "dropped");
    jsonw_int(w, input->dropped_samples);
    jsonw_key(w, "memory");
    if (input->memory)
        jsonw_int(w, (int64_t)input->live->samples);
    else
        jsonw_null(w);
    jsonw_key(w, "memory_dropped");
    if (input->memory)
        jsonw_int(w, (int64_t)input->memory_dropped);
    else
        jsonw_null(w);
    jsonw_end_object(w);
    jsonw_key(w, "message");
    if (input->samples > 0)
        jsonw_null(w);
    else
        jsonw_string(w, NO_SAMPLE_MESSAGE);
}

static void write_process(struct jsonw *w, const struct profile_input *input)
{
    const struct profile_process *p = &input->process;
    jsonw_key(w, "processes");
    jsonw_begin_array(w);
    jsonw_begin_object(w);
    jsonw_key(w, "pid");
    jsonw_int(w, p->pid);
    jsonw_key(w, "ppid");
    jsonw_int(w, p->ppid);
    jsonw_key(w, "argv");
    write_string_list(w, input->argv);
    jsonw_key(w, "start_method");
    if (p->start_method)
        jsonw_string(w, p->start_method);
    else
        jsonw_null(w);
    jsonw_key(w, "start_s");
    jsonw_double(w, p->start_s);
    jsonw_key(w, "elapsed_s");
    jsonw_double(w, input->elapsed_s);
    jsonw_key(w, "cpu_s");
    jsonw_double(w, p->cpu_s);
    jsonw_key(w, "peak_mb");
    if (input->memory)
        jsonw_double(w, input->live->peak_bytes / MB);
    else
        jsonw_null(w);
    jsonw_key(w, "complete");
    jsonw_bool(w, p->complete);
    jsonw_end_object(w);
    jsonw_end_array(w);
}

static void write_totals(struct jsonw *w, const struct profile_input *input)
{
    jsonw_key(w, "totals");
    jsonw_begin_object(w);
    write_counters(w, &input->totals, -1);
    jsonw_key(w, "outside_program_s");
    jsonw_double(w, input->outside_program_s);
    jsonw_key(w, "cpu_wait_s");
    jsonw_double(w, input->cpu_wait_s);
    jsonw_key(w, "unattributed_cpu_s");
    jsonw_double(w, input->unattributed_cpu_s);
    if (input->memory) {
        write_allocated(w, &input->live->totals);
        jsonw_key(w, "peak_mb");
        jsonw_double(w, input->live->peak_bytes / MB);
        jsonw_key(w, "copy_mb");
        jsonw_double(w, input->live->totals.copy_bytes / MB);
    } else {
        static const char *const memory_totals[] = {"alloc_mb", "python_alloc_fraction", "transient_mb",
                                                     "transient_python_mb", "peak_mb", "copy_mb"};
        write_nulls(w, memory_totals, sizeof memory_totals / sizeof *memory_totals);
    }
    jsonw_key(w, "gpu_percent");
    if (gpu_measured(input) && input->gpu->util_known)
        jsonw_double(w, input->gpu->util_mean_percent);
    else
        jsonw_null(w);
    jsonw_key(w, "gpu_mem_peak_mb");
    if (gpu_measured(input) && input->gpu->mem_known)
        jsonw_double(w, input->gpu->mem_peak_mb);
    else
        jsonw_null(w);
    jsonw_end_object(w);
    jsonw_key(w, "timeline");
    if (input->memory)
        write_timeline(w, input->live->footprint, input->live->footprint_bytes, input->end_ns);
    else
        jsonw_null(w);
    jsonw_key(w, "memory_peak");
    if (input->memory) {
        jsonw_begin_object(w);
        jsonw_key(w, "t_s");
        jsonw_double(w, (double)input->live->peak_ns / 1e9);
        jsonw_key(w, "mb");
        jsonw_double(w, input->live->peak_bytes / MB);
        const struct line_entry *peak_line = input->live->peak_line;
        jsonw_key(w, "file");
        if (peak_line)
            jsonw_string(w, linetable_string(input->lines, peak_line->file));
        else
            jsonw_null(w);
        jsonw_key(w, "line");
        if (peak_line)
            jsonw_int(w, peak_line->line);
        else
            jsonw_null(w);
        jsonw_end_object(w);
    } else {
        jsonw_null(w);
    }
    write_process(w, input);
    jsonw_key(w, "threads");
    jsonw_begin_array(w);
    for (size_t i = 0; i < input->thread_count; i++) {
        jsonw_begin_object(w);
        jsonw_key(w, "tid");
        jsonw_int(w, input->threads[i].tid);
        write_counters(w, &input->threads[i].totals, -1);
        jsonw_end_object(w);
    }
    jsonw_end_array(w);
    jsonw_key(w, "warnings");
    jsonw_begin_array(w);
    for (size_t i = 0; i < input->warning_count; i++)
        jsonw_string(w, input->warnings[i]);
    jsonw_end_array(w);
    jsonw_key(w, "profiled_functions");
    if (!input->functions) {
        jsonw_null(w);
        return;
    }
    jsonw_begin_array(w);
    for (size_t i = 0; i < input->function_count; i++) {
        const struct profiled_function *f = &input->functions[i];
        jsonw_begin_object(w);
        jsonw_key(w, "file");
        jsonw_string(w, f->file);
        jsonw_key(w, "name");
        jsonw_string(w, f->name);
        jsonw_key(w, "first_line");
        jsonw_int(w, f->first_line);
        jsonw_key(w, "last_line");
        jsonw_int(w, f->last_line);
        jsonw_end_object(w);
    }
    jsonw_end_array(w);
}

/* Whether a line leaks (leaks.h), into `*out`. */
static int line_leaks(const struct profile_input *input, const struct line_entry *line, struct leak *out)
{
    return input->memory && leak_assess(&line->memory, input->end_ns, input->live->peak_bytes, out);
}

/* A function's leak, from its lines' (leak_combine). */
static int function_leaks(const struct profile_input *input, const struct function_entry *function,
                          const struct line_entry *const *lines, size_t line_count, struct leak *out)
{
    memset(out, 0, sizeof *out);
    int leaks = 0;
    struct leak leak;
    for (size_t i = 0; i < line_count; i++) {
        if (lines[i]->function == function && line_leaks(input, lines[i], &leak)) {
            leak_combine(out, &leak);
            leaks = 1;
        }
    }
    return leaks;
}

static void write_file(struct jsonw *w, const struct profile_input *input, const struct file_group *group,
                       const struct line_entry *const *lines, const struct function_entry *const *functions,
                       double total_s)
{
    jsonw_key(w, group->path);
    jsonw_begin_object(w);
    jsonw_key(w, "percent");
    jsonw_double(w, total_s > 0 ? 100.0 * counters_total_s(&group->totals) / total_s : 0);
    write_counters(w, &group->totals, -1);
    struct source source;
    source_load(&source, group->path);
    const struct line_entry *const *file_lines = lines + group->first_line;
    struct leak leak;
    jsonw_key(w, "lines");
    jsonw_begin_array(w);
    for (size_t i = 0; i < group->line_count; i++) {
        jsonw_begin_object(w);
        jsonw_key(w, "line");
        jsonw_int(w, file_lines[i]->line);
        jsonw_key(w, "source");
        jsonw_string(w, source_line(&source, file_lines[i]->line));
        write_counters(w, &file_lines[i]->counters, total_s);
        write_line_memory(w, input, &file_lines[i]->memory, line_leaks(input, file_lines[i], &leak) ? &leak : NULL);
        write_line_gpu(w, input, &file_lines[i]->gpu);
        jsonw_end_object(w);
    }
    jsonw_end_array(w);
    source_free(&source);
    jsonw_key(w, "functions");
    jsonw_begin_array(w);
    for (size_t i = group->first_function; i < group->first_function + group->function_count; i++) {
        jsonw_begin_object(w);
        jsonw_key(w, "name");
        jsonw_string(w, linetable_string(input->lines, functions[i]->name));
        jsonw_key(w, "line");
        jsonw_int(w, functions[i]->first_line);
        write_counters(w, &functions[i]->counters, total_s);
        int leaks = function_leaks(input, functions[i], file_lines, group->line_count, &leak);
        write_line_memory(w, input, &functions[i]->memory, leaks ? &leak : NULL);
        write_line_gpu(w, input, &functions[i]->gpu);
        jsonw_end_object(w);
    }
    jsonw_end_array(w);
    jsonw_end_object(w);
}

/* Groups the measured lines and functions by file; both arrays come sorted by file id. */
static size_t group_by_file(const struct profile_input *input, const struct line_entry **lines,
                            size_t line_count, const struct function_entry **functions,
                            size_t function_count, struct file_group *groups)
{
    size_t count = 0, f = 0;
    for (size_t i = 0; i < line_count;) {
        struct file_group *group = &groups[count++];
        memset(group, 0, sizeof *group);
        group->file = lines[i]->file;
        group->path = linetable_string(input->lines, group->file);
        group->first_line = i;
        for (; i < line_count && lines[i]->file == group->file; i++)
            counters_add(&group->totals, &lines[i]->counters);
        group->line_count = i - group->first_line;
        while (f < function_count && functions[f]->file < group->file)
            f++;
        group->first_function = f;
        for (; f < function_count && functions[f]->file == group->file; f++)
            ;
        group->function_count = f - group->first_function;
    }
    return count;
}

static void write_stack_frame(struct jsonw *w, const struct profile_input *input, const struct stack_frame *frame)
{
    jsonw_begin_object(w);
    int cut = frame->file == LINETABLE_NO_ID;
    jsonw_key(w, "function");
    jsonw_string(w, cut ? "[frames cut]" : linetable_string(input->lines, frame->function));
    jsonw_key(w, "file");
    if (cut)
        jsonw_null(w);
    else
        jsonw_string(w, linetable_string(input->lines, frame->file));
    jsonw_key(w, "line");
    if (cut)
        jsonw_null(w);
    else
        jsonw_int(w, frame->line);
    jsonw_key(w, "first_line");
    if (cut)
        jsonw_null(w);
    else
        jsonw_int(w, frame->first_line);
    jsonw_key(w, "program");
    jsonw_bool(w, frame->program);
    jsonw_end_object(w);
}

static int stack_credited(const struct stack_values *v)
{
    return v->samples || counters_all_s(&v->time) > 0 || v->alloc_bytes > 0 ||
           v->copy_bytes > 0;
}

static void write_stack(struct jsonw *w, const struct profile_input *input, size_t id, const struct stack_values *v)
{
    uint32_t frames[STACKS_MAX_DEPTH + 1];
    size_t depth = stacks_path(input->stacks, id, frames);
    jsonw_begin_object(w);
    jsonw_key(w, "frames");
    jsonw_begin_array(w);
    for (size_t i = 0; i < depth; i++)
        jsonw_int(w, frames[i]);
    jsonw_end_array(w);
    jsonw_key(w, "samples");
    jsonw_int(w, (int64_t)v->samples);
    write_counters(w, &v->time, -1);
    if (input->memory) {
        jsonw_key(w, "alloc_mb");
        jsonw_double(w, v->alloc_bytes / MB);
        jsonw_key(w, "copy_mb");
        jsonw_double(w, v->copy_bytes / MB);
        jsonw_key(w, "peak_mb");
        jsonw_double(w, stacks_peak_live_bytes(input->stacks, id, input->live->peak_serial) / MB);
    } else {
        static const char *const memory[] = {"alloc_mb", "copy_mb", "peak_mb"};
        write_nulls(w, memory, sizeof memory / sizeof *memory);
    }
    jsonw_end_object(w);
}

static void write_stacks(struct jsonw *w, const struct profile_input *input)
{
    jsonw_key(w, "stacks");
    jsonw_begin_object(w);
    jsonw_key(w, "max_depth");
    jsonw_int(w, STACKS_MAX_DEPTH);
    jsonw_key(w, "limit");
    jsonw_int(w, stacks_limit(input->stacks));
    struct stacks_merged merged = stacks_merged(input->stacks);
    jsonw_key(w, "merged");
    jsonw_begin_object(w);
    jsonw_key(w, "credits");
    jsonw_int(w, (int64_t)merged.credits);
    jsonw_key(w, "seconds");
    jsonw_double(w, merged.seconds);
    jsonw_key(w, "alloc_mb");
    if (input->memory)
        jsonw_double(w, merged.alloc_bytes / MB);
    else
        jsonw_null(w);
    jsonw_end_object(w);
    jsonw_key(w, "frames");
    jsonw_begin_array(w);
    size_t frame_count = stacks_frame_count(input->stacks);
    for (size_t i = 0; i < frame_count; i++)
        write_stack_frame(w, input, stacks_frame_at(input->stacks, i));
    jsonw_end_array(w);
    jsonw_key(w, "stacks");
    jsonw_begin_array(w);
    size_t count = stacks_count(input->stacks);
    for (size_t id = 0; id < count; id++) {
        const struct stack_values *v = stacks_values_at(input->stacks, id);
        if (stack_credited(v))
            write_stack(w, input, id, v);
    }
    jsonw_end_array(w);
    jsonw_end_object(w);
}

char *profile_write(const struct profile_input *input)
{
    size_t total_lines = linetable_line_count(input->lines);
    size_t total_functions = linetable_function_count(input->lines);
    const struct line_entry **lines = malloc((total_lines + 1) * sizeof *lines);
    const struct function_entry **functions = malloc((total_functions + 1) * sizeof *functions);
    struct file_group *groups = malloc((total_lines + 1) * sizeof *groups);
    if (!lines || !functions || !groups) {
        free(lines);
        free(functions);
        free(groups);
        return NULL;
    }
    size_t line_count = 0, function_count = 0;
    for (size_t i = 0; i < total_lines; i++) {
        const struct line_entry *e = linetable_line_at(input->lines, i);
        if (measured(&e->counters, &e->memory, input->memory))
            lines[line_count++] = e;
    }
    for (size_t i = 0; i < total_functions; i++) {
        const struct function_entry *e = linetable_function_at(input->lines, i);
        if (measured(&e->counters, &e->memory, input->memory))
            functions[function_count++] = e;
    }
    sorting_table = input->lines;
    qsort(lines, line_count, sizeof *lines, compare_lines);
    qsort(functions, function_count, sizeof *functions, compare_functions);
    size_t group_count = group_by_file(input, lines, line_count, functions, function_count, groups);
    qsort(groups, group_count, sizeof *groups, compare_groups);

    double total_s = counters_total_s(&input->totals);
    struct jsonw w;
    jsonw_init(&w);
    jsonw_begin_object(&w);
    write_header(&w, input);
    write_totals(&w, input);
    jsonw_key(&w, "files");
    jsonw_begin_object(&w);
    for (size_t i = 0; i < group_count; i++)
        write_file(&w, input, &groups[i], lines, functions, total_s);
    jsonw_end_object(&w);
    write_stacks(&w, input);
    jsonw_end_object(&w);
    free(lines);
    free(functions);
    free(groups);
    if (w.failed) {
        jsonw_free(&w);
        return NULL;
    }
    return w.text;
}
