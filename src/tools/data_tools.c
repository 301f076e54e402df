/* Fast-path query tools: read the OMOP CDM without a sandbox. Names and
 * arguments match the Python server that agents already know. Every
 * query goes through db_select, and so through the read-only SQL policy,
 * on one lazily opened read-only connection. */
#include <pthread.h>
#include <string.h>

#include "log.h"
#include "policy.h"
#include "query_build.h"
#include "tools.h"

/* Most bytes of rows, as compact JSON, that one query tool call returns. */
#define QUERY_MAX_RESULT_BYTES (8 * 1024 * 1024)

struct data_tools
{
  const struct data_tools_settings *settings;
  /* Serialises every use of CONN, which is not thread-safe. A slow query
   * therefore delays the data tool calls behind it, each query by at most
   * QUERY_TIMEOUT_MS, but never the sandbox tools. */
  pthread_mutex_t lock;
  db *conn;   /* NULL until the first call, and after a connection error */
};

static struct data_tools data_state = { .lock = PTHREAD_MUTEX_INITIALIZER };

static json_t *
failure (const char *message)
{
  return json_pack ("{s:b, s:s}", "success", 0, "error", message);
}

/* ---- connection ---- */

/* Lock the state and return the open connection, opening it first when
 * needed. On failure the lock is released. */
static db *
acquire_connection (struct data_tools *t, omcp_error *err)
{
  pthread_mutex_lock (&t->lock);
  if (t->conn == NULL && db_open (&t->settings->db, true, &t->conn, err) < 0)
    {
      t->conn = NULL;
      pthread_mutex_unlock (&t->lock);
      log_warning ("data", "cannot open the %s database: %s",
                   db_backend_name (t->settings->db.backend), err->message);
      return NULL;
    }
  return t->conn;
}

/* Release the lock. After an error that is not the query's own fault
 * (refused, invalid, too slow), drop the connection so that the next call
 * opens a new one: the server may have restarted or the file changed. */
static void
release_connection (struct data_tools *t, const omcp_error *err)
{
  if (err != NULL && err->errnum != EACCES && err->errnum != EINVAL && err->errnum != ETIMEDOUT)
    {
      log_info ("data", "closing the database connection after an error; the next call reconnects");
      db_close (t->conn);
      t->conn = NULL;
    }
  pthread_mutex_unlock (&t->lock);
}

void
tools_data_close (void)
{
  pthread_mutex_lock (&data_state.lock);
  db_close (data_state.conn);
  data_state.conn = NULL;
  pthread_mutex_unlock (&data_state.lock);
}

/* ---- audit ---- */

struct audit
{
  char query_id[40];
  char executed_at[40];
  const char *backend;
  int64_t row_limit;
  size_t rows_returned;
  bool truncated;
};

static void
audit_start (struct audit *a, const struct data_tools *t, int64_t row_limit)
{
  memset (a, 0, sizeof *a);
  if (uuid_v4 (a->query_id, sizeof a->query_id) < 0)
    copy_string (a->query_id, sizeof a->query_id, "00000000-0000-0000-0000-000000000000");
  format_iso8601_utc (now_wall_ms (), a->executed_at, sizeof a->executed_at);
  a->backend = db_backend_name (t->settings->db.backend);
  a->row_limit = row_limit;
}

/* Log the audit record and return it as JSON. Neither contains the SQL text,
 * a parameter or a row. OUTCOME is "ok", or the kind of failure. */
static json_t *
audit_finish (const struct audit *a, const char *tool, mcp_call *call, const char *outcome,
              int64_t started_ms)
{
  log_info ("data",
            "%s request=%s query_id=%s executed_at=%s backend=%s row_limit=%lld "
            "rows_returned=%zu truncated=%s outcome=%s ms=%lld",
            tool, mcp_call_request_id (call), a->query_id, a->executed_at, a->backend,
            (long long) a->row_limit, a->rows_returned, a->truncated ? "true" : "false", outcome,
            (long long) (now_monotonic_ms () - started_ms));
  return json_pack ("{s:s, s:s, s:s, s:I, s:I, s:b}", "query_id", a->query_id, "executed_at",
                    a->executed_at, "backend", a->backend, "row_limit", (json_int_t) a->row_limit,
                    "rows_returned", (json_int_t) a->rows_returned, "truncated", a->truncated);
}

/* Kind of a failed query for the log, which never gets the message:
 * database messages may quote the SQL. */
static const char *
failure_kind (const omcp_error *err)
{
  switch (err->errnum)
    {
    case EACCES:
      return "refused";
    case ETIMEDOUT:
      return "timeout";
    case EINVAL:
      return "invalid";
    default:
      return "error";
    }
}

