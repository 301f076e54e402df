/* Unit tests for the read-only SQL policy, on both backends: PostgreSQL's
 * grammar through libpg_query, and a real in-memory SQLite database with
 * an attached omop_cdm schema, prepared the way db_select prepares. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>

#include "policy.h"

enum outcome
{
  ACCEPT,
  REFUSE,   /* refused by the policy: EACCES and the policy's message */
  INVALID,  /* not valid SQL for this backend: rejected, any message */
};

struct policy_case
{
  const char *sql;
  enum outcome postgres;
  enum outcome sqlite;
};

static const struct policy_case cases[] = {
  /* Accepted forms. */
  { "SELECT 1", ACCEPT, ACCEPT },
  { "SELECT 1;", ACCEPT, ACCEPT },
  { "  select 1 ;  \n", ACCEPT, ACCEPT },
  { "SELECT person_id, year_of_birth FROM omop_cdm.person WHERE person_id = 1", ACCEPT, ACCEPT },
  { "SELECT gender_concept_id, count(*) FROM omop_cdm.person GROUP BY gender_concept_id "
    "HAVING count(*) > 1 ORDER BY 2 DESC LIMIT 5 OFFSET 1", ACCEPT, ACCEPT },
  { "SELECT * FROM omop_cdm.person WHERE person_id IN (SELECT person_id FROM omop_cdm.person)",
    ACCEPT, ACCEPT },
  { "WITH p AS (SELECT person_id FROM omop_cdm.person) SELECT count(*) FROM p", ACCEPT, ACCEPT },
  { "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 10) "
    "SELECT sum(x) FROM n", ACCEPT, ACCEPT },
  { "SELECT person_id FROM omop_cdm.person WHERE person_id = $1", ACCEPT, ACCEPT },
  /* Keywords, semicolons and comment markers inside string literals and
   * quoted identifiers are data. */
  { "SELECT 'DELETE FROM omop_cdm.person; DROP TABLE x -- /* */' AS s", ACCEPT, ACCEPT },
  { "SELECT 'INSERT INTO t VALUES (1)' AS \"update\"", ACCEPT, ACCEPT },
  { "SELECT person_id AS \"delete; drop -- x\" FROM omop_cdm.person", ACCEPT, ACCEPT },
  { "SELECT 'it''s; $$ FOR UPDATE'", ACCEPT, ACCEPT },
  { "SELECT lower('SELECT INTO')", ACCEPT, ACCEPT },
  /* A backslash is an ordinary character in '...' on both backends. */
  { "SELECT 'a\\' AS s", ACCEPT, ACCEPT },
  { "SELECT 'a\\' , pg_sleep(1) , ''", REFUSE, REFUSE },
  /* A parenthesised SELECT is PostgreSQL only. */
  { "(SELECT 1) UNION (SELECT 2)", ACCEPT, INVALID },
  /* FOR in SUBSTRING is no locking clause (PostgreSQL only syntax). */
  { "SELECT substring('abc' FROM 1 FOR 2)", ACCEPT, INVALID },
  /* Schema reads through a table-valued PRAGMA (SQLite only). */
  { "SELECT name FROM pragma_table_info('person', 'omop_cdm')", ACCEPT, ACCEPT },
  /* Eponymous virtual tables read, the first use of one included. */
  { "SELECT count(*) FROM json_each('[1, 2, 3]')", ACCEPT, ACCEPT },

  /* Empty text. */
  { "", REFUSE, REFUSE },
  { "   \n\t  ", REFUSE, REFUSE },
  { ";", REFUSE, REFUSE },

  /* Not a SELECT. */
  { "DELETE FROM omop_cdm.person", REFUSE, REFUSE },
  { "INSERT INTO omop_cdm.person (person_id) VALUES (1)", REFUSE, REFUSE },
  { "UPDATE omop_cdm.person SET year_of_birth = 1", REFUSE, REFUSE },
  { "DROP TABLE omop_cdm.person", REFUSE, REFUSE },
  { "CREATE TABLE t (x int)", REFUSE, REFUSE },
  { "ATTACH DATABASE '/tmp/x.db' AS x", REFUSE, REFUSE },
  { "DETACH DATABASE omop_cdm", REFUSE, REFUSE },
  { "PRAGMA writable_schema = 1", REFUSE, REFUSE },
  { "PRAGMA table_info(person)", REFUSE, REFUSE },
  { "VACUUM", REFUSE, REFUSE },
  { "BEGIN", REFUSE, REFUSE },
  { "COPY omop_cdm.person TO '/tmp/x'", REFUSE, REFUSE },
  { "EXPLAIN SELECT 1", REFUSE, REFUSE },
  { "TABLE omop_cdm.person", REFUSE, REFUSE },
  { "VALUES (1)", REFUSE, REFUSE },
  { "SET search_path = public", REFUSE, REFUSE },
  { "UPDATE sqlite_master SET sql = 'x'", REFUSE, REFUSE },
  /* Pragmas other than schema reads, also as table-valued functions. */
  { "SELECT * FROM pragma_database_list", ACCEPT, REFUSE },
  { "SELECT * FROM pragma_compile_options", ACCEPT, REFUSE },

  /* Data-modifying CTEs. */
  { "WITH d AS (DELETE FROM omop_cdm.person RETURNING *) SELECT * FROM d", REFUSE, REFUSE },
  { "WITH u AS (UPDATE omop_cdm.person SET year_of_birth = 1 RETURNING person_id) "
    "SELECT * FROM u", REFUSE, REFUSE },
  { "WITH a AS (SELECT 1), i AS (INSERT INTO omop_cdm.person (person_id) VALUES (1) RETURNING 1) "
    "SELECT * FROM a", REFUSE, REFUSE },
  { "WITH p AS (SELECT 1) DELETE FROM omop_cdm.person", REFUSE, REFUSE },
  { "WITH p AS (SELECT 1) INSERT INTO omop_cdm.person (person_id) SELECT 1 FROM p", REFUSE, REFUSE },

  /* SELECT INTO. */
  { "SELECT 1 INTO x", REFUSE, REFUSE },
  { "SELECT * INTO backup FROM omop_cdm.person", REFUSE, REFUSE },

  /* Several statements. */
  { "SELECT 1; SELECT 2", REFUSE, REFUSE },
  { "SELECT 1; DELETE FROM omop_cdm.person", REFUSE, REFUSE },
  { "SELECT 1;;", REFUSE, REFUSE },
  { "SELECT 1;\n;", REFUSE, REFUSE },

  /* Comments. */
  { "SELECT 1 -- comment", REFUSE, REFUSE },
  { "-- comment\nSELECT 1", REFUSE, REFUSE },
  { "SELECT /* comment */ 1", REFUSE, REFUSE },
  { "SELECT 1 /* unterminated", REFUSE, REFUSE },

  /* Dollar quotes. */
  { "SELECT $$DELETE FROM omop_cdm.person$$", REFUSE, REFUSE },
  { "SELECT $tag$x$tag$", REFUSE, REFUSE },
  { "SELECT $tag$unterminated", REFUSE, REFUSE },

  /* Unterminated strings and quoted identifiers. */
  { "SELECT 'unterminated", REFUSE, REFUSE },
  { "SELECT \"unterminated", REFUSE, REFUSE },
  { "SELECT 'a'; DELETE FROM omop_cdm.person; SELECT '", REFUSE, REFUSE },

  /* Locking clauses. */
  { "SELECT * FROM omop_cdm.person FOR UPDATE", REFUSE, REFUSE },
  { "SELECT * FROM omop_cdm.person FOR SHARE", REFUSE, REFUSE },
  { "SELECT * FROM omop_cdm.person FOR NO KEY UPDATE", REFUSE, REFUSE },
  { "SELECT * FROM omop_cdm.person FOR KEY SHARE", REFUSE, REFUSE },
  { "SELECT * FROM omop_cdm.person FOR UPDATE SKIP LOCKED", REFUSE, REFUSE },
  { "SELECT * FROM (SELECT * FROM omop_cdm.person FOR UPDATE) p", REFUSE, REFUSE },

  /* Denied functions, however they are spelt and wherever they hide. */
  { "SELECT pg_sleep(1)", REFUSE, REFUSE },
  { "SELECT pg_catalog.pg_sleep(1)", REFUSE, REFUSE },
  { "SELECT PG_SLEEP(1)", REFUSE, REFUSE },
  { "SELECT \"pg_sleep\"(1)", REFUSE, REFUSE },
  { "SELECT pg_sleep_for('1 second')", REFUSE, REFUSE },
  { "SELECT 1 FROM omop_cdm.person WHERE person_id = (SELECT nextval('s'))", REFUSE, REFUSE },
  { "WITH x AS (SELECT pg_read_file('/etc/passwd')) SELECT * FROM x", REFUSE, REFUSE },
  { "SELECT * FROM omop_cdm.person WHERE EXISTS (SELECT 1 WHERE pg_sleep(10) IS NULL)", REFUSE,
    REFUSE },
  { "SELECT * FROM pg_ls_dir('/')", REFUSE, REFUSE },
  { "SELECT * FROM ROWS FROM (pg_ls_dir('/'))", REFUSE, INVALID },
  { "SELECT max(length(pg_read_binary_file('/etc/passwd')))", REFUSE, REFUSE },
  { "SELECT lo_import('/etc/passwd')", REFUSE, REFUSE },
  { "SELECT lo_export(1, '/tmp/x')", REFUSE, REFUSE },
  { "SELECT dblink('host=127.0.0.1', 'DELETE FROM person')", REFUSE, REFUSE },
  { "SELECT dblink_exec('DELETE FROM person')", REFUSE, REFUSE },
  { "SELECT setval('s', 1)", REFUSE, REFUSE },
  { "SELECT set_config('default_transaction_read_only', 'off', false)", REFUSE, REFUSE },
  { "SELECT pg_terminate_backend(1)", REFUSE, REFUSE },
  { "SELECT pg_cancel_backend(1)", REFUSE, REFUSE },
  { "SELECT pg_advisory_lock(1)", REFUSE, REFUSE },
  { "SELECT query_to_xml('DELETE FROM omop_cdm.person RETURNING *', true, true, '')", REFUSE,
    REFUSE },
  { "SELECT * FROM read_csv_auto('/etc/passwd')", REFUSE, REFUSE },
  { "SELECT load_extension('/tmp/evil.so')", REFUSE, REFUSE },
  { "SELECT readfile('/etc/passwd')", REFUSE, REFUSE },
  { "SELECT writefile('/tmp/x', 'y')", REFUSE, REFUSE },
  { "SELECT edit('x', 'vi')", REFUSE, REFUSE },
  { "SELECT fts3_tokenizer('simple')", REFUSE, REFUSE },
  /* SQLite-only syntax that PostgreSQL's grammar rejects: SQLite's own
   * authorizer must refuse the function. */
  { "SELECT readfile('/etc/passwd') GLOB 'r*'", INVALID, REFUSE },
};

