/* Tools that create, list, remove and use sandboxes. Names, arguments and
 * result fields match the Python server that agents already know. */
#include <ctype.h>
#include <string.h>

#include "log.h"
#include "packages.h"
#include "tools.h"

/* Exit code of an execution refused because the sandbox is busy
 * (EX_TEMPFAIL in sysexits.h). */
#define EXIT_BUSY 75

/* Largest idle timeout a client may ask for, one week. */
#define MAX_IDLE_TIMEOUT_S (7 * 24 * 3600)

struct sandbox_tools
{
  sandbox_pool *pool;
  const struct tools_settings *settings;
};

static struct sandbox_tools tools_state;

static json_t *
failure (const char *fmt, ...) OMCP_PRINTF (1, 2);

static json_t *
failure (const char *fmt, ...)
{
  char message[1024];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (message, sizeof message, fmt, ap);
  va_end (ap);
  return json_pack ("{s:b, s:s}", "success", 0, "error", message);
}

static json_t *
sandbox_info_json (const struct sandbox_info *info)
{
  char created[40], used[40];

  format_iso8601_utc (info->created_wall_ms, created, sizeof created);
  format_iso8601_utc (info->last_used_wall_ms, used, sizeof used);
  return json_pack ("{s:s, s:s, s:s}", "id", info->id, "created_at", created, "last_used", used);
}

/* Read an optional integer argument; NULL or JSON null means "absent". */
static bool
optional_integer (json_t *args, const char *name, json_int_t *out)
{
  json_t *v = json_object_get (args, name);

  if (v == NULL || json_is_null (v))
    return false;
  *out = json_integer_value (v);
  return true;
}

/* ---- ping ---- */

static json_t *
tool_ping (mcp_call *call, json_t *args, void *userdata)
{
  (void) call, (void) args, (void) userdata;
  return json_pack ("{s:b, s:s}", "success", 1, "result", "pong");
}

/* ---- create_sandbox ---- */

static json_t *
tool_create_sandbox (mcp_call *call, json_t *args, void *userdata)
{
  struct sandbox_tools *t = userdata;
  struct sandbox_info info;
  json_int_t timeout_s = 0;
  omcp_error err;
  char created[40], used[40];
  int64_t start = now_monotonic_ms ();

  /* The schema bounds the value, so the product cannot overflow. */
  optional_integer (args, "timeout", &timeout_s);
  if (sandbox_pool_create (t->pool, timeout_s * 1000, &info, &err) < 0)
    {
      log_warning ("tools", "create_sandbox failed request=%s error=\"%s\"",
                   mcp_call_request_id (call), err.message);
      return failure ("%s", err.message);
    }
  log_info ("tools", "create_sandbox request=%s sandbox=%s ms=%lld", mcp_call_request_id (call),
            info.id, (long long) (now_monotonic_ms () - start));
  format_iso8601_utc (info.created_wall_ms, created, sizeof created);
  format_iso8601_utc (info.last_used_wall_ms, used, sizeof used);
  return json_pack ("{s:b, s:s, s:s, s:s}", "success", 1, "sandbox_id", info.id, "created_at",
                    created, "last_used", used);
}

/* ---- list_sandboxes ---- */

static json_t *
tool_list_sandboxes (mcp_call *call, json_t *args, void *userdata)
{
  struct sandbox_tools *t = userdata;
  cleanup_free struct sandbox_info *list = NULL;
  json_t *array = json_array ();
  bool include_inactive = json_is_true (json_object_get (args, "include_inactive"));
  size_t n, i;

  (void) call;
  n = sandbox_pool_list (t->pool, include_inactive, &list);
  for (i = 0; i < n; i++)
    json_array_append_new (array, sandbox_info_json (&list[i]));
  return json_pack ("{s:b, s:o, s:I}", "success", 1, "sandboxes", array, "count", (json_int_t) n);
}

/* ---- remove_sandbox ---- */

