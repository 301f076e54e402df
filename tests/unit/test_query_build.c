/* Unit tests for the query tools' identifier checks, filters and limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "query_build.h"

/* PostgreSQL-style placeholders, "$N". */
static void
dollar_placeholder (void *userdata, unsigned n, char buf[16])
{
  (void) userdata;
  snprintf (buf, 16, "$%u", n);
}

/* SQLite-style placeholders, "?N". */
static void
question_placeholder (void *userdata, unsigned n, char buf[16])
{
  (void) userdata;
  snprintf (buf, 16, "?%u", n);
}

/* Build from JSON arguments as query_omop_table receives them. */
static int
build (const char *args_json, bool allow_raw_where, query_placeholder_fn placeholder,
       struct query_plan *plan, omcp_error *err, json_t **args_out)
{
  json_t *args = json_loads (args_json, 0, NULL);
  struct query_request request;

  assert_non_null (args);
  request = (struct query_request) {
    .table_name = json_string_value (json_object_get (args, "table_name")),
    .columns = json_object_get (args, "columns"),
    .filters = json_object_get (args, "filters"),
    .where = json_string_value (json_object_get (args, "where")),
    .allow_raw_where = allow_raw_where,
    .limit = query_clamp_limit (json_object_get (args, "limit"), 100, 1000),
  };
  *args_out = args;
  return query_build_select (&request, placeholder, NULL, plan, err);
}

static void
expect_sql (const char *args_json, const char *sql, size_t n_params)
{
  struct query_plan plan = { 0 };
  omcp_error err = { 0 };
  json_t *args = NULL;

  if (build (args_json, false, question_placeholder, &plan, &err, &args) < 0)
    fail_msg ("%s: %s", args_json, err.message);
  assert_string_equal (plan.sql, sql);
  assert_int_equal (plan.n_params, n_params);
  query_plan_clear (&plan);
  json_decref (args);
}

static void
expect_error (const char *args_json, bool allow_raw_where, const char *message)
{
  struct query_plan plan = { 0 };
  omcp_error err = { 0 };
  json_t *args = NULL;

  if (build (args_json, allow_raw_where, question_placeholder, &plan, &err, &args) == 0)
    fail_msg ("%s: accepted as %s", args_json, plan.sql);
  if (strcmp (err.message, message) != 0)
    fail_msg ("%s: message \"%s\", expected \"%s\"", args_json, err.message, message);
  assert_null (plan.sql);
  json_decref (args);
}

static void
identifier_rules (void **state)
{
  (void) state;
  assert_true (query_identifier_valid ("person"));
  assert_true (query_identifier_valid ("_x1"));
  assert_true (query_identifier_valid ("Person_ID"));
  assert_false (query_identifier_valid (""));
  assert_false (query_identifier_valid (NULL));
  assert_false (query_identifier_valid ("1person"));
  assert_false (query_identifier_valid ("person;"));
  assert_false (query_identifier_valid ("omop_cdm.person"));
  assert_false (query_identifier_valid ("person id"));
  assert_false (query_identifier_valid ("\"person\""));
  assert_false (query_identifier_valid ("p\xc3\xa9rson"));
  assert_false (query_identifier_valid ("person--"));
}

static void
table_names (void **state)
{
  omcp_error err = { 0 };
  const struct cdm_table *t;

  (void) state;
  t = query_find_table ("PERSON", &err);
  assert_non_null (t);
  assert_string_equal (t->name, "person");
  assert_non_null (query_find_table ("concept_relationship", &err));

  assert_null (query_find_table ("no_such_table", &err));
  assert_string_equal (err.message, "Invalid table name: no_such_table");
  assert_int_equal (err.errnum, EINVAL);
  assert_null (query_find_table ("person; DROP TABLE person", &err));
  assert_string_equal (err.message, "Invalid table name: person; DROP TABLE person");
  assert_null (query_find_table ("sqlite_master", &err));
  assert_null (query_find_table ("", &err));
}

