/* The read-only SQL policy, in layers that each stop a query alone:
 *   - the token checks (PostgreSQL's scanner, through libpg_query), the
 *     same for both backends;
 *   - the parse tree from PostgreSQL's grammar, on PostgreSQL always and on
 *     SQLite whenever that grammar accepts the text;
 *   - on SQLite, SQLite's own parser: one prepared statement with no tail,
 *     sqlite3_stmt_readonly, and an authorizer.
 * The database connection adds the last layer itself: SQLite opened
 * read-only, PostgreSQL inside a READ ONLY transaction. Queries that only
 * cost time, such as a huge generate_series, are left to the deadline.
 *
 * libpg_query keeps its memory contexts in thread-local storage and sets
 * them up on first use in each thread (version 15-4.0.0, where
 * pg_query_init is deprecated), so these functions may run in several
 * threads at once. pg_query.h documents that a thread's top context is freed when
 * the thread exits. MCP tool calls each run in their own thread, so
 * nothing accumulates. */
#include "policy.h"

#include <ctype.h>
#include <jansson.h>
#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>
#include <string.h>
#include <strings.h>

static int
refuse (omcp_error *err, const char *reason)
{
  return omcp_error_set_kind (err, EACCES, SQL_POLICY_REFUSAL " (%s)", reason);
}

/* ---- denied functions ---- */

struct denied_function
{
  const char *name;
  bool prefix;    /* NAME is a prefix: every function starting with it */
};

static const struct denied_function denied_functions[] = {
  /* PostgreSQL: read server files, list server directories, or report the
   * server's file layout. */
  { "pg_read_file", false },
  { "pg_read_binary_file", false },
  { "pg_stat_file", false },
  { "pg_ls_", true },               /* pg_ls_dir, pg_ls_logdir, pg_ls_waldir, ... */
  { "pg_current_logfile", false },
  { "pg_tablespace_location", false },
  /* PostgreSQL adminpack: write, rename and delete server files. */
  { "pg_file_", true },
  { "pg_logdir_ls", false },

  /* Large objects: lo_import and lo_export read and write server files,
   * the rest create, change or read large objects. */
  { "lo_", true },
  { "loread", false },
  { "lowrite", false },

  /* Connections to other databases or servers (dblink, dblink_exec,
   * dblink_connect, ...), and the foreign-data readers of DuckDB. */
  { "dblink", true },
  { "postgres_query", false },
  { "postgres_execute", false },
  { "mysql_query", false },
  { "mysql_execute", false },

  /* Sequences and session state: nextval and setval change a sequence,
   * currval and lastval read session state that nextval left behind,
   * set_config and setseed change settings, current_setting reads server
   * settings such as data_directory. */
  { "nextval", false },
  { "setval", false },
  { "currval", false },
  { "lastval", false },
  { "set_config", false },
  { "setseed", false },
  { "current_setting", false },

  /* Waiting: a query must not hold a connection without working. */
  { "pg_sleep", true },             /* pg_sleep, pg_sleep_for, pg_sleep_until */

  /* Locks and notifications, which change state seen by other sessions. */
  { "pg_advisory_", true },
  { "pg_try_advisory_", true },
  { "pg_notify", false },

  /* Transaction ids: txid_current and pg_current_xact_id assign one,
   * which is a write. */
  { "txid_current", false },
  { "pg_current_xact_id", false },

  /* Server administration: signal backends, reload or rotate, promote,
   * backups, WAL, replication slots and origins, statistics resets,
   * snapshots exported to other sessions, catalog and index changes. */
  { "pg_terminate_backend", false },
  { "pg_cancel_backend", false },
  { "pg_reload_conf", false },
  { "pg_rotate_logfile", true },
  { "pg_promote", false },
  { "pg_start_backup", false },
  { "pg_stop_backup", false },
  { "pg_backup_start", false },
  { "pg_backup_stop", false },
  { "pg_create_restore_point", false },
  { "pg_switch_wal", false },
  { "pg_switch_xlog", false },
  { "pg_wal_replay_", true },
  { "pg_create_physical_replication_slot", false },
  { "pg_create_logical_replication_slot", false },
  { "pg_copy_physical_replication_slot", false },
  { "pg_copy_logical_replication_slot", false },
  { "pg_drop_replication_slot", false },
  { "pg_replication_slot_advance", false },
  { "pg_logical_", true },          /* slot changes are consumed, messages written */
  { "pg_replication_origin_", true },
  { "pg_stat_reset", true },
  { "pg_stat_statements_reset", false },
  { "pg_stat_get_activity", false }, /* other sessions' query texts */
  { "pg_log_backend_memory_contexts", false },
  { "pg_export_snapshot", false },
  { "pg_import_system_collations", false },
  { "pg_prewarm", false },
  { "brin_summarize_new_values", false },
  { "brin_summarize_range", false },
  { "brin_desummarize_range", false },
  { "gin_clean_pending_list", false },

  /* Functions that run SQL given as text, which would escape every check
   * on the query itself: query_to_xml, query_to_xmlschema,
   * query_to_xml_and_xmlschema, cursor_to_xml, and the table, schema and
   * database variants that read whole relations at once. */
  { "query_to_", true },
  { "cursor_to_", true },
  { "table_to_xml", true },
  { "schema_to_xml", true },
  { "database_to_xml", true },

  /* DuckDB: file readers and writers (read_csv, read_csv_auto,
   * read_parquet, read_json, read_text, read_blob, ...), scanners of other
   * databases and files (sqlite_scan, postgres_scan, parquet_scan, ...),
   * SQL run from text, environment variables. */
  { "read_", true },
  { "sniff_csv", false },
  { "parquet_", true },
  { "sqlite_scan", false },
  { "postgres_scan", true },
  { "mysql_scan", false },
  { "iceberg_", true },
  { "delta_scan", false },
  { "st_read", false },
  { "query", false },
  { "query_table", false },
  { "getenv", false },

  /* SQLite: extensions load native code. The shell's readfile,
   * writefile, edit, fsdir and zipfile reach the file system.
   * fts3_tokenizer returns a tokenizer's pointer, or installs one when
   * given two arguments. */
  { "load_extension", false },
  { "readfile", false },
  { "writefile", false },
  { "edit", false },
  { "fsdir", false },
  { "zipfile", true },
  { "sqlar_", true },
  { "fts3_tokenizer", false },
};

