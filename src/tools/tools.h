/* MCP tools: where the MCP layer meets the sandbox engine. */
#ifndef OMCP_TOOLS_H
#define OMCP_TOOLS_H

#include "db.h"
#include "mcp.h"
#include "pool.h"
#include "sandbox.h"

struct tools_settings
{
  const char *python;             /* interpreter inside the sandbox */
  int64_t default_timeout_ms;     /* execution deadline when the call gives none */
  int64_t max_timeout_ms;         /* upper bound of a requested deadline */
  size_t max_output_bytes;        /* stdout and stderr together */
  int64_t sandbox_timeout_ms;     /* idle time after which a sandbox is inactive */
  bool package_install_enabled;
};

/* Register ping, create_sandbox, list_sandboxes, remove_sandbox,
 * execute_python_code and install_package. POOL and SETTINGS must outlive
 * the server. */
void tools_register_sandbox (mcp_server *server, sandbox_pool *pool,
                             const struct tools_settings *settings);

/* Register create_omop_schema and load_omop_csv, which write to the
 * database described by CONFIG. CONFIG must outlive the server. */
void tools_register_admin (mcp_server *server, const struct db_config *config);

/* Run CODE with the sandbox's Python in isolated mode, in /sandbox, with an
 * environment built here. Used by execute_python_code and `omcp run`. */
int python_execute (sandbox *sb, const struct tools_settings *settings, const char *code,
                    size_t code_len, int64_t timeout_ms, int cancel_fd,
                    void (*on_progress) (void *userdata, int64_t elapsed_ms), void *userdata,
                    const char *exec_id, struct sandbox_exec_result *result,
                    omcp_error *err) OMCP_WUR;

#endif
