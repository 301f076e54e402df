/* Unit tests for configuration parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "config.h"

/* A fake environment: NULL-terminated NAME, VALUE pairs. */
static const char *
lookup_pairs (const char *name, void *userdata)
{
  const char *const *pairs = userdata;

  for (; pairs[0]; pairs += 2)
    if (strcmp (pairs[0], name) == 0)
      return pairs[1];
  return NULL;
}

static void
defaults_when_unset (void **state)
{
  const char *pairs[] = { NULL };
  struct omcp_config c;
  omcp_error err;

  (void) state;
  assert_int_equal (config_load (&c, lookup_pairs, pairs, &err), 0);
  assert_int_equal (c.sandbox_timeout_s, 300);
  assert_int_equal (c.max_sandboxes, 10);
  assert_int_equal (c.execution_default_timeout_s, 30);
  assert_int_equal (c.execution_max_timeout_s, 300);
  assert_int_equal (c.execution_max_output_bytes, 1048576);
  assert_string_equal (c.sandbox_python, "/usr/bin/python3");
  assert_true (c.sandbox_read_only);
  assert_string_equal (c.sandbox_network, "none");
  assert_false (c.package_install_enabled);
  assert_int_equal (c.log_level, LOG_LEVEL_INFO);
}

static void
values_override_defaults (void **state)
{
  const char *pairs[] = { "SANDBOX_TIMEOUT", "5", "MAX_SANDBOXES", "60", "LOG_LEVEL", "debug",
                          "PACKAGE_INSTALL_ENABLED", "TRUE", "SANDBOX_NETWORK", "none",
                          "EXECUTION_MAX_OUTPUT_BYTES", "2048", NULL };
  struct omcp_config c;
  omcp_error err;

  (void) state;
  assert_int_equal (config_load (&c, lookup_pairs, pairs, &err), 0);
  assert_int_equal (c.sandbox_timeout_s, 5);
  assert_int_equal (c.max_sandboxes, 60);
  assert_int_equal (c.log_level, LOG_LEVEL_DEBUG);
  assert_true (c.package_install_enabled);
  assert_int_equal (c.execution_max_output_bytes, 2048);
}

static void
lower_max_timeout_lowers_default (void **state)
{
  const char *only_max[] = { "EXECUTION_MAX_TIMEOUT", "3", NULL };
  const char *both[] = { "EXECUTION_MAX_TIMEOUT", "3", "EXECUTION_DEFAULT_TIMEOUT", "2", NULL };
  struct omcp_config c;
  omcp_error err;

  (void) state;
  assert_int_equal (config_load (&c, lookup_pairs, only_max, &err), 0);
  assert_int_equal (c.execution_max_timeout_s, 3);
  assert_int_equal (c.execution_default_timeout_s, 3);
  assert_int_equal (config_load (&c, lookup_pairs, both, &err), 0);
  assert_int_equal (c.execution_default_timeout_s, 2);
}

static void
invalid_values_name_variable (void **state)
{
  static const struct
  {
    const char *name;
    const char *value;
    const char *expected;
  } cases[] = {
    { "SANDBOX_TIMEOUT", "abc", "SANDBOX_TIMEOUT 'abc': expected an integer" },
    { "SANDBOX_TIMEOUT", "0", "from 1 to" },
    { "MAX_SANDBOXES", "5000", "MAX_SANDBOXES" },
    { "LOG_LEVEL", "LOUD", "expected DEBUG, INFO, WARNING or ERROR" },
    { "SANDBOX_READ_ONLY", "maybe", "SANDBOX_READ_ONLY 'maybe': expected true or false" },
    { "SANDBOX_NETWORK", "host", "SANDBOX_NETWORK 'host'" },
    { "SANDBOX_NETWORK", "container:db", "SANDBOX_NETWORK 'container:db'" },
    { "SANDBOX_NETWORK", "bridge", "the accepted value is none" },
    { "SANDBOX_PYTHON", "/opt/python3", "below /usr" },
    { "SANDBOX_PYTHON", "/usr/../bin/sh", "below /usr" },
    { "EXECUTION_DEFAULT_TIMEOUT", "400", "exceeds EXECUTION_MAX_TIMEOUT" },
    { "PACKAGE_INSTALL_ENABLED", "sometimes", "expected true or false" },
  };
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (cases); i++)
    {
      const char *pairs[] = { cases[i].name, cases[i].value, NULL };
      struct omcp_config c;
      omcp_error err;

      assert_int_equal (config_load (&c, lookup_pairs, pairs, &err), -1);
      if (strstr (err.message, cases[i].expected) == NULL)
        fail_msg ("%s=%s: message \"%s\" lacks \"%s\"", cases[i].name, cases[i].value,
                  err.message, cases[i].expected);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (defaults_when_unset),
    cmocka_unit_test (values_override_defaults),
    cmocka_unit_test (lower_max_timeout_lowers_default),
    cmocka_unit_test (invalid_values_name_variable),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