/* Functions that sql_policy_function_denied must deny: one name for each
 * entry or family of the list. */
static const char *const denied_names[] = {
  "pg_read_file", "pg_read_binary_file", "pg_stat_file", "pg_ls_dir", "pg_ls_logdir",
  "pg_ls_waldir", "pg_ls_tmpdir", "pg_ls_archive_statusdir", "pg_current_logfile",
  "pg_tablespace_location", "pg_file_write", "pg_file_unlink", "pg_logdir_ls", "lo_import",
  "lo_export", "lo_get", "lo_put", "lo_create", "lo_unlink", "lo_from_bytea", "loread",
  "lowrite", "dblink", "dblink_exec", "dblink_connect", "postgres_query", "postgres_execute",
  "mysql_query", "nextval", "setval", "currval", "lastval", "set_config", "setseed",
  "current_setting", "pg_sleep", "pg_sleep_for", "pg_sleep_until", "pg_advisory_lock",
  "pg_advisory_xact_lock_shared", "pg_try_advisory_lock", "pg_advisory_unlock_all", "pg_notify",
  "txid_current", "pg_current_xact_id", "pg_terminate_backend", "pg_cancel_backend",
  "pg_reload_conf", "pg_rotate_logfile", "pg_promote", "pg_start_backup", "pg_backup_start",
  "pg_backup_stop", "pg_create_restore_point", "pg_switch_wal", "pg_wal_replay_pause",
  "pg_create_logical_replication_slot", "pg_drop_replication_slot",
  "pg_copy_logical_replication_slot", "pg_logical_slot_get_changes", "pg_logical_emit_message",
  "pg_replication_origin_create", "pg_stat_reset", "pg_stat_reset_shared",
  "pg_stat_statements_reset", "pg_stat_get_activity", "pg_log_backend_memory_contexts",
  "pg_export_snapshot", "pg_import_system_collations", "brin_summarize_new_values",
  "gin_clean_pending_list", "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
  "cursor_to_xml", "table_to_xml", "schema_to_xml", "database_to_xml", "read_csv",
  "read_csv_auto", "read_parquet", "read_json_auto", "read_text", "read_blob", "sniff_csv",
  "parquet_scan", "sqlite_scan", "postgres_scan", "getenv", "query", "st_read",
  "load_extension", "readfile", "writefile", "edit", "fsdir", "zipfile", "fts3_tokenizer",
  /* Spellings: case, schema qualification. */
  "PG_SLEEP", "Pg_Read_File", "pg_catalog.pg_sleep", "public.dblink", "main.readfile",
};

