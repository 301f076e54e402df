/* The sandboxes of one server, by id. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pool.h"

/* How often the reaper looks for idle sandboxes. */
#define REAP_INTERVAL_MS 1000

struct pool_entry
{
  struct pool_entry *next;
  sandbox *sb;                /* NULL while being created */
  struct sandbox_info info;
  unsigned refs;              /* the pool's own reference plus acquisitions */
  unsigned acquired;          /* acquisitions not yet released */
  bool removed;
  const char *reason;         /* why it was destroyed, once detached */
};

struct sandbox_pool
{
  sandbox_engine *engine;
  unsigned max_sandboxes;
  int64_t default_idle_timeout_ms;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct pool_entry *entries;  /* newest first */
  struct pool_entry *detached; /* unreferenced, to destroy outside the lock */
  unsigned count;              /* entries, including those being created */
  pthread_t reaper;
  bool stopping;
};

static void
unlink_entry (sandbox_pool *pool, struct pool_entry *entry)
{
  struct pool_entry **pp;

  for (pp = &pool->entries; *pp; pp = &(*pp)->next)
    if (*pp == entry)
      {
        *pp = entry->next;
        return;
      }
}

/* Drop one reference. The last one unlinks the entry and queues it for
 * destroy_detached: destroying waits for the kernel to tear the namespace
 * down, which must not stall other calls on the pool lock. */
static void
entry_unref_locked (sandbox_pool *pool, struct pool_entry *entry, const char *reason)
{
  if (--entry->refs > 0)
    return;
  unlink_entry (pool, entry);
  if (!entry->removed)
    pool->count--;
  entry->reason = reason;
  entry->next = pool->detached;
  pool->detached = entry;
}

/* Destroy the entries queued by entry_unref_locked. Call without the lock. */
static void
destroy_detached (sandbox_pool *pool)
{
  struct pool_entry *entry;

  pthread_mutex_lock (&pool->lock);
  entry = pool->detached;
  pool->detached = NULL;
  pthread_mutex_unlock (&pool->lock);

  while (entry)
    {
      struct pool_entry *next = entry->next;

      if (entry->sb)
        sandbox_destroy (entry->sb, entry->reason);
      free (entry);
      entry = next;
    }
}

/* Hide ENTRY from lookups and stop counting it; executions still holding
 * a reference end with sandbox_destroyed. */
static void
mark_removed_locked (sandbox_pool *pool, struct pool_entry *entry, const char *reason)
{
  if (entry->removed)
    return;
  entry->removed = true;
  pool->count--;
  if (entry->sb)
    sandbox_kill (entry->sb, reason);
  entry_unref_locked (pool, entry, reason);
}

static bool
is_inactive (const struct pool_entry *entry, int64_t now_wall)
{
  return entry->acquired == 0 && now_wall - entry->info.last_used_wall_ms > entry->info.idle_timeout_ms;
}

static void *
reaper_thread (void *data)
{
  sandbox_pool *pool = data;

  pthread_mutex_lock (&pool->lock);
  while (!pool->stopping)
    {
      struct timespec ts;
      struct pool_entry *entry, *next;
      int64_t now_wall = now_wall_ms ();

      for (entry = pool->entries; entry; entry = next)
        {
          next = entry->next;
          if (entry->sb == NULL || entry->removed)
            continue;
          if (is_inactive (entry, now_wall) || !sandbox_is_alive (entry->sb))
            {
              bool idle = sandbox_is_alive (entry->sb);

              log_info ("pool", "removing sandbox=%s reason=\"%s\"", entry->info.id,
                        idle ? "idle timeout" : "destroyed");
              mark_removed_locked (pool, entry, idle ? "idle timeout" : "destroyed");
            }
        }

      if (pool->detached)
        {
          pthread_mutex_unlock (&pool->lock);
          destroy_detached (pool);
          pthread_mutex_lock (&pool->lock);
          continue;
        }

      clock_gettime (CLOCK_REALTIME, &ts);
      ts.tv_sec += REAP_INTERVAL_MS / 1000;
      pthread_cond_timedwait (&pool->cond, &pool->lock, &ts);
    }
  pthread_mutex_unlock (&pool->lock);
  return NULL;
}

