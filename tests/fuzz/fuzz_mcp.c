/* Fuzz target for the MCP server: each input is the whole byte stream a
 * client writes to `omcp serve`. It goes through mcp_server_serve, the
 * function that serves standard input, so line framing, JSON parsing,
 * JSON-RPC validation, the lifecycle, tools/list, tools/call with schema
 * validation, cancellation, progress and log forwarding all see it. Test
 * tools stand in for the real ones, so no sandbox starts. Every thread the
 * server starts for one input has finished its work when the input
 * returns.
 *
 * Built with -fsanitize=fuzzer this is a libFuzzer target. Built with
 * replay.c it replays files, which is how `make test` runs the seed corpus
 * and the regression inputs.
 *
 * NOTE: a line longer than MCP_MAX_MESSAGE_BYTES (16 MiB) is far beyond the
 * fuzzer's input sizes, so the oversized-line path is left to test_server. */
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mcp-internal.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Upper bound on how long the wait tool blocks. The server cancels every
 * running call at end of input, so this limit only matters if cancellation
 * is broken. */
#define WAIT_TOOL_MAX_MS 10000

/* Maximum number of notifications the notify tool sends, whatever "count"
 * requests. */
#define NOTIFY_MAX_COUNT 16

/* Input schema of the echo tool: every keyword the validator supports,
 * nested, as the real tools' schemas use them. */
static const char echo_schema[] =
  "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"text\"],"
  "\"properties\":{"
  "\"text\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64},"
  "\"timeout\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":300},"
  "\"ratio\":{\"type\":\"number\",\"minimum\":-1.5,\"maximum\":1e300},"
  "\"flag\":{\"type\":\"boolean\"},"
  "\"mode\":{\"type\":\"string\",\"enum\":[\"fast\",\"slow\",null,1]},"
  "\"either\":{\"type\":[\"string\",\"integer\",\"null\"]},"
  "\"tags\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":4,"
  "\"items\":{\"type\":\"string\",\"maxLength\":8}},"
  "\"options\":{\"type\":\"object\",\"required\":[\"name\"],"
  "\"properties\":{\"name\":{\"type\":\"string\"},"
  "\"files\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
  "\"properties\":{\"path\":{\"type\":\"string\"}},\"additionalProperties\":false}}},"
  "\"additionalProperties\":{\"type\":[\"integer\",\"boolean\"]}}}}";

static const char any_object_schema[] = "{\"type\":\"object\"}";

static const char notify_schema[] =
  "{\"type\":\"object\",\"properties\":{"
  "\"count\":{\"type\":\"integer\",\"minimum\":0},"
  "\"message\":{\"type\":\"string\"},"
  "\"total\":{\"type\":\"number\"}}}";

/* Input and output of the server: memory files reused for every input.
 * Regular files are always readable and writable for poll, and a read at
 * their end returns 0, which the server takes as end of input. */
static int input_fd = -1;
static int output_fd = -1;

/* Largest read the server gets from INPUT_FD, set for each input. A memory
 * file would hand the server a whole input in one read, so short reads, as
 * a pipe gives them, split lines across reads and exercise the line
 * reader's buffering. */
static size_t input_read_bytes;

/* The fuzz programs link with -Wl,--wrap=read, so every read(2) call in the
 * server's code comes here. */
ssize_t __real_read (int fd, void *buffer, size_t count);
ssize_t __wrap_read (int fd, void *buffer, size_t count);

ssize_t
__wrap_read (int fd, void *buffer, size_t count)
{
  if (fd == input_fd && count > input_read_bytes)
    count = input_read_bytes;
  return __real_read (fd, buffer, count);
}

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

/* Rejects its arguments the way a tool does after its own checks, quoting
 * a client string in the message. */
static json_t *
reject_tool (mcp_call *call, json_t *arguments, void *userdata)
{
  const char *reason = json_string_value (json_object_get (arguments, "reason"));

  (void) userdata;
  mcp_call_invalid_params (call, "Invalid argument 'reason': %s",
                           reason != NULL ? reason : "missing");
  return NULL;
}

/* Runs until the client or the server cancels it, so that later lines of
 * the same input meet a running call. */
