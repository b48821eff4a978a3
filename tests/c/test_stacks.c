/* The stack table: frames and stacks interned once, paths read back root first, values of a stack
 * its own, and the limits: a full table credits a stack's longest prefix held and counts what it
 * merged, however long the program runs. */
#include <stdlib.h>

#include "check.h"
#include "stacks.h"

static struct stack_frame frame_of(uint32_t function, int32_t line)
{
    struct stack_frame frame = {7, function, 1, line, 1};
    return frame;
}

static void test_stacks_are_interned_once_and_read_back_root_first(void)
{
    struct stacks *stacks = stacks_new(STACKS_LIMIT, STACKS_FRAME_LIMIT);
    struct stack_frame main_frame = frame_of(1, 10), work = frame_of(2, 20), other = frame_of(2, 21);
    uint32_t a = stacks_frame(stacks, &main_frame), b = stacks_frame(stacks, &work);
    CHECK(stacks_frame(stacks, &main_frame) == a && a != b);
    CHECK(stacks_frame(stacks, &other) != b); /* the same function on another line */
    uint32_t path[] = {a, b};
    struct stack_ref deep = stacks_intern(stacks, path, 2), shallow = stacks_intern(stacks, path, 1);
    CHECK(!deep.merged && deep.id != shallow.id && deep.id != STACKS_ROOT);
    CHECK(stacks_intern(stacks, path, 2).id == deep.id);
    CHECK(stacks_intern(stacks, path, 0).id == STACKS_ROOT);
    uint32_t read[STACKS_MAX_DEPTH + 1];
    CHECK(stacks_path(stacks, deep.id, read) == 2 && read[0] == a && read[1] == b);
    CHECK(stacks_path(stacks, STACKS_ROOT, read) == 0);
    struct counters amount = {1, 2, 3, 4, 5, 0};
    stacks_credit_time(stacks, deep, &amount);
    stacks_count_sample(stacks, deep);
    stacks_credit_alloc(stacks, shallow, 1000);
    const struct stack_values *values = stacks_values_at(stacks, deep.id);
    CHECK(values->time.native_s == 2 && values->samples == 1 && values->alloc_bytes == 0);
    CHECK(stacks_values_at(stacks, shallow.id)->alloc_bytes == 1000);
    CHECK(stacks_cut_frame(stacks) == stacks_cut_frame(stacks));
    CHECK(stacks_frame_at(stacks, stacks_cut_frame(stacks))->file == LINETABLE_NO_ID);
    CHECK(stacks_merged(stacks).credits == 0);
    stacks_free(stacks);
}

/* A recursion of ever new depths with a table of 64 stacks: the table stops at its limit, each
 * credit past it goes to the deepest prefix held, and the document is told how much. */
static void test_a_full_table_credits_the_longest_prefix_held(void)
{
    struct stacks *stacks = stacks_new(64, 16);
    uint32_t path[200];
    struct stack_frame recurse = frame_of(3, 5);
    for (size_t i = 0; i < 200; i++)
        path[i] = stacks_frame(stacks, &recurse);
    struct counters second = {1, 0, 0, 0, 0, 0};
    for (size_t depth = 1; depth <= 200; depth++) {
        struct stack_ref ref = stacks_intern(stacks, path, depth);
        CHECK(ref.merged == (depth >= 64));
        CHECK(stacks_path(stacks, ref.id, (uint32_t[STACKS_MAX_DEPTH + 1]){0}) == (depth < 64 ? depth : 63));
        stacks_credit_time(stacks, ref, &second);
        stacks_credit_alloc(stacks, ref, 10);
    }
    CHECK(stacks_count(stacks) == 64);
    struct stacks_merged merged = stacks_merged(stacks);
    CHECK(merged.credits == 2 * 137 && merged.seconds == 137 && merged.alloc_bytes == 1370);
    /* The frames table is bounded too: a frame that does not fit cuts the stack there. */
    for (int32_t line = 100; line < 120; line++) {
        struct stack_frame fresh = frame_of(4, line);
        uint32_t id = stacks_frame(stacks, &fresh);
        CHECK((id == STACKS_NO_FRAME) == (stacks_frame_count(stacks) == 16 && line >= 100 + 15));
    }
    struct stack_frame unseen = frame_of(5, 1);
    uint32_t partial[] = {path[0], stacks_frame(stacks, &unseen)};
    struct stack_ref ref = stacks_intern(stacks, partial, 2);
    CHECK(ref.merged && stacks_path(stacks, ref.id, (uint32_t[STACKS_MAX_DEPTH + 1]){0}) == 1);
    stacks_free(stacks);
}

int main(void)
{
    test_stacks_are_interned_once_and_read_back_root_first();
    test_a_full_table_credits_the_longest_prefix_held();
    return check_report("stacks");
}
