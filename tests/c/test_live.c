/* Live memory: sampled blocks held and let go, the footprint and its peak, a block whose free
 * went unseen, untracked samples, and the line holding the most at the peak. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "live.h"

static struct memory_sample sample_of(uintptr_t address, double weight, enum memory_kind kind)
{
    struct memory_sample sample;
    memset(&sample, 0, sizeof sample);
    sample.address = address;
    sample.weight = weight;
    sample.kind = (uint8_t)kind;
    sample.tracked = address != 0;
    return sample;
}

static void test_blocks_are_held_and_let_go(void)
{
    struct linetable *lines = linetable_new();
    struct line_entry *line = linetable_line(lines, linetable_intern(lines, "/p.py"), 3);
    struct stacks *stacks = stacks_new(STACKS_LIMIT, STACKS_FRAME_LIMIT);
    struct stack_ref root = {STACKS_ROOT, 0};
    struct live_memory live;
    CHECK(live_start(&live, stacks) == 0);
    for (uintptr_t a = 1; a <= 5000; a++) {
        struct memory_sample sample = sample_of(a * 16, 100, MEMORY_PYTHON);
        live.now_ns = (int64_t)a;
        live_add(&live, &line->memory, NULL, root, &sample);
    }
    live_settle(&live, lines);
    CHECK(live.footprint_bytes == 500000 && live.peak_bytes == 500000);
    CHECK(live.peak_line == line);
    CHECK(line->memory.live_bytes == 500000 && line->memory.samples == 5000);
    for (uintptr_t a = 1; a <= 5000; a += 2)
        live_remove(&live, a * 16);
    live_remove(&live, 16); /* gone already */
    CHECK(live.footprint_bytes == 250000 && line->memory.freed == 2500);
    CHECK(live.peak_bytes == 500000);
    struct memory_sample copy = sample_of(0, 4096, MEMORY_COPY);
    live_add(&live, &line->memory, NULL, root, &copy);
    CHECK(line->memory.copy_bytes == 4096 && live.footprint_bytes == 250000);
    CHECK(live.totals.alloc_bytes == 500000 && live.totals.python_bytes == 500000);
    live_free(&live);
    linetable_free(lines);
    stacks_free(stacks);
}

static void test_an_address_seen_again_replaces_its_block(void)
{
    struct stacks *stacks = stacks_new(STACKS_LIMIT, STACKS_FRAME_LIMIT);
    struct stack_ref root = {STACKS_ROOT, 0};
    struct live_memory live;
    CHECK(live_start(&live, stacks) == 0);
    struct memory_sample first = sample_of(4096, 10, MEMORY_NATIVE), second = sample_of(4096, 20, MEMORY_NATIVE);
    live_add(&live, NULL, NULL, root, &first);
    live_add(&live, NULL, NULL, root, &second); /* the first one's free went unseen */
    CHECK(live.count == 1 && live.footprint_bytes == 20);
    CHECK(live.outside.alloc_bytes == 30 && live.outside.live_bytes == 20);
    struct memory_sample untracked = sample_of(8192, 5, MEMORY_NATIVE);
    untracked.tracked = 0; /* the hooks' set was full: allocated, never live */
    live_add(&live, NULL, NULL, root, &untracked);
    CHECK(live.count == 1 && live.footprint_bytes == 20 && live.totals.alloc_bytes == 35);
    live_free(&live);
    stacks_free(stacks);
}

/* Each stack's live bytes when the footprint peaked: they add up to the peak, whatever each stack
 * did after it (freed, grew again, never changed). */
