/* An execution on the host, without any isolation: a grandchild of the
 * server below a reaper process, in a fresh temporary directory, with the
 * same deadline, output cap and result as sandbox_exec. */
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
 * descendants were killed. */
#define LOCAL_DRAIN_GRACE_MS 1000

/* How long the reaper may take to kill the program's descendants and
 * exit after SIGTERM, before its process group is killed instead. */
#define LOCAL_KILL_GRACE_MS 5000

static int
remove_entry (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  (void) st, (void) type, (void) ftw;
  remove (path);
  return 0;
}

/* Parse the decimal pids of a /proc children file into PIDS. */
static size_t
parse_pids (const char *text, ssize_t len, pid_t *pids, size_t max)
{
  size_t n = 0;
  pid_t value = 0;
  bool in_number = false;

  for (ssize_t i = 0; i < len && n < max; i++)
    {
      if (text[i] >= '0' && text[i] <= '9')
        {
          value = value * 10 + (text[i] - '0');
          in_number = true;
        }
      else if (in_number)
        {
          pids[n++] = value;
          value = 0;
          in_number = false;
        }
    }
  if (in_number && n < max)
    pids[n++] = value;
  return n;
}

/* SIGKILL every descendant of the calling subreaper and reap them until
 * none is left. Orphans of a killed process are reparented to the
 * subreaper, so they show up in its children list on a later round. */
static void
reaper_kill_descendants (void)
{
  char text[4096];
  pid_t pids[512];

  for (;;)
    {
      ssize_t len = -1;
      size_t n, i;
      int fd, status;

      /* The reaper has one thread, so its children are that thread's. */
      fd = open ("/proc/thread-self/children", O_RDONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          len = read (fd, text, sizeof text);
          close (fd);
        }
      n = len > 0 ? parse_pids (text, len, pids, N_ELEMENTS (pids)) : 0;
      for (i = 0; i < n; i++)
        kill (pids[i], SIGKILL);
      if (TEMP_FAILURE_RETRY (waitpid (-1, &status, __WALL)) < 0)
        return; /* ECHILD: nothing left */
    }
}

/* Exit as the program did: with its exit code, or killed by its signal. */
static void __attribute__ ((noreturn))
reaper_exit_like (int status)
{
  if (WIFSIGNALED (status))
    {
      struct sigaction dfl = { .sa_handler = SIG_DFL };
      sigset_t only;

      sigaction (WTERMSIG (status), &dfl, NULL);
      sigemptyset (&only);
      sigaddset (&only, WTERMSIG (status));
      sigprocmask (SIG_UNBLOCK, &only, NULL);
      kill (getpid (), WTERMSIG (status));
      _exit (128 + WTERMSIG (status));
    }
  _exit (WIFEXITED (status) ? WEXITSTATUS (status) : 1);
}

/* Between fork and exec: async-signal-safe calls only, because the server
 * has other threads. Descriptors 0 to 3 are already in place. */
static void __attribute__ ((noreturn))
exec_program (const struct sandbox_exec_request *req, const char *workdir)
{
  sigset_t none;

  setpgid (0, 0);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  if (chdir (workdir) < 0)
    _exit (126);
  execve (req->argv[0], (char *const *) req->argv, (char *const *) req->envp);
  _exit (127);
}

/* The reaper: the server's child and a child subreaper, so that every
 * process the program starts stays its descendant, even one that starts
 * a session of its own. It runs the program, and when the program exits
 * or the server sends SIGTERM, kills every descendant and exits as the
 * program did. Async-signal-safe calls only, as in exec_program. */
static void __attribute__ ((noreturn))
local_reaper (const struct sandbox_exec_request *req, const char *workdir, int input_fd,
              int out_fd, int err_fd)
{
  sigset_t wait_set;
  pid_t program;
  int status = 0, null_fd;

  /* Its own session without a terminal. It dies with the calling thread,
   * which always outlives it unless the server itself dies. */
  setsid ();
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    _exit (126);
  sigemptyset (&wait_set);
  sigaddset (&wait_set, SIGCHLD);
  sigaddset (&wait_set, SIGTERM);
  sigprocmask (SIG_BLOCK, &wait_set, NULL);

  /* Keep only what the program gets: the server's other descriptors,
   * such as the write ends of concurrent executions' pipes, must not stay
   * open here. Descriptor 3 is written last, so the copies above cannot
   * clobber a source that is still needed. */
  null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0 || dup2 (null_fd, STDIN_FILENO) < 0 || dup2 (out_fd, STDOUT_FILENO) < 0
      || dup2 (err_fd, STDERR_FILENO) < 0 || dup2 (input_fd, 3) < 0)
    _exit (126);
  syscall (SYS_close_range, 4, ~0U, 0);

  program = fork ();
  if (program < 0)
    _exit (126);
  if (program == 0)
    exec_program (req, workdir);
  for (int fd = 0; fd <= 3; fd++)
    close (fd);

  for (;;)
    {
      siginfo_t info;
      pid_t pid;

      if (sigwaitinfo (&wait_set, &info) < 0)
        continue;
      if (info.si_signo == SIGTERM)
        {
          kill (-program, SIGKILL);
          kill (program, SIGKILL);
          continue;
        }
      /* Reap what has exited: the program, or orphans handed over to us. */
      while ((pid = waitpid (-1, &status, WNOHANG | __WALL)) > 0)
        if (pid == program)
          {
            reaper_kill_descendants ();
            reaper_exit_like (status);
          }
    }
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
  int64_t start = now_monotonic_ms (), deadline, next_progress, exited_at = 0, killed_at = 0;
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
    local_reaper (req, workdir, input_fd, out_pipe[1], err_pipe[1]);
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
      kill (pid, SIGTERM);
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
          /* The reaper kills the program and everything it started. */
          killed = true;
          killed_at = now;
          kill (pid, SIGTERM);
          log_info ("sandbox", "kill host execution exec=%s signal=KILL reason=\"%s\"",
                    req->exec_id ? req->exec_id : "-", exec_stop_names[stop]);
        }
      if (killed && !exited && now - killed_at > LOCAL_KILL_GRACE_MS)
        {
          log_error ("sandbox", "host execution reaper did not exit; killing its group exec=%s",
                     req->exec_id ? req->exec_id : "-");
          kill (-pid, SIGKILL);
          killed_at = INT64_MAX / 2;
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

      wake = exited ? exited_at + LOCAL_DRAIN_GRACE_MS
                    : killed ? killed_at + LOCAL_KILL_GRACE_MS : deadline;
      if (next_progress < wake)
        wake = next_progress;
      wake -= now;
      if (wake < 0)
        wake = 0;
      if (TEMP_FAILURE_RETRY (poll (pfd, (nfds_t) n_pfd, (int) (wake > 60000 ? 60000 : wake))) < 0)
        {
          omcp_error_set (err, errno, "poll");
          kill (pid, SIGTERM);
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
