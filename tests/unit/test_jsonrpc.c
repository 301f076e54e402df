/* Unit tests for line framing, JSON-RPC message classification, message
 * builders, version negotiation and the other lifecycle helpers. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mcp-internal.h"

/* ---- Line reader ---- */

struct pipe_fixture
{
  int read_fd;
  int write_fd;
  struct mcp_line_reader reader;
};

static int
setup_pipe (void **state)
{
  struct pipe_fixture *fixture = xcalloc (1, sizeof *fixture);
  int fds[2];

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return -1;
  fixture->read_fd = fds[0];
  fixture->write_fd = fds[1];
  mcp_line_reader_init (&fixture->reader, 8);
  *state = fixture;
  return 0;
}

static int
teardown_pipe (void **state)
{
  struct pipe_fixture *fixture = *state;

  close (fixture->read_fd);
  if (fixture->write_fd >= 0)
    close (fixture->write_fd);
  mcp_line_reader_destroy (&fixture->reader);
  free (fixture);
  return 0;
}

static void
feed (struct pipe_fixture *fixture, const char *text)
{
  assert_int_equal (write_all (fixture->write_fd, text, strlen (text)), 0);
  assert_true (mcp_line_reader_fill (&fixture->reader, fixture->read_fd) > 0);
}

static void
close_writer (struct pipe_fixture *fixture)
{
  close (fixture->write_fd);
  fixture->write_fd = -1;
  assert_int_equal (mcp_line_reader_fill (&fixture->reader, fixture->read_fd), 0);
  assert_true (fixture->reader.eof);
}

static void
expect_line (struct pipe_fixture *fixture, const char *expected)
{
  const char *line = NULL;
  size_t length = 0;

  assert_int_equal (mcp_line_reader_next (&fixture->reader, &line, &length), MCP_LINE_OK);
  assert_int_equal (length, strlen (expected));
  assert_memory_equal (line, expected, length);
}

static void
expect_status (struct pipe_fixture *fixture, enum mcp_line_status expected)
{
  const char *line = NULL;
  size_t length = 0;

  assert_int_equal (mcp_line_reader_next (&fixture->reader, &line, &length), expected);
}

static void
line_reader_splits_lines (void **state)
{
  struct pipe_fixture *fixture = *state;

  feed (fixture, "a\nbb\n\nccc\n");
  expect_line (fixture, "a");
  expect_line (fixture, "bb");
  expect_line (fixture, "");
  expect_line (fixture, "ccc");
  expect_status (fixture, MCP_LINE_NONE);
}

static void
line_reader_joins_partial_reads (void **state)
{
  struct pipe_fixture *fixture = *state;

  feed (fixture, "ab");
  expect_status (fixture, MCP_LINE_NONE);
  feed (fixture, "c");
  expect_status (fixture, MCP_LINE_NONE);
  feed (fixture, "d\ne");
  expect_line (fixture, "abcd");
  expect_status (fixture, MCP_LINE_NONE);
  feed (fixture, "f\n");
  expect_line (fixture, "ef");
}

static void
line_reader_returns_last_line_at_eof (void **state)
{
  struct pipe_fixture *fixture = *state;

  feed (fixture, "one\ntwo");
  expect_line (fixture, "one");
  expect_status (fixture, MCP_LINE_NONE);
  close_writer (fixture);
  expect_line (fixture, "two");
  expect_status (fixture, MCP_LINE_NONE);
}

static void
line_reader_accepts_line_at_limit (void **state)
{
  struct pipe_fixture *fixture = *state;

  feed (fixture, "12345678\n");
  expect_line (fixture, "12345678");
}

static void
line_reader_discards_oversized_line (void **state)
{
  struct pipe_fixture *fixture = *state;

  feed (fixture, "123456789\nok\n");
  expect_status (fixture, MCP_LINE_TOO_LONG);
  expect_line (fixture, "ok");
  expect_status (fixture, MCP_LINE_NONE);
}

