/* Which files are the program. */
#include "check.h"
#include "filter.h"

static struct filter default_filter(void)
{
    struct filter f = {0};
    string_list_add(&f.program_dirs, "/home/u/project");
    string_list_add(&f.library_dirs, "/usr/lib/python3.11");
    string_list_add(&f.library_dirs, "/home/u/project/.venv/lib/python3.11/site-packages");
    string_list_add(&f.own_dirs, "/home/u/project/.venv/lib/python3.11/site-packages/heatline");
    return f;
}

static void test_program_directory_without_libraries(void)
{
    struct filter f = default_filter();
    CHECK(filter_is_program(&f, "/home/u/project/main.py"));
    CHECK(filter_is_program(&f, "/home/u/project/pkg/mod.py"));
    CHECK(!filter_is_program(&f, "/home/u/projectile/x.py")); /* a prefix, not a parent */
    CHECK(!filter_is_program(&f, "/home/u/project/.venv/lib/python3.11/site-packages/numpy/core.py"));
    CHECK(!filter_is_program(&f, "/usr/lib/python3.11/json/decoder.py"));
    CHECK(!filter_is_program(&f, "<string>"));
    CHECK(!filter_is_program(&f, "module 'm' has no attribute '__path__'"));
    CHECK(!filter_is_program(&f, "<frozen importlib._bootstrap>"));
    filter_free(&f);
}

static void test_a_program_inside_site_packages_is_still_the_program(void)
{
    struct filter f = {0};
    string_list_add(&f.program_dirs, "/usr/lib/python3.11/site-packages/pip");
    string_list_add(&f.library_dirs, "/usr/lib/python3.11");
    string_list_add(&f.library_dirs, "/usr/lib/python3.11/site-packages");
    CHECK(filter_is_program(&f, "/usr/lib/python3.11/site-packages/pip/_internal/main.py"));
    CHECK(!filter_is_program(&f, "/usr/lib/python3.11/site-packages/rich/console.py"));
    filter_free(&f);
}

static void test_options_change_the_rule(void)
{
    struct filter f = default_filter();
    f.profile_all = 1;
    CHECK(filter_is_program(&f, "/usr/lib/python3.11/json/decoder.py"));
    CHECK(!filter_is_program(&f, "<string>"));
    CHECK(!filter_is_program(&f, "not a file name: a dead code object's reused memory"));
    CHECK(!filter_is_program(&f, "/home/u/project/.venv/lib/python3.11/site-packages/heatline/cli.py"));
    f.profile_all = 0;
    string_list_add(&f.only_patterns, "numpy");
    CHECK(filter_is_program(&f, "/home/u/project/.venv/lib/python3.11/site-packages/numpy/core.py"));
    CHECK(!filter_is_program(&f, "/home/u/project/main.py"));
    string_list_add(&f.exclude_patterns, "core");
    CHECK(!filter_is_program(&f, "/home/u/project/.venv/lib/python3.11/site-packages/numpy/core.py"));
    filter_free(&f);
}

static void test_stacks_leave_out_heatline_and_the_runner(void)
{
    struct filter f = default_filter();
    string_list_add(&f.own_dirs, "/home/u/project/.venv/bin/heatline");
    CHECK(filter_frame_role(&f, "/home/u/project/.venv/lib/python3.11/site-packages/heatline/cli.py") == FRAME_OWN);
    CHECK(filter_frame_role(&f, "/home/u/project/.venv/bin/heatline") == FRAME_OWN);
    CHECK(!filter_is_program(&f, "/home/u/project/.venv/bin/heatline"));
    CHECK(filter_frame_role(&f, "/usr/lib/python3.11/runpy.py") == FRAME_RUNNER);
    CHECK(filter_frame_role(&f, "<frozen runpy>") == FRAME_RUNNER);
    CHECK(filter_frame_role(&f, "/home/u/project/runpy.py") == FRAME_SHOWN); /* the program's own */
    CHECK(filter_frame_role(&f, "/usr/lib/python3.11/threading.py") == FRAME_SHOWN);
    filter_free(&f);
}

int main(void)
{
    test_program_directory_without_libraries();
    test_a_program_inside_site_packages_is_still_the_program();
    test_options_change_the_rule();
    test_stacks_leave_out_heatline_and_the_runner();
    return check_report("filter");
}
