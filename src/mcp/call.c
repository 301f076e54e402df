/* tools/call requests: one thread per call, the cap on running calls,
 * cancellation, progress notifications and the final response. */
#include "mcp-internal.h"

#include <math.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>

/* How often shutdown logs the calls it is still waiting for. */
#define SHUTDOWN_REPORT_INTERVAL_MS 5000

struct mcp_call
{
  mcp_server *server;
  const struct mcp_tool *tool;
  json_t *id;
  char *id_text;
  json_t *arguments;
  json_t *progress_token;     /* NULL when the request carried none */
  int cancel_fd;              /* eventfd, readable once cancelled */
  atomic_bool cancelled;
  bool cancelled_by_client;   /* under calls_lock, drops the response */
  char *invalid_params;       /* set by mcp_call_invalid_params */
  int64_t start_ms;
  struct mcp_call *next;      /* in server->calls, under calls_lock */
};

static void
call_free (mcp_call *call)
{
  if (call == NULL)
    return;
  json_decref (call->id);
  json_decref (call->arguments);
  json_decref (call->progress_token);
  free (call->id_text);
  free (call->invalid_params);
  if (call->cancel_fd >= 0)
    close (call->cancel_fd);
  free (call);
}

static void
call_freep (mcp_call **call)
{
  call_free (*call);
}

#define cleanup_call __attribute__ ((cleanup (call_freep)))

/* Callers hold calls_lock. */
static mcp_call *
find_call (mcp_server *server, json_t *id)
{
  mcp_call *call;

  for (call = server->calls; call != NULL; call = call->next)
    if (json_equal (call->id, id))
      return call;
  return NULL;
}

/* Callers hold calls_lock. */
static void
unlink_call (mcp_server *server, mcp_call *call)
{
  mcp_call **link;

  for (link = &server->calls; *link != NULL; link = &(*link)->next)
    if (*link == call)
      {
        *link = call->next;
        call->next = NULL;
        return;
      }
}

/* Callers hold calls_lock. */
static void
mark_cancelled (mcp_call *call, bool by_client)
{
  if (by_client)
    call->cancelled_by_client = true;
  if (!atomic_exchange (&call->cancelled, true))
    {
      /* Adding 1 to a fresh eventfd counter cannot fail or block, so the
       * result carries no information. */
      (void) eventfd_write (call->cancel_fd, 1);
    }
}

/* Outcome of a finished call, for the log line. */
enum call_outcome
{
  CALL_SUCCEEDED,
  CALL_TOOL_ERROR,
  CALL_INVALID_PARAMS,
  CALL_INTERNAL_ERROR,
};

static const char *const outcome_names[] = {
  "success", "tool_error", "invalid_params", "internal_error",
};

/* Turn what the tool function returned (RESULT, stolen) into the JSON-RPC
 * response. */
static json_t *
build_response (mcp_call *call, json_t *result, enum call_outcome *outcome)
{
  cleanup_free char *text = NULL;
  json_t *text_value;
  json_t *content;
  json_t *item;
  json_t *payload;
  bool is_error;
  char message[512];

  if (result == NULL && call->invalid_params != NULL)
    {
      *outcome = CALL_INVALID_PARAMS;
      return mcp_error_response_new (call->id, MCP_INVALID_PARAMS, call->invalid_params);
    }
  if (!json_is_object (result))
    {
      json_decref (result);
      *outcome = CALL_INTERNAL_ERROR;
      snprintf (message, sizeof message, "Internal error: tool '%s' returned no result object",
                call->tool->name);
      return mcp_error_response_new (call->id, MCP_INTERNAL_ERROR, message);
    }

  text = json_dumps (result, JSON_COMPACT);
  text_value = text != NULL ? json_string (text) : NULL;
  if (text_value == NULL)
    {
      json_decref (result);
      *outcome = CALL_INTERNAL_ERROR;
      snprintf (message, sizeof message,
                "Internal error: the result of tool '%s' cannot be serialized as JSON",
                call->tool->name);
      return mcp_error_response_new (call->id, MCP_INTERNAL_ERROR, message);
    }

  /* A tool result must contain "success". One without it counts as
   * failed. */
  is_error = !json_is_true (json_object_get (result, "success"));
  *outcome = is_error ? CALL_TOOL_ERROR : CALL_SUCCEEDED;

  item = json_object ();
  json_object_set_new (item, "type", json_string ("text"));
  json_object_set_new (item, "text", text_value);
  content = json_array ();
  json_array_append_new (content, item);

  payload = json_object ();
  json_object_set_new (payload, "content", content);
  json_object_set_new (payload, "structuredContent", result);
  json_object_set_new (payload, "isError", json_boolean (is_error));
  return mcp_response_new (call->id, payload);
}