static void
line_reader_discards_oversized_line_across_reads (void **state)
{
  struct pipe_fixture *fixture = *state;

  feed (fixture, "0123456789abcdef");
  expect_status (fixture, MCP_LINE_NONE);
  /* The partial line is dropped at once instead of being buffered. */
  assert_int_equal (fixture->reader.length, 0);
  feed (fixture, "still the same line");
  expect_status (fixture, MCP_LINE_NONE);
  assert_int_equal (fixture->reader.length, 0);
  feed (fixture, "end\nnext\n");
  expect_status (fixture, MCP_LINE_TOO_LONG);
  expect_line (fixture, "next");
  expect_status (fixture, MCP_LINE_NONE);
}

static void
line_reader_reports_oversized_line_at_eof (void **state)
{
  struct pipe_fixture *fixture = *state;

  feed (fixture, "0123456789");
  expect_status (fixture, MCP_LINE_NONE);
  close_writer (fixture);
  expect_status (fixture, MCP_LINE_TOO_LONG);
  expect_status (fixture, MCP_LINE_NONE);
}

/* ---- Message classification ---- */

static void
parse_text (const char *text, struct mcp_message *message)
{
  mcp_message_parse (text, strlen (text), message);
}

/* A case with its length, which may include NUL bytes. */
#define TEXT_CASE(literal) { literal, sizeof (literal) - 1 }

static void
parse_rejects_invalid_json (void **state)
{
  static const struct
  {
    const char *text;
    size_t length;
  } cases[] = {
    TEXT_CASE ("{"),
    TEXT_CASE ("not json"),
    TEXT_CASE ("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":1} trailing"),
    TEXT_CASE ("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\"}"),
    TEXT_CASE ("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":\"\xff\"}"),
    TEXT_CASE ("{\"jsonrpc\":\"2.0\",\0\"method\":\"ping\",\"id\":1}"),
    TEXT_CASE ("{\"jsonrpc\":\"2.0\",\"method\":\"p\\u0000\",\"id\":1}"),
    TEXT_CASE ("{\"id\":99999999999999999999999,\"jsonrpc\":\"2.0\",\"method\":\"ping\"}"),
  };
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (cases); i++)
    {
      struct mcp_message message;

      mcp_message_parse (cases[i].text, cases[i].length, &message);
      assert_int_equal (message.kind, MCP_MESSAGE_INVALID);
      assert_int_equal (message.error_code, MCP_PARSE_ERROR);
      assert_null (message.id);
      assert_non_null (strstr (message.error_message, "Parse error"));
      mcp_message_clear (&message);
    }
}

static void
parse_rejects_invalid_requests (void **state)
{
  static const char *const cases[] = {
    "5",
    "\"ping\"",
    "null",
    "true",
    "{}",
    "{\"method\":\"ping\",\"id\":1}",
    "{\"jsonrpc\":\"1.0\",\"method\":\"ping\",\"id\":1}",
    "{\"jsonrpc\":2.0,\"method\":\"ping\",\"id\":1}",
    "{\"jsonrpc\":\"2.0\",\"id\":1}",
    "{\"jsonrpc\":\"2.0\",\"method\":7,\"id\":1}",
    "{\"jsonrpc\":\"2.0\",\"method\":null,\"id\":1}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":null}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":1.5}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":1.0}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":{}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":[1]}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":true}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":1,\"params\":\"x\"}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":1,\"params\":3}",
  };
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (cases); i++)
    {
      struct mcp_message message;

      parse_text (cases[i], &message);
      if (message.kind != MCP_MESSAGE_INVALID || message.error_code != MCP_INVALID_REQUEST)
        fail_msg ("case %zu (%s): kind %d code %d", i, cases[i], message.kind,
                  message.error_code);
      assert_non_null (strstr (message.error_message, "Invalid request"));
      mcp_message_clear (&message);
    }
}

static void
parse_rejects_batches (void **state)
{
  static const char *const cases[] = {
    "[]",
    "[{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":1}]",
    "[1,2]",
  };
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (cases); i++)
    {
      struct mcp_message message;

      parse_text (cases[i], &message);
      assert_int_equal (message.kind, MCP_MESSAGE_INVALID);
      assert_int_equal (message.error_code, MCP_INVALID_REQUEST);
      assert_null (message.id);
      assert_non_null (strstr (message.error_message, "batches"));
      mcp_message_clear (&message);
    }
}

