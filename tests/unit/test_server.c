/* Tests of the whole server loop: mcp_server_serve runs on a thread and
 * the test speaks to it over two pipes, with test tools in place of real
 * ones. A tool that blocks until cancelled shows concurrency, cancellation,
 * progress and shutdown, and a tool that floods notifications while the test
 * reads nothing shows that an unread output blocks no tool. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mcp-internal.h"

/* Upper bound for anything the test waits for, so a hang fails the test. */
#define WAIT_MS 5000

/* Length of the text the flood tool puts in each notification, so that each
 * line is longer than this. */
#define FLOOD_TEXT_BYTES 200

/* Shared between the test and the tools running on call threads. The call
 * threads never use cmocka asserts, which only work on the test thread. */
struct tool_state
{
  sem_t started;
  sem_t returned;
  atomic_int saw_cancel;   /* 1 when the cancel fd became readable and the flag was set */
  char request_id[64];
  atomic_int flood_limit;  /* notifications the flood tool sends, 0 for no limit */
  atomic_int flood_sent;   /* notifications the flood tool has sent so far */
};

static struct tool_state tool_state;

struct harness
{
  mcp_server *server;
  int to_server;    /* the test writes requests here */
  int from_server;  /* the test reads responses here */
  int server_in;
  int server_out;
  pthread_t thread;
  int serve_result;
  omcp_error error;
  struct mcp_line_reader reader;
};

/* ---- Test tools ---- */

static json_t *
echo_tool (mcp_call *call, json_t *arguments, void *userdata)
{
  (void) call;
  (void) userdata;
  return json_pack ("{s:b,s:O}", "success", 1, "echo", arguments);
}

static json_t *
fail_tool (mcp_call *call, json_t *arguments, void *userdata)
{
  (void) call;
  (void) arguments;
  (void) userdata;
  return json_pack ("{s:b,s:s}", "success", 0, "error", "failed on purpose");
}

static json_t *
reject_tool (mcp_call *call, json_t *arguments, void *userdata)
{
  (void) arguments;
  (void) userdata;
  mcp_call_invalid_params (call, "Invalid argument '%s': %s", "path", "outside the sandbox");
  return NULL;
}

static json_t *
broken_tool (mcp_call *call, json_t *arguments, void *userdata)
{
  (void) call;
  (void) arguments;
  (void) userdata;
  return json_string ("not an object");
}

/* Blocks until the call is cancelled, then reports what it saw. */
static json_t *
wait_tool (mcp_call *call, json_t *arguments, void *userdata)
{
  struct tool_state *state = userdata;
  struct pollfd pfd = { .fd = mcp_call_cancel_fd (call), .events = POLLIN };
  int ready;

  (void) arguments;
  copy_string (state->request_id, sizeof state->request_id, mcp_call_request_id (call));
  mcp_call_progress (call, 1, 4, "started");
  mcp_call_progress (call, 2, -1, NULL);
  sem_post (&state->started);

  /* Longer than the test waits for a message, so that a server that runs
   * tools on its own thread fails the concurrency test. */
  ready = TEMP_FAILURE_RETRY (poll (&pfd, 1, 2 * WAIT_MS));
  atomic_store (&state->saw_cancel, ready == 1 && mcp_call_cancelled (call));

  /* Nothing more may be sent for a cancelled request. */
  mcp_call_progress (call, 3, 4, "after cancel");
  sem_post (&state->returned);
  return json_pack ("{s:b,s:b}", "success", 0, "cancelled", 1);
}

/* Sends notifications in a tight loop until it has sent flood_limit of them
 * or is cancelled: progress when the request carried a progress token, or
 * debug log records when the argument "log" is true. Progress values count
 * up from 1, so the test can check their order. */
static json_t *
flood_tool (mcp_call *call, json_t *arguments, void *userdata)
{
  struct tool_state *state = userdata;
  bool use_log = json_is_true (json_object_get (arguments, "log"));
  int limit = atomic_load (&state->flood_limit);
  int64_t give_up_ms = now_monotonic_ms () + 2 * WAIT_MS;
  char text[FLOOD_TEXT_BYTES + 1];
  int sent = 0;

  memset (text, 'x', FLOOD_TEXT_BYTES);
  text[FLOOD_TEXT_BYTES] = '\0';
  sem_post (&state->started);

  while ((limit == 0 || sent < limit) && !mcp_call_cancelled (call)
         && now_monotonic_ms () < give_up_ms)
    {
      sent++;
      if (use_log)
        log_debug ("test", "flood %d %s", sent, text);
      else
        mcp_call_progress (call, sent, -1, text);
      atomic_store (&state->flood_sent, sent);
    }

  atomic_store (&state->saw_cancel, mcp_call_cancelled (call));
  sem_post (&state->returned);
  return json_pack ("{s:b,s:i}", "success", 1, "sent", sent);
}

static void
add_tool (mcp_server *server, const char *name, const char *input_schema, mcp_tool_fn fn)
{
  const struct mcp_tool tool = {
    .name = name,
    .title = "Test tool",
    .description = "A tool for the tests.",
    .input_schema = json_loads (input_schema, 0, NULL),
    .output_schema = json_pack ("{s:s,s:{s:{s:s}},s:[s]}", "type", "object", "properties",
                                "success", "type", "boolean", "required", "success"),
    .read_only = true,
    .destructive = false,
    .idempotent = true,
    .open_world = false,
    .fn = fn,
    .userdata = &tool_state,
  };

  mcp_server_add_tool (server, &tool);
}

