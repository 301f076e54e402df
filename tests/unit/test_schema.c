/* Unit tests for argument validation against tool input schemas: every
 * supported keyword, and messages that name the argument. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "mcp-internal.h"

static json_t *
load (const char *text)
{
  json_error_t error;
  json_t *value = json_loads (text, JSON_DECODE_ANY, &error);

  if (value == NULL)
    fail_msg ("test JSON does not parse: %s: %s", text, error.text);
  return value;
}

/* Validate ARGUMENTS against SCHEMA, both JSON text. EXPECTED_MESSAGE is
 * NULL when validation must pass. */
static void
check (const char *schema_text, const char *arguments_text, const char *expected_message)
{
  json_t *schema = load (schema_text);
  json_t *arguments = load (arguments_text);
  char message[512];
  bool valid;

  memset (message, 'X', sizeof message);
  valid = mcp_schema_validate (schema, arguments, message, sizeof message);
  json_decref (schema);
  json_decref (arguments);

  if (expected_message == NULL)
    {
      if (!valid)
        fail_msg ("%s rejected by %s: %s", arguments_text, schema_text, message);
      assert_string_equal (message, "");
    }
  else
    {
      if (valid)
        fail_msg ("%s accepted by %s", arguments_text, schema_text);
      assert_string_equal (message, expected_message);
    }
}

#define OBJECT_WITH(property) "{\"type\":\"object\",\"properties\":{\"x\":" property "}}"

static void
type_accepts_matching_values (void **state)
{
  (void) state;
  check (OBJECT_WITH ("{\"type\":\"string\"}"), "{\"x\":\"a\"}", NULL);
  check (OBJECT_WITH ("{\"type\":\"integer\"}"), "{\"x\":-3}", NULL);
  check (OBJECT_WITH ("{\"type\":\"number\"}"), "{\"x\":2.5}", NULL);
  check (OBJECT_WITH ("{\"type\":\"number\"}"), "{\"x\":2}", NULL);
  check (OBJECT_WITH ("{\"type\":\"boolean\"}"), "{\"x\":false}", NULL);
  check (OBJECT_WITH ("{\"type\":\"array\"}"), "{\"x\":[]}", NULL);
  check (OBJECT_WITH ("{\"type\":\"object\"}"), "{\"x\":{}}", NULL);
  check (OBJECT_WITH ("{\"type\":\"null\"}"), "{\"x\":null}", NULL);
  check (OBJECT_WITH ("{}"), "{\"x\":[1,\"a\"]}", NULL);
}

static void
type_rejects_other_values (void **state)
{
  (void) state;
  check (OBJECT_WITH ("{\"type\":\"string\"}"), "{\"x\":1}",
         "Invalid argument 'x': expected string");
  check (OBJECT_WITH ("{\"type\":\"integer\"}"), "{\"x\":\"5\"}",
         "Invalid argument 'x': expected integer");
  check (OBJECT_WITH ("{\"type\":\"integer\"}"), "{\"x\":5.0}",
         "Invalid argument 'x': expected integer");
  check (OBJECT_WITH ("{\"type\":\"integer\"}"), "{\"x\":true}",
         "Invalid argument 'x': expected integer");
  check (OBJECT_WITH ("{\"type\":\"number\"}"), "{\"x\":null}",
         "Invalid argument 'x': expected number");
  check (OBJECT_WITH ("{\"type\":\"boolean\"}"), "{\"x\":0}",
         "Invalid argument 'x': expected boolean");
  check (OBJECT_WITH ("{\"type\":\"array\"}"), "{\"x\":{}}",
         "Invalid argument 'x': expected array");
  check (OBJECT_WITH ("{\"type\":\"object\"}"), "{\"x\":[]}",
         "Invalid argument 'x': expected object");
  check (OBJECT_WITH ("{\"type\":\"null\"}"), "{\"x\":0}", "Invalid argument 'x': expected null");
}

static void
type_array_accepts_any_listed_type (void **state)
{
  const char *schema = OBJECT_WITH ("{\"type\":[\"integer\",\"null\"]}");

  (void) state;
  check (schema, "{\"x\":null}", NULL);
  check (schema, "{\"x\":30}", NULL);
  check (schema, "{\"x\":\"30\"}", "Invalid argument 'x': expected integer or null");
  check (schema, "{\"x\":1.5}", "Invalid argument 'x': expected integer or null");
}

static void
root_must_match_type (void **state)
{
  (void) state;
  check ("{\"type\":\"object\"}", "[]", "Invalid arguments: expected object");
  check ("{\"type\":\"object\"}", "{}", NULL);
}