static void
parse_error_keeps_only_valid_id (void **state)
{
  struct mcp_message message;

  (void) state;
  parse_text ("{\"jsonrpc\":\"2.0\",\"id\":7}", &message);
  assert_int_equal (message.kind, MCP_MESSAGE_INVALID);
  assert_true (json_is_integer (message.id));
  assert_int_equal (json_integer_value (message.id), 7);
  mcp_message_clear (&message);

  parse_text ("{\"jsonrpc\":\"1.0\",\"method\":\"ping\",\"id\":\"abc\"}", &message);
  assert_int_equal (message.kind, MCP_MESSAGE_INVALID);
  assert_string_equal (json_string_value (message.id), "abc");
  mcp_message_clear (&message);

  parse_text ("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":2.5}", &message);
  assert_int_equal (message.kind, MCP_MESSAGE_INVALID);
  assert_null (message.id);
  mcp_message_clear (&message);
}

static void
parse_accepts_requests (void **state)
{
  struct mcp_message message;

  (void) state;
  parse_text ("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\",\"params\":{\"cursor\":\"x\"}}",
              &message);
  assert_int_equal (message.kind, MCP_MESSAGE_REQUEST);
  assert_string_equal (message.method, "tools/list");
  assert_int_equal (json_integer_value (message.id), 3);
  assert_true (json_is_object (message.params));
  mcp_message_clear (&message);

  parse_text ("  {\"jsonrpc\":\"2.0\",\"id\":\"a-1\",\"method\":\"ping\"}\r", &message);
  assert_int_equal (message.kind, MCP_MESSAGE_REQUEST);
  assert_string_equal (json_string_value (message.id), "a-1");
  assert_null (message.params);
  mcp_message_clear (&message);

  parse_text ("{\"jsonrpc\":\"2.0\",\"id\":-4,\"method\":\"ping\"}", &message);
  assert_int_equal (message.kind, MCP_MESSAGE_REQUEST);
  assert_int_equal (json_integer_value (message.id), -4);
  mcp_message_clear (&message);
}

static void
parse_accepts_notifications (void **state)
{
  struct mcp_message message;

  (void) state;
  parse_text ("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", &message);
  assert_int_equal (message.kind, MCP_MESSAGE_NOTIFICATION);
  assert_string_equal (message.method, "notifications/initialized");
  assert_null (message.id);
  mcp_message_clear (&message);
}

static void
parse_classifies_client_responses (void **state)
{
  static const char *const cases[] = {
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}",
    "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":-1,\"message\":\"no\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"no\"}}",
  };
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (cases); i++)
    {
      struct mcp_message message;

      parse_text (cases[i], &message);
      assert_int_equal (message.kind, MCP_MESSAGE_RESPONSE);
      mcp_message_clear (&message);
    }
}

static void
parse_ignores_blank_lines (void **state)
{
  struct mcp_message message;

  (void) state;
  parse_text ("", &message);
  assert_int_equal (message.kind, MCP_MESSAGE_BLANK);
  mcp_message_clear (&message);
  parse_text (" \t\r", &message);
  assert_int_equal (message.kind, MCP_MESSAGE_BLANK);
  mcp_message_clear (&message);
}

/* ---- Builders ---- */

static void
error_response_has_standard_shape (void **state)
{
  json_t *response;
  json_t *error;

  (void) state;
  response = mcp_error_response_new (NULL, MCP_METHOD_NOT_FOUND, "Method not found: x");
  assert_string_equal (json_string_value (json_object_get (response, "jsonrpc")), "2.0");
  assert_true (json_is_null (json_object_get (response, "id")));
  error = json_object_get (response, "error");
  assert_int_equal (json_integer_value (json_object_get (error, "code")), MCP_METHOD_NOT_FOUND);
  assert_string_equal (json_string_value (json_object_get (error, "message")),
                       "Method not found: x");
  assert_null (json_object_get (response, "result"));
  json_decref (response);
}

static void
error_response_replaces_invalid_utf8 (void **state)
{
  json_t *response;
  const char *text;

  (void) state;
  response = mcp_error_response_new (NULL, MCP_PARSE_ERROR, "Parse error: near '\xff'");
  text = json_string_value (json_object_get (json_object_get (response, "error"), "message"));
  assert_non_null (text);
  assert_non_null (strstr (text, "\xef\xbf\xbd"));
  json_decref (response);
}

