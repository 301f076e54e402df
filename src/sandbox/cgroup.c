/* Resource limits per sandbox: cgroup v2 where the unified hierarchy has
 * the controllers, cgroup v1 memory, pids and cpu hierarchies where it does
 * not, and rlimits alone (with a warning) when neither is writable. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <signal.h>

#include "log.h"
#include "sandbox-internal.h"

enum
{
  V1_MEMORY,
  V1_PIDS,
  V1_CPU,
};

static const char *const v1_controllers[] = { "memory", "pids", "cpu" };

#define CPU_PERIOD_US 1000000

static int
write_control (const char *dir, const char *file, const char *value, omcp_error *err)
{
  char path[PATH_MAX];

  snprintf (path, sizeof path, "%s/%s", dir, file);
  if (write_file_at (AT_FDCWD, path, value) < 0)
    return omcp_error_set (err, errno, "write %s to %s", value, path);
  return 0;
}

/* This process's cgroup path for CONTROLLER (v1), or the unified path when
 * CONTROLLER is NULL, from /proc/self/cgroup. */
static char *
own_cgroup (const char *controller)
{
  cleanup_free char *content = read_file_at (AT_FDCWD, "/proc/self/cgroup", NULL);
  char *line, *save = NULL;

  if (content == NULL)
    return NULL;
  for (line = strtok_r (content, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *list = strchr (line, ':');
      char *path = list ? strchr (list + 1, ':') : NULL;

      if (path == NULL)
        continue;
      *path++ = '\0';
      list++;
      if (controller == NULL)
        {
          if (strcmp (line, "0") == 0 && *list == '\0')
            return xstrdup (path);
          continue;
        }
      for (char *c = strtok (list, ","); c; c = strtok (NULL, ","))
        if (strcmp (c, controller) == 0)
          return xstrdup (path);
    }
  return NULL;
}

static bool
is_directory_writable (const char *path)
{
  return access (path, W_OK) == 0;
}

/* ---- cgroup v1 ---- */

static int
v1_create (sandbox_engine *engine, const char *id, char **handle, omcp_error *err)
{
  const struct sandbox_limits *limits = &engine->config.limits;
  char value[64];
  size_t i;

  /* Set first, so that sandbox_destroy removes what a failure leaves. */
  *handle = xstrdup (id);
  for (i = 0; i < N_ELEMENTS (v1_controllers); i++)
    {
      cleanup_free char *dir = xasprintf ("%s/%s", engine->cgroup_v1_paths[i], id);

      if (mkdir (dir, 0755) < 0 && errno != EEXIST)
        return omcp_error_set (err, errno, "create cgroup %s", dir);
      switch (i)
        {
        case V1_MEMORY:
          snprintf (value, sizeof value, "%llu", (unsigned long long) limits->memory_bytes);
          if (write_control (dir, "memory.limit_in_bytes", value, err) < 0)
            return -1;
          /* Memory plus swap, where swap accounting is on. */
          {
            cleanup_free char *memsw = xasprintf ("%s/memory.memsw.limit_in_bytes", dir);
            if (access (memsw, F_OK) == 0 && write_control (dir, "memory.memsw.limit_in_bytes", value, err) < 0)
              return -1;
          }
          break;
        case V1_PIDS:
          snprintf (value, sizeof value, "%u", limits->pids_max);
          if (write_control (dir, "pids.max", value, err) < 0)
            return -1;
          break;
        case V1_CPU:
          snprintf (value, sizeof value, "%d", CPU_PERIOD_US);
          if (write_control (dir, "cpu.cfs_period_us", value, err) < 0)
            return -1;
          snprintf (value, sizeof value, "%llu",
                    (unsigned long long) limits->cpu_millicores * CPU_PERIOD_US / 1000);
          if (write_control (dir, "cpu.cfs_quota_us", value, err) < 0)
            return -1;
          break;
        }
    }
  return 0;
}

static int
v1_enter (sandbox_engine *engine, const char *handle, pid_t pid, omcp_error *err)
{
  char value[32];
  size_t i;

  snprintf (value, sizeof value, "%d", (int) pid);
  for (i = 0; i < N_ELEMENTS (v1_controllers); i++)
    {
      cleanup_free char *dir = xasprintf ("%s/%s", engine->cgroup_v1_paths[i], handle);

      if (write_control (dir, "cgroup.procs", value, err) < 0)
        return -1;
    }
  return 0;
}

/* Read "KEY N" from a flat-keyed cgroup file. */
static long
read_keyed (const char *path, const char *key)
{
  cleanup_free char *content = read_file_at (AT_FDCWD, path, NULL);
  size_t klen = strlen (key);
  char *p;

  if (content == NULL)
    return -1;
  for (p = content; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
    if (strncmp (p, key, klen) == 0 && p[klen] == ' ')
      return strtol (p + klen + 1, NULL, 10);
  return -1;
}

static long
v1_oom_kills (sandbox_engine *engine, const char *handle)
{
  cleanup_free char *path = xasprintf ("%s/%s/memory.oom_control",
                                       engine->cgroup_v1_paths[V1_MEMORY], handle);

  return read_keyed (path, "oom_kill");
}

/* Remove the cgroup directory DIR. Its processes are reaped, but the
 * kernel may take a moment to release the cgroup, so EBUSY is retried for
 * up to 100 ms. */
static void
remove_cgroup_dir (const char *dir)
{
  for (int attempt = 0; attempt < 100; attempt++)
    {
      if (rmdir (dir) == 0 || errno == ENOENT)
        return;
      if (errno != EBUSY)
        break;
      usleep (1000);
    }
  log_warning ("cgroup", "remove %s failed: %s", dir, strerror (errno));
}

static void
v1_destroy (sandbox_engine *engine, const char *handle)
{
  size_t i;

  for (i = 0; i < N_ELEMENTS (v1_controllers); i++)
    {
      cleanup_free char *dir = xasprintf ("%s/%s", engine->cgroup_v1_paths[i], handle);

      remove_cgroup_dir (dir);
    }
}

const struct cgroup_ops cgroup_v1_ops = {
  .name = "cgroup v1",
  .create = v1_create,
  .enter = v1_enter,
  .oom_kills = v1_oom_kills,
  .destroy = v1_destroy,
};

/* ---- cgroup v2 ---- */

static int
v2_create (sandbox_engine *engine, const char *id, char **handle, omcp_error *err)
{
  const struct sandbox_limits *limits = &engine->config.limits;
  cleanup_free char *dir = xasprintf ("%s/%s", engine->cgroup_v2_path, id);
  char value[64];

  if (mkdir (dir, 0755) < 0 && errno != EEXIST)
    return omcp_error_set (err, errno, "create cgroup %s", dir);
  /* Set now, so that sandbox_destroy removes what a failure leaves. */
  *handle = xstrdup (dir);
  snprintf (value, sizeof value, "%llu", (unsigned long long) limits->memory_bytes);
  if (write_control (dir, "memory.max", value, err) < 0)
    return -1;
  if (write_control (dir, "memory.swap.max", "0", NULL) < 0)
    log_debug ("cgroup", "memory.swap.max not available in %s", dir);
  snprintf (value, sizeof value, "%u", limits->pids_max);
  if (write_control (dir, "pids.max", value, err) < 0)
    return -1;
  snprintf (value, sizeof value, "%llu %d",
            (unsigned long long) limits->cpu_millicores * CPU_PERIOD_US / 1000, CPU_PERIOD_US);
  if (write_control (dir, "cpu.max", value, err) < 0)
    return -1;
  return 0;
}

static int
v2_enter (sandbox_engine *engine, const char *handle, pid_t pid, omcp_error *err)
{
  char value[32];

  (void) engine;
  snprintf (value, sizeof value, "%d", (int) pid);
  return write_control (handle, "cgroup.procs", value, err);
}

static long
v2_oom_kills (sandbox_engine *engine, const char *handle)
{
  cleanup_free char *path = xasprintf ("%s/memory.events", handle);

  (void) engine;
  return read_keyed (path, "oom_kill");
}

static void
v2_destroy (sandbox_engine *engine, const char *handle)
{
  (void) engine;
  remove_cgroup_dir (handle);
}

const struct cgroup_ops cgroup_v2_ops = {
  .name = "cgroup v2",
  .create = v2_create,
  .enter = v2_enter,
  .oom_kills = v2_oom_kills,
  .destroy = v2_destroy,
};

/* ---- rlimits only ---- */

static int
none_create (sandbox_engine *engine, const char *id, char **handle, omcp_error *err)
{
  (void) engine, (void) id, (void) err;
  *handle = NULL;
  return 0;
}

static int
none_enter (sandbox_engine *engine, const char *handle, pid_t pid, omcp_error *err)
{
  (void) engine, (void) handle, (void) pid, (void) err;
  return 0;
}

static long
none_oom_kills (sandbox_engine *engine, const char *handle)
{
  (void) engine, (void) handle;
  return -1;
}

static void
none_destroy (sandbox_engine *engine, const char *handle)
{
  (void) engine, (void) handle;
}

const struct cgroup_ops cgroup_none_ops = {
  .name = "rlimit",
  .create = none_create,
  .enter = none_enter,
  .oom_kills = none_oom_kills,
  .destroy = none_destroy,
};

/* ---- selection ---- */

static bool
has_word (const char *list, const char *word)
{
  size_t n = strlen (word);
  const char *p = list;

  while ((p = strstr (p, word)) != NULL)
    {
      if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
        return true;
      p += n;
    }
  return false;
}

/* Remove the "omcp-PID" cgroups that servers killed before their cleanup
 * left in PARENT. Only empty cgroups can be removed, so a live sandbox is
 * never touched. Best effort: failures are logged at debug level. */
static void
remove_stale_cgroups (const char *parent)
{
  DIR *dir = opendir (parent);
  struct dirent *de;

  if (dir == NULL)
    return;
  while ((de = readdir (dir)) != NULL)
    {
      int64_t pid;
      DIR *sub;
      struct dirent *child;
      cleanup_free char *path = NULL;

      if (strncmp (de->d_name, "omcp-", 5) != 0 || !parse_int64 (de->d_name + 5, &pid)
          || pid <= 0 || kill ((pid_t) pid, 0) == 0 || errno != ESRCH)
        continue;
      path = xasprintf ("%s/%s", parent, de->d_name);
      sub = opendir (path);
      if (sub == NULL)
        continue;
      while ((child = readdir (sub)) != NULL)
        if (child->d_type == DT_DIR && child->d_name[0] != '.')
          {
            cleanup_free char *leaf = xasprintf ("%s/%s", path, child->d_name);
            rmdir (leaf);
          }
      closedir (sub);
      if (rmdir (path) == 0)
        log_info ("cgroup", "removed stale cgroup %s", path);
      else
        log_debug ("cgroup", "keep stale cgroup %s: %s", path, strerror (errno));
    }
  closedir (dir);
}

/* cgroup v2 needs the memory, pids and cpu controllers enabled for our
 * children. The kernel forbids that in a non-root cgroup that contains
 * processes, so a server that is not in the root cgroup first moves itself
 * into a leaf "omcp-server" beside the sandboxes. */
static int
try_v2 (sandbox_engine *engine, omcp_error *err)
{
  static const char *const needed[] = { "memory", "pids", "cpu" };
  struct statfs sfs;
  cleanup_free char *own = NULL;
  cleanup_free char *base = NULL;
  cleanup_free char *available = NULL;
  cleanup_free char *path = NULL;
  char pid[32];
  size_t i;

  if (statfs ("/sys/fs/cgroup", &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
    return omcp_error_set (err, 0, "/sys/fs/cgroup is not a cgroup v2 mount");
  own = own_cgroup (NULL);
  if (own == NULL)
    return omcp_error_set (err, 0, "no unified cgroup in /proc/self/cgroup");
  base = xasprintf ("/sys/fs/cgroup%s", strcmp (own, "/") == 0 ? "" : own);

  path = xasprintf ("%s/cgroup.controllers", base);
  available = read_file_at (AT_FDCWD, path, NULL);
  if (available == NULL)
    return omcp_error_set (err, errno, "read %s", path);
  for (i = 0; i < N_ELEMENTS (needed); i++)
    if (!has_word (available, needed[i]))
      return omcp_error_set (err, 0, "controller %s is not available in %s", needed[i], base);
  if (!is_directory_writable (base))
    return omcp_error_set (err, EACCES, "%s", base);

  if (strcmp (own, "/") != 0)
    {
      cleanup_free char *leaf = xasprintf ("%s/omcp-server", base);

      if (mkdir (leaf, 0755) < 0 && errno != EEXIST)
        return omcp_error_set (err, errno, "create %s", leaf);
      snprintf (pid, sizeof pid, "%d", (int) getpid ());
      if (write_control (leaf, "cgroup.procs", pid, err) < 0)
        return -1;
    }
  if (write_control (base, "cgroup.subtree_control", "+memory +pids +cpu", err) < 0)
    return -1;

  /* Sandboxes of this server live in their own subtree. */
  remove_stale_cgroups (base);
  engine->cgroup_v2_path = xasprintf ("%s/omcp-%d", base, (int) getpid ());
  if (mkdir (engine->cgroup_v2_path, 0755) < 0 && errno != EEXIST)
    return omcp_error_set (err, errno, "create %s", engine->cgroup_v2_path);
  if (write_control (engine->cgroup_v2_path, "cgroup.subtree_control", "+memory +pids +cpu", err) < 0)
    return -1;
  return 0;
}

/* Mount point of the v1 hierarchy holding CONTROLLER, from mountinfo. */
static char *
v1_mount_point (const char *controller)
{
  cleanup_fclose FILE *f = fopen ("/proc/self/mountinfo", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;

  if (f == NULL)
    return NULL;
  while (getline (&line, &cap, f) > 0)
    {
      char mount_point[PATH_MAX], fstype[64], options[1024];
      char *sep = strstr (line, " - ");

      if (sep == NULL || sscanf (line, "%*s %*s %*s %*s %4095s", mount_point) != 1
          || sscanf (sep + 3, "%63s %*s %1023s", fstype, options) != 2
          || strcmp (fstype, "cgroup") != 0)
        continue;
      for (char *save = NULL, *opt = strtok_r (options, ",", &save); opt;
           opt = strtok_r (NULL, ",", &save))
        if (strcmp (opt, controller) == 0)
          return xstrdup (mount_point);
    }
  return NULL;
}

static int
try_v1 (sandbox_engine *engine, omcp_error *err)
{
  size_t i;

  for (i = 0; i < N_ELEMENTS (v1_controllers); i++)
    {
      cleanup_free char *mount_point = v1_mount_point (v1_controllers[i]);
      cleanup_free char *own = own_cgroup (v1_controllers[i]);
      cleanup_free char *parent = NULL;

      if (mount_point == NULL)
        return omcp_error_set (err, 0, "no cgroup v1 %s hierarchy is mounted", v1_controllers[i]);
      parent = xasprintf ("%s%s", mount_point, own && strcmp (own, "/") != 0 ? own : "");
      if (!is_directory_writable (parent))
        return omcp_error_set (err, EACCES, "%s", parent);
      remove_stale_cgroups (parent);
      engine->cgroup_v1_paths[i] = xasprintf ("%s/omcp-%d", parent, (int) getpid ());
      if (mkdir (engine->cgroup_v1_paths[i], 0755) < 0 && errno != EEXIST)
        return omcp_error_set (err, errno, "create %s", engine->cgroup_v1_paths[i]);
    }
  return 0;
}

int
cgroup_select (sandbox_engine *engine, omcp_error *err)
{
  omcp_error v2_err, v1_err;

  (void) err;
  if (try_v2 (engine, &v2_err) == 0)
    {
      engine->cgroup = &cgroup_v2_ops;
      return 0;
    }
  if (try_v1 (engine, &v1_err) == 0)
    {
      engine->cgroup = &cgroup_v1_ops;
      return 0;
    }
  engine->cgroup = &cgroup_none_ops;
  log_warning ("sandbox",
               "no writable cgroup hierarchy (v2: %s; v1: %s): falling back to rlimits; memory is "
               "capped per process and there is no CPU quota",
               v2_err.message, v1_err.message);
  return 0;
}

void
cgroup_release_parent (sandbox_engine *engine)
{
  size_t i;

  for (i = 0; i < N_ELEMENTS (engine->cgroup_v1_paths); i++)
    if (engine->cgroup_v1_paths[i])
      {
        rmdir (engine->cgroup_v1_paths[i]);
        free (engine->cgroup_v1_paths[i]);
        engine->cgroup_v1_paths[i] = NULL;
      }
  if (engine->cgroup_v2_path)
    {
      rmdir (engine->cgroup_v2_path);
      free (engine->cgroup_v2_path);
      engine->cgroup_v2_path = NULL;
    }
}