static json_t *
tool_remove_sandbox (mcp_call *call, json_t *args, void *userdata)
{
  struct sandbox_tools *t = userdata;
  const char *id = json_string_value (json_object_get (args, "sandbox_id"));
  bool force = json_is_true (json_object_get (args, "force"));
  omcp_error err;

  if (sandbox_pool_remove (t->pool, id, force, &err) < 0)
    {
      log_info ("tools", "remove_sandbox rejected request=%s sandbox=%s reason=\"%s\"",
                mcp_call_request_id (call), id, err.message);
      return failure ("%s", err.message);
    }
  {
    char message[128];

    snprintf (message, sizeof message, "Sandbox %s removed successfully", id);
    return json_pack ("{s:b, s:s}", "success", 1, "message", message);
  }
}

/* ---- execute_python_code ---- */

static void
report_progress (void *userdata, int64_t elapsed_ms)
{
  mcp_call *call = userdata;
  char message[64];

  snprintf (message, sizeof message, "running for %lld s", (long long) (elapsed_ms / 1000));
  mcp_call_progress (call, (double) elapsed_ms / 1000.0, -1, message);
}

static bool
is_blank (const char *s)
{
  for (; *s; s++)
    if (!isspace ((unsigned char) *s))
      return false;
  return true;
}

static json_t *
execution_result (const struct sandbox_exec_result *r, bool success)
{
  cleanup_free char *out = NULL, *err = NULL, *err_full = NULL;
  size_t out_len, err_len;

  out = utf8_sanitize (r->out, r->out_len, &out_len);
  err = utf8_sanitize (r->err, r->err_len, &err_len);
  if (r->message[0])
    {
      err_full = xasprintf ("%s%s%s", err, err_len && err[err_len - 1] != '\n' ? "\n" : "",
                            r->message);
      err_len = strlen (err_full);
    }
  return json_pack ("{s:b, s:s%, s:s%, s:i, s:b, s:b, s:b, s:I}", "success", success, "output",
                    out, out_len, "error", err_full ? err_full : err, err_len, "exit_code",
                    r->exit_code, "timed_out", r->timed_out, "output_truncated",
                    r->output_truncated, "sandbox_destroyed", r->sandbox_destroyed, "duration_ms",
                    (json_int_t) r->duration_ms);
}

static json_t *
execution_failure (int exit_code, bool destroyed, const char *message)
{
  return json_pack ("{s:b, s:s, s:s, s:i, s:b, s:b, s:b, s:i}", "success", 0, "output", "",
                    "error", message, "exit_code", exit_code, "timed_out", 0, "output_truncated", 0,
                    "sandbox_destroyed", destroyed, "duration_ms", 0);
}

/* Read the code and the deadline shared by execute_python_code and
 * run_python_code. Returns false with *REPLY set (NULL after an
 * invalid-params error) when the call cannot run. */
static bool
execution_arguments (mcp_call *call, json_t *args, const struct tools_settings *s,
                     json_t **code, int64_t *timeout_ms, json_t **reply)
{
  json_t *code_json = json_object_get (args, "code");
  json_int_t timeout_s;

  if (code_json == NULL || json_is_null (code_json))
    code_json = json_object_get (args, "python_code");
  if (!json_is_string (code_json))
    {
      mcp_call_invalid_params (call, "Missing required argument 'code' (or 'python_code')");
      *reply = NULL;
      return false;
    }
  if (is_blank (json_string_value (code_json)))
    {
      *reply = execution_failure (1, false, "Python code must be a non-empty string");
      return false;
    }

  *timeout_ms = s->default_timeout_ms;
  if (optional_integer (args, "timeout", &timeout_s))
    {
      /* Clamp to [1 s, EXECUTION_MAX_TIMEOUT]. */
      if (timeout_s < 1)
        timeout_s = 1;
      if (timeout_s > s->max_timeout_ms / 1000)
        timeout_s = s->max_timeout_ms / 1000;
      *timeout_ms = timeout_s * 1000;
    }
  *code = code_json;
  return true;
}

