/* Line-table decoding against CPython's own answers for real code objects of 3.9-3.13, and
 * against malformed tables. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* Where a table cut after `length` bytes ends cleanly, and how many code units its complete
 * entries cover (those units must keep the lines the whole table gives them). The rule is the
 * format's, not the decoder's: 3.9 and 3.10 tables are byte pairs whose first byte is a length
 * in bytes; a 3.11+ entry starts with the only byte of it that has its top bit set, and its low
 * three bits are its length in code units minus one. */
static int cut_is_clean(const struct vector *vector, size_t length, size_t *covered_units)
{
    size_t units = 0;
    if (vector->format != LINETABLE_LOCATIONS) {
        size_t bytes = 0;
        for (size_t i = 0; i + 1 < length; i += 2)
            bytes += vector->table[i];
        *covered_units = bytes / 2;
        return length % 2 == 0;
    }
    for (size_t start = 0; start < length; start++) {
        if (!(vector->table[start] & 0x80))
            continue;
        size_t next = start + 1;
        while (next < vector->table_len && !(vector->table[next] & 0x80))
            next++;
        if (next <= length)
            units += (size_t)(vector->table[start] & 7) + 1;
    }
    *covered_units = units;
    return length == vector->table_len || (vector->table[length] & 0x80) != 0;
}

static void test_truncated_tables_are_reported_and_keep_the_lines_they_cover(void)
{
    for (size_t v = 0; v < sizeof vectors / sizeof *vectors; v++) {
        const struct vector *vector = &vectors[v];
        int32_t *map = malloc(vector->units * sizeof *map);
        for (size_t length = 0; length < vector->table_len; length++) {
            /* An exact-size copy: ASan catches any read past the bytes the decoder was given. */
            uint8_t *cut = malloc(length ? length : 1);
            memcpy(cut, vector->table, length);
            size_t covered = 0;
            int clean = cut_is_clean(vector, length, &covered);
            int status = linetable_build_map(vector->format, vector->first_line, cut, length, map,
                                             vector->units);
            if (status != (clean ? 0 : -1)) {
                fprintf(stderr, "%s cut at %zu bytes: status %d\n", vector->name, length, status);
                CHECK(status == (clean ? 0 : -1));
            }
            for (size_t unit = 0; unit < covered && unit < vector->units; unit++) {
                if (map[unit] != vector->lines[unit]) {
                    fprintf(stderr, "%s cut at %zu bytes: unit %zu: line %d, CPython says %d\n",
                            vector->name, length, unit, map[unit], vector->lines[unit]);
                    CHECK(map[unit] == vector->lines[unit]);
                    break;
                }
            }
            free(cut);
        }
        free(map);
    }
}

#define GARBAGE_UNITS 32
#define UNWRITTEN INT32_MIN

static void test_garbage_fills_exactly_the_map_and_is_reported(void)
{
    uint8_t garbage[64];
    /* A map longer than the units asked for: the slots past them must stay unwritten. */
    int32_t map[GARBAGE_UNITS + 8];
    for (unsigned seed = 1; seed < 2000; seed++) {
        size_t length = seed % sizeof garbage;
        uint8_t *table = malloc(length ? length : 1);
        for (size_t i = 0; i < length; i++)
            garbage[i] = (uint8_t)(seed * 2654435761u >> (i % 24));
        memcpy(table, garbage, length);
        for (int format = LINETABLE_LNOTAB; format <= LINETABLE_LOCATIONS; format++) {
            for (size_t i = 0; i < sizeof map / sizeof *map; i++)
                map[i] = UNWRITTEN;
            int status = linetable_build_map((enum linetable_format)format, 10, table, length, map,
                                             GARBAGE_UNITS);
            CHECK(status == 0 || status == -1);
            if (format != LINETABLE_LOCATIONS)
                CHECK(status == (length % 2 ? -1 : 0)); /* any byte pairs are a table */
            else if (length > 0 && !(table[0] & 0x80))
                CHECK(status == -1); /* the first byte cannot start an entry */
            else if (length == 0)
                CHECK(status == 0);
            size_t unwritten = 0;
            for (size_t i = 0; i < GARBAGE_UNITS; i++)
                unwritten += map[i] == UNWRITTEN;
            CHECK(unwritten == 0);
            for (size_t i = GARBAGE_UNITS; i < sizeof map / sizeof *map; i++)
                CHECK(map[i] == UNWRITTEN);
            if (length == 0)
                CHECK(map[0] == 10 && map[GARBAGE_UNITS - 1] == 10);
        }
        free(table);
    }
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
    test_truncated_tables_are_reported_and_keep_the_lines_they_cover();
    test_garbage_fills_exactly_the_map_and_is_reported();
    test_units_without_a_line_take_the_previous_line();
    return check_report("frames_linetable");
}
