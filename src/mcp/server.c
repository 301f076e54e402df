/* The MCP server: tool registry, the serve loop over a line-delimited
 * transport and log forwarding to the client. Output goes through the
 * queue in output.c. */
#include "mcp-internal.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

mcp_server *
mcp_server_new (const struct mcp_server_info *info)
{
  mcp_server *server = xcalloc (1, sizeof *server);
  pthread_condattr_t cond_attr;

  server->name = xstrdup (info->name);
  server->version = xstrdup (info->version);
  server->instructions = info->instructions != NULL ? xstrdup (info->instructions) : NULL;
  server->out_fd = -1;
  server->wake_fd = -1;
  server->client_log_severity = MCP_LOG_SEVERITY_OFF;
  server->max_calls = MCP_DEFAULT_MAX_CALLS;

  server->writer_stop_fd = -1;
  server->out_tail = &server->out_head;

  pthread_mutex_init (&server->out_lock, NULL);
  pthread_mutex_init (&server->calls_lock, NULL);
  /* Shutdown and the output writer wait with deadlines, which must not
   * jump with the wall clock. */
  pthread_condattr_init (&cond_attr);
  pthread_condattr_setclock (&cond_attr, CLOCK_MONOTONIC);
  pthread_cond_init (&server->calls_finished, &cond_attr);
  pthread_cond_init (&server->out_queued, &cond_attr);
  pthread_cond_init (&server->out_drained, &cond_attr);
  pthread_condattr_destroy (&cond_attr);
  return server;
}

void
mcp_server_free (mcp_server *server)
{
  size_t i;

  if (server == NULL)
    return;
  for (i = 0; i < server->n_tools; i++)
    {
      struct mcp_tool *tool = &server->tools[i];

      free ((char *) tool->name);
      free ((char *) tool->title);
      free ((char *) tool->description);
      json_decref (tool->input_schema);
      json_decref (tool->output_schema);
    }
  free (server->tools);
  free (server->name);
  free (server->version);
  free (server->instructions);
  pthread_mutex_destroy (&server->out_lock);
  pthread_mutex_destroy (&server->calls_lock);
  pthread_cond_destroy (&server->calls_finished);
  pthread_cond_destroy (&server->out_queued);
  pthread_cond_destroy (&server->out_drained);
  free (server);
}

const struct mcp_tool *
mcp_server_find_tool (mcp_server *server, const char *name)
{
  size_t i;

  for (i = 0; i < server->n_tools; i++)
    if (strcmp (server->tools[i].name, name) == 0)
      return &server->tools[i];
  return NULL;
}

/* A malformed tool is a programming error in the caller, found at start-up,
 * so it stops the process like an allocation failure does. */
static void __attribute__ ((noreturn))
reject_tool (const char *name, const char *reason)
{
  log_error ("mcp", "cannot register tool '%s': %s", name != NULL ? name : "(null)", reason);
  abort ();
}

void
mcp_server_add_tool (mcp_server *server, const struct mcp_tool *tool)
{
  struct mcp_tool *copy;

  if (tool->name == NULL || tool->name[0] == '\0')
    reject_tool (tool->name, "the name is empty");
  if (mcp_server_find_tool (server, tool->name) != NULL)
    reject_tool (tool->name, "another tool has the same name");
  if (tool->fn == NULL)
    reject_tool (tool->name, "no tool function");
  if (!json_is_object (tool->input_schema) || !json_is_object (tool->output_schema))
    reject_tool (tool->name, "the input and output schemas must be JSON objects");

  server->tools = xrealloc (server->tools, (server->n_tools + 1) * sizeof *server->tools);
  copy = &server->tools[server->n_tools++];
  *copy = *tool;
  copy->name = xstrdup (tool->name);
  copy->title = tool->title != NULL ? xstrdup (tool->title) : NULL;
  copy->description = tool->description != NULL ? xstrdup (tool->description) : NULL;
}

void
mcp_server_set_max_calls (mcp_server *server, size_t max_calls)
{
  server->max_calls = max_calls;
}

/* Log sink: forwards records at or above the client's level as
 * notifications/message. It runs under the logger's lock and must not log.
 * A notification that does not fit in the queue is dropped and counted,
 * and the writer thread logs the count, which this sink does not forward
 * because the writer's records could only fill the full queue again. */
static void
forward_log_record (enum log_level level, const char *component, const char *text, void *userdata)
{
  mcp_server *server = userdata;
  int threshold = atomic_load (&server->client_log_severity);
  int severity = mcp_log_severity_from_level (level);
  json_t *params;
  json_t *data;

  if (threshold == MCP_LOG_SEVERITY_OFF || severity < threshold
      || mcp_output_on_writer_thread ())
    return;
  data = json_string (text);
  if (data == NULL)
    return;

  params = json_object ();
  json_object_set_new (params, "level", json_string (mcp_log_severity_name (severity)));
  json_object_set_new (params, "logger", json_string (component));
  json_object_set_new (params, "data", data);
  (void) mcp_server_send_notification (server, mcp_notification_new ("notifications/message",
                                                                     params));
}

static void
warn_unless_signals_blocked (void)
{
  sigset_t current;

  if (pthread_sigmask (SIG_BLOCK, NULL, &current) != 0)
    return;
  if (!sigismember (&current, SIGTERM) || !sigismember (&current, SIGINT))
    log_warning ("mcp", "SIGTERM and SIGINT are not blocked, so they end the process instead "
                 "of stopping the server; call mcp_block_signals at start-up");
}

