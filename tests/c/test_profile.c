/* The profile writer: names, nulls for what was not measured, percentages, source text, the
 * decorated functions listed (never filtered: the document is lossless), warnings, a function's
 * leak from its lines'. The output is checked by looking for exact fragments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "profile.h"

static char source_path[] = "/tmp/heatline-test-profile-XXXXXX";
static struct stacks *no_stacks;

static struct linetable *sample_table(void)
{
    struct linetable *table = linetable_new();
    uint32_t file = linetable_intern(table, source_path);
    uint32_t name = linetable_intern(table, "work");
    linetable_line(table, file, 2)->counters.python_s = 3;
    linetable_line(table, file, 3)->counters.native_s = 1;
    linetable_line(table, file, 4); /* created, never credited: not written */
    struct function_entry *function = linetable_function(table, file, name, 1);
    function->counters.python_s = 3;
    function->counters.native_s = 1;
    return table;
}

static struct profile_input sample_input(struct linetable *table, struct string_list *argv)
{
    struct profile_input input = {0};
    input.program = source_path;
    input.argv = argv;
    input.python_version = "3.11.7";
    input.heatline_version = "0.1.0";
    input.process.pid = 42;
    input.elapsed_s = 5;
    input.cpu_sampling_interval_s = 0.01;
    input.samples = 400;
    input.totals.python_s = 3;
    input.totals.native_s = 1;
    input.lines = table;
    input.stacks = no_stacks;
    return input;
}

static int has(const char *document, const char *fragment)
{
    if (strstr(document, fragment))
        return 1;
    fprintf(stderr, "missing: %s\n", fragment);
    return 0;
}

static void test_document_names_units_and_nulls(void)
{
    struct linetable *table = sample_table();
    struct string_list argv = {0};
    string_list_add(&argv, "prog.py");
    struct profile_input input = sample_input(table, &argv);
    char *document = profile_write(&input);
    CHECK(document != NULL);
    CHECK(has(document, "\"schema\":\"heatline-profile/1\""));
    CHECK(has(document, "\"memory_sampling_rate_bytes\":null"));
    CHECK(has(document, "\"message\":null"));
    CHECK(has(document, "\"line\":2,\"source\":\"    total = 0\",\"python_s\":3,"));
    CHECK(has(document, "\"python_percent\":75,"));
    CHECK(has(document, "\"native_percent\":25,"));
    CHECK(has(document, "\"alloc_mb\":null"));
    CHECK(has(document, "\"leak\":null"));
    CHECK(has(document, "\"functions\":[{\"name\":\"work\",\"line\":1,"));
    CHECK(has(document, "\"profiled_functions\":null"));
    CHECK(!strstr(document, "\"line\":4,"));
    free(document);
    string_list_free(&argv);
    linetable_free(table);
}

static void test_decorated_functions_are_listed_and_every_line_kept(void)
{
    struct linetable *table = sample_table();
    struct profiled_function only = {source_path, "work", 1, 2};
    struct profile_input input = sample_input(table, NULL);
    input.functions = &only;
    input.function_count = 1;
    char *document = profile_write(&input);
    CHECK(has(document, "\"line\":2,"));
    CHECK(has(document, "\"line\":3,")); /* outside the decorated range, still in the document */
    CHECK(has(document, "\"profiled_functions\":[{\"file\":"));
    CHECK(has(document, "\"warnings\":[]"));
    free(document);
    linetable_free(table);
}

static void test_warnings_are_written(void)
{
    struct linetable *table = sample_table();
    struct profile_input input = sample_input(table, NULL);
    const char *warnings[] = {"3 CPU samples were lost", "a second"};
    input.warnings = warnings;
    input.warning_count = 2;
    char *document = profile_write(&input);
    CHECK(has(document, "\"warnings\":[\"3 CPU samples were lost\",\"a second\"]"));
    free(document);
    linetable_free(table);
}

