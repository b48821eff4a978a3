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
    struct live_memory live;
    CHECK(live_start(&live) == 0);
    for (uintptr_t a = 1; a <= 5000; a++) {
        struct memory_sample sample = sample_of(a * 16, 100, MEMORY_PYTHON);
        live.now_ns = (int64_t)a;
        live_add(&live, &line->memory, NULL, &sample);
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
    live_add(&live, &line->memory, NULL, &copy);
    CHECK(line->memory.copy_bytes == 4096 && live.footprint_bytes == 250000);
    CHECK(live.totals.alloc_bytes == 500000 && live.totals.python_bytes == 500000);
    live_free(&live);
    linetable_free(lines);
}

static void test_an_address_seen_again_replaces_its_block(void)
{
    struct live_memory live;
    CHECK(live_start(&live) == 0);
    struct memory_sample first = sample_of(4096, 10, MEMORY_NATIVE), second = sample_of(4096, 20, MEMORY_NATIVE);
    live_add(&live, NULL, NULL, &first);
    live_add(&live, NULL, NULL, &second); /* the first one's free went unseen */
    CHECK(live.count == 1 && live.footprint_bytes == 20);
    CHECK(live.outside.alloc_bytes == 30 && live.outside.live_bytes == 20);
    struct memory_sample untracked = sample_of(8192, 5, MEMORY_NATIVE);
    untracked.tracked = 0; /* the hooks' set was full: allocated, never live */
    live_add(&live, NULL, NULL, &untracked);
    CHECK(live.count == 1 && live.footprint_bytes == 20 && live.totals.alloc_bytes == 35);
    live_free(&live);
}

int main(void)
{
    test_blocks_are_held_and_let_go();
    test_an_address_seen_again_replaces_its_block();
    return check_report("live");
}
