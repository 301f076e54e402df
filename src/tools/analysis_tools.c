/* analyze_omop_data: runs a trusted analysis, built into the binary, in
 * the caller's sandbox with pandas and the omop module, and returns the
 * JSON document it prints. The script is omcp's own code, so it goes to
 * python_execute directly and not through the checks on agents' code. */
#include <string.h>

#include "analyses.h"
#include "log.h"
#include "tools.h"

/* The analysis types python/analyses.py implements, in its order. */
static const char *const analysis_types[] = {
  "basic", "demographics", "conditions", "drugs", "measurements", "visits",
};

struct analysis_tools
{
  sandbox_pool *pool;
  const struct tools_settings *settings;
};

static struct analysis_tools analysis_state;

static json_t *
analysis_failure (const char *analysis_type, const char *fmt, ...) OMCP_PRINTF (2, 3);

static json_t *
analysis_failure (const char *analysis_type, const char *fmt, ...)
{
  char message[1024];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (message, sizeof message, fmt, ap);
  va_end (ap);
  return json_pack ("{s:b, s:s, s:s}", "success", 0, "analysis_type",
                    analysis_type ? analysis_type : "", "error", message);
}

static bool
known_type (const char *name)
{
  size_t i;

  for (i = 0; i < N_ELEMENTS (analysis_types); i++)
    if (strcmp (analysis_types[i], name) == 0)
      return true;
  return false;
}

static void
list_types (char *buf, size_t size)
{
  size_t i, used = 0;

  buf[0] = '\0';
  for (i = 0; i < N_ELEMENTS (analysis_types) && used < size; i++)
    used += (size_t) snprintf (buf + used, size - used, "%s%s", i ? ", " : "", analysis_types[i]);
}

/* The last non-empty line of TEXT (a traceback ends in the exception and
 * its message), copied into BUF. */
static void
last_line (const char *text, size_t len, char *buf, size_t size)
{
  size_t end = len, start;

  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r' || text[end - 1] == ' '))
    end--;
  start = end;
  while (start > 0 && text[start - 1] != '\n')
    start--;
  if (end - start >= size)
    end = start + size - 1;
  memcpy (buf, text + start, end - start);
  buf[end - start] = '\0';
}

static void
report_progress (void *userdata, int64_t elapsed_ms)
{
  mcp_call *call = userdata;
  char message[64];

  snprintf (message, sizeof message, "analysis running for %lld s",
            (long long) (elapsed_ms / 1000));
  mcp_call_progress (call, (double) elapsed_ms / 1000.0, -1, message);
}

/* Turn what the script printed into the tool result. */
static json_t *
analysis_result (const char *analysis_type, const struct sandbox_exec_result *r)
{
  char line[1024];
  json_t *document, *backend, *reply;
  json_error_t error;
  cleanup_free char *out = NULL, *errs = NULL;
  size_t out_len, err_len, start, end;

  if (r->sandbox_destroyed || r->timed_out || r->output_truncated || r->cancelled)
    return analysis_failure (analysis_type, "%s", r->message);
  if (r->exit_code != 0)
    {
      errs = utf8_sanitize (r->err, r->err_len, &err_len);
      last_line (errs, err_len, line, sizeof line);
      return analysis_failure (analysis_type, "Analysis %s failed: %s", analysis_type,
                               line[0] ? line : r->message);
    }

  /* The script prints one JSON document, on its last line. */
  out = utf8_sanitize (r->out, r->out_len, &out_len);
  end = out_len;
  while (end > 0 && out[end - 1] == '\n')
    end--;
  start = end;
  while (start > 0 && out[start - 1] != '\n')
    start--;
  document = json_loadb (out + start, end - start, 0, &error);
  if (!json_is_object (document))
    {
      json_decref (document);
      return analysis_failure (analysis_type, "Analysis %s printed no JSON document: %s",
                               analysis_type, error.text);
    }
  backend = json_object_get (document, "backend");
  reply = json_pack ("{s:b, s:s, s:O, s:o, s:I}", "success", 1, "analysis_type", analysis_type,
                     "backend", backend ? backend : json_null (), "result", document,
                     "duration_ms", (json_int_t) r->duration_ms);
  return reply;
}

