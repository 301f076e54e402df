/* Client of the code validator helper. The helper parses code with the
 * sandbox's own Python (module ast), so the check and the interpreter that
 * runs the code agree on what the code is, and untrusted code is never
 * parsed inside the server. The helper runs in a sandbox created here and
 * kept out of the pool, so nothing an agent's execution wrote can reach
 * its module path. */
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "validator.h"
#include "validator_source.h"

/* Deadline of one check, writing the code included. A typical input takes
 * well under a millisecond; megabytes of code take a few hundred. */
#define CHECK_TIMEOUT_MS 5000

/* Longest reply line accepted from the helper. */
#define MAX_REPLY_BYTES 4096

#define VIOLATION_PREFIX "Security Violation: "

struct code_validator
{
  sandbox_engine *engine;
  const char *python;
  pthread_mutex_t lock;
  sandbox *sb;        /* NULL until created, and after it died */
  int fd;             /* server end of the helper's socket; -1 when stopped */
  unsigned restarts;
};

/* Stop the helper. A sandbox whose supervisor did not confirm the stop is
 * removed, so that start_helper builds a fresh one. */
static void
stop_helper (code_validator *v, const char *reason)
{
  if (v->fd >= 0)
    {
      close (v->fd);
      v->fd = -1;
      if (sandbox_stop (v->sb, reason) < 0)
        {
          sandbox_destroy (v->sb, reason);
          v->sb = NULL;
        }
    }
}

static int
start_helper (code_validator *v, omcp_error *err)
{
  const char *argv[] = { v->python, "-I", "-S", "-B", "-c", python_validator_source, NULL };
  const char *envp[] = { "LANG=C.UTF-8", "LC_ALL=C.UTF-8", NULL };
  cleanup_close int server_end = -1, helper_end = -1;
  int pair[2];

  if (v->sb && !sandbox_is_alive (v->sb))
    {
      sandbox_destroy (v->sb, "code validator sandbox died");
      v->sb = NULL;
    }
  if (v->sb == NULL && sandbox_create (v->engine, "code-validator", &v->sb, err) < 0)
    return omcp_error_prefix (err, "start code validator");

  /* One stream socket carries requests, replies and any stderr text. A
   * stray line on stderr then counts as a garbage reply and restarts the
   * helper, rather than filling a pipe that is never read. */
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
    return omcp_error_set (err, errno, "start code validator: socketpair");
  server_end = pair[0];
  helper_end = pair[1];
  if (fcntl (server_end, F_SETFL, O_NONBLOCK) < 0)
    return omcp_error_set (err, errno, "start code validator: set O_NONBLOCK");

  if (sandbox_start (v->sb, &(struct sandbox_start_request) {
                       .exec_id = "code-validator",
                       .argv = argv,
                       .envp = envp,
                       .input_fd = helper_end,
                       .output_fd = helper_end,
                       .error_fd = helper_end,
                     }, err) < 0)
    return omcp_error_prefix (err, "start code validator");
  v->fd = steal_fd (&server_end);
  return 0;
}

/* Send all of BUF before DEADLINE. */
static int
send_all (int fd, const void *buf, size_t len, int64_t deadline, const char **failure)
{
  const char *p = buf;

  while (len > 0)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLOUT };
      int64_t left = deadline - now_monotonic_ms ();
      ssize_t n;

      if (left <= 0 || TEMP_FAILURE_RETRY (poll (&pfd, 1, (int) left)) <= 0)
        {
          *failure = "timed out while receiving the code";
          return -1;
        }
      n = TEMP_FAILURE_RETRY (send (fd, p, len, MSG_NOSIGNAL));
      if (n < 0 && errno == EAGAIN)
        continue;
      if (n < 0)
        {
          *failure = "exited while receiving the code";
          return -1;
        }
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

/* Read one reply line before DEADLINE into BUF (NUL-terminated, newline
 * removed). Fails on a timeout, end of file, a line that is too long, or
 * bytes after the line. */
static int
read_reply (int fd, char *buf, size_t size, int64_t deadline, const char **failure)
{
  size_t len = 0;

  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      int64_t left = deadline - now_monotonic_ms ();
      char *newline;
      ssize_t n;

      if (left <= 0 || TEMP_FAILURE_RETRY (poll (&pfd, 1, (int) left)) <= 0)
        {
          *failure = "timed out";
          return -1;
        }
      n = TEMP_FAILURE_RETRY (recv (fd, buf + len, size - 1 - len, 0));
      if (n < 0 && errno == EAGAIN)
        continue;
      if (n <= 0)
        {
          *failure = "exited without a verdict";
          return -1;
        }
      len += (size_t) n;
      buf[len] = '\0';
      newline = memchr (buf, '\n', len);
      if (newline && newline != buf + len - 1)
        {
          *failure = "sent more than one line";
          return -1;
        }
      if (newline)
        {
          *newline = '\0';
          return 0;
        }
      if (len == size - 1)
        {
          *failure = "sent a line that is too long";
          return -1;
        }
    }
}

