/* frames_linetable: see frames_linetable.h. The formats are those of CPython's
 * Objects/lnotab_notes.txt (3.9, 3.10) and Objects/locations.md (3.11+). */
#include "frames_linetable.h"

#define NO_LINE (-1)

static void fill(int32_t *map, size_t code_units, size_t from, size_t to, int32_t line)
{
    if (to > code_units)
        to = code_units;
    for (size_t i = from; i < to; i++)
        map[i] = line;
}

/* 3.9: pairs (address increment, signed line increment); a line holds from its address up to
 * the next pair's address. Addresses are bytes, two per code unit. */
static int decode_lnotab(int first_line, const uint8_t *table, size_t len, int32_t *map,
                         size_t code_units)
{
    size_t address = 0;
    int32_t line = first_line;
    for (size_t i = 0; i + 1 < len; i += 2) {
        size_t next = address + table[i];
        fill(map, code_units, address / 2, next / 2, line);
        address = next;
        line += (int8_t)table[i + 1];
    }
    fill(map, code_units, address / 2, code_units, line);
    return len % 2 ? -1 : 0;
}

/* 3.10: pairs (byte length, signed line delta); a delta of -128 marks a range with no line and
 * leaves the running line unchanged. */
static int decode_310(int first_line, const uint8_t *table, size_t len, int32_t *map,
                      size_t code_units)
{
    size_t address = 0;
    int32_t computed = first_line;
    for (size_t i = 0; i + 1 < len; i += 2) {
        size_t next = address + table[i];
        int8_t delta = (int8_t)table[i + 1];
        int32_t line = NO_LINE;
        if (delta != -128) {
            computed += delta;
            line = computed;
        }
        fill(map, code_units, address / 2, next / 2, line);
        address = next;
    }
    fill(map, code_units, address / 2, code_units, NO_LINE);
    return len % 2 ? -1 : 0;
}

static int read_varint(const uint8_t *table, size_t len, size_t *pos, uint32_t *out)
{
    uint32_t value = 0;
    unsigned shift = 0;
    for (;;) {
        if (*pos >= len || shift > 28)
            return -1;
        uint8_t byte = table[(*pos)++];
        value |= (uint32_t)(byte & 63) << shift;
        if (!(byte & 64))
            break;
        shift += 6;
    }
    *out = value;
    return 0;
}

static int read_signed_varint(const uint8_t *table, size_t len, size_t *pos, int32_t *out)
{
    uint32_t value;
    if (read_varint(table, len, pos, &value) < 0)
        return -1;
    *out = (value & 1) ? -(int32_t)(value >> 1) : (int32_t)(value >> 1);
    return 0;
}

/* 3.11+: each entry starts with a byte whose top bit is set: bits 3-6 are the kind, bits 0-2
 * the length in code units minus one. Kinds 0-9 (short form) keep the line; 10-12 add kind-10;
 * 13 and 14 carry a signed varint delta (14 adds end line and columns); 15 has no location. */
static int decode_locations(int first_line, const uint8_t *table, size_t len, int32_t *map,
                            size_t code_units)
{
    size_t pos = 0, unit = 0;
    int32_t computed = first_line;
    while (pos < len) {
        uint8_t head = table[pos++];
        if (!(head & 0x80))
            return -1;
        int kind = (head >> 3) & 15;
        size_t length = (size_t)(head & 7) + 1;
        int32_t line = computed;
        int32_t delta = 0;
        uint32_t ignored;
        if (kind == 15) {
            line = NO_LINE;
        } else if (kind == 14) {
            if (read_signed_varint(table, len, &pos, &delta) < 0 ||
                read_varint(table, len, &pos, &ignored) < 0 ||
                read_varint(table, len, &pos, &ignored) < 0 ||
                read_varint(table, len, &pos, &ignored) < 0)
                return -1;
            line = computed += delta;
        } else if (kind == 13) {
            if (read_signed_varint(table, len, &pos, &delta) < 0)
                return -1;
            line = computed += delta;
        } else if (kind >= 10) {
            line = computed += kind - 10;
            pos += 2;
        } else {
            pos += 1;
        }
        fill(map, code_units, unit, unit + length, line);
        unit += length;
    }
    fill(map, code_units, unit, code_units, NO_LINE);
    return pos == len ? 0 : -1;
}

int linetable_build_map(enum linetable_format format, int first_line, const uint8_t *table,
                        size_t table_len, int32_t *map, size_t code_units)
{
    int status = -1;
    fill(map, code_units, 0, code_units, NO_LINE);
    switch (format) {
    case LINETABLE_LNOTAB:
        status = decode_lnotab(first_line, table, table_len, map, code_units);
        break;
    case LINETABLE_310:
        status = decode_310(first_line, table, table_len, map, code_units);
        break;
    case LINETABLE_LOCATIONS:
        status = decode_locations(first_line, table, table_len, map, code_units);
        break;
    }
    /* Artificial instructions have no line: charge them to the line that ran just before. */
    int32_t previous = first_line;
    for (size_t i = 0; i < code_units; i++) {
        if (map[i] == NO_LINE)
            map[i] = previous;
        else
            previous = map[i];
    }
    return status;
}
