/* Unit tests for the utility library: UTF-8 repair, ids, numbers, time,
 * errors and .env parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dotenv.h"
#include "log.h"
#include "util.h"

static void
utf8_valid_text_unchanged (void **state)
{
  const char text[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
  size_t len;
  char *out = utf8_sanitize (text, sizeof text - 1, &len);

  (void) state;
  assert_int_equal (len, sizeof text - 1);
  assert_memory_equal (out, text, len);
  free (out);
}

static void
utf8_invalid_bytes_replaced (void **state)
{
  static const struct
  {
    const char *input;
    size_t len;
    const char *expected;
  } cases[] = {
    { "a\xff" "b", 3, "a\xef\xbf\xbd" "b" },                  /* never valid */
    { "\xc3", 1, "\xef\xbf\xbd" },                             /* truncated */
    { "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd" },             /* overlong */
    { "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
    { "\xf4\x90\x80\x80", 4,
      "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },    /* past U+10FFFF */
  };
  size_t i, len;

  (void) state;
  for (i = 0; i < N_ELEMENTS (cases); i++)
    {
      char *out = utf8_sanitize (cases[i].input, cases[i].len, &len);
      assert_int_equal (len, strlen (cases[i].expected));
      assert_memory_equal (out, cases[i].expected, len);
      free (out);
    }
}

static void
utf8_embedded_nul_kept (void **state)
{
  size_t len;
  char *out = utf8_sanitize ("a\0b", 3, &len);

  (void) state;
  assert_int_equal (len, 3);
  assert_memory_equal (out, "a\0b", 3);
  free (out);
}

static void
uuid_format_and_validation (void **state)
{
  char a[37], b[37];

  (void) state;
  assert_int_equal (uuid_v4 (a, sizeof a), 0);
  assert_int_equal (uuid_v4 (b, sizeof b), 0);
  assert_true (uuid_is_valid (a));
  assert_string_not_equal (a, b);
  assert_int_equal (a[14], '4');
  assert_true (strchr ("89ab", a[19]) != NULL);
  assert_false (uuid_is_valid ("not-a-uuid"));
  assert_false (uuid_is_valid ("123e4567-e89b-12d3-a456-42661417400g"));
  assert_false (uuid_is_valid (NULL));
}

static void
parse_int64_cases (void **state)
{
  int64_t v = 0;

  (void) state;
  assert_true (parse_int64 ("42", &v));
  assert_int_equal (v, 42);
  assert_true (parse_int64 ("-7", &v));
  assert_int_equal (v, -7);
  assert_false (parse_int64 ("", &v));
  assert_false (parse_int64 ("12x", &v));
  assert_false (parse_int64 ("99999999999999999999", &v));
  assert_false (parse_int64 (NULL, &v));
}

static void
iso8601_format (void **state)
{
  char buf[40];

  (void) state;
  format_iso8601_utc (1796415748123LL, buf, sizeof buf);
  assert_string_equal (buf, "2026-12-04T20:22:28.123Z");
}

static void
error_prefix_and_errno (void **state)
{
  omcp_error err;

  (void) state;
  assert_int_equal (omcp_error_set (&err, ENOENT, "open %s", "/x"), -1);
  assert_int_equal (err.errnum, ENOENT);
  assert_string_equal (err.message, "open /x: No such file or directory");
  omcp_error_prefix (&err, "create sandbox");
  assert_string_equal (err.message, "create sandbox: open /x: No such file or directory");
  omcp_error_set_kind (&err, EBUSY, "Sandbox %s is busy", "s1");
  assert_int_equal (err.errnum, EBUSY);
  assert_string_equal (err.message, "Sandbox s1 is busy");
}

static void
log_level_names (void **state)
{
  enum log_level level;

  (void) state;
  assert_true (log_level_parse ("debug", &level));
  assert_int_equal (level, LOG_LEVEL_DEBUG);
  assert_true (log_level_parse ("WARN", &level));
  assert_int_equal (level, LOG_LEVEL_WARNING);
  assert_false (log_level_parse ("verbose", &level));
}

static char *
write_temp (const char *content)
{
  char *path = strdup ("/tmp/omcp-test-env-XXXXXX");
  int fd = mkstemp (path);

  assert_true (fd >= 0);
  assert_int_equal (write_all (fd, content, strlen (content)), 0);
  close (fd);
  return path;
}