/* Ordinary functions a research query uses. */
static const char *const allowed_names[] = {
  "count", "sum", "avg", "min", "max", "lower", "upper", "length", "substr", "substring",
  "coalesce", "nullif", "round", "abs", "date_part", "extract", "strftime", "julianday",
  "date", "datetime", "cast", "concat", "replace", "trim", "now", "current_date", "age",
  "row_number", "rank", "dense_rank", "percentile_cont", "string_agg", "group_concat",
  "json_extract", "like", "glob", "random", "generate_series", "pg_catalog.lower",
  "readable", "queryable", "edition", "loaded", "pg_size_pretty",
};

/* ---- SQLite fixture ---- */

static void
stub_function (sqlite3_context *context, int argc, sqlite3_value **argv)
{
  (void) argc, (void) argv;
  sqlite3_result_int (context, 1);
}

/* An in-memory database with omop_cdm attached, and every denied function
 * that SQLite's grammar can call registered as a stub, so that the
 * authorizer (not "no such function") is what stops them. */
static int
open_sqlite (void **state)
{
  static const char *const stubs[] = { "pg_sleep", "pg_sleep_for", "nextval", "pg_read_file",
                                       "pg_ls_dir", "pg_read_binary_file", "lo_import",
                                       "lo_export", "dblink", "dblink_exec", "setval",
                                       "set_config", "pg_terminate_backend", "pg_cancel_backend",
                                       "pg_advisory_lock", "query_to_xml", "read_csv_auto",
                                       "readfile", "writefile", "edit" };
  sqlite3 *db = NULL;
  size_t i;

  if (sqlite3_open_v2 (":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
    return -1;
  if (sqlite3_exec (db,
                    "ATTACH DATABASE ':memory:' AS omop_cdm;"
                    "CREATE TABLE omop_cdm.person (person_id INTEGER PRIMARY KEY,"
                    " gender_concept_id INTEGER, year_of_birth INTEGER,"
                    " person_source_value TEXT);"
                    "INSERT INTO omop_cdm.person VALUES (1, 8507, 1970, 'a'), (2, 8532, 1980, 'b');",
                    NULL, NULL, NULL)
      != SQLITE_OK)
    return -1;
  for (i = 0; i < N_ELEMENTS (stubs); i++)
    if (sqlite3_create_function_v2 (db, stubs[i], -1, SQLITE_UTF8, NULL, stub_function, NULL, NULL,
                                    NULL)
        != SQLITE_OK)
      return -1;
  *state = db;
  return 0;
}

static int
close_sqlite (void **state)
{
  sqlite3_close (*state);
  return 0;
}

static int
count_persons (sqlite3 *db)
{
  sqlite3_stmt *stmt = NULL;
  int n = -1;

  /* Outside the policy: lift the authorizer for this one check. */
  sqlite3_set_authorizer (db, NULL, NULL);
  if (sqlite3_prepare_v2 (db, "SELECT count(*) FROM omop_cdm.person", -1, &stmt, NULL) == SQLITE_OK
      && sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  return n;
}

/* ---- checks ---- */

static const char *
outcome_name (enum outcome o)
{
  switch (o)
    {
    case ACCEPT:
      return "accepted";
    case REFUSE:
      return "refused";
    default:
      return "invalid";
    }
}

static enum outcome
classify (int ret, const omcp_error *err)
{
  if (ret == 0)
    return ACCEPT;
  if (err->errnum == EACCES && strncmp (err->message, SQL_POLICY_REFUSAL,
                                        strlen (SQL_POLICY_REFUSAL)) == 0)
    return REFUSE;
  return INVALID;
}

static void
postgres_cases (void **state)
{
  size_t i;
  int failures = 0;

  (void) state;
  for (i = 0; i < N_ELEMENTS (cases); i++)
    {
      omcp_error err = { 0 };
      enum outcome got = classify (sql_policy_check_postgres (cases[i].sql, &err), &err);

      /* INVALID means rejected in any way. */
      if (got != cases[i].postgres && !(cases[i].postgres == INVALID && got != ACCEPT))
        {
          print_error ("postgres: \"%s\": expected %s, got %s (%s)\n", cases[i].sql,
                       outcome_name (cases[i].postgres), outcome_name (got), err.message);
          failures++;
        }
    }
  assert_int_equal (failures, 0);
}

static void
sqlite_cases (void **state)
{
  sqlite3 *db = *state;
  size_t i;
  int failures = 0;

  for (i = 0; i < N_ELEMENTS (cases); i++)
    {
      omcp_error err = { 0 };
      sqlite3_stmt *stmt = NULL;
      int ret = sql_policy_sqlite_prepare (db, cases[i].sql, &stmt, &err);
      enum outcome got = classify (ret, &err);

      if (ret == 0)
        {
          /* Accepted statements run to completion as reads. */
          while (sqlite3_step (stmt) == SQLITE_ROW)
            ;
          sqlite3_finalize (stmt);
        }
      if (got != cases[i].sqlite && !(cases[i].sqlite == INVALID && got != ACCEPT))
        {
          print_error ("sqlite: \"%s\": expected %s, got %s (%s)\n", cases[i].sql,
                       outcome_name (cases[i].sqlite), outcome_name (got),
                       ret == 0 ? "" : err.message);
          failures++;
        }
    }
  assert_int_equal (failures, 0);
  assert_int_equal (count_persons (db), 2);
}

static void
check_text_matches_postgres (void **state)
{
  size_t i;

  (void) state;
  /* The token checks never refuse what the full check accepts. */
  for (i = 0; i < N_ELEMENTS (cases); i++)
    {
      omcp_error err = { 0 };

      if (cases[i].postgres == ACCEPT && sql_policy_check_text (cases[i].sql, &err) < 0)
        fail_msg ("\"%s\": %s", cases[i].sql, err.message);
    }
}

static void
refusal_message_says_why (void **state)
{
  omcp_error err = { 0 };

  (void) state;
  assert_int_equal (sql_policy_check_postgres ("SELECT 1 -- x", &err), -1);
  assert_int_equal (err.errnum, EACCES);
  assert_non_null (strstr (err.message, "comment"));

  assert_int_equal (sql_policy_check_postgres ("SELECT pg_catalog.pg_sleep(5)", &err), -1);
  assert_non_null (strstr (err.message, "pg_sleep"));

  assert_int_equal (sql_policy_check_postgres ("WITH d AS (DELETE FROM t RETURNING *) SELECT 1",
                                               &err), -1);
  assert_non_null (strstr (err.message, "WITH"));
}

static void
invalid_sql_is_not_a_refusal (void **state)
{
  omcp_error err = { 0 };

  (void) state;
  assert_int_equal (sql_policy_check_postgres ("SELECT FROM WHERE (", &err), -1);
  assert_int_equal (err.errnum, EINVAL);
  assert_non_null (strstr (err.message, "syntax error"));
}

static void
function_deny_list (void **state)
{
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (denied_names); i++)
    if (!sql_policy_function_denied (denied_names[i]))
      fail_msg ("%s should be denied", denied_names[i]);
  for (i = 0; i < N_ELEMENTS (allowed_names); i++)
    if (sql_policy_function_denied (allowed_names[i]))
      fail_msg ("%s should be allowed", allowed_names[i]);
  assert_false (sql_policy_function_denied (NULL));
}

/* Every denied name called in a SELECT is refused by the PostgreSQL tree. */
static void
postgres_refuses_each_denied_function (void **state)
{
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (denied_names); i++)
    {
      cleanup_free char *sql = xasprintf ("SELECT * FROM omop_cdm.person WHERE person_id = "
                                          "(SELECT %s(1))", denied_names[i]);
      cleanup_free char *quoted = NULL;
      omcp_error err = { 0 };

      if (sql_policy_check_postgres (sql, &err) != -1 || err.errnum != EACCES)
        fail_msg ("%s: %s", sql, err.message);
      if (strchr (denied_names[i], '.') == NULL)
        {
          quoted = xasprintf ("SELECT \"%s\"(1)", denied_names[i]);
          if (sql_policy_check_postgres (quoted, &err) != -1 || err.errnum != EACCES)
            fail_msg ("%s: %s", quoted, err.message);
        }
    }
}

static void
authorizer_actions (void **state)
{
  static const int denied[] = {
    SQLITE_ATTACH, SQLITE_DETACH, SQLITE_INSERT, SQLITE_UPDATE, SQLITE_DELETE,
    SQLITE_CREATE_TABLE, SQLITE_CREATE_INDEX, SQLITE_CREATE_TEMP_TABLE, SQLITE_CREATE_VIEW,
    SQLITE_CREATE_TRIGGER, SQLITE_CREATE_VTABLE, SQLITE_DROP_TABLE, SQLITE_DROP_INDEX,
    SQLITE_DROP_VIEW, SQLITE_DROP_TRIGGER, SQLITE_DROP_VTABLE, SQLITE_ALTER_TABLE,
    SQLITE_REINDEX, SQLITE_ANALYZE, SQLITE_TRANSACTION, SQLITE_SAVEPOINT, SQLITE_COPY,
  };
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (denied); i++)
    if (sql_policy_sqlite_authorizer (NULL, denied[i], "x", "y", "main", NULL) != SQLITE_DENY)
      fail_msg ("action %d should be denied", denied[i]);

  assert_int_equal (sql_policy_sqlite_authorizer (NULL, SQLITE_SELECT, NULL, NULL, NULL, NULL),
                    SQLITE_OK);
  assert_int_equal (sql_policy_sqlite_authorizer (NULL, SQLITE_READ, "person", "person_id",
                                                  "omop_cdm", NULL), SQLITE_OK);
  assert_int_equal (sql_policy_sqlite_authorizer (NULL, SQLITE_RECURSIVE, NULL, NULL, NULL, NULL),
                    SQLITE_OK);
  assert_int_equal (sql_policy_sqlite_authorizer (NULL, SQLITE_FUNCTION, NULL, "count", NULL,
                                                  NULL), SQLITE_OK);
  assert_int_equal (sql_policy_sqlite_authorizer (NULL, SQLITE_FUNCTION, NULL, "load_extension",
                                                  NULL, NULL), SQLITE_DENY);
  assert_int_equal (sql_policy_sqlite_authorizer (NULL, SQLITE_PRAGMA, "table_info", "person",
                                                  "omop_cdm", NULL), SQLITE_OK);
  assert_int_equal (sql_policy_sqlite_authorizer (NULL, SQLITE_PRAGMA, "journal_mode", "wal",
                                                  NULL, NULL), SQLITE_DENY);
  assert_int_equal (sql_policy_sqlite_authorizer (NULL, SQLITE_PRAGMA, "writable_schema", "1",
                                                  NULL, NULL), SQLITE_DENY);
  assert_int_equal (sql_policy_sqlite_authorizer (NULL, SQLITE_PRAGMA, "database_list", NULL,
                                                  NULL, NULL), SQLITE_DENY);
}