/* ---- Harness ---- */

static void *
serve_thread (void *data)
{
  struct harness *harness = data;

  harness->serve_result = mcp_server_serve (harness->server, harness->server_in,
                                            harness->server_out, &harness->error);
  return NULL;
}

static int
setup_server (void **state)
{
  static const struct mcp_server_info info = {
    .name = "omcp-test",
    .version = "9.9.9",
    .instructions = "Test instructions.",
  };
  struct harness *harness = xcalloc (1, sizeof *harness);
  int requests[2];
  int responses[2];

  memset (&tool_state, 0, sizeof tool_state);
  sem_init (&tool_state.started, 0, 0);
  sem_init (&tool_state.returned, 0, 0);

  if (pipe2 (requests, O_CLOEXEC) < 0 || pipe2 (responses, O_CLOEXEC) < 0)
    return -1;
  harness->server_in = requests[0];
  harness->to_server = requests[1];
  harness->from_server = responses[0];
  harness->server_out = responses[1];
  harness->serve_result = 1;
  mcp_line_reader_init (&harness->reader, MCP_MAX_MESSAGE_BYTES);

  harness->server = mcp_server_new (&info);
  add_tool (harness->server, "echo",
            "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},"
            "\"additionalProperties\":false}",
            echo_tool);
  add_tool (harness->server, "fail", "{\"type\":\"object\"}", fail_tool);
  add_tool (harness->server, "reject", "{\"type\":\"object\"}", reject_tool);
  add_tool (harness->server, "broken", "{\"type\":\"object\"}", broken_tool);
  add_tool (harness->server, "wait", "{\"type\":\"object\"}", wait_tool);
  add_tool (harness->server, "flood", "{\"type\":\"object\"}", flood_tool);
  *state = harness;
  return 0;
}

static void
start_server (struct harness *harness)
{
  assert_int_equal (pthread_create (&harness->thread, NULL, serve_thread, harness), 0);
}

/* Close the request pipe and wait for mcp_server_serve to return. */
static int
stop_server (struct harness *harness)
{
  if (harness->to_server >= 0)
    {
      close (harness->to_server);
      harness->to_server = -1;
    }
  if (harness->thread != 0)
    {
      pthread_join (harness->thread, NULL);
      harness->thread = 0;
    }
  return harness->serve_result;
}

static int
teardown_server (void **state)
{
  struct harness *harness = *state;

  /* Closing the client's end of the output first gives a server that is
   * stuck writing to it EPIPE, so a failed test cannot hang here. */
  if (harness->from_server >= 0)
    close (harness->from_server);
  harness->from_server = -1;
  stop_server (harness);
  close (harness->server_in);
  close (harness->server_out);
  mcp_line_reader_destroy (&harness->reader);
  mcp_server_free (harness->server);
  sem_destroy (&tool_state.started);
  sem_destroy (&tool_state.returned);
  free (harness);
  return 0;
}

static void
send_line (struct harness *harness, const char *text)
{
  assert_int_equal (write_all (harness->to_server, text, strlen (text)), 0);
  assert_int_equal (write_all (harness->to_server, "\n", 1), 0);
}

static void OMCP_PRINTF (2, 3)
send_format (struct harness *harness, const char *fmt, ...)
{
  va_list ap;
  char *text = NULL;

  va_start (ap, fmt);
  assert_true (vasprintf (&text, fmt, ap) >= 0);
  va_end (ap);
  send_line (harness, text);
  free (text);
}

/* Read the next message the server sent. */
static json_t *
receive (struct harness *harness)
{
  int64_t deadline = now_monotonic_ms () + WAIT_MS;

  for (;;)
    {
      const char *line;
      size_t length;
      struct pollfd pfd = { .fd = harness->from_server, .events = POLLIN };
      int64_t left = deadline - now_monotonic_ms ();

      if (mcp_line_reader_next (&harness->reader, &line, &length) == MCP_LINE_OK)
        {
          json_error_t error;
          json_t *message = json_loadb (line, length, 0, &error);

          if (message == NULL)
            fail_msg ("server sent invalid JSON: %s", error.text);
          return message;
        }
      if (harness->reader.eof)
        fail_msg ("server closed its output");
      if (left <= 0 || TEMP_FAILURE_RETRY (poll (&pfd, 1, (int) left)) != 1)
        fail_msg ("no message from the server within %d ms", WAIT_MS);
      assert_true (mcp_line_reader_fill (&harness->reader, harness->from_server) >= 0);
    }
}

/* Read the next message and check that it is the response to ID. Returns
 * its result. The caller releases the returned response. */
static json_t *
receive_result (struct harness *harness, json_int_t id, json_t **response_out)
{
  json_t *response = receive (harness);
  json_t *result = json_object_get (response, "result");

  assert_string_equal (json_string_value (json_object_get (response, "jsonrpc")), "2.0");
  assert_true (json_is_integer (json_object_get (response, "id")));
  assert_int_equal (json_integer_value (json_object_get (response, "id")), id);
  if (result == NULL)
    fail_msg ("expected a result for id %lld, got an error: %s", (long long) id,
              json_string_value (json_object_get (json_object_get (response, "error"),
                                                  "message")));
  *response_out = response;
  return result;
}

