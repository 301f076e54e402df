/* MCP tools: where the MCP layer meets the sandbox engine. */
#ifndef OMCP_TOOLS_H
#define OMCP_TOOLS_H

#include "mcp.h"
#include "pool.h"
#include "sandbox.h"
#include "validator.h"

struct tools_settings
{
  const char *python;             /* interpreter inside the sandbox */
  int64_t default_timeout_ms;     /* execution deadline when the call gives none */
  int64_t max_timeout_ms;         /* upper bound of a requested deadline */
  size_t max_output_bytes;        /* stdout and stderr together */
  int64_t sandbox_timeout_ms;     /* idle time after which a sandbox is inactive */
  bool package_install_enabled;
  /* Checks code sent to execute_python_code and run_python_code; NULL
   * when CODE_VALIDATION=off. */
  code_validator *validator;
  bool allow_local_execution;     /* run_python_code may run code on the host */
};

/* Register ping, create_sandbox, list_sandboxes, remove_sandbox,
 * execute_python_code, run_python_code and install_package. POOL and SETTINGS must outlive
 * the server. */
void tools_register_sandbox (mcp_server *server, sandbox_pool *pool,
                             const struct tools_settings *settings);

/* Run CODE with the sandbox's Python in isolated mode, in /sandbox, with an
 * environment built here. Used by execute_python_code and `omcp run`.
 * Applies no code validation: trusted server-side scripts call it
 * directly, and the tool handlers validate agents' code before. */
int python_execute (sandbox *sb, const struct tools_settings *settings, const char *code,
                    size_t code_len, int64_t timeout_ms, int cancel_fd,
                    void (*on_progress) (void *userdata, int64_t elapsed_ms), void *userdata,
                    const char *exec_id, struct sandbox_exec_result *result,
                    omcp_error *err) OMCP_WUR;

/* Run CODE with the same Python on the host, without a sandbox, in a fresh
 * temporary directory: for run_python_code only. */
int python_execute_local (const struct tools_settings *settings, const char *code,
                          size_t code_len, int64_t timeout_ms, int cancel_fd,
                          void (*on_progress) (void *userdata, int64_t elapsed_ms),
                          void *userdata, const char *exec_id,
                          struct sandbox_exec_result *result, omcp_error *err) OMCP_WUR;

#endif
