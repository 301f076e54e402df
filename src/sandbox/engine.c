/* Engine set-up and the life cycle of one sandbox. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "log.h"
#include "sandbox-internal.h"

/* How long a new supervisor may take to report ready. */
#define READY_TIMEOUT_MS 10000

/* Host uids of sandboxes when the server runs as root: far above the uids
 * that distributions hand out, then this server's pid modulo 2^21 - 1 and a
 * slot number of 10 bits. The largest value, 0xfffffbff, stays below the
 * invalid uid 0xffffffff. Slots are unique within one server. Servers whose
 * pids are equal modulo 2^21 - 1, as in two PID namespaces, can share uids;
 * their sandboxes are still apart in every namespace. */
#define PRIVILEGED_UID_BASE 0x80000000u
#define PRIVILEGED_UID_PIDS 0x1fffffu

/* Take the lowest free uid slot, or return -1. */
static int
uid_slot_take (sandbox_engine *engine)
{
  int slot = -1;

  pthread_mutex_lock (&engine->lock);
  for (int i = 0; i < SANDBOX_UID_SLOTS; i++)
    if (!(engine->uid_slots[i / 64] & (1ULL << (i % 64))))
      {
        engine->uid_slots[i / 64] |= 1ULL << (i % 64);
        slot = i;
        break;
      }
  pthread_mutex_unlock (&engine->lock);
  return slot;
}

static void
uid_slot_release (sandbox_engine *engine, int slot)
{
  if (slot < 0)
    return;
  pthread_mutex_lock (&engine->lock);
  engine->uid_slots[slot / 64] &= ~(1ULL << (slot % 64));
  pthread_mutex_unlock (&engine->lock);
}

void
sandbox_limits_default (struct sandbox_limits *limits)
{
  limits->memory_bytes = 512ULL << 20;
  limits->pids_max = 50;
  limits->cpu_millicores = 500;
  limits->tmp_bytes = 100ULL * 1000 * 1000;
  limits->work_bytes = 500ULL * 1000 * 1000;
  limits->nofile = 256;
  limits->fsize_bytes = 512ULL << 20;
}

static int
check_kernel_features (sandbox_engine *engine, omcp_error *err)
{
  cleanup_free char *max_userns = NULL;
  cleanup_free char *status = NULL;
  cleanup_free char *last_cap = NULL;
  int64_t value;

  max_userns = read_file_at (AT_FDCWD, "/proc/sys/user/max_user_namespaces", NULL);
  if (max_userns == NULL)
    return omcp_error_set (err, errno, "user namespaces: read /proc/sys/user/max_user_namespaces");
  max_userns[strcspn (max_userns, "\n")] = '\0';
  if (!parse_int64 (max_userns, &value) || value == 0)
    return omcp_error_set (err, 0, "user namespaces are disabled (user.max_user_namespaces = 0)");

  if (!engine->privileged)
    {
      cleanup_free char *clone_ok = read_file_at (AT_FDCWD, "/proc/sys/kernel/unprivileged_userns_clone", NULL);

      if (clone_ok && clone_ok[0] == '0')
        return omcp_error_set (err, 0, "unprivileged user namespaces are disabled "
                                       "(kernel.unprivileged_userns_clone = 0); run as root or enable them");
    }

  status = read_file_at (AT_FDCWD, "/proc/self/status", NULL);
  if (status == NULL || strstr (status, "\nSeccomp:") == NULL)
    return omcp_error_set (err, 0, "seccomp: the kernel was built without CONFIG_SECCOMP");

  last_cap = read_file_at (AT_FDCWD, "/proc/sys/kernel/cap_last_cap", NULL);
  if (last_cap == NULL)
    return omcp_error_set (err, errno, "capabilities: read /proc/sys/kernel/cap_last_cap");
  last_cap[strcspn (last_cap, "\n")] = '\0';
  if (!parse_int64 (last_cap, &value) || value < 0 || value > 127)
    return omcp_error_set (err, 0, "capabilities: unexpected cap_last_cap '%s'", last_cap);
  engine->cap_last_cap = (int) value;
  return 0;
}

