/* MCP lifecycle data: protocol version negotiation, the initialize result,
 * client log levels and tool descriptions for tools/list. */
#include "mcp-internal.h"

#include <string.h>

const char *const mcp_supported_versions[] = {
  "2025-11-25",
  "2025-06-18",
  "2025-03-26",
  "2024-11-05",
  NULL,
};

/* logging/setLevel names, indexed by enum mcp_log_severity. */
static const char *const severity_names[] = {
  "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency",
};

const char *
mcp_negotiate_version (json_t *requested)
{
  const char *text = json_string_value (requested);
  size_t i;

  if (text != NULL)
    for (i = 0; mcp_supported_versions[i] != NULL; i++)
      if (strcmp (text, mcp_supported_versions[i]) == 0)
        return mcp_supported_versions[i];
  return mcp_supported_versions[0];
}

json_t *
mcp_initialize_result (const struct mcp_server_info *info, const char *version)
{
  json_t *result = json_object ();
  json_t *tools = json_object ();
  json_t *capabilities = json_object ();
  json_t *server_info = json_object ();

  json_object_set_new (tools, "listChanged", json_false ());
  json_object_set_new (capabilities, "tools", tools);
  json_object_set_new (capabilities, "logging", json_object ());

  json_object_set_new (server_info, "name", json_string (info->name));
  json_object_set_new (server_info, "version", json_string (info->version));

  json_object_set_new (result, "protocolVersion", json_string (version));
  json_object_set_new (result, "capabilities", capabilities);
  json_object_set_new (result, "serverInfo", server_info);
  if (info->instructions != NULL)
    json_object_set_new (result, "instructions", json_string (info->instructions));
  return result;
}

bool
mcp_log_severity_parse (const char *name, int *severity)
{
  size_t i;

  if (name == NULL)
    return false;
  for (i = 0; i < N_ELEMENTS (severity_names); i++)
    if (strcmp (name, severity_names[i]) == 0)
      {
        *severity = (int) i;
        return true;
      }
  return false;
}

const char *
mcp_log_severity_name (int severity)
{
  if (severity < 0 || (size_t) severity >= N_ELEMENTS (severity_names))
    return "unknown";
  return severity_names[severity];
}

int
mcp_log_severity_from_level (enum log_level level)
{
  switch (level)
    {
    case LOG_LEVEL_DEBUG:
      return MCP_LOG_SEVERITY_DEBUG;
    case LOG_LEVEL_INFO:
      return MCP_LOG_SEVERITY_INFO;
    case LOG_LEVEL_WARNING:
      return MCP_LOG_SEVERITY_WARNING;
    case LOG_LEVEL_ERROR:
      return MCP_LOG_SEVERITY_ERROR;
    }
  return MCP_LOG_SEVERITY_ERROR;
}

json_t *
mcp_tool_describe (const struct mcp_tool *tool)
{
  json_t *entry = json_object ();
  json_t *annotations = json_object ();

  json_object_set_new (entry, "name", json_string (tool->name));
  if (tool->title != NULL)
    json_object_set_new (entry, "title", json_string (tool->title));
  if (tool->description != NULL)
    json_object_set_new (entry, "description", json_string (tool->description));
  json_object_set (entry, "inputSchema", tool->input_schema);
  json_object_set (entry, "outputSchema", tool->output_schema);

  if (tool->title != NULL)
    json_object_set_new (annotations, "title", json_string (tool->title));
  json_object_set_new (annotations, "readOnlyHint", json_boolean (tool->read_only));
  json_object_set_new (annotations, "destructiveHint", json_boolean (tool->destructive));
  json_object_set_new (annotations, "idempotentHint", json_boolean (tool->idempotent));
  json_object_set_new (annotations, "openWorldHint", json_boolean (tool->open_world));
  json_object_set_new (entry, "annotations", annotations);
  return entry;
}
