/* Run a command with one system call failing with ENOSYS, as on a kernel too
 * old to have it: `enosys SYSCALL COMMAND [ARGS...]`. Tests use it to check
 * that omcp names a missing kernel feature instead of running without it. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  scmp_filter_ctx ctx;
  int nr, ret;

  if (argc < 3)
    {
      fprintf (stderr, "usage: enosys SYSCALL COMMAND [ARGS...]\n");
      return 2;
    }
  nr = seccomp_syscall_resolve_name (argv[1]);
  if (nr == __NR_SCMP_ERROR)
    {
      fprintf (stderr, "enosys: unknown system call '%s'\n", argv[1]);
      return 2;
    }
  ctx = seccomp_init (SCMP_ACT_ALLOW);
  if (ctx == NULL)
    {
      fprintf (stderr, "enosys: seccomp_init failed\n");
      return 1;
    }
  ret = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), nr, 0);
  if (ret == 0)
    ret = seccomp_load (ctx);
  seccomp_release (ctx);
  if (ret < 0)
    {
      fprintf (stderr, "enosys: install filter: %s\n", strerror (-ret));
      return 1;
    }
  execvp (argv[2], argv + 2);
  fprintf (stderr, "enosys: execute %s: %s\n", argv[2], strerror (errno));
  return 127;
}