/* Queries the grammar accepts but that write must still fail on a
 * writable connection, and the table keeps its rows. */
static void
sqlite_writes_leave_rows (void **state)
{
  static const char *const writes[] = {
    "DELETE FROM omop_cdm.person",
    "WITH d AS (SELECT 1) DELETE FROM omop_cdm.person",
    "SELECT 1; DELETE FROM omop_cdm.person",
    "SELECT 'a'; DELETE FROM omop_cdm.person; SELECT 'b'",
    "SELECT 1 GLOB 'x'; DELETE FROM omop_cdm.person",
  };
  sqlite3 *db = *state;
  size_t i;

  for (i = 0; i < N_ELEMENTS (writes); i++)
    {
      sqlite3_stmt *stmt = NULL;
      omcp_error err = { 0 };

      if (sql_policy_sqlite_prepare (db, writes[i], &stmt, &err) == 0)
        {
          sqlite3_finalize (stmt);
          fail_msg ("\"%s\" was accepted", writes[i]);
        }
    }
  assert_int_equal (count_persons (db), 2);
}

/* libpg_query keeps per-thread state: checks from several threads at once
 * give the same results. */
static void *
check_in_thread (void *arg)
{
  size_t round, i;

  (void) arg;
  for (round = 0; round < 20; round++)
    for (i = 0; i < N_ELEMENTS (cases); i++)
      {
        omcp_error err = { 0 };
        enum outcome got = classify (sql_policy_check_postgres (cases[i].sql, &err), &err);

        if (got != cases[i].postgres && !(cases[i].postgres == INVALID && got != ACCEPT))
          return (void *) cases[i].sql;
      }
  return NULL;
}

static void
postgres_checks_in_threads (void **state)
{
  pthread_t threads[4];
  void *result;
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (threads); i++)
    assert_int_equal (pthread_create (&threads[i], NULL, check_in_thread, NULL), 0);
  for (i = 0; i < N_ELEMENTS (threads); i++)
    {
      assert_int_equal (pthread_join (threads[i], &result), 0);
      if (result != NULL)
        fail_msg ("thread got a wrong answer for \"%s\"", (const char *) result);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (postgres_cases),
    cmocka_unit_test_setup_teardown (sqlite_cases, open_sqlite, close_sqlite),
    cmocka_unit_test (check_text_matches_postgres),
    cmocka_unit_test (refusal_message_says_why),
    cmocka_unit_test (invalid_sql_is_not_a_refusal),
    cmocka_unit_test (function_deny_list),
    cmocka_unit_test (postgres_refuses_each_denied_function),
    cmocka_unit_test (authorizer_actions),
    cmocka_unit_test_setup_teardown (sqlite_writes_leave_rows, open_sqlite, close_sqlite),
    cmocka_unit_test (postgres_checks_in_threads),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