static void test_each_stack_holds_its_share_of_the_peak(void)
{
    struct stacks *stacks = stacks_new(STACKS_LIMIT, STACKS_FRAME_LIMIT);
    struct stack_frame frames[3] = {{1, 1, 1, 1, 1}, {1, 2, 5, 6, 1}, {1, 3, 9, 10, 1}};
    struct stack_ref refs[3];
    for (int i = 0; i < 3; i++) {
        uint32_t frame = stacks_frame(stacks, &frames[i]);
        refs[i] = stacks_intern(stacks, &frame, 1);
    }
    struct live_memory live;
    CHECK(live_start(&live, stacks) == 0);
    struct memory_sample a = sample_of(16, 100, MEMORY_PYTHON), b = sample_of(32, 50, MEMORY_NATIVE),
                         c = sample_of(48, 30, MEMORY_NATIVE), d = sample_of(64, 70, MEMORY_NATIVE);
    live_add(&live, NULL, NULL, refs[0], &a);
    live_add(&live, NULL, NULL, refs[1], &b); /* the peak: 150, a's 100 and b's 50 */
    live_remove(&live, 16);
    live_add(&live, NULL, NULL, refs[1], &c); /* b's stack grows after the peak */
    live_add(&live, NULL, NULL, refs[2], &d); /* 150 again: not higher */
    CHECK(live.peak_bytes == 150);
    CHECK(stacks_peak_live_bytes(stacks, refs[0].id, live.peak_serial) == 100);
    CHECK(stacks_peak_live_bytes(stacks, refs[1].id, live.peak_serial) == 50);
    CHECK(stacks_peak_live_bytes(stacks, refs[2].id, live.peak_serial) == 0);
    CHECK(stacks_values_at(stacks, refs[1].id)->alloc_bytes == 80);
    struct memory_sample e = sample_of(80, 200, MEMORY_PYTHON);
    live_add(&live, NULL, NULL, refs[2], &e); /* a new peak, 350: the stacks as they are now */
    CHECK(stacks_peak_live_bytes(stacks, refs[0].id, live.peak_serial) == 0);
    CHECK(stacks_peak_live_bytes(stacks, refs[1].id, live.peak_serial) == 80);
    CHECK(stacks_peak_live_bytes(stacks, refs[2].id, live.peak_serial) == 270);
    live_free(&live);
    stacks_free(stacks);
}

/* Small blocks freed by the next batch of events are transient; a block freed later, or a big one,
 * is not; all of them stay in the allocated volume. */
static void test_small_blocks_freed_at_once_are_transient(void)
{
    struct linetable *lines = linetable_new();
    struct line_entry *line = linetable_line(lines, linetable_intern(lines, "/p.py"), 3);
    struct stacks *stacks = stacks_new(STACKS_LIMIT, STACKS_FRAME_LIMIT);
    struct stack_ref root = {STACKS_ROOT, 0};
    struct live_memory live;
    CHECK(live_start(&live, stacks) == 0);
    struct memory_sample small = sample_of(16, 1000, MEMORY_PYTHON);
    small.size = 32;
    struct memory_sample lasting = sample_of(32, 2000, MEMORY_PYTHON);
    lasting.size = 32;
    struct memory_sample big = sample_of(48, 4000, MEMORY_NATIVE);
    big.size = LIVE_TRANSIENT_MAX_BYTES;
    struct memory_sample small_native = sample_of(64, 500, MEMORY_NATIVE);
    small_native.size = 64;
    live_begin_batch(&live, 1000);
    live_add(&live, &line->memory, NULL, root, &small_native);
    live_add(&live, &line->memory, NULL, root, &small);
    live_add(&live, &line->memory, NULL, root, &lasting);
    live_add(&live, &line->memory, NULL, root, &big);
    live_begin_batch(&live, 2000);
    live_remove(&live, 16);
    live_remove(&live, 48);
    live_remove(&live, 64);
    live_begin_batch(&live, 3000);
    live_remove(&live, 32);
    CHECK(line->memory.transient_bytes == 1500 && live.totals.transient_bytes == 1500);
    CHECK(line->memory.transient_python_bytes == 1000 && live.totals.transient_python_bytes == 1000);
    CHECK(line->memory.alloc_bytes == 7500 && live.totals.alloc_bytes == 7500);
    live_free(&live);
    linetable_free(lines);
    stacks_free(stacks);
}

int main(void)
{
    test_blocks_are_held_and_let_go();
    test_small_blocks_freed_at_once_are_transient();
    test_an_address_seen_again_replaces_its_block();
    test_each_stack_holds_its_share_of_the_peak();
    return check_report("live");
}