static void *
run_call (void *data)
{
  mcp_call *call = data;
  mcp_server *server = call->server;
  json_t *result;
  bool dropped;
  long long duration_ms;

  result = call->tool->fn (call, call->arguments, call->tool->userdata);
  duration_ms = (long long) (now_monotonic_ms () - call->start_ms);

  /* Unlink before deciding, so that a cancellation either arrives in time
   * to drop the response or finds no call and is ignored. */
  pthread_mutex_lock (&server->calls_lock);
  unlink_call (server, call);
  dropped = call->cancelled_by_client;
  pthread_mutex_unlock (&server->calls_lock);

  if (dropped)
    {
      json_decref (result);
      log_info ("mcp", "tools/call response dropped because the client cancelled it id=%s "
                "tool=%s duration_ms=%lld", call->id_text, call->tool->name, duration_ms);
    }
  else
    {
      enum call_outcome outcome;
      json_t *response = build_response (call, result, &outcome);
      ssize_t sent = mcp_server_send (server, response);

      if (outcome == CALL_INTERNAL_ERROR)
        log_error ("mcp", "tool returned no valid result object id=%s tool=%s", call->id_text,
                   call->tool->name);
      if (sent < 0)
        log_error ("mcp", "send tools/call response id=%s tool=%s: %s", call->id_text,
                   call->tool->name, strerror (errno));
      else
        log_info ("mcp", "tools/call finished id=%s tool=%s outcome=%s duration_ms=%lld "
                  "response_bytes=%zd", call->id_text, call->tool->name, outcome_names[outcome],
                  duration_ms, sent);
    }
  call_free (call);

  /* After this the server may be freed: touch nothing of it afterwards. */
  pthread_mutex_lock (&server->calls_lock);
  server->n_threads--;
  pthread_cond_broadcast (&server->calls_finished);
  pthread_mutex_unlock (&server->calls_lock);
  return NULL;
}

int
mcp_call_start (mcp_server *server, const struct mcp_tool *tool, json_t *id, json_t *arguments,
                json_t *progress_token, char *message, size_t size)
{
  cleanup_call mcp_call *call = NULL;
  pthread_attr_t attr;
  pthread_t thread;
  int errnum;

  call = xcalloc (1, sizeof *call);
  call->cancel_fd = -1;
  call->server = server;
  call->tool = tool;
  call->id = json_deep_copy (id);
  call->id_text = mcp_json_to_text (id);
  call->arguments = json_deep_copy (arguments);
  if (progress_token != NULL)
    call->progress_token = json_deep_copy (progress_token);
  call->cancel_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (call->cancel_fd < 0)
    {
      errnum = errno;
      log_error ("mcp", "create eventfd for tools/call id=%s: %s", call->id_text,
                 strerror (errnum));
      snprintf (message, size, "Internal error: cannot create an eventfd: %s", strerror (errnum));
      return MCP_INTERNAL_ERROR;
    }

  pthread_mutex_lock (&server->calls_lock);
  if (server->n_threads >= server->max_calls)
    {
      pthread_mutex_unlock (&server->calls_lock);
      snprintf (message, size,
                "Too many tool calls running (limit %zu); retry when one of them finishes",
                server->max_calls);
      return MCP_SERVER_ERROR;
    }
  if (find_call (server, id) != NULL)
    {
      pthread_mutex_unlock (&server->calls_lock);
      snprintf (message, size,
                "Invalid request: id %s is already used by a running tools/call; use a new id",
                call->id_text);
      return MCP_INVALID_REQUEST;
    }

  call->start_ms = now_monotonic_ms ();
  call->next = server->calls;
  server->calls = call;
  server->n_threads++;

  /* Detached: shutdown waits on the N_THREADS count instead of joining. */
  pthread_attr_init (&attr);
  pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  errnum = pthread_create (&thread, &attr, run_call, call);
  pthread_attr_destroy (&attr);
  if (errnum != 0)
    {
      unlink_call (server, call);
      server->n_threads--;
      pthread_mutex_unlock (&server->calls_lock);
      log_error ("mcp", "start thread for tools/call id=%s tool=%s: %s", call->id_text,
                 tool->name, strerror (errnum));
      snprintf (message, size, "Internal error: cannot start a thread: %s", strerror (errnum));
      return MCP_INTERNAL_ERROR;
    }

  /* The thread owns the call now. */
  call = NULL;
  pthread_mutex_unlock (&server->calls_lock);
  return 0;
}

