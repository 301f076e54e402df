/* Declarations shared by the files of src/mcp and its unit tests: line
 * framing, JSON-RPC message parsing, lifecycle helpers, argument
 * validation, the server state and the tools/call machinery. */
#ifndef OMCP_MCP_INTERNAL_H
#define OMCP_MCP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "log.h"
#include "mcp.h"

/* Default cap on tools/call requests running at the same time. */
#define MCP_DEFAULT_MAX_CALLS 64

/* ---- Line framing (jsonrpc.c) ---- */

/* Splits a byte stream into lines. Buffered data is BUFFER[START, LENGTH).
 * An unterminated line never grows past MAX_LINE_BYTES: once it does, the
 * reader drops its bytes until the next newline and reports the line as
 * too long. */
struct mcp_line_reader
{
  char *buffer;
  size_t capacity;
  size_t start;
  size_t length;
  size_t scanned;         /* bytes after START known to contain no newline */
  size_t max_line_bytes;  /* not counting the newline */
  bool discarding;        /* inside an oversized line */
  bool eof;
};

enum mcp_line_status
{
  MCP_LINE_NONE,      /* no complete line is buffered: call mcp_line_reader_fill */
  MCP_LINE_OK,        /* *LINE and *LENGTH hold one line without its newline */
  MCP_LINE_TOO_LONG,  /* one oversized line was discarded up to its end */
};

void mcp_line_reader_init (struct mcp_line_reader *reader, size_t max_line_bytes);
void mcp_line_reader_destroy (struct mcp_line_reader *reader);

/* Read once from FD into the buffer. Returns the number of bytes read, 0
 * at end of file (and marks the reader so that mcp_line_reader_next
 * returns the last unterminated line), or -1 with errno set. EINTR is
 * retried. */
ssize_t mcp_line_reader_fill (struct mcp_line_reader *reader, int fd);

/* Take the next line out of the buffer. The line is valid until the next
 * call to mcp_line_reader_fill. */
enum mcp_line_status mcp_line_reader_next (struct mcp_line_reader *reader, const char **line,
                                           size_t *length);

/* ---- JSON-RPC messages (jsonrpc.c) ---- */

enum mcp_message_kind
{
  MCP_MESSAGE_INVALID,       /* send an error with ERROR_CODE and ERROR_MESSAGE */
  MCP_MESSAGE_BLANK,         /* a line of whitespace only: ignored */
  MCP_MESSAGE_REQUEST,
  MCP_MESSAGE_NOTIFICATION,
  MCP_MESSAGE_RESPONSE,      /* a response or error sent by the client: ignored */
};

struct mcp_message
{
  enum mcp_message_kind kind;
  json_t *root;        /* owned, NULL when the line did not parse */
  json_t *id;          /* borrowed from ROOT. NULL for notifications, and for
                        * invalid messages whose id is missing or invalid */
  const char *method;  /* borrowed from ROOT */
  json_t *params;      /* borrowed from ROOT, NULL when absent */
  int error_code;
  char error_message[256];
};

/* Parse and classify one line. Never fails: a line that is not a valid
 * request, notification or response becomes MCP_MESSAGE_INVALID with the
 * JSON-RPC error to send back. Release with mcp_message_clear. */
void mcp_message_parse (const char *line, size_t length, struct mcp_message *message);
void mcp_message_clear (struct mcp_message *message);

/* Build {"jsonrpc":"2.0","id":ID,"result":RESULT}. RESULT is stolen, and
 * a NULL ID becomes null. */
json_t *mcp_response_new (json_t *id, json_t *result);

/* Build {"jsonrpc":"2.0","id":ID,"error":{"code":CODE,"message":MESSAGE}}.
 * A NULL ID becomes null. */
json_t *mcp_error_response_new (json_t *id, int code, const char *message);

/* Build {"jsonrpc":"2.0","method":METHOD,"params":PARAMS}. PARAMS is
 * stolen. */