/* Read the next message and check that it is an error with CODE for ID
 * (ID < 0 means null) whose message contains MESSAGE_PART. */
static void
expect_error (struct harness *harness, json_int_t id, int code, const char *message_part)
{
  json_t *response = receive (harness);
  json_t *error = json_object_get (response, "error");
  json_t *response_id = json_object_get (response, "id");
  const char *text = json_string_value (json_object_get (error, "message"));

  if (error == NULL)
    fail_msg ("expected error %d for id %lld, got a result", code, (long long) id);
  if (id < 0)
    assert_true (json_is_null (response_id));
  else
    assert_int_equal (json_integer_value (response_id), id);
  assert_int_equal (json_integer_value (json_object_get (error, "code")), code);
  assert_non_null (text);
  if (strstr (text, message_part) == NULL)
    fail_msg ("error message \"%s\" lacks \"%s\"", text, message_part);
  json_decref (response);
}

static void
expect_pong (struct harness *harness, json_int_t id)
{
  json_t *response;
  json_t *result = receive_result (harness, id, &response);

  assert_true (json_is_object (result));
  assert_int_equal (json_object_size (result), 0);
  json_decref (response);
}

static void
initialize (struct harness *harness)
{
  json_t *response;

  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{"
                      "\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
                      "\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}}");
  receive_result (harness, 0, &response);
  json_decref (response);
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
}

static void
wait_semaphore (sem_t *semaphore)
{
  struct timespec deadline;

  clock_gettime (CLOCK_REALTIME, &deadline);
  deadline.tv_sec += WAIT_MS / 1000;
  while (sem_timedwait (semaphore, &deadline) < 0)
    if (errno != EINTR)
      fail_msg ("the test tool did not reach its step within %d ms", WAIT_MS);
}

/* Wait until fewer than LIMIT call threads run. With LIMIT 1, whatever the
 * finished calls sent is queued ahead of any later response. */
static void
wait_for_calls_below (struct harness *harness, size_t limit)
{
  int64_t deadline = now_monotonic_ms () + WAIT_MS;

  for (;;)
    {
      size_t running;

      pthread_mutex_lock (&harness->server->calls_lock);
      running = harness->server->n_threads;
      pthread_mutex_unlock (&harness->server->calls_lock);
      if (running < limit)
        return;
      if (now_monotonic_ms () > deadline)
        fail_msg ("%zu tool calls still running after %d ms", running, WAIT_MS);
      usleep (1000);
    }
}

static void
wait_for_idle (struct harness *harness)
{
  wait_for_calls_below (harness, 1);
}

/* Check that the server sends nothing before the reply to a ping. */
static void
expect_nothing_before_ping (struct harness *harness, json_int_t ping_id)
{
  send_format (harness, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"ping\"}",
               (long long) ping_id);
  expect_pong (harness, ping_id);
}

static void
call_wait_tool (struct harness *harness, json_int_t id, const char *meta)
{
  send_format (harness,
               "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"tools/call\",\"params\":{"
               "\"name\":\"wait\"%s}}",
               (long long) id, meta);
  wait_semaphore (&tool_state.started);
}

static void
cancel (struct harness *harness, json_int_t id)
{
  send_format (harness,
               "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{"
               "\"requestId\":%lld,\"reason\":\"test\"}}",
               (long long) id);
}

/* Number of flood notifications that overfill both the output pipe and
 * the server's queue, so that the server must drop some of them. */
static int
flood_overflow_count (struct harness *harness)
{
  int pipe_bytes = fcntl (harness->server_out, F_GETPIPE_SZ);

  assert_true (pipe_bytes > 0);
  return (pipe_bytes + MCP_MAX_QUEUED_BYTES) / FLOOD_TEXT_BYTES + 1;
}

/* Wait until the flood tool has sent COUNT notifications while the test
 * reads nothing. */
static void
wait_for_flood (int count)
{
  int64_t deadline = now_monotonic_ms () + WAIT_MS;

  while (atomic_load (&tool_state.flood_sent) < count)
    {
      if (now_monotonic_ms () > deadline)
        fail_msg ("the tool sent only %d of %d notifications within %d ms, so sending "
                  "blocks while the client does not read", atomic_load (&tool_state.flood_sent),
                  count, WAIT_MS);
      usleep (1000);
    }
}

static void
call_flood_tool (struct harness *harness, json_int_t id, const char *arguments, const char *meta)
{
  send_format (harness,
               "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"tools/call\",\"params\":{"
               "\"name\":\"flood\",\"arguments\":%s%s}}",
               (long long) id, arguments, meta);
  wait_semaphore (&tool_state.started);
}

/* Read messages up to the response to ID, which must be a result. Returns
 * how many notifications with METHOD came before it, and fails on any
 * other message. */
static int
skip_notifications_until (struct harness *harness, const char *method, json_int_t id)
{
  int count = 0;

  for (;;)
    {
      json_t *message = receive (harness);
      json_t *message_id = json_object_get (message, "id");

      if (message_id != NULL)
        {
          assert_true (json_is_integer (message_id));
          assert_int_equal (json_integer_value (message_id), id);
          assert_non_null (json_object_get (message, "result"));
          json_decref (message);
          return count;
        }
      assert_string_equal (json_string_value (json_object_get (message, "method")), method);
      count++;
      json_decref (message);
    }
}

