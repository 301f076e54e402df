/* omcp: an MCP server that runs Python in sandboxes built from Linux
 * namespaces, seccomp and cgroups. This file holds serve, doctor and run,
 * and the wiring between the configuration, the engine and the MCP server;
 * cli-data.c contains the data subcommands. */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "dotenv.h"
#include "log.h"
#include "mcp.h"
#include "packages.h"
#include "pool.h"
#include "sandbox.h"
#include "tools.h"

/* Largest file `omcp run` accepts. */
#define RUN_MAX_FILE_BYTES (16 * 1024 * 1024)

static void
print_usage (FILE *out)
{
  fprintf (out,
           "Usage: omcp COMMAND [ARGS]\n"
           "\n"
           "Commands:\n"
           "  serve          serve MCP over standard input and output\n"
           "  doctor         check which isolation features work on this host\n"
           "  run FILE.py    run FILE.py in a fresh sandbox and print its output\n"
           "  cdm init       create the OMOP CDM v5.4 tables in the configured database\n"
           "  cdm load PATH  load OMOP CSV files (a directory, a .zip or one .csv file)\n"
           "  demo-data [--csv-only] [DIR]\n"
           "                 write a small synthetic CDM (300 invented persons) as CSV files\n"
           "                 into DIR (without other CSV files), or a temporary directory,\n"
           "                 and load it into the configured database, which must hold no\n"
           "                 person yet; --csv-only writes the files to DIR and loads nothing\n"
           "\n"
           "Options:\n"
           "  -h, --help     show this help\n"
           "  -V, --version  show the version\n"
           "\n"
           "Configuration (environment variables, also read from ./.env):\n");
  config_print_help (out);
}

int
load_config (struct omcp_config *config)
{
  omcp_error err;

  if (dotenv_load (".env", &err) < 0)
    {
      fprintf (stderr, "omcp: %s\n", err.message);
      return -1;
    }
  if (config_load (config, NULL, NULL, &err) < 0)
    {
      fprintf (stderr, "omcp: %s\n", err.message);
      return -1;
    }
  log_set_level (config->log_level);
  return 0;
}

/* The omcp-sandbox program beside this one, or NULL to run this program as
 * the supervisor. The small program starts faster: this one links the
 * database and parser libraries, and every new sandbox would load them. */
