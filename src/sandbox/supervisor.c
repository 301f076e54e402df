/* The supervisor: PID 1 of a sandbox. It loads the seccomp filter, then
 * runs one program at a time on the server's request. When the program
 * exits, or on request, it kills every other process in the sandbox, so
 * nothing an execution started outlives it. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "sandbox-internal.h"

static void __attribute__ ((noreturn, format (printf, 1, 2)))
supervisor_die (const char *fmt, ...)
{
  char buf[512];
  va_list ap;
  int n;

  va_start (ap, fmt);
  n = vsnprintf (buf, sizeof buf - 1, fmt, ap);
  va_end (ap);
  if (n < 0)
    n = 0;
  if (n > (int) sizeof buf - 2)
    n = (int) sizeof buf - 2;
  buf[n++] = '\n';
  (void) !write (STDERR_FILENO, buf, (size_t) n);
  _exit (1);
}

static void
send_simple (int type, int value)
{
  struct supervisor_message msg = { .type = (uint32_t) type, .value = value };

  if (supervisor_send (SUPERVISOR_CONTROL_FD, &msg, NULL, 0, NULL, 0) < 0)
    supervisor_die ("omcp-sandbox: send to server: %s", strerror (errno));
}

/* SIGKILL everything in the PID namespace except this process, and reap
 * until nothing is left. kill(-1) from PID 1 reaches every process of the
 * namespace; repeating it catches children forked meanwhile. Returns the
 * wait status of MAIN_PID if it was reaped here. */
static bool
kill_all (pid_t main_pid, int *main_status)
{
  bool got_main = false;

  for (;;)
    {
      int status;
      pid_t pid;

      kill (-1, SIGKILL);
      pid = waitpid (-1, &status, __WALL);
      if (pid < 0)
        {
          if (errno == EINTR)
            continue;
          break; /* ECHILD: nothing left */
        }
      if (pid == main_pid)
        {
          *main_status = status;
          got_main = true;
        }
    }
  return got_main;
}

/* Split the strings of an exec request into ARGV and ENVP in place. */
static bool
split_strings (char *payload, size_t len, uint32_t argc, uint32_t envc, char **argv, char **envp)
{
  size_t off = 0;
  uint32_t i;

  if (len == 0 || payload[len - 1] != '\0')
    return false;
  for (i = 0; i < argc + envc; i++)
    {
      if (off >= len)
        return false;
      if (i < argc)
        argv[i] = payload + off;
      else
        envp[i - argc] = payload + off;
      off += strlen (payload + off) + 1;
    }
  argv[argc] = NULL;
  envp[envc] = NULL;
  return argc > 0 && argv[0][0] == '/';
}

/* DATA_LIMIT, when not NULL, becomes the program's RLIMIT_DATA (see
 * SANDBOX_ADDRESS_SANITIZER). */
static void __attribute__ ((noreturn))
exec_child (char **argv, char **envp, const int *fds, const sigset_t *mask,
            const struct rlimit *data_limit)
{
  int null_fd;

  /* Its own session and process group, no controlling terminal. */
  setsid ();
  sigprocmask (SIG_UNBLOCK, mask, NULL);

  null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0 || dup2 (null_fd, STDIN_FILENO) < 0 || dup2 (fds[1], STDOUT_FILENO) < 0
      || dup2 (fds[2], STDERR_FILENO) < 0 || dup2 (fds[0], 3) < 0)
    _exit (126);
  syscall (SYS_close_range, 4, ~0U, 0);
  if (chdir ("/sandbox") < 0)
    _exit (126);
  if (data_limit != NULL && setrlimit (RLIMIT_DATA, data_limit) < 0)
    _exit (126);

  execve (argv[0], argv, envp);
  dprintf (STDERR_FILENO, "omcp: cannot execute %s: %s\n", argv[0], strerror (errno));
  _exit (127);
}

