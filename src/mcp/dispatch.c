/* Dispatch of JSON-RPC messages to the MCP methods: lifecycle, ping,
 * tools/list, tools/call, logging/setLevel and notifications. Runs on the
 * serve loop's thread only. */
#include "mcp-internal.h"

#include <string.h>

static json_t * OMCP_PRINTF (3, 4)
error_response (json_t *id, int code, const char *fmt, ...)
{
  char text[512];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (text, sizeof text, fmt, ap);
  va_end (ap);
  return mcp_error_response_new (id, code, text);
}

static json_t *
handle_initialize (mcp_server *server, struct mcp_message *message)
{
  const struct mcp_server_info info = {
    .name = server->name,
    .version = server->version,
    .instructions = server->instructions,
  };
  json_t *requested = json_object_get (message->params, "protocolVersion");
  json_t *client_info = json_object_get (message->params, "clientInfo");
  cleanup_free char *requested_text = NULL;
  cleanup_free char *client_name = NULL;
  const char *version;

  if (server->initialized)
    return error_response (message->id, MCP_INVALID_REQUEST,
                           "Invalid request: initialize was already received; send it once per "
                           "session");

  version = mcp_negotiate_version (requested);
  server->initialized = true;

  requested_text = mcp_json_to_text (requested);
  client_name = mcp_json_to_text (json_object_get (client_info, "name"));
  log_info ("mcp", "client initialized protocol_version=%s requested_version=%s client=%s",
            version, requested_text, client_name);
  return mcp_response_new (message->id, mcp_initialize_result (&info, version));
}

static json_t *
handle_tools_list (mcp_server *server, struct mcp_message *message)
{
  json_t *tools = json_array ();
  json_t *result = json_object ();
  size_t i;

  /* Every tool fits in one page, so "cursor" is accepted and ignored. */
  for (i = 0; i < server->n_tools; i++)
    json_array_append_new (tools, mcp_tool_describe (&server->tools[i]));
  json_object_set_new (result, "tools", tools);
  return mcp_response_new (message->id, result);
}

/* Returns the error response, or NULL when the call started and its thread
 * will send the response. */
static json_t *
handle_tools_call (mcp_server *server, struct mcp_message *message)
{
  json_t *name = json_object_get (message->params, "name");
  json_t *arguments = json_object_get (message->params, "arguments");
  json_t *meta = json_object_get (message->params, "_meta");
  json_t *progress_token = json_object_get (meta, "progressToken");
  const struct mcp_tool *tool;
  json_t *empty_arguments = NULL;
  char text[512];
  int code;

  if (name == NULL)
    return error_response (message->id, MCP_INVALID_PARAMS,
                           "Missing required parameter 'name': give the tool to call");
  if (!json_is_string (name))
    return error_response (message->id, MCP_INVALID_PARAMS,
                           "Invalid parameter 'name': expected string");
  tool = mcp_server_find_tool (server, json_string_value (name));
  if (tool == NULL)
    return error_response (message->id, MCP_INVALID_PARAMS, "Unknown tool: %s",
                           json_string_value (name));

  if (arguments == NULL || json_is_null (arguments))
    arguments = empty_arguments = json_object ();
  else if (!json_is_object (arguments))
    return error_response (message->id, MCP_INVALID_PARAMS,
                           "Invalid parameter 'arguments': expected object");
  if (!mcp_schema_validate (tool->input_schema, arguments, text, sizeof text))
    {
      json_decref (empty_arguments);
      log_debug ("mcp", "tools/call rejected invalid arguments tool=%s", tool->name);
      return mcp_error_response_new (message->id, MCP_INVALID_PARAMS, text);
    }

  if (!json_is_string (progress_token) && !json_is_integer (progress_token))
    progress_token = NULL;
  code = mcp_call_start (server, tool, message->id, arguments, progress_token, text, sizeof text);
  json_decref (empty_arguments);
  if (code != 0)
    return mcp_error_response_new (message->id, code, text);
  return NULL;
}

static json_t *
handle_set_level (mcp_server *server, struct mcp_message *message)
{
  json_t *level = json_object_get (message->params, "level");
  int severity;

  if (!mcp_log_severity_parse (json_string_value (level), &severity))
    return error_response (message->id, MCP_INVALID_PARAMS,
                           "Invalid parameter 'level': expected one of debug, info, notice, "
                           "warning, error, critical, alert, emergency");
  atomic_store (&server->client_log_severity, severity);
  log_info ("mcp", "client log level set to %s", mcp_log_severity_name (severity));
  return mcp_response_new (message->id, json_object ());
}

