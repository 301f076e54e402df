/* Unit tests for the CSV reader and the validation of CDM values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "csvread.h"
#include "db-internal.h"

#define MAX_RECORDS 16
#define MAX_FIELDS 8

/* Records seen by collect(), copied. */
struct collected
{
  size_t n_records;
  int64_t lines[MAX_RECORDS];
  size_t n_fields[MAX_RECORDS];
  char fields[MAX_RECORDS][MAX_FIELDS][64];
  int stop_after;          /* stop the reader after this many records, or 0 */
};

static int
collect (void *userdata, int64_t line, char *const *fields, const size_t *lengths, size_t n)
{
  struct collected *c = userdata;
  size_t i;

  assert_true (c->n_records < MAX_RECORDS);
  c->lines[c->n_records] = line;
  c->n_fields[c->n_records] = n;
  for (i = 0; i < n && i < MAX_FIELDS; i++)
    {
      assert_int_equal (strlen (fields[i]), lengths[i]);
      copy_string (c->fields[c->n_records][i], 64, fields[i]);
    }
  c->n_records++;
  return c->stop_after && (int) c->n_records >= c->stop_after ? -1 : 0;
}

/* Parse TEXT fed in pieces of CHUNK bytes (all at once when 0). */
static int
parse (const char *text, size_t chunk, struct collected *c, omcp_error *err)
{
  struct csv_reader reader;
  size_t len = strlen (text), off = 0;
  int ret = 0;

  csv_reader_init (&reader, collect, c);
  while (off < len && ret == 0)
    {
      size_t n = chunk && len - off > chunk ? chunk : len - off;
      ret = csv_reader_feed (&reader, text + off, n, err);
      off += n;
    }
  if (ret == 0)
    ret = csv_reader_finish (&reader, err);
  csv_reader_free (&reader);
  return ret;
}

static void
csv_quotes_commas_newlines (void **state)
{
  const char *text = "a,b,c\n1,\"x, y\",\"line one\nline two\"\n2,\"say \"\"hi\"\"\",z\n";
  size_t chunks[] = { 0, 1, 3, 7 };
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (chunks); i++)
    {
      struct collected c = { 0 };
      omcp_error err;

      assert_int_equal (parse (text, chunks[i], &c, &err), 0);
      assert_int_equal (c.n_records, 3);
      assert_string_equal (c.fields[1][1], "x, y");
      assert_string_equal (c.fields[1][2], "line one\nline two");
      assert_string_equal (c.fields[2][1], "say \"hi\"");
      /* Physical lines where each record starts. */
      assert_int_equal (c.lines[0], 1);
      assert_int_equal (c.lines[1], 2);
      assert_int_equal (c.lines[2], 4);
    }
}

static void
csv_bom_crlf_blank_lines (void **state)
{
  const char *text = "\xef\xbb\xbfid,name\r\n1,one\r\n\r\n\r\n2,two\r\n3,three";
  struct collected c = { 0 };
  omcp_error err;

  (void) state;
  assert_int_equal (parse (text, 0, &c, &err), 0);
  assert_int_equal (c.n_records, 4);
  assert_string_equal (c.fields[0][0], "id");
  assert_int_equal (c.lines[1], 2);
  assert_int_equal (c.lines[2], 5);
  assert_int_equal (c.lines[3], 6);
  assert_string_equal (c.fields[3][1], "three");
}

static void
csv_empty_fields_have_length_zero (void **state)
{
  struct collected c = { 0 };
  omcp_error err;

  (void) state;
  assert_int_equal (parse ("a,b,c\n,\"\",x\n", 0, &c, &err), 0);
  assert_int_equal (c.n_records, 2);
  assert_int_equal (c.n_fields[1], 3);
  assert_string_equal (c.fields[1][0], "");
  assert_string_equal (c.fields[1][1], "");
  assert_string_equal (c.fields[1][2], "x");
}

static void
csv_keeps_spaces_and_tabs (void **state)
{
  struct collected c = { 0 };
  omcp_error err;

  (void) state;
  assert_int_equal (parse ("a,b\n  x ,\ty\t\n", 0, &c, &err), 0);
  assert_int_equal (c.n_records, 2);
  assert_string_equal (c.fields[1][0], "  x ");
  assert_string_equal (c.fields[1][1], "\ty\t");
}