/* ---- Tests ---- */

static void
server_requires_initialize (void **state)
{
  struct harness *harness = *state;

  start_server (harness);
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
  expect_pong (harness, 1);
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
  expect_error (harness, 2, MCP_INVALID_REQUEST, "send initialize first");
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
                      "\"params\":{\"name\":\"echo\"}}");
  expect_error (harness, 3, MCP_INVALID_REQUEST, "send initialize first");
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"logging/setLevel\","
                      "\"params\":{\"level\":\"info\"}}");
  expect_error (harness, 4, MCP_INVALID_REQUEST, "send initialize first");
  assert_int_equal (stop_server (harness), 0);
}

static void
server_initializes_once (void **state)
{
  struct harness *harness = *state;
  json_t *response;
  json_t *result;

  start_server (harness);
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
                      "\"protocolVersion\":\"2025-03-26\",\"capabilities\":{},"
                      "\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}}");
  result = receive_result (harness, 1, &response);
  assert_string_equal (json_string_value (json_object_get (result, "protocolVersion")),
                       "2025-03-26");
  assert_string_equal (json_string_value (json_object_get (json_object_get (result,
                                                                            "serverInfo"),
                                                           "name")),
                       "omcp-test");
  assert_string_equal (json_string_value (json_object_get (result, "instructions")),
                       "Test instructions.");
  assert_non_null (json_object_get (json_object_get (result, "capabilities"), "logging"));
  json_decref (response);

  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\",\"params\":{}}");
  expect_error (harness, 2, MCP_INVALID_REQUEST, "already");
  assert_int_equal (stop_server (harness), 0);
}

static void
server_negotiates_newest_for_unknown_version (void **state)
{
  struct harness *harness = *state;
  json_t *response;
  json_t *result;

  start_server (harness);
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
                      "\"protocolVersion\":\"1999-12-31\"}}");
  result = receive_result (harness, 1, &response);
  assert_string_equal (json_string_value (json_object_get (result, "protocolVersion")),
                       "2025-11-25");
  json_decref (response);
  assert_int_equal (stop_server (harness), 0);
}

static void
server_answers_protocol_errors (void **state)
{
  struct harness *harness = *state;

  start_server (harness);
  initialize (harness);
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"");
  expect_error (harness, -1, MCP_PARSE_ERROR, "Parse error");
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":\"\xc3\x28\",\"method\":\"ping\"}");
  expect_error (harness, -1, MCP_PARSE_ERROR, "Parse error");
  send_line (harness, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");
  expect_error (harness, -1, MCP_INVALID_REQUEST, "batches");
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}");
  expect_error (harness, -1, MCP_INVALID_REQUEST, "\"id\"");
  send_line (harness, "{\"id\":5,\"method\":\"ping\"}");
  expect_error (harness, 5, MCP_INVALID_REQUEST, "jsonrpc");
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"resources/list\"}");
  expect_error (harness, 6, MCP_METHOD_NOT_FOUND, "Method not found: resources/list");
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\",\"params\":[]}");
  expect_error (harness, 7, MCP_INVALID_PARAMS, "expected an object");

  /* Responses from the client, unknown notifications and blank lines get
   * no response. */
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":99,\"result\":{}}");
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\"}");
  send_line (harness, "");
  expect_nothing_before_ping (harness, 8);
  assert_int_equal (stop_server (harness), 0);
}

static void
server_discards_oversized_line (void **state)
{
  struct harness *harness = *state;
  size_t size = MCP_MAX_MESSAGE_BYTES + 1;
  char *line = xmalloc (size);

  memset (line, 'a', size);
  start_server (harness);
  assert_int_equal (write_all (harness->to_server, line, size), 0);
  assert_int_equal (write_all (harness->to_server, "\n", 1), 0);
  free (line);
  expect_error (harness, -1, MCP_INVALID_REQUEST, "longer than");
  expect_nothing_before_ping (harness, 1);
  assert_int_equal (stop_server (harness), 0);
}

static void
server_lists_tools (void **state)
{
  struct harness *harness = *state;
  json_t *response;
  json_t *result;
  json_t *tools;
  json_t *echo;
  json_t *annotations;

  start_server (harness);
  initialize (harness);
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
                      "\"params\":{\"cursor\":\"ignored\"}}");
  result = receive_result (harness, 1, &response);
  tools = json_object_get (result, "tools");
  assert_int_equal (json_array_size (tools), 6);
  echo = json_array_get (tools, 0);
  assert_string_equal (json_string_value (json_object_get (echo, "name")), "echo");
  assert_string_equal (json_string_value (json_object_get (echo, "description")),
                       "A tool for the tests.");
  assert_string_equal (json_string_value (json_object_get (json_object_get (echo, "inputSchema"),
                                                           "type")),
                       "object");
  assert_true (json_is_object (json_object_get (echo, "outputSchema")));
  annotations = json_object_get (echo, "annotations");
  assert_true (json_is_true (json_object_get (annotations, "readOnlyHint")));
  assert_true (json_is_false (json_object_get (annotations, "destructiveHint")));
  assert_true (json_is_true (json_object_get (annotations, "idempotentHint")));
  assert_true (json_is_false (json_object_get (annotations, "openWorldHint")));
  assert_string_equal (json_string_value (json_object_get (annotations, "title")), "Test tool");
  assert_null (json_object_get (result, "nextCursor"));
  json_decref (response);
  assert_int_equal (stop_server (harness), 0);
}

