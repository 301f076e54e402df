/* Cloning a supervisor into fresh namespaces and building its root
 * filesystem. Everything between clone and exec runs in a copy of a
 * multi-threaded process, so the child calls only async-signal-safe
 * functions and reports a failure as (step, errno) over a pipe. */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <sys/socket.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "log.h"
#include "sandbox-internal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Mount point of the new root while it is assembled. It covers the host
 * /tmp, so the child opens every bind source before mounting it. */
#define NEWROOT "/tmp"

/* Files of the generated /etc. */
static const char etc_passwd[] =
  "root:x:0:0:root:/root:/usr/sbin/nologin\n"
  "sandboxuser:x:1000:1000:sandbox user:/sandbox:/usr/sbin/nologin\n"
  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
static const char etc_group[] =
  "root:x:0:\n"
  "sandboxuser:x:1000:\n"
  "nogroup:x:65534:\n";
static const char etc_hosts[] = "127.0.0.1 localhost sandbox\n::1 localhost ip6-localhost\n";
static const char etc_nsswitch[] =
  "passwd: files\ngroup: files\nshadow: files\nhosts: files\nnetworks: files\n"
  "protocols: files\nservices: files\n";
static const char etc_hostname[] = "sandbox\n";

/* Host entries below /etc that the sandbox's Python reads and that hold
 * no secrets: the dynamic loader cache, Debian's alternatives links (the
 * BLAS and LAPACK that numpy loads), Python's sitecustomize, matplotlib's
 * configuration and fontconfig. Missing ones are skipped. */
static const char *const etc_host_entries[] = {
  "ld.so.cache", "alternatives", "python3", "python3.11", "python3.12", "python3.13",
  "matplotlibrc", "fonts", "localtime",
};

static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom" };

/* Top-level links of a merged-/usr system. */
static const char *const usr_links[] = { "bin", "sbin", "lib", "lib32", "lib64", "libx32" };

enum bind_kind
{
  BIND_DIR,
  BIND_FILE,
};

/* When a bind is mounted: with /usr and /etc, after the /dev tmpfs, or
 * after /tmp and /sandbox (so an extra bind may sit below them). */
enum bind_phase
{
  PHASE_ROOT,
  PHASE_DEV,
  PHASE_LAST,
};

struct bind_source
{
  char host_path[256];
  bool optional;         /* skipped when the host path cannot be opened */
  bool regular_file;     /* skipped unless the host path is a regular file */
  int fd;                /* O_PATH descriptor, opened by the child */
  enum bind_kind kind;
  enum bind_phase phase;
  char target[256];      /* path below NEWROOT, without the leading slash */
  uint64_t extra;        /* MOUNT_ATTR_* flags added to the defaults */
  bool writable;         /* device nodes stay writable */
};

#define MAX_BINDS 48

/* How long the child may take from clone to executing the supervisor. */
#define SPAWN_TIMEOUT_MS 10000


/* Everything the child needs, prepared before clone. */
struct spawn_plan
{
  struct bind_source binds[MAX_BINDS];
  size_t n_binds;
  char links[N_ELEMENTS (usr_links)][16];
  char link_targets[N_ELEMENTS (usr_links)][24];
  size_t n_links;
  char tmp_options[64];
  char work_options[96];
  int exe_fd;
  int control_fd;              /* child's end of the control socket */
  int sync_fd;                 /* read end: parent finished the maps */
  int sync_write_fd;           /* the parent's write end, closed in the child */
  int error_fd;                /* write end: (step, errno) on failure */
  int cap_last_cap;
  bool privileged;
  bool read_only_root;
  struct rlimit core, nofile, fsize;
  bool rlimit_fallback;        /* no cgroups: memory and process rlimits too */
  struct rlimit data, nproc;
  char *argv[4];               /* argv[2]: RLIMIT_DATA, sanitizer builds only */
};

struct spawn_job
{
  sandbox *sb;
  struct spawn_plan *plan;
  pid_t pid;
  int pidfd;
  int error;                  /* errno of clone, or 0 */
  bool done;
};