static void
csv_malformed_quote_names_line (void **state)
{
  struct collected c = { 0 };
  omcp_error err;

  (void) state;
  assert_int_equal (parse ("a,b\n1,2\n3,\"x\"y\n", 0, &c, &err), -1);
  assert_non_null (strstr (err.message, "line 3"));
  assert_non_null (strstr (err.message, "malformed CSV"));
}

static void
csv_unterminated_quote_fails (void **state)
{
  struct collected c = { 0 };
  omcp_error err;

  (void) state;
  assert_int_equal (parse ("a,b\n1,\"never closed\n2,3\n", 0, &c, &err), -1);
  assert_non_null (strstr (err.message, "line 2"));
  assert_non_null (strstr (err.message, "never closed"));
}

static void
csv_callback_stops_reader (void **state)
{
  struct collected c = { .stop_after = 1 };
  omcp_error err;

  (void) state;
  assert_int_equal (parse ("a\n1\n2\n3\n", 0, &c, &err), -1);
  assert_int_equal (err.errnum, ECANCELED);
  assert_int_equal (c.n_records, 1);
}

/* ---- values ---- */

static const struct cdm_column int_col = { "person_id", CDM_INTEGER, 0, true, true };
static const struct cdm_column opt_int_col = { "provider_id", CDM_INTEGER, 0, false, false };
static const struct cdm_column float_col = { "value_as_number", CDM_FLOAT, 0, false, false };
static const struct cdm_column date_col = { "visit_start_date", CDM_DATE, 0, true, false };
static const struct cdm_column datetime_col = { "visit_start_datetime", CDM_DATETIME, 0, false,
                                                false };
static const struct cdm_column text_col = { "gender_source_value", CDM_TEXT, 5, false, false };

/* Parse TEXT as COLUMN and return the status; *OUT gets the value. */
static enum value_status
value (const struct cdm_column *column, const char *text, struct load_value *out, char *norm,
       char *reason)
{
  return cdm_value_parse (column, text, strlen (text), norm, out, reason);
}

static void
value_integers (void **state)
{
  struct load_value v;
  char norm[32], reason[256];

  (void) state;
  assert_int_equal (value (&int_col, "42", &v, norm, reason), VALUE_OK);
  assert_int_equal (v.integer, 42);
  assert_int_equal (value (&int_col, "-9223372036854775808", &v, norm, reason), VALUE_OK);
  assert_true (v.integer == INT64_MIN);
  assert_int_equal (value (&int_col, "3000000000", &v, norm, reason), VALUE_OK);
  assert_true (v.integer == 3000000000LL);
  assert_int_equal (value (&int_col, "9223372036854775808", &v, norm, reason), VALUE_INVALID);
  assert_int_equal (value (&int_col, "1.0", &v, norm, reason), VALUE_INVALID);
  assert_int_equal (value (&int_col, " 1", &v, norm, reason), VALUE_INVALID);
  assert_int_equal (value (&int_col, "abc", &v, norm, reason), VALUE_INVALID);
  assert_non_null (strstr (reason, "person_id: 'abc' is not an integer"));
}

static void
value_empty_is_null_or_required (void **state)
{
  struct load_value v;
  char norm[32], reason[256];

  (void) state;
  assert_int_equal (value (&opt_int_col, "", &v, norm, reason), VALUE_NULL);
  assert_true (v.null);
  assert_int_equal (value (&int_col, "", &v, norm, reason), VALUE_INVALID);
  assert_non_null (strstr (reason, "column person_id is required but empty"));
}

static void
value_floats (void **state)
{
  struct load_value v;
  char norm[32], reason[256];
  const char *bad[] = { "1,5", "inf", "nan", "0x10", "1e", ".", "-", "1.5x" };
  size_t i;

  (void) state;
  assert_int_equal (value (&float_col, "48.1", &v, norm, reason), VALUE_OK);
  assert_true (v.real == 48.1);
  assert_string_equal (v.text, "48.1");
  assert_int_equal (value (&float_col, "-1.5e3", &v, norm, reason), VALUE_OK);
  assert_true (v.real == -1500.0);
  assert_int_equal (value (&float_col, ".5", &v, norm, reason), VALUE_OK);
  for (i = 0; i < N_ELEMENTS (bad); i++)
    if (value (&float_col, bad[i], &v, norm, reason) != VALUE_INVALID)
      fail_msg ("'%s' was accepted as a number", bad[i]);
}

