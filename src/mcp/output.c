/* Output to the client: a FIFO queue of serialized lines and the one
 * thread that writes them. Producers (the serve loop, call threads, the
 * log sink) only append under a short lock, so a client that stops
 * reading stalls the writer alone, and tool threads keep their deadlines
 * and notice cancellation. */
#include "mcp-internal.h"

#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>

/* Minimum time between two log lines that count dropped notifications. */
#define DROP_REPORT_INTERVAL_MS 5000

/* How long the writer sleeps in poll before it checks for due reports. */
#define WRITER_TICK_MS 1000

struct mcp_output_line
{
  struct mcp_output_line *next;
  char *text;     /* ends with its newline */
  size_t length;
};

static _Thread_local bool on_writer_thread;

bool
mcp_output_on_writer_thread (void)
{
  return on_writer_thread;
}

/* Set *DEADLINE to MS milliseconds from now on CLOCK_MONOTONIC, the clock
 * of the output condition variables. */
static void
set_deadline_ms (struct timespec *deadline, int64_t ms)
{
  clock_gettime (CLOCK_MONOTONIC, deadline);
  deadline->tv_sec += ms / 1000;
  deadline->tv_nsec += (ms % 1000) * 1000000;
  if (deadline->tv_nsec >= 1000000000)
    {
      deadline->tv_sec++;
      deadline->tv_nsec -= 1000000000;
    }
}

static void
free_line (struct mcp_output_line *line)
{
  free (line->text);
  free (line);
}

/* Free every queued line. Callers hold out_lock. Returns how many there
 * were. */
static size_t
discard_queue (mcp_server *server)
{
  size_t count = 0;

  while (server->out_head != NULL)
    {
      struct mcp_output_line *line = server->out_head;

      server->out_head = line->next;
      server->out_bytes -= line->length;
      free_line (line);
      count++;
    }
  server->out_tail = &server->out_head;
  return count;
}

/* Take the number of dropped notifications to report now: all of them when
 * FORCE is set, otherwise only when the last report is old enough. Callers
 * hold out_lock. */
static uint64_t
take_drop_count (mcp_server *server, bool force)
{
  int64_t now_ms = now_monotonic_ms ();
  uint64_t count = server->dropped_notifications;

  if (count == 0 || (!force && now_ms - server->drop_reported_ms < DROP_REPORT_INTERVAL_MS))
    return 0;
  server->dropped_notifications = 0;
  server->drop_reported_ms = now_ms;
  return count;
}

static void
log_drop_count (uint64_t count)
{
  if (count > 0)
    log_warning ("mcp", "dropped %llu notifications because the client is not reading its "
                 "output and more than %d bytes are queued", (unsigned long long) count,
                 MCP_MAX_QUEUED_BYTES);
}

static void
report_due_drops (mcp_server *server)
{
  uint64_t count;

  pthread_mutex_lock (&server->out_lock);
  count = take_drop_count (server, false);
  pthread_mutex_unlock (&server->out_lock);
  log_drop_count (count);
}

/* Write one line in pieces of at most PIPE_BUF bytes, each after poll
 * reports OUT_FD writable, so that the writer keeps watching WRITER_STOP_FD
 * while the client does not read. On a Linux pipe POLLOUT means that a page
 * buffer is free, so such a write does not block. NOTE: other descriptor
 * types, such as a terminal, give no such guarantee, and there a stop may
 * wait for a blocked write. Returns 0, or -1 with errno set, ECANCELED when
 * the writer must stop. A stop leaves the line cut short on the stream. */