int
sandbox_supervisor_main (int argc, char **argv)
{
  static char payload[SUPERVISOR_MAX_MESSAGE];
  char *exec_argv[1024], *exec_envp[1024];
  struct pollfd pfd[2];
  omcp_error err;
  sigset_t mask;
  pid_t main_pid = -1;
  struct rlimit data_limit;
  bool has_data_limit = false;
  int sfd;

  if (SANDBOX_ADDRESS_SANITIZER && argc > 2 && argv[2] != NULL)
    {
      char *end;
      unsigned long long bytes;

      errno = 0;
      bytes = strtoull (argv[2], &end, 10);
      if (errno != 0 || end == argv[2] || *end != '\0')
        supervisor_die ("omcp-sandbox: invalid memory limit \"%s\"", argv[2]);
      data_limit.rlim_cur = data_limit.rlim_max = (rlim_t) bytes;
      has_data_limit = true;
    }

  /* Not dumpable: code in the sandbox runs with the same uid, and must not
   * open /proc/1/mem, /proc/1/environ or /proc/1/fd. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);

  /* SIGCHLD arrives through a signalfd. Signals keep their default action,
   * which the kernel ignores for PID 1 when sent from inside the namespace. */
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  sfd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0)
    supervisor_die ("omcp-sandbox: signalfd: %s", strerror (errno));

  if (seccomp_install (&err) < 0)
    supervisor_die ("omcp-sandbox: %s", err.message);

  send_simple (SUPERVISOR_READY, 0);

  pfd[0].fd = SUPERVISOR_CONTROL_FD;
  pfd[0].events = POLLIN;
  pfd[1].fd = sfd;
  pfd[1].events = POLLIN;
  for (;;)
    {
      if (TEMP_FAILURE_RETRY (poll (pfd, 2, -1)) < 0)
        supervisor_die ("omcp-sandbox: poll: %s", strerror (errno));

      if (pfd[1].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          int status;
          pid_t pid;

          while (read (sfd, &si, sizeof si) > 0)
            ;
          while ((pid = waitpid (-1, &status, WNOHANG | __WALL)) > 0)
            {
              if (pid != main_pid)
                continue;
              /* The program ended: nothing it started may outlive it. */
              kill_all (-1, &status);
              main_pid = -1;
              send_simple (SUPERVISOR_EXITED, status);
            }
        }

      if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
        {
          struct supervisor_message msg;
          int fds[3];
          size_t n_fds = 0;
          ssize_t n;

          n = supervisor_recv (SUPERVISOR_CONTROL_FD, &msg, payload, sizeof payload, fds, 3, &n_fds);
          if (n < 0 && errno != EMSGSIZE)
            {
              /* The server is gone: take everything down with us. */
              int ignored;
              kill_all (-1, &ignored);
              _exit (0);
            }
          if (n < 0)
            continue;

          if (msg.type == SUPERVISOR_KILL)
            {
              int status = 0;

              if (main_pid > 0 && kill_all (main_pid, &status))
                {
                  main_pid = -1;
                  send_simple (SUPERVISOR_EXITED, status);
                }
              continue;
            }

          if (msg.type != SUPERVISOR_EXEC || n_fds != 3 || main_pid > 0
              || msg.argc >= N_ELEMENTS (exec_argv) || msg.envc >= N_ELEMENTS (exec_envp)
              || !split_strings (payload, (size_t) n, msg.argc, msg.envc, exec_argv, exec_envp))
            {
              for (size_t i = 0; i < n_fds; i++)
                close (fds[i]);
              send_simple (SUPERVISOR_FAILED, EINVAL);
              continue;
            }

          main_pid = fork ();
          if (main_pid == 0)
            exec_child (exec_argv, exec_envp, fds, &mask, has_data_limit ? &data_limit : NULL);
          for (size_t i = 0; i < n_fds; i++)
            close (fds[i]);
          if (main_pid < 0)
            {
              send_simple (SUPERVISOR_FAILED, errno);
              main_pid = -1;
              continue;
            }
          send_simple (SUPERVISOR_STARTED, main_pid);
        }
    }
}