static json_t *
wait_tool (mcp_call *call, json_t *arguments, void *userdata)
{
  struct pollfd pfd = { .fd = mcp_call_cancel_fd (call), .events = POLLIN };

  (void) arguments;
  (void) userdata;
  mcp_call_progress (call, 0, 1, "waiting");
  (void) TEMP_FAILURE_RETRY (poll (&pfd, 1, WAIT_TOOL_MAX_MS));
  mcp_call_progress (call, 1, 1, "after cancel");
  return json_pack ("{s:b,s:b}", "success", 0, "cancelled", mcp_call_cancelled (call));
}

/* Sends progress and log records that carry client text, so that
 * logging/setLevel and progress tokens from the input have an effect. */
static json_t *
notify_tool (mcp_call *call, json_t *arguments, void *userdata)
{
  json_int_t count = json_integer_value (json_object_get (arguments, "count"));
  const char *message = json_string_value (json_object_get (arguments, "message"));
  json_t *total = json_object_get (arguments, "total");
  json_int_t i;

  (void) userdata;
  if (count > NOTIFY_MAX_COUNT)
    count = NOTIFY_MAX_COUNT;
  for (i = 0; i < count; i++)
    {
      mcp_call_progress (call, (double) i, total != NULL ? json_number_value (total) : -1,
                         message);
      /* Below ERROR, so stderr stays quiet. */
      log_msg ((enum log_level) (i % LOG_LEVEL_ERROR), "fuzz", "notify %lld of %lld: %s",
               (long long) i, (long long) count, message != NULL ? message : "(none)");
    }
  return json_pack ("{s:b,s:I}", "success", 1, "sent", count);
}

static void
add_tool (mcp_server *server, const char *name, const char *input_schema, mcp_tool_fn fn)
{
  json_error_t error;
  const struct mcp_tool tool = {
    .name = name,
    .title = name,
    .description = "A tool of the MCP fuzz target.",
    .input_schema = json_loads (input_schema, 0, &error),
    .output_schema = json_pack ("{s:s,s:{s:{s:s}},s:[s]}", "type", "object", "properties",
                                "success", "type", "boolean", "required", "success"),
    .read_only = true,
    .idempotent = true,
    .fn = fn,
  };

  if (tool.input_schema == NULL)
    {
      fprintf (stderr, "fuzz_mcp: invalid schema of tool %s: %s\n", name, error.text);
      abort ();
    }
  mcp_server_add_tool (server, &tool);
}

/* Stop the process so that the fuzzer keeps the input, naming the broken
 * rule. */
static void __attribute__ ((noreturn))
broken_rule (const char *rule, const char *line, size_t length)
{
  fprintf (stderr, "fuzz_mcp: %s: %.*s\n", rule, (int) (length < 512 ? length : 512), line);
  abort ();
}

static bool
has_valid_response_id (json_t *message)
{
  json_t *id = json_object_get (message, "id");

  return json_is_string (id) || json_is_integer (id) || json_is_null (id);
}

/* Check one line the server sent: a JSON-RPC 2.0 object that is either a
 * response with exactly one of result and error, or a notification.
 * Returns true for a response. */
static bool
check_output_line (const char *line, size_t length)
{
  json_t *message = json_loadb (line, length, JSON_REJECT_DUPLICATES, NULL);
  json_t *error;
  bool has_result;
  bool has_error;
  bool has_method;

  if (!json_is_object (message))
    broken_rule ("server sent a line that is not a JSON object", line, length);
  if (!json_is_string (json_object_get (message, "jsonrpc"))
      || strcmp (json_string_value (json_object_get (message, "jsonrpc")), "2.0") != 0)
    broken_rule ("server sent a message without \"jsonrpc\": \"2.0\"", line, length);

  has_result = json_object_get (message, "result") != NULL;
  error = json_object_get (message, "error");
  has_error = error != NULL;
  has_method = json_object_get (message, "method") != NULL;
  if (has_method)
    {
      if (!json_is_string (json_object_get (message, "method")) || has_result || has_error
          || json_object_get (message, "id") != NULL)
        broken_rule ("server sent a malformed notification", line, length);
    }
  else
    {
      if (!has_valid_response_id (message))
        broken_rule ("server sent a response without a valid id", line, length);
      if (has_result == has_error)
        broken_rule ("server sent a response without exactly one of result and error", line,
                     length);
      if (has_error && (!json_is_integer (json_object_get (error, "code"))
                        || !json_is_string (json_object_get (error, "message"))))
        broken_rule ("server sent an error without an integer code and a message", line,
                     length);
    }
  json_decref (message);
  return !has_method;
}