static void
limit_clamping (void **state)
{
  static const struct
  {
    const char *json;   /* NULL: argument absent */
    int64_t expected;
  } cases[] = {
    { NULL, 100 }, { "null", 100 }, { "50", 50 }, { "1", 1 }, { "0", 1 }, { "-5", 1 },
    { "1000", 1000 }, { "1001", 1000 }, { "99999999999999", 1000 }, { "-99999999999999", 1 },
    { "12.9", 12 }, { "0.5", 1 }, { "1e300", 1000 }, { "-1e300", 1 }, { "\"25\"", 25 },
    { "\" 30 \"", 30 }, { "\"7.5\"", 7 }, { "\"abc\"", 100 }, { "\"\"", 100 }, { "\"nan\"", 100 },
    { "\"inf\"", 100 }, { "\"12abc\"", 100 }, { "\"5000\"", 1000 }, { "true", 100 },
    { "false", 100 }, { "[5]", 100 }, { "{\"n\": 5}", 100 },
  };
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (cases); i++)
    {
      json_t *value = cases[i].json ? json_loads (cases[i].json, JSON_DECODE_ANY, NULL) : NULL;
      int64_t got = query_clamp_limit (value, 100, 1000);

      if (got != cases[i].expected)
        fail_msg ("limit %s: got %lld, expected %lld", cases[i].json ? cases[i].json : "absent",
                  (long long) got, (long long) cases[i].expected);
      json_decref (value);
    }

  /* The default and the maximum are limits too. */
  assert_int_equal (query_clamp_limit (NULL, 5000, 1000), 1000);
  assert_int_equal (query_clamp_limit (NULL, 0, 1000), 1);
  {
    json_t *ten = json_integer (10);

    assert_int_equal (query_clamp_limit (ten, 100, 0), 1);
    json_decref (ten);
  }
}

static void
select_shapes (void **state)
{
  (void) state;
  expect_sql ("{\"table_name\": \"person\"}", "SELECT * FROM omop_cdm.person LIMIT 101", 0);
  expect_sql ("{\"table_name\": \"Person\", \"limit\": 5}",
              "SELECT * FROM omop_cdm.person LIMIT 6", 0);
  expect_sql ("{\"table_name\": \"person\", \"limit\": \"junk\", \"columns\": null, "
              "\"filters\": null, \"where\": null}",
              "SELECT * FROM omop_cdm.person LIMIT 101", 0);
  expect_sql ("{\"table_name\": \"person\", \"columns\": [\"person_id\", \"YEAR_OF_BIRTH\"]}",
              "SELECT person_id, year_of_birth FROM omop_cdm.person LIMIT 101", 0);
  expect_sql ("{\"table_name\": \"person\", \"filters\": {\"person_id\": 5}}",
              "SELECT * FROM omop_cdm.person WHERE person_id = ?1 LIMIT 101", 1);
  expect_sql ("{\"table_name\": \"person\", \"filters\": {\"location_id\": null}}",
              "SELECT * FROM omop_cdm.person WHERE location_id IS NULL LIMIT 101", 0);
  /* Person has no death date in CDM v5.4: the death table contains it. */
  expect_error ("{\"table_name\": \"person\", \"filters\": {\"death_datetime\": null}}", false,
                "Invalid filter column: death_datetime");
}

static void
filter_operators (void **state)
{
  (void) state;
  expect_sql ("{\"table_name\": \"measurement\", \"filters\": {"
              "\"person_id\": {\"eq\": 1}, \"measurement_concept_id\": {\"ne\": 2}, "
              "\"value_as_number\": {\"lt\": 3.5}, \"range_low\": {\"le\": 4}, "
              "\"range_high\": {\"gt\": 5}, \"measurement_id\": {\"ge\": 6}, "
              "\"measurement_source_value\": {\"like\": \"A%\"}, "
              "\"unit_concept_id\": {\"in\": [7, 8, 9]}, "
              "\"measurement_date\": {\"between\": [\"2020-01-01\", \"2020-12-31\"]}, "
              "\"value_as_concept_id\": {\"is_null\": true}, "
              "\"provider_id\": {\"is_null\": false}, \"visit_occurrence_id\": null}}",
              "SELECT * FROM omop_cdm.measurement WHERE person_id = ?1"
              " AND measurement_concept_id <> ?2 AND value_as_number < ?3 AND range_low <= ?4"
              " AND range_high > ?5 AND measurement_id >= ?6"
              " AND measurement_source_value LIKE ?7 AND unit_concept_id IN (?8, ?9, ?10)"
              " AND measurement_date BETWEEN ?11 AND ?12 AND value_as_concept_id IS NULL"
              " AND provider_id IS NOT NULL AND visit_occurrence_id IS NULL LIMIT 101",
              12);
}