static void
server_returns_tool_result (void **state)
{
  struct harness *harness = *state;
  json_t *response;
  json_t *result;
  json_t *structured;
  json_t *content;
  json_t *text_json;

  start_server (harness);
  initialize (harness);
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{"
                      "\"name\":\"echo\",\"arguments\":{\"text\":\"hi\\nthere\"}}}");
  result = receive_result (harness, 1, &response);
  structured = json_object_get (result, "structuredContent");
  assert_true (json_is_true (json_object_get (structured, "success")));
  assert_string_equal (json_string_value (json_object_get (json_object_get (structured, "echo"),
                                                           "text")),
                       "hi\nthere");
  assert_true (json_is_false (json_object_get (result, "isError")));

  content = json_object_get (result, "content");
  assert_int_equal (json_array_size (content), 1);
  assert_string_equal (json_string_value (json_object_get (json_array_get (content, 0), "type")),
                       "text");
  text_json = json_loads (json_string_value (json_object_get (json_array_get (content, 0),
                                                              "text")),
                          0, NULL);
  assert_non_null (text_json);
  assert_true (json_equal (text_json, structured));
  json_decref (text_json);
  json_decref (response);

  /* Missing and null arguments mean {}. */
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\","
                      "\"params\":{\"name\":\"echo\"}}");
  result = receive_result (harness, 2, &response);
  assert_int_equal (json_object_size (json_object_get (json_object_get (result,
                                                                        "structuredContent"),
                                                       "echo")),
                    0);
  json_decref (response);
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
                      "\"params\":{\"name\":\"echo\",\"arguments\":null}}");
  receive_result (harness, 3, &response);
  json_decref (response);
  assert_int_equal (stop_server (harness), 0);
}

static void
server_marks_failed_tool_result (void **state)
{
  struct harness *harness = *state;
  json_t *response;
  json_t *result;

  start_server (harness);
  initialize (harness);
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
                      "\"params\":{\"name\":\"fail\",\"arguments\":{}}}");
  result = receive_result (harness, 1, &response);
  assert_true (json_is_true (json_object_get (result, "isError")));
  assert_true (json_is_false (json_object_get (json_object_get (result, "structuredContent"),
                                               "success")));
  json_decref (response);
  assert_int_equal (stop_server (harness), 0);
}

static void
server_rejects_invalid_tool_calls (void **state)
{
  struct harness *harness = *state;

  start_server (harness);
  initialize (harness);
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
                      "\"params\":{\"name\":\"nope\"}}");
  expect_error (harness, 1, MCP_INVALID_PARAMS, "Unknown tool: nope");
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\","
                      "\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":5}}}");
  expect_error (harness, 2, MCP_INVALID_PARAMS, "Invalid argument 'text': expected string");
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
                      "\"params\":{\"name\":\"echo\",\"arguments\":{\"x\":1}}}");
  expect_error (harness, 3, MCP_INVALID_PARAMS, "Unknown argument 'x'");
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\","
                      "\"params\":{\"name\":\"echo\",\"arguments\":[1]}}");
  expect_error (harness, 4, MCP_INVALID_PARAMS, "'arguments'");
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{}}");
  expect_error (harness, 5, MCP_INVALID_PARAMS, "'name'");
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\","
                      "\"params\":{\"name\":7}}");
  expect_error (harness, 6, MCP_INVALID_PARAMS, "'name'");
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
                      "\"params\":{\"name\":\"reject\"}}");
  expect_error (harness, 7, MCP_INVALID_PARAMS, "Invalid argument 'path': outside the sandbox");
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\","
                      "\"params\":{\"name\":\"broken\"}}");
  expect_error (harness, 8, MCP_INTERNAL_ERROR, "broken");
  assert_int_equal (stop_server (harness), 0);
}

static void
server_serves_during_long_call (void **state)
{
  struct harness *harness = *state;
  json_t *response;

  start_server (harness);
  initialize (harness);
  call_wait_tool (harness, 10, "");
  assert_string_equal (tool_state.request_id, "10");

  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"ping\"}");
  expect_pong (harness, 11);
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"tools/list\"}");
  receive_result (harness, 12, &response);
  json_decref (response);
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"tools/call\","
                      "\"params\":{\"name\":\"echo\"}}");
  receive_result (harness, 13, &response);
  json_decref (response);

  /* The long call is still running. */
  assert_int_equal (sem_trywait (&tool_state.returned), -1);
  cancel (harness, 10);
  wait_semaphore (&tool_state.returned);
  assert_int_equal (atomic_load (&tool_state.saw_cancel), 1);
  wait_for_idle (harness);
  expect_nothing_before_ping (harness, 14);
  assert_int_equal (stop_server (harness), 0);
}

static void
server_cancels_call_with_string_id (void **state)
{
  struct harness *harness = *state;

  start_server (harness);
  initialize (harness);
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":\"call-1\",\"method\":\"tools/call\","
                      "\"params\":{\"name\":\"wait\"}}");
  wait_semaphore (&tool_state.started);
  assert_string_equal (tool_state.request_id, "\"call-1\"");

  /* An integer id does not match the string id. */
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                      "\"params\":{\"requestId\":1}}");
  expect_nothing_before_ping (harness, 2);
  assert_int_equal (sem_trywait (&tool_state.returned), -1);

  send_line (harness, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                      "\"params\":{\"requestId\":\"call-1\"}}");
  wait_semaphore (&tool_state.returned);
  assert_int_equal (atomic_load (&tool_state.saw_cancel), 1);
  wait_for_idle (harness);
  expect_nothing_before_ping (harness, 3);
  assert_int_equal (stop_server (harness), 0);
}