static void
required_names_missing_argument (void **state)
{
  const char *schema = "{\"type\":\"object\",\"properties\":{\"sandbox_id\":{\"type\":\"string\"},"
                       "\"code\":{\"type\":\"string\"}},\"required\":[\"sandbox_id\",\"code\"]}";

  (void) state;
  check (schema, "{\"sandbox_id\":\"s\",\"code\":\"1\"}", NULL);
  check (schema, "{\"code\":\"1\"}", "Missing required argument 'sandbox_id'");
  check (schema, "{\"sandbox_id\":\"s\"}", "Missing required argument 'code'");
  check (schema, "{}", "Missing required argument 'sandbox_id'");
}

static void
required_counts_null_as_present (void **state)
{
  const char *schema = "{\"type\":\"object\",\"properties\":{\"t\":{\"type\":[\"integer\",\"null\"]}},"
                       "\"required\":[\"t\"]}";

  (void) state;
  check (schema, "{\"t\":null}", NULL);
}

static void
additional_properties_false_rejects_unknown (void **state)
{
  const char *schema = "{\"type\":\"object\",\"properties\":{\"a\":{}},"
                       "\"additionalProperties\":false}";

  (void) state;
  check (schema, "{\"a\":1}", NULL);
  check (schema, "{\"a\":1,\"x\":2}", "Unknown argument 'x'");
}

static void
additional_properties_default_allows_unknown (void **state)
{
  (void) state;
  check ("{\"type\":\"object\",\"properties\":{\"a\":{}}}", "{\"x\":2}", NULL);
  check ("{\"type\":\"object\",\"additionalProperties\":true}", "{\"x\":2}", NULL);
}

static void
additional_properties_schema_checks_values (void **state)
{
  const char *schema = OBJECT_WITH ("{\"type\":\"object\",\"additionalProperties\":"
                                    "{\"type\":\"string\"}}");

  (void) state;
  check (schema, "{\"x\":{\"A\":\"1\",\"B\":\"2\"}}", NULL);
  check (schema, "{\"x\":{\"A\":\"1\",\"B\":2}}", "Invalid argument 'x.B': expected string");
}

static void
unknown_argument_reported_before_missing (void **state)
{
  const char *schema = "{\"type\":\"object\",\"properties\":{\"sandbox_id\":{}},"
                       "\"required\":[\"sandbox_id\"],\"additionalProperties\":false}";

  (void) state;
  check (schema, "{\"sandboxid\":\"s\"}", "Unknown argument 'sandboxid'");
}

static void
enum_lists_allowed_values (void **state)
{
  const char *schema = OBJECT_WITH ("{\"type\":\"string\",\"enum\":[\"csv\",\"json\"]}");

  (void) state;
  check (schema, "{\"x\":\"json\"}", NULL);
  check (schema, "{\"x\":\"xml\"}", "Invalid argument 'x': expected one of \"csv\", \"json\"");
  check (OBJECT_WITH ("{\"enum\":[1,null]}"), "{\"x\":null}", NULL);
  check (OBJECT_WITH ("{\"enum\":[1,null]}"), "{\"x\":2}",
         "Invalid argument 'x': expected one of 1, null");
}

static void
minimum_and_maximum_bound_integers (void **state)
{
  const char *schema = OBJECT_WITH ("{\"type\":\"integer\",\"minimum\":1,\"maximum\":300}");

  (void) state;
  check (schema, "{\"x\":1}", NULL);
  check (schema, "{\"x\":300}", NULL);
  check (schema, "{\"x\":0}", "Invalid argument 'x': must be at least 1");
  check (schema, "{\"x\":-9223372036854775808}", "Invalid argument 'x': must be at least 1");
  check (schema, "{\"x\":301}", "Invalid argument 'x': must be at most 300");
  check (schema, "{\"x\":9223372036854775807}", "Invalid argument 'x': must be at most 300");
}

static void
minimum_and_maximum_bound_numbers (void **state)
{
  const char *schema = OBJECT_WITH ("{\"type\":\"number\",\"minimum\":0.5,\"maximum\":2}");

  (void) state;
  check (schema, "{\"x\":0.5}", NULL);
  check (schema, "{\"x\":2}", NULL);
  check (schema, "{\"x\":1}", NULL);
  check (schema, "{\"x\":0.25}", "Invalid argument 'x': must be at least 0.5");
  check (schema, "{\"x\":2.0001}", "Invalid argument 'x': must be at most 2");
  check (schema, "{\"x\":3}", "Invalid argument 'x': must be at most 2");
}