/* Decode a verdict: 1 accepted, 0 rejected with REASON, -1 garbage. */
static int
parse_verdict (const char *line, char *reason, size_t reason_size)
{
  json_t *reply = json_loads (line, JSON_REJECT_DUPLICATES, NULL);
  json_t *ok = json_object_get (reply, "ok");
  const char *error = json_string_value (json_object_get (reply, "error"));
  int verdict = -1;

  if (json_is_true (ok) && json_object_size (reply) == 1)
    verdict = 1;
  else if (json_is_false (ok) && error
           && strncmp (error, VIOLATION_PREFIX, strlen (VIOLATION_PREFIX)) == 0)
    {
      copy_string (reason, reason_size, error);
      verdict = 0;
    }
  json_decref (reply);
  return verdict;
}

/* One round trip with the running helper. Returns as parse_verdict, with
 * FAILURE set for -1. */
static int
ask_helper (code_validator *v, const char *code, size_t len, char *reason, size_t reason_size,
            const char **failure)
{
  int64_t deadline = now_monotonic_ms () + CHECK_TIMEOUT_MS;
  char reply[MAX_REPLY_BYTES];
  unsigned char header[8];
  uint64_t n = len;
  int verdict;

  for (int i = 7; i >= 0; i--, n >>= 8)
    header[i] = (unsigned char) (n & 0xff);
  if (send_all (v->fd, header, sizeof header, deadline, failure) < 0
      || send_all (v->fd, code, len, deadline, failure) < 0
      || read_reply (v->fd, reply, sizeof reply, deadline, failure) < 0)
    return -1;
  verdict = parse_verdict (reply, reason, reason_size);
  if (verdict < 0)
    *failure = "sent a reply that is not a verdict";
  return verdict;
}

int
code_validator_new (sandbox_engine *engine, const char *python, code_validator **out,
                    omcp_error *err)
{
  code_validator *v = xcalloc (1, sizeof *v);
  char reason[256] = "it accepted code that imports os";

  v->engine = engine;
  v->python = python;
  v->fd = -1;
  pthread_mutex_init (&v->lock, NULL);
  if (start_helper (v, err) < 0)
    {
      code_validator_free (v);
      return -1;
    }

  /* Fail at start-up rather than reject every execution later. */
  if (!code_validator_check (v, "import os\n", 10, reason, sizeof reason))
    {
      const char *expected = VIOLATION_PREFIX "import of 'os' is not allowed (line 1)";

      if (strcmp (reason, expected) == 0 && code_validator_check (v, "x = 1\n", 6, reason,
                                                                  sizeof reason))
        {
          *out = v;
          return 0;
        }
    }
  omcp_error_set (err, 0, "start code validator: the helper failed its self-test: %s", reason);
  code_validator_free (v);
  return -1;
}

void
code_validator_free (code_validator *v)
{
  if (v == NULL)
    return;
  stop_helper (v, "server stopping");
  sandbox_destroy (v->sb, "server stopping");
  pthread_mutex_destroy (&v->lock);
  free (v);
}

bool
code_validator_check (code_validator *v, const char *code, size_t len, char *reason,
                      size_t reason_size)
{
  const char *failure = NULL;
  omcp_error err;
  int verdict = -1;

  pthread_mutex_lock (&v->lock);
  if (v->fd < 0 && start_helper (v, &err) < 0)
    {
      log_error ("validator", "code validator unavailable error=\"%s\"", err.message);
      snprintf (reason, reason_size, VIOLATION_PREFIX "the code could not be checked because "
                "the code validator is unavailable; the code was not run");
      pthread_mutex_unlock (&v->lock);
      return false;
    }

  verdict = ask_helper (v, code, len, reason, reason_size, &failure);
  if (verdict < 0)
    {
      /* A late reply to this request could be read as the reply to the
       * next one, so replace the helper. */
      log_warning ("validator", "code validator helper %s; restarting it code_bytes=%zu restarts=%u",
                   failure, len, ++v->restarts);
      snprintf (reason, reason_size, VIOLATION_PREFIX "the code could not be checked (the "
                "validator %s); the code was not run", failure);
      stop_helper (v, failure);
      if (start_helper (v, &err) < 0)
        log_error ("validator", "restart code validator failed error=\"%s\"", err.message);
    }
  pthread_mutex_unlock (&v->lock);
  return verdict == 1;
}
