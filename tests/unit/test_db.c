/* Unit tests for the CDM DDL and the SQLite backend: schema creation,
 * read-only connections, JSON types, truncation and the deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/stat.h>

#include "db-internal.h"
#include "load.h"

static bool
contains (const char *text, const char *part)
{
  if (strstr (text, part) == NULL)
    {
      print_error ("missing \"%s\" in:\n%s\n", part, text);
      return false;
    }
  return true;
}

static void
ddl_person_sqlite (void **state)
{
  cleanup_free char *ddl = NULL;

  (void) state;
  ddl = cdm_table_ddl (DB_BACKEND_SQLITE, "omop_cdm", cdm_find_table ("person"));
  assert_true (contains (ddl, "CREATE TABLE IF NOT EXISTS omop_cdm.person ("));
  assert_true (contains (ddl, "\"person_id\" INTEGER NOT NULL,"));
  assert_true (contains (ddl, "\"birth_datetime\" TEXT,"));
  assert_true (contains (ddl, "\"month_of_birth\" INTEGER,"));
  assert_true (contains (ddl, "PRIMARY KEY (\"person_id\")"));
  assert_true (contains (ddl, ") STRICT;"));
  assert_null (strstr (ddl, "REFERENCES"));
  /* The primary key needs no second index. */
  assert_null (strstr (ddl, "idx_person_person_id"));
}

static void
ddl_measurement_postgresql (void **state)
{
  cleanup_free char *ddl = NULL;

  (void) state;
  ddl = cdm_table_ddl (DB_BACKEND_POSTGRESQL, "cdm", cdm_find_table ("measurement"));
  assert_true (contains (ddl, "CREATE TABLE IF NOT EXISTS cdm.measurement ("));
  assert_true (contains (ddl, "\"measurement_id\" bigint NOT NULL,"));
  assert_true (contains (ddl, "\"measurement_concept_id\" bigint NOT NULL,"));
  assert_true (contains (ddl, "\"measurement_date\" date NOT NULL,"));
  assert_true (contains (ddl, "\"measurement_datetime\" timestamp,"));
  assert_true (contains (ddl, "\"value_as_number\" numeric,"));
  assert_true (contains (ddl, "\"measurement_time\" varchar(10),"));
  assert_true (contains (ddl, "CREATE INDEX IF NOT EXISTS idx_measurement_person_id ON "
                              "cdm.measurement (\"person_id\");"));
  assert_true (contains (ddl, "idx_measurement_measurement_concept_id"));
  assert_true (contains (ddl, "idx_measurement_visit_occurrence_id"));
  assert_null (strstr (ddl, "REFERENCES"));
}

static void
ddl_vocabulary_indexes (void **state)
{
  cleanup_free char *rel = NULL, *anc = NULL, *person = NULL;

  (void) state;
  rel = cdm_table_ddl (DB_BACKEND_POSTGRESQL, "omop_cdm", cdm_find_table ("concept_relationship"));
  anc = cdm_table_ddl (DB_BACKEND_POSTGRESQL, "omop_cdm", cdm_find_table ("concept_ancestor"));
  person = cdm_table_ddl (DB_BACKEND_POSTGRESQL, "omop_cdm", cdm_find_table ("person"));
  assert_true (contains (rel, "(\"concept_id_1\")"));
  assert_true (contains (rel, "(\"concept_id_2\")"));
  assert_true (contains (rel, "\"concept_id_1\" bigint NOT NULL"));
  assert_true (contains (anc, "(\"ancestor_concept_id\")"));
  assert_true (contains (anc, "(\"descendant_concept_id\")"));
  /* Calendar parts are not identifiers. */
  assert_true (contains (person, "\"year_of_birth\" integer NOT NULL"));
}

/* ---- SQLite backend ---- */

struct fixture
{
  char dir[64];
  char path[96];
};

