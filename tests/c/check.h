/* A few assertion helpers shared by the C unit tests: each failed check prints where and why,
 * and the test's main returns the number of failures. */
#ifndef HEATLINE_TEST_CHECK_H
#define HEATLINE_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(condition)                                                                 \
    do {                                                                                 \
        check_count++;                                                                   \
        if (!(condition)) {                                                              \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
        }                                                                                \
    } while (0)

#define CHECK_STR(actual, expected)                                                        \
    do {                                                                                   \
        check_count++;                                                                     \
        if (strcmp((actual), (expected)) != 0) {                                           \
            check_failures++;                                                              \
            fprintf(stderr, "%s:%d: got  %s\n%*swant %s\n", __FILE__, __LINE__, (actual),  \
                    (int)strlen(__FILE__) + 8, "", (expected));                            \
        }                                                                                  \
    } while (0)

static int check_report(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures != 0;
}

#endif