int
sandbox_engine_new (const struct sandbox_config *config, sandbox_engine **out, omcp_error *err)
{
  sandbox_engine *engine = xcalloc (1, sizeof *engine);
  size_t i;

  engine->exe_fd = -1;
  engine->config = *config;
  engine->binds = xcalloc (config->n_extra_binds + 1, sizeof *engine->binds);
  for (i = 0; i < config->n_extra_binds; i++)
    {
      engine->binds[i].host_path = xstrdup (config->extra_binds[i].host_path);
      engine->binds[i].sandbox_path = xstrdup (config->extra_binds[i].sandbox_path);
      engine->binds[i].optional = config->extra_binds[i].optional;
      engine->binds[i].regular_file = config->extra_binds[i].regular_file;
    }
  engine->config.extra_binds = engine->binds;
  engine->privileged = geteuid () == 0;
  engine->host_uid = geteuid ();
  engine->host_gid = getegid ();

  engine->exe_path = config->supervisor_exe ? xstrdup (config->supervisor_exe)
                                            : realpath ("/proc/self/exe", NULL);
  if (engine->exe_path == NULL)
    {
      omcp_error_set (err, errno, "resolve /proc/self/exe");
      goto fail;
    }
  engine->exe_fd = open (engine->exe_path, O_PATH | O_CLOEXEC);
  if (engine->exe_fd < 0)
    {
      omcp_error_set (err, errno, "open %s", engine->exe_path);
      goto fail;
    }

  if (check_kernel_features (engine, err) < 0)
    goto fail;
  if (cgroup_select (engine, err) < 0)
    goto fail;
  if (spawner_start (engine, err) < 0)
    goto fail;

  log_info ("sandbox", "engine ready limits=%s privileged=%s", engine->cgroup->name,
            engine->privileged ? "yes" : "no");
  *out = engine;
  return 0;

fail:
  engine->spawner = 0;
  cgroup_release_parent (engine);
  if (engine->exe_fd >= 0)
    close (engine->exe_fd);
  for (i = 0; i < config->n_extra_binds; i++)
    {
      free ((char *) engine->binds[i].host_path);
      free ((char *) engine->binds[i].sandbox_path);
    }
  free (engine->binds);
  free (engine->exe_path);
  free (engine);
  return -1;
}

void
sandbox_engine_free (sandbox_engine *engine)
{
  size_t i;

  if (engine == NULL)
    return;
  spawner_stop (engine);
  cgroup_release_parent (engine);
  close (engine->exe_fd);
  for (i = 0; i < engine->config.n_extra_binds; i++)
    {
      free ((char *) engine->binds[i].host_path);
      free ((char *) engine->binds[i].sandbox_path);
    }
  free (engine->binds);
  free (engine->exe_path);
  free (engine);
}

const char *
sandbox_engine_limits_backend (sandbox_engine *engine)
{
  return engine->cgroup->name;
}

static int
wait_ready (sandbox *sb, omcp_error *err)
{
  struct pollfd pfd = { .fd = sb->control_fd, .events = POLLIN };
  struct supervisor_message msg;
  ssize_t n;
  int ret;

  ret = TEMP_FAILURE_RETRY (poll (&pfd, 1, READY_TIMEOUT_MS));
  if (ret < 0)
    return omcp_error_set (err, errno, "wait for supervisor");
  if (ret == 0)
    return omcp_error_set (err, ETIMEDOUT, "wait for supervisor");
  n = supervisor_recv (sb->control_fd, &msg, NULL, 0, NULL, 0, NULL);
  if (n < 0 && errno == EPIPE)
    return omcp_error_set (err, 0, "supervisor exited during start-up (see its message above)");
  if (n < 0)
    return omcp_error_set (err, errno, "wait for supervisor");
  if (msg.type != SUPERVISOR_READY)
    return omcp_error_set (err, EPROTO, "wait for supervisor");
  return 0;
}

