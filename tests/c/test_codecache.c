/* The code cache: lookups by (code, filename, first line), growth while readers probe. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "check.h"
#include "codecache.h"

static struct frame_ref ref_of(uintptr_t code)
{
    struct frame_ref ref = {code * 64, code * 8 + 1, (int32_t)(code % 1000), 0};
    return ref;
}

static void test_lookup_finds_what_was_inserted(void)
{
    struct frame_ref ref = ref_of(5);
    CHECK(codecache_lookup(&ref, NULL) == CODE_UNKNOWN);
    struct code_info *program = calloc(1, sizeof *program);
    program->first_line = 77;
    CHECK(codecache_insert(&ref, CODE_PROGRAM, program) == 0);
    const struct code_info *found = NULL;
    CHECK(codecache_lookup(&ref, &found) == CODE_PROGRAM);
    CHECK(found == program);
    codecache_reset();
    CHECK(codecache_lookup(&ref, NULL) == CODE_UNKNOWN);
}

static void test_a_reused_address_is_another_code_object(void)
{
    struct frame_ref old = ref_of(9);
    CHECK(codecache_insert(&old, CODE_LIBRARY, NULL) == 0);
    struct frame_ref reused = old;
    reused.first_line += 1; /* same address, another function */
    CHECK(codecache_lookup(&reused, NULL) == CODE_UNKNOWN);
    CHECK(codecache_insert(&reused, CODE_PROGRAM, NULL) == 0);
    CHECK(codecache_lookup(&reused, NULL) == CODE_PROGRAM);
    CHECK(codecache_lookup(&old, NULL) == CODE_LIBRARY);
    codecache_reset();
}

#define INSERTED 100000
static atomic_int writer_done;
static atomic_int wrong_answers;

static void *reader(void *unused)
{
    (void)unused;
    while (!atomic_load(&writer_done)) {
        for (uintptr_t code = 1; code < INSERTED; code += 97) {
            struct frame_ref ref = ref_of(code);
            enum code_class class = codecache_lookup(&ref, NULL);
            if (class != CODE_UNKNOWN && class != (code % 2 ? CODE_PROGRAM : CODE_LIBRARY))
                atomic_fetch_add(&wrong_answers, 1);
        }
    }
    return NULL;
}

static void test_readers_see_whole_entries_while_the_table_grows(void)
{
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&threads[i], NULL, reader, NULL);
    for (uintptr_t code = 1; code < INSERTED; code++) {
        struct frame_ref ref = ref_of(code);
        codecache_insert(&ref, code % 2 ? CODE_PROGRAM : CODE_LIBRARY, NULL);
    }
    atomic_store(&writer_done, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    CHECK(atomic_load(&wrong_answers) == 0);
    for (uintptr_t code = 1; code < INSERTED; code++) {
        struct frame_ref ref = ref_of(code);
        if (codecache_lookup(&ref, NULL) != (code % 2 ? CODE_PROGRAM : CODE_LIBRARY)) {
            CHECK(!"every inserted entry is found after growth");
            break;
        }
    }
    codecache_reset();
}

int main(void)
{
    test_lookup_finds_what_was_inserted();
    test_a_reused_address_is_another_code_object();
    test_readers_see_whole_entries_while_the_table_grows();
    return check_report("codecache");
}