static int
make_database (void **state)
{
  struct fixture *f = xcalloc (1, sizeof *f);
  struct db_config config = { .backend = DB_BACKEND_SQLITE, .timeout_ms = 10000 };
  db *conn = NULL;
  omcp_error err;

  strcpy (f->dir, "/tmp/omcp-test-db-XXXXXX");
  assert_non_null (mkdtemp (f->dir));
  snprintf (f->path, sizeof f->path, "%s/cdm.sqlite", f->dir);
  config.path = f->path;
  assert_int_equal (db_open (&config, false, &conn, &err), 0);
  assert_int_equal (cdm_create_schema (conn, &err), 0);
  /* Idempotent. */
  assert_int_equal (cdm_create_schema (conn, &err), 0);
  assert_int_equal (db_exec (conn,
                             "INSERT INTO omop_cdm.person (person_id, gender_concept_id, "
                             "year_of_birth, race_concept_id, ethnicity_concept_id, "
                             "birth_datetime, person_source_value) VALUES "
                             "(1, 8507, 1990, 0, 0, '1990-01-02 03:04:05', 'a'), "
                             "(2, 8532, 1985, 0, 0, NULL, 'b'), "
                             "(3, 8532, 1970, 0, 0, NULL, NULL);"
                             "INSERT INTO omop_cdm.measurement (measurement_id, person_id, "
                             "measurement_concept_id, measurement_date, "
                             "measurement_type_concept_id, value_as_number) VALUES "
                             "(1, 1, 3025315, '2013-05-17', 0, 48.1)",
                             &err),
                    0);
  db_close (conn);
  *state = f;
  return 0;
}

static int
remove_database (void **state)
{
  struct fixture *f = *state;
  char journal[128];

  unlink (f->path);
  snprintf (journal, sizeof journal, "%s-journal", f->path);
  unlink (journal);
  rmdir (f->dir);
  free (f);
  return 0;
}

static db *
open_read_only (struct fixture *f, int64_t timeout_ms)
{
  struct db_config config = { .backend = DB_BACKEND_SQLITE, .path = f->path,
                              .timeout_ms = timeout_ms };
  db *conn = NULL;
  omcp_error err;

  if (db_open (&config, true, &conn, &err) < 0)
    fail_msg ("db_open: %s", err.message);
  return conn;
}

static void
sqlite_select_types (void **state)
{
  db *conn = open_read_only (*state, 10000);
  struct db_rows rows = { 0 };
  omcp_error err;
  json_t *row;

  assert_int_equal (db_select (conn,
                               "SELECT p.person_id, p.birth_datetime, m.value_as_number, "
                               "m.measurement_date, p.person_source_value FROM omop_cdm.person p "
                               "JOIN omop_cdm.measurement m ON m.person_id = p.person_id",
                               NULL, 0, 10, &rows, &err),
                    0);
  assert_int_equal (json_array_size (rows.columns), 5);
  assert_string_equal (json_string_value (json_array_get (rows.columns, 0)), "person_id");
  row = json_array_get (rows.rows, 0);
  assert_true (json_is_integer (json_array_get (row, 0)));
  assert_string_equal (json_string_value (json_array_get (row, 1)), "1990-01-02 03:04:05");
  assert_true (json_is_real (json_array_get (row, 2)));
  assert_true (json_real_value (json_array_get (row, 2)) == 48.1);
  assert_string_equal (json_string_value (json_array_get (row, 3)), "2013-05-17");
  assert_false (rows.truncated);
  db_rows_clear (&rows);

  assert_int_equal (db_select (conn, "SELECT person_source_value FROM omop_cdm.person WHERE "
                                     "person_id = ?1",
                               (struct db_value[]) { { .type = DB_VALUE_INTEGER, .integer = 3 } },
                               1, 10, &rows, &err),
                    0);
  assert_true (json_is_null (json_array_get (json_array_get (rows.rows, 0), 0)));
  db_rows_clear (&rows);
  db_close (conn);
}

static void
sqlite_truncated_fetches_one_more (void **state)
{
  db *conn = open_read_only (*state, 10000);
  struct db_rows rows = { 0 };
  omcp_error err;

  assert_int_equal (db_select (conn, "SELECT person_id FROM omop_cdm.person ORDER BY 1", NULL, 0,
                               2, &rows, &err),
                    0);
  assert_int_equal (json_array_size (rows.rows), 2);
  assert_true (rows.truncated);
  db_rows_clear (&rows);
  assert_int_equal (db_select (conn, "SELECT person_id FROM omop_cdm.person;", NULL, 0, 3, &rows,
                               &err),
                    0);
  assert_int_equal (json_array_size (rows.rows), 3);
  assert_false (rows.truncated);
  db_rows_clear (&rows);
  db_close (conn);
}