static void
server_sends_progress_with_token (void **state)
{
  struct harness *harness = *state;
  json_t *message;
  json_t *params;

  start_server (harness);
  initialize (harness);
  call_wait_tool (harness, 1, ",\"_meta\":{\"progressToken\":\"tok\"}");

  message = receive (harness);
  assert_string_equal (json_string_value (json_object_get (message, "method")),
                       "notifications/progress");
  assert_null (json_object_get (message, "id"));
  params = json_object_get (message, "params");
  assert_string_equal (json_string_value (json_object_get (params, "progressToken")), "tok");
  assert_true (json_number_value (json_object_get (params, "progress")) == 1.0);
  assert_true (json_number_value (json_object_get (params, "total")) == 4.0);
  assert_string_equal (json_string_value (json_object_get (params, "message")), "started");
  json_decref (message);

  message = receive (harness);
  params = json_object_get (message, "params");
  assert_true (json_number_value (json_object_get (params, "progress")) == 2.0);
  assert_null (json_object_get (params, "total"));
  assert_null (json_object_get (params, "message"));
  json_decref (message);

  cancel (harness, 1);
  wait_semaphore (&tool_state.returned);
  wait_for_idle (harness);
  expect_nothing_before_ping (harness, 2);

  /* An integer token works too. */
  call_wait_tool (harness, 3, ",\"_meta\":{\"progressToken\":42}");
  message = receive (harness);
  params = json_object_get (message, "params");
  assert_int_equal (json_integer_value (json_object_get (params, "progressToken")), 42);
  json_decref (message);
  message = receive (harness);
  json_decref (message);
  cancel (harness, 3);
  wait_semaphore (&tool_state.returned);
  wait_for_idle (harness);
  expect_nothing_before_ping (harness, 4);
  assert_int_equal (stop_server (harness), 0);
}

static void
server_sends_no_progress_without_token (void **state)
{
  struct harness *harness = *state;

  start_server (harness);
  initialize (harness);
  call_wait_tool (harness, 1, "");
  expect_nothing_before_ping (harness, 2);
  cancel (harness, 1);
  wait_semaphore (&tool_state.returned);
  wait_for_idle (harness);
  expect_nothing_before_ping (harness, 3);
  assert_int_equal (stop_server (harness), 0);
}

static void
server_caps_running_calls (void **state)
{
  struct harness *harness = *state;
  json_t *response;

  mcp_server_set_max_calls (harness->server, 2);
  start_server (harness);
  initialize (harness);
  call_wait_tool (harness, 1, "");
  call_wait_tool (harness, 2, "");
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
                      "\"params\":{\"name\":\"echo\"}}");
  expect_error (harness, 3, MCP_SERVER_ERROR, "Too many tool calls");

  cancel (harness, 1);
  wait_semaphore (&tool_state.returned);
  wait_for_calls_below (harness, 2);
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\","
                      "\"params\":{\"name\":\"echo\"}}");
  receive_result (harness, 4, &response);
  json_decref (response);
  cancel (harness, 2);
  wait_semaphore (&tool_state.returned);
  assert_int_equal (stop_server (harness), 0);
}

static void
server_rejects_id_of_running_call (void **state)
{
  struct harness *harness = *state;

  start_server (harness);
  initialize (harness);
  call_wait_tool (harness, 1, "");
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
                      "\"params\":{\"name\":\"echo\"}}");
  expect_error (harness, 1, MCP_INVALID_REQUEST, "already used");
  cancel (harness, 1);
  wait_semaphore (&tool_state.returned);
  assert_int_equal (stop_server (harness), 0);
}

static void
server_forwards_logs_at_client_level (void **state)
{
  struct harness *harness = *state;
  json_t *response;
  json_t *message;
  json_t *params;

  start_server (harness);
  initialize (harness);

  /* Nothing is forwarded before logging/setLevel. */
  log_error ("test", "not forwarded");
  expect_nothing_before_ping (harness, 1);

  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"logging/setLevel\","
                      "\"params\":{\"level\":\"loud\"}}");
  expect_error (harness, 2, MCP_INVALID_PARAMS, "'level'");
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"logging/setLevel\","
                      "\"params\":{}}");
  expect_error (harness, 3, MCP_INVALID_PARAMS, "'level'");

  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"logging/setLevel\","
                      "\"params\":{\"level\":\"warning\"}}");
  receive_result (harness, 4, &response);
  json_decref (response);

  log_info ("test", "below the client level");
  log_warning ("test", "forwarded %d", 1);
  message = receive (harness);
  assert_string_equal (json_string_value (json_object_get (message, "method")),
                       "notifications/message");
  params = json_object_get (message, "params");
  assert_string_equal (json_string_value (json_object_get (params, "level")), "warning");
  assert_string_equal (json_string_value (json_object_get (params, "logger")), "test");
  assert_string_equal (json_string_value (json_object_get (params, "data")), "forwarded 1");
  json_decref (message);
  expect_nothing_before_ping (harness, 5);

  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"logging/setLevel\","
                      "\"params\":{\"level\":\"critical\"}}");
  receive_result (harness, 6, &response);
  json_decref (response);
  log_error ("test", "below critical");
  expect_nothing_before_ping (harness, 7);
  assert_int_equal (stop_server (harness), 0);

  /* The sink is removed when the server stops. */
  log_error ("test", "after stop");
}

