/* The table of configuration variables and their validation. */
#include "config.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

enum config_kind
{
  KIND_INT,
  KIND_BOOL,
  KIND_LOG_LEVEL,
  KIND_PYTHON,
  KIND_NETWORK,
  KIND_STRING,     /* max = size of the char array */
  KIND_CHOICE,     /* one of the words in choices, stored lower-case */
  KIND_VALIDATION, /* strict or off, stored as a bool */
};

struct config_variable
{
  const char *name;
  enum config_kind kind;
  const char *default_value;
  int64_t min, max;   /* KIND_INT */
  size_t offset;      /* into struct omcp_config */
  const char *help;
  const char *const *choices; /* KIND_CHOICE, NULL-terminated */
};

#define FIELD(f) offsetof (struct omcp_config, f)
#define SIZE(f) ((int64_t) sizeof (((struct omcp_config *) 0)->f))

static const char *const backends[] = { "sqlite", "postgresql", NULL };

static const struct config_variable variables[] = {
  { "LOG_LEVEL", KIND_LOG_LEVEL, "INFO", 0, 0, FIELD (log_level),
    "stderr log threshold: DEBUG, INFO, WARNING or ERROR", NULL },
  { "SANDBOX_TIMEOUT", KIND_INT, "300", 1, 86400, FIELD (sandbox_timeout_s),
    "seconds without use after which a sandbox is inactive and removed", NULL },
  { "MAX_SANDBOXES", KIND_INT, "10", 1, 1024, FIELD (max_sandboxes),
    "most sandboxes at once, counting those being created", NULL },
  { "EXECUTION_DEFAULT_TIMEOUT", KIND_INT, "30", 1, 86400, FIELD (execution_default_timeout_s),
    "seconds an execution may run when the call gives no timeout", NULL },
  { "EXECUTION_MAX_TIMEOUT", KIND_INT, "300", 1, 86400, FIELD (execution_max_timeout_s),
    "upper bound, in seconds, for a requested timeout", NULL },
  { "EXECUTION_MAX_OUTPUT_BYTES", KIND_INT, "1048576", 1024, 1073741824,
    FIELD (execution_max_output_bytes),
    "bytes of stdout and stderr together before an execution is killed", NULL },
  { "SANDBOX_PYTHON", KIND_PYTHON, "/usr/bin/python3", 0, 0, FIELD (sandbox_python),
    "interpreter run in the sandbox; an absolute path below /usr", NULL },
  { "SANDBOX_READ_ONLY", KIND_BOOL, "true", 0, 0, FIELD (sandbox_read_only),
    "keep the sandbox root file system read-only (true or false)", NULL },
  { "SANDBOX_NETWORK", KIND_NETWORK, "none", 0, 0, FIELD (sandbox_network),
    "sandbox network: only \"none\", a network namespace of its own with no interface but loopback", NULL },
  { "PACKAGE_INSTALL_ENABLED", KIND_BOOL, "false", 0, 0, FIELD (package_install_enabled),
    "allow the install_package tool (true or false)", NULL },
  { "PACKAGE_ALLOWLIST", KIND_STRING, "", 0, SIZE (package_allowlist), FIELD (package_allowlist),
    "comma-separated package names that install_package accepts", NULL },
  { "PACKAGE_WHEELHOUSE", KIND_STRING, "", 0, SIZE (package_wheelhouse),
    FIELD (package_wheelhouse), "host directory of wheels that install_package installs from", NULL },
  { "CODE_VALIDATION", KIND_VALIDATION, "strict", 0, 0, FIELD (code_validation),
    "static check of code before execution: strict or off", NULL },
  { "OMCP_ALLOW_LOCAL_EXECUTION", KIND_BOOL, "false", 0, 0, FIELD (allow_local_execution),
    "allow run_python_code to run code outside any sandbox (true or false)", NULL },
  { "DB_BACKEND", KIND_CHOICE, "sqlite", 0, SIZE (db_backend), FIELD (db_backend),
    "OMOP CDM database: sqlite or postgresql", backends },
  { "DB_PATH", KIND_STRING, "omop.sqlite", 0, SIZE (db_path), FIELD (db_path),
    "SQLite file of the CDM", NULL },
  { "DB_HOST", KIND_STRING, "localhost", 0, SIZE (db_host), FIELD (db_host),
    "PostgreSQL host name, or the directory of its Unix socket", NULL },
  { "DB_PORT", KIND_STRING, "5432", 0, SIZE (db_port), FIELD (db_port), "PostgreSQL port", NULL },
  { "DB_USER", KIND_STRING, "", 0, SIZE (db_user), FIELD (db_user), "PostgreSQL user", NULL },
  { "DB_PASSWORD", KIND_STRING, "", 0, SIZE (db_password), FIELD (db_password),
    "PostgreSQL password", NULL },
  { "DB_NAME", KIND_STRING, "", 0, SIZE (db_name), FIELD (db_name), "PostgreSQL database", NULL },
  { "DB_SCHEMA", KIND_STRING, "omop_cdm", 0, SIZE (db_schema), FIELD (db_schema),
    "PostgreSQL schema of the CDM tables", NULL },
  { "QUERY_TIMEOUT_MS", KIND_INT, "10000", 1, 3600000, FIELD (query_timeout_ms),
    "milliseconds a database query may run", NULL },
  { "QUERY_MAX_ROWS", KIND_INT, "1000", 1, 1000000, FIELD (query_max_rows),
    "most rows a query tool returns", NULL },
  { "QUERY_DEFAULT_LIMIT", KIND_INT, "100", 1, 1000000, FIELD (query_default_limit),
    "rows a query tool returns when the call gives no limit", NULL },
  { "ALLOW_UNSAFE_SQL", KIND_BOOL, "false", 0, 0, FIELD (allow_unsafe_sql),
    "accept a raw WHERE clause in query_omop_table (true or false)", NULL },
  { "OMCP_ADMIN_TOOLS", KIND_BOOL, "false", 0, 0, FIELD (admin_tools),
    "list create_omop_schema and load_omop_csv (true or false)", NULL },
};