static void
sqlite_timeout_is_etimedout (void **state)
{
  db *conn = open_read_only (*state, 200);
  struct db_rows rows = { 0 };
  omcp_error err;
  int64_t start = now_monotonic_ms ();

  assert_int_equal (db_select (conn,
                               "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                               "SELECT count(*) FROM c",
                               NULL, 0, 10, &rows, &err),
                    -1);
  assert_int_equal (err.errnum, ETIMEDOUT);
  assert_string_equal (err.message, "Query timed out after 200 ms");
  /* Generous bound: the point is that the query stopped at all. */
  assert_true (now_monotonic_ms () - start < 5000);
  db_close (conn);
}

static void
sqlite_read_only_cannot_write (void **state)
{
  struct fixture *f = *state;
  db *conn = open_read_only (f, 10000);
  struct db_rows rows = { 0 };
  omcp_error err;
  const char *writes[] = {
    "DELETE FROM omop_cdm.person",
    "SELECT 1; DELETE FROM omop_cdm.person",
    "WITH d AS (SELECT 1) DELETE FROM omop_cdm.person",
  };
  size_t i;

  for (i = 0; i < N_ELEMENTS (writes); i++)
    {
      assert_int_equal (db_select (conn, writes[i], NULL, 0, 10, &rows, &err), -1);
      assert_int_equal (err.errnum, EACCES);
      assert_non_null (strstr (err.message, "Only read-only SELECT queries are allowed"));
    }
  assert_int_equal (db_exec (conn, "DELETE FROM omop_cdm.person", &err), -1);
  assert_int_equal (err.errnum, EROFS);
  db_close (conn);

  conn = open_read_only (f, 10000);
  assert_int_equal (db_select (conn, "SELECT count(*) FROM omop_cdm.person", NULL, 0, 10, &rows,
                               &err),
                    0);
  assert_int_equal (json_integer_value (json_array_get (json_array_get (rows.rows, 0), 0)), 3);
  db_rows_clear (&rows);
  db_close (conn);
}

static void
sqlite_describe_and_list (void **state)
{
  db *conn = open_read_only (*state, 10000);
  json_t *columns = NULL, *tables = NULL, *first;
  int64_t count = -1;
  omcp_error err;

  assert_int_equal (db_describe_table (conn, "person", &columns, &count, &err), 0);
  assert_int_equal (count, 3);
  assert_int_equal (json_array_size (columns), cdm_find_table ("person")->n_columns);
  first = json_array_get (columns, 0);
  assert_string_equal (json_string_value (json_object_get (first, "name")), "person_id");
  assert_string_equal (json_string_value (json_object_get (first, "type")), "INTEGER");
  assert_false (json_is_true (json_object_get (first, "nullable")));
  json_decref (columns);

  assert_int_equal (db_list_tables (conn, &tables, &err), 0);
  assert_int_equal (json_array_size (tables), 1);
  first = json_array_get (tables, 0);
  assert_string_equal (json_string_value (json_object_get (first, "schema")), "omop_cdm");
  assert_int_equal (json_array_size (json_object_get (first, "tables")), cdm_n_tables);
  json_decref (tables);
  db_close (conn);
}

static void
sqlite_missing_file_is_enoent (void **state)
{
  struct db_config config = { .backend = DB_BACKEND_SQLITE, .path = "/nonexistent/cdm.sqlite",
                              .timeout_ms = 1000 };
  db *conn = NULL;
  omcp_error err;

  (void) state;
  assert_int_equal (db_open (&config, true, &conn, &err), -1);
  assert_int_equal (err.errnum, ENOENT);
  assert_non_null (strstr (err.message, "/nonexistent/cdm.sqlite"));
  assert_null (conn);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (ddl_person_sqlite),
    cmocka_unit_test (ddl_measurement_postgresql),
    cmocka_unit_test (ddl_vocabulary_indexes),
    cmocka_unit_test_setup_teardown (sqlite_select_types, make_database, remove_database),
    cmocka_unit_test_setup_teardown (sqlite_truncated_fetches_one_more, make_database,
                                     remove_database),
    cmocka_unit_test_setup_teardown (sqlite_timeout_is_etimedout, make_database, remove_database),
    cmocka_unit_test_setup_teardown (sqlite_read_only_cannot_write, make_database,
                                     remove_database),
    cmocka_unit_test_setup_teardown (sqlite_describe_and_list, make_database, remove_database),
    cmocka_unit_test (sqlite_missing_file_is_enoent),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