static void
handle_request (mcp_server *server, struct mcp_message *message)
{
  const char *method = message->method;
  int64_t start_ms = now_monotonic_ms ();
  json_t *response;

  if (message->params != NULL && !json_is_object (message->params))
    response = error_response (message->id, MCP_INVALID_PARAMS,
                               "Invalid params: expected an object");
  else if (strcmp (method, "initialize") == 0)
    response = handle_initialize (server, message);
  else if (strcmp (method, "ping") == 0)
    response = mcp_response_new (message->id, json_object ());
  else if (!server->initialized)
    response = error_response (message->id, MCP_INVALID_REQUEST,
                               "Invalid request: the server is not initialized; send initialize "
                               "first");
  else if (strcmp (method, "tools/list") == 0)
    response = handle_tools_list (server, message);
  else if (strcmp (method, "tools/call") == 0)
    response = handle_tools_call (server, message);
  else if (strcmp (method, "logging/setLevel") == 0)
    response = handle_set_level (server, message);
  else
    response = error_response (message->id, MCP_METHOD_NOT_FOUND, "Method not found: %s", method);

  if (response != NULL)
    {
      cleanup_free char *id_text = mcp_json_to_text (message->id);
      cleanup_free char *method_text = mcp_json_to_text (json_object_get (message->root,
                                                                          "method"));
      ssize_t sent = mcp_server_send (server, response);

      if (sent >= 0)
        log_debug ("mcp", "request handled method=%s id=%s duration_ms=%lld response_bytes=%zd",
                   method_text, id_text, (long long) (now_monotonic_ms () - start_ms), sent);
    }
}

static void
handle_notification (mcp_server *server, struct mcp_message *message)
{
  const char *method = message->method;

  if (strcmp (method, "notifications/cancelled") == 0)
    {
      json_t *request_id = json_object_get (message->params, "requestId");
      cleanup_free char *id_text = mcp_json_to_text (request_id);

      if (!json_is_string (request_id) && !json_is_integer (request_id))
        log_debug ("mcp", "ignored notifications/cancelled without a valid requestId");
      else if (mcp_call_cancel_by_id (server, request_id))
        log_info ("mcp", "client cancelled request id=%s", id_text);
      else
        log_debug ("mcp", "ignored cancellation of request id=%s, which is not running", id_text);
    }
  else if (strcmp (method, "notifications/initialized") == 0)
    log_debug ("mcp", "client sent notifications/initialized");
  else
    {
      cleanup_free char *method_text = mcp_json_to_text (json_object_get (message->root,
                                                                          "method"));
      log_debug ("mcp", "ignored notification method=%s", method_text);
    }
}

void
mcp_dispatch_line (mcp_server *server, const char *line, size_t length)
{
  struct mcp_message message;

  mcp_message_parse (line, length, &message);
  switch (message.kind)
    {
    case MCP_MESSAGE_BLANK:
      break;
    case MCP_MESSAGE_INVALID:
      log_debug ("mcp", "rejected message code=%d bytes=%zu", message.error_code, length);
      (void) mcp_server_send (server, mcp_error_response_new (message.id, message.error_code,
                                                              message.error_message));
      break;
    case MCP_MESSAGE_RESPONSE:
      log_debug ("mcp", "ignored a response from the client bytes=%zu", length);
      break;
    case MCP_MESSAGE_NOTIFICATION:
      handle_notification (server, &message);
      break;
    case MCP_MESSAGE_REQUEST:
      handle_request (server, &message);
      break;
    }
  mcp_message_clear (&message);
}

void
mcp_dispatch_oversized_line (mcp_server *server)
{
  char text[128];

  log_warning ("mcp", "discarded a message longer than %d bytes", MCP_MAX_MESSAGE_BYTES);
  snprintf (text, sizeof text, "Invalid request: message longer than %d bytes",
            MCP_MAX_MESSAGE_BYTES);
  (void) mcp_server_send (server, mcp_error_response_new (NULL, MCP_INVALID_REQUEST, text));
}