static void
value_dates (void **state)
{
  struct load_value v;
  char norm[32], reason[256];
  const char *bad[] = { "2021-02-29", "2020-13-01", "2020-00-10", "2020-04-31", "20200101",
                        "2020-1-01", "01/02/2020", "2020-01-01 08:00:00", "2020-01-01x" };
  size_t i;

  (void) state;
  assert_int_equal (value (&date_col, "2020-02-29", &v, norm, reason), VALUE_OK);
  assert_int_equal (v.len, 10);
  /* A datetime at midnight is a date. */
  assert_int_equal (value (&date_col, "2005-05-07 00:00:00", &v, norm, reason), VALUE_OK);
  assert_string_equal (v.text, "2005-05-07");
  assert_int_equal (v.len, 10);
  for (i = 0; i < N_ELEMENTS (bad); i++)
    if (value (&date_col, bad[i], &v, norm, reason) != VALUE_INVALID)
      fail_msg ("'%s' was accepted as a date", bad[i]);
  assert_non_null (strstr (reason, "is not a valid date (expected YYYY-MM-DD)"));
}

static void
value_datetimes_normalised (void **state)
{
  static const struct
  {
    const char *in;
    const char *out;
  } cases[] = {
    { "2020-01-31 08:00:00", "2020-01-31 08:00:00" },
    { "2020-01-31T08:00:00", "2020-01-31 08:00:00" },
    { "2020-01-31 08:00", "2020-01-31 08:00:00" },
    { "2020-01-31T08:00:59.123456", "2020-01-31 08:00:59" },
    { "2020-01-31T08:00:00Z", "2020-01-31 08:00:00" },
    { "2020-01-31T08:00:00+02:00", "2020-01-31 06:00:00" },
    { "2020-01-31T23:30:00-0100", "2020-02-01 00:30:00" },
    { "2020-03-01T00:30:00+01", "2020-02-29 23:30:00" },
    { "2020-01-31", "2020-01-31 00:00:00" },
  };
  const char *bad[] = { "2020-01-31 24:00:00", "2020-01-31 08:60", "2020-01-31 08", "2020-01-31X08:00",
                        "2020-01-31 08:00:00 junk", "2020-01-31 08:00:00.", "2020-01-31T08:00+25" };
  struct load_value v;
  char norm[32], reason[256];
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (cases); i++)
    {
      assert_int_equal (value (&datetime_col, cases[i].in, &v, norm, reason), VALUE_OK);
      assert_string_equal (v.text, cases[i].out);
      assert_int_equal (v.len, 19);
    }
  for (i = 0; i < N_ELEMENTS (bad); i++)
    if (value (&datetime_col, bad[i], &v, norm, reason) != VALUE_INVALID)
      fail_msg ("'%s' was accepted as a datetime", bad[i]);
}

static void
value_text_length_in_characters (void **state)
{
  struct load_value v;
  char norm[32], reason[256];

  (void) state;
  /* Five characters, ten bytes. */
  assert_int_equal (value (&text_col, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", &v, norm, reason),
                    VALUE_OK);
  assert_int_equal (value (&text_col, "abcdef", &v, norm, reason), VALUE_INVALID);
  assert_non_null (strstr (reason, "has 6 characters, more than the 5 allowed"));
  assert_int_equal (value (&text_col, "a\xff", &v, norm, reason), VALUE_INVALID);
  assert_non_null (strstr (reason, "not valid UTF-8"));
  /* Overlong encoding of '/'. */
  assert_int_equal (value (&text_col, "\xc0\xaf", &v, norm, reason), VALUE_INVALID);
  /* Truncated sequence at the end. */
  assert_int_equal (value (&text_col, "ab\xe2\x82", &v, norm, reason), VALUE_INVALID);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (csv_quotes_commas_newlines),
    cmocka_unit_test (csv_bom_crlf_blank_lines),
    cmocka_unit_test (csv_empty_fields_have_length_zero),
    cmocka_unit_test (csv_keeps_spaces_and_tabs),
    cmocka_unit_test (csv_malformed_quote_names_line),
    cmocka_unit_test (csv_unterminated_quote_fails),
    cmocka_unit_test (csv_callback_stops_reader),
    cmocka_unit_test (value_integers),
    cmocka_unit_test (value_empty_is_null_or_required),
    cmocka_unit_test (value_floats),
    cmocka_unit_test (value_dates),
    cmocka_unit_test (value_datetimes_normalised),
    cmocka_unit_test (value_text_length_in_characters),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