enum child_step
{
  STEP_SYNC = 1,
  STEP_IDS,
  STEP_PDEATHSIG,
  STEP_CGROUPNS,
  STEP_MOUNT_PRIVATE,
  STEP_ROOT_TMPFS,
  STEP_BIND,
  STEP_LINKS,
  STEP_ETC,
  STEP_PROC,
  STEP_DEV,
  STEP_TMP,
  STEP_WORK,
  STEP_PIVOT,
  STEP_ROOT_READONLY,
  STEP_HOSTNAME,
  STEP_RLIMITS,
  STEP_CAPS,
  STEP_NO_NEW_PRIVS,
  STEP_FDS,
  STEP_EXEC,
};

static const char *const step_names[] = {
  [STEP_SYNC] = "wait for user namespace maps",
  [STEP_IDS] = "switch to uid/gid 1000",
  [STEP_PDEATHSIG] = "set parent-death signal",
  [STEP_CGROUPNS] = "unshare cgroup namespace",
  [STEP_MOUNT_PRIVATE] = "make mounts private",
  [STEP_ROOT_TMPFS] = "mount root tmpfs",
  [STEP_BIND] = "bind-mount host path read-only",
  [STEP_LINKS] = "create /usr links",
  [STEP_ETC] = "write generated /etc",
  [STEP_PROC] = "mount /proc",
  [STEP_DEV] = "populate /dev",
  [STEP_TMP] = "mount /tmp",
  [STEP_WORK] = "mount /sandbox",
  [STEP_PIVOT] = "pivot_root",
  [STEP_ROOT_READONLY] = "remount root read-only",
  [STEP_HOSTNAME] = "set hostname",
  [STEP_RLIMITS] = "set resource limits",
  [STEP_CAPS] = "drop capabilities",
  [STEP_NO_NEW_PRIVS] = "set no_new_privs",
  [STEP_FDS] = "prepare descriptors",
  [STEP_EXEC] = "execute supervisor",
};

/* Failure report of the child over error_fd: the step, its errno and,
 * for a bind, the index of the failing entry in plan->binds (-1
 * otherwise), so that the parent can name the host path. */
struct child_report
{
  int step;
  int errnum;
  int bind_index;
};

static void __attribute__ ((noreturn))
child_fail_bind (const struct spawn_plan *plan, enum child_step step, int bind_index)
{
  struct child_report report = { (int) step, errno, bind_index };

  (void) !write (plan->error_fd, &report, sizeof report);
  _exit (127);
}

static void __attribute__ ((noreturn))
child_fail (const struct spawn_plan *plan, enum child_step step)
{
  child_fail_bind (plan, step, -1);
}

/* Create DIR (relative to the current directory, no trailing slash) and
 * its missing parents, without allocating. */
static int
mkdir_parents (const char *path, mode_t mode)
{
  char buf[512];
  size_t i, len = strlen (path);

  if (len >= sizeof buf)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  memcpy (buf, path, len + 1);
  for (i = 1; i <= len; i++)
    {
      if (buf[i] != '/' && buf[i] != '\0')
        continue;
      buf[i] = '\0';
      if (mkdir (buf, mode) < 0 && errno != EEXIST)
        return -1;
      if (i < len)
        buf[i] = '/';
    }
  return 0;
}

static void
format_fd_path (char *buf, size_t size, int fd)
{
  static const char prefix[] = "/proc/self/fd/";
  char digits[16];
  size_t n = 0, len = sizeof prefix - 1;

  do
    digits[n++] = (char) ('0' + fd % 10);
  while ((fd /= 10) > 0 && n < sizeof digits);
  if (len + n + 1 > size)
    {
      buf[0] = '\0';
      return;
    }
  memcpy (buf, prefix, len);
  while (n > 0)
    buf[len++] = digits[--n];
  buf[len] = '\0';
}