/* Run the static code check unless CODE_VALIDATION=off. Returns NULL when
 * the code may run, else the result to send. Only the server's settings
 * decide whether it runs: no argument of a call can skip it. */
static json_t *
check_code (mcp_call *call, const struct tools_settings *s, const char *tool, json_t *code)
{
  char reason[512];

  if (s->validator == NULL)
    return NULL;
  if (code_validator_check (s->validator, json_string_value (code), json_string_length (code),
                            reason, sizeof reason))
    return NULL;
  log_info ("tools", "%s rejected by code validation request=%s code_bytes=%zu", tool,
            mcp_call_request_id (call), json_string_length (code));
  return execution_failure (1, false, reason);
}

static json_t *
tool_execute_python_code (mcp_call *call, json_t *args, void *userdata)
{
  struct sandbox_tools *t = userdata;
  const struct tools_settings *s = t->settings;
  const char *id = json_string_value (json_object_get (args, "sandbox_id"));
  json_t *code_json;
  struct sandbox_exec_result result;
  int64_t timeout_ms;
  sandbox *sb;
  omcp_error err;
  json_t *reply;
  int ret;

  if (!execution_arguments (call, args, s, &code_json, &timeout_ms, &reply))
    return reply;
  reply = check_code (call, s, "execute_python_code", code_json);
  if (reply)
    return reply;

  sb = sandbox_pool_acquire (t->pool, id, &err);
  if (sb == NULL)
    return execution_failure (1, false, err.message);

  ret = python_execute (sb, s, json_string_value (code_json), json_string_length (code_json),
                        timeout_ms, mcp_call_cancel_fd (call), report_progress, call,
                        mcp_call_request_id (call), &result, &err);
  sandbox_pool_release (t->pool, sb);
  if (ret < 0)
    {
      if (err.errnum == EBUSY)
        return execution_failure (EXIT_BUSY, false, err.message);
      log_warning ("tools", "execute_python_code failed request=%s sandbox=%s error=\"%s\"",
                   mcp_call_request_id (call), id, err.message);
      return execution_failure (1, err.errnum == ESRCH, err.message);
    }

  log_info ("tools",
            "execute_python_code request=%s sandbox=%s exit_code=%d timed_out=%d truncated=%d "
            "destroyed=%d output_bytes=%zu ms=%lld",
            mcp_call_request_id (call), id, result.exit_code, result.timed_out,
            result.output_truncated, result.sandbox_destroyed, result.out_len + result.err_len,
            (long long) result.duration_ms);
  reply = execution_result (&result, result.exit_code == 0 && !result.sandbox_destroyed);
  sandbox_exec_result_clear (&result);
  return reply;
}

/* ---- run_python_code ---- */

static json_t *
tool_run_python_code (mcp_call *call, json_t *args, void *userdata)
{
  struct sandbox_tools *t = userdata;
  const struct tools_settings *s = t->settings;
  struct sandbox_exec_result result;
  json_t *code_json, *reply;
  int64_t timeout_ms;
  omcp_error err;

  if (!s->allow_local_execution)
    return failure ("Local execution is disabled. Set OMCP_ALLOW_LOCAL_EXECUTION=true to "
                    "enable.");
  if (!execution_arguments (call, args, s, &code_json, &timeout_ms, &reply))
    return reply;
  reply = check_code (call, s, "run_python_code", code_json);
  if (reply)
    return reply;

  log_warning ("tools", "run_python_code runs code on the host without a sandbox request=%s "
               "code_bytes=%zu", mcp_call_request_id (call), json_string_length (code_json));
  if (python_execute_local (s, json_string_value (code_json), json_string_length (code_json),
                            timeout_ms, mcp_call_cancel_fd (call), report_progress, call,
                            mcp_call_request_id (call), &result, &err) < 0)
    {
      log_warning ("tools", "run_python_code failed request=%s error=\"%s\"",
                   mcp_call_request_id (call), err.message);
      return execution_failure (1, false, err.message);
    }
  log_info ("tools", "run_python_code request=%s exit_code=%d timed_out=%d truncated=%d "
            "output_bytes=%zu ms=%lld", mcp_call_request_id (call), result.exit_code,
            result.timed_out, result.output_truncated, result.out_len + result.err_len,
            (long long) result.duration_ms);
  reply = execution_result (&result, result.exit_code == 0);
  sandbox_exec_result_clear (&result);
  return reply;
}