json_t *mcp_notification_new (const char *method, json_t *params);

/* Serialize MESSAGE as compact JSON followed by one newline. Returns a heap
 * string of *LENGTH bytes, or NULL when MESSAGE cannot be serialized. */
char *mcp_message_dump (json_t *message, size_t *length);

/* Compact JSON text of VALUE for logs ("7", "\"abc\""), with control
 * characters escaped so that it cannot break a log line. NULL gives
 * "null". */
char *mcp_json_to_text (json_t *value);

/* ---- Lifecycle (lifecycle.c) ---- */

/* Protocol versions this server speaks, newest first, NULL-terminated. */
extern const char *const mcp_supported_versions[];

/* Return the protocol version for the initialize result: REQUESTED when it
 * is a supported version string, otherwise the newest supported version. */
const char *mcp_negotiate_version (json_t *requested);

/* Build the result of initialize for the negotiated VERSION. */
json_t *mcp_initialize_result (const struct mcp_server_info *info, const char *version);

/* Client log levels: the syslog severities that MCP uses, numbered so that
 * a larger number is more severe. */
enum mcp_log_severity
{
  MCP_LOG_SEVERITY_OFF = -1,  /* forward nothing */
  MCP_LOG_SEVERITY_DEBUG = 0,
  MCP_LOG_SEVERITY_INFO,
  MCP_LOG_SEVERITY_NOTICE,
  MCP_LOG_SEVERITY_WARNING,
  MCP_LOG_SEVERITY_ERROR,
  MCP_LOG_SEVERITY_CRITICAL,
  MCP_LOG_SEVERITY_ALERT,
  MCP_LOG_SEVERITY_EMERGENCY,
};

/* Parse a logging/setLevel level name. Returns false for unknown names. */
bool mcp_log_severity_parse (const char *name, int *severity);
const char *mcp_log_severity_name (int severity);
int mcp_log_severity_from_level (enum log_level level);

/* Build the tools/list entry of TOOL. */
json_t *mcp_tool_describe (const struct mcp_tool *tool);

/* ---- Argument validation (schema.c) ---- */

/* Validate INSTANCE against SCHEMA. Supported keywords: type (a name or an
 * array of names), properties, required, additionalProperties (false or a
 * schema), enum, minimum, maximum, minLength, maxLength, items, minItems
 * and maxItems. Other keywords are ignored. On failure returns false and
 * writes a message naming the argument, such as "Invalid argument
 * 'timeout': expected integer", into MESSAGE. */
bool mcp_schema_validate (json_t *schema, json_t *instance, char *message, size_t size);

/* ---- Server state (server.c, dispatch.c, call.c) ---- */

struct mcp_server
{
  char *name;
  char *version;
  char *instructions;
  struct mcp_tool *tools;  /* strings owned, schemas hold one reference */
  size_t n_tools;

  /* Set up by mcp_server_serve. */
  int wake_fd;                      /* eventfd that wakes the serve loop */
  bool initialized;                 /* serve loop only */
  _Atomic int client_log_severity;  /* an enum mcp_log_severity */

  /* Output queue (output.c). Only the writer thread writes to OUT_FD.
   * Producers append complete lines under OUT_LOCK and never wait for the
   * client. The logger's lock is taken before OUT_LOCK (the log sink
   * sends), so never log while holding OUT_LOCK. */
  pthread_mutex_t out_lock;
  pthread_cond_t out_queued;        /* a line was queued or the writer must stop */
  pthread_cond_t out_drained;       /* OUT_BYTES reached 0 or the output failed */
  struct mcp_output_line *out_head;
  struct mcp_output_line **out_tail;
  size_t out_bytes;                 /* queued lines plus the line being written */
  bool out_accepting;               /* false before start, after stop and after a failure */
  uint64_t dropped_notifications;   /* dropped since the last report */
  int64_t drop_reported_ms;         /* monotonic time of the last report */
  int out_fd;
  int writer_stop_fd;               /* eventfd: readable once the writer must stop */
  bool writer_stop;
  bool writer_running;              /* serve thread only */
  pthread_t writer;
  atomic_bool output_failed;
  _Atomic int output_errno;