static bool
parse_bool (const char *text, bool *out)
{
  static const char *const yes[] = { "true", "1", "yes", "on" };
  static const char *const no[] = { "false", "0", "no", "off" };
  size_t i;

  for (i = 0; i < N_ELEMENTS (yes); i++)
    {
      if (strcasecmp (text, yes[i]) == 0)
        {
          *out = true;
          return true;
        }
      if (strcasecmp (text, no[i]) == 0)
        {
          *out = false;
          return true;
        }
    }
  return false;
}

static int
parse_variable (const struct config_variable *v, const char *text, struct omcp_config *config,
                omcp_error *err)
{
  char *field = (char *) config + v->offset;

  switch (v->kind)
    {
    case KIND_INT:
      {
        int64_t value;

        if (!parse_int64 (text, &value) || value < v->min || value > v->max)
          return omcp_error_set (err, 0, "invalid %s '%s': expected an integer from %lld to %lld",
                                 v->name, text, (long long) v->min, (long long) v->max);
        memcpy (field, &value, sizeof value);
        return 0;
      }
    case KIND_BOOL:
      {
        bool value;

        if (!parse_bool (text, &value))
          return omcp_error_set (err, 0, "invalid %s '%s': expected true or false (or 1/0, yes/no, "
                                         "on/off)", v->name, text);
        memcpy (field, &value, sizeof value);
        return 0;
      }
    case KIND_LOG_LEVEL:
      {
        enum log_level value;

        if (!log_level_parse (text, &value))
          return omcp_error_set (err, 0, "invalid %s '%s': expected DEBUG, INFO, WARNING or ERROR",
                                 v->name, text);
        memcpy (field, &value, sizeof value);
        return 0;
      }
    case KIND_PYTHON:
      /* The sandbox has only the host's /usr. */
      if (strncmp (text, "/usr/", 5) != 0 || strstr (text, "/../") != NULL
          || strlen (text) >= sizeof config->sandbox_python)
        return omcp_error_set (err, 0, "invalid %s '%s': expected an absolute path below /usr, "
                                       "such as /usr/bin/python3", v->name, text);
      copy_string (field, sizeof config->sandbox_python, text);
      return 0;
    case KIND_NETWORK:
      if (strcasecmp (text, "host") == 0 || strncasecmp (text, "container:", 10) == 0)
        return omcp_error_set (err, 0, "invalid %s '%s': sharing the host's or another "
                                       "container's network would let sandboxed code reach the "
                                       "network; the accepted value is none", v->name, text);
      if (strcasecmp (text, "none") != 0)
        return omcp_error_set (err, 0, "invalid %s '%s': the accepted value is none", v->name, text);
      copy_string (field, sizeof config->sandbox_network, "none");
      return 0;
    case KIND_STRING:
      if (strlen (text) >= (size_t) v->max)
        return omcp_error_set (err, 0, "invalid %s: longer than %lld bytes", v->name,
                               (long long) v->max - 1);
      copy_string (field, (size_t) v->max, text);
      return 0;
    case KIND_CHOICE:
      {
        char expected[256] = "";
        size_t i;

        for (i = 0; v->choices[i] != NULL; i++)
          {
            if (strcasecmp (text, v->choices[i]) == 0)
              {
                copy_string (field, (size_t) v->max, v->choices[i]);
                return 0;
              }
            if (i > 0)
              strncat (expected, v->choices[i + 1] == NULL ? " or " : ", ",
                       sizeof expected - strlen (expected) - 1);
            strncat (expected, v->choices[i], sizeof expected - strlen (expected) - 1);
          }
        return omcp_error_set (err, 0, "invalid %s '%s': expected %s", v->name, text, expected);
      }
    case KIND_VALIDATION:
      {
        bool value;

        if (strcasecmp (text, "strict") == 0)
          value = true;
        else if (strcasecmp (text, "off") == 0)
          value = false;
        else
          return omcp_error_set (err, 0, "invalid %s '%s': expected strict or off", v->name, text);
        memcpy (field, &value, sizeof value);
        return 0;
      }
    }
  return omcp_error_set (err, 0, "internal error: unknown kind of %s", v->name);
}