sandbox_pool *
sandbox_pool_new (sandbox_engine *engine, unsigned max_sandboxes, int64_t default_idle_timeout_ms)
{
  sandbox_pool *pool = xcalloc (1, sizeof *pool);
  int ret;

  pool->engine = engine;
  pool->max_sandboxes = max_sandboxes;
  pool->default_idle_timeout_ms = default_idle_timeout_ms;
  pthread_mutex_init (&pool->lock, NULL);
  pthread_cond_init (&pool->cond, NULL);
  ret = pthread_create (&pool->reaper, NULL, reaper_thread, pool);
  if (ret != 0)
    {
      /* Without the reaper, idle sandboxes stay until removed or shutdown. */
      log_error ("pool", "start idle reaper failed: %s", strerror (ret));
      pool->reaper = 0;
    }
  return pool;
}

void
sandbox_pool_free (sandbox_pool *pool)
{
  struct pool_entry *entry;
  unsigned removed = 0;

  if (pool == NULL)
    return;
  pthread_mutex_lock (&pool->lock);
  pool->stopping = true;
  pthread_cond_broadcast (&pool->cond);
  pthread_mutex_unlock (&pool->lock);
  if (pool->reaper)
    pthread_join (pool->reaper, NULL);

  /* Callers have stopped every execution before freeing the pool. Kill
   * every sandbox first so that their namespaces are torn down in
   * parallel, then wait for each. */
  for (entry = pool->entries; entry; entry = entry->next)
    if (entry->sb)
      sandbox_kill (entry->sb, "server stopping");
  while ((entry = pool->entries) != NULL)
    {
      entry->refs = 1;
      entry->removed = true;
      entry_unref_locked (pool, entry, "server stopping");
      removed++;
    }
  destroy_detached (pool);
  log_info ("pool", "removed all sandboxes count=%u", removed);
  pthread_cond_destroy (&pool->cond);
  pthread_mutex_destroy (&pool->lock);
  free (pool);
}

int
sandbox_pool_create (sandbox_pool *pool, int64_t idle_timeout_ms, struct sandbox_info *info,
                     omcp_error *err)
{
  struct pool_entry *entry;
  sandbox *sb = NULL;
  char id[37];

  if (uuid_v4 (id, sizeof id) < 0)
    return omcp_error_set (err, errno, "generate sandbox id");

  /* Reserve the slot first: sandboxes being created count. */
  pthread_mutex_lock (&pool->lock);
  if (pool->count >= pool->max_sandboxes)
    {
      pthread_mutex_unlock (&pool->lock);
      return omcp_error_set_kind (err, EAGAIN,
                             "Maximum number of sandboxes reached (%u). Remove a sandbox first.",
                             pool->max_sandboxes);
    }
  entry = xcalloc (1, sizeof *entry);
  copy_string (entry->info.id, sizeof entry->info.id, id);
  entry->info.idle_timeout_ms = idle_timeout_ms > 0 ? idle_timeout_ms : pool->default_idle_timeout_ms;
  entry->refs = 1;
  entry->next = pool->entries;
  pool->entries = entry;
  pool->count++;
  pthread_mutex_unlock (&pool->lock);

  if (sandbox_create (pool->engine, id, &sb, err) < 0)
    {
      pthread_mutex_lock (&pool->lock);
      entry_unref_locked (pool, entry, "creation failed");
      pthread_mutex_unlock (&pool->lock);
      destroy_detached (pool);
      return -1;
    }

  pthread_mutex_lock (&pool->lock);
  entry->sb = sb;
  entry->info.created_wall_ms = entry->info.last_used_wall_ms = now_wall_ms ();
  *info = entry->info;
  pthread_mutex_unlock (&pool->lock);
  return 0;
}