bool
sql_policy_function_denied (const char *name)
{
  const char *dot;
  size_t i;

  if (name == NULL)
    return false;
  /* "pg_catalog.pg_sleep": only the function's own name counts. */
  dot = strrchr (name, '.');
  if (dot != NULL)
    name = dot + 1;

  for (i = 0; i < N_ELEMENTS (denied_functions); i++)
    {
      const struct denied_function *d = &denied_functions[i];

      if (d->prefix ? strncasecmp (name, d->name, strlen (d->name)) == 0
                    : strcasecmp (name, d->name) == 0)
        return true;
    }
  return false;
}

/* ---- token checks ---- */

static bool
is_blank (const char *s)
{
  for (; *s; s++)
    if (!isspace ((unsigned char) *s))
      return false;
  return true;
}

/* A locking clause starts with FOR followed by UPDATE, SHARE, NO KEY
 * UPDATE or KEY SHARE. SQLite has no such clause, but the message should
 * be the policy's on both backends. The only other FOR in a SELECT is
 * SUBSTRING (x FROM a FOR b), whose B would have to be a column named
 * update, share, no or key to be refused here. */
static bool
is_locking_start (PgQuery__ScanToken **tokens, size_t n, size_t i)
{
  PgQuery__Token next;

  if (tokens[i]->token != PG_QUERY__TOKEN__FOR || i + 1 >= n)
    return false;
  next = tokens[i + 1]->token;
  return next == PG_QUERY__TOKEN__UPDATE || next == PG_QUERY__TOKEN__SHARE
         || next == PG_QUERY__TOKEN__NO || next == PG_QUERY__TOKEN__KEY;
}

static int
check_tokens (const char *sql, PgQuery__ScanToken **tokens, size_t n, omcp_error *err)
{
  size_t i, first;

  if (n == 0)
    return refuse (err, "the query is empty");

  for (i = 0; i < n; i++)
    {
      PgQuery__ScanToken *t = tokens[i];

      switch (t->token)
        {
        case PG_QUERY__TOKEN__SQL_COMMENT:
        case PG_QUERY__TOKEN__C_COMMENT:
          return refuse (err, "comments are not allowed");
        case PG_QUERY__TOKEN__SCONST:
          /* The scanner reports $$...$$ and $tag$...$tag$ as a string
           * constant whose text starts with the dollar sign. */
          if (t->start >= 0 && sql[t->start] == '$')
            return refuse (err, "dollar-quoted strings are not allowed");
          break;
        case PG_QUERY__TOKEN__ASCII_59:
          if (i + 1 != n)
            return refuse (err, "only one statement is allowed, with at most one final semicolon");
          break;
        case PG_QUERY__TOKEN__INTO:
          /* INTO is reserved, and a read-only SELECT never needs it. */
          return refuse (err, "SELECT INTO is not allowed");
        default:
          if (is_locking_start (tokens, n, i))
            return refuse (err, "locking clauses such as FOR UPDATE are not allowed");
          break;
        }
    }

  /* Parentheses may open a SELECT: (SELECT 1) UNION (SELECT 2). TABLE x
   * and VALUES (...) read too, but agents have SELECT for that, and a
   * short list of first words is easier to trust. */
  for (first = 0; first < n && tokens[first]->token == PG_QUERY__TOKEN__ASCII_40; first++)
    ;
  if (first == n
      || (tokens[first]->token != PG_QUERY__TOKEN__SELECT
          && tokens[first]->token != PG_QUERY__TOKEN__WITH))
    return refuse (err, "the query must start with SELECT or WITH");
  return 0;
}