/* Runs one query on an open connection. */
typedef int (*select_fn) (db *conn, void *userdata, size_t max_rows, struct db_rows *rows,
                          omcp_error *err);

/* Run SELECT_FN on the connection and shape its rows, or the failure,
 * with the audit record. */
static json_t *
run_select (struct data_tools *t, mcp_call *call, const char *tool, int64_t row_limit,
            select_fn select, void *userdata)
{
  struct db_rows rows = { 0 };
  struct audit audit;
  omcp_error err;
  int64_t started = now_monotonic_ms ();
  size_t result_bytes;
  db *conn;
  json_t *result;
  int ret;

  audit_start (&audit, t, row_limit);
  conn = acquire_connection (t, &err);
  if (conn == NULL)
    {
      result = failure (err.message);
      json_object_set_new (result, "audit", audit_finish (&audit, tool, call, "unavailable", started));
      return result;
    }
  ret = select (conn, userdata, (size_t) row_limit, &rows, &err);
  release_connection (t, ret < 0 ? &err : NULL);
  if (ret < 0)
    {
      result = failure (err.message);
      json_object_set_new (result, "audit", audit_finish (&audit, tool, call, failure_kind (&err),
                                                          started));
      return result;
    }

  audit.rows_returned = json_array_size (rows.rows);
  audit.truncated = rows.truncated;
  /* The rows appear twice in the response, as text and as structured
   * content, and the client must hold them all. */
  result_bytes = json_dumpb (rows.rows, NULL, 0, JSON_COMPACT);
  if (result_bytes > QUERY_MAX_RESULT_BYTES)
    {
      char message[256];

      snprintf (message, sizeof message,
                "Result too large: %zu bytes of rows, more than the %d bytes a query tool "
                "returns. Select fewer rows or columns, or analyse the data in a sandbox.",
                result_bytes, QUERY_MAX_RESULT_BYTES);
      db_rows_clear (&rows);
      result = failure (message);
      json_object_set_new (result, "audit", audit_finish (&audit, tool, call, "too_large",
                                                          started));
      return result;
    }
  result = json_pack ("{s:b, s:O, s:O, s:I, s:b}", "success", 1, "columns", rows.columns, "rows",
                      rows.rows, "count", (json_int_t) audit.rows_returned, "truncated",
                      rows.truncated);
  json_object_set_new (result, "audit", audit_finish (&audit, tool, call, "ok", started));
  db_rows_clear (&rows);
  return result;
}

/* ---- query_omop_table ---- */

static void
placeholder_of_connection (void *userdata, unsigned n, char buf[16])
{
  db_placeholder (userdata, n, buf);
}

/* For checking the arguments before any connection exists: the text is
 * thrown away, so the placeholder's form does not matter. */
static void
placeholder_for_check (void *userdata, unsigned n, char buf[16])
{
  (void) userdata;
  snprintf (buf, 16, "?%u", n);
}

static int
select_table (db *conn, void *userdata, size_t max_rows, struct db_rows *rows, omcp_error *err)
{
  const struct query_request *request = userdata;
  struct query_plan plan = { 0 };
  int ret;

  ret = query_build_select (request, placeholder_of_connection, conn, &plan, err);
  if (ret == 0)
    ret = db_select (conn, plan.sql, plan.params, plan.n_params, max_rows, rows, err);
  query_plan_clear (&plan);
  return ret;
}

static json_t *
tool_query_omop_table (mcp_call *call, json_t *args, void *userdata)
{
  struct data_tools *t = userdata;
  struct query_request request = {
    .table_name = json_string_value (json_object_get (args, "table_name")),
    .columns = json_object_get (args, "columns"),
    .filters = json_object_get (args, "filters"),
    .where = json_string_value (json_object_get (args, "where")),
    .allow_raw_where = t->settings->allow_unsafe_sql,
    .limit = query_clamp_limit (json_object_get (args, "limit"), t->settings->default_limit,
                                t->settings->max_rows),
  };
  struct query_plan plan = { 0 };
  omcp_error err;

  /* Bad arguments get their own message whether or not the database is
   * up: check them before connecting. */
  if (query_build_select (&request, placeholder_for_check, NULL, &plan, &err) < 0)
    {
      log_info ("data", "query_omop_table rejected request=%s reason=arguments",
                mcp_call_request_id (call));
      return failure (err.message);
    }
  query_plan_clear (&plan);
  return run_select (t, call, "query_omop_table", request.limit, select_table, &request);
}

/* ---- Select_Query ---- */

static int
select_text (db *conn, void *userdata, size_t max_rows, struct db_rows *rows, omcp_error *err)
{
  return db_select (conn, userdata, NULL, 0, max_rows, rows, err);
}

