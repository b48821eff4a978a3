/* The JSON builder: commas, nesting, escaping, non-finite numbers. */
#include <math.h>

#include "check.h"
#include "jsonw.h"

static void test_objects_arrays_and_commas(void)
{
    struct jsonw w;
    jsonw_init(&w);
    jsonw_begin_object(&w);
    jsonw_key(&w, "a");
    jsonw_int(&w, 1);
    jsonw_key(&w, "list");
    jsonw_begin_array(&w);
    jsonw_double(&w, 0.5);
    jsonw_null(&w);
    jsonw_bool(&w, 1);
    jsonw_begin_object(&w);
    jsonw_end_object(&w);
    jsonw_end_array(&w);
    jsonw_key(&w, "empty");
    jsonw_begin_array(&w);
    jsonw_end_array(&w);
    jsonw_end_object(&w);
    CHECK(!w.failed);
    CHECK_STR(w.text, "{\"a\":1,\"list\":[0.5,null,true,{}],\"empty\":[]}");
    jsonw_free(&w);
}

static void test_strings_are_escaped(void)
{
    struct jsonw w;
    jsonw_init(&w);
    jsonw_begin_array(&w);
    jsonw_string(&w, "quote\" back\\ tab\t nl\n");
    jsonw_string(&w, "caf\xc3\xa9 \xe2\x82\xac");  /* valid UTF-8 passes through */
    jsonw_string(&w, "bad \xff\xfe end");         /* invalid bytes become U+FFFD */
    jsonw_string(&w, NULL);
    jsonw_end_array(&w);
    CHECK_STR(w.text, "[\"quote\\\" back\\\\ tab\\u0009 nl\\u000a\",\"caf\xc3\xa9 \xe2\x82\xac\","
                      "\"bad \\ufffd\\ufffd end\",\"\"]");
    jsonw_free(&w);
}

static void test_non_finite_numbers_become_null(void)
{
    struct jsonw w;
    jsonw_init(&w);
    jsonw_begin_array(&w);
    jsonw_double(&w, NAN);
    jsonw_double(&w, INFINITY);
    jsonw_double(&w, 1e-9);
    jsonw_end_array(&w);
    CHECK_STR(w.text, "[null,null,1e-09]");
    jsonw_free(&w);
}

static void test_too_deep_nesting_fails_cleanly(void)
{
    struct jsonw w;
    jsonw_init(&w);
    for (int i = 0; i < JSONW_MAX_DEPTH + 5; i++)
        jsonw_begin_array(&w);
    CHECK(w.failed);
    jsonw_free(&w);
}

int main(void)
{
    test_objects_arrays_and_commas();
    test_strings_are_escaped();
    test_non_finite_numbers_become_null();
    test_too_deep_nesting_fails_cleanly();
    return check_report("jsonw");
}