static void
parameters_bound (void **state)
{
  struct query_plan plan = { 0 };
  omcp_error err = { 0 };
  json_t *args = NULL;

  (void) state;
  assert_int_equal (build ("{\"table_name\": \"person\", \"filters\": {"
                           "\"person_source_value\": \"x'; DROP TABLE person; --\", "
                           "\"year_of_birth\": {\"between\": [1950, 1960.5]}, "
                           "\"gender_concept_id\": {\"in\": [8507, \"8532\", true]}}}",
                           false, dollar_placeholder, &plan, &err, &args),
                    0);
  /* The value never reaches the text. */
  assert_string_equal (plan.sql, "SELECT * FROM omop_cdm.person WHERE person_source_value = $1"
                                 " AND year_of_birth BETWEEN $2 AND $3"
                                 " AND gender_concept_id IN ($4, $5, $6) LIMIT 101");
  assert_int_equal (plan.n_params, 6);
  assert_int_equal (plan.params[0].type, DB_VALUE_TEXT);
  assert_string_equal (plan.params[0].text, "x'; DROP TABLE person; --");
  assert_int_equal (plan.params[1].type, DB_VALUE_INTEGER);
  assert_int_equal (plan.params[1].integer, 1950);
  assert_int_equal (plan.params[2].type, DB_VALUE_REAL);
  assert_true (plan.params[2].real == 1960.5);
  assert_int_equal (plan.params[3].type, DB_VALUE_INTEGER);
  assert_int_equal (plan.params[4].type, DB_VALUE_TEXT);
  assert_string_equal (plan.params[4].text, "8532");
  assert_int_equal (plan.params[5].type, DB_VALUE_BOOL);
  assert_true (plan.params[5].boolean);
  query_plan_clear (&plan);
  json_decref (args);
}

static void
identifier_errors (void **state)
{
  (void) state;
  expect_error ("{\"table_name\": \"nope\"}", false, "Invalid table name: nope");
  expect_error ("{\"table_name\": \"person WHERE 1=1\"}", false,
                "Invalid table name: person WHERE 1=1");
  expect_error ("{\"table_name\": \"person\", \"columns\": [\"person_id\", \"secret\"]}", false,
                "Invalid column name: secret");
  expect_error ("{\"table_name\": \"person\", \"columns\": [\"person_id, 1\"]}", false,
                "Invalid column name: person_id, 1");
  /* A column of another table is not a column of this one. */
  expect_error ("{\"table_name\": \"person\", \"columns\": [\"concept_name\"]}", false,
                "Invalid column name: concept_name");
  expect_error ("{\"table_name\": \"person\", \"filters\": {\"nope\": 1}}", false,
                "Invalid filter column: nope");
  expect_error ("{\"table_name\": \"person\", \"filters\": {\"person_id = 1 OR 1\": 1}}", false,
                "Invalid filter column: person_id = 1 OR 1");
}

