/* MCP server: JSON-RPC 2.0 over a line-delimited transport, lifecycle and
 * version negotiation, the tool registry, cancellation, progress and
 * logging notifications. Knows nothing of what the tools do. */
#ifndef OMCP_MCP_H
#define OMCP_MCP_H

#include <jansson.h>
#include <stdbool.h>

#include "util.h"

/* JSON-RPC 2.0 error codes. */
#define MCP_PARSE_ERROR -32700
#define MCP_INVALID_REQUEST -32600
#define MCP_METHOD_NOT_FOUND -32601
#define MCP_INVALID_PARAMS -32602
#define MCP_INTERNAL_ERROR -32603
/* Implementation-defined server error: request rejected before it ran. */
#define MCP_SERVER_ERROR -32000

/* Longest accepted message line, in bytes. Longer lines are discarded up to
 * their newline, and the client gets an invalid-request error. */
#define MCP_MAX_MESSAGE_BYTES (16 * 1024 * 1024)

typedef struct mcp_server mcp_server;

/* One running tools/call. Tool functions receive it and may ask it whether
 * the client cancelled, and send progress. It is valid until the tool
 * function returns. */
typedef struct mcp_call mcp_call;

/* A tool function runs in its own thread. It returns a new JSON object
 * (the structured result, which must contain "success"), or NULL after
 * calling mcp_call_invalid_params. The server owns ARGS. */
typedef json_t *(*mcp_tool_fn) (mcp_call *call, json_t *arguments, void *userdata);

struct mcp_tool
{
  const char *name;
  const char *title;
  const char *description;
  json_t *input_schema;   /* reference stolen by mcp_server_add_tool */
  json_t *output_schema;  /* reference stolen by mcp_server_add_tool */
  bool read_only;         /* annotations, as the MCP specification defines them */
  bool destructive;
  bool idempotent;
  bool open_world;
  mcp_tool_fn fn;
  void *userdata;
};

struct mcp_server_info
{
  const char *name;
  const char *version;
  const char *instructions; /* may be NULL */
};

mcp_server *mcp_server_new (const struct mcp_server_info *info);
void mcp_server_free (mcp_server *server);

/* Register a tool. Names must be unique. */
void mcp_server_add_tool (mcp_server *server, const struct mcp_tool *tool);

/* Serve requests read from IN_FD and write responses to OUT_FD, one JSON
 * message per line, until IN_FD reaches end of file or SIGTERM or SIGINT
 * arrives. A writer thread owns OUT_FD, so a client that stops reading
 * blocks no tool. Before returning it cancels every running call, waits
 * for their threads, and gives the writer at most 2 s to send what is
 * still queued. The caller must block SIGTERM and SIGINT in every thread
 * (mcp_block_signals) before starting any thread. Returns 0 on a clean
 * stop, -1 on an I/O error. */
int mcp_server_serve (mcp_server *server, int in_fd, int out_fd, omcp_error *err);

/* Block SIGTERM, SIGINT and SIGPIPE in the calling thread; threads created
 * afterwards inherit the mask. Call at the start of main. */
void mcp_block_signals (void);

/* Request id of CALL as text, for logs ("7", "\"abc\""). */
const char *mcp_call_request_id (mcp_call *call);

/* True once the client cancelled the call or the server is stopping. */
bool mcp_call_cancelled (mcp_call *call);

/* Descriptor that becomes readable when the call is cancelled, for poll. */
int mcp_call_cancel_fd (mcp_call *call);

/* Queue notifications/progress when the request carried
 * _meta.progressToken; otherwise do nothing. Never waits for the client:
 * while it does not read and the output queue is full, the notification
 * is dropped. TOTAL < 0 means unknown, MESSAGE may be NULL. */
void mcp_call_progress (mcp_call *call, double progress, double total, const char *message);

/* Record an invalid-argument error (-32602) for the call. The tool function
 * then returns NULL. */
void mcp_call_invalid_params (mcp_call *call, const char *fmt, ...) OMCP_PRINTF (2, 3);

#endif
