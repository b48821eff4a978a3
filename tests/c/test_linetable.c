/* The line table: interning, stable entries, counters, growth past many chunks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "linetable.h"

static void test_interning_gives_one_id_per_string(void)
{
    struct linetable *table = linetable_new();
    uint32_t a = linetable_intern(table, "/prog/a.py");
    uint32_t b = linetable_intern(table, "/prog/b.py");
    CHECK(a != b);
    CHECK(linetable_intern(table, "/prog/a.py") == a);
    CHECK_STR(linetable_string(table, b), "/prog/b.py");
    CHECK_STR(linetable_string(table, 12345), "");
    linetable_free(table);
}

static void test_entries_keep_their_address_while_the_table_grows(void)
{
    struct linetable *table = linetable_new();
    uint32_t file = linetable_intern(table, "f.py");
    struct line_entry *first = linetable_line(table, file, 1);
    first->counters.python_s = 1.5;
    for (int line = 2; line < 50000; line++) {
        struct line_entry *e = linetable_line(table, file, line);
        CHECK(e != NULL);
        e->counters.native_s = line;
    }
    CHECK(linetable_line(table, file, 1) == first);
    CHECK(first->counters.python_s == 1.5);
    CHECK(linetable_line_count(table) == 49999);
    CHECK(linetable_line(table, file, 49999)->counters.native_s == 49999);
    const struct line_entry *entry = linetable_line_at(table, 0);
    CHECK(entry->file == file && entry->line == 1);
    linetable_free(table);
}

static void test_functions_are_keyed_by_file_name_and_first_line(void)
{
    struct linetable *table = linetable_new();
    uint32_t file = linetable_intern(table, "f.py");
    uint32_t name = linetable_intern(table, "Outer.method");
    struct function_entry *a = linetable_function(table, file, name, 10);
    struct function_entry *b = linetable_function(table, file, name, 20);
    CHECK(a != b);
    CHECK(linetable_function(table, file, name, 10) == a);
    CHECK(linetable_function_count(table) == 2);
    linetable_free(table);
}

static void test_counters_add_and_total(void)
{
    struct counters sum = {0};
    struct counters amount = {1, 2, 3, 4, 5, 1.5};
    counters_add(&sum, &amount);
    counters_add(&sum, &amount);
    CHECK(sum.python_s == 2 && sum.native_s == 4 && sum.system_s == 6 && sum.gil_wait_s == 8 && sum.idle_s == 10 &&
          sum.await_s == 3);
    CHECK(counters_total_s(&sum) == 12); /* GIL wait and idle waiting are beside the total, not in it */
    CHECK(counters_all_s(&sum) == 30); /* await time is a part of the system time, not beside it */
}

static void test_timeline_keeps_the_peak_of_each_bucket_and_stays_bounded(void)
{
    struct timeline *timeline = timeline_new(8);
    timeline_record(timeline, 1000000, 5);   /* bucket 0 of 10 ms */
    timeline_record(timeline, 2000000, 9);
    timeline_record(timeline, 3000000, 1);
    CHECK(timeline->count == 1 && timeline->points[0].value == 9);
    timeline_record(timeline, 35000000, 2);  /* bucket 30 ms */
    /* Bucket 0 peaked at 9 but ended at 1: the next bucket says so. */
    CHECK(timeline->count == 3 && timeline->points[1].t_ns == 10000000 && timeline->points[1].value == 1);
    CHECK(timeline->points[2].t_ns == 30000000 && timeline->points[2].value == 2);
    CHECK(timeline_value_at(timeline, 20000000) == 1);  /* held between points */
    CHECK(timeline_value_at(timeline, -1) == 0);
    double highest = 0;
    for (int i = 0; i < 10000; i++) {
        double value = (double)((i * 7919) % 1000);
        highest = value > highest ? value : highest;
        timeline_record(timeline, 40000000 + (int64_t)i * 1000000, value);
        /* Room for what the writer adds (a settled point and the end): the written timeline
         * never has more than `capacity` points. */
        CHECK(timeline->count + TIMELINE_WRITER_POINTS <= timeline->capacity);
    }
    double seen = 0;
    for (uint32_t i = 0; i < timeline->count; i++) {
        seen = timeline->points[i].value > seen ? timeline->points[i].value : seen;
        if (i)
            CHECK(timeline->points[i].t_ns > timeline->points[i - 1].t_ns);
    }
    CHECK(seen == highest); /* merging buckets never loses the peak */
    CHECK(timeline->spacing_ns > TIMELINE_FIRST_SPACING_NS);
    free(timeline);
}

static void test_live_memory_integrates_and_peaks(void)
{
    struct memory_counters memory = {0};
    memory_change_live(&memory, (struct live_change){100, 0, 0}, 0);
    memory_change_live(&memory, (struct live_change){100, 0, 0}, 1000000000);  /* 100 B for 1 s, then 200 B */
    memory_change_live(&memory, (struct live_change){-200, 0, 0}, 2000000000); /* 200 B for 1 s, then 0 */
    CHECK(memory.peak_bytes == 200 && memory.live_bytes == 0);
    double average = memory_average_bytes(&memory, 4000000000);
    CHECK(average > 74.9 && average < 75.1); /* (100 + 200) / 4 s */
    CHECK(memory.timeline && memory.timeline->count == 3);
    free(memory.timeline);
}

/* One small object at a time, sampled now and then: its weight (a whole sampling interval)
 * overshoots what the line holds, and one standard deviation takes it back: no peak to show. A
 * line holding many sampled blocks keeps a peak close to its live estimate. */
static void test_a_peak_needs_the_evidence_of_several_samples(void)
{
    const double rate = 1 << 20, size = 32, weight = size / -expm1(-size / rate);
    struct memory_counters one = {0};
    for (int i = 0; i < 100; i++) {
        memory_change_live(&one, (struct live_change){weight, weight * (weight - size), size}, (int64_t)i * 2000000);
        memory_change_live(&one, (struct live_change){-weight, -weight * (weight - size), -size}, (int64_t)i * 2000000 + 1000000);
    }
    CHECK(one.peak_bytes >= weight);
    CHECK(one.supported_peak_bytes < 1024); /* 32 bytes: the object itself */
    /* One sampled block as large as the rate: its own size is certain, its weight is not. */
    struct memory_counters medium = {0};
    double medium_weight = rate / -expm1(-1.0);
    memory_change_live(&medium, (struct live_change){medium_weight, medium_weight * (medium_weight - rate), rate}, 0);
    CHECK(medium.supported_peak_bytes == rate);
    free(medium.timeline);
    struct memory_counters many = {0};
    for (int i = 0; i < 1600; i++) /* 100 MB of small objects at 64 KiB */
        memory_change_live(&many, (struct live_change){65536, 65536.0 * 65536.0, 100}, (int64_t)i * 1000);
    CHECK(many.supported_peak_bytes > 0.95 * many.live_bytes && many.supported_peak_bytes < many.live_bytes);
    free(one.timeline);
    free(many.timeline);
}

int main(void)
{
    test_a_peak_needs_the_evidence_of_several_samples();
    test_interning_gives_one_id_per_string();
    test_entries_keep_their_address_while_the_table_grows();
    test_functions_are_keyed_by_file_name_and_first_line();
    test_counters_add_and_total();
    test_timeline_keeps_the_peak_of_each_bucket_and_stays_bounded();
    test_live_memory_integrates_and_peaks();
    return check_report("linetable");
}