int
sandbox_create (sandbox_engine *engine, const char *id, sandbox **out, omcp_error *err)
{
  sandbox *sb = xcalloc (1, sizeof *sb);
  int64_t start = now_monotonic_ms ();

  sb->engine = engine;
  copy_string (sb->id, sizeof sb->id, id);
  sb->pid = -1;
  sb->pidfd = -1;
  sb->control_fd = -1;
  pthread_mutex_init (&sb->lock, NULL);
  sb->uid_slot = -1;
  if (engine->privileged)
    {
      sb->uid_slot = uid_slot_take (engine);
      if (sb->uid_slot < 0)
        {
          omcp_error_set_kind (err, EAGAIN, "create sandbox: all %d host uids of this server are "
                               "in use", SANDBOX_UID_SLOTS);
          sandbox_destroy (sb, "no free host uid");
          return -1;
        }
      sb->host_uid = PRIVILEGED_UID_BASE + (((unsigned) getpid () % PRIVILEGED_UID_PIDS) << 10)
                     + (unsigned) sb->uid_slot;
    }
  else
    sb->host_uid = engine->host_uid;

  if (spawn_supervisor (engine, sb, err) < 0 || wait_ready (sb, err) < 0)
    {
      omcp_error_prefix (err, "create sandbox");
      log_error ("sandbox", "create failed sandbox=%s error=\"%s\"", id, err->message);
      sandbox_destroy (sb, "creation failed");
      return -1;
    }

  log_info ("sandbox", "created sandbox=%s pid=%d host_uid=%u ms=%lld", sb->id, (int) sb->pid,
            (unsigned) sb->host_uid, (long long) (now_monotonic_ms () - start));
  *out = sb;
  return 0;
}

void
sandbox_kill (sandbox *sb, const char *reason)
{
  pthread_mutex_lock (&sb->lock);
  if (sb->alive && sb->pidfd >= 0)
    {
      /* The PID namespace dies with its init: the kernel kills the rest. */
      syscall (SYS_pidfd_send_signal, sb->pidfd, SIGKILL, NULL, 0);
      log_info ("sandbox", "killed sandbox=%s signal=KILL reason=\"%s\"", sb->id, reason);
    }
  sb->alive = false;
  pthread_mutex_unlock (&sb->lock);
}

bool
sandbox_is_alive (sandbox *sb)
{
  bool alive;

  pthread_mutex_lock (&sb->lock);
  /* A pidfd becomes readable when its process exits, for any reason. */
  if (sb->alive && sb->pidfd >= 0)
    {
      struct pollfd pfd = { .fd = sb->pidfd, .events = POLLIN };

      if (poll (&pfd, 1, 0) > 0)
        {
          sb->alive = false;
          log_warning ("sandbox", "supervisor exited sandbox=%s", sb->id);
        }
    }
  alive = sb->alive;
  pthread_mutex_unlock (&sb->lock);
  return alive;
}

bool
sandbox_wait_exit (sandbox *sb, int timeout_ms)
{
  struct pollfd pfd = { .fd = sb->pidfd, .events = POLLIN };

  if (sb->pidfd < 0)
    return true;
  return TEMP_FAILURE_RETRY (poll (&pfd, 1, timeout_ms)) > 0;
}

const char *
sandbox_id (sandbox *sb)
{
  return sb->id;
}

void
sandbox_destroy (sandbox *sb, const char *reason)
{
  if (sb == NULL)
    return;
  sandbox_kill (sb, reason);
  if (sb->pidfd >= 0 && !sb->reaped)
    {
      siginfo_t info;

      (void) TEMP_FAILURE_RETRY (waitid (P_PIDFD, (id_t) sb->pidfd, &info, WEXITED));
    }
  /* Once init is reaped every process of the namespace has exited, because
   * the kernel waits for them while init exits. The cgroup may still count
   * them for a moment, so its removal retries. */
  if (sb->cgroup)
    sb->engine->cgroup->destroy (sb->engine, sb->cgroup);
  if (sb->control_fd >= 0)
    close (sb->control_fd);
  if (sb->pidfd >= 0)
    close (sb->pidfd);
  /* The uid is free only now that no process of the sandbox is left. */
  uid_slot_release (sb->engine, sb->uid_slot);
  log_info ("sandbox", "removed sandbox=%s reason=\"%s\"", sb->id, reason);
  free (sb->cgroup);
  pthread_mutex_destroy (&sb->lock);
  free (sb);
}