static json_t *
tool_analyze_omop_data (mcp_call *call, json_t *args, void *userdata)
{
  struct analysis_tools *t = userdata;
  const char *id = json_string_value (json_object_get (args, "sandbox_id"));
  json_t *type_json = json_object_get (args, "analysis_type");
  const char *analysis_type = "basic";
  struct sandbox_exec_result result;
  cleanup_free char *code = NULL;
  char valid[256];
  sandbox *sb;
  omcp_error err;
  json_t *reply;
  int ret;

  if (type_json && !json_is_null (type_json))
    analysis_type = json_string_value (type_json);
  if (analysis_type == NULL || !known_type (analysis_type))
    {
      log_info ("tools", "analyze_omop_data rejected request=%s reason=\"unknown analysis type\"",
                mcp_call_request_id (call));
      list_types (valid, sizeof valid);
      return analysis_failure (analysis_type, "Unknown analysis_type '%s'. Valid types: %s",
                               analysis_type ? analysis_type : "", valid);
    }

  /* The type is one of the fixed names above, so it is safe in the text. */
  code = xasprintf ("%s\nmain(\"%s\")\n", python_analyses_source, analysis_type);

  sb = sandbox_pool_acquire (t->pool, id, &err);
  if (sb == NULL)
    {
      log_info ("tools", "analyze_omop_data rejected request=%s sandbox=%s reason=\"%s\"",
                mcp_call_request_id (call), id, err.message);
      return analysis_failure (analysis_type, "%s", err.message);
    }
  ret = python_execute (sb, t->settings, code, strlen (code), t->settings->default_timeout_ms,
                        mcp_call_cancel_fd (call), report_progress, call,
                        mcp_call_request_id (call), &result, &err);
  sandbox_pool_release (t->pool, sb);
  if (ret < 0)
    {
      log_warning ("tools", "analyze_omop_data failed request=%s sandbox=%s error=\"%s\"",
                   mcp_call_request_id (call), id, err.message);
      return analysis_failure (analysis_type, "%s", err.message);
    }

  log_info ("tools", "analyze_omop_data request=%s sandbox=%s type=%s exit_code=%d "
            "output_bytes=%zu ms=%lld", mcp_call_request_id (call), id, analysis_type,
            result.exit_code, result.out_len + result.err_len, (long long) result.duration_ms);
  reply = analysis_result (analysis_type, &result);
  sandbox_exec_result_clear (&result);
  return reply;
}

void
tools_register_analysis (mcp_server *server, sandbox_pool *pool,
                         const struct tools_settings *settings)
{
  char description[1024], valid[256];

  analysis_state.pool = pool;
  analysis_state.settings = settings;
  list_types (valid, sizeof valid);
  snprintf (description, sizeof description,
            "Run a built-in analysis of the OMOP CDM in a sandbox and return its result as JSON. "
            "analysis_type is one of: %s. basic counts the rows of every CDM table; "
            "demographics counts persons by gender, decade of birth, race and ethnicity; the "
            "others list the 20 concepts with the most persons, with their names.", valid);

  mcp_server_add_tool (server, &(struct mcp_tool) {
    .name = "analyze_omop_data",
    .title = "Analyze OMOP data",
    .description = description,
    .input_schema = json_pack (
      "{s:s, s:{s:{s:s, s:s}, s:{s:[s, s], s:s}}, s:[s], s:b}", "type", "object", "properties",
      "sandbox_id", "type", "string", "description", "Id returned by create_sandbox",
      "analysis_type", "type", "string", "null", "description",
      "basic (default), demographics, conditions, drugs, measurements or visits", "required",
      "sandbox_id", "additionalProperties", 0),
    .output_schema = json_pack (
      "{s:s, s:{s:{s:s}, s:{s:s}, s:{s:[s, s]}, s:{s:s}, s:{s:s}, s:{s:s}}, s:[s]}", "type",
      "object", "properties", "success", "type", "boolean", "analysis_type", "type", "string",
      "backend", "type", "string", "null", "result", "type", "object", "duration_ms", "type",
      "integer", "error", "type", "string", "required", "success"),
    .read_only = true,
    .fn = tool_analyze_omop_data, .userdata = &analysis_state,
  });
}
