/* The seccomp filter of every sandbox: a deny list on top of "allow". Denied
 * calls fail with EPERM, so Python raises a readable PermissionError. */
#include <linux/sched.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "sandbox-internal.h"

/* System calls that fail with EPERM whatever their arguments. They cover
 * mounting and namespaces, tracing and reading other processes, kernel
 * modules and kexec, eBPF and perf. userfaultfd and io_uring are denied as
 * frequent kernel attack surface, and file handles because they bypass
 * path checks. The rest are the keyring, swap, reboot, accounting, quotas,
 * the kernel log and the clocks. */
static const char *const denied_syscalls[] = {
  "mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
  "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
  "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
  "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
  "bpf", "perf_event_open", "userfaultfd",
  "io_uring_setup", "io_uring_enter", "io_uring_register",
  "keyctl", "add_key", "request_key",
  "swapon", "swapoff", "reboot", "acct", "quotactl", "quotactl_fd",
  "open_by_handle_at", "name_to_handle_at", "lookup_dcookie",
  "syslog", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
  "vhangup", "uselib", "nfsservctl",
};

/* clone flags that create namespaces. */
static const unsigned long namespace_flags[] = {
  CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS,
  CLONE_NEWCGROUP,
#ifdef CLONE_NEWTIME
  CLONE_NEWTIME,
#endif
};

/* ioctl requests that push input into a terminal or read its screen. */
static const unsigned long denied_ioctls[] = { TIOCSTI, TIOCLINUX };

static void
cleanup_seccomp_ctx (scmp_filter_ctx *ctx)
{
  if (*ctx)
    seccomp_release (*ctx);
}

static int
add_rule (scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned count,
          const struct scmp_arg_cmp *cmp, omcp_error *err)
{
  int nr = seccomp_syscall_resolve_name (name);
  int ret;

  /* A name this libseccomp or architecture does not know cannot be called
   * by that name either. */
  if (nr == __NR_SCMP_ERROR)
    return 0;
  ret = seccomp_rule_add_array (ctx, action, nr, count, cmp);
  if (ret < 0)
    return omcp_error_set (err, -ret, "seccomp rule for %s", name);
  return 0;
}

int
seccomp_install (omcp_error *err)
{
  __attribute__ ((cleanup (cleanup_seccomp_ctx))) scmp_filter_ctx ctx = NULL;
  uint32_t eperm = SCMP_ACT_ERRNO (EPERM);
  size_t i;
  int ret;

  /* Calls from other architectures (i386 through int 0x80, x32) hit the
   * bad-architecture action, which kills the process. */
  ctx = seccomp_init (SCMP_ACT_ALLOW);
  if (ctx == NULL)
    return omcp_error_set (err, ENOMEM, "seccomp_init");

  for (i = 0; i < N_ELEMENTS (denied_syscalls); i++)
    if (add_rule (ctx, eperm, denied_syscalls[i], 0, NULL, err) < 0)
      return -1;

  for (i = 0; i < N_ELEMENTS (namespace_flags); i++)
    {
      struct scmp_arg_cmp cmp = SCMP_A0 (SCMP_CMP_MASKED_EQ, namespace_flags[i], namespace_flags[i]);

      if (add_rule (ctx, eperm, "clone", 1, &cmp, err) < 0)
        return -1;
    }

  /* A filter cannot read clone3's flags, which sit in memory. ENOSYS makes
   * glibc fall back to clone, whose flags the rules above check. */
  if (add_rule (ctx, SCMP_ACT_ERRNO (ENOSYS), "clone3", 0, NULL, err) < 0)
    return -1;

  /* The request is an int: compare the low 32 bits only, so that junk in
   * the upper half cannot slip past. */
  for (i = 0; i < N_ELEMENTS (denied_ioctls); i++)
    {
      struct scmp_arg_cmp cmp = SCMP_A1 (SCMP_CMP_MASKED_EQ, 0xffffffffUL, denied_ioctls[i]);

      if (add_rule (ctx, eperm, "ioctl", 1, &cmp, err) < 0)
        return -1;
    }

  /* Code runs with the supervisor's uid, and prlimit checks nothing else,
   * so it could lower PID 1's limits (no descriptors to receive the next
   * execution's pipes, a CPU limit that kills it). Setting limits is
   * allowed for the caller itself only (pid 0, as glibc's setrlimit
   * passes); reading any process's limits stays allowed. */
  {
    struct scmp_arg_cmp cmp[] = { SCMP_A0 (SCMP_CMP_NE, 0), SCMP_A2 (SCMP_CMP_NE, 0) };

    if (add_rule (ctx, eperm, "prlimit64", N_ELEMENTS (cmp), cmp, err) < 0)
      return -1;
  }

  /* Only local sockets: no AF_INET, AF_INET6, AF_PACKET, AF_NETLINK, ... */
  {
    struct scmp_arg_cmp cmp = SCMP_A0 (SCMP_CMP_NE, AF_UNIX);

    if (add_rule (ctx, eperm, "socket", 1, &cmp, err) < 0)
      return -1;
  }

  ret = seccomp_load (ctx);
  if (ret < 0)
    return omcp_error_set (err, -ret, "load seccomp filter");
  return 0;
}