static void
response_copies_id (void **state)
{
  json_t *id = json_string ("req-1");
  json_t *response;

  (void) state;
  response = mcp_response_new (id, json_object ());
  json_decref (id);
  assert_string_equal (json_string_value (json_object_get (response, "id")), "req-1");
  assert_true (json_is_object (json_object_get (response, "result")));
  assert_null (json_object_get (response, "error"));
  json_decref (response);
}

static void
dump_writes_one_line (void **state)
{
  json_t *params = json_pack ("{s:s}", "text", "two\nlines\r\n");
  json_t *notification = mcp_notification_new ("notifications/message", params);
  size_t length = 0;
  char *text;

  (void) state;
  text = mcp_message_dump (notification, &length);
  assert_non_null (text);
  assert_true (length > 1);
  assert_int_equal (text[length - 1], '\n');
  assert_null (memchr (text, '\n', length - 1));
  assert_null (memchr (text, '\r', length - 1));
  free (text);
  json_decref (notification);
}

static void
json_to_text_escapes_control_characters (void **state)
{
  json_t *id = json_string ("a\nb");
  char *text;

  (void) state;
  text = mcp_json_to_text (id);
  assert_string_equal (text, "\"a\\nb\"");
  free (text);
  json_decref (id);

  text = mcp_json_to_text (NULL);
  assert_string_equal (text, "null");
  free (text);
}

/* ---- Lifecycle ---- */

static void
negotiation_echoes_supported_versions (void **state)
{
  static const char *const versions[] = { "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05" };
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (versions); i++)
    {
      json_t *requested = json_string (versions[i]);

      assert_string_equal (mcp_negotiate_version (requested), versions[i]);
      json_decref (requested);
    }
}

static void
negotiation_falls_back_to_newest (void **state)
{
  json_t *unsupported = json_string ("2023-01-01");
  json_t *number = json_integer (20250618);
  json_t *empty = json_string ("");

  (void) state;
  assert_string_equal (mcp_negotiate_version (unsupported), "2025-11-25");
  assert_string_equal (mcp_negotiate_version (NULL), "2025-11-25");
  assert_string_equal (mcp_negotiate_version (number), "2025-11-25");
  assert_string_equal (mcp_negotiate_version (empty), "2025-11-25");
  json_decref (unsupported);
  json_decref (number);
  json_decref (empty);
}

static void
initialize_result_lists_capabilities (void **state)
{
  const struct mcp_server_info info = {
    .name = "omcp",
    .version = "1.2.3",
    .instructions = "Use run_python.",
  };
  json_t *result = mcp_initialize_result (&info, "2025-06-18");
  json_t *expected_capabilities = json_pack ("{s:{s:b},s:{}}", "tools", "listChanged", 0,
                                             "logging");
  json_t *server_info = json_object_get (result, "serverInfo");

  (void) state;
  assert_string_equal (json_string_value (json_object_get (result, "protocolVersion")),
                       "2025-06-18");
  assert_true (json_equal (json_object_get (result, "capabilities"), expected_capabilities));
  assert_string_equal (json_string_value (json_object_get (server_info, "name")), "omcp");
  assert_string_equal (json_string_value (json_object_get (server_info, "version")), "1.2.3");
  assert_string_equal (json_string_value (json_object_get (result, "instructions")),
                       "Use run_python.");
  json_decref (expected_capabilities);
  json_decref (result);
}

static void
initialize_result_omits_missing_instructions (void **state)
{
  const struct mcp_server_info info = { .name = "omcp", .version = "1", .instructions = NULL };
  json_t *result = mcp_initialize_result (&info, "2024-11-05");

  (void) state;
  assert_null (json_object_get (result, "instructions"));
  json_decref (result);
}

