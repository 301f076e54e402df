/* Configuration: environment variables, also read from ./.env. */
#ifndef OMCP_CONFIG_H
#define OMCP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "util.h"

struct omcp_config
{
  enum log_level log_level;
  int64_t sandbox_timeout_s;
  int64_t max_sandboxes;
  int64_t execution_default_timeout_s;
  int64_t execution_max_timeout_s;
  int64_t execution_max_output_bytes;
  char sandbox_python[256];
  bool sandbox_read_only;
  char sandbox_network[64];
  bool package_install_enabled;
  char package_allowlist[4096];   /* comma-separated names, may be empty */
  char package_wheelhouse[512];   /* absolute host directory, or "" */
  bool code_validation;           /* CODE_VALIDATION=strict */
  bool allow_local_execution;
  /* OMOP CDM database */
  char db_backend[16];            /* "sqlite" or "postgresql" */
  char db_path[512];
  char db_host[512];              /* host name, or a Unix socket directory */
  char db_port[16];
  char db_user[128];
  char db_password[256];
  char db_name[128];
  char db_schema[64];
  int64_t query_timeout_ms;
  int64_t query_max_rows;
  int64_t query_default_limit;
  bool allow_unsafe_sql;
  bool admin_tools;
};

/* Returns the value of variable NAME, or NULL when unset. */
typedef const char *(*config_lookup_fn) (const char *name, void *userdata);

/* Fill CONFIG from LOOKUP (getenv when NULL). An invalid value fails with a
 * message naming the variable and the accepted values. */
int config_load (struct omcp_config *config, config_lookup_fn lookup, void *userdata,
                 omcp_error *err) OMCP_WUR;

/* Print the table of variables, defaults and meanings (for --help). */
void config_print_help (FILE *out);

#endif
