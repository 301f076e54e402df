/* Unit tests for the install_package requirement policy and for the
 * messages built from pip's output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "packages.h"

static void
normalize_names (void **state)
{
  static const struct
  {
    const char *name;
    const char *expected;
  } cases[] = {
    { "numpy", "numpy" },
    { "Foo_Bar", "foo-bar" },
    { "zope.interface", "zope-interface" },
    { "a--b", "a-b" },
    { "a._-b", "a-b" },
    { "A...B_c", "a-b-c" },
    { "OMCP-Demo", "omcp-demo" },
  };
  char out[PACKAGE_NAME_MAX + 1];
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (cases); i++)
    {
      package_name_normalize (cases[i].name, out, sizeof out);
      assert_string_equal (out, cases[i].expected);
    }
}

static void
pins_accepted (void **state)
{
  static const struct
  {
    const char *requirement;
    const char *allowlist;
    const char *name;
    const char *version;
  } cases[] = {
    { "omcp_demo==1.0", "omcp-demo", "omcp-demo", "1.0" },
    { "Omcp.Demo==1.0", "OMCP_demo", "omcp-demo", "1.0" },
    { "omcp--demo==1.0", "omcp.demo", "omcp-demo", "1.0" },
    { "  numpy==1.26.4\n", "numpy", "numpy", "1.26.4" },
    { "numpy==1.26.4", " pandas ,\tnumpy ,, scipy ", "numpy", "1.26.4" },
    { "x==1!2.0", "x", "x", "1!2.0" },
    { "x==2.0rc1", "x", "x", "2.0rc1" },
    { "x==2.0.RC1", "x", "x", "2.0.RC1" },
    { "x==1.0.post1", "x", "x", "1.0.post1" },
    { "x==1.0-1", "x", "x", "1.0-1" },
    { "x==1.0.dev3", "x", "x", "1.0.dev3" },
    { "x==1.0a1.post2.dev3", "x", "x", "1.0a1.post2.dev3" },
    { "x==1.0+local.7", "x", "x", "1.0+local.7" },
    { "x==v1.0", "x", "x", "v1.0" },
    { "x==2023.10.1", "x", "x", "2023.10.1" },
    { "x9==0", "x9", "x9", "0" },
  };
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (cases); i++)
    {
      struct package_pin pin;
      omcp_error err;

      if (package_requirement_check (cases[i].requirement, cases[i].allowlist, &pin, &err) < 0)
        fail_msg ("'%s' with allowlist '%s' was rejected: %s", cases[i].requirement,
                  cases[i].allowlist, err.message);
      assert_string_equal (pin.name, cases[i].name);
      assert_string_equal (pin.version, cases[i].version);
    }
}

/* Every rejected form, with a phrase its message must contain. */
static void
requirements_rejected_with_reason (void **state)
{
  static const struct
  {
    const char *requirement;
    const char *reason;
  } cases[] = {
    { "", "is empty" },
    { " \t\n", "is empty" },
    { "requests", "has no version" },
    { "requests>=2.0", "operator '>='" },
    { "requests<=2.0", "operator '<='" },
    { "requests~=2.0", "operator '~='" },
    { "requests!=2.0", "operator '!='" },
    { "requests<2", "operator '<'" },
    { "requests>2", "operator '>'" },
    { "requests===2.0", "arbitrary equality (===)" },
    { "requests=2.0", "'=' is not an operator" },
    { "requests==", "no version follows '=='" },
    { "requests==2.*", "wildcard" },
    { "requests==*", "wildcard" },
    { "requests==latest", "'latest' is not a valid version" },
    { "requests==2..0", "is not a valid version" },
    { "requests==2.0==3.0", "is not a valid version" },
    { "requests>=2,<3", "comma" },
    { "requests==2.0,numpy==1.0", "comma" },
    { "requests==2.0 numpy==1.0", "whitespace" },
    { "requests == 2.0", "whitespace" },
    { "requests==2.0\nnumpy==1.0", "whitespace" },
    { "requests==2.0\r\nnumpy==1.0", "whitespace" },
    { "requests==2.0;numpy==1.0", "markers" },
    { "requests==2.0;python_version>'3'", "markers" },
    { "requests[socks]==2.0", "extras" },
    { "requests]==2.0", "extras" },
    { "--index-url=https://example.invalid/simple", "options" },
    { "--extra-index-url", "options" },
    { "-i", "options" },
    { "-r", "options" },
    { "-rrequirements.txt", "options" },
    { "-e", "options" },
    { "-e.", "options" },
    { "-", "options" },
    { "--", "options" },
    { "requests @ https://example.invalid/requests-2.0-py3-none-any.whl", "URLs" },
    { "requests@https://example.invalid/r.whl", "URLs" },
    { "https://example.invalid/requests-2.0-py3-none-any.whl", "URLs" },
    { "git+https://example.invalid/requests.git", "URLs" },
    { "hg+https://example.invalid/requests", "URLs" },
    { "file:///tmp/requests-2.0-py3-none-any.whl", "URLs" },
    { "requests==2.0@x", "URLs" },
    { "./requests-2.0-py3-none-any.whl", "paths" },
    { "/tmp/requests", "paths" },
    { "../requests", "paths" },
    { ".", "paths" },
    { "~/requests", "paths" },
    { "dir/requests", "paths" },
    { "C:\\requests", "paths" },
    { "requests-2.0-py3-none-any.whl", "paths" },
    { "requests-2.0.tar.gz", "paths" },
    { "==2.0", "does not start with a package name" },
    { "_requests==2.0", "not a valid package name" },
    { "requests-==2.0", "not a valid package name" },
    { "requests(2.0)", "character '('" },
    { "requests$==2.0", "character '$'" },
    { "r\xc3\xa9quests==2.0", "printable ASCII" },
    { "requests\x01==2.0", "printable ASCII" },
  };
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (cases); i++)
    {
      struct package_pin pin;
      omcp_error err;

      if (package_requirement_check (cases[i].requirement, "requests, numpy", &pin, &err) == 0)
        fail_msg ("'%s' was accepted as %s==%s", cases[i].requirement, pin.name, pin.version);
      assert_int_equal (err.errnum, EINVAL);
      if (strstr (err.message, cases[i].reason) == NULL)
        fail_msg ("'%s': message \"%s\" lacks \"%s\"", cases[i].requirement, err.message,
                  cases[i].reason);
    }
}