static struct pool_entry *
find_locked (sandbox_pool *pool, const char *id)
{
  struct pool_entry *entry;

  for (entry = pool->entries; entry; entry = entry->next)
    if (entry->sb && !entry->removed && strcasecmp (entry->info.id, id) == 0)
      return entry;
  return NULL;
}

sandbox *
sandbox_pool_acquire (sandbox_pool *pool, const char *id, omcp_error *err)
{
  struct pool_entry *entry;
  sandbox *sb;

  pthread_mutex_lock (&pool->lock);
  entry = find_locked (pool, id);
  if (entry == NULL)
    {
      pthread_mutex_unlock (&pool->lock);
      omcp_error_set_kind (err, ENOENT, "Sandbox %s not found", id);
      return NULL;
    }
  entry->refs++;
  entry->acquired++;
  entry->info.last_used_wall_ms = now_wall_ms ();
  sb = entry->sb;
  pthread_mutex_unlock (&pool->lock);
  return sb;
}

void
sandbox_pool_release (sandbox_pool *pool, sandbox *sb)
{
  struct pool_entry *entry;

  pthread_mutex_lock (&pool->lock);
  for (entry = pool->entries; entry; entry = entry->next)
    if (entry->sb == sb)
      break;
  if (entry)
    {
      entry->acquired--;
      entry->info.last_used_wall_ms = now_wall_ms ();
      entry_unref_locked (pool, entry, "removed");
    }
  pthread_mutex_unlock (&pool->lock);
  destroy_detached (pool);
}

int
sandbox_pool_remove (sandbox_pool *pool, const char *id, bool force, omcp_error *err)
{
  struct pool_entry *entry;
  int64_t now_wall = now_wall_ms ();

  pthread_mutex_lock (&pool->lock);
  entry = find_locked (pool, id);
  if (entry == NULL)
    {
      pthread_mutex_unlock (&pool->lock);
      return omcp_error_set_kind (err, ENOENT, "Sandbox %s not found", id);
    }
  if (!force && !is_inactive (entry, now_wall) && sandbox_is_alive (entry->sb))
    {
      pthread_mutex_unlock (&pool->lock);
      return omcp_error_set_kind (err, EBUSY,
                             "Sandbox %s is still active (used within the last %lld s). "
                             "Pass force=true to remove it.",
                             id, (long long) (entry->info.idle_timeout_ms / 1000));
    }
  log_info ("pool", "removing sandbox=%s reason=\"%s\"", entry->info.id,
            force ? "removed by request (force)" : "removed by request");
  mark_removed_locked (pool, entry, "removed by request");
  pthread_mutex_unlock (&pool->lock);
  destroy_detached (pool);
  return 0;
}

size_t
sandbox_pool_list (sandbox_pool *pool, bool include_inactive, struct sandbox_info **out)
{
  struct pool_entry *entry;
  struct sandbox_info *list;
  int64_t now_wall = now_wall_ms ();
  size_t n = 0, i;

  pthread_mutex_lock (&pool->lock);
  list = xcalloc (pool->count + 1, sizeof *list);
  for (entry = pool->entries; entry; entry = entry->next)
    if (entry->sb && !entry->removed && sandbox_is_alive (entry->sb)
        && (include_inactive || !is_inactive (entry, now_wall)))
      {
        list[n] = entry->info;
        list[n++].busy = entry->acquired > 0;
      }
  pthread_mutex_unlock (&pool->lock);

  /* Newest first in the list; oldest first for the caller. */
  for (i = 0; i < n / 2; i++)
    {
      struct sandbox_info tmp = list[i];
      list[i] = list[n - 1 - i];
      list[n - 1 - i] = tmp;
    }
  *out = list;
  return n;
}