static int
write_line (mcp_server *server, const char *text, size_t length)
{
  while (length > 0)
    {
      struct pollfd fds[2] = {
        { .fd = server->out_fd, .events = POLLOUT },
        { .fd = server->writer_stop_fd, .events = POLLIN },
      };
      ssize_t n;

      if (TEMP_FAILURE_RETRY (poll (fds, N_ELEMENTS (fds), WRITER_TICK_MS)) < 0)
        return -1;
      report_due_drops (server);
      if (fds[1].revents & POLLIN)
        {
          errno = ECANCELED;
          return -1;
        }
      if (fds[0].revents & POLLNVAL)
        {
          errno = EBADF;
          return -1;
        }
      if (fds[0].revents == 0)
        continue;

      /* POLLERR and POLLHUP fall through to write, which returns the
       * reason, such as EPIPE. */
      n = TEMP_FAILURE_RETRY (write (server->out_fd, text, length < PIPE_BUF ? length : PIPE_BUF));
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        continue;  /* the client made the shared descriptor non-blocking */
      if (n < 0)
        return -1;
      text += n;
      length -= (size_t) n;
    }
  return 0;
}

/* Wait for a line or a stop. While dropped notifications wait to be
 * reported, wake up when the report is due. Callers hold out_lock. */
static void
wait_for_line (mcp_server *server)
{
  struct timespec deadline;
  int64_t wait_ms;

  if (server->dropped_notifications == 0)
    {
      pthread_cond_wait (&server->out_queued, &server->out_lock);
      return;
    }

  wait_ms = server->drop_reported_ms + DROP_REPORT_INTERVAL_MS - now_monotonic_ms ();
  if (wait_ms <= 0)
    return;
  set_deadline_ms (&deadline, wait_ms);
  (void) pthread_cond_timedwait (&server->out_queued, &server->out_lock, &deadline);
}

/* Record a failed write, discard the queue and wake the serve loop.
 * Callers hold out_lock. Returns how many lines were discarded. */
static size_t
fail_output (mcp_server *server, int errnum)
{
  size_t discarded;

  server->output_errno = errnum;
  server->output_failed = true;
  server->out_accepting = false;
  discarded = discard_queue (server);
  if (server->wake_fd >= 0)
    (void) eventfd_write (server->wake_fd, 1);
  return discarded;
}

static void *
run_writer (void *data)
{
  mcp_server *server = data;

  on_writer_thread = true;
  pthread_mutex_lock (&server->out_lock);
  while (!server->writer_stop)
    {
      struct mcp_output_line *line = server->out_head;
      uint64_t dropped = take_drop_count (server, false);
      size_t discarded;
      int result;
      int errnum;

      if (dropped > 0)
        {
          pthread_mutex_unlock (&server->out_lock);
          log_drop_count (dropped);
          pthread_mutex_lock (&server->out_lock);
          continue;
        }
      if (line == NULL)
        {
          wait_for_line (server);
          continue;
        }

      /* The line leaves the queue but stays in OUT_BYTES until written, so
       * the limit on notifications counts it. */
      server->out_head = line->next;
      if (server->out_head == NULL)
        server->out_tail = &server->out_head;
      pthread_mutex_unlock (&server->out_lock);

      result = write_line (server, line->text, line->length);
      errnum = errno;

      pthread_mutex_lock (&server->out_lock);
      server->out_bytes -= line->length;
      free_line (line);
      if (result < 0 && errnum == ECANCELED)
        break;
      if (result < 0)
        {
          discarded = fail_output (server, errnum);
          pthread_cond_broadcast (&server->out_drained);
          pthread_mutex_unlock (&server->out_lock);
          log_warning ("mcp", "write to client failed discarded_messages=%zu: %s", discarded,
                       strerror (errnum));
          return NULL;
        }
      if (server->out_bytes == 0)
        pthread_cond_broadcast (&server->out_drained);
    }
  pthread_mutex_unlock (&server->out_lock);
  return NULL;
}