/* A function whose one line keeps what it allocates while another frees its temporaries: its
 * own counters mix the two (the likelihood falls below the rule's), its leak is its line's. */
static void test_a_function_leaks_when_its_line_does(void)
{
    struct linetable *table = sample_table();
    uint32_t file = linetable_intern(table, source_path);
    struct function_entry *function = linetable_function(table, file, linetable_intern(table, "work"), 1);
    struct line_entry *leaking = linetable_line(table, file, 2), *churning = linetable_line(table, file, 3);
    leaking->function = churning->function = function;
    for (int i = 0; i < 40; i++) {
        int64_t t = (int64_t)i * 50000000;
        struct memory_counters *both[] = {&leaking->memory, &function->memory};
        for (int k = 0; k < 2; k++) {
            both[k]->alloc_bytes += 1 << 20;
            both[k]->samples++;
            memory_change_live(both[k], (struct live_change){1 << 20, 0, 0}, t);
        }
        struct memory_counters *temporary[] = {&churning->memory, &function->memory};
        for (int k = 0; k < 2; k++) {
            for (int j = 0; j < 3; j++) {
                temporary[k]->alloc_bytes += 1 << 20;
                temporary[k]->samples++;
                memory_change_live(temporary[k], (struct live_change){1 << 20, 0, 0}, t + 1000);
                temporary[k]->freed++;
                memory_change_live(temporary[k], (struct live_change){-(1 << 20), 0, 0}, t + 2000);
            }
        }
    }
    struct live_memory live;
    CHECK(live_start(&live, no_stacks) == 0);
    live.peak_bytes = 40.0 * (1 << 20);
    struct profile_input input = sample_input(table, NULL);
    input.memory = 1;
    input.memory_sampling_rate_bytes = 1 << 20;
    input.live = &live;
    input.end_ns = 2000000000;
    char *document = profile_write(&input);
    const char *functions = strstr(document, "\"functions\":[");
    CHECK(functions && strstr(functions, "\"leak\":{\"likelihood\":"));
    const char *line2 = strstr(document, "\"line\":2,");
    const char *line3 = strstr(document, "\"line\":3,");
    CHECK(line2 && line3 && strstr(line2, "\"leak\":{") < line3);
    free(document);
    live_free(&live);
    linetable_free(table);
}

static void test_no_samples_gives_a_message(void)
{
    struct linetable *table = linetable_new();
    struct profile_input input = sample_input(table, NULL);
    input.samples = 0;
    input.totals.python_s = input.totals.native_s = 0;
    char *document = profile_write(&input);
    CHECK(has(document, "\"message\":\"the program finished before any sample was taken\""));
    CHECK(has(document, "\"files\":{}"));
    free(document);
    linetable_free(table);
}

static void test_gpu_fields_are_null_unless_measured_and_weighted_by_time_when_they_are(void)
{
    struct linetable *table = sample_table();
    struct profile_input input = sample_input(table, NULL);
    char *document = profile_write(&input);
    CHECK(has(document, "\"gpu\":{\"available\":false,\"device\":null,\"devices\":[],\"per_process\":false,"
                        "\"note\":null,\"timeline\":null}"));
    CHECK(has(document, "\"gpu_percent\":null,\"gpu_mem_avg_mb\":null,\"gpu_mem_peak_mb\":null"));
    free(document);

    /* Line 2: 1 s at 90% and 512 MB, then 3 s at 10% and 256 MB: 30% and 320 MB on average. */
    uint32_t file = linetable_intern(table, source_path);
    struct gpu_counters *gpu = &linetable_line(table, file, 2)->gpu;
    gpu_counters_add(gpu, 90, 512, 1);
    gpu_counters_add(gpu, 10, 256, 3);
    gpu_counters_add(gpu, -1, -1, 5); /* nothing known: no weight */
    struct gpu_summary summary = {.available = 1, .per_process = 1, .device_count = 2, .util_known = 1,
                                  .util_mean_percent = 25, .mem_known = 1, .mem_peak_mb = 512};
    snprintf(summary.devices[0].name, sizeof summary.devices[0].name, "GPU A");
    summary.devices[0].memory_total_mb = 1024;
    snprintf(summary.devices[1].name, sizeof summary.devices[1].name, "GPU B");
    summary.devices[1].memory_total_mb = -1;
    input.gpu = &summary;
    document = profile_write(&input);
    CHECK(has(document, "\"gpu\":{\"available\":true,\"device\":\"GPU A, GPU B\",\"devices\":[{\"index\":0,"
                        "\"name\":\"GPU A\",\"memory_total_mb\":1024},{\"index\":1,\"name\":\"GPU B\","
                        "\"memory_total_mb\":null}],\"per_process\":true,\"note\":null,\"timeline\":null}"));
    CHECK(has(document, "\"gpu_percent\":25,\"gpu_mem_peak_mb\":512}"));
    CHECK(has(document, "\"gpu_percent\":30,\"gpu_mem_avg_mb\":320,\"gpu_mem_peak_mb\":512}"));
    CHECK(has(document, "\"gpu_percent\":0,\"gpu_mem_avg_mb\":0,\"gpu_mem_peak_mb\":0}")); /* line 3 */
    free(document);
    linetable_free(table);
}

