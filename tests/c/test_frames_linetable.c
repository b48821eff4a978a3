/* Line-table decoding against CPython's own answers for real code objects of 3.9-3.13, and
 * against malformed tables. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "frames_linetable.h"

struct vector {
    const char *name;
    enum linetable_format format;
    int first_line;
    const uint8_t *table;
    size_t table_len;
    const int32_t *lines;
    size_t units;
};

#define LINETABLE_DATA
#include "linetable_vectors.h"
#undef LINETABLE_DATA

#define VECTOR(ident, format, first, table_len, units) \
    {#ident, (enum linetable_format)(format), first, ident##_table, table_len, ident##_lines, units},
static const struct vector vectors[] = {
#include "linetable_vectors.h"
};
#undef VECTOR

static void test_every_unit_matches_cpython(void)
{
    for (size_t v = 0; v < sizeof vectors / sizeof *vectors; v++) {
        const struct vector *vector = &vectors[v];
        int32_t *map = malloc(vector->units * sizeof *map);
        CHECK(linetable_build_map(vector->format, vector->first_line, vector->table, vector->table_len,
                                  map, vector->units) == 0);
        for (size_t unit = 0; unit < vector->units; unit++) {
            if (map[unit] != vector->lines[unit]) {
                fprintf(stderr, "%s: unit %zu: line %d, CPython says %d\n", vector->name, unit,
                        map[unit], vector->lines[unit]);
                CHECK(map[unit] == vector->lines[unit]);
                break;
            }
        }
        free(map);
    }
}

static void test_truncated_tables_are_reported_and_stay_in_bounds(void)
{
    for (size_t v = 0; v < sizeof vectors / sizeof *vectors; v++) {
        const struct vector *vector = &vectors[v];
        if (vector->format != LINETABLE_LOCATIONS || vector->table_len < 4)
            continue;
        int32_t *map = malloc(vector->units * sizeof *map);
        /* Cut inside an entry: the decoder must stop at the end of the bytes it was given. */
        uint8_t *cut = malloc(3);
        memcpy(cut, vector->table, 3);
        linetable_build_map(vector->format, vector->first_line, cut, 3, map, vector->units);
        for (size_t unit = 0; unit < vector->units; unit++)
            CHECK(map[unit] >= vector->first_line);
        free(cut);
        free(map);
    }
}

static void test_garbage_never_reads_past_the_table(void)
{
    uint8_t garbage[64];
    int32_t map[40];
    for (unsigned seed = 1; seed < 2000; seed++) {
        size_t length = seed % sizeof garbage;
        uint8_t *table = malloc(length ? length : 1);
        for (size_t i = 0; i < length; i++)
            garbage[i] = (uint8_t)(seed * 2654435761u >> (i % 24));
        memcpy(table, garbage, length);
        for (int format = LINETABLE_LNOTAB; format <= LINETABLE_LOCATIONS; format++)
            linetable_build_map((enum linetable_format)format, 10, table, length, map, 40);
        free(table);
    }
    CHECK(1);
}

static void test_units_without_a_line_take_the_previous_line(void)
{
    /* 3.11+: kind 13 (+2 lines) for 2 units, then kind 15 (no location) for 3 units. */
    const uint8_t table[] = {0x80 | (13 << 3) | 1, 4, 0x80 | (15 << 3) | 2};
    int32_t map[5];
    CHECK(linetable_build_map(LINETABLE_LOCATIONS, 7, table, sizeof table, map, 5) == 0);
    CHECK(map[0] == 9 && map[1] == 9);
    CHECK(map[2] == 9 && map[3] == 9 && map[4] == 9);
}

int main(void)
{
    test_every_unit_matches_cpython();
    test_truncated_tables_are_reported_and_stay_in_bounds();
    test_garbage_never_reads_past_the_table();
    test_units_without_a_line_take_the_previous_line();
    return check_report("frames_linetable");
}