static int
bind_one (const struct bind_source *bind)
{
  char source[64];
  char parent[512];
  char *slash;
  struct mount_attr attr = { 0 };
  int fd;

  /* The parent directory of the target, then the mount point itself. */
  memcpy (parent, bind->target, sizeof bind->target);
  slash = strrchr (parent, '/');
  if (slash)
    {
      *slash = '\0';
      if (mkdir_parents (parent, 0755) < 0)
        return -1;
    }
  if (bind->kind == BIND_DIR)
    {
      if (mkdir (bind->target, 0755) < 0 && errno != EEXIST)
        return -1;
    }
  else
    {
      fd = open (bind->target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
      if (fd < 0)
        return -1;
      close (fd);
    }

  /* /proc/self/fd/N names the descriptor opened before NEWROOT was
   * covered. Formatted by hand: printf is not async-signal-safe. */
  format_fd_path (source, sizeof source, bind->fd);
  if (mount (source, bind->target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return -1;

  /* A recursive bind copies the host's submounts too (a separate
   * /usr/local, say), and a remount would change only the top one. Set the
   * flags on the whole tree at once. mount_setattr only adds flags, so the
   * flags the kernel locks in a user namespace stay as they are. */
  attr.attr_set = MOUNT_ATTR_NOSUID | bind->extra;
  if (!bind->writable)
    attr.attr_set |= MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV;
  return (int) syscall (SYS_mount_setattr, AT_FDCWD, bind->target, AT_RECURSIVE, &attr, sizeof attr);
}

static int
write_new_file (const char *path, const char *content)
{
  int fd, ret;

  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0)
    return -1;
  ret = write_all (fd, content, strlen (content));
  close (fd);
  return ret;
}

static int
populate_etc (void)
{
  static const struct
  {
    const char *name;
    const char *content;
  } files[] = {
    { "etc/passwd", etc_passwd },     { "etc/group", etc_group },
    { "etc/hosts", etc_hosts },       { "etc/nsswitch.conf", etc_nsswitch },
    { "etc/hostname", etc_hostname },
  };
  size_t i;

  for (i = 0; i < N_ELEMENTS (files); i++)
    if (write_new_file (files[i].name, files[i].content) < 0)
      return -1;
  return 0;
}

static int
populate_dev (void)
{
  static const struct
  {
    const char *target;
    const char *link;
  } links[] = {
    { "/proc/self/fd", "dev/fd" },
    { "/proc/self/fd/0", "dev/stdin" },
    { "/proc/self/fd/1", "dev/stdout" },
    { "/proc/self/fd/2", "dev/stderr" },
  };
  size_t i;

  for (i = 0; i < N_ELEMENTS (links); i++)
    if (symlink (links[i].target, links[i].link) < 0)
      return -1;
  return 0;
}

/* Open every bind source before NEWROOT is covered. The kernel binds only
 * mounts of the caller's own mount namespace, so this happens here, in the
 * child, and not in the server. Returns the
 * index of the failing bind, or -1 when all are open. */
static int
open_bind_sources (struct spawn_plan *plan)
{
  size_t i;

  for (i = 0; i < plan->n_binds; i++)
    {
      struct bind_source *bind = &plan->binds[i];
      struct stat st;

      bind->fd = open (bind->host_path, O_PATH | O_CLOEXEC);
      if (bind->fd < 0)
        {
          if (bind->optional)
            continue;
          return (int) i;
        }
      if (fstat (bind->fd, &st) < 0)
        return (int) i;
      if (bind->regular_file && !S_ISREG (st.st_mode))
        {
          close (bind->fd);
          bind->fd = -1;
          continue;
        }
      bind->kind = S_ISDIR (st.st_mode) ? BIND_DIR : BIND_FILE;
    }
  return -1;
}

/* Mount the binds of PHASE. Returns the index of the failing bind, or -1
 * when all are mounted. */
static int
bind_phase (const struct spawn_plan *plan, enum bind_phase phase)
{
  size_t i;

  for (i = 0; i < plan->n_binds; i++)
    if (plan->binds[i].phase == phase && plan->binds[i].fd >= 0 && bind_one (&plan->binds[i]) < 0)
      return (int) i;
  return -1;
}

/* Body of the cloned child: finish the jail and execute the supervisor. */
static void __attribute__ ((noreturn))
child_main (struct spawn_plan *plan)
{
  struct __user_cap_header_struct cap_header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct cap_data[2];
  char go;
  size_t i;
  int null_fd;
  int failed_bind;

  /* Die with the server from the start, and hold no copy of the parent's
   * end of the sync pipe, so a server that dies now gives end of file. */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
    child_fail (plan, STEP_PDEATHSIG);
  close (plan->sync_write_fd);

  /* The parent writes uid_map and gid_map and joins the cgroup first. */
  if (TEMP_FAILURE_RETRY (read (plan->sync_fd, &go, 1)) != 1)
    child_fail (plan, STEP_SYNC);

  /* Open the bind sources while the child still has the server's file
   * system ids, so that a host path below a directory only the server may
   * search (a root-owned 0700 working directory, say) can be bound. The
   * capabilities of the new user namespace do not apply to host inodes, so
   * this grants no more than the server's own ids. Code in the sandbox
   * still needs read permission on the bound file itself. */
  failed_bind = open_bind_sources (plan);
  if (failed_bind >= 0)
    child_fail_bind (plan, STEP_BIND, failed_bind);

  /* Raw system calls: glibc's wrappers would ask the parent's other
   * threads, which do not exist in this copy, to change ids too, and wait
   * for them forever. */
  if (plan->privileged && syscall (SYS_setgroups, 0, NULL) < 0)
    child_fail (plan, STEP_IDS);
  if (syscall (SYS_setresgid, SANDBOX_GID, SANDBOX_GID, SANDBOX_GID) < 0
      || syscall (SYS_setresuid, SANDBOX_UID, SANDBOX_UID, SANDBOX_UID) < 0)
    child_fail (plan, STEP_IDS);

  /* Set after the uid change, which clears it. */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
    child_fail (plan, STEP_PDEATHSIG);

  /* Unshared only now that the parent has moved us into the sandbox's
   * cgroup, so that cgroup becomes the root of the new namespace. */
  if (unshare (CLONE_NEWCGROUP) < 0)
    child_fail (plan, STEP_CGROUPNS);

  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    child_fail (plan, STEP_MOUNT_PRIVATE);
  if (mount ("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") < 0)
    child_fail (plan, STEP_ROOT_TMPFS);
  if (chdir (NEWROOT) < 0)
    child_fail (plan, STEP_ROOT_TMPFS);

  /* /usr and host /etc entries. */
  if (mkdir ("etc", 0755) < 0)
    child_fail (plan, STEP_ETC);
  failed_bind = bind_phase (plan, PHASE_ROOT);
  if (failed_bind >= 0)
    child_fail_bind (plan, STEP_BIND, failed_bind);
  for (i = 0; i < plan->n_links; i++)
    if (symlink (plan->link_targets[i], plan->links[i]) < 0)
      child_fail (plan, STEP_LINKS);
  if (populate_etc () < 0)
    child_fail (plan, STEP_ETC);

  if (mkdir ("proc", 0555) < 0
      || mount ("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0
      || mount ("proc/sys", "proc/sys", NULL, MS_BIND | MS_REC, NULL) < 0
      || mount (NULL, "proc/sys", NULL,
                MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    child_fail (plan, STEP_PROC);

  if (mkdir ("dev", 0755) < 0
      || mount ("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755") < 0)
    child_fail (plan, STEP_DEV);
  failed_bind = bind_phase (plan, PHASE_DEV);
  if (failed_bind >= 0)
    child_fail_bind (plan, STEP_DEV, failed_bind);
  if (populate_dev () < 0)
    child_fail (plan, STEP_DEV);
  /* Read-only once populated; the device binds are mounts of their own and
   * stay writable. */
  if (mount (NULL, "dev", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
             "size=64k,mode=0755") < 0)
    child_fail (plan, STEP_DEV);

  if (mkdir ("tmp", 01777) < 0
      || mount ("tmpfs", "tmp", "tmpfs", MS_NOSUID | MS_NODEV, plan->tmp_options) < 0)
    child_fail (plan, STEP_TMP);
  if (mkdir ("sandbox", 0755) < 0
      || mount ("tmpfs", "sandbox", "tmpfs", MS_NOSUID | MS_NODEV, plan->work_options) < 0)
    child_fail (plan, STEP_WORK);
  failed_bind = bind_phase (plan, PHASE_LAST);
  if (failed_bind >= 0)
    child_fail_bind (plan, STEP_BIND, failed_bind);

  /* pivot_root(".", ".") stacks the old root under the new one; detaching
   * it leaves only the new root. */
  if (syscall (SYS_pivot_root, ".", ".") < 0 || umount2 (".", MNT_DETACH) < 0 || chdir ("/") < 0)
    child_fail (plan, STEP_PIVOT);
  if (plan->read_only_root
      && mount (NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
    child_fail (plan, STEP_ROOT_READONLY);

  if (sethostname ("sandbox", 7) < 0 || setdomainname ("sandbox", 7) < 0)
    child_fail (plan, STEP_HOSTNAME);

  if (setrlimit (RLIMIT_CORE, &plan->core) < 0 || setrlimit (RLIMIT_NOFILE, &plan->nofile) < 0
      || setrlimit (RLIMIT_FSIZE, &plan->fsize) < 0)
    child_fail (plan, STEP_RLIMITS);
  if (plan->rlimit_fallback && !SANDBOX_ADDRESS_SANITIZER
      && setrlimit (RLIMIT_DATA, &plan->data) < 0)
    child_fail (plan, STEP_RLIMITS);
  if (plan->rlimit_fallback && setrlimit (RLIMIT_NPROC, &plan->nproc) < 0)
    child_fail (plan, STEP_RLIMITS);

  /* Bounding set first (needs CAP_SETPCAP), then ambient, then the rest. */
  for (i = 0; i <= (size_t) plan->cap_last_cap; i++)
    if (prctl (PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL)
      child_fail (plan, STEP_CAPS);
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    child_fail (plan, STEP_CAPS);
  memset (cap_data, 0, sizeof cap_data);
  if (syscall (SYS_capset, &cap_header, cap_data) < 0)
    child_fail (plan, STEP_CAPS);

  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    child_fail (plan, STEP_NO_NEW_PRIVS);

  /* Standard input and output go to /dev/null, so nothing in the sandbox
   * can write to the server's protocol stream. Standard error stays for
   * the supervisor's own diagnostics. The parent moved every descriptor
   * used here above SUPERVISOR_CONTROL_FD. */
  null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0 || dup2 (null_fd, STDIN_FILENO) < 0 || dup2 (null_fd, STDOUT_FILENO) < 0
      || dup2 (plan->control_fd, SUPERVISOR_CONTROL_FD) < 0
      || syscall (SYS_close_range, SUPERVISOR_CONTROL_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    child_fail (plan, STEP_FDS);

  if (chdir ("/sandbox") < 0)
    child_fail (plan, STEP_FDS);

  /* The server blocks SIGTERM and SIGINT in every thread; the sandbox
   * starts with an empty mask. */
  {
    sigset_t empty;

    sigemptyset (&empty);
    sigprocmask (SIG_SETMASK, &empty, NULL);
  }

  {
    char *const envp[] = { NULL };

    syscall (SYS_execveat, plan->exe_fd, "", plan->argv, envp, AT_EMPTY_PATH);
  }
  child_fail (plan, STEP_EXEC);
}

/* Bind source descriptors are opened only in the child, so the parent's
 * plan owns just the supervisor binary's descriptor. */
static void
plan_free (struct spawn_plan *plan)
{
  if (plan == NULL)
    return;
  if (plan->exe_fd >= 0)
    close (plan->exe_fd);
  free (plan->argv[1]);
  free (plan->argv[2]);
  free (plan);
}

/* Add HOST_PATH as a bind of TARGET (relative to the new root). */
static int
plan_add_bind (struct spawn_plan *plan, const char *host_path, const char *target,
               enum bind_phase phase, bool optional, bool writable, omcp_error *err)
{
  struct bind_source *bind;

  if (plan->n_binds >= MAX_BINDS)
    return omcp_error_set (err, E2BIG, "too many bind mounts (at most %d)", MAX_BINDS);
  if (strlen (host_path) >= sizeof bind->host_path || strlen (target) >= sizeof bind->target)
    return omcp_error_set (err, ENAMETOOLONG, "bind %s", host_path);
  if (!optional && access (host_path, F_OK) < 0)
    return omcp_error_set (err, errno, "bind %s", host_path);

  bind = &plan->binds[plan->n_binds++];
  copy_string (bind->host_path, sizeof bind->host_path, host_path);
  copy_string (bind->target, sizeof bind->target, target);
  bind->fd = -1;
  bind->optional = optional;
  bind->phase = phase;
  bind->writable = writable;
  bind->extra = writable ? MOUNT_ATTR_NOEXEC : 0;
  return 0;
}

static int
move_fd_high (int fd)
{
  int moved;

  if (fd > SUPERVISOR_CONTROL_FD)
    return fd;
  moved = fcntl (fd, F_DUPFD_CLOEXEC, SUPERVISOR_CONTROL_FD + 1);
  close (fd);
  return moved;
}

static struct spawn_plan *
plan_new (sandbox_engine *engine, sandbox *sb, omcp_error *err)
{
  const struct sandbox_limits *limits = &engine->config.limits;
  struct spawn_plan *plan = xcalloc (1, sizeof *plan);
  size_t i;

  plan->exe_fd = -1;
  plan->control_fd = plan->sync_fd = plan->error_fd = -1;
  plan->cap_last_cap = engine->cap_last_cap;
  plan->privileged = engine->privileged;
  plan->read_only_root = engine->config.read_only_root;

  if (plan_add_bind (plan, "/usr", "usr", PHASE_ROOT, false, false, err) < 0)
    goto fail;
  for (i = 0; i < N_ELEMENTS (etc_host_entries); i++)
    {
      char host[128], target[128];

      snprintf (host, sizeof host, "/etc/%s", etc_host_entries[i]);
      snprintf (target, sizeof target, "etc/%s", etc_host_entries[i]);
      if (plan_add_bind (plan, host, target, PHASE_ROOT, true, false, err) < 0)
        goto fail;
    }
  for (i = 0; i < N_ELEMENTS (dev_nodes); i++)
    {
      char host[64], target[64];

      snprintf (host, sizeof host, "/dev/%s", dev_nodes[i]);
      snprintf (target, sizeof target, "dev/%s", dev_nodes[i]);
      if (plan_add_bind (plan, host, target, PHASE_DEV, false, true, err) < 0)
        goto fail;
    }
  for (i = 0; i < engine->config.n_extra_binds; i++)
    {
      const struct sandbox_bind *b = &engine->binds[i];

      /* Targets are relative to the new root. An optional source is looked
       * up again for every sandbox, so one that appears later is bound in
       * the sandboxes created after that. */
      if (plan_add_bind (plan, b->host_path, b->sandbox_path + (b->sandbox_path[0] == '/'),
                         PHASE_LAST, b->optional, false, err) < 0)
        goto fail;
      plan->binds[plan->n_binds - 1].regular_file = b->regular_file;
    }
  for (i = 0; i < N_ELEMENTS (usr_links); i++)
    {
      char path[64];
      struct stat st;

      snprintf (path, sizeof path, "/usr/%s", usr_links[i]);
      if (lstat (path, &st) == 0 && S_ISDIR (st.st_mode))
        {
          snprintf (plan->link_targets[plan->n_links], sizeof plan->link_targets[0], "usr/%s",
                    usr_links[i]);
          copy_string (plan->links[plan->n_links++], sizeof plan->links[0], usr_links[i]);
        }
    }

  snprintf (plan->tmp_options, sizeof plan->tmp_options, "size=%llu,mode=1777",
            (unsigned long long) limits->tmp_bytes);
  snprintf (plan->work_options, sizeof plan->work_options, "size=%llu,mode=0755,uid=%d,gid=%d",
            (unsigned long long) limits->work_bytes, SANDBOX_UID, SANDBOX_GID);

  plan->core.rlim_cur = plan->core.rlim_max = 0;
  plan->nofile.rlim_cur = plan->nofile.rlim_max = limits->nofile;
  plan->fsize.rlim_cur = plan->fsize.rlim_max = limits->fsize_bytes;
  plan->rlimit_fallback = engine->cgroup == &cgroup_none_ops;
  plan->data.rlim_cur = plan->data.rlim_max = limits->memory_bytes;
  plan->nproc.rlim_cur = plan->nproc.rlim_max = limits->pids_max;

  /* A duplicate of the descriptor opened at engine start, so replacing the
   * binary on disk later does not change the supervisor. */
  plan->exe_fd = fcntl (engine->exe_fd, F_DUPFD_CLOEXEC, SUPERVISOR_CONTROL_FD + 1);
  if (plan->exe_fd < 0)
    {
      omcp_error_set (err, errno, "duplicate descriptor of %s", engine->exe_path);
      goto fail;
    }
  plan->argv[0] = (char *) SANDBOX_SUPERVISOR_ARGV0;
  plan->argv[1] = xstrdup (sb->id);
  plan->argv[2] = NULL;
  if (SANDBOX_ADDRESS_SANITIZER && plan->rlimit_fallback)
    plan->argv[2] = xasprintf ("%llu", (unsigned long long) limits->memory_bytes);
  plan->argv[3] = NULL;
  return plan;

fail:
  plan_free (plan);
  return NULL;
}

static void *
spawner_thread (void *data)
{
  sandbox_engine *engine = data;

  pthread_mutex_lock (&engine->lock);
  for (;;)
    {
      struct spawn_job *job;
      int pidfd = -1;
      long ret;

      while (engine->job == NULL && !engine->stopping)
        pthread_cond_wait (&engine->cond, &engine->lock);
      if (engine->stopping)
        break;
      job = engine->job;
      engine->job = NULL;

      /* Fork-like clone: no new stack, the child continues here. */
      ret = syscall (SYS_clone,
                     CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC
                       | CLONE_NEWUTS | CLONE_PIDFD | SIGCHLD,
                     NULL, &pidfd, NULL, NULL);
      if (ret == 0)
        child_main (job->plan);
      job->pid = (pid_t) ret;
      job->pidfd = pidfd;
      job->error = ret < 0 ? errno : 0;
      job->done = true;
      pthread_cond_broadcast (&engine->cond);
    }
  pthread_mutex_unlock (&engine->lock);
  return NULL;
}

int
spawner_start (sandbox_engine *engine, omcp_error *err)
{
  int ret;

  pthread_mutex_init (&engine->lock, NULL);
  pthread_cond_init (&engine->cond, NULL);
  ret = pthread_create (&engine->spawner, NULL, spawner_thread, engine);
  if (ret != 0)
    return omcp_error_set (err, ret, "start spawner thread");
  return 0;
}

void
spawner_stop (sandbox_engine *engine)
{
  pthread_mutex_lock (&engine->lock);
  engine->stopping = true;
  pthread_cond_broadcast (&engine->cond);
  pthread_mutex_unlock (&engine->lock);
  pthread_join (engine->spawner, NULL);
  pthread_cond_destroy (&engine->cond);
  pthread_mutex_destroy (&engine->lock);
}

static int
write_proc_file (pid_t pid, const char *name, const char *content, omcp_error *err)
{
  char path[64];

  snprintf (path, sizeof path, "/proc/%d/%s", (int) pid, name);
  if (write_file_at (AT_FDCWD, path, content) < 0)
    return omcp_error_set (err, errno, "write %s", path);
  return 0;
}

static int
write_id_maps (sandbox_engine *engine, sandbox *sb, omcp_error *err)
{
  char map[64];
  gid_t host_gid = engine->privileged ? (gid_t) sb->host_uid : engine->host_gid;

  snprintf (map, sizeof map, "%d %u 1\n", SANDBOX_UID, (unsigned) sb->host_uid);
  if (write_proc_file (sb->pid, "uid_map", map, err) < 0)
    return -1;
  /* Without CAP_SETGID outside, the kernel requires setgroups to be denied
   * before gid_map can be written. */
  if (!engine->privileged && write_proc_file (sb->pid, "setgroups", "deny", err) < 0)
    return -1;
  snprintf (map, sizeof map, "%d %u 1\n", SANDBOX_GID, (unsigned) host_gid);
  return write_proc_file (sb->pid, "gid_map", map, err);
}

static void
kill_and_reap (sandbox *sb)
{
  siginfo_t info;

  syscall (SYS_pidfd_send_signal, sb->pidfd, SIGKILL, NULL, 0);
  (void) TEMP_FAILURE_RETRY (waitid (P_PIDFD, (id_t) sb->pidfd, &info, WEXITED));
  sb->reaped = true;
}

int
spawn_supervisor (sandbox_engine *engine, sandbox *sb, omcp_error *err)
{
  struct spawn_plan *plan = NULL;
  struct spawn_job job = { 0 };
  int sockets[2] = { -1, -1 };
  cleanup_close int sync_read = -1, sync_write = -1, error_read = -1, error_write = -1;
  int pipes[2];
  struct child_report report;
  ssize_t n;
  int ret = -1;

  plan = plan_new (engine, sb, err);
  if (plan == NULL)
    return -1;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) < 0)
    {
      omcp_error_set (err, errno, "socketpair");
      goto out;
    }
  sb->control_fd = sockets[0];
  plan->control_fd = move_fd_high (sockets[1]);
  if (pipe2 (pipes, O_CLOEXEC) < 0)
    {
      omcp_error_set (err, errno, "pipe");
      goto out;
    }
  sync_read = move_fd_high (pipes[0]);
  sync_write = pipes[1];
  if (pipe2 (pipes, O_CLOEXEC) < 0)
    {
      omcp_error_set (err, errno, "pipe");
      goto out;
    }
  error_read = pipes[0];
  error_write = move_fd_high (pipes[1]);
  if (plan->control_fd < 0 || sync_read < 0 || error_write < 0)
    {
      omcp_error_set (err, errno, "move descriptors");
      goto out;
    }
  plan->sync_fd = sync_read;
  plan->sync_write_fd = sync_write;
  plan->error_fd = error_write;

  if (engine->cgroup->create (engine, sb->id, &sb->cgroup, err) < 0)
    goto out;

  /* Clone on the spawner thread and wait for its pid. */
  job.sb = sb;
  job.plan = plan;
  pthread_mutex_lock (&engine->lock);
  while (engine->job != NULL)
    pthread_cond_wait (&engine->cond, &engine->lock);
  engine->job = &job;
  pthread_cond_broadcast (&engine->cond);
  while (!job.done)
    pthread_cond_wait (&engine->cond, &engine->lock);
  pthread_mutex_unlock (&engine->lock);
  if (job.error != 0)
    {
      omcp_error_set (err, job.error, "clone with new namespaces");
      goto out;
    }
  sb->pid = job.pid;
  sb->pidfd = job.pidfd;
  sb->alive = true;

  /* Close the child's ends so that EOF on error_read means exec. */
  close (plan->control_fd);
  plan->control_fd = -1;
  close (steal_fd (&sync_read));
  close (steal_fd (&error_write));

  if (write_id_maps (engine, sb, err) < 0)
    goto fail_child;
  if (engine->cgroup->enter (engine, sb->cgroup, sb->pid, err) < 0)
    goto fail_child;
  if (write_all (sync_write, "x", 1) < 0)
    {
      omcp_error_set (err, errno, "release child");
      goto fail_child;
    }

  /* EOF means the child executed the supervisor. A child stuck before that
   * must not hang the server. */
  {
    struct pollfd pfd = { .fd = error_read, .events = POLLIN };
    int ready = TEMP_FAILURE_RETRY (poll (&pfd, 1, SPAWN_TIMEOUT_MS));

    if (ready <= 0)
      {
        omcp_error_set (err, ready == 0 ? ETIMEDOUT : errno, "wait for the jail set-up");
        goto fail_child;
      }
  }
  n = TEMP_FAILURE_RETRY (read (error_read, &report, sizeof report));
  if (n == (ssize_t) sizeof report)
    {
      const char *step = report.step > 0 && (size_t) report.step < N_ELEMENTS (step_names)
                           ? step_names[report.step] : "unknown step";

      if (report.errnum == ENOSYS)
        omcp_error_set (err, report.errnum, "%s: the kernel lacks a system call that omcp needs "
                        "(Linux 5.12 or later is required)", step);
      else if (report.bind_index >= 0 && (size_t) report.bind_index < plan->n_binds)
        omcp_error_set (err, report.errnum, "%s %s", step,
                        plan->binds[report.bind_index].host_path);
      else
        omcp_error_set (err, report.errnum, "%s", step);
      goto fail_child;
    }
  if (n != 0)
    {
      omcp_error_set (err, n < 0 ? errno : EPROTO, "read child status");
      goto fail_child;
    }
  ret = 0;
  goto out;

fail_child:
  kill_and_reap (sb);
  sb->alive = false;
out:
  if (plan && plan->control_fd >= 0)
    close (plan->control_fd);
  if (plan)
    plan->control_fd = -1;
  plan_free (plan);
  return ret;
}