static void test_stacks_are_written_root_first_with_their_own_values(void)
{
    struct linetable *table = sample_table();
    struct stacks *stacks = stacks_new(STACKS_LIMIT, STACKS_FRAME_LIMIT);
    uint32_t file = linetable_intern(table, source_path);
    struct stack_frame outer = {file, linetable_intern(table, "<module>"), 1, 9, 1};
    struct stack_frame inner = {file, linetable_intern(table, "work"), 1, 2, 1};
    uint32_t path[] = {stacks_frame(stacks, &outer), stacks_cut_frame(stacks), stacks_frame(stacks, &inner)};
    struct stack_ref ref = stacks_intern(stacks, path, 3);
    struct counters amount = {0.5, 0.25, 0, 0, 0, 0};
    stacks_credit_time(stacks, ref, &amount);
    stacks_count_sample(stacks, ref);
    stacks_intern(stacks, path, 1); /* interned, never credited: not written */
    struct profile_input input = sample_input(table, NULL);
    input.stacks = stacks;
    char *document = profile_write(&input);
    CHECK(document != NULL);
    CHECK(has(document, "\"stacks\":{\"max_depth\":128,\"limit\":65536,"));
    CHECK(has(document, "\"merged\":{\"credits\":0,\"seconds\":0,\"alloc_mb\":null}"));
    CHECK(has(document, "{\"function\":\"[frames cut]\",\"file\":null,\"line\":null,\"first_line\":null,\"program\":false}"));
    CHECK(has(document, "{\"function\":\"work\",\"file\":\""));
    CHECK(has(document, "\"stacks\":[{\"frames\":[0,1,2],\"samples\":1,\"python_s\":0.5,\"native_s\":0.25,"
                        "\"system_s\":0,\"gil_wait_s\":0,\"idle_s\":0,\"await_s\":0,\"alloc_mb\":null,\"copy_mb\":null,\"peak_mb\":null}]"));
    free(document);
    stacks_free(stacks);
    linetable_free(table);
}

int main(void)
{
    int fd = mkstemp(source_path);
    const char *text = "def work():\n    total = 0\n    return total\n";
    CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    no_stacks = stacks_new(STACKS_LIMIT, STACKS_FRAME_LIMIT);
    test_document_names_units_and_nulls();
    test_decorated_functions_are_listed_and_every_line_kept();
    test_warnings_are_written();
    test_a_function_leaks_when_its_line_does();
    test_no_samples_gives_a_message();
    test_gpu_fields_are_null_unless_measured_and_weighted_by_time_when_they_are();
    test_stacks_are_written_root_first_with_their_own_values();
    stacks_free(no_stacks);
    unlink(source_path);
    return check_report("profile");
}