static void
argument_errors (void **state)
{
  (void) state;
  expect_error ("{\"table_name\": \"person\", \"columns\": []}", false,
                "columns must name at least one column; omit it for all columns");
  expect_error ("{\"table_name\": \"person\", \"columns\": \"person_id\"}", false,
                "columns must be an array of column names");
  expect_error ("{\"table_name\": \"person\", \"columns\": [1]}", false,
                "columns[0] must be a string");
  expect_error ("{\"table_name\": \"person\", \"filters\": [1]}", false,
                "filters must be an object mapping columns to values");
  expect_error ("{\"table_name\": \"person\", \"filters\": {\"person_id\": {\"eq\": null}}}",
                false,
                "Filter on person_id: 'eq' needs a value; use {\"is_null\": true} to match NULL");
  expect_error ("{\"table_name\": \"person\", \"filters\": {\"person_id\": {\"eq\": [1]}}}", false,
                "Filter on person_id: 'eq' needs a string, number or boolean");
  expect_error ("{\"table_name\": \"person\", \"filters\": {\"person_id\": [1, 2]}}", false,
                "Filter on person_id: 'eq' needs a string, number or boolean");
  expect_error ("{\"table_name\": \"person\", \"filters\": {\"person_id\": {\"regex\": 1}}}",
                false,
                "Filter on person_id: unknown operator 'regex'; use one of eq, ne, lt, le, gt, "
                "ge, in, like, between, is_null");
  expect_error ("{\"table_name\": \"person\", \"filters\": {\"person_id\": {}}}", false,
                "Filter on person_id must have exactly one operator (eq, ne, lt, le, gt, ge, in, "
                "like, between, is_null)");
  expect_error ("{\"table_name\": \"person\", \"filters\": "
                "{\"person_id\": {\"gt\": 1, \"lt\": 5}}}", false,
                "Filter on person_id must have exactly one operator (eq, ne, lt, le, gt, ge, in, "
                "like, between, is_null)");
  expect_error ("{\"table_name\": \"person\", \"filters\": {\"person_id\": {\"in\": 5}}}", false,
                "Filter on person_id: 'in' needs a non-empty array of values");
  expect_error ("{\"table_name\": \"person\", \"filters\": {\"person_id\": {\"in\": []}}}", false,
                "Filter on person_id: 'in' needs a non-empty array of values");
  expect_error ("{\"table_name\": \"person\", \"filters\": {\"person_id\": {\"in\": [1, null]}}}",
                false, "Filter on person_id: 'in' values must be strings, numbers or booleans");
  expect_error ("{\"table_name\": \"person\", \"filters\": {\"person_id\": {\"between\": [1]}}}",
                false, "Filter on person_id: 'between' needs an array of two values, [low, high]");
  expect_error ("{\"table_name\": \"person\", \"filters\": "
                "{\"person_id\": {\"between\": [1, 2, 3]}}}", false,
                "Filter on person_id: 'between' needs an array of two values, [low, high]");
  expect_error ("{\"table_name\": \"person\", \"filters\": "
                "{\"person_id\": {\"between\": \"1,2\"}}}", false,
                "Filter on person_id: 'between' needs an array of two values, [low, high]");
  expect_error ("{\"table_name\": \"person\", \"filters\": {\"person_id\": {\"is_null\": 1}}}",
                false, "Filter on person_id: 'is_null' needs true or false");
  expect_error ("{\"table_name\": \"person\", \"filters\": "
                "{\"person_source_value\": {\"like\": 5}}}", false,
                "Filter on person_source_value: 'like' needs a string pattern");
}

static void
in_list_bounded (void **state)
{
  cleanup_free char *values = xmalloc (8 * (QUERY_MAX_IN_VALUES + 2));
  cleanup_free char *args = NULL;
  size_t len = 0;
  int i;

  (void) state;
  for (i = 0; i <= QUERY_MAX_IN_VALUES; i++)
    len += (size_t) sprintf (values + len, "%s%d", i ? "," : "", i);
  args = xasprintf ("{\"table_name\": \"person\", \"filters\": {\"person_id\": {\"in\": [%s]}}}",
                    values);
  expect_error (args, false, "Filter on person_id: 'in' takes at most 1000 values");
}

static void
raw_where (void **state)
{
  struct query_plan plan = { 0 };
  omcp_error err = { 0 };
  json_t *args = NULL;

  (void) state;
  expect_error ("{\"table_name\": \"person\", \"where\": \"person_id = 1\"}", false,
                "Raw WHERE clause is disabled. Use filters instead or set "
                "ALLOW_UNSAFE_SQL=true.");
  /* Identifiers are still checked first. */
  expect_error ("{\"table_name\": \"nope\", \"where\": \"1 = 1\"}", false,
                "Invalid table name: nope");
  /* An empty WHERE is no WHERE. */
  expect_sql ("{\"table_name\": \"person\", \"where\": \"\"}",
              "SELECT * FROM omop_cdm.person LIMIT 101", 0);

  assert_int_equal (build ("{\"table_name\": \"person\", \"where\": \"year_of_birth > 1960 OR 1=1\", "
                           "\"filters\": {\"person_id\": 3}, \"limit\": 10}",
                           true, question_placeholder, &plan, &err, &args),
                    0);
  assert_string_equal (plan.sql, "SELECT * FROM omop_cdm.person WHERE person_id = ?1"
                                 " AND (year_of_birth > 1960 OR 1=1) LIMIT 11");
  query_plan_clear (&plan);
  json_decref (args);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (identifier_rules),
    cmocka_unit_test (table_names),
    cmocka_unit_test (limit_clamping),
    cmocka_unit_test (select_shapes),
    cmocka_unit_test (filter_operators),
    cmocka_unit_test (parameters_bound),
    cmocka_unit_test (identifier_errors),
    cmocka_unit_test (argument_errors),
    cmocka_unit_test (in_list_bounded),
    cmocka_unit_test (raw_where),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
