/* Administration tools, listed only with OMCP_ADMIN_TOOLS=true: create the
 * CDM tables and load OMOP CSV files. Each call opens its own writable
 * connection and closes it before returning, so the read-only connection
 * of the query tools is never writable. */
#include <string.h>

#include "cdm.h"
#include "load.h"
#include "log.h"
#include "tools.h"

/* Rejected rows returned in one result; the rest are counted. */
#define MAX_RESULT_REJECTS 100

struct admin_tools
{
  const struct db_config *config;
};

static struct admin_tools admin_state;

static json_t *
admin_failure (const char *message)
{
  return json_pack ("{s:b, s:s}", "success", 0, "error", message);
}

static json_t *
tool_create_omop_schema (mcp_call *call, json_t *args, void *userdata)
{
  struct admin_tools *t = userdata;
  db *conn = NULL;
  omcp_error err;
  char message[128];

  (void) args;
  if (db_open (t->config, false, &conn, &err) < 0 || cdm_create_schema (conn, &err) < 0)
    {
      log_warning ("tools", "create_omop_schema failed request=%s error=\"%s\"",
                   mcp_call_request_id (call), err.message);
      db_close (conn);
      return admin_failure (err.message);
    }
  db_close (conn);
  log_info ("tools", "create_omop_schema request=%s backend=%s", mcp_call_request_id (call),
            db_backend_name (t->config->backend));
  snprintf (message, sizeof message, "The %zu OMOP CDM v5.4 tables exist", cdm_n_tables);
  return json_pack ("{s:b, s:s, s:s, s:I}", "success", 1, "message", message, "backend",
                    db_backend_name (t->config->backend), "tables", (json_int_t) cdm_n_tables);
}

/* Collects what load_omop_csv reports while it runs. */
struct load_state
{
  mcp_call *call;
  json_t *rejected;
  int64_t rows_done;       /* rows of the tables already finished */
  int64_t rejects_seen;
};

static void
on_load_progress (void *userdata, const char *table, int64_t rows, double elapsed_s, bool done)
{
  struct load_state *s = userdata;
  char message[128];

  snprintf (message, sizeof message, "%s: %lld rows (%.0f rows/s)%s", table, (long long) rows,
            elapsed_s > 0 ? (double) rows / elapsed_s : 0.0, done ? ", done" : "");
  mcp_call_progress (s->call, (double) (s->rows_done + rows), -1, message);
  if (done)
    s->rows_done += rows;
}

static void
on_load_reject (void *userdata, const char *file, int64_t line, const char *reason)
{
  struct load_state *s = userdata;

  s->rejects_seen++;
  if (json_array_size (s->rejected) < MAX_RESULT_REJECTS)
    json_array_append_new (s->rejected, json_pack ("{s:s, s:I, s:s}", "file", file, "line",
                                                   (json_int_t) line, "reason", reason));
}

static json_t *
tool_load_omop_csv (mcp_call *call, json_t *args, void *userdata)
{
  struct admin_tools *t = userdata;
  const char *path = json_string_value (json_object_get (args, "path"));
  struct load_state state = { .call = call, .rejected = json_array () };
  struct load_callbacks callbacks = {
    .on_progress = on_load_progress,
    .on_reject = on_load_reject,
    .userdata = &state,
  };
  struct load_summary summary;
  db *conn = NULL;
  omcp_error err;
  json_t *result;
  int ret;

  if (path == NULL || path[0] == '\0')
    {
      json_decref (state.rejected);
      mcp_call_invalid_params (call, "Missing required argument 'path'");
      return NULL;
    }
  if (db_open (t->config, false, &conn, &err) < 0)
    {
      json_decref (state.rejected);
      return admin_failure (err.message);
    }
  /* NOTE: a load runs to its end even when the client cancels the call;
   * each table is one transaction, so stopping halfway would gain little. */
  ret = cdm_load_path (conn, path, &callbacks, &summary, &err);
  db_close (conn);

  log_info ("tools",
            "load_omop_csv request=%s rows=%lld rejected=%lld files=%zu failed=%zu ms=%.0f",
            mcp_call_request_id (call), (long long) summary.rows_loaded,
            (long long) summary.rows_rejected, summary.files_loaded, summary.files_failed,
            summary.seconds * 1000);
  result = json_pack ("{s:b, s:I, s:I, s:I, s:I, s:f, s:O, s:o, s:b}", "success", ret == 0,
                      "rows_loaded", (json_int_t) summary.rows_loaded, "rows_rejected",
                      (json_int_t) summary.rows_rejected, "files_loaded",
                      (json_int_t) summary.files_loaded, "files_failed",
                      (json_int_t) summary.files_failed, "seconds", summary.seconds, "tables",
                      summary.tables, "rejected", state.rejected, "rejected_truncated",
                      state.rejects_seen > MAX_RESULT_REJECTS);
  if (ret < 0)
    json_object_set_new (result, "error", json_string (err.message));
  load_summary_clear (&summary);
  return result;
}

void
tools_register_admin (mcp_server *server, const struct db_config *config)
{
  admin_state.config = config;

  mcp_server_add_tool (server, &(struct mcp_tool) {
    .name = "create_omop_schema",
    .title = "Create OMOP CDM tables",
    .description = "Create every OMOP CDM v5.4 table that does not exist yet in the configured "
                   "database, with primary keys and indexes on person and concept columns. "
                   "Existing tables and rows are kept.",
    .input_schema = json_pack ("{s:s, s:{}, s:b}", "type", "object", "properties",
                               "additionalProperties", 0),
    .output_schema = json_pack ("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}, s:[s]}",
                                "type", "object", "properties", "success", "type", "boolean",
                                "message", "type", "string", "backend", "type", "string",
                                "tables", "type", "integer", "error", "type", "string",
                                "required", "success"),
    .idempotent = true,
    .fn = tool_create_omop_schema, .userdata = &admin_state,
  });

  mcp_server_add_tool (server, &(struct mcp_tool) {
    .name = "load_omop_csv",
    .title = "Load OMOP CSV files",
    .description =
      "Load OMOP CDM CSV files from a directory, a .zip or one .csv file on the server, one file "
      "per table named after it (any case). Each file replaces its table's rows in one "
      "transaction; a file with any invalid row loads nothing. Returns per-table counts and the "
      "rejected rows with file, line and reason.",
    .input_schema = json_pack ("{s:s, s:{s:{s:s, s:s}}, s:[s], s:b}", "type", "object",
                               "properties", "path", "type", "string", "description",
                               "Directory, .zip or .csv file on the server's file system",
                               "required", "path", "additionalProperties", 0),
    .output_schema = json_pack (
      "{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, "
      "s:{s:s}}, s:[s]}",
      "type", "object", "properties", "success", "type", "boolean", "rows_loaded", "type",
      "integer", "rows_rejected", "type", "integer", "files_loaded", "type", "integer",
      "files_failed", "type", "integer", "seconds", "type", "number", "tables", "type", "array",
      "rejected", "type", "array", "rejected_truncated", "type", "boolean", "error", "type",
      "string", "required", "success"),
    .destructive = true, .idempotent = true,
    .fn = tool_load_omop_csv, .userdata = &admin_state,
  });
}