static void
min_length_counts_characters (void **state)
{
  const char *schema = OBJECT_WITH ("{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}");

  (void) state;
  check (schema, "{\"x\":\"ab\"}", NULL);
  /* Two characters, four bytes. */
  check (schema, "{\"x\":\"\xc3\xa9\xc3\xa9\"}", NULL);
  /* Three characters, nine bytes. */
  check (schema, "{\"x\":\"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\"}", NULL);
  check (schema, "{\"x\":\"\"}", "Invalid argument 'x': must be at least 2 characters long");
  check (schema, "{\"x\":\"\xc3\xa9\"}",
         "Invalid argument 'x': must be at least 2 characters long");
  check (schema, "{\"x\":\"abcd\"}", "Invalid argument 'x': must be at most 3 characters long");
}

static void
items_checks_each_element (void **state)
{
  const char *schema = OBJECT_WITH ("{\"type\":\"array\",\"items\":{\"type\":\"string\"}}");

  (void) state;
  check (schema, "{\"x\":[\"a\",\"b\"]}", NULL);
  check (schema, "{\"x\":[]}", NULL);
  check (schema, "{\"x\":[\"a\",2]}", "Invalid argument 'x[1]': expected string");
}

static void
items_count_is_bounded (void **state)
{
  const char *schema = OBJECT_WITH ("{\"type\":\"array\",\"minItems\":1,\"maxItems\":2}");

  (void) state;
  check (schema, "{\"x\":[1]}", NULL);
  check (schema, "{\"x\":[1,2]}", NULL);
  check (schema, "{\"x\":[]}", "Invalid argument 'x': must have at least 1 item");
  check (schema, "{\"x\":[1,2,3]}", "Invalid argument 'x': must have at most 2 items");
}

static void
nested_paths_name_the_argument (void **state)
{
  const char *schema
    = "{\"type\":\"object\",\"properties\":{\"files\":{\"type\":\"array\",\"items\":"
      "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\",\"minLength\":1}},"
      "\"required\":[\"path\"],\"additionalProperties\":false}}}}";

  (void) state;
  check (schema, "{\"files\":[{\"path\":\"a\"}]}", NULL);
  check (schema, "{\"files\":[{\"path\":\"a\"},{}]}", "Missing required argument 'files[1].path'");
  check (schema, "{\"files\":[{\"path\":\"\"}]}",
         "Invalid argument 'files[0].path': must be at least 1 character long");
  check (schema, "{\"files\":[{\"path\":\"a\",\"mode\":1}]}", "Unknown argument 'files[0].mode'");
}

static void
unsupported_keywords_are_ignored (void **state)
{
  (void) state;
  check (OBJECT_WITH ("{\"type\":\"string\",\"pattern\":\"^a$\",\"description\":\"d\"}"),
         "{\"x\":\"b\"}", NULL);
}

static void
message_fits_small_buffer (void **state)
{
  json_t *schema = load ("{\"type\":\"object\",\"additionalProperties\":false}");
  json_t *arguments = load ("{\"a_rather_long_argument_name\":1}");
  char message[16];

  (void) state;
  memset (message, 'X', sizeof message);
  assert_false (mcp_schema_validate (schema, arguments, message, 12));
  assert_string_equal (message, "Unknown arg");
  assert_int_equal (message[12], 'X');
  json_decref (schema);
  json_decref (arguments);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (type_accepts_matching_values),
    cmocka_unit_test (type_rejects_other_values),
    cmocka_unit_test (type_array_accepts_any_listed_type),
    cmocka_unit_test (root_must_match_type),
    cmocka_unit_test (required_names_missing_argument),
    cmocka_unit_test (required_counts_null_as_present),
    cmocka_unit_test (additional_properties_false_rejects_unknown),
    cmocka_unit_test (additional_properties_default_allows_unknown),
    cmocka_unit_test (additional_properties_schema_checks_values),
    cmocka_unit_test (unknown_argument_reported_before_missing),
    cmocka_unit_test (enum_lists_allowed_values),
    cmocka_unit_test (minimum_and_maximum_bound_integers),
    cmocka_unit_test (minimum_and_maximum_bound_numbers),
    cmocka_unit_test (min_length_counts_characters),
    cmocka_unit_test (items_checks_each_element),
    cmocka_unit_test (items_count_is_bounded),
    cmocka_unit_test (nested_paths_name_the_argument),
    cmocka_unit_test (unsupported_keywords_are_ignored),
    cmocka_unit_test (message_fits_small_buffer),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