static void
log_severity_parses_mcp_names (void **state)
{
  static const char *const names[] = {
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency",
  };
  static const char *const invalid[] = { "DEBUG", "warn", "", "fatal" };
  int severity = -1;
  size_t i;

  (void) state;
  for (i = 0; i < N_ELEMENTS (names); i++)
    {
      assert_true (mcp_log_severity_parse (names[i], &severity));
      assert_int_equal (severity, (int) i);
      assert_string_equal (mcp_log_severity_name (severity), names[i]);
    }
  for (i = 0; i < N_ELEMENTS (invalid); i++)
    assert_false (mcp_log_severity_parse (invalid[i], &severity));
  assert_false (mcp_log_severity_parse (NULL, &severity));
  assert_int_equal (mcp_log_severity_from_level (LOG_LEVEL_WARNING), MCP_LOG_SEVERITY_WARNING);
  assert_int_equal (mcp_log_severity_from_level (LOG_LEVEL_ERROR), MCP_LOG_SEVERITY_ERROR);
}

static void
tool_description_has_annotations (void **state)
{
  struct mcp_tool tool = {
    .name = "run_python",
    .title = "Run Python",
    .description = "Runs code.",
    .input_schema = json_pack ("{s:s}", "type", "object"),
    .output_schema = json_pack ("{s:s}", "type", "object"),
    .read_only = false,
    .destructive = true,
    .idempotent = false,
    .open_world = true,
  };
  json_t *entry = mcp_tool_describe (&tool);
  json_t *annotations = json_object_get (entry, "annotations");

  (void) state;
  assert_string_equal (json_string_value (json_object_get (entry, "name")), "run_python");
  assert_string_equal (json_string_value (json_object_get (entry, "title")), "Run Python");
  assert_string_equal (json_string_value (json_object_get (entry, "description")), "Runs code.");
  assert_ptr_equal (json_object_get (entry, "inputSchema"), tool.input_schema);
  assert_ptr_equal (json_object_get (entry, "outputSchema"), tool.output_schema);
  assert_string_equal (json_string_value (json_object_get (annotations, "title")), "Run Python");
  assert_true (json_is_false (json_object_get (annotations, "readOnlyHint")));
  assert_true (json_is_true (json_object_get (annotations, "destructiveHint")));
  assert_true (json_is_false (json_object_get (annotations, "idempotentHint")));
  assert_true (json_is_true (json_object_get (annotations, "openWorldHint")));
  json_decref (entry);
  json_decref (tool.input_schema);
  json_decref (tool.output_schema);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (line_reader_splits_lines, setup_pipe, teardown_pipe),
    cmocka_unit_test_setup_teardown (line_reader_joins_partial_reads, setup_pipe, teardown_pipe),
    cmocka_unit_test_setup_teardown (line_reader_returns_last_line_at_eof, setup_pipe,
                                     teardown_pipe),
    cmocka_unit_test_setup_teardown (line_reader_accepts_line_at_limit, setup_pipe,
                                     teardown_pipe),
    cmocka_unit_test_setup_teardown (line_reader_discards_oversized_line, setup_pipe,
                                     teardown_pipe),
    cmocka_unit_test_setup_teardown (line_reader_discards_oversized_line_across_reads,
                                     setup_pipe, teardown_pipe),
    cmocka_unit_test_setup_teardown (line_reader_reports_oversized_line_at_eof, setup_pipe,
                                     teardown_pipe),
    cmocka_unit_test (parse_rejects_invalid_json),
    cmocka_unit_test (parse_rejects_invalid_requests),
    cmocka_unit_test (parse_rejects_batches),
    cmocka_unit_test (parse_error_keeps_only_valid_id),
    cmocka_unit_test (parse_accepts_requests),
    cmocka_unit_test (parse_accepts_notifications),
    cmocka_unit_test (parse_classifies_client_responses),
    cmocka_unit_test (parse_ignores_blank_lines),
    cmocka_unit_test (error_response_has_standard_shape),
    cmocka_unit_test (error_response_replaces_invalid_utf8),
    cmocka_unit_test (response_copies_id),
    cmocka_unit_test (dump_writes_one_line),
    cmocka_unit_test (json_to_text_escapes_control_characters),
    cmocka_unit_test (negotiation_echoes_supported_versions),
    cmocka_unit_test (negotiation_falls_back_to_newest),
    cmocka_unit_test (initialize_result_lists_capabilities),
    cmocka_unit_test (initialize_result_omits_missing_instructions),
    cmocka_unit_test (log_severity_parses_mcp_names),
    cmocka_unit_test (tool_description_has_annotations),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
