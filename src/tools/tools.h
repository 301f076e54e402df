/* MCP tools: where the MCP layer meets the sandbox engine. */
#ifndef OMCP_TOOLS_H
#define OMCP_TOOLS_H

#include "db.h"
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
  const char *package_allowlist;  /* PACKAGE_ALLOWLIST, comma-separated */
  /* "NAME=value" entries added to every execution's environment, NULL-
   * terminated, or NULL: the OMOP_DB_* variables of the omop module. */
  const char *const *extra_env;
  /* Checks code sent to execute_python_code and run_python_code; NULL
   * when CODE_VALIDATION=off. */
  code_validator *validator;
  bool allow_local_execution;     /* run_python_code may run code on the host */
};

/* Fixed paths of the CDM inside every sandbox. */
#define SANDBOX_CDM_SQLITE_PATH "/omop/cdm.sqlite"
#define SANDBOX_CDM_SOCKET_DIR "/omop/pgsocket"

/* How sandboxes reach the CDM: at most one read-only bind (the SQLite
 * file, or the PostgreSQL Unix socket directory) and the OMOP_DB_*
 * variables for tools_settings.extra_env. ENV contains the password, so it is
 * never logged. */
struct sandbox_data_access
{
  struct sandbox_bind bind;
  size_t n_binds;                 /* 0 or 1 */
  char *host_path;                /* owned; BIND.host_path points here */
  char **env;                     /* NULL-terminated, owned */
};

/* Fill ACCESS from the database settings DATABASE. A SQLite path is made
 * absolute against the working directory. A database the sandboxes cannot
 * reach (a missing file, a TCP host) is logged once and still yields the
 * variables, so that the omop module can report why it has no data. Fails
 * only when the working directory cannot be read. */
int sandbox_data_access_init (const struct db_config *database, struct sandbox_data_access *access,
                              omcp_error *err) OMCP_WUR;

void sandbox_data_access_clear (struct sandbox_data_access *access);

/* Register ping, create_sandbox, list_sandboxes, remove_sandbox,
 * execute_python_code, run_python_code and install_package. POOL and
 * SETTINGS must outlive the server. install_package expects every sandbox
 * of POOL to have the wheelhouse at PACKAGE_WHEELHOUSE_MOUNT when
 * installation is enabled. */
void tools_register_sandbox (mcp_server *server, sandbox_pool *pool,
                             const struct tools_settings *settings);

/* Register analyze_omop_data, which runs a built-in analysis of the CDM in
 * a sandbox. POOL and SETTINGS must outlive the server. */
void tools_register_analysis (mcp_server *server, sandbox_pool *pool,
                              const struct tools_settings *settings);

/* Register create_omop_schema and load_omop_csv, which write to the
 * database described by CONFIG. CONFIG must outlive the server. */
void tools_register_admin (mcp_server *server, const struct db_config *config);

struct data_tools_settings
{
  struct db_config db;            /* the CDM database, opened read-only */
  int64_t max_rows;               /* QUERY_MAX_ROWS */
  int64_t default_limit;          /* QUERY_DEFAULT_LIMIT */
  bool allow_unsafe_sql;          /* accept query_omop_table's raw WHERE */
};

/* Register query_omop_table, Select_Query, Get_information_Schema and
 * describe_table. The database is opened at the first call, so a missing
 * or unreachable database gives an error there and nothing else fails.
 * SETTINGS must outlive the server. */
void tools_register_data (mcp_server *server, const struct data_tools_settings *settings);

/* Close the data tools' connection, after the server stopped. */
void tools_data_close (void);

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