/* ---- install_package ---- */

/* The deadline of an installation: the call's "timeout" clamped to [1 s,
 * EXECUTION_MAX_TIMEOUT], or EXECUTION_DEFAULT_TIMEOUT, as for an
 * execution. */
static int64_t
requested_timeout_ms (json_t *args, const struct tools_settings *s)
{
  json_int_t timeout_s;

  if (!optional_integer (args, "timeout", &timeout_s))
    return s->default_timeout_ms;
  if (timeout_s < 1)
    timeout_s = 1;
  if (timeout_s > s->max_timeout_ms / 1000)
    timeout_s = s->max_timeout_ms / 1000;
  return timeout_s * 1000;
}

static json_t *
install_result_json (const struct package_install_result *r)
{
  cleanup_free char *message = NULL, *output = NULL;
  size_t message_len, output_len;

  /* pip's text may be cut anywhere, and JSON strings must be UTF-8. */
  message = utf8_sanitize (r->message, strlen (r->message), &message_len);
  output = utf8_sanitize (r->output ? r->output : "", r->output ? strlen (r->output) : 0,
                          &output_len);
  return json_pack ("{s:b, s:s%, s:s%, s:i, s:b, s:I}", "success", r->installed,
                    r->installed ? "message" : "error", message, message_len, "output", output,
                    output_len, "exit_code", r->exit_code, "sandbox_destroyed",
                    r->sandbox_destroyed, "duration_ms", (json_int_t) r->duration_ms);
}

static json_t *
tool_install_package (mcp_call *call, json_t *args, void *userdata)
{
  struct sandbox_tools *t = userdata;
  const struct tools_settings *s = t->settings;
  const char *id = json_string_value (json_object_get (args, "sandbox_id"));
  const char *requirement = json_string_value (json_object_get (args, "package"));
  struct package_install_result result;
  struct package_pin pin;
  sandbox *sb;
  omcp_error err;
  json_t *reply;
  int ret;

  if (!s->package_install_enabled)
    {
      log_info ("tools", "install_package rejected request=%s reason=\"disabled by policy\"",
                mcp_call_request_id (call));
      return failure ("Package installation is disabled by policy");
    }
  if (package_requirement_check (requirement, s->package_allowlist, &pin, &err) < 0)
    {
      log_info ("tools", "install_package rejected request=%s sandbox=%s reason=\"%s\"",
                mcp_call_request_id (call), id, err.errnum == EPERM ? "not allowed" : "invalid");
      return failure ("%s", err.message);
    }

  sb = sandbox_pool_acquire (t->pool, id, &err);
  if (sb == NULL)
    return failure ("%s", err.message);
  ret = package_install (sb, &(struct package_install_request) {
                           .python = s->python,
                           .pin = &pin,
                           .exec_id = mcp_call_request_id (call),
                           .timeout_ms = requested_timeout_ms (args, s),
                           .max_output_bytes = s->max_output_bytes,
                           .cancel_fd = mcp_call_cancel_fd (call),
                           .on_progress = report_progress,
                           .progress_userdata = call,
                         },
                         &result, &err);
  sandbox_pool_release (t->pool, sb);
  if (ret < 0)
    {
      if (err.errnum != EBUSY)
        log_warning ("tools", "install_package failed request=%s sandbox=%s error=\"%s\"",
                     mcp_call_request_id (call), id, err.message);
      return failure ("%s", err.message);
    }

  log_info ("tools", "install_package request=%s sandbox=%s package=%s==%s installed=%d "
            "exit_code=%d destroyed=%d ms=%lld", mcp_call_request_id (call), id, pin.name,
            pin.version, result.installed, result.exit_code, result.sandbox_destroyed,
            (long long) result.duration_ms);
  reply = install_result_json (&result);
  package_install_result_clear (&result);
  return reply;
}