static json_t *
tool_select_query (mcp_call *call, json_t *args, void *userdata)
{
  struct data_tools *t = userdata;
  json_t *query = json_object_get (args, "query");

  /* The policy and the database read a C string: text after a NUL would
   * be checked by neither. */
  if (strlen (json_string_value (query)) != json_string_length (query))
    return failure (SQL_POLICY_REFUSAL " (the query contains a NUL character)");
  /* Select_Query's row cap is the server's maximum. */
  return run_select (t, call, "Select_Query", t->settings->max_rows, select_text,
                     (void *) json_string_value (query));
}

/* ---- Get_information_Schema ---- */

static json_t *
tool_get_information_schema (mcp_call *call, json_t *args, void *userdata)
{
  struct data_tools *t = userdata;
  struct audit audit;
  omcp_error err;
  int64_t started = now_monotonic_ms ();
  json_t *schemas = NULL, *rows, *schema, *table, *result;
  size_t i, j;
  db *conn;
  int ret;

  (void) args;
  audit_start (&audit, t, 0);
  conn = acquire_connection (t, &err);
  if (conn == NULL)
    ret = -1;
  else
    {
      ret = db_list_tables (conn, &schemas, &err);
      release_connection (t, ret < 0 ? &err : NULL);
    }
  if (ret < 0)
    {
      result = failure (err.message);
      json_object_set_new (result, "audit", audit_finish (&audit, "Get_information_Schema", call,
                                                          conn ? failure_kind (&err)
                                                               : "unavailable", started));
      return result;
    }

  /* Also as rows of (table_schema, table_name), the shape of
   * information_schema.tables. */
  rows = json_array ();
  json_array_foreach (schemas, i, schema)
    json_array_foreach (json_object_get (schema, "tables"), j, table)
      json_array_append_new (rows, json_pack ("[O, O]", json_object_get (schema, "schema"), table));

  audit.rows_returned = json_array_size (rows);
  audit.row_limit = (int64_t) audit.rows_returned;
  result = json_pack ("{s:b, s:o, s:[s, s], s:o, s:I, s:b}", "success", 1, "schemas", schemas,
                      "columns", "table_schema", "table_name", "rows", rows, "count",
                      (json_int_t) audit.rows_returned, "truncated", 0);
  json_object_set_new (result, "audit", audit_finish (&audit, "Get_information_Schema", call, "ok",
                                                      started));
  return result;
}

/* ---- describe_table ---- */

static json_t *
tool_describe_table (mcp_call *call, json_t *args, void *userdata)
{
  struct data_tools *t = userdata;
  const struct cdm_table *table;
  struct audit audit;
  omcp_error err;
  int64_t started = now_monotonic_ms ();
  int64_t row_count = 0;
  json_t *columns = NULL, *result;
  db *conn;
  int ret;

  table = query_find_table (json_string_value (json_object_get (args, "table_name")), &err);
  if (table == NULL)
    return failure (err.message);

  audit_start (&audit, t, 0);
  conn = acquire_connection (t, &err);
  if (conn == NULL)
    ret = -1;
  else
    {
      ret = db_describe_table (conn, table->name, &columns, &row_count, &err);
      release_connection (t, ret < 0 ? &err : NULL);
    }
  if (ret < 0)
    {
      result = failure (err.message);
      json_object_set_new (result, "audit", audit_finish (&audit, "describe_table", call,
                                                          conn ? failure_kind (&err)
                                                               : "unavailable", started));
      return result;
    }

  audit.rows_returned = json_array_size (columns);
  audit.row_limit = (int64_t) audit.rows_returned;
  result = json_pack ("{s:b, s:s, s:s, s:o, s:I, s:I}", "success", 1, "table_name", table->name,
                      "schema", DB_CDM_SCHEMA, "columns", columns, "count",
                      (json_int_t) audit.rows_returned, "row_count", (json_int_t) row_count);
  json_object_set_new (result, "audit", audit_finish (&audit, "describe_table", call, "ok",
                                                      started));
  return result;
}

/* ---- registration ---- */

static json_t *
input_schema (json_t *properties, json_t *required)
{
  return json_pack ("{s:s, s:o, s:o, s:b}", "type", "object", "properties", properties, "required",
                    required ? required : json_array (), "additionalProperties", 0);
}

static json_t *
audit_schema (void)
{
  return json_pack ("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}", "type",
                    "object", "properties", "query_id", "type", "string", "executed_at", "type",
                    "string", "backend", "type", "string", "row_limit", "type", "integer",
                    "rows_returned", "type", "integer", "truncated", "type", "boolean");
}