int
sql_policy_check_text (const char *sql, omcp_error *err)
{
  PgQueryScanResult result;
  PgQuery__ScanResult *scan;
  int ret;

  if (sql == NULL || is_blank (sql))
    return refuse (err, "the query is empty");

  result = pg_query_scan (sql);
  if (result.error != NULL)
    {
      /* Unterminated strings, quoted identifiers and comments end up here. */
      omcp_error_set_kind (err, EACCES, SQL_POLICY_REFUSAL " (%s)", result.error->message);
      pg_query_free_scan_result (result);
      return -1;
    }

  scan = pg_query__scan_result__unpack (NULL, result.pbuf.len, (const uint8_t *) result.pbuf.data);
  pg_query_free_scan_result (result);
  if (scan == NULL)
    return omcp_error_set_kind (err, EIO, "SQL policy: cannot decode the scanner's output");

  ret = check_tokens (sql, scan->tokens, scan->n_tokens, err);
  pg_query__scan_result__free_unpacked (scan, NULL);
  return ret;
}

/* ---- PostgreSQL parse tree ---- */

/* Last name of a FuncCall's funcname list: [{"String": {"sval": "pg_catalog"}},
 * {"String": {"sval": "pg_sleep"}}] gives "pg_sleep". */
static const char *
func_call_name (json_t *func_call)
{
  json_t *names = json_object_get (func_call, "funcname");
  json_t *last;

  if (!json_is_array (names) || json_array_size (names) == 0)
    return NULL;
  last = json_array_get (names, json_array_size (names) - 1);
  return json_string_value (json_object_get (json_object_get (last, "String"), "sval"));
}

/* Walk every node of the tree: subqueries, CTEs, FROM functions and
 * expressions alike, so that nesting hides nothing. */
static int
check_tree (json_t *node, omcp_error *err)
{
  const char *key;
  json_t *value;
  size_t i;

  if (json_is_array (node))
    {
      json_array_foreach (node, i, value)
        if (check_tree (value, err) < 0)
          return -1;
      return 0;
    }
  if (!json_is_object (node))
    return 0;

  json_object_foreach (node, key, value)
    {
      if (strcmp (key, "intoClause") == 0)
        return refuse (err, "SELECT INTO is not allowed");
      if (strcmp (key, "lockingClause") == 0)
        return refuse (err, "locking clauses such as FOR UPDATE are not allowed");
      if (strcmp (key, "CommonTableExpr") == 0
          && json_object_get (json_object_get (value, "ctequery"), "SelectStmt") == NULL)
        return refuse (err, "data-modifying WITH queries are not allowed");
      if (strcmp (key, "FuncCall") == 0)
        {
          const char *name = func_call_name (value);

          if (name == NULL || sql_policy_function_denied (name))
            {
              omcp_error_set_kind (err, EACCES, SQL_POLICY_REFUSAL " (function %s is not allowed)",
                                   name ? name : "?");
              return -1;
            }
        }
      if (check_tree (value, err) < 0)
        return -1;
    }
  return 0;
}

/* Parse SQL with PostgreSQL's grammar and check the tree. When the
 * grammar rejects the text, fail when STRICT, else leave the decision to
 * the caller's own parser. */
static int
check_parse_tree (const char *sql, bool strict, omcp_error *err)
{
  PgQueryParseResult result;
  json_t *tree, *stmts, *stmt;
  json_error_t json_err;
  int ret;

  result = pg_query_parse (sql);
  if (result.error != NULL)
    {
      ret = strict ? omcp_error_set_kind (err, EINVAL, "Invalid SQL: %s", result.error->message) : 0;
      pg_query_free_parse_result (result);
      return ret;
    }
  tree = json_loads (result.parse_tree, 0, &json_err);
  pg_query_free_parse_result (result);
  if (tree == NULL)
    return omcp_error_set_kind (err, EIO, "SQL policy: cannot read the parse tree: %s",
                                json_err.text);

  stmts = json_object_get (tree, "stmts");
  stmt = json_object_get (json_array_get (stmts, 0), "stmt");
  if (!json_is_array (stmts) || json_array_size (stmts) != 1)
    ret = refuse (err, "only one statement is allowed");
  else if (json_object_get (stmt, "SelectStmt") == NULL)
    ret = refuse (err, "the statement is not a SELECT");
  else
    ret = check_tree (stmt, err);
  json_decref (tree);
  return ret;
}

