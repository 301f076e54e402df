/* Sandbox pool: the sandboxes of one server by id, with a maximum count,
 * last-use times and automatic removal of idle sandboxes. */
#ifndef OMCP_SANDBOX_POOL_H
#define OMCP_SANDBOX_POOL_H

#include "sandbox.h"

typedef struct sandbox_pool sandbox_pool;

struct sandbox_info
{
  char id[37];
  int64_t created_wall_ms;
  int64_t last_used_wall_ms;
  int64_t idle_timeout_ms;
  bool busy;
};

/* Create a pool of at most MAX_SANDBOXES sandboxes (counting those still
 * being created). A thread removes sandboxes unused for longer than their
 * idle timeout. */
sandbox_pool *sandbox_pool_new (sandbox_engine *engine, unsigned max_sandboxes,
                                int64_t default_idle_timeout_ms);

/* Remove every sandbox and free the pool. */
void sandbox_pool_free (sandbox_pool *pool);

/* Create a sandbox with a new UUID. IDLE_TIMEOUT_MS <= 0 means the pool's
 * default. Fails with errnum EAGAIN when the pool is full. */
int sandbox_pool_create (sandbox_pool *pool, int64_t idle_timeout_ms, struct sandbox_info *info,
                         omcp_error *err) OMCP_WUR;

/* Take a reference to sandbox ID for an execution. Fails with errnum
 * ENOENT ("Sandbox ID not found"). Release it with sandbox_pool_release,
 * which also records the time of use. */
sandbox *sandbox_pool_acquire (sandbox_pool *pool, const char *id, omcp_error *err);
void sandbox_pool_release (sandbox_pool *pool, sandbox *sb);

/* Remove sandbox ID. Unless FORCE, a sandbox used within its idle timeout
 * is kept and the call fails with errnum EBUSY. A running execution is
 * killed. */
int sandbox_pool_remove (sandbox_pool *pool, const char *id, bool force, omcp_error *err) OMCP_WUR;

/* Snapshot of the pool, oldest first; inactive (idle past the timeout)
 * sandboxes only when INCLUDE_INACTIVE. Free *OUT with free(). */
size_t sandbox_pool_list (sandbox_pool *pool, bool include_inactive, struct sandbox_info **out);

#endif