/* ---- registration ---- */

static json_t *
schema_object (json_t *properties, json_t *required)
{
  return json_pack ("{s:s, s:o, s:o, s:b}", "type", "object", "properties", properties, "required",
                    required ? required : json_array (), "additionalProperties", 0);
}

static json_t *
execution_output_schema (void)
{
  return schema_object (
    json_pack ("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}",
               "success", "type", "boolean", "output", "type", "string", "error", "type", "string",
               "exit_code", "type", "integer", "timed_out", "type", "boolean", "output_truncated",
               "type", "boolean", "sandbox_destroyed", "type", "boolean", "duration_ms", "type",
               "integer"),
    json_pack ("[s]", "success"));
}

void
tools_register_sandbox (mcp_server *server, sandbox_pool *pool, const struct tools_settings *settings)
{
  json_t *sandbox_id = json_pack ("{s:s, s:s}", "type", "string", "description",
                                  "Id returned by create_sandbox");

  tools_state.pool = pool;
  tools_state.settings = settings;

  mcp_server_add_tool (server, &(struct mcp_tool) {
    .name = "ping",
    .title = "Ping",
    .description = "Check that the server responds. Returns \"pong\".",
    .input_schema = schema_object (json_object (), NULL),
    .output_schema = json_pack ("{s:s, s:{s:{s:s}, s:{s:s}}, s:[s]}", "type", "object",
                                "properties", "success", "type", "boolean", "result", "type",
                                "string", "required", "success"),
    .read_only = true, .idempotent = true,
    .fn = tool_ping, .userdata = &tools_state,
  });

  mcp_server_add_tool (server, &(struct mcp_tool) {
    .name = "create_sandbox",
    .title = "Create sandbox",
    .description =
      "Create an isolated Python sandbox (no network, read-only system, 512 MiB memory, "
      "50 processes, half a CPU). Files written to /sandbox persist between executions in the "
      "same sandbox. Returns sandbox_id for the other tools.",
    .input_schema = schema_object (
      json_pack ("{s:{s:[s, s], s:i, s:i, s:s}}", "timeout", "type", "integer", "null", "minimum", 1,
                 "maximum", MAX_IDLE_TIMEOUT_S, "description",
                 "Seconds without use after which the sandbox is removed"),
      NULL),
    .output_schema = json_pack (
      "{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}, s:[s]}", "type", "object",
      "properties", "success", "type", "boolean", "sandbox_id", "type", "string", "created_at",
      "type", "string", "last_used", "type", "string", "error", "type", "string", "required",
      "success"),
    .fn = tool_create_sandbox, .userdata = &tools_state,
  });

  mcp_server_add_tool (server, &(struct mcp_tool) {
    .name = "list_sandboxes",
    .title = "List sandboxes",
    .description = "List sandboxes with their creation and last-use times. Inactive sandboxes "
                   "(unused for longer than the idle timeout) only with include_inactive.",
    .input_schema = schema_object (json_pack ("{s:{s:s}}", "include_inactive", "type", "boolean"),
                                   NULL),
    .output_schema = json_pack (
      "{s:s, s:{s:{s:s}, s:{s:s, s:{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}}}}, s:{s:s}, s:{s:s}}, s:[s]}",
      "type", "object", "properties", "success", "type", "boolean", "sandboxes", "type", "array",
      "items", "type", "object", "properties", "id", "type", "string", "created_at", "type",
      "string", "last_used", "type", "string", "count", "type", "integer", "error", "type",
      "string", "required", "success"),
    .read_only = true, .idempotent = true,
    .fn = tool_list_sandboxes, .userdata = &tools_state,
  });

  mcp_server_add_tool (server, &(struct mcp_tool) {
    .name = "remove_sandbox",
    .title = "Remove sandbox",
    .description = "Remove a sandbox, killing its processes and deleting its files. A sandbox "
                   "used recently is only removed with force=true.",
    .input_schema = schema_object (json_pack ("{s:O, s:{s:s}}", "sandbox_id", sandbox_id, "force",
                                              "type", "boolean"),
                                   json_pack ("[s]", "sandbox_id")),
    .output_schema = json_pack ("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}}, s:[s]}", "type", "object",
                                "properties", "success", "type", "boolean", "message", "type",
                                "string", "error", "type", "string", "required", "success"),
    .destructive = true,
    .fn = tool_remove_sandbox, .userdata = &tools_state,
  });

  mcp_server_add_tool (server, &(struct mcp_tool) {
    .name = "execute_python_code",
    .title = "Execute Python code",
    .description =
      "Run Python 3 code in a sandbox and return its stdout, stderr and exit code. pandas, numpy "
      "and matplotlib are available; there is no network. The working directory is /sandbox. "
      "Unless the server sets CODE_VALIDATION=off, code that imports modules such as os, sys or "
      "subprocess, calls eval, exec, open or getattr, or uses attributes such as __class__ is "
      "rejected before it runs, with an error starting 'Security Violation:'.",
    .input_schema = schema_object (
      json_pack ("{s:O, s:{s:s, s:s}, s:{s:s, s:s}, s:{s:[s, s], s:s}}", "sandbox_id", sandbox_id,
                 "code", "type", "string", "description", "Python source to run",
                 "python_code", "type", "string", "description", "Alias of code",
                 "timeout", "type", "integer", "null", "description",
                 "Seconds before the execution is killed (clamped to the server's maximum)"),
      json_pack ("[s]", "sandbox_id")),
    .output_schema = execution_output_schema (),
    /* Code may delete files in the sandbox's /sandbox. */
    .destructive = true,
    .fn = tool_execute_python_code, .userdata = &tools_state,
  });

  mcp_server_add_tool (server, &(struct mcp_tool) {
    .name = "run_python_code",
    .title = "Run Python code without a sandbox",
    .description =
      "Run Python 3 code directly on the server host, WITHOUT a sandbox, in a fresh temporary "
      "directory. Disabled unless the server sets OMCP_ALLOW_LOCAL_EXECUTION=true; prefer "
      "execute_python_code.",
    .input_schema = schema_object (
      json_pack ("{s:{s:s, s:s}, s:{s:s, s:s}, s:{s:[s, s], s:s}}",
                 "code", "type", "string", "description", "Python source to run",
                 "python_code", "type", "string", "description", "Alias of code",
                 "timeout", "type", "integer", "null", "description",
                 "Seconds before the execution is killed (clamped to the server's maximum)"),
      NULL),
    .output_schema = execution_output_schema (),
    .destructive = true,
    .fn = tool_run_python_code, .userdata = &tools_state,
  });

  mcp_server_add_tool (server, &(struct mcp_tool) {
    .name = "install_package",
    .title = "Install package",
    .description =
      "Install one Python package into a sandbox from the server's local wheelhouse, without "
      "network. The package must be one exact pin, name==version, of a name the server allows. "
      "Later executions in the same sandbox can import it. Disabled unless the server sets "
      "PACKAGE_INSTALL_ENABLED=true.",
    .input_schema = schema_object (
      json_pack ("{s:O, s:{s:s, s:s}, s:{s:[s, s], s:s}}", "sandbox_id", sandbox_id, "package",
                 "type", "string", "description", "One exact pin, such as name==1.2.3",
                 "timeout", "type", "integer", "null", "description",
                 "Seconds before the installation is killed (clamped to the server's maximum)"),
      json_pack ("[s, s]", "sandbox_id", "package")),
    .output_schema = json_pack (
      "{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}, s:[s]}", "type",
      "object", "properties", "success", "type", "boolean", "message", "type", "string", "error",
      "type", "string", "output", "type", "string", "exit_code", "type", "integer",
      "sandbox_destroyed", "type", "boolean", "duration_ms", "type", "integer", "required",
      "success"),
    .fn = tool_install_package, .userdata = &tools_state,
  });

  json_decref (sandbox_id);
}