int
sql_policy_check_postgres (const char *sql, omcp_error *err)
{
  if (sql_policy_check_text (sql, err) < 0)
    return -1;
  return check_parse_tree (sql, true, err);
}

/* ---- SQLite ---- */

/* PRAGMAs that only read the schema. A PRAGMA statement calls the
 * authorizer with SQLITE_PRAGMA, but a table-valued pragma such as
 * pragma_table_info('person') only reads a virtual table of that name. */
static const char *const schema_pragmas[] = {
  "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
  "foreign_key_list",
};

static bool
is_schema_pragma (const char *name)
{
  size_t i;

  for (i = 0; i < N_ELEMENTS (schema_pragmas); i++)
    if (name != NULL && strcasecmp (name, schema_pragmas[i]) == 0)
      return true;
  return false;
}

/* Set when the authorizer denied something during the current prepare in
 * this thread: SQLite reports a denial as a plain SQLITE_ERROR. */
static __thread bool authorizer_denied;

static int
authorize (int action, const char *arg1, const char *arg2, const char *db_name)
{
  switch (action)
    {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_READ:
      if (arg1 != NULL && strncasecmp (arg1, "pragma_", 7) == 0)
        return is_schema_pragma (arg1 + 7) ? SQLITE_OK : SQLITE_DENY;
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      /* ARG2 is the function's name; ARG1 is NULL. */
      return sql_policy_function_denied (arg2) ? SQLITE_DENY : SQLITE_OK;
    case SQLITE_PRAGMA:
      return is_schema_pragma (arg1) ? SQLITE_OK : SQLITE_DENY;
    case SQLITE_UPDATE:
      /* The first use of an eponymous virtual table (json_each,
       * pragma_table_info) in a connection asks for UPDATE on the columns
       * of main.sqlite_master while SQLite builds the table in memory
       * (seen with SQLite 3.40); nothing is written. A real UPDATE of
       * sqlite_master would need PRAGMA writable_schema, denied above,
       * and sqlite3_stmt_readonly and the read-only connection stop it
       * too. */
      if (arg1 != NULL && strcmp (arg1, "sqlite_master") == 0 && db_name != NULL
          && strcmp (db_name, "main") == 0)
        return SQLITE_OK;
      return SQLITE_DENY;
    default:
      /* ATTACH, DETACH, every other write, DDL, transaction and
       * savepoint. */
      return SQLITE_DENY;
    }
}

int
sql_policy_sqlite_authorizer (void *userdata, int action, const char *arg1, const char *arg2,
                              const char *db_name, const char *trigger)
{
  int ret = authorize (action, arg1, arg2, db_name);

  (void) userdata, (void) trigger;
  if (ret == SQLITE_DENY)
    authorizer_denied = true;
  return ret;
}

int
sql_policy_sqlite_prepare (sqlite3 *db, const char *sql, sqlite3_stmt **out, omcp_error *err)
{
  sqlite3_stmt *stmt = NULL;
  const char *tail = NULL;
  int rc;

  if (sql_policy_check_text (sql, err) < 0)
    return -1;
  /* Most SQLite queries are PostgreSQL too: the tree gives the same
   * refusals on both backends (a DELETE in a CTE, a denied function
   * called with a schema). Text only SQLite accepts goes on to SQLite. */
  if (check_parse_tree (sql, false, err) < 0)
    return -1;

  sqlite3_set_authorizer (db, sql_policy_sqlite_authorizer, NULL);
  authorizer_denied = false;
  rc = sqlite3_prepare_v3 (db, sql, -1, 0, &stmt, &tail);
  if (rc != SQLITE_OK && authorizer_denied)
    return omcp_error_set_kind (err, EACCES, SQL_POLICY_REFUSAL " (%s)", sqlite3_errmsg (db));
  if (rc != SQLITE_OK)
    return omcp_error_set_kind (err, EINVAL, "Invalid SQL: %s", sqlite3_errmsg (db));
  if (stmt == NULL)
    return refuse (err, "the query is empty");
  if (tail != NULL && !is_blank (tail))
    {
      sqlite3_finalize (stmt);
      return refuse (err, "only one statement is allowed, with at most one final semicolon");
    }
  if (!sqlite3_stmt_readonly (stmt))
    {
      sqlite3_finalize (stmt);
      return refuse (err, "the statement would write to the database");
    }

  *out = stmt;
  return 0;
}