static void
server_stops_at_eof_and_cancels_calls (void **state)
{
  struct harness *harness = *state;
  json_t *response;
  json_t *result;

  start_server (harness);
  initialize (harness);
  call_wait_tool (harness, 1, "");
  assert_int_equal (stop_server (harness), 0);
  assert_int_equal (atomic_load (&tool_state.saw_cancel), 1);

  /* The client did not cancel, so the response of the stopped call is
   * still sent. */
  result = receive_result (harness, 1, &response);
  assert_true (json_is_true (json_object_get (result, "isError")));
  json_decref (response);
  assert_int_equal (harness->server->n_threads, 0);
}

static void
server_stops_on_signal (void **state)
{
  static const int signals[] = { SIGTERM, SIGINT };
  struct harness *harness = *state;
  size_t i;

  for (i = 0; i < N_ELEMENTS (signals); i++)
    {
      atomic_store (&tool_state.saw_cancel, 0);
      start_server (harness);
      initialize (harness);
      call_wait_tool (harness, 1, "");
      assert_int_equal (kill (getpid (), signals[i]), 0);
      pthread_join (harness->thread, NULL);
      harness->thread = 0;
      assert_int_equal (harness->serve_result, 0);
      assert_int_equal (atomic_load (&tool_state.saw_cancel), 1);
      json_decref (receive (harness));
    }
}

static void
server_fails_when_output_closes (void **state)
{
  struct harness *harness = *state;

  start_server (harness);
  close (harness->from_server);
  harness->from_server = -1;
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
  pthread_join (harness->thread, NULL);
  harness->thread = 0;
  assert_int_equal (harness->serve_result, -1);
  assert_int_equal (harness->error.errnum, EPIPE);
  assert_non_null (strstr (harness->error.message, "write to client"));
}

static void
progress_does_not_block_unread_client (void **state)
{
  struct harness *harness = *state;
  int overflow = flood_overflow_count (harness);
  int received;

  start_server (harness);
  initialize (harness);
  call_flood_tool (harness, 1, "{}", ",\"_meta\":{\"progressToken\":\"tok\"}");

  /* The test reads nothing while the tool fills the pipe and the queue. */
  wait_for_flood (overflow);
  cancel (harness, 1);
  wait_semaphore (&tool_state.returned);
  assert_int_equal (atomic_load (&tool_state.saw_cancel), 1);
  wait_for_idle (harness);

  /* Once the client reads again it gets the queued progress, but no
   * response to the cancelled call, and the excess was dropped. */
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
  received = skip_notifications_until (harness, "notifications/progress", 2);
  assert_true (received > 0);
  assert_true (received < atomic_load (&tool_state.flood_sent));
  assert_int_equal (stop_server (harness), 0);
}

static void
log_forwarding_does_not_block_unread_client (void **state)
{
  struct harness *harness = *state;
  int overflow = flood_overflow_count (harness);

  start_server (harness);
  initialize (harness);
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"logging/setLevel\","
                      "\"params\":{\"level\":\"debug\"}}");
  skip_notifications_until (harness, "notifications/message", 1);
  call_flood_tool (harness, 2, "{\"log\":true}", "");

  wait_for_flood (overflow);
  cancel (harness, 2);
  wait_semaphore (&tool_state.returned);
  assert_int_equal (atomic_load (&tool_state.saw_cancel), 1);
  wait_for_idle (harness);

  /* At level emergency no new record is forwarded while the test drains
   * the queue. */
  send_line (harness, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"logging/setLevel\","
                      "\"params\":{\"level\":\"emergency\"}}");
  assert_true (skip_notifications_until (harness, "notifications/message", 3) > 0);
  assert_int_equal (stop_server (harness), 0);
}

static void
responses_keep_order_after_backlog (void **state)
{
  enum { FIRST_PING_ID = 100, LAST_PING_ID = 149, ECHO_ID = 150 };
  struct harness *harness = *state;
  int overflow = flood_overflow_count (harness);
  double last_progress = 0;
  int received = 0;
  json_int_t id;
  json_t *message;

  start_server (harness);
  initialize (harness);
  atomic_store (&tool_state.flood_limit, overflow);
  call_flood_tool (harness, 1, "{}", ",\"_meta\":{\"progressToken\":7}");
  wait_semaphore (&tool_state.returned);
  assert_int_equal (atomic_load (&tool_state.flood_sent), overflow);
  wait_for_idle (harness);

  /* The queue is full of progress now, and responses must still be
   * queued. */
  for (id = FIRST_PING_ID; id <= LAST_PING_ID; id++)
    send_format (harness, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"ping\"}",
                 (long long) id);
  send_format (harness,
               "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{"
               "\"name\":\"echo\",\"arguments\":{\"text\":\"after\"}}}",
               ECHO_ID);

  /* The client reads again: progress in the order it was sent, then the
   * flood's response, then every later response in request order. */
  for (;;)
    {
      json_t *params;
      double progress;

      message = receive (harness);
      if (json_object_get (message, "id") != NULL)
        break;
      assert_string_equal (json_string_value (json_object_get (message, "method")),
                           "notifications/progress");
      params = json_object_get (message, "params");
      assert_int_equal (json_integer_value (json_object_get (params, "progressToken")), 7);
      progress = json_number_value (json_object_get (params, "progress"));
      if (progress <= last_progress)
        fail_msg ("progress %g arrived after progress %g", progress, last_progress);
      last_progress = progress;
      received++;
      json_decref (message);
    }
  assert_int_equal (json_integer_value (json_object_get (message, "id")), 1);
  assert_true (json_is_false (json_object_get (json_object_get (message, "result"), "isError")));
  json_decref (message);
  assert_true (received > 0);
  assert_true (received < overflow);

  for (id = FIRST_PING_ID; id <= LAST_PING_ID; id++)
    expect_pong (harness, id);
  receive_result (harness, ECHO_ID, &message);
  json_decref (message);
  expect_nothing_before_ping (harness, ECHO_ID + 1);
  assert_int_equal (stop_server (harness), 0);
}

