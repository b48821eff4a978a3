/* The leak rule, for a line and for a function. */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "leaks.h"

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
        memory_change_live(&growing, (struct live_change){1 << 20, 0, 0}, t);
        growing.samples++;
    }
    struct leak leak;
    CHECK(leak_assess(&growing, 2000000000, 40.0 * (1 << 20), &leak) == 1);
    CHECK(leak.likelihood > 0.95);
    CHECK(leak.bytes_per_s > 15.0 * (1 << 20) && leak.bytes_per_s < 25.0 * (1 << 20));
    for (int i = 0; i < 40; i++) { /* allocates and frees the same amount */
        int64_t t = (int64_t)i * 50000000;
        memory_change_live(&steady, (struct live_change){1 << 20, 0, 0}, t);
        memory_change_live(&steady, (struct live_change){-(1 << 20), 0, 0}, t + 10000000);
        steady.samples++;
        steady.freed++;
    }
    CHECK(leak_assess(&steady, 2000000000, 40.0 * (1 << 20), &leak) == 0);
    /* Kept, but all allocated at once at the start: held, not growing. */
    struct memory_counters held = {0};
    for (int i = 0; i < 40; i++) {
        memory_change_live(&held, (struct live_change){1 << 20, 0, 0}, 1000);
        held.samples++;
    }
    CHECK(leak_assess(&held, 2000000000, 40.0 * (1 << 20), &leak) == 0);
    /* Built in 0.2 s by one statement at the end of a short run: a rise too short to judge. */
    struct memory_counters built = {0};
    for (int i = 0; i < 40; i++) {
        memory_change_live(&built, (struct live_change){1 << 20, 0, 0}, 200000000 + (int64_t)i * 5000000);
        built.samples++;
    }
    CHECK(leak_assess(&built, 400000000, 40.0 * (1 << 20), &leak) == 0);
    free(built.timeline);
    /* Everything the leaking line kept is freed at the end (the program's teardown): it leaked
     * while it ran all the same. */
    for (int i = 0; i < 40; i++) {
        memory_change_live(&growing, (struct live_change){-(1 << 20), 0, 0}, 2000000000);
        growing.freed++;
    }
    CHECK(leak_assess(&growing, 2100000000, 40.0 * (1 << 20), &leak) == 1);
    free(growing.timeline);
    free(steady.timeline);
    free(held.timeline);
}

/* A function that leaks on one line and frees its temporaries on another: the function leaks
 * as its line does, although its own allocations were mostly freed. */
static void test_a_function_leaks_with_its_lines(void)
{
    struct leak function = {0, 0};
    struct leak line = {0.99, 4.0 * (1 << 20)};
    struct leak other = {0.97, 1.0 * (1 << 20)};
    leak_combine(&function, &line);
    CHECK(function.likelihood == 0.99 && function.bytes_per_s == 4.0 * (1 << 20));
    leak_combine(&function, &other);
    CHECK(function.likelihood == 0.99 && function.bytes_per_s == 5.0 * (1 << 20));
}

int main(void)
{
    test_a_function_leaks_with_its_lines();
    test_rule_of_succession();
    test_a_growing_line_that_keeps_its_blocks_leaks();
    return check_report("leaks");
}