static void
rejection_quotes_requirement (void **state)
{
  struct package_pin pin;
  omcp_error err;
  char long_name[PACKAGE_NAME_MAX + PACKAGE_VERSION_MAX + 20];

  (void) state;
  assert_int_equal (package_requirement_check ("requests>=2.0", "requests", &pin, &err), -1);
  assert_non_null (strstr (err.message, "'requests>=2.0'"));
  assert_non_null (strstr (err.message, "requests==VERSION"));

  /* Bytes that are not printable ASCII are quoted as '?', so the message
   * stays valid UTF-8 however the requirement was cut. */
  assert_int_equal (package_requirement_check ("r\xc3\xa9q==1", "req", &pin, &err), -1);
  assert_non_null (strstr (err.message, "'r??q==1'"));

  memset (long_name, 'a', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  assert_int_equal (package_requirement_check (long_name, "a", &pin, &err), -1);
  assert_non_null (strstr (err.message, "longer than"));
  assert_non_null (strstr (err.message, "aaa...'"));
  assert_true (strlen (err.message) < 300);
}

static void
allowlist_enforced (void **state)
{
  struct package_pin pin;
  omcp_error err;

  (void) state;
  assert_int_equal (package_requirement_check ("requests==2.0", "numpy, Pandas", &pin, &err), -1);
  assert_int_equal (err.errnum, EPERM);
  assert_non_null (strstr (err.message, "'requests' is not in PACKAGE_ALLOWLIST"));
  assert_non_null (strstr (err.message, "allowed: numpy, pandas"));

  /* A prefix or a near name is not the name. */
  assert_int_equal (package_requirement_check ("num==1.0", "numpy", &pin, &err), -1);
  assert_int_equal (err.errnum, EPERM);
  assert_int_equal (package_requirement_check ("numpyx==1.0", "numpy", &pin, &err), -1);
  assert_int_equal (err.errnum, EPERM);

  /* An empty allowlist allows nothing. */
  assert_int_equal (package_requirement_check ("numpy==1.0", "", &pin, &err), -1);
  assert_int_equal (err.errnum, EPERM);
  assert_non_null (strstr (err.message, "PACKAGE_ALLOWLIST"));
  assert_non_null (strstr (err.message, "is empty"));
  assert_int_equal (package_requirement_check ("numpy==1.0", " , ,", &pin, &err), -1);
  assert_non_null (strstr (err.message, "is empty"));
  assert_int_equal (package_requirement_check ("numpy==1.0", NULL, &pin, &err), -1);
  assert_non_null (strstr (err.message, "is empty"));
}

static void
allowlist_syntax_checked (void **state)
{
  static const char *const invalid[] = { "numpy==1.0", "numpy, pandas>=2", "a b", "-r",
                                         "numpy,_x", "https://example.invalid" };
  char too_long[PACKAGE_NAME_MAX + 10];
  size_t count, i;
  omcp_error err;

  (void) state;
  assert_int_equal (package_allowlist_check ("", &count, &err), 0);
  assert_int_equal (count, 0);
  assert_int_equal (package_allowlist_check (" numpy ,\tpandas,, scikit-learn ,", &count, &err), 0);
  assert_int_equal (count, 3);
  for (i = 0; i < N_ELEMENTS (invalid); i++)
    {
      if (package_allowlist_check (invalid[i], &count, &err) == 0)
        fail_msg ("allowlist '%s' was accepted", invalid[i]);
      assert_non_null (strstr (err.message, "PACKAGE_ALLOWLIST"));
    }
  memset (too_long, 'a', sizeof too_long - 1);
  too_long[sizeof too_long - 1] = '\0';
  assert_int_equal (package_allowlist_check (too_long, &count, &err), -1);
}

static void
wheelhouse_checked (void **state)
{
  char directory[] = "/tmp/omcp-test-wheelhouse-XXXXXX";
  char file[sizeof directory + 16];
  omcp_error err;
  FILE *f;

  (void) state;
  assert_non_null (mkdtemp (directory));
  snprintf (file, sizeof file, "%s/file", directory);
  f = fopen (file, "w");
  assert_non_null (f);
  fclose (f);

  /* mkdtemp makes the directory private: sandboxes could not read it. */
  assert_int_equal (package_wheelhouse_check (directory, &err), -1);
  assert_non_null (strstr (err.message, "readable and searchable by every user"));
  assert_int_equal (chmod (directory, 0755), 0);
  assert_int_equal (package_wheelhouse_check (directory, &err), 0);
  assert_int_equal (package_wheelhouse_check ("", &err), -1);
  assert_non_null (strstr (err.message, "PACKAGE_WHEELHOUSE is not set"));
  assert_int_equal (package_wheelhouse_check ("wheels", &err), -1);
  assert_non_null (strstr (err.message, "absolute"));
  assert_int_equal (package_wheelhouse_check ("/nonexistent/omcp/wheels", &err), -1);
  assert_non_null (strstr (err.message, "No such file"));
  assert_int_equal (package_wheelhouse_check (file, &err), -1);
  assert_non_null (strstr (err.message, "not a directory"));

  unlink (file);
  rmdir (directory);
}

static void
failure_messages_from_pip (void **state)
{
  static const struct package_pin pin = { "omcp-demo", "2.0" };
  static const struct
  {
    const char *output;
    const char *expected[3];
  } cases[] = {
    { "Looking in links: /wheelhouse\n"
      "ERROR: Could not find a version that satisfies the requirement omcp-demo==2.0 "
      "(from versions: 1.0, 1.1)\n"
      "ERROR: No matching distribution found for omcp-demo==2.0\n",
      { "omcp-demo==2.0 is not in the wheelhouse", "1.0, 1.1" } },
    { "ERROR: Could not find a version that satisfies the requirement omcp-demo==2.0 "
      "(from versions: none)\n"
      "ERROR: No matching distribution found for omcp-demo==2.0\n",
      { "omcp-demo==2.0 is not in the wheelhouse", "no wheel of omcp-demo" } },
    { "Processing /wheelhouse/omcp_demo-2.0-py3-none-any.whl\n"
      "ERROR: Could not find a version that satisfies the requirement Helper_Lib>=1 "
      "(from omcp-demo) (from versions: none)\n"
      "ERROR: No matching distribution found for Helper_Lib>=1\n",
      { "dependency Helper_Lib>=1 is not in the wheelhouse", "versions there: none",
        "Dependencies, too" } },
    { "/usr/bin/python3: No module named pip\n", { "pip is not available", "python3-pip" } },
    { "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on "
      "device\n", { "exited with code 1", "No space left on device" } },
    { "Traceback (most recent call last):\nSomething odd\n",
      { "exited with code 1", "'output'" } },
  };
  char message[1024];
  size_t i, j;

  (void) state;
  for (i = 0; i < N_ELEMENTS (cases); i++)
    {
      package_explain_failure (&pin, 1, cases[i].output, message, sizeof message);
      for (j = 0; j < N_ELEMENTS (cases[i].expected) && cases[i].expected[j]; j++)
        if (strstr (message, cases[i].expected[j]) == NULL)
          fail_msg ("case %zu: message \"%s\" lacks \"%s\"", i, message, cases[i].expected[j]);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (normalize_names),
    cmocka_unit_test (pins_accepted),
    cmocka_unit_test (requirements_rejected_with_reason),
    cmocka_unit_test (rejection_quotes_requirement),
    cmocka_unit_test (allowlist_enforced),
    cmocka_unit_test (allowlist_syntax_checked),
    cmocka_unit_test (wheelhouse_checked),
    cmocka_unit_test (failure_messages_from_pip),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