  /* Running tools/call requests. */
  pthread_mutex_t calls_lock;
  pthread_cond_t calls_finished;
  struct mcp_call *calls;  /* calls whose tool function still runs */
  size_t n_threads;        /* call threads not yet finished, a superset of CALLS */
  size_t max_calls;
};

/* ---- Output (output.c) ---- */

/* Queued output above which notifications are dropped, in bytes. Responses
 * are always queued, because the cap on running calls bounds them. */
#define MCP_MAX_QUEUED_BYTES (4 * 1024 * 1024)

/* How long mcp_server_serve lets the writer send what is still queued once
 * the last call thread has finished. A client that reads nothing in that
 * time loses the rest. */
#define MCP_FLUSH_TIMEOUT_MS 2000

/* Start the writer thread that owns OUT_FD. Returns 0, or -1 with ERR
 * set. */
int mcp_output_start (mcp_server *server, int out_fd, omcp_error *err) OMCP_WUR;

/* Let the writer send what is queued for at most TIMEOUT_MS, then stop it
 * and discard the rest. Call once nothing sends any more. */
void mcp_output_stop (mcp_server *server, int64_t timeout_ms);

/* Queue MESSAGE (stolen) as one line for the client. Never waits for the
 * client. Returns the bytes queued, or -1 with errno set: EINVAL when
 * MESSAGE cannot be serialized, EBADF when the server is not serving, or
 * the writer's errno once a write failed, after which the writer has woken
 * the serve loop through WAKE_FD. Does not log, so the log sink may call
 * it. */
ssize_t mcp_server_send (mcp_server *server, json_t *message);

/* Like mcp_server_send, but drops MESSAGE and fails with ENOBUFS when more
 * than MCP_MAX_QUEUED_BYTES would be queued. The writer thread logs how many
 * were dropped, at most once per few seconds. */
ssize_t mcp_server_send_notification (mcp_server *server, json_t *message);

/* True on the writer thread. The log sink forwards nothing from it, so the
 * writer's own log lines never queue output. */
bool mcp_output_on_writer_thread (void);

/* The registered tool called NAME, or NULL. */
const struct mcp_tool *mcp_server_find_tool (mcp_server *server, const char *name);

/* Handle one received line: parse it, then send the response or start a
 * tools/call. */
void mcp_dispatch_line (mcp_server *server, const char *line, size_t length);

/* Send the error for a line that was longer than MCP_MAX_MESSAGE_BYTES and
 * was discarded. */
void mcp_dispatch_oversized_line (mcp_server *server);

/* Cap the number of tools/call requests running at once (default
 * MCP_DEFAULT_MAX_CALLS). Call before mcp_server_serve. */
void mcp_server_set_max_calls (mcp_server *server, size_t max_calls);

/* Start TOOL on its own thread for the request ID. ID, ARGUMENTS and
 * PROGRESS_TOKEN (may be NULL) are copied. Returns 0, or a JSON-RPC error
 * code with the message in MESSAGE when the call cannot start: too many
 * calls running, ID already used by a running call, or no thread. */
int mcp_call_start (mcp_server *server, const struct mcp_tool *tool, json_t *id, json_t *arguments,
                    json_t *progress_token, char *message, size_t size);

/* Cancel the running call with REQUEST_ID on the client's behalf, so its
 * response will not be sent. Returns false when no such call runs. */
bool mcp_call_cancel_by_id (mcp_server *server, json_t *request_id);

/* Cancel every running call because the server stops, then wait for every
 * call thread to finish. Their responses are still sent. */
void mcp_call_cancel_all_and_wait (mcp_server *server);

#endif
