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
};

struct config_variable
{
  const char *name;
  enum config_kind kind;
  const char *default_value;
  int64_t min, max;   /* KIND_INT */
  size_t offset;      /* into struct omcp_config */
  const char *help;
};

#define FIELD(f) offsetof (struct omcp_config, f)

static const struct config_variable variables[] = {
  { "LOG_LEVEL", KIND_LOG_LEVEL, "INFO", 0, 0, FIELD (log_level),
    "stderr log threshold: DEBUG, INFO, WARNING or ERROR" },
  { "SANDBOX_TIMEOUT", KIND_INT, "300", 1, 86400, FIELD (sandbox_timeout_s),
    "seconds without use after which a sandbox is inactive and removed" },
  { "MAX_SANDBOXES", KIND_INT, "10", 1, 1024, FIELD (max_sandboxes),
    "most sandboxes at once, counting those being created" },
  { "EXECUTION_DEFAULT_TIMEOUT", KIND_INT, "30", 1, 86400, FIELD (execution_default_timeout_s),
    "seconds an execution may run when the call gives no timeout" },
  { "EXECUTION_MAX_TIMEOUT", KIND_INT, "300", 1, 86400, FIELD (execution_max_timeout_s),
    "upper bound, in seconds, for a requested timeout" },
  { "EXECUTION_MAX_OUTPUT_BYTES", KIND_INT, "1048576", 1024, 1073741824,
    FIELD (execution_max_output_bytes),
    "bytes of stdout and stderr together before an execution is killed" },
  { "SANDBOX_PYTHON", KIND_PYTHON, "/usr/bin/python3", 0, 0, FIELD (sandbox_python),
    "interpreter run in the sandbox; an absolute path below /usr" },
  { "SANDBOX_READ_ONLY", KIND_BOOL, "true", 0, 0, FIELD (sandbox_read_only),
    "keep the sandbox root file system read-only (true or false)" },
  { "SANDBOX_NETWORK", KIND_NETWORK, "none", 0, 0, FIELD (sandbox_network),
    "sandbox network: only \"none\", a network namespace of its own with no interface but loopback" },
  { "PACKAGE_INSTALL_ENABLED", KIND_BOOL, "false", 0, 0, FIELD (package_install_enabled),
    "allow the install_package tool (true or false)" },
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
      else
        fprintf (out, "  %-28s %s (default %s)\n", v->name, v->help, v->default_value);
    }
}
