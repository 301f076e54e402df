/* Host checks for `omcp doctor`. */
#include <fcntl.h>
#include <string.h>

#include "log.h"
#include "sandbox-internal.h"

static struct sandbox_check *
add_check (struct sandbox_check *checks, size_t *n, size_t max, const char *name, bool required)
{
  struct sandbox_check *c;

  if (*n >= max)
    return NULL;
  c = &checks[(*n)++];
  memset (c, 0, sizeof *c);
  copy_string (c->name, sizeof c->name, name);
  c->required = required;
  return c;
}

size_t
sandbox_check_host (const struct sandbox_config *config, struct sandbox_check *checks, size_t max)
{
  struct sandbox_check *c;
  sandbox_engine *engine = NULL;
  sandbox *sb = NULL;
  omcp_error err;
  size_t n = 0;
  int64_t start;

  c = add_check (checks, &n, max, "kernel features", true);
  if (c == NULL)
    return n;
  if (sandbox_engine_new (config, &engine, &err) < 0)
    {
      copy_string (c->detail, sizeof c->detail, err.message);
      return n;
    }
  c->ok = true;
  snprintf (c->detail, sizeof c->detail,
            "user, mount, PID, network, IPC, UTS and cgroup namespaces; seccomp; all %d "
            "capabilities can be dropped",
            engine->cap_last_cap + 1);

  c = add_check (checks, &n, max, "resource limits", false);
  if (c)
    {
      c->ok = engine->cgroup != &cgroup_none_ops;
      if (c->ok)
        snprintf (c->detail, sizeof c->detail, "%s: memory %llu MiB, %u processes, %u.%u CPU",
                  engine->cgroup->name,
                  (unsigned long long) (config->limits.memory_bytes >> 20), config->limits.pids_max,
                  config->limits.cpu_millicores / 1000, config->limits.cpu_millicores % 1000 / 100);
      else
        copy_string (c->detail, sizeof c->detail,
                     "no writable cgroup hierarchy: rlimits only, no CPU quota (run as root or "
                     "delegate a cgroup v2 subtree)");
    }

  c = add_check (checks, &n, max, "user mapping", true);
  if (c)
    {
      c->ok = true;
      snprintf (c->detail, sizeof c->detail, "%s",
                engine->privileged ? "root: one unprivileged host uid per sandbox"
                                   : "unprivileged: sandboxes map to the invoking user");
    }

  c = add_check (checks, &n, max, "sandbox creation", true);
  if (c)
    {
      start = now_monotonic_ms ();
      if (sandbox_create (engine, "doctor", &sb, &err) < 0)
        copy_string (c->detail, sizeof c->detail, err.message);
      else
        {
          c->ok = true;
          snprintf (c->detail, sizeof c->detail,
                    "jail with read-only root, seccomp filter and no capabilities built in %lld ms",
                    (long long) (now_monotonic_ms () - start));
          sandbox_destroy (sb, "doctor check done");
        }
    }

  sandbox_engine_free (engine);
  return n;
}