bool
mcp_call_cancel_by_id (mcp_server *server, json_t *request_id)
{
  mcp_call *call;

  pthread_mutex_lock (&server->calls_lock);
  call = find_call (server, request_id);
  if (call != NULL)
    mark_cancelled (call, true);
  pthread_mutex_unlock (&server->calls_lock);
  return call != NULL;
}

void
mcp_call_cancel_all_and_wait (mcp_server *server)
{
  mcp_call *call;
  struct timespec deadline;

  size_t cancelled = 0;

  pthread_mutex_lock (&server->calls_lock);
  for (call = server->calls; call != NULL; call = call->next, cancelled++)
    mark_cancelled (call, false);
  if (cancelled > 0)
    {
      pthread_mutex_unlock (&server->calls_lock);
      log_info ("mcp", "cancelled %zu running tool calls because the server stops", cancelled);
      pthread_mutex_lock (&server->calls_lock);
    }

  while (server->n_threads > 0)
    {
      size_t running;

      clock_gettime (CLOCK_MONOTONIC, &deadline);
      deadline.tv_sec += SHUTDOWN_REPORT_INTERVAL_MS / 1000;
      if (pthread_cond_timedwait (&server->calls_finished, &server->calls_lock, &deadline)
          != ETIMEDOUT)
        continue;

      running = server->n_threads;
      pthread_mutex_unlock (&server->calls_lock);
      log_warning ("mcp", "still waiting for %zu cancelled tool calls to return", running);
      pthread_mutex_lock (&server->calls_lock);
    }
  pthread_mutex_unlock (&server->calls_lock);
}

const char *
mcp_call_request_id (mcp_call *call)
{
  return call->id_text;
}

bool
mcp_call_cancelled (mcp_call *call)
{
  return atomic_load (&call->cancelled);
}

int
mcp_call_cancel_fd (mcp_call *call)
{
  return call->cancel_fd;
}

void
mcp_call_progress (mcp_call *call, double progress, double total, const char *message)
{
  json_t *params;

  /* A cancelled call sends nothing further for its id. */
  if (call->progress_token == NULL || mcp_call_cancelled (call) || !isfinite (progress))
    return;

  params = json_object ();
  json_object_set (params, "progressToken", call->progress_token);
  json_object_set_new (params, "progress", json_real (progress));
  if (total >= 0 && isfinite (total))
    json_object_set_new (params, "total", json_real (total));
  if (message != NULL)
    {
      /* json_string returns NULL for invalid UTF-8, and then the message
       * is left out. */
      json_t *text = json_string (message);

      if (text != NULL)
        json_object_set_new (params, "message", text);
    }

  /* Progress is dropped while the client does not read (the writer logs
   * how many), and a failed write stops the serve loop, so the tool has
   * nothing to do about a failed send. */
  (void) mcp_server_send_notification (call->server,
                                       mcp_notification_new ("notifications/progress", params));
}

void
mcp_call_invalid_params (mcp_call *call, const char *fmt, ...)
{
  va_list ap;
  char *text = NULL;

  va_start (ap, fmt);
  if (vasprintf (&text, fmt, ap) < 0)
    text = NULL;
  va_end (ap);
  if (text == NULL)
    text = xstrdup ("Invalid params");
  free (call->invalid_params);
  call->invalid_params = text;
}