/* Count the lines of an input, including an unterminated last line. */
static size_t
count_lines (const uint8_t *data, size_t size)
{
  size_t count = 0;
  size_t i;

  for (i = 0; i < size; i++)
    if (data[i] == '\n')
      count++;
  if (size > 0 && data[size - 1] != '\n')
    count++;
  return count;
}

/* Check everything the server wrote for one input of INPUT_LINES lines.
 * Each line gets at most one response. */
static void
check_output (size_t input_lines)
{
  struct mcp_line_reader reader;
  const char *line;
  size_t length;
  enum mcp_line_status status;
  size_t responses = 0;

  if (lseek (output_fd, 0, SEEK_SET) < 0)
    abort ();
  mcp_line_reader_init (&reader, MCP_MAX_MESSAGE_BYTES);
  for (;;)
    {
      status = mcp_line_reader_next (&reader, &line, &length);
      if (status == MCP_LINE_OK)
        {
          if (check_output_line (line, length) && ++responses > input_lines)
            broken_rule ("server sent more responses than the input has lines", line, length);
        }
      else if (status == MCP_LINE_TOO_LONG)
        broken_rule ("server sent a line longer than the message limit", "", 0);
      else if (reader.eof)
        break;
      else if (mcp_line_reader_fill (&reader, output_fd) < 0)
        abort ();
    }
  mcp_line_reader_destroy (&reader);
}

/* Replace the content of FD with DATA and rewind it. */
static void
reset_file (int fd, const uint8_t *data, size_t size)
{
  if (ftruncate (fd, 0) < 0 || lseek (fd, 0, SEEK_SET) < 0)
    abort ();
  if (size > 0 && write_all (fd, data, size) < 0)
    abort ();
  if (lseek (fd, 0, SEEK_SET) < 0)
    abort ();
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void) argc;
  (void) argv;

  /* Records are still formatted for the client sink, so the debug log
   * lines are exercised, but stderr only gets errors. */
  log_set_level (LOG_LEVEL_ERROR);
  input_fd = memfd_create ("fuzz-input", MFD_CLOEXEC);
  output_fd = memfd_create ("fuzz-output", MFD_CLOEXEC);
  if (input_fd < 0 || output_fd < 0)
    {
      perror ("fuzz_mcp: memfd_create");
      abort ();
    }
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const struct mcp_server_info info = {
    .name = "omcp-fuzz",
    .version = "0",
    .instructions = "Fuzz target.",
  };
  mcp_server *server;
  omcp_error error;

  if (input_fd < 0)
    LLVMFuzzerInitialize (NULL, NULL);
  reset_file (input_fd, data, size);
  reset_file (output_fd, NULL, 0);
  /* From 1 to 4081 bytes, chosen by the last byte so that the fuzzer can
   * vary it. Most inputs end in a newline, which gives 161 bytes. */
  input_read_bytes = size > 0 ? 1 + (size_t) data[size - 1] * 16 : 1;

  server = mcp_server_new (&info);
  add_tool (server, "echo", echo_schema, echo_tool);
  add_tool (server, "fail", any_object_schema, fail_tool);
  add_tool (server, "reject", any_object_schema, reject_tool);
  add_tool (server, "wait", any_object_schema, wait_tool);
  add_tool (server, "notify", notify_schema, notify_tool);
  /* Low enough that an input can reach the cap on running calls. */
  mcp_server_set_max_calls (server, 4);

  if (mcp_server_serve (server, input_fd, output_fd, &error) < 0)
    {
      fprintf (stderr, "fuzz_mcp: serve failed: %s\n", error.message);
      abort ();
    }
  if (server->n_threads != 0 || server->calls != NULL)
    broken_rule ("tool calls still running after the server stopped", "", 0);
  mcp_server_free (server);

  check_output (count_lines (data, size));
  return 0;
}
