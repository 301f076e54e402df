/* An execution on the host, without any isolation: a child of the server
 * in its own session and process group, in a fresh temporary directory,
 * with the same deadline, output cap and result as sandbox_exec. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "log.h"
#include "sandbox-internal.h"

/* How long the output pipes may stay open after the program and its
 * process group were killed, held by a process that left the group. */
#define LOCAL_DRAIN_GRACE_MS 1000

static int
remove_entry (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  (void) st, (void) type, (void) ftw;
  remove (path);
  return 0;
}

/* Between fork and exec: async-signal-safe calls only, because the server
 * has other threads. */
static void __attribute__ ((noreturn))
local_child (const struct sandbox_exec_request *req, const char *workdir, int input_fd,
             int out_fd, int err_fd)
{
  sigset_t none;
  int null_fd;

  /* Its own process group, which the deadline kills as a whole, and no
   * controlling terminal. It dies with the calling thread, which always
   * outlives it unless the server itself dies. */
  setsid ();
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);

  null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0 || dup2 (null_fd, STDIN_FILENO) < 0 || dup2 (out_fd, STDOUT_FILENO) < 0
      || dup2 (err_fd, STDERR_FILENO) < 0 || dup2 (input_fd, 3) < 0)
    _exit (126);
  syscall (SYS_close_range, 4, ~0U, 0);
  if (chdir (workdir) < 0)
    _exit (126);
  execve (req->argv[0], (char *const *) req->argv, (char *const *) req->envp);
  _exit (127);
}

int
sandbox_exec_local (const struct sandbox_exec_request *req, struct sandbox_exec_result *result,
                    omcp_error *err)
{
  struct output_stream out = { .fd = -1 }, errs = { .fd = -1 };
  char workdir[] = "/tmp/omcp-local-XXXXXX";
  cleanup_close int input_fd = -1, pidfd = -1;
  int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
  size_t budget = req->max_output_bytes;
  int64_t start = now_monotonic_ms (), deadline, next_progress, exited_at = 0;
  enum stop_reason stop = STOP_NONE;
  bool exited = false, killed = false;
  int status = 0, ret = -1;
  pid_t pid;

  memset (result, 0, sizeof *result);
  if (mkdtemp (workdir) == NULL)
    return omcp_error_set (err, errno, "create working directory");
  input_fd = exec_create_input (req->input, req->input_len, err);
  if (input_fd < 0)
    goto out;
  if (pipe2 (out_pipe, O_CLOEXEC) < 0 || pipe2 (err_pipe, O_CLOEXEC) < 0)
    {
      omcp_error_set (err, errno, "pipe");
      goto out;
    }
  fcntl (out_pipe[0], F_SETFL, O_NONBLOCK);
  fcntl (err_pipe[0], F_SETFL, O_NONBLOCK);

  pid = fork ();
  if (pid < 0)
    {
      omcp_error_set (err, errno, "fork");
      goto out;
    }
  if (pid == 0)
    local_child (req, workdir, input_fd, out_pipe[1], err_pipe[1]);
  close (out_pipe[1]);
  close (err_pipe[1]);
  out_pipe[1] = err_pipe[1] = -1;
  out.fd = steal_fd (&out_pipe[0]);
  errs.fd = steal_fd (&err_pipe[0]);
  pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  if (pidfd < 0)
    {
      /* Without a pidfd there is no way to see the exit in the loop. */
      omcp_error_set (err, errno, "pidfd_open");
      kill (-pid, SIGKILL);
      (void) TEMP_FAILURE_RETRY (waitpid (pid, &status, 0));
      goto out;
    }
  log_warning ("sandbox", "started program on the host without a sandbox exec=%s pid=%d",
               req->exec_id ? req->exec_id : "-", (int) pid);

  deadline = start + req->timeout_ms;
  next_progress = req->on_progress ? start + req->progress_interval_ms : INT64_MAX;
  while (!exited || out.fd >= 0 || errs.fd >= 0)
    {
      struct pollfd pfd[4];
      int64_t now = now_monotonic_ms (), wake;
      int n_pfd = 0, idx_out = -1, idx_err = -1, idx_pid = -1, idx_cancel = -1;

      if (stop == STOP_NONE && !exited && now >= deadline)
        stop = STOP_TIMEOUT;
      if (stop != STOP_NONE && !exited && !killed)
        {
          killed = true;
          /* The leader is not reaped yet, so its pid still names the group. */
          kill (-pid, SIGKILL);
          log_info ("sandbox", "kill host execution exec=%s signal=KILL reason=\"%s\"",
                    req->exec_id ? req->exec_id : "-", exec_stop_names[stop]);
        }
      if (exited && now - exited_at > LOCAL_DRAIN_GRACE_MS)
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
        pfd[idx_pid = n_pfd++] = (struct pollfd) { .fd = pidfd, .events = POLLIN };
      if (req->cancel_fd >= 0 && stop == STOP_NONE)
        pfd[idx_cancel = n_pfd++] = (struct pollfd) { .fd = req->cancel_fd, .events = POLLIN };

      wake = exited ? exited_at + LOCAL_DRAIN_GRACE_MS : deadline;
      if (next_progress < wake)
        wake = next_progress;
      wake -= now;
      if (wake < 0)
        wake = 0;
      if (TEMP_FAILURE_RETRY (poll (pfd, (nfds_t) n_pfd, (int) (wake > 60000 ? 60000 : wake))) < 0)
        {
          omcp_error_set (err, errno, "poll");
          kill (-pid, SIGKILL);
          (void) TEMP_FAILURE_RETRY (waitpid (pid, &status, 0));
          goto out;
        }

      if (idx_out >= 0 && pfd[idx_out].revents && output_stream_drain (&out, &budget)
          && stop == STOP_NONE)
        stop = STOP_OUTPUT;
      if (idx_err >= 0 && pfd[idx_err].revents && output_stream_drain (&errs, &budget)
          && stop == STOP_NONE)
        stop = STOP_OUTPUT;
      if (idx_cancel >= 0 && pfd[idx_cancel].revents && stop == STOP_NONE)
        stop = STOP_CANCEL;
      if (idx_pid >= 0 && pfd[idx_pid].revents)
        {
          /* Nothing the program started may outlive it: kill the rest of
           * its group before the reap frees the group's id. */
          kill (-pid, SIGKILL);
          (void) TEMP_FAILURE_RETRY (waitpid (pid, &status, 0));
          exited = true;
          exited_at = now_monotonic_ms ();
        }
    }

  result->duration_ms = now_monotonic_ms () - start;
  exec_describe_end (req, status, stop, result);
  if (stop != STOP_NONE)
    log_info ("sandbox", "host execution stopped exec=%s reason=\"%s\" ms=%lld",
              req->exec_id ? req->exec_id : "-", exec_stop_names[stop],
              (long long) result->duration_ms);
  exec_finish_streams (&out, &errs, result);
  ret = 0;

out:
  free (out.buf);
  free (errs.buf);
  for (int i = 0; i < 2; i++)
    {
      if (out_pipe[i] >= 0)
        close (out_pipe[i]);
      if (err_pipe[i] >= 0)
        close (err_pipe[i]);
    }
  if (out.fd >= 0)
    close (out.fd);
  if (errs.fd >= 0)
    close (errs.fd);
  nftw (workdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  return ret;
}