int
mcp_output_start (mcp_server *server, int out_fd, omcp_error *err)
{
  sigset_t all_signals;
  sigset_t old_mask;
  int errnum;

  server->writer_stop_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (server->writer_stop_fd < 0)
    return omcp_error_set (err, errno, "create eventfd for the output writer");

  pthread_mutex_lock (&server->out_lock);
  server->out_fd = out_fd;
  server->out_head = NULL;
  server->out_tail = &server->out_head;
  server->out_bytes = 0;
  server->dropped_notifications = 0;
  server->drop_reported_ms = now_monotonic_ms () - DROP_REPORT_INTERVAL_MS;
  server->writer_stop = false;
  server->output_failed = false;
  server->output_errno = 0;
  server->out_accepting = true;
  pthread_mutex_unlock (&server->out_lock);

  /* Block every signal in the writer, so that the kernel never picks it
   * for a process-directed signal such as SIGTERM, which the serve loop
   * reads from its signalfd. */
  sigfillset (&all_signals);
  pthread_sigmask (SIG_SETMASK, &all_signals, &old_mask);
  errnum = pthread_create (&server->writer, NULL, run_writer, server);
  pthread_sigmask (SIG_SETMASK, &old_mask, NULL);
  if (errnum != 0)
    {
      pthread_mutex_lock (&server->out_lock);
      server->out_accepting = false;
      server->out_fd = -1;
      pthread_mutex_unlock (&server->out_lock);
      close (server->writer_stop_fd);
      server->writer_stop_fd = -1;
      return omcp_error_set (err, errnum, "start the output writer thread");
    }
  server->writer_running = true;
  return 0;
}

void
mcp_output_stop (mcp_server *server, int64_t timeout_ms)
{
  struct timespec deadline;
  size_t discarded_bytes;
  size_t discarded;
  uint64_t dropped;

  if (!server->writer_running)
    return;

  /* Flush for at most TIMEOUT_MS when the client does not read. The
   * pthread_join below can wait longer only on an output other than a
   * pipe (see the NOTE in write_line). */
  set_deadline_ms (&deadline, timeout_ms);
  pthread_mutex_lock (&server->out_lock);
  server->out_accepting = false;
  while (server->out_bytes > 0 && !server->output_failed)
    if (pthread_cond_timedwait (&server->out_drained, &server->out_lock, &deadline) == ETIMEDOUT)
      break;
  server->writer_stop = true;
  pthread_cond_broadcast (&server->out_queued);
  pthread_mutex_unlock (&server->out_lock);

  /* Wakes a writer that waits in poll for a full pipe. Adding 1 to a fresh
   * eventfd counter cannot fail. */
  (void) eventfd_write (server->writer_stop_fd, 1);
  pthread_join (server->writer, NULL);
  server->writer_running = false;

  pthread_mutex_lock (&server->out_lock);
  discarded_bytes = server->out_bytes;
  discarded = discard_queue (server);
  dropped = take_drop_count (server, true);
  server->out_fd = -1;
  pthread_mutex_unlock (&server->out_lock);
  close (server->writer_stop_fd);
  server->writer_stop_fd = -1;

  if (discarded > 0)
    log_warning ("mcp", "discarded %zu queued messages (%zu bytes) because the client did not "
                 "read them within %lld ms of stopping", discarded, discarded_bytes,
                 (long long) timeout_ms);
  log_drop_count (dropped);
}

static ssize_t
queue_message (mcp_server *server, json_t *message, bool droppable)
{
  struct mcp_output_line *line;
  size_t length = 0;
  char *text;
  int errnum;

  text = mcp_message_dump (message, &length);
  json_decref (message);
  if (text == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  line = xmalloc (sizeof *line);
  line->next = NULL;
  line->text = text;
  line->length = length;

  pthread_mutex_lock (&server->out_lock);
  if (!server->out_accepting)
    {
      errnum = server->output_failed ? server->output_errno : EBADF;
      pthread_mutex_unlock (&server->out_lock);
      free_line (line);
      errno = errnum;
      return -1;
    }
  if (droppable && server->out_bytes + length > MCP_MAX_QUEUED_BYTES)
    {
      server->dropped_notifications++;
      pthread_mutex_unlock (&server->out_lock);
      free_line (line);
      errno = ENOBUFS;
      return -1;
    }
  *server->out_tail = line;
  server->out_tail = &line->next;
  server->out_bytes += length;
  pthread_cond_signal (&server->out_queued);
  pthread_mutex_unlock (&server->out_lock);
  return (ssize_t) length;
}

ssize_t
mcp_server_send (mcp_server *server, json_t *message)
{
  return queue_message (server, message, false);
}

ssize_t
mcp_server_send_notification (mcp_server *server, json_t *message)
{
  return queue_message (server, message, true);
}
