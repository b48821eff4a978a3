/* frames_linetable: decoding CPython's line tables (part of `frames`).
 *
 * Owns: turning a code object's line table bytes, copied out of the interpreter, into a map
 * from instruction index (in 2-byte code units) to source line, for the three formats that
 * CPython 3.9-3.13 use. Needs no interpreter, so it is unit-tested under the sanitizers.
 * Never: reads interpreter memory; the caller copies the bytes first. */
#ifndef HEATLINE_FRAMES_LINETABLE_H
#define HEATLINE_FRAMES_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

enum linetable_format {
    LINETABLE_LNOTAB = 1,    /* 3.9: co_lnotab, byte addresses */
    LINETABLE_310 = 2,       /* 3.10: co_linetable, byte addresses, -128 = no line */
    LINETABLE_LOCATIONS = 3, /* 3.11+: co_linetable location entries, code units */
};

/* Fills map[0..code_units) with the line of each code unit. Units without a line take the
 * line of the nearest unit before them (or first_line). Returns 0, or -1 on a malformed table
 * (the map is then filled as far as the table could be read). */
int linetable_build_map(enum linetable_format format, int first_line, const uint8_t *table,
                        size_t table_len, int32_t *map, size_t code_units);

#endif