static void
dotenv_parses_forms (void **state)
{
  char *path = write_temp ("# comment\n"
                           "\n"
                           "OMCP_T_PLAIN=value # trailing comment\n"
                           "export OMCP_T_EXPORTED=yes\n"
                           "OMCP_T_DOUBLE=\"a \\\"b\\\"\\nc\"\n"
                           "OMCP_T_SINGLE='x # not a comment'\n"
                           "OMCP_T_KEEP=from-file\n");
  omcp_error err;

  (void) state;
  setenv ("OMCP_T_KEEP", "from-environment", 1);
  assert_int_equal (dotenv_load (path, &err), 0);
  assert_string_equal (getenv ("OMCP_T_PLAIN"), "value");
  assert_string_equal (getenv ("OMCP_T_EXPORTED"), "yes");
  assert_string_equal (getenv ("OMCP_T_DOUBLE"), "a \"b\"\nc");
  assert_string_equal (getenv ("OMCP_T_SINGLE"), "x # not a comment");
  assert_string_equal (getenv ("OMCP_T_KEEP"), "from-environment");
  unlink (path);
  free (path);
}

static void
dotenv_rejects_malformed (void **state)
{
  static const char *const bad[] = { "NOEQUALS\n", "OMCP_T_Q=\"open\n", "1ABC=x\n", "=x\n" };
  omcp_error err;
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (bad); i++)
    {
      char *path = write_temp (bad[i]);
      assert_int_equal (dotenv_load (path, &err), -1);
      assert_non_null (strstr (err.message, "line 1"));
      unlink (path);
      free (path);
    }
}

static void
dotenv_missing_file_ok (void **state)
{
  omcp_error err;

  (void) state;
  assert_int_equal (dotenv_load ("/nonexistent/omcp/.env", &err), 0);
}

static void
output_stream_drain_budget (void **state)
{
  struct output_stream out = { .fd = -1 };
  size_t budget = 4;
  int fds[2];

  (void) state;
  assert_int_equal (pipe2 (fds, O_CLOEXEC | O_NONBLOCK), 0);
  out.fd = fds[0];

  /* Nothing to read yet: no bytes, no cap, the descriptor stays open. */
  assert_false (output_stream_drain (&out, &budget));
  assert_int_equal (out.fd, fds[0]);

  /* Ten bytes against a budget of four: four kept, cap reached. */
  assert_int_equal (write (fds[1], "0123456789", 10), 10);
  assert_true (output_stream_drain (&out, &budget));
  assert_int_equal (out.len, 4);
  assert_int_equal (budget, 0);
  assert_memory_equal (out.buf, "0123", 4);

  /* End of file closes the descriptor. */
  close (fds[1]);
  assert_false (output_stream_drain (&out, &budget));
  assert_int_equal (out.fd, -1);
  free (out.buf);
}

static void
dates_round_trip (void **state)
{
  static const struct { int year, month, day; int64_t days; } cases[] = {
    { 1970, 1, 1, 0 },    { 1969, 12, 31, -1 },  { 2000, 2, 29, 11016 },
    { 2000, 3, 1, 11017 }, { 1900, 3, 1, -25508 }, { 1, 1, 1, -719162 },
  };
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (cases); i++)
    {
      int year, month, day;

      assert_int_equal (days_from_date (cases[i].year, cases[i].month, cases[i].day),
                        cases[i].days);
      date_from_days (cases[i].days, &year, &month, &day);
      assert_int_equal (year, cases[i].year);
      assert_int_equal (month, cases[i].month);
      assert_int_equal (day, cases[i].day);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (utf8_valid_text_unchanged),
    cmocka_unit_test (utf8_invalid_bytes_replaced),
    cmocka_unit_test (utf8_embedded_nul_kept),
    cmocka_unit_test (uuid_format_and_validation),
    cmocka_unit_test (parse_int64_cases),
    cmocka_unit_test (iso8601_format),
    cmocka_unit_test (error_prefix_and_errno),
    cmocka_unit_test (log_level_names),
    cmocka_unit_test (dotenv_parses_forms),
    cmocka_unit_test (dotenv_rejects_malformed),
    cmocka_unit_test (dotenv_missing_file_ok),
    cmocka_unit_test (output_stream_drain_budget),
    cmocka_unit_test (dates_round_trip),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
