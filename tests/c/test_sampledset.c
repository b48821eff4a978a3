/* The hooks' set of sampled addresses: adds, removes through collisions, the limit, and the
 * filter that lets a free of an address never sampled skip the set. */
#include <stdint.h>

#include "check.h"
#include "sampledset.h"

static void test_addresses_come_and_go(void)
{
    CHECK(sampledset_init() == 0);
    sampledset_clear();
    for (uintptr_t a = 1; a <= 50000; a++)
        CHECK(sampledset_add(a * 16) == 0);
    CHECK(sampledset_count() == 50000);
    CHECK(sampledset_add(16) == 1); /* seen again: its free went unseen */
    CHECK(sampledset_may_hold(16 * 7));
    for (uintptr_t a = 1; a <= 50000; a += 2)
        CHECK(sampledset_remove(a * 16) == 1);
    CHECK(sampledset_remove(16) == 0);
    for (uintptr_t a = 2; a <= 50000; a += 2)
        CHECK(sampledset_remove(a * 16) == 1);
    CHECK(sampledset_count() == 0);
    /* Every count went back to zero: no free needs to look any more. */
    int any = 0;
    for (uintptr_t a = 1; a <= 50000; a++)
        any |= sampledset_may_hold(a * 16);
    CHECK(!any);
}

static void test_the_limit_holds(void)
{
    sampledset_clear();
    for (uintptr_t a = 1; a <= MEMORY_LIVE_BLOCKS_LIMIT; a++)
        CHECK(sampledset_add(a * 64) == 0);
    CHECK(sampledset_add(0x7f0000000000) == -1);
    CHECK(sampledset_remove(64) == 1);
    CHECK(sampledset_add(0x7f0000000000) == 0);
    sampledset_clear();
    CHECK(sampledset_count() == 0 && !sampledset_may_hold(128));
}

int main(void)
{
    test_addresses_come_and_go();
    test_the_limit_holds();
    return check_report("sampledset");
}