static void
shutdown_does_not_wait_for_unread_client (void **state)
{
  struct harness *harness = *state;
  int overflow = flood_overflow_count (harness);
  struct timespec deadline;
  int64_t start_ms;
  int64_t stop_ms;

  start_server (harness);
  initialize (harness);
  call_flood_tool (harness, 1, "{}", ",\"_meta\":{\"progressToken\":1}");
  wait_for_flood (overflow);

  /* End of input while the pipe is full: the server cancels the call and
   * gives up on the queue after MCP_FLUSH_TIMEOUT_MS. */
  start_ms = now_monotonic_ms ();
  close (harness->to_server);
  harness->to_server = -1;
  clock_gettime (CLOCK_REALTIME, &deadline);
  deadline.tv_sec += (MCP_FLUSH_TIMEOUT_MS + WAIT_MS) / 1000;
  if (pthread_timedjoin_np (harness->thread, NULL, &deadline) != 0)
    fail_msg ("the server did not stop within %d ms while the client read nothing",
              MCP_FLUSH_TIMEOUT_MS + WAIT_MS);
  stop_ms = now_monotonic_ms ();
  harness->thread = 0;

  assert_int_equal (harness->serve_result, 0);
  assert_int_equal (atomic_load (&tool_state.saw_cancel), 1);
  assert_true (stop_ms - start_ms >= MCP_FLUSH_TIMEOUT_MS);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (server_requires_initialize, setup_server, teardown_server),
    cmocka_unit_test_setup_teardown (server_initializes_once, setup_server, teardown_server),
    cmocka_unit_test_setup_teardown (server_negotiates_newest_for_unknown_version, setup_server,
                                     teardown_server),
    cmocka_unit_test_setup_teardown (server_answers_protocol_errors, setup_server,
                                     teardown_server),
    cmocka_unit_test_setup_teardown (server_discards_oversized_line, setup_server,
                                     teardown_server),
    cmocka_unit_test_setup_teardown (server_lists_tools, setup_server, teardown_server),
    cmocka_unit_test_setup_teardown (server_returns_tool_result, setup_server, teardown_server),
    cmocka_unit_test_setup_teardown (server_marks_failed_tool_result, setup_server,
                                     teardown_server),
    cmocka_unit_test_setup_teardown (server_rejects_invalid_tool_calls, setup_server,
                                     teardown_server),
    cmocka_unit_test_setup_teardown (server_serves_during_long_call, setup_server,
                                     teardown_server),
    cmocka_unit_test_setup_teardown (server_cancels_call_with_string_id, setup_server,
                                     teardown_server),
    cmocka_unit_test_setup_teardown (server_sends_progress_with_token, setup_server,
                                     teardown_server),
    cmocka_unit_test_setup_teardown (server_sends_no_progress_without_token, setup_server,
                                     teardown_server),
    cmocka_unit_test_setup_teardown (server_caps_running_calls, setup_server, teardown_server),
    cmocka_unit_test_setup_teardown (server_rejects_id_of_running_call, setup_server,
                                     teardown_server),
    cmocka_unit_test_setup_teardown (server_forwards_logs_at_client_level, setup_server,
                                     teardown_server),
    cmocka_unit_test_setup_teardown (server_stops_at_eof_and_cancels_calls, setup_server,
                                     teardown_server),
    cmocka_unit_test_setup_teardown (server_stops_on_signal, setup_server, teardown_server),
    cmocka_unit_test_setup_teardown (server_fails_when_output_closes, setup_server,
                                     teardown_server),
    cmocka_unit_test_setup_teardown (progress_does_not_block_unread_client, setup_server,
                                     teardown_server),
    cmocka_unit_test_setup_teardown (log_forwarding_does_not_block_unread_client, setup_server,
                                     teardown_server),
    cmocka_unit_test_setup_teardown (responses_keep_order_after_backlog, setup_server,
                                     teardown_server),
    cmocka_unit_test_setup_teardown (shutdown_does_not_wait_for_unread_client, setup_server,
                                     teardown_server),
  };

  /* Before any thread exists, so that every thread inherits the mask and
   * the signal test's SIGTERM reaches the server's signalfd. */
  mcp_block_signals ();
  return cmocka_run_group_tests (tests, NULL, NULL);
}