static const char *
supervisor_path (void)
{
  static char path[PATH_MAX];
  char self[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  char *slash;

  if (n <= 0)
    return NULL;
  self[n] = '\0';
  slash = strrchr (self, '/');
  if (slash == NULL)
    return NULL;
  *slash = '\0';
  if (snprintf (path, sizeof path, "%s/%s", self, SANDBOX_SUPERVISOR_ARGV0) >= (int) sizeof path
      || access (path, X_OK) < 0)
    return NULL;
  return path;
}

static void
sandbox_config_from (const struct omcp_config *config, struct sandbox_config *sc)
{
  memset (sc, 0, sizeof *sc);
  sc->supervisor_exe = supervisor_path ();
  sc->read_only_root = config->sandbox_read_only;
  sandbox_limits_default (&sc->limits);
}

static void
tools_settings_from (const struct omcp_config *config, struct tools_settings *ts)
{
  ts->python = config->sandbox_python;
  ts->default_timeout_ms = config->execution_default_timeout_s * 1000;
  ts->max_timeout_ms = config->execution_max_timeout_s * 1000;
  ts->max_output_bytes = (size_t) config->execution_max_output_bytes;
  ts->sandbox_timeout_ms = config->sandbox_timeout_s * 1000;
  ts->package_install_enabled = config->package_install_enabled;
  ts->package_allowlist = config->package_allowlist;
  ts->extra_env = NULL;
  ts->allow_local_execution = config->allow_local_execution;
  ts->validator = NULL;
}

void
db_config_from (const struct omcp_config *config, struct db_config *dc)
{
  memset (dc, 0, sizeof *dc);
  dc->backend = strcmp (config->db_backend, "postgresql") == 0 ? DB_BACKEND_POSTGRESQL
                                                               : DB_BACKEND_SQLITE;
  dc->path = config->db_path;
  dc->host = config->db_host;
  dc->port = config->db_port;
  dc->user = config->db_user;
  dc->password = config->db_password;
  dc->name = config->db_name;
  dc->schema = config->db_schema;
  dc->timeout_ms = config->query_timeout_ms;
}

/* Give sandboxes read-only access to the CDM: a bind in SC and the
 * OMOP_DB_* variables in SETTINGS, both pointing into ACCESS. */
static int
setup_sandbox_data (const struct omcp_config *config, struct sandbox_data_access *access,
                    struct sandbox_config *sc, struct tools_settings *settings)
{
  struct db_config database;
  omcp_error err;

  db_config_from (config, &database);
  if (sandbox_data_access_init (&database, access, &err) < 0)
    {
      fprintf (stderr, "omcp: %s\n", err.message);
      return -1;
    }
  sc->extra_binds = &access->bind;
  sc->n_extra_binds = access->n_binds;
  settings->extra_env = (const char *const *) access->env;
  return 0;
}

static void
data_settings_from (const struct omcp_config *config, struct data_tools_settings *ds)
{
  db_config_from (config, &ds->db);
  ds->max_rows = config->query_max_rows;
  ds->default_limit = config->query_default_limit;
  ds->allow_unsafe_sql = config->allow_unsafe_sql;
}

static int
check_python (const struct omcp_config *config)
{
  if (access (config->sandbox_python, X_OK) < 0)
    {
      fprintf (stderr, "omcp: SANDBOX_PYTHON %s is not executable: %s\n", config->sandbox_python,
               strerror (errno));
      return -1;
    }
  return 0;
}

/* With installation enabled, the wheelhouse must be an existing absolute
 * directory and the allowlist a list of names. Either mistake stops the
 * server: the operator asked for installation, and serving without it
 * would only fail later, at the agent. */
static int
check_packages (const struct omcp_config *config, size_t *allowed)
{
  omcp_error err;

  *allowed = 0;
  if (!config->package_install_enabled)
    return 0;
  if (package_wheelhouse_check (config->package_wheelhouse, &err) < 0
      || package_allowlist_check (config->package_allowlist, allowed, &err) < 0)
    {
      fprintf (stderr, "omcp: %s\n", err.message);
      return -1;
    }
  return 0;
}

static int
command_serve (void)
{
  struct omcp_config config;
  struct sandbox_config sc;
  struct tools_settings settings;
  struct sandbox_data_access data_access = { 0 };
  struct data_tools_settings data_settings;
  sandbox_engine *engine = NULL;
  sandbox_pool *pool = NULL;
  mcp_server *server = NULL;
  sandbox *probe = NULL;
  struct sandbox_bind binds[2];
  size_t allowed_packages;
  omcp_error err;
  int ret;

  mcp_block_signals ();
  if (load_config (&config) < 0 || check_python (&config) < 0
      || check_packages (&config, &allowed_packages) < 0)
    return 2;
  sandbox_config_from (&config, &sc);
  tools_settings_from (&config, &settings);
  if (setup_sandbox_data (&config, &data_access, &sc, &settings) < 0)
    return 2;
  /* The CDM bind, if any, then the wheelhouse. */
  memset (binds, 0, sizeof binds);
  if (sc.n_extra_binds > 0)
    binds[0] = sc.extra_binds[0];
  if (config.package_install_enabled)
    {
      binds[sc.n_extra_binds].host_path = config.package_wheelhouse;
      binds[sc.n_extra_binds].sandbox_path = PACKAGE_WHEELHOUSE_MOUNT;
      sc.n_extra_binds++;
    }
  sc.extra_binds = binds;

  /* Refuse to serve rather than run code with a layer missing: build one
   * sandbox now, which exercises every layer but the Python run. */
  if (sandbox_engine_new (&sc, &engine, &err) < 0)
    {
      log_error ("main", "cannot start: %s", err.message);
      sandbox_data_access_clear (&data_access);
      return 1;
    }
  if (sandbox_create (engine, "startup-check", &probe, &err) < 0)
    {
      log_error ("main", "cannot start: %s", err.message);
      sandbox_engine_free (engine);
      sandbox_data_access_clear (&data_access);
      return 1;
    }
  sandbox_destroy (probe, "startup check done");

  /* The validator's helper runs in a sandbox of its own, outside the
   * pool: no agent can reach it or plant files on its module path. */
  if (config.code_validation
      && code_validator_new (engine, config.sandbox_python, &settings.validator, &err) < 0)
    {
      log_error ("main", "cannot start: %s", err.message);
      sandbox_engine_free (engine);
      return 1;
    }
  if (!config.code_validation)
    log_warning ("main", "CODE_VALIDATION=off: code runs in sandboxes without the static check");
  if (config.allow_local_execution)
    log_warning ("main", "OMCP_ALLOW_LOCAL_EXECUTION=true: run_python_code runs code on this host "
                         "without a sandbox");

  pool = sandbox_pool_new (engine, (unsigned) config.max_sandboxes, settings.sandbox_timeout_ms);
  server = mcp_server_new (&(struct mcp_server_info) {
    .name = "omcp",
    .version = OMCP_VERSION,
    .instructions = "Create a sandbox with create_sandbox, run Python in it with "
                    "execute_python_code, and remove it with remove_sandbox when done. "
                    "The OMOP CDM is read-only: look at it directly with "
                    "Get_information_Schema, describe_table, query_omop_table and "
                    "Select_Query, or analyse it in a sandbox with `import omop` "
                    "(omop.query, omop.table, omop.concept_name) or analyze_omop_data.",
  });
  tools_register_sandbox (server, pool, &settings);
  tools_register_analysis (server, pool, &settings);
  data_settings_from (&config, &data_settings);
  tools_register_data (server, &data_settings);
  if (config.admin_tools)
    tools_register_admin (server, &data_settings.db);
  if (config.allow_unsafe_sql)
    log_warning ("main", "ALLOW_UNSAFE_SQL=true: query_omop_table accepts a raw WHERE clause; "
                         "the read-only SQL policy still applies to it");
  if (config.package_install_enabled && allowed_packages == 0)
    log_warning ("main", "PACKAGE_INSTALL_ENABLED=true but PACKAGE_ALLOWLIST is empty: "
                         "install_package rejects every package");
  else if (config.package_install_enabled)
    log_info ("main", "package installation enabled wheelhouse=%s allowed_packages=%zu",
              config.package_wheelhouse, allowed_packages);

  log_info ("main", "serving MCP on stdio version=%s limits=%s max_sandboxes=%lld", OMCP_VERSION,
            sandbox_engine_limits_backend (engine), (long long) config.max_sandboxes);
  ret = mcp_server_serve (server, STDIN_FILENO, STDOUT_FILENO, &err);
  if (ret < 0)
    log_error ("main", "serve failed: %s", err.message);

  /* Every call has finished: remove the sandboxes, then the engine. */
  sandbox_pool_free (pool);
  mcp_server_free (server);
  tools_data_close ();
  code_validator_free (settings.validator);
  sandbox_engine_free (engine);
  sandbox_data_access_clear (&data_access);
  log_info ("main", "stopped");
  return ret < 0 ? 1 : 0;
}

static char *
read_source (const char *path, size_t *len)
{
  struct stat st;
  char *text;

  if (stat (path, &st) < 0)
    {
      fprintf (stderr, "omcp: cannot read %s: %s\n", path, strerror (errno));
      return NULL;
    }
  if (!S_ISREG (st.st_mode) || st.st_size > RUN_MAX_FILE_BYTES)
    {
      fprintf (stderr, "omcp: %s is not a regular file of at most %d bytes\n", path,
               RUN_MAX_FILE_BYTES);
      return NULL;
    }
  text = read_file_at (AT_FDCWD, path, len);
  if (text == NULL)
    fprintf (stderr, "omcp: cannot read %s: %s\n", path, strerror (errno));
  return text;
}

static int
command_run (const char *path)
{
  struct omcp_config config;
  struct sandbox_config sc;
  struct tools_settings settings;
  struct sandbox_exec_result result;
  struct sandbox_data_access data_access = { 0 };
  sandbox_engine *engine = NULL;
  sandbox *sb = NULL;
  cleanup_free char *code = NULL;
  omcp_error err;
  size_t len;
  int exit_code;

  if (load_config (&config) < 0 || check_python (&config) < 0)
    return 2;
  /* The program's own stderr goes to the terminal too: keep the server's
   * INFO lines out of it unless LOG_LEVEL is set. */
  if (getenv ("LOG_LEVEL") == NULL)
    log_set_level (LOG_LEVEL_WARNING);
  code = read_source (path, &len);
  if (code == NULL)
    return 2;
  sandbox_config_from (&config, &sc);
  tools_settings_from (&config, &settings);
  if (setup_sandbox_data (&config, &data_access, &sc, &settings) < 0)
    return 2;

  if (sandbox_engine_new (&sc, &engine, &err) < 0 || sandbox_create (engine, "run", &sb, &err) < 0)
    {
      fprintf (stderr, "omcp: %s\n", err.message);
      sandbox_engine_free (engine);
      sandbox_data_access_clear (&data_access);
      return 1;
    }
  if (python_execute (sb, &settings, code, len, settings.default_timeout_ms, -1, NULL, NULL, "run",
                      &result, &err) < 0)
    {
      fprintf (stderr, "omcp: %s\n", err.message);
      exit_code = 1;
    }
  else
    {
      if (write_all (STDOUT_FILENO, result.out, result.out_len) < 0
          || write_all (STDERR_FILENO, result.err, result.err_len) < 0)
        exit_code = 1;
      else
        exit_code = result.exit_code;
      if (result.message[0])
        fprintf (stderr, "omcp: %s\n", result.message);
      sandbox_exec_result_clear (&result);
    }
  sandbox_destroy (sb, "run finished");
  sandbox_engine_free (engine);
  sandbox_data_access_clear (&data_access);
  return exit_code;
}

/* Python that reports, from inside, what the sandbox looks like. */
static const char doctor_probe[] =
  "import os\n"
  "status = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)\n"
  "print('uid', os.getuid(), 'CapEff', status['CapEff'].strip(), 'NoNewPrivs', status['NoNewPrivs'].strip(),\n"
  "      'Seccomp', status['Seccomp'].strip())\n"
  "import pandas, numpy\n"
  "print('pandas', pandas.__version__, 'numpy', numpy.__version__)\n";

static int
command_doctor (void)
{
  struct omcp_config config;
  struct sandbox_config sc;
  struct tools_settings settings;
  struct sandbox_check checks[8];
  size_t n, i;
  bool ok = true;

  if (load_config (&config) < 0)
    return 2;
  log_set_level (LOG_LEVEL_WARNING);
  sandbox_config_from (&config, &sc);
  tools_settings_from (&config, &settings);

  printf ("omcp %s doctor\n", OMCP_VERSION);
  n = sandbox_check_host (&sc, checks, N_ELEMENTS (checks));
  for (i = 0; i < n; i++)
    {
      printf ("  [%s] %-18s %s\n", checks[i].ok ? " ok " : (checks[i].required ? "FAIL" : "warn"),
              checks[i].name, checks[i].detail);
      if (!checks[i].ok && checks[i].required)
        ok = false;
    }

  if (ok)
    {
      sandbox_engine *engine = NULL;
      sandbox *sb = NULL;
      struct sandbox_exec_result result;
      omcp_error err;
      bool probe_ok = false;
      char detail[512] = "";

      if (access (config.sandbox_python, X_OK) < 0)
        snprintf (detail, sizeof detail, "%s: %s", config.sandbox_python, strerror (errno));
      else if (sandbox_engine_new (&sc, &engine, &err) < 0 || sandbox_create (engine, "doctor", &sb, &err) < 0)
        copy_string (detail, sizeof detail, err.message);
      else if (python_execute (sb, &settings, doctor_probe, strlen (doctor_probe), 60000, -1, NULL,
                               NULL, "doctor", &result, &err) < 0)
        copy_string (detail, sizeof detail, err.message);
      else
        {
          probe_ok = result.exit_code == 0
                     && strstr (result.out, "uid 1000 CapEff 0000000000000000 NoNewPrivs 1 Seccomp 2");
          snprintf (detail, sizeof detail, "%s", result.exit_code == 0 ? result.out : result.err);
          detail[strcspn (detail, "\n")] = probe_ok ? ' ' : '\0';
          for (char *p = detail; *p; p++)
            if (*p == '\n')
              *p = ' ';
          sandbox_exec_result_clear (&result);
        }
      if (sb)
        sandbox_destroy (sb, "doctor check done");
      sandbox_engine_free (engine);
      printf ("  [%s] %-18s %s\n", probe_ok ? " ok " : "FAIL", "python in sandbox", detail);
      ok = probe_ok;
    }

  printf ("%s\n", ok ? "This host can run omcp sandboxes." : "This host cannot run omcp sandboxes.");
  return ok ? 0 : 1;
}

int
main (int argc, char **argv)
{
  static const struct option options[] = {
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  const char *base = strrchr (argv[0], '/') ? strrchr (argv[0], '/') + 1 : argv[0];
  int c;

  /* Supervisors are this binary, started under another name. */
  if (strcmp (base, SANDBOX_SUPERVISOR_ARGV0) == 0)
    sandbox_supervisor_main (argc, argv);

  while ((c = getopt_long (argc, argv, "+hV", options, NULL)) != -1)
    switch (c)
      {
      case 'h':
        print_usage (stdout);
        return 0;
      case 'V':
        printf ("omcp %s\n", OMCP_VERSION);
        return 0;
      default:
        print_usage (stderr);
        return 2;
      }

  if (optind >= argc)
    {
      print_usage (stderr);
      return 2;
    }
  if (strcmp (argv[optind], "serve") == 0 && argc - optind == 1)
    return command_serve ();
  if (strcmp (argv[optind], "doctor") == 0 && argc - optind == 1)
    return command_doctor ();
  if (strcmp (argv[optind], "run") == 0 && argc - optind == 2)
    return command_run (argv[optind + 1]);
  if (strcmp (argv[optind], "cdm") == 0 && argc - optind == 2
      && strcmp (argv[optind + 1], "init") == 0)
    return command_cdm_init ();
  if (strcmp (argv[optind], "cdm") == 0 && argc - optind == 3
      && strcmp (argv[optind + 1], "load") == 0)
    return command_cdm_load (argv[optind + 2]);
  if (strcmp (argv[optind], "demo-data") == 0)
    return command_demo_data (argc - optind - 1, argv + optind + 1);

  fprintf (stderr, "omcp: unknown command or wrong arguments: '%s'. Run 'omcp --help'.\n",
           argv[optind]);
  return 2;
}
