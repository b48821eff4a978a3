/* The live table of sampled blocks and the leak rule. */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "leaks.h"

static void test_blocks_come_and_go_through_growth_and_collisions(void)
{
    struct live_table table;
    live_table_init(&table, 1 << 20);
    struct live_block replaced;
    for (uintptr_t a = 1; a <= 50000; a++) {
        struct live_block block = {a * 16, (double)a, NULL, NULL};
        CHECK(live_table_insert(&table, &block, &replaced) == 0);
    }
    CHECK(table.count == 50000);
    struct live_block out;
    for (uintptr_t a = 1; a <= 50000; a += 2)
        CHECK(live_table_remove(&table, a * 16, &out) == 1 && out.weight == (double)a);
    CHECK(live_table_remove(&table, 16, &out) == 0);
    for (uintptr_t a = 2; a <= 50000; a += 2)
        CHECK(live_table_remove(&table, a * 16, &out) == 1 && out.weight == (double)a);
    CHECK(table.count == 0);
    live_table_free(&table);
}

static void test_an_address_seen_again_replaces_the_old_block(void)
{
    struct live_table table;
    live_table_init(&table, 4);
    struct live_block first = {4096, 10, NULL, NULL}, second = {4096, 20, NULL, NULL}, replaced;
    CHECK(live_table_insert(&table, &first, &replaced) == 0);
    CHECK(live_table_insert(&table, &second, &replaced) == 1 && replaced.weight == 10);
    CHECK(table.count == 1);
    for (uintptr_t a = 1; a <= 3; a++) {
        struct live_block block = {a * 64, 1, NULL, NULL};
        CHECK(live_table_insert(&table, &block, &replaced) == 0);
    }
    struct live_block one_too_many = {9999 * 64, 1, NULL, NULL};
    CHECK(live_table_insert(&table, &one_too_many, &replaced) == -1); /* the limit holds */
    CHECK(table.refused == 1);
    live_table_free(&table);
}

static void test_rule_of_succession(void)
{
    CHECK(leak_likelihood(0, 0) == 0.5);
    CHECK(leak_likelihood(18, 0) == 19.0 / 20.0);
    CHECK(leak_likelihood(100, 99) < 0.05);
}

static void test_a_growing_line_that_keeps_its_blocks_leaks(void)
{
    struct memory_counters growing = {0}, steady = {0};
    for (int i = 0; i < 40; i++) { /* one sampled MB every 50 ms, never freed */
        int64_t t = (int64_t)i * 50000000;
        memory_change_live(&growing, 1 << 20, t);
        growing.samples++;
    }
    struct leak leak;
    CHECK(leak_assess(&growing, 2000000000, 40.0 * (1 << 20), &leak) == 1);
    CHECK(leak.likelihood > 0.95);
    CHECK(leak.bytes_per_s > 15.0 * (1 << 20) && leak.bytes_per_s < 25.0 * (1 << 20));
    for (int i = 0; i < 40; i++) { /* allocates and frees the same amount */
        int64_t t = (int64_t)i * 50000000;
        memory_change_live(&steady, 1 << 20, t);
        memory_change_live(&steady, -(1 << 20), t + 10000000);
        steady.samples++;
        steady.freed++;
    }
    CHECK(leak_assess(&steady, 2000000000, 40.0 * (1 << 20), &leak) == 0);
    /* Kept, but all allocated at once at the start: held, not growing. */
    struct memory_counters held = {0};
    for (int i = 0; i < 40; i++) {
        memory_change_live(&held, 1 << 20, 1000);
        held.samples++;
    }
    CHECK(leak_assess(&held, 2000000000, 40.0 * (1 << 20), &leak) == 0);
    /* Built in 0.2 s by one statement at the end of a short run: a rise too short to judge. */
    struct memory_counters built = {0};
    for (int i = 0; i < 40; i++) {
        memory_change_live(&built, 1 << 20, 200000000 + (int64_t)i * 5000000);
        built.samples++;
    }
    CHECK(leak_assess(&built, 400000000, 40.0 * (1 << 20), &leak) == 0);
    free(built.timeline);
    /* Everything the leaking line kept is freed at the end (the program's teardown): it leaked
     * while it ran all the same. */
    for (int i = 0; i < 40; i++) {
        memory_change_live(&growing, -(1 << 20), 2000000000);
        growing.freed++;
    }
    CHECK(leak_assess(&growing, 2100000000, 40.0 * (1 << 20), &leak) == 1);
    free(growing.timeline);
    free(steady.timeline);
    free(held.timeline);
}

int main(void)
{
    test_blocks_come_and_go_through_growth_and_collisions();
    test_an_address_seen_again_replaces_the_old_block();
    test_rule_of_succession();
    test_a_growing_line_that_keeps_its_blocks_leaks();
    return check_report("leaks");
}