/* Output of the tools that return rows. */
static json_t *
rows_output_schema (void)
{
  return json_pack ("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s, s:{s:s}}, s:{s:s, s:{s:s}}, s:{s:s}, "
                    "s:{s:s}, s:o}, s:[s]}",
                    "type", "object", "properties", "success", "type", "boolean", "error", "type",
                    "string", "columns", "type", "array", "items", "type", "string", "rows",
                    "type", "array", "items", "type", "array", "count", "type", "integer",
                    "truncated", "type", "boolean", "audit", audit_schema (), "required",
                    "success");
}

void
tools_register_data (mcp_server *server, const struct data_tools_settings *settings)
{
  char limit_description[256];
  char query_description[512];

  data_state.settings = settings;
  snprintf (limit_description, sizeof limit_description,
            "Maximum rows to return, clamped to [1, %lld]; default %lld. A value that is not a "
            "number uses the default.",
            (long long) settings->max_rows, (long long) settings->default_limit);
  snprintf (query_description, sizeof query_description,
            "Run one read-only SELECT (or WITH ... SELECT) on the OMOP CDM database and return "
            "at most %lld rows. CDM tables are named omop_cdm.<table>. Comments, several "
            "statements, writes, locking clauses and functions that read files or change state "
            "are rejected.",
            (long long) settings->max_rows);

  mcp_server_add_tool (server, &(struct mcp_tool) {
    .name = "query_omop_table",
    .title = "Query OMOP table",
    .description =
      "Read rows of one OMOP CDM v5.4 table without writing SQL. filters maps a column to a "
      "value (equality) or to one operator: {\"eq\"|\"ne\"|\"lt\"|\"le\"|\"gt\"|\"ge\": v}, "
      "{\"in\": [v, ...]}, {\"like\": \"pattern\"}, {\"between\": [low, high]}, "
      "{\"is_null\": true|false}. Values are bound as parameters. The result says whether more "
      "rows exist (truncated).",
    .input_schema = input_schema (
      json_pack ("{s:{s:s, s:s}, s:{s:[s, s, s, s], s:s}, s:{s:[s, s], s:{s:s}, s:s}, "
                 "s:{s:[s, s], s:s}, s:{s:[s, s], s:s}}",
                 "table_name", "type", "string", "description",
                 "CDM table, such as person or condition_occurrence",
                 "limit", "type", "integer", "number", "string", "null", "description",
                 limit_description,
                 "columns", "type", "array", "null", "items", "type", "string", "description",
                 "Columns to return; all when omitted",
                 "filters", "type", "object", "null", "description",
                 "Column to value, or column to {operator: value}",
                 "where", "type", "string", "null", "description",
                 "Raw SQL condition; rejected unless the server sets ALLOW_UNSAFE_SQL=true"),
      json_pack ("[s]", "table_name")),
    .output_schema = rows_output_schema (),
    .read_only = true, .idempotent = true,
    .fn = tool_query_omop_table, .userdata = &data_state,
  });

  mcp_server_add_tool (server, &(struct mcp_tool) {
    .name = "Select_Query",
    .title = "Run a SELECT query",
    .description = query_description,
    .input_schema = input_schema (json_pack ("{s:{s:s, s:s}}", "query", "type", "string",
                                             "description", "One SELECT statement"),
                                  json_pack ("[s]", "query")),
    .output_schema = rows_output_schema (),
    .read_only = true, .idempotent = true,
    .fn = tool_select_query, .userdata = &data_state,
  });

  mcp_server_add_tool (server, &(struct mcp_tool) {
    .name = "Get_information_Schema",
    .title = "List schemas and tables",
    .description = "List the schemas and tables of the OMOP CDM database, grouped in schemas "
                   "and as (table_schema, table_name) rows.",
    .input_schema = input_schema (json_object (), NULL),
    .output_schema = rows_output_schema (),
    .read_only = true, .idempotent = true,
    .fn = tool_get_information_schema, .userdata = &data_state,
  });

  mcp_server_add_tool (server, &(struct mcp_tool) {
    .name = "describe_table",
    .title = "Describe a table",
    .description = "List the columns of one OMOP CDM table with their database types and "
                   "whether they accept NULL, and count its rows.",
    .input_schema = input_schema (json_pack ("{s:{s:s, s:s}}", "table_name", "type", "string",
                                             "description", "CDM table, such as person"),
                                  json_pack ("[s]", "table_name")),
    .output_schema = json_pack ("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, "
                                "s:o}, s:[s]}",
                                "type", "object", "properties", "success", "type", "boolean",
                                "error", "type", "string", "table_name", "type", "string",
                                "columns", "type", "array", "count", "type", "integer",
                                "row_count", "type", "integer", "audit", audit_schema (),
                                "required", "success"),
    .read_only = true, .idempotent = true,
    .fn = tool_describe_table, .userdata = &data_state,
  });
}
