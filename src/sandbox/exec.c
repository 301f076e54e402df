/* One execution, seen from the server: send the request, read stdout and
 * stderr as they come, enforce the deadline and the output cap, and wait
 * until the supervisor reports that every process is gone. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "log.h"
#include "sandbox-internal.h"

/* How long the supervisor may take to confirm a kill before the whole
 * sandbox is destroyed instead. */
#define KILL_GRACE_MS 5000


const char *const exec_stop_names[] = { "", "timeout", "output limit", "cancelled" };

int
exec_create_input (const char *input, size_t len, omcp_error *err)
{
  cleanup_close int fd = -1;

  fd = memfd_create ("omcp-input", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return omcp_error_set (err, errno, "memfd_create");
  if (len > 0 && write_all (fd, input, len) < 0)
    return omcp_error_set (err, errno, "write input");
  /* The descriptor is shared with the sandbox: seal it so the program
   * cannot change what the server wrote, and rewind it for reading. */
  if (fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    return omcp_error_set (err, errno, "seal input");
  if (lseek (fd, 0, SEEK_SET) < 0)
    return omcp_error_set (err, errno, "rewind input");
  return steal_fd (&fd);
}

static char *
pack_strings (const char *const *argv, const char *const *envp, uint32_t *argc, uint32_t *envc,
              size_t *len)
{
  size_t total = 0, off = 0, i;
  char *buf;

  *argc = *envc = 0;
  for (i = 0; argv[i]; i++, (*argc)++)
    total += strlen (argv[i]) + 1;
  for (i = 0; envp && envp[i]; i++, (*envc)++)
    total += strlen (envp[i]) + 1;
  buf = xmalloc (total + 1);
  for (i = 0; argv[i]; i++)
    {
      size_t n = strlen (argv[i]) + 1;
      memcpy (buf + off, argv[i], n);
      off += n;
    }
  for (i = 0; envp && envp[i]; i++)
    {
      size_t n = strlen (envp[i]) + 1;
      memcpy (buf + off, envp[i], n);
      off += n;
    }
  *len = off;
  return buf;
}

static int
send_kill (sandbox *sb)
{
  struct supervisor_message msg = { .type = SUPERVISOR_KILL };

  return supervisor_send (sb->control_fd, &msg, NULL, 0, NULL, 0);
}

void
exec_finish_streams (struct output_stream *out, struct output_stream *err, struct sandbox_exec_result *result)
{
  result->out = out->buf ? out->buf : xstrdup ("");
  result->out_len = out->len;
  if (out->buf)
    out->buf[out->len] = '\0';
  result->err = err->buf ? err->buf : xstrdup ("");
  result->err_len = err->len;
  if (err->buf)
    err->buf[err->len] = '\0';
  out->buf = err->buf = NULL;
}

void
exec_describe_end (const struct sandbox_exec_request *req, int status, enum stop_reason stop,
                   struct sandbox_exec_result *result)
{
  if (WIFEXITED (status))
    result->exit_code = WEXITSTATUS (status);
  else if (WIFSIGNALED (status))
    {
      result->exit_code = 128 + WTERMSIG (status);
      snprintf (result->message, sizeof result->message, "Killed by signal %d (%s)",
                WTERMSIG (status), strsignal (WTERMSIG (status)));
    }
  else
    result->exit_code = 1;

  if (stop == STOP_TIMEOUT)
    {
      result->timed_out = true;
      result->exit_code = EXIT_TIMEOUT;
      snprintf (result->message, sizeof result->message,
                "Execution timed out after %lld ms; every process it started was killed",
                (long long) req->timeout_ms);
    }
  else if (stop == STOP_OUTPUT)
    {
      result->output_truncated = true;
      result->exit_code = EXIT_KILLED;
      snprintf (result->message, sizeof result->message,
                "Output exceeded %zu bytes; the execution was killed", req->max_output_bytes);
    }
  else if (stop == STOP_CANCEL)
    {
      result->cancelled = true;
      snprintf (result->message, sizeof result->message, "Execution cancelled");
    }
}

/* Mark SB as running a program, or fail when it is gone or busy. */
static int
claim_sandbox (sandbox *sb, omcp_error *err)
{
  (void) sandbox_is_alive (sb);
  pthread_mutex_lock (&sb->lock);
  if (!sb->alive)
    {
      pthread_mutex_unlock (&sb->lock);
      return omcp_error_set_kind (err, ESRCH, "Sandbox %s was destroyed; create a new one", sb->id);
    }
  if (sb->executing)
    {
      pthread_mutex_unlock (&sb->lock);
      return omcp_error_set_kind (err, EBUSY, "Sandbox %s is already executing code; wait for it "
                                  "to finish or use another sandbox", sb->id);
    }
  sb->executing = true;
  pthread_mutex_unlock (&sb->lock);
  return 0;
}

static void
release_sandbox (sandbox *sb)
{
  pthread_mutex_lock (&sb->lock);
  sb->executing = false;
  pthread_mutex_unlock (&sb->lock);
}

int
sandbox_exec (sandbox *sb, const struct sandbox_exec_request *req, struct sandbox_exec_result *result,
              omcp_error *err)
{
  struct output_stream out = { .fd = -1 }, errs = { .fd = -1 };
  cleanup_close int input_fd = -1;
  cleanup_free char *payload = NULL;
  struct supervisor_message msg = { .type = SUPERVISOR_EXEC };
  int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
  int fds[3];
  size_t payload_len, budget = req->max_output_bytes;
  int64_t start = now_monotonic_ms (), deadline, next_progress, kill_sent_at = 0;
  long oom_before;
  enum stop_reason stop = STOP_NONE;
  bool exited = false, destroyed = false;
  int status = 0;
  int ret = -1;

  memset (result, 0, sizeof *result);
  if (claim_sandbox (sb, err) < 0)
    return -1;

  input_fd = exec_create_input (req->input, req->input_len, err);
  if (input_fd < 0)
    goto out;
  if (pipe2 (out_pipe, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2 (err_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
    {
      omcp_error_set (err, errno, "pipe");
      goto out;
    }
  /* The write ends go to the sandbox, which must see blocking pipes. */
  fcntl (out_pipe[1], F_SETFL, 0);
  fcntl (err_pipe[1], F_SETFL, 0);
  out.fd = out_pipe[0];
  errs.fd = err_pipe[0];

  payload = pack_strings (req->argv, req->envp, &msg.argc, &msg.envc, &payload_len);
  if (payload_len > SUPERVISOR_MAX_MESSAGE)
    {
      omcp_error_set (err, E2BIG, "arguments and environment exceed %d bytes", SUPERVISOR_MAX_MESSAGE);
      goto out;
    }
  oom_before = sb->cgroup ? sb->engine->cgroup->oom_kills (sb->engine, sb->cgroup) : -1;

  fds[0] = input_fd;
  fds[1] = out_pipe[1];
  fds[2] = err_pipe[1];
  if (supervisor_send (sb->control_fd, &msg, payload, payload_len, fds, 3) < 0)
    {
      /* The supervisor is gone (EPIPE): report a destroyed sandbox. */
      log_warning ("sandbox", "send execution failed sandbox=%s exec=%s error=\"%s\"", sb->id,
                   req->exec_id ? req->exec_id : "-", strerror (errno));
      destroyed = true;
    }
  close (out_pipe[1]);
  close (err_pipe[1]);
  out_pipe[1] = err_pipe[1] = -1;

  deadline = start + req->timeout_ms;
  next_progress = req->on_progress ? start + req->progress_interval_ms : INT64_MAX;

  /* Loop until the supervisor reports that every process has exited and
   * both pipes are at end of file. */
  while (!destroyed && (!exited || out.fd >= 0 || errs.fd >= 0))
    {
      struct pollfd pfd[4];
      int64_t now = now_monotonic_ms (), wake;
      int n_pfd = 0, idx_out = -1, idx_err = -1, idx_ctl = -1, idx_cancel = -1;

      if (stop == STOP_NONE && now >= deadline)
        stop = STOP_TIMEOUT;
      if (stop == STOP_NONE && req->cancel_fd >= 0)
        {
          struct pollfd c = { .fd = req->cancel_fd, .events = POLLIN };
          if (poll (&c, 1, 0) > 0)
            stop = STOP_CANCEL;
        }
      if (stop != STOP_NONE && kill_sent_at == 0 && !exited)
        {
          /* Kill first, log second: logging may wait on a slow reader. */
          kill_sent_at = now;
          if (send_kill (sb) < 0)
            destroyed = true;
          log_info ("sandbox", "kill execution sandbox=%s exec=%s signal=KILL reason=\"%s\"",
                    sb->id, req->exec_id ? req->exec_id : "-", exec_stop_names[stop]);
          continue;
        }
      if (kill_sent_at && !exited && now - kill_sent_at > KILL_GRACE_MS)
        {
          sandbox_kill (sb, "supervisor did not confirm a kill");
          destroyed = true;
          break;
        }
      if (exited && stop != STOP_NONE && now - kill_sent_at > KILL_GRACE_MS)
        break;
      if (now >= next_progress)
        {
          req->on_progress (req->progress_userdata, now - start);
          next_progress = now + req->progress_interval_ms;
        }

      if (out.fd >= 0)
        pfd[idx_out = n_pfd++] = (struct pollfd) { .fd = out.fd, .events = POLLIN };
      if (errs.fd >= 0)
        pfd[idx_err = n_pfd++] = (struct pollfd) { .fd = errs.fd, .events = POLLIN };
      if (!exited)
        pfd[idx_ctl = n_pfd++] = (struct pollfd) { .fd = sb->control_fd, .events = POLLIN };
      if (req->cancel_fd >= 0 && stop == STOP_NONE)
        pfd[idx_cancel = n_pfd++] = (struct pollfd) { .fd = req->cancel_fd, .events = POLLIN };

      wake = stop == STOP_NONE ? deadline : (kill_sent_at ? kill_sent_at : now) + KILL_GRACE_MS;
      if (next_progress < wake)
        wake = next_progress;
      wake -= now;
      if (wake < 0)
        wake = 0;
      if (TEMP_FAILURE_RETRY (poll (pfd, (nfds_t) n_pfd, (int) (wake > 60000 ? 60000 : wake))) < 0)
        {
          omcp_error_set (err, errno, "poll");
          sandbox_kill (sb, "poll failed");
          destroyed = true;
          break;
        }

      if (idx_out >= 0 && pfd[idx_out].revents && output_stream_drain (&out, &budget) && stop == STOP_NONE)
        stop = STOP_OUTPUT;
      if (idx_err >= 0 && pfd[idx_err].revents && output_stream_drain (&errs, &budget) && stop == STOP_NONE)
        stop = STOP_OUTPUT;
      if (idx_cancel >= 0 && pfd[idx_cancel].revents && stop == STOP_NONE)
        stop = STOP_CANCEL;

      if (idx_ctl >= 0 && pfd[idx_ctl].revents)
        {
          struct supervisor_message reply;
          ssize_t n = supervisor_recv (sb->control_fd, &reply, NULL, 0, NULL, 0, NULL);

          if (n < 0)
            {
              destroyed = true;
              break;
            }
          if (reply.type == SUPERVISOR_EXITED)
            {
              status = reply.value;
              exited = true;
            }
          else if (reply.type == SUPERVISOR_FAILED)
            {
              omcp_error_set (err, reply.value, "start program in sandbox");
              exited = true;
              status = -1;
            }
        }
    }

  /* Whatever is still buffered in the pipes after the exit. */
  if (out.fd >= 0)
    output_stream_drain (&out, &budget);
  if (errs.fd >= 0)
    output_stream_drain (&errs, &budget);

  result->duration_ms = now_monotonic_ms () - start;
  if (destroyed)
    {
      long oom_after = sb->cgroup ? sb->engine->cgroup->oom_kills (sb->engine, sb->cgroup) : -1;

      sandbox_kill (sb, "supervisor exited");
      /* Return only once every process of the sandbox is gone. */
      if (!sandbox_wait_exit (sb, KILL_GRACE_MS))
        log_error ("sandbox", "processes still exiting after %d ms sandbox=%s", KILL_GRACE_MS, sb->id);
      result->sandbox_destroyed = true;
      result->exit_code = EXIT_KILLED;
      result->memory_limit_hit = oom_after > oom_before && oom_before >= 0;
      snprintf (result->message, sizeof result->message,
                result->memory_limit_hit
                  ? "The sandbox was destroyed: it exceeded its memory limit. Create a new sandbox."
                  : "The sandbox was destroyed: its supervisor exited. Create a new sandbox.");
      log_warning ("sandbox", "destroyed during execution sandbox=%s exec=%s memory_limit=%s", sb->id,
                   req->exec_id ? req->exec_id : "-", result->memory_limit_hit ? "yes" : "no");
    }
  else if (status == -1)
    goto out;
  else
    {
      exec_describe_end (req, status, stop, result);
      if (stop == STOP_NONE && WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL
          && oom_before >= 0 && sb->engine->cgroup->oom_kills (sb->engine, sb->cgroup) > oom_before)
        {
          result->memory_limit_hit = true;
          snprintf (result->message, sizeof result->message,
                    "Killed: the sandbox memory limit of %llu MiB was exceeded",
                    (unsigned long long) (sb->engine->config.limits.memory_bytes >> 20));
        }
    }
  if (result->message[0] && stop != STOP_NONE)
    log_info ("sandbox", "execution stopped sandbox=%s exec=%s reason=\"%s\" ms=%lld", sb->id,
              req->exec_id ? req->exec_id : "-", exec_stop_names[stop], (long long) result->duration_ms);
  exec_finish_streams (&out, &errs, result);
  ret = 0;

out:
  if (ret < 0 && destroyed)
    sandbox_kill (sb, "control socket failed");
  free (out.buf);
  free (errs.buf);
  if (out.fd >= 0)
    close (out.fd);
  if (errs.fd >= 0)
    close (errs.fd);
  if (out_pipe[1] >= 0)
    close (out_pipe[1]);
  if (err_pipe[1] >= 0)
    close (err_pipe[1]);
  release_sandbox (sb);
  return ret;
}

void
sandbox_exec_result_clear (struct sandbox_exec_result *result)
{
  free (result->out);
  free (result->err);
  result->out = result->err = NULL;
}

/* Wait up to TIMEOUT_MS for the supervisor message TYPE, skipping others.
 * Returns its value, or -1: ETIMEDOUT, EPIPE when the supervisor is gone,
 * or EPROTO for SUPERVISOR_FAILED (its errno then in *FAILED_ERRNO). */
static int
wait_message (sandbox *sb, uint32_t type, int timeout_ms, int *failed_errno)
{
  int64_t deadline = now_monotonic_ms () + timeout_ms;

  for (;;)
    {
      struct pollfd pfd = { .fd = sb->control_fd, .events = POLLIN };
      struct supervisor_message msg;
      int64_t left = deadline - now_monotonic_ms ();
      int ready;

      ready = left > 0 ? TEMP_FAILURE_RETRY (poll (&pfd, 1, (int) left)) : 0;
      if (ready < 0)
        return -1;
      if (ready == 0)
        {
          errno = ETIMEDOUT;
          return -1;
        }
      if (supervisor_recv (sb->control_fd, &msg, NULL, 0, NULL, 0, NULL) < 0)
        return -1;
      if (msg.type == type)
        return msg.value;
      if (msg.type == SUPERVISOR_FAILED)
        {
          *failed_errno = msg.value;
          errno = EPROTO;
          return -1;
        }
    }
}

int
sandbox_start (sandbox *sb, const struct sandbox_start_request *req, omcp_error *err)
{
  cleanup_free char *payload = NULL;
  struct supervisor_message msg = { .type = SUPERVISOR_EXEC };
  int fds[3] = { req->input_fd, req->output_fd, req->error_fd };
  int failed_errno = 0;
  size_t payload_len;

  if (claim_sandbox (sb, err) < 0)
    return -1;
  payload = pack_strings (req->argv, req->envp, &msg.argc, &msg.envc, &payload_len);
  if (payload_len > SUPERVISOR_MAX_MESSAGE)
    {
      release_sandbox (sb);
      return omcp_error_set (err, E2BIG, "arguments and environment exceed %d bytes",
                             SUPERVISOR_MAX_MESSAGE);
    }
  if (supervisor_send (sb->control_fd, &msg, payload, payload_len, fds, 3) < 0
      || wait_message (sb, SUPERVISOR_STARTED, KILL_GRACE_MS, &failed_errno) < 0)
    {
      int saved = errno == EPROTO ? failed_errno : errno;

      /* The supervisor may be gone or out of step: neither can be repaired. */
      if (errno != EPROTO)
        sandbox_kill (sb, "program start not confirmed");
      release_sandbox (sb);
      return omcp_error_set (err, saved, "start program in sandbox %s", sb->id);
    }
  log_info ("sandbox", "started program sandbox=%s exec=%s", sb->id,
            req->exec_id ? req->exec_id : "-");
  return 0;
}

int
sandbox_stop (sandbox *sb, const char *reason)
{
  int failed_errno = 0, status;

  /* A program that exited on its own has already been reported: the kill
   * then finds nothing to do and the queued report is read below. */
  if (send_kill (sb) < 0)
    status = -1;
  else
    status = wait_message (sb, SUPERVISOR_EXITED, KILL_GRACE_MS, &failed_errno);
  if (status < 0)
    {
      sandbox_kill (sb, "supervisor did not confirm a stop");
      (void) sandbox_wait_exit (sb, KILL_GRACE_MS);
    }
  log_info ("sandbox", "stopped program sandbox=%s reason=\"%s\"", sb->id, reason);
  release_sandbox (sb);
  return status;
}