static const char *
lookup_env (const char *name, void *userdata)
{
  (void) userdata;
  return getenv (name);
}

int
config_load (struct omcp_config *config, config_lookup_fn lookup, void *userdata, omcp_error *err)
{
  size_t i;

  if (lookup == NULL)
    lookup = lookup_env;
  memset (config, 0, sizeof *config);
  for (i = 0; i < N_ELEMENTS (variables); i++)
    {
      const char *text = lookup (variables[i].name, userdata);

      if (parse_variable (&variables[i], variables[i].default_value, config, err) < 0)
        return -1;
      if (text != NULL && parse_variable (&variables[i], text, config, err) < 0)
        return -1;
    }

  /* A lower EXECUTION_MAX_TIMEOUT also lowers the default timeout, unless
   * that was set explicitly. */
  if (config->execution_default_timeout_s > config->execution_max_timeout_s
      && lookup ("EXECUTION_DEFAULT_TIMEOUT", userdata) == NULL)
    config->execution_default_timeout_s = config->execution_max_timeout_s;
  if (config->execution_default_timeout_s > config->execution_max_timeout_s)
    return omcp_error_set (err, 0,
                           "invalid EXECUTION_DEFAULT_TIMEOUT %lld: it exceeds "
                           "EXECUTION_MAX_TIMEOUT %lld",
                           (long long) config->execution_default_timeout_s,
                           (long long) config->execution_max_timeout_s);
  return 0;
}

void
config_print_help (FILE *out)
{
  size_t i;

  for (i = 0; i < N_ELEMENTS (variables); i++)
    {
      const struct config_variable *v = &variables[i];

      if (v->kind == KIND_INT)
        fprintf (out, "  %-28s %s (%lld to %lld, default %s)\n", v->name, v->help,
                 (long long) v->min, (long long) v->max, v->default_value);
      else if (v->default_value[0] == '\0')
        fprintf (out, "  %-28s %s (default empty)\n", v->name, v->help);
      else
        fprintf (out, "  %-28s %s (default %s)\n", v->name, v->help, v->default_value);
    }
}