void
mcp_block_signals (void)
{
  sigset_t mask;

  sigemptyset (&mask);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGINT);
  /* A client that closes its end must give EPIPE, not kill the server. */
  sigaddset (&mask, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &mask, NULL);
}

/* Reason the serve loop stopped, for the log and the return value. */
struct stop_reason
{
  char text[64];
  bool failed;
};

/* Drain every complete line buffered in READER. */
static void
handle_buffered_lines (mcp_server *server, struct mcp_line_reader *reader)
{
  const char *line;
  size_t length;
  enum mcp_line_status status;

  while (!server->output_failed
         && (status = mcp_line_reader_next (reader, &line, &length)) != MCP_LINE_NONE)
    {
      if (status == MCP_LINE_TOO_LONG)
        mcp_dispatch_oversized_line (server);
      else
        mcp_dispatch_line (server, line, length);
    }
}

/* Wait for input, a signal or a wake-up, and read what came. Returns false
 * when the loop must stop, with REASON and ERR filled. */
static bool
wait_and_read (mcp_server *server, struct mcp_line_reader *reader, int in_fd, int signal_fd,
               struct stop_reason *reason, omcp_error *err)
{
  struct pollfd fds[3] = {
    { .fd = in_fd, .events = POLLIN },
    { .fd = signal_fd, .events = POLLIN },
    { .fd = server->wake_fd, .events = POLLIN },
  };
  struct signalfd_siginfo info;
  ssize_t n;

  if (TEMP_FAILURE_RETRY (poll (fds, N_ELEMENTS (fds), -1)) < 0)
    {
      omcp_error_set (err, errno, "poll client input");
      copy_string (reason->text, sizeof reason->text, "poll error");
      reason->failed = true;
      return false;
    }

  if (fds[1].revents & POLLIN)
    {
      n = TEMP_FAILURE_RETRY (read (signal_fd, &info, sizeof info));
      if (n == (ssize_t) sizeof info)
        {
          snprintf (reason->text, sizeof reason->text, "signal %s",
                    info.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
          return false;
        }
    }

  if (server->output_failed)
    {
      omcp_error_set (err, server->output_errno, "write to client");
      copy_string (reason->text, sizeof reason->text, "output error");
      reason->failed = true;
      return false;
    }

  if (fds[0].revents & POLLNVAL)
    {
      omcp_error_set (err, EBADF, "poll client input");
      copy_string (reason->text, sizeof reason->text, "input error");
      reason->failed = true;
      return false;
    }
  if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
    {
      n = mcp_line_reader_fill (reader, in_fd);
      /* EAGAIN means that the client made the shared pipe non-blocking, so
       * poll again. */
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        {
          omcp_error_set (err, errno, "read client input");
          copy_string (reason->text, sizeof reason->text, "input error");
          reason->failed = true;
          return false;
        }
    }
  return true;
}

int
mcp_server_serve (mcp_server *server, int in_fd, int out_fd, omcp_error *err)
{
  cleanup_close int signal_fd = -1;
  cleanup_close int wake_fd = -1;
  struct mcp_line_reader reader;
  struct stop_reason reason = { .text = "", .failed = false };
  omcp_error local_error;
  sigset_t mask;

  if (err == NULL)
    err = &local_error;

  sigemptyset (&mask);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGINT);
  signal_fd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd < 0)
    return omcp_error_set (err, errno, "create signalfd");
  wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0)
    return omcp_error_set (err, errno, "create eventfd");
  warn_unless_signals_blocked ();

  server->wake_fd = wake_fd;
  server->initialized = false;
  if (mcp_output_start (server, out_fd, err) < 0)
    {
      server->wake_fd = -1;
      return -1;
    }
  atomic_store (&server->client_log_severity, MCP_LOG_SEVERITY_OFF);
  mcp_line_reader_init (&reader, MCP_MAX_MESSAGE_BYTES);
  /* NOTE: the logger has one sink, so only one server may serve at a time. */
  log_set_sink (forward_log_record, server);
  log_info ("mcp", "server started name=%s version=%s tools=%zu", server->name, server->version,
            server->n_tools);

  for (;;)
    {
      handle_buffered_lines (server, &reader);
      if (server->output_failed)
        {
          omcp_error_set (err, server->output_errno, "write to client");
          copy_string (reason.text, sizeof reason.text, "output error");
          reason.failed = true;
          break;
        }
      if (reader.eof)
        {
          copy_string (reason.text, sizeof reason.text, "end of input");
          break;
        }
      if (!wait_and_read (server, &reader, in_fd, signal_fd, &reason, err))
        break;
    }

  log_info ("mcp", "server stopping reason=\"%s\"", reason.text);
  mcp_call_cancel_all_and_wait (server);
  log_set_sink (NULL, NULL);
  mcp_line_reader_destroy (&reader);

  /* Nothing sends any more. Let the writer send the last responses, for
   * at most MCP_FLUSH_TIMEOUT_MS when the client does not read. */
  mcp_output_stop (server, MCP_FLUSH_TIMEOUT_MS);
  server->wake_fd = -1;

  if (reason.failed)
    {
      log_error ("mcp", "server stopped reason=\"%s\": %s", reason.text, err->message);
      return -1;
    }
  log_info ("mcp", "server stopped reason=\"%s\"", reason.text);
  return 0;
}
