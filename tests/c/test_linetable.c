/* The line table: interning, stable entries, counters, growth past many chunks. */
#include <stdio.h>

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
    struct counters *first = linetable_line(table, file, 1);
    first->python_s = 1.5;
    for (int line = 2; line < 50000; line++) {
        struct counters *c = linetable_line(table, file, line);
        CHECK(c != NULL);
        c->native_s = line;
    }
    CHECK(linetable_line(table, file, 1) == first);
    CHECK(first->python_s == 1.5);
    CHECK(linetable_line_count(table) == 49999);
    CHECK(linetable_line(table, file, 49999)->native_s == 49999);
    const struct line_entry *entry = linetable_line_at(table, 0);
    CHECK(entry->file == file && entry->line == 1);
    linetable_free(table);
}

static void test_functions_are_keyed_by_file_name_and_first_line(void)
{
    struct linetable *table = linetable_new();
    uint32_t file = linetable_intern(table, "f.py");
    uint32_t name = linetable_intern(table, "Outer.method");
    struct counters *a = linetable_function(table, file, name, 10);
    struct counters *b = linetable_function(table, file, name, 20);
    CHECK(a != b);
    CHECK(linetable_function(table, file, name, 10) == a);
    CHECK(linetable_function_count(table) == 2);
    linetable_free(table);
}

static void test_counters_add_and_total(void)
{
    struct counters sum = {0, 0, 0, 0};
    struct counters amount = {1, 2, 3, 4};
    counters_add(&sum, &amount);
    counters_add(&sum, &amount);
    CHECK(sum.python_s == 2 && sum.native_s == 4 && sum.system_s == 6 && sum.gil_wait_s == 8);
    CHECK(counters_total_s(&sum) == 12); /* GIL wait is beside the total, not in it */
}

int main(void)
{
    test_interning_gives_one_id_per_string();
    test_entries_keep_their_address_while_the_table_grows();
    test_functions_are_keyed_by_file_name_and_first_line();
    test_counters_add_and_total();
    return check_report("linetable");
}
